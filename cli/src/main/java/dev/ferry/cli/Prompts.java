package dev.ferry.cli;

import dev.ferry.moe.runtime.LoadedModel;

/** Prompt text to token ids the way llama.cpp's tools do it: BOS per the model, specials parsed. */
final class Prompts {

    private Prompts() {
    }

    static int[] tokenize(LoadedModel model, String text) {
        return model.tokenizer().encode(text, true, true);
    }
}
