package dev.ferry.moe.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.moe.kernel.Precision;
import dev.ferry.moe.runtime.LoadedModel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attention with six query heads per KV head (the fixtures have two), on a synthesized model:
 * prefill takes four heads at a time through the blocked score and value kernels and the other
 * two one by one, while a one-token step adds the values row by row. Both must give the same logits.
 */
class GroupedQueryAttentionTest {

    /** 12 query heads over 2 KV heads, 32 values each: groups of six. */
    private static final SynthSpec GROUPS_OF_SIX = new SynthSpec("qwen3moe", "groups-of-six", 2, 256, 12, 2, 32, 512,
            4, 2, 128, 512, 256, 1e6f, 1e-6f, false);

    @TempDir
    Path dir;

    @Test
    void prefillOfSixHeadGroupsAgreesWithOneTokenAtATime() {
        Path model = dir.resolve("groups-of-six.gguf");
        new ModelSynthesizer(GROUPS_OF_SIX, SynthType.Q8_0, 4).write(model, 2, SynthProgress.NONE);
        try (LoadedModel m = LoadedModel.open(model)) {
            assertEquals(6, m.config().groupSize());
        }
        // 21 tokens: micro-batches of 16 and 5, both through the prefill attention
        int[] ids = new int[21];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 3 + 17 * i % 250;
        }
        float[] batch = ModelSynthesizerTest.lastLogits(model, ids, Precision.EXACT, false);
        float[] single = ModelSynthesizerTest.lastLogits(model, ids, Precision.EXACT, true);
        double worst = 0;
        double spread = 0;
        for (int i = 0; i < batch.length; i++) {
            worst = Math.max(worst, Math.abs(batch[i] - single[i]));
            spread = Math.max(spread, Math.abs(single[i]));
        }
        assertTrue(spread > 0.1, "logits too flat to compare: " + spread);
        assertTrue(worst <= 1e-3 * Math.max(1, spread), "largest difference " + worst + " of " + spread);
    }
}
