package dev.ferry.loader;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The tokenizer a GGUF file carries, summarised: type, pre-tokenizer, vocabulary and merge counts,
 * special token ids with their text and token counts per token type.
 *
 * @param model          {@code tokenizer.ggml.model} ("gpt2", "llama", ...)
 * @param pre            {@code tokenizer.ggml.pre}, or null
 * @param vocabSize      entries of {@code tokenizer.ggml.tokens}
 * @param mergeCount     entries of {@code tokenizer.ggml.merges} (0 when absent)
 * @param specialIds     bos, eos, pad, unk, ... ({@code tokenizer.ggml.*_token_id}), in file order
 * @param tokenTypes     how many tokens have each token type, by type name, in type order
 * @param specials       tokens of type CONTROL or USER_DEFINED (at most {@link #MAX_LISTED})
 * @param specialCount   number of CONTROL and USER_DEFINED tokens
 * @param firstTokens    a summary of the vocabulary, e.g. "[512 STRING: '!', '"', '#', ...]"
 * @param chatTemplateChars length of {@code tokenizer.chat_template}, -1 when absent
 */
public record TokenizerSummary(String model, String pre, int vocabSize, int mergeCount,
                               List<SpecialToken> specialIds, Map<String, Integer> tokenTypes,
                               List<SpecialToken> specials, int specialCount, String firstTokens,
                               int chatTemplateChars) {

    /** Special tokens listed by {@link #specials()} at most. */
    public static final int MAX_LISTED = 32;

    /** llama.cpp's token types, numbered from 0 as in the file. */
    private static final String[] TYPE_NAMES = {"UNDEFINED", "NORMAL", "UNKNOWN", "CONTROL", "USER_DEFINED",
            "UNUSED", "BYTE"};

    public TokenizerSummary {
        specialIds = List.copyOf(specialIds);
        tokenTypes = Collections.unmodifiableMap(new LinkedHashMap<>(tokenTypes));
        specials = List.copyOf(specials);
    }

    /**
     * A token id with its role and text.
     *
     * @param role "bos", "eos", "pad", ... or the token type name for listed specials
     * @param id   token id
     * @param text the token's text, or null when the id is outside the vocabulary
     */
    public record SpecialToken(String role, long id, String text) {
    }

    /** Summary of the tokenizer in {@code md}, or null when it has none. */
    public static TokenizerSummary of(GgufMetadata md) {
        if (!(md.find("tokenizer.ggml.model").orElse(null) instanceof GgufValue.StringValue model)) {
            return null;
        }
        String pre = md.find("tokenizer.ggml.pre").orElse(null) instanceof GgufValue.StringValue p ? p.value() : null;
        GgufArray tokens = array(md, "tokenizer.ggml.tokens", GgufValueType.STRING);
        GgufArray merges = array(md, "tokenizer.ggml.merges", GgufValueType.STRING);
        GgufArray types = md.find("tokenizer.ggml.token_type").orElse(null) instanceof GgufArray a
                && a.elementType().isInteger() ? a : null;
        int vocab = tokens == null ? 0 : tokens.size();

        List<SpecialToken> ids = new ArrayList<>();
        md.asMap().forEach((k, v) -> {
            if (k.startsWith("tokenizer.ggml.") && k.endsWith("_token_id") && v instanceof GgufValue.IntValue iv) {
                String role = k.substring("tokenizer.ggml.".length(), k.length() - "_token_id".length());
                ids.add(new SpecialToken(role, iv.value(), text(tokens, iv.value())));
            }
        });

        Map<String, Integer> typeCounts = new LinkedHashMap<>();
        List<SpecialToken> specials = new ArrayList<>();
        int specialCount = 0;
        if (types != null) {
            int[] counts = new int[TYPE_NAMES.length];
            Map<Long, Integer> unknownTypes = new TreeMap<>();
            for (int i = 0; i < types.size(); i++) {
                long t = types.longAt(i);
                if (t >= 0 && t < counts.length) {
                    counts[(int) t]++;
                } else {
                    unknownTypes.merge(t, 1, Integer::sum);
                }
                if (t == 3 || t == 4) {
                    specialCount++;
                    if (specials.size() < MAX_LISTED) {
                        specials.add(new SpecialToken(TYPE_NAMES[(int) t], i, text(tokens, i)));
                    }
                }
            }
            for (int t = 0; t < counts.length; t++) {
                if (counts[t] > 0) {
                    typeCounts.put(TYPE_NAMES[t], counts[t]);
                }
            }
            unknownTypes.forEach((t, n) -> typeCounts.put("type " + t, n));
        }
        int template = md.find("tokenizer.chat_template").orElse(null) instanceof GgufValue.StringValue s
                ? s.value().length() : -1;
        return new TokenizerSummary(model.value(), pre, vocab, merges == null ? 0 : merges.size(), ids, typeCounts,
                specials, specialCount, tokens == null ? "[]" : tokens.summary(3), template);
    }

    /** The id that {@code role} ("bos", "eos", ...) names, if the file sets it. */
    public Optional<SpecialToken> special(String role) {
        return specialIds.stream().filter(s -> s.role().equals(role)).findFirst();
    }

    private static GgufArray array(GgufMetadata md, String key, GgufValueType elementType) {
        return md.find(key).orElse(null) instanceof GgufArray a && a.elementType() == elementType ? a : null;
    }

    private static String text(GgufArray tokens, long id) {
        return tokens != null && id >= 0 && id < tokens.size() ? tokens.stringAt((int) id) : null;
    }
}
