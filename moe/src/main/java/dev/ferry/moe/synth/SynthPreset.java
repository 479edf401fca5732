package dev.ferry.moe.synth;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A named model shape for {@code ferry synth --preset}. The Qwen3 presets copy the published
 * configurations (hidden size, heads, head_dim, experts, FFN widths, vocabulary, RoPE base, RMS
 * epsilon, trained context); the tiny ones are the built-in demo's shapes.
 */
public record SynthPreset(String name, String description, SynthSpec spec) {

    /** Vocabulary of the tiny presets: the byte tokens, merges learned from the built-in text, specials. */
    public static final int TINY_VOCAB = 768;

    /** The built-in demo model: the fixtures' tiny-qwen3moe shape with a 4096-token context. */
    public static final SynthPreset TINY_QWEN3MOE = new SynthPreset("tiny-qwen3moe",
            "qwen3moe, n_embd 128, 4 layers, 4/2 heads of 32, 8 experts (2 used) of FFN 64, vocab " + TINY_VOCAB,
            new SynthSpec("qwen3moe", "tiny-qwen3moe", 4, 128, 4, 2, 32, 256, 8, 2, 64, TINY_VOCAB, 4096,
                    1.0e6f, 1.0e-6f, false));

    public static final SynthPreset TINY_QWEN3 = new SynthPreset("tiny-qwen3",
            "qwen3 (dense), n_embd 128, 4 layers, 4/2 heads of 32, FFN 256, vocab " + TINY_VOCAB,
            new SynthSpec("qwen3", "tiny-qwen3", 4, 128, 4, 2, 32, 256, 0, 0, 0, TINY_VOCAB, 4096,
                    1.0e6f, 1.0e-6f, false));

    public static final SynthPreset QWEN3_0_6B = new SynthPreset("qwen3-0.6b",
            "Qwen3-0.6B shape: qwen3 (dense), n_embd 1024, 28 layers, 16/8 heads of 128, FFN 3072, "
                    + "vocab 151936, tied embeddings",
            new SynthSpec("qwen3", "qwen3-0.6b", 28, 1024, 16, 8, 128, 3072, 0, 0, 0, 151936, 40960,
                    1.0e6f, 1.0e-6f, true));

    public static final SynthPreset QWEN3_30B_A3B = new SynthPreset("qwen3-30b-a3b",
            "Qwen3-30B-A3B shape: qwen3moe, n_embd 2048, 48 layers, 32/4 heads of 128, 128 experts (8 used) "
                    + "of FFN 768, vocab 151936",
            new SynthSpec("qwen3moe", "qwen3-30b-a3b", 48, 2048, 32, 4, 128, 6144, 128, 8, 768, 151936, 40960,
                    1.0e6f, 1.0e-6f, false));

    public static final SynthPreset QWEN3_235B_A22B = new SynthPreset("qwen3-235b-a22b",
            "Qwen3-235B-A22B shape: qwen3moe, n_embd 4096, 94 layers, 64/4 heads of 128, 128 experts (8 used) "
                    + "of FFN 1536, vocab 151936",
            new SynthSpec("qwen3moe", "qwen3-235b-a22b", 94, 4096, 64, 4, 128, 12288, 128, 8, 1536, 151936, 40960,
                    1.0e6f, 1.0e-6f, false));

    private static final List<SynthPreset> ALL = List.of(TINY_QWEN3MOE, TINY_QWEN3, QWEN3_0_6B, QWEN3_30B_A3B,
            QWEN3_235B_A22B);

    public static List<SynthPreset> all() {
        return ALL;
    }

    /** The preset called {@code name}; the error lists the valid names. */
    public static SynthPreset named(String name) {
        return ALL.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("--preset: unknown preset '" + name + "' (valid: " + names() + ")"));
    }

    /** The preset names, comma separated. */
    public static String names() {
        return ALL.stream().map(SynthPreset::name).collect(Collectors.joining(", "));
    }
}
