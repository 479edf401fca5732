package dev.ferry.cli;

import dev.ferry.moe.chat.ChatMessage;
import dev.ferry.moe.chat.ChatTemplate;
import dev.ferry.moe.runtime.LoadedModel;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** A single-turn conversation rendered with the model's chat template and tokenized. */
record ChatPrompts(String text, int[] ids) {

    static ChatPrompts of(LoadedModel model, String system, String user, PrintStream err) {
        ChatTemplate template = ChatTemplate.forTokenizer(model.tokenizer());
        for (String warning : template.warnings()) {
            err.println("ferry: warning: " + warning);
        }
        List<ChatMessage> messages = new ArrayList<>();
        if (system != null) {
            messages.add(ChatMessage.system(system));
        }
        messages.add(ChatMessage.user(user));
        return new ChatPrompts(template.render(messages, true), template.encode(model.tokenizer(), messages, true));
    }
}
