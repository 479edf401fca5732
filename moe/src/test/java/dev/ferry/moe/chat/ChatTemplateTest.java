package dev.ferry.moe.chat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.loader.GgufFile;
import dev.ferry.loader.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Real models' templates rendered with Jinjava; expected texts derived by hand from each template. */
class ChatTemplateTest {

    private static final String BOS_LLAMA = "<|begin_of_text|>";
    private static final String BOS_DEEPSEEK = "<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>";
    private static final String EOS_DEEPSEEK = "<\uFF5Cend\u2581of\u2581sentence\uFF5C>";

    /** A conversation with a system prompt, a past reasoning turn and a template-looking user text. */
    private static final List<ChatMessage> CONVERSATION = List.of(
            ChatMessage.system("You are terse."),
            ChatMessage.user("Hi {{ there }}!"),
            ChatMessage.assistant("<think>\nhmm\n</think>\n\nHello."),
            ChatMessage.user("Bye"));

    private static String resource(String name) throws IOException {
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream("templates/" + name)) {
            if (in == null) {
                throw new IllegalStateException("test resource templates/" + name + " is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static ChatTemplate template(String name, String bos, String eos) throws IOException {
        return ChatTemplate.of(resource(name), bos, eos);
    }

    @Test
    void qwen3DropsPastReasoningAndEndsWithTheAssistantHeader() throws IOException {
        String expected = "<|im_start|>system\nYou are terse.<|im_end|>\n"
                + "<|im_start|>user\nHi {{ there }}!<|im_end|>\n"
                + "<|im_start|>assistant\nHello.<|im_end|>\n"
                + "<|im_start|>user\nBye<|im_end|>\n"
                + "<|im_start|>assistant\n";
        assertEquals(expected, template("qwen3.jinja", "", "<|im_end|>").render(CONVERSATION, true));
    }

    @Test
    void qwen3KeepsReasoningAfterTheLastQueryAndHonoursEnableThinking() throws IOException {
        ChatTemplate t = template("qwen3.jinja", "", "<|im_end|>");
        List<ChatMessage> answered = List.of(ChatMessage.user("Q"), ChatMessage.assistant("<think>r</think>answer"));
        assertEquals("<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nr\n</think>\n\nanswer<|im_end|>\n",
                t.render(answered, false));
        assertEquals("<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
                t.render(List.of(ChatMessage.user("Q")), true, Map.of("enable_thinking", false)));
    }

    @Test
    void qwen3WritesToolsAsPythonJson() throws IOException {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", "get_time");
        function.put("parameters", Map.of());
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", function);
        String out = template("qwen3.jinja", "", "<|im_end|>")
                .render(List.of(ChatMessage.user("time?")), true, Map.of("tools", List.of(tool)));
        assertTrue(out.startsWith("<|im_start|>system\n# Tools\n\nYou may call one or more functions"), out);
        assertTrue(out.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_time\", \"parameters\": {}}}\n</tools>"), out);
        assertTrue(out.endsWith("<|im_start|>user\ntime?<|im_end|>\n<|im_start|>assistant\n"), out);
    }

    @Test
    void qwen25AddsItsDefaultSystemPrompt() throws IOException {
        ChatTemplate t = template("qwen2.5.jinja", "", "<|im_end|>");
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", t.render(List.of(ChatMessage.user("Hello")), true));
        assertEquals("<|im_start|>system\nYou are terse.<|im_end|>\n"
                + "<|im_start|>user\nHi {{ there }}!<|im_end|>\n"
                + "<|im_start|>assistant\n<think>\nhmm\n</think>\n\nHello.<|im_end|>\n"
                + "<|im_start|>user\nBye<|im_end|>\n", t.render(CONVERSATION, false));
    }

    @Test
    void llama33PutsTheSystemMessageAfterItsDateHeader() throws IOException {
        String expected = BOS_LLAMA + "<|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
                + "You are terse.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi {{ there }}!<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n<think>\nhmm\n</think>\n\nHello.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        assertEquals(expected, template("llama-3.3.jinja", BOS_LLAMA, "<|eot_id|>").render(CONVERSATION, true));
    }

    @Test
    void llama33RaiseExceptionStopsRenderingWithItsMessage() throws IOException {
        ChatTemplate t = template("llama-3.3.jinja", BOS_LLAMA, "<|eot_id|>");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> t.render(List.of(ChatMessage.system("s")), true, Map.of("tools", List.of())));
        assertTrue(e.getMessage().contains("Cannot put tools in the first user message"), e.getMessage());
    }

    @Test
    void deepseekV31SplitsThinkingAndClosesTheAssistantTurn() throws IOException {
        String expected = BOS_DEEPSEEK + "You are terse."
                + "<\uFF5CUser\uFF5C>Hi {{ there }}!"
                + "<\uFF5CAssistant\uFF5C></think>\n\nHello." + EOS_DEEPSEEK
                + "<\uFF5CUser\uFF5C>Bye"
                + "<\uFF5CAssistant\uFF5C></think>";
        assertEquals(expected, template("deepseek-v3.1.jinja", BOS_DEEPSEEK, EOS_DEEPSEEK).render(CONVERSATION, true));
    }

