package dev.ferry.moe.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.hostmemory.ThreadWorkerPool;
import dev.ferry.loader.GgmlType;
import dev.ferry.loader.GgufFile;
import dev.ferry.loader.TensorInfo;
import dev.ferry.moe.LlamaReference;
import dev.ferry.moe.kernel.KernelWarmUp;
import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.kernel.WeightMatrix;
import dev.ferry.moe.model.Architectures;
import dev.ferry.moe.model.ModelConfig;
import dev.ferry.moe.model.SessionOptions;
import dev.ferry.moe.runtime.KvCacheType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The session's kernel warm-up: which matrices it warms, when it skips, and that it changes no result. */
class QwenWarmUpTest {

    private static final String MODEL = "small-qwen3moe-k-Q4_K_M.gguf";

    @ParameterizedTest
    @ValueSource(strings = {MODEL, "tiny-qwen3-Q8_0.gguf", "tiny-qwen3moe-Q4_0.gguf"})
    void typesAreWarmedInOrderOfTheBytesTheyStreamPerToken(String fixture) {
        try (GgufFile file = GgufFile.open(LlamaReference.fixture(fixture));
             ThreadWorkerPool pool = new ThreadWorkerPool(1, "warm-test")) {
            ModelConfig c = Architectures.of(file).readConfig(file);
            QwenModel model = QwenModel.bind(file, c);
            // expected, from the file's tensor table: experts count expert_used_count / expert_count
            // of their bytes; the token embedding only where it is also the output (tied)
            boolean tied = file.tensors().stream().noneMatch(t -> t.name().equals("output.weight"));
            Map<GgmlType, Long> perToken = new HashMap<>();
            for (TensorInfo t : file.tensors()) {
                String n = t.name();
                if (t.nDims() == 1 || n.equals("token_embd.weight") && !tied) {
                    continue;
                }
                long bytes = n.contains("_exps") ? t.byteSize() / c.expertCount() * c.expertUsedCount() : t.byteSize();
                perToken.merge(t.type(), bytes, Long::sum);
            }
            List<GgmlType> expected = perToken.entrySet().stream()
                    .sorted(Map.Entry.<GgmlType, Long>comparingByValue().reversed()).map(Map.Entry::getKey).toList();

            try (QwenSession session = new QwenSession(model, options(pool))) {
                QwenSession.WarmUpPlan plan = session.warmUpPlan(name -> true);

                assertEquals(expected, plan.matrices().stream().map(WeightMatrix::type).toList());
                assertEquals(perToken.values().stream().mapToLong(Long::longValue).sum(), plan.bytesPerToken());
                KernelWarmUp.Report report = session.warmUp();
                assertTrue(report.steps().isEmpty());
                assertTrue(report.summary().startsWith("no kernel warm-up: the weights read per token ("), report.summary());
            }
        }
    }

    @Test
    void onlyTheTensorsTheCpuMultipliesArePlanned() {
        try (GgufFile file = GgufFile.open(LlamaReference.fixture(MODEL));
             ThreadWorkerPool pool = new ThreadWorkerPool(1, "warm-test")) {
            QwenModel model = QwenModel.bind(file, Architectures.of(file).readConfig(file));
            try (QwenSession session = new QwenSession(model, options(pool))) {
                QwenSession.WarmUpPlan experts = session.warmUpPlan(name -> name.contains("_exps"));
                QwenSession.WarmUpPlan none = session.warmUpPlan(name -> false);

                GgmlType gateType = file.tensor("blk.0.ffn_gate_exps.weight").type();
                assertTrue(experts.matrices().stream().anyMatch(w -> w.type() == gateType));
                assertEquals(model.layer(0).gateExperts().rows(), experts.matrices().stream()
                        .filter(w -> w.type() == gateType).findFirst().orElseThrow().rows());
                assertTrue(none.matrices().isEmpty());
                assertEquals(0, none.bytesPerToken());
                assertEquals("no kernel warm-up: no matrix is multiplied on the CPU",
                        session.warmUp(name -> false, 0, 1).summary());
            }
        }
    }

    @Test
    void aWarmedUpSessionGivesTheLogitsOfAColdOne() {
        int[] ids = {1, 7, 42, 3, 99, 5};
        try (GgufFile file = GgufFile.open(LlamaReference.fixture(MODEL));
             ThreadWorkerPool pool = new ThreadWorkerPool(2, "warm-test");
             Arena arena = Arena.ofShared()) {
            QwenModel model = QwenModel.bind(file, Architectures.of(file).readConfig(file));
            int vocab = model.config().vocabSize();
            float[] cold;
            float[] warm;
            try (QwenSession session = new QwenSession(model, options(pool))) {
                cold = lastLogits(session, ids, arena, vocab);
            }
            try (QwenSession session = new QwenSession(model, options(pool))) {
                KernelWarmUp.Report report = session.warmUp(name -> true, 0, 20_000_000L);
                assertEquals(0, session.position());
                List<GgmlType> types = session.warmUpPlan(name -> true).matrices().stream().map(WeightMatrix::type).toList();
                List<String> expected = new java.util.ArrayList<>();
                types.forEach(t -> expected.add(t + "x1"));
                types.forEach(t -> expected.add(t + "x" + KernelWarmUp.BATCH_TOKENS));
                assertEquals(expected, report.steps().stream().map(st -> st.type() + "x" + st.tokens()).toList());
                warm = lastLogits(session, ids, arena, vocab);
            }
            // not bit for bit: a kernel's interpreted and compiled forms sum vector lanes in different orders
            double largest = 0;
            double worst = 0;
            for (int i = 0; i < vocab; i++) {
                largest = Math.max(largest, Math.abs(cold[i]));
                worst = Math.max(worst, Math.abs(cold[i] - warm[i]));
            }
            assertTrue(worst <= 1e-4 * largest, "max difference " + worst + " of " + largest);
        }
    }

    private static SessionOptions options(ThreadWorkerPool pool) {
        return new SessionOptions(64, 8, KvCacheType.F32, KvCacheType.F32, pool, Precision.QUANTIZED);
    }

    private static float[] lastLogits(QwenSession session, int[] ids, Arena arena, int vocab) {
        MemorySegment logits = arena.allocate((long) vocab * Float.BYTES, 64);
        session.evaluate(ids, 0, 4, false, logits);
        session.evaluate(ids, 4, 1, false, logits);
        session.evaluate(ids, 5, 1, false, logits);
        return logits.toArray(ValueLayout.JAVA_FLOAT);
    }
}
