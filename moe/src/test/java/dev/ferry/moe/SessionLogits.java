package dev.ferry.moe;

import dev.ferry.moe.model.InferenceSession;
import dev.ferry.moe.runtime.InferenceEngine;
import dev.ferry.moe.runtime.LoadedModel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Every position's logits of a run through an engine, for tests that compare runs. */
public final class SessionLogits {

    private SessionLogits() {
    }

    /** All logits: the first {@code batch} ids in one call, the rest one at a time (decode). */
    public static float[][] of(InferenceEngine engine, LoadedModel model, int[] ids, int batch) {
        int vocab = model.config().vocabSize();
        try (InferenceSession session = engine.newSession(model); Arena arena = Arena.ofShared()) {
            MemorySegment out = arena.allocate((long) ids.length * vocab * Float.BYTES, 64);
            session.evaluate(ids, 0, batch, true, out);
            for (int i = batch; i < ids.length; i++) {
                session.evaluate(ids, i, 1, true, out.asSlice((long) i * vocab * Float.BYTES));
            }
            float[][] rows = new float[ids.length][];
            for (int p = 0; p < ids.length; p++) {
                rows[p] = out.asSlice((long) p * vocab * Float.BYTES, (long) vocab * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
            }
            return rows;
        }
    }
}