    @Test
    void fixtureTemplateGivesLlamaCppsPromptTokens() throws IOException, URISyntaxException {
        Path dir = Path.of(ChatTemplateTest.class.getResource("/fixtures/models").toURI());
        Tokenizer tok;
        try (GgufFile f = GgufFile.open(dir.resolve("tiny-qwen3-F32.gguf"))) {
            tok = Tokenizer.fromGguf(f.metadata());
        }
        JsonNode ref = new ObjectMapper().readTree(dir.resolve("tiny-qwen3-F32.gguf.ref.json").toFile());
        JsonNode textCase = null;
        for (JsonNode c : ref.get("cases")) {
            if (c.has("text")) {
                textCase = c;
            }
        }
        String text = textCase.get("text").asText();
        String userText = text.substring("<|im_start|>user\n".length(), text.indexOf("<|im_end|>"));
        ChatTemplate t = ChatTemplate.forTokenizer(tok);
        assertFalse(t.isFallback());
        List<ChatMessage> chat = List.of(ChatMessage.user(userText));
        assertEquals(text, t.render(chat, true));
        int[] expected = new int[textCase.get("prompt_ids").size()];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = textCase.get("prompt_ids").get(i).asInt();
        }
        assertArrayEquals(expected, t.encode(tok, chat, true));
    }

    @Test
    void modelWithoutTemplateFallsBackToChatMlWithAWarning() {
        Tokenizer tok = Tokenizer.builder(List.of("a", "b", "<|im_end|>"), List.of()).pre("qwen2").eos(2).build();
        ChatTemplate t = ChatTemplate.forTokenizer(tok);
        assertTrue(t.isFallback());
        assertTrue(t.warnings().get(0).contains("ChatML"));
        assertEquals("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n",
                t.render(List.of(ChatMessage.system("S"), ChatMessage.user("U")), true));
    }

    @Test
    void brokenTemplatesFailWhenLoadedOrWhenRendered() {
        for (String broken : List.of("{{ messages + }}", "{% for m in messages %}{{ m.content + }}{% endfor %}",
                "{% if add_generation_prompt %}x")) {
            IllegalArgumentException load = assertThrows(IllegalArgumentException.class,
                    () -> ChatTemplate.of(broken, "", ""));
            assertTrue(load.getMessage().contains("does not parse"), load.getMessage());
        }
        // Jinjava parses a branch only when it is taken: this one fails at the first longer conversation
        ChatTemplate lazy = ChatTemplate.of("{% if messages|length > 1 %}{{ x + }}{% endif %}ok", "", "");
        assertEquals("ok", lazy.render(List.of(ChatMessage.user("a")), true));
        IllegalArgumentException render = assertThrows(IllegalArgumentException.class,
                () -> lazy.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), true));
        assertTrue(render.getMessage().contains("rendering the chat template failed"), render.getMessage());
    }

    @Test
    void pythonStringMethodsBehaveLikePython() {
        String t = "{{ 'a</think>'.split('</think>')[-1] }}|{{ 'x</think>y</think>z'.split('</think>', 1)[1] }}"
                + "|{{ '  a  b '.split()|length }}|{{ '\\n\\nab\\n'.lstrip('\\n') }}|{{ 'xxaxx'.strip('x') }}"
                + "|{{ 'abc'.startswith(('z', 'a')) }}|{{ 'abc'.endswith('bc') }}|{{ 'a.b'.split('.')[0] }}"
                + "|{{ 'a-b-c'.rsplit('-', 1)[0] }}|{{ ', '.join(['x', 'y']) }}|{{ 'Hi'.upper() }}";
        assertEquals("|y</think>z|2|ab\n|a|true|true|a|a-b|x, y|HI", ChatTemplate.of(t, "", "").render(List.of(), false));
    }

    @Test
    void jsonAndItemsMatchPython() {
        String t = "{{ {'a': 1, 'b': [1.5, 'x\"y', none, true], 'c': {}} | tojson }}"
                + "|{{ {'k': 'v'} | tojson(indent=2) }}"
                + "|{% for k, v in {'p': 1, 'q': 2} | items %}{{ k }}={{ v }};{% endfor %}"
                + "{% for k, v in {'r': 3}.items() %}{{ k }}={{ v }}{% endfor %}";
        assertEquals("{\"a\": 1, \"b\": [1.5, \"x\\\"y\", null, true], \"c\": {}}|{\n  \"k\": \"v\"\n}|p=1;q=2;r=3",
                ChatTemplate.of(t, "", "").render(List.of(), false));
    }
}
