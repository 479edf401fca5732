package dev.ferry.moe.synth;

import dev.ferry.loader.tokenizer.ByteEncoding;
import dev.ferry.loader.tokenizer.PreTokenizer;
import dev.ferry.loader.tokenizer.TokenType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The GPT-2 byte-level BPE vocabulary of a synthesized model, laid out like Qwen's: the 256 byte
 * tokens in GPT-2 order, the merges learned from {@link SynthCorpus}, the special tokens
 * {@code <|endoftext|>}, {@code <|im_start|>}, {@code <|im_end|>} (CONTROL), then
 * {@code [PAD<id>]} tokens (UNUSED), as llama.cpp's converter writes them, up to the embedding's
 * row count.
 */
public record SynthVocabulary(List<String> tokens, int[] tokenTypes, List<String> merges, int endOfText,
                              int imStart, int imEnd) {

    public static final String PRE_TOKENIZER = "qwen2";
    public static final List<String> SPECIAL_TOKENS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");
    public static final String CHAT_TEMPLATE = "{% for message in messages %}"
            + "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
            + "{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    public SynthVocabulary {
        tokens = List.copyOf(tokens);
        tokenTypes = tokenTypes.clone();
        merges = List.copyOf(merges);
    }

    @Override
    public int[] tokenTypes() {
        return tokenTypes.clone();
    }

    public int size() {
        return tokens.size();
    }

    /** Everything the built-in text teaches, learned once (a constant, computed on first use). */
    private static final class Learned {
        static final BpeTrainer.Result ALL = BpeTrainer.train(SynthCorpus.TEXT, PreTokenizer.forName(PRE_TOKENIZER),
                Integer.MAX_VALUE);
        /** Index of the merge that created new token {@code i} (merges can repeat a token). */
        static final int[] MERGES_FOR = mergeIndexOfEachToken();

        private static int[] mergeIndexOfEachToken() {
            int[] out = new int[ALL.tokens().size()];
            java.util.Set<String> seen = new java.util.HashSet<>();
            List<String> merges = ALL.merges();
            for (int m = 0; m < merges.size(); m++) {
                String merged = merges.get(m).replace(" ", "");
                if (seen.add(merged)) {
                    out[seen.size() - 1] = m;
                }
            }
            return out;
        }
    }

    /** A vocabulary of exactly {@code size} tokens (at least {@link SynthSpec#MIN_VOCAB}). */
    public static SynthVocabulary of(int size) {
        int specials = SPECIAL_TOKENS.size();
        if (size < 256 + specials) {
            throw new IllegalArgumentException("vocabulary size must be at least " + (256 + specials) + ", got " + size);
        }
        List<String> tokens = new ArrayList<>(size);
        char[] byteChars = new char[256];
        for (int b = 0; b < 256; b++) {
            byteChars[b] = ByteEncoding.charOf(b);
        }
        // GPT-2 numbers the byte tokens printable bytes first, the remapped ones after: by character.
        Arrays.sort(byteChars);
        for (char c : byteChars) {
            tokens.add(String.valueOf(c));
        }
        // Training is greedy, so the merges learned with a smaller budget are a prefix of the full list.
        List<String> learnedTokens = Learned.ALL.tokens();
        int newTokens = Math.min(learnedTokens.size(), size - 256 - specials);
        tokens.addAll(learnedTokens.subList(0, newTokens));
        List<String> merges = newTokens == 0 ? List.of() : Learned.ALL.merges().subList(0, Learned.MERGES_FOR[newTokens - 1] + 1);
        int endOfText = tokens.size();
        tokens.addAll(SPECIAL_TOKENS);
        int[] types = new int[size];
        Arrays.fill(types, 0, endOfText, TokenType.NORMAL.code());
        Arrays.fill(types, endOfText, endOfText + specials, TokenType.CONTROL.code());
        Arrays.fill(types, endOfText + specials, size, TokenType.UNUSED.code());
        while (tokens.size() < size) {
            tokens.add("[PAD" + tokens.size() + "]");
        }
        return new SynthVocabulary(tokens, types, merges, endOfText, endOfText + 1, endOfText + 2);
    }
}
