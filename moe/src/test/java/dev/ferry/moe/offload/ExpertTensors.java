package dev.ferry.moe.offload;

import dev.ferry.loader.GgmlType;
import dev.ferry.moe.placement.ExpertProjection;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Tiny synthetic F32 expert tensors: gate and up {@code [experts][ff][embd]}, down
 * {@code [experts][embd][ff]}, every float distinct per (layer, projection, expert, index) so
 * copies of the wrong bytes are caught.
 */
final class ExpertTensors {

    static final int EMBD = 64;
    static final int FF = 32;
    static final long EXPERT_BYTES = 4L * EMBD * FF;

    private ExpertTensors() {
    }

    static List<HostExpertTensor> create(Arena arena, int layers, int experts, OptionalInt node) {
        List<HostExpertTensor> out = new ArrayList<>();
        for (int layer = 0; layer < layers; layer++) {
            for (ExpertProjection p : ExpertProjection.values()) {
                MemorySegment data = arena.allocate(EXPERT_BYTES * experts, 64);
                long floats = data.byteSize() / 4;
                for (long i = 0; i < floats; i++) {
                    data.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) ((layer * 3 + p.ordinal()) * 1e6 + i) * 1e-6f);
                }
                out.add(new HostExpertTensor(layer, p, GgmlType.F32, experts, EXPERT_BYTES, data, node));
            }
        }
        return out;
    }

    /** One expert's gate + up + down bytes. */
    static long slotBytes() {
        return 3 * PinnedExpertCache.alignUp(EXPERT_BYTES);
    }
}
