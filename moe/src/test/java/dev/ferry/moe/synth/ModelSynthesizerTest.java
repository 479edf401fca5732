package dev.ferry.moe.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.loader.GgmlType;
import dev.ferry.loader.GgufFile;
import dev.ferry.loader.GgufMetadata;
import dev.ferry.loader.TensorInfo;
import dev.ferry.loader.tokenizer.Tokenizer;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.model.InferenceSession;
import dev.ferry.moe.model.ModelConfig;
import dev.ferry.moe.runtime.InferenceEngine;
import dev.ferry.moe.runtime.KvCacheType;
import dev.ferry.moe.runtime.LoadedModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelSynthesizerTest {

    /** The fixtures' small K-quant shape: 256-wide rows, so Q4_K and Q6_K are really used. */
    static final SynthSpec SMALL_K = new SynthSpec("qwen3moe", "small-qwen3moe-k", 4, 256, 4, 2, 64, 512, 8, 2, 256,
            512, 256, 1e6f, 1e-6f, false);

    @TempDir
    Path dir;

    /** Evaluates {@code ids} as one batch and returns the last position's logits. */
    static float[] lastLogits(Path model, int[] ids) {
        return lastLogits(model, ids, Precision.QUANTIZED, false);
    }

    /** The last position's logits, the prompt evaluated as one batch or token by token (decode kernels). */
    static float[] lastLogits(Path model, int[] ids, Precision precision, boolean oneByOne) {
        try (LoadedModel m = LoadedModel.open(model);
             InferenceEngine engine = new InferenceEngine(2, 64, 16, KvCacheType.F32, KvCacheType.F32, precision);
             InferenceSession s = engine.newSession(m);
             Arena arena = Arena.ofShared()) {
            int vocab = m.config().vocabSize();
            MemorySegment logits = arena.allocate((long) vocab * Float.BYTES, 64);
            if (oneByOne) {
                for (int i = 0; i < ids.length; i++) {
                    s.evaluate(ids, i, 1, false, logits);
                }
            } else {
                s.evaluate(ids, 0, ids.length, false, logits);
            }
            return logits.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    static void assertFiniteAndVaried(float[] logits) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float x : logits) {
            assertTrue(Float.isFinite(x), "non-finite logit " + x);
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        assertTrue(max - min > 1e-3, "logits all equal: " + min);
        assertTrue(max < 100 && min > -100, "logits out of a sane range: " + min + " .. " + max);
    }

    @Test
    void tinyDemoShapeLoadsBindsAndRunsWithItsOwnTokenizer() throws IOException {
        Path out = dir.resolve("tiny.gguf");
        SynthResult r = new ModelSynthesizer(SynthPreset.TINY_QWEN3MOE.spec(), SynthType.Q8_0, 3)
                .write(out, 2, SynthProgress.NONE);
        assertEquals(4 * 12 + 3, r.tensorCount());
        int[] prompt;
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(Files.size(out), r.fileSize());
            GgufMetadata md = f.metadata();
            assertEquals("qwen3moe", md.architecture());
            assertTrue(md.getString("general.description").contains("random weights"));
            assertEquals(4096, md.getInt("qwen3moe.context_length"));
            assertEquals(32, md.getInt("qwen3moe.attention.key_length"));
            assertEquals(64, md.getInt("qwen3moe.expert_feed_forward_length"));
            assertEquals(1e6f, md.getFloat("qwen3moe.rope.freq_base"));
            assertEquals(7, md.getInt("general.file_type"));
            assertEquals(List.of(128L, 64L, 8L), Arrays.stream(f.tensor("blk.3.ffn_up_exps.weight").shape()).boxed().toList());
            assertEquals(GgmlType.F32, f.tensor("blk.3.ffn_gate_inp.weight").type());
            long params = f.tensors().stream().mapToLong(t -> Arrays.stream(t.shape()).reduce(1, Math::multiplyExact)).sum();
            assertEquals(SynthPreset.TINY_QWEN3MOE.spec().parameterCount(), params);
            Tokenizer t = Tokenizer.fromGguf(md);
            assertEquals(SynthPreset.TINY_VOCAB, t.vocabSize());
            assertEquals(t.idOf("<|im_end|>").orElseThrow(), t.eos());
            assertTrue(t.chatTemplate().orElseThrow().contains("<|im_start|>"));
            prompt = t.encode("The ferry crossed the river.", false, false);
        }
        assertFiniteAndVaried(lastLogits(out, prompt));
    }

    /** Writes SMALL_K as {@code type} and checks every tensor has the planned type and shape. */
    private Path writeAsPlanned(SynthType type, long seed, String name) {
        Path out = dir.resolve(name);
        ModelSynthesizer s = new ModelSynthesizer(SMALL_K, type, seed);
        s.write(out, 2, SynthProgress.NONE);
        try (GgufFile f = GgufFile.open(out)) {
            for (SynthTensor t : s.tensors()) {
                TensorInfo info = f.tensor(t.name());
                assertEquals(t.type(), info.type(), t.name());
                assertArrayEquals(t.shape(), info.shape(), t.name());
            }
        }
        return out;
    }

    @Test
    void kQuantMixIsWrittenAsPlannedAndRuns() {
        Path out = writeAsPlanned(SynthType.Q4_K_M, 11, "small-k.gguf");
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(GgmlType.Q6_K, f.tensor("blk.3.ffn_down_exps.weight").type());
            assertEquals(GgmlType.Q4_K, f.tensor("blk.1.ffn_down_exps.weight").type());
            assertEquals(15, f.metadata().getInt("general.file_type"));
        }
        assertFiniteAndVaried(lastLogits(out, new int[] {1, 100, 200, 300, 511}));
    }

    @Test
    void q5KmMixIsWrittenAsPlannedAndItsDecodeKernelsAgreeWithExactWeights() {
        Path out = writeAsPlanned(SynthType.Q5_K_M, 12, "small-q5km.gguf");
        try (GgufFile f = GgufFile.open(out)) {
            assertEquals(GgmlType.Q5_K, f.tensor("blk.1.ffn_gate_exps.weight").type());
            assertEquals(GgmlType.Q5_K, f.tensor("blk.1.ffn_down_exps.weight").type());
            assertEquals(GgmlType.Q6_K, f.tensor("blk.3.ffn_down_exps.weight").type());
            assertEquals(17, f.metadata().getInt("general.file_type"));
        }
        int[] prompt = {1, 100, 200, 300, 511};
        float[] quantized = lastLogits(out, prompt, Precision.QUANTIZED, true);
        float[] exact = lastLogits(out, prompt, Precision.EXACT, true);
        assertFiniteAndVaried(quantized);
        float spread = 0;
        float worst = 0;
        for (int i = 0; i < exact.length; i++) {
            spread = Math.max(spread, Math.abs(exact[i]));
            worst = Math.max(worst, Math.abs(exact[i] - quantized[i]));
        }
        // Q8_K-rounded activations against exact ones (measured 1.2%); a misplaced fifth bit moves values by half their range
        assertTrue(worst < 0.03f * spread, "max |quantized - exact| " + worst + " of largest " + spread);
    }

    @ParameterizedTest
    @CsvSource({"tiny-qwen3, F16", "tiny-qwen3, Q4_0", "qwen3-0.6b, Q6_K"})
    void everyDensePresetRunsAtReducedSize(String preset, String type) {
        SynthSpec spec = SynthPreset.named(preset).spec().withLayers(1).withVocabSize(512);
        Path out = dir.resolve(preset + "-" + type + ".gguf");
        new ModelSynthesizer(spec, SynthType.parse(type), 5).write(out, 2, SynthProgress.NONE);
        try (LoadedModel m = LoadedModel.open(out)) {
            ModelConfig c = m.config();
            assertEquals(spec.embeddingLength(), c.embeddingLength());
            assertEquals(spec.headDim(), c.keyLength());
            assertEquals(spec.feedForwardLength(), c.feedForwardLength());
            assertEquals(spec.tiedEmbeddings(), m.file().findTensor("output.weight").isEmpty());
        }
        assertFiniteAndVaried(lastLogits(out, new int[] {5, 6, 7}));
    }

    @Test
    void qwen3MoePresetsHaveThePublishedShapes() {
        SynthSpec a3b = SynthPreset.named("qwen3-30b-a3b").spec();
        assertEquals(List.of(48, 2048, 32, 4, 128, 128, 8, 768, 151936, 40960),
                List.of(a3b.layers(), a3b.embeddingLength(), a3b.headCount(), a3b.headCountKv(), a3b.headDim(),
                        a3b.expertCount(), a3b.expertUsedCount(), a3b.expertFeedForwardLength(), a3b.vocabSize(),
                        a3b.contextLength()));
        assertEquals(30.5e9, a3b.parameterCount(), 0.1e9, "Qwen3-30B-A3B has 30.5 B parameters");
        assertEquals(1e6f, a3b.ropeFreqBase());
        assertEquals(1e-6f, a3b.rmsEpsilon());
        ModelSynthesizer six = new ModelSynthesizer(a3b.withLayers(6), SynthType.Q4_K_M, 1);
        assertEquals(3 + 6 * 12, six.tensors().size());
        SynthTensor down = six.tensors().stream().filter(t -> t.name().equals("blk.5.ffn_down_exps.weight"))
                .findFirst().orElseThrow();
        assertArrayEquals(new long[] {768, 2048, 128}, down.shape());
        assertEquals(0.6e9, SynthPreset.QWEN3_0_6B.spec().parameterCount(), 0.05e9, "Qwen3-0.6B");
        assertEquals(235e9, SynthPreset.QWEN3_235B_A22B.spec().parameterCount(), 1e9, "Qwen3-235B-A22B");
    }

    @Test
    void sameSeedGivesByteIdenticalFilesWhateverTheThreadCount() throws IOException {
        Path a = dir.resolve("a.gguf");
        Path b = dir.resolve("b.gguf");
        Path c = dir.resolve("c.gguf");
        new ModelSynthesizer(SMALL_K.withLayers(1), SynthType.Q4_K_M, 9).write(a, 1, SynthProgress.NONE);
        new ModelSynthesizer(SMALL_K.withLayers(1), SynthType.Q4_K_M, 9).write(b, 3, SynthProgress.NONE);
        new ModelSynthesizer(SMALL_K.withLayers(1), SynthType.Q4_K_M, 10).write(c, 2, SynthProgress.NONE);
        assertEquals(-1, Files.mismatch(a, b));
        assertTrue(Files.mismatch(a, c) >= 0, "another seed gives other weights");
    }

    @Test
    void progressReachesTheTotalOnce() {
        long[] last = {-1, -1};
        int[] calls = {0};
        ModelSynthesizer s = new ModelSynthesizer(SynthPreset.TINY_QWEN3.spec(), SynthType.Q8_0, 1);
        s.write(dir.resolve("p.gguf"), 2, (written, total, tensor) -> {
            assertTrue(written > last[0], "progress only grows");
            last[0] = written;
            last[1] = total;
            calls[0]++;
        });
        assertEquals(s.dataBytes(), last[0]);
        assertEquals(s.dataBytes(), last[1]);
        assertEquals(s.tensors().size(), calls[0], "small tensors are written in one chunk each");
    }

    @Test
    void anUnwritableTargetIsReportedAndLeavesNoFile() {
        Path out = dir.resolve("missing-folder").resolve("m.gguf");
        ModelSynthesizer s = new ModelSynthesizer(SynthPreset.TINY_QWEN3.spec(), SynthType.Q8_0, 1);
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> s.write(out, 1, SynthProgress.NONE));
        assertTrue(e.getMessage().contains(out.toString()), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void badShapesAndNamesAreRejectedWithTheValidChoices() {
        IllegalArgumentException preset = assertThrows(IllegalArgumentException.class, () -> SynthPreset.named("qwen4"));
        assertTrue(preset.getMessage().contains("qwen3-30b-a3b") && preset.getMessage().contains("tiny-qwen3moe"),
                preset.getMessage());
        IllegalArgumentException type = assertThrows(IllegalArgumentException.class, () -> SynthType.parse("Q3_K_M"));
        assertTrue(type.getMessage().contains("Q4_K_M") && type.getMessage().contains("Q8_0"), type.getMessage());
        assertEquals(SynthType.Q4_K_M, SynthType.parse("q4_k_m"));
        assertEquals(SynthType.Q5_K_M, SynthType.parse("Q5_K_M"));
        assertThrows(IllegalArgumentException.class, () -> SynthPreset.TINY_QWEN3MOE.spec().withLayers(0));
        assertThrows(IllegalArgumentException.class, () -> SynthPreset.TINY_QWEN3MOE.spec().withVocabSize(100));
    }
}
