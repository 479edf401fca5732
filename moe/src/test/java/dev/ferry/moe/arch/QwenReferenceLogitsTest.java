package dev.ferry.moe.arch;

import dev.ferry.moe.LlamaReference;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.hostmemory.ThreadWorkerPool;
import dev.ferry.loader.GgufFile;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.model.Architectures;
import dev.ferry.moe.model.InferenceSession;
import dev.ferry.moe.model.LanguageModel;
import dev.ferry.moe.model.SessionOptions;
import dev.ferry.moe.runtime.KvCacheType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The forward pass reproduces llama.cpp's logits for every fixture model: F32 math on the
 * exact weights matches the F32 / dequantized references within 2e-3, and llama.cpp-style
 * quantized activations match each quantized file's own reference in {@code quant} mode.
 */
class QwenReferenceLogitsTest {

    private static ThreadWorkerPool pool;

    @BeforeAll
    static void startPool() {
        pool = new ThreadWorkerPool(2, "ref-test");
    }

    @AfterAll
    static void stopPool() {
        pool.close();
    }

    static float[][] evaluate(String model, int[] ids, Precision precision, int microBatch, boolean oneByOne) {
        try (GgufFile file = GgufFile.open(LlamaReference.fixture(model));
             Arena arena = Arena.ofShared()) {
            var arch = Architectures.of(file);
            LanguageModel lm = arch.bind(file, arch.readConfig(file));
            int vocab = lm.config().vocabSize();
            MemorySegment logits = arena.allocate((long) ids.length * vocab * Float.BYTES, 64);
            SessionOptions options = new SessionOptions(256, microBatch, KvCacheType.F32, KvCacheType.F32, pool, precision);
            try (InferenceSession session = lm.newSession(options)) {
                if (oneByOne) {
                    for (int i = 0; i < ids.length; i++) {
                        session.evaluate(ids, i, 1, true, logits.asSlice((long) i * vocab * Float.BYTES));
                    }
                } else {
                    session.evaluate(ids, 0, ids.length, true, logits);
                }
            }
            float[][] out = new float[ids.length][];
            for (int p = 0; p < ids.length; p++) {
                out[p] = logits.asSlice((long) p * vocab * Float.BYTES, (long) vocab * Float.BYTES)
                        .toArray(ValueLayout.JAVA_FLOAT);
            }
            return out;
        }
    }

    @ParameterizedTest(name = "{0} {1} exact vs {2}")
    @CsvSource({
        "tiny-qwen3moe-F32.gguf, ids, tiny-qwen3moe-F32.gguf.ref.json",
        "tiny-qwen3moe-F32.gguf, text, tiny-qwen3moe-F32.gguf.ref.json",
        "tiny-qwen3-F32.gguf, ids, tiny-qwen3-F32.gguf.ref.json",
        "tiny-qwen3-F32.gguf, text, tiny-qwen3-F32.gguf.ref.json",
        "tiny-qwen3-Q8_0.gguf, ids, tiny-qwen3-Q8_0-deqF32.gguf.ref.json",
        "tiny-qwen3-Q8_0.gguf, text, tiny-qwen3-Q8_0-deqF32.gguf.ref.json",
        "tiny-qwen3moe-Q8_0.gguf, ids, tiny-qwen3moe-Q8_0-deqF32.gguf.ref.json",
        "tiny-qwen3moe-Q8_0.gguf, text, tiny-qwen3moe-Q8_0-deqF32.gguf.ref.json",
        "tiny-qwen3moe-Q4_0.gguf, ids, tiny-qwen3moe-Q4_0-deqF32.gguf.ref.json",
        "tiny-qwen3moe-Q4_0.gguf, text, tiny-qwen3moe-Q4_0-deqF32.gguf.ref.json",
        "small-qwen3moe-k-Q4_K_M.gguf, ids, small-qwen3moe-k-Q4_K_M-deqF32.gguf.ref.json",
        "small-qwen3moe-k-Q4_K_M.gguf, text, small-qwen3moe-k-Q4_K_M-deqF32.gguf.ref.json",
        "small-qwen3moe-k-Q6_K.gguf, ids, small-qwen3moe-k-Q6_K-deqF32.gguf.ref.json",
        "small-qwen3moe-k-Q6_K.gguf, text, small-qwen3moe-k-Q6_K-deqF32.gguf.ref.json",
    })
    void exactMathMatchesTheF32Reference(String model, String caseName, String ref) {
        LlamaReference rc = LlamaReference.load(ref, caseName);
        LogitsAgreement a = LogitsAgreement.compare(rc, evaluate(model, rc.ids(), Precision.EXACT, 512, false), 1e-2);
        assertTrue(a.exactPasses(), model + " " + caseName + ": " + a);
    }

    @ParameterizedTest(name = "{0} {1} quantized activations vs own reference")
    @CsvSource({
        "tiny-qwen3-Q8_0.gguf, ids", "tiny-qwen3-Q8_0.gguf, text",
        "tiny-qwen3moe-Q8_0.gguf, ids", "tiny-qwen3moe-Q8_0.gguf, text",
        "tiny-qwen3moe-Q4_0.gguf, ids", "tiny-qwen3moe-Q4_0.gguf, text",
        "small-qwen3moe-k-Q4_K_M.gguf, ids", "small-qwen3moe-k-Q4_K_M.gguf, text",
        "small-qwen3moe-k-Q6_K.gguf, ids", "small-qwen3moe-k-Q6_K.gguf, text",
    })
    void quantizedActivationsMatchTheQuantizedReference(String model, String caseName) {
        LlamaReference rc = LlamaReference.load(model + ".ref.json", caseName);
        LogitsAgreement a = LogitsAgreement.compare(rc, evaluate(model, rc.ids(), Precision.QUANTIZED, 512, false), 0.1);
        assertTrue(a.quantPasses(), model + " " + caseName + ": " + a);
    }

    @ParameterizedTest(name = "{0}: one token at a time equals the whole batch")
    @CsvSource({"tiny-qwen3moe-F32.gguf", "tiny-qwen3-Q8_0.gguf", "small-qwen3moe-k-Q4_K_M.gguf"})
    void tokenByTokenAgreesWithWholeBatch(String model) {
        LlamaReference rc = LlamaReference.load(model + ".ref.json", "text");
        float[][] batch = evaluate(model, rc.ids(), Precision.EXACT, 512, false);
        float[][] single = evaluate(model, rc.ids(), Precision.EXACT, 512, true);
        float[][] microBatched = evaluate(model, rc.ids(), Precision.EXACT, 7, false);
        double worst = 0;
        for (int p = 0; p < batch.length; p++) {
            for (int i = 0; i < batch[p].length; i++) {
                worst = Math.max(worst, Math.abs(batch[p][i] - single[p][i]));
                worst = Math.max(worst, Math.abs(batch[p][i] - microBatched[p][i]));
            }
        }
        assertTrue(worst <= 2e-3, model + ": largest difference " + worst);
    }
}
