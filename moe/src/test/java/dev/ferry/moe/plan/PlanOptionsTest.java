package dev.ferry.moe.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.hostmemory.numa.NumaPolicy;
import dev.ferry.moe.runtime.KvCacheType;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class PlanOptionsTest {

    @Test
    void flagsParseInLlamaCppOrderWithDefaultsForWhatIsAbsent() {
        PlanOptions o = PlanOptions.parse("all", List.of("attn=CUDA0"), true, 1, "mirror", false, false, "2G", true, 0, null, "f32", null);
        assertEquals(OptionalInt.of(Integer.MAX_VALUE), o.gpuLayers());
        assertEquals(List.of("-ot/--override-tensor", "--cpu-moe", "--n-cpu-moe"),
                o.overrides().rules().stream().map(OverrideRule::source).toList());
        assertEquals(Optional.of(NumaPolicy.MIRROR), o.numa());
        assertEquals(new PinnedCache(PinnedCache.Mode.CAPPED, 2L << 30), o.pinned());
        assertEquals(false, o.mmap());
        assertEquals(0, o.contextLength());
        assertEquals(PlanOptions.DEFAULT_MICRO_BATCH, o.microBatch());
        assertEquals(KvCacheType.F32, o.cacheTypeK());
        assertEquals(KvCacheType.F16, o.cacheTypeV());

        PlanOptions none = PlanOptions.parse(null, List.of(), false, null, null, false, false, null, false, null, null, null, null);
        assertEquals(PlanOptions.defaults(), none);
    }

    @Test
    void badValuesNameTheFlag() {
        assertEquals("-ngl: expected a layer count or 'all', got 'many'",
                assertThrows(IllegalArgumentException.class, () -> PlanOptions.parseGpuLayers("many")).getMessage());
        assertEquals(OptionalInt.of(Integer.MAX_VALUE), PlanOptions.parseGpuLayers("-1"));
        assertThrows(IllegalArgumentException.class, () -> PlanOptions.parseGpuLayers("-2"));
        assertEquals("-ctk/--cache-type-k: unsupported cache type 'q8_0' (supported: f32, f16)", assertThrows(IllegalArgumentException.class,
                () -> PlanOptions.parse(null, List.of(), false, null, null, false, false, null, false, null, null, "q8_0", null)).getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> PlanOptions.parse(null, List.of(), false, null, null, false, false, null, false, -1, null, null, null));
        assertThrows(IllegalArgumentException.class,
                () -> PlanOptions.parse(null, List.of(), false, null, "everywhere", false, false, null, false, null, null, null, null));
    }
}
