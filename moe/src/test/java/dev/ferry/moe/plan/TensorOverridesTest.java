package dev.ferry.moe.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TensorOverridesTest {

    private static Optional<BufferTarget> target(TensorOverrides rules, String tensor) {
        return rules.ruleFor(tensor).map(OverrideRule::target);
    }

    @Test
    void theFirstMatchingRuleWinsWithinOneCommaSeparatedValue() {
        TensorOverrides rules = TensorOverrides.parse("-ot", List.of("blk\\.0\\.=CUDA0,exps=CPU"));
        assertEquals(2, rules.rules().size());
        assertEquals(Optional.of(BufferTarget.CUDA0), target(rules, "blk.0.ffn_up_exps.weight"));
        assertEquals(Optional.of(BufferTarget.CPU), target(rules, "blk.1.ffn_up_exps.weight"));
        assertEquals(Optional.empty(), target(rules, "blk.1.attn_q.weight"));
    }

    @Test
    void repeatedFlagsKeepTheirOrder() {
        TensorOverrides rules = TensorOverrides.parse("-ot", List.of("exps=CPU", "blk\\.0\\.=CUDA0"));
        assertEquals(Optional.of(BufferTarget.CPU), target(rules, "blk.0.ffn_up_exps.weight"));
        assertEquals(Optional.of(BufferTarget.CUDA0), target(rules, "blk.0.attn_q.weight"));
        assertEquals("exps=CPU (-ot)", rules.rules().get(0).describe());
    }

    @Test
    void aRuleMatchesAnywhereInTheNameLikeRegexSearch() {
        TensorOverrides rules = TensorOverrides.parse("-ot", List.of("attn_q=CPU"));
        assertEquals(Optional.of(BufferTarget.CPU), target(rules, "blk.12.attn_q.weight"));
        assertEquals(Optional.of(BufferTarget.CPU), target(rules, "blk.12.attn_q_norm.weight"));
        assertEquals(Optional.empty(), target(rules, "blk.12.attn_k.weight"));
    }

    @Test
    void aBadRegexNamesTheFlagAndThePattern() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TensorOverrides.parse("--override-tensor", List.of("exps=CPU,blk\\.(0=CUDA0")));
        assertTrue(e.getMessage().startsWith("--override-tensor: 'blk\\.(0' is not a valid regular expression"), e.getMessage());
    }

    @Test
    void badBufferNamesAreRefusedClearly() {
        IllegalArgumentException lower = assertThrows(IllegalArgumentException.class,
                () -> TensorOverrides.parse("-ot", List.of("exps=cpu")));
        assertEquals("-ot 'exps=cpu': unknown buffer type 'cpu' (available: CPU, CUDA0; the names are case-sensitive, as in llama.cpp)",
                lower.getMessage());
        IllegalArgumentException second = assertThrows(IllegalArgumentException.class,
                () -> TensorOverrides.parse("-ot", List.of("exps=CUDA1")));
        assertEquals("-ot 'exps=CUDA1': buffer CUDA1 names GPU 1, but ferry uses one GPU (CUDA0)", second.getMessage());
        IllegalArgumentException noEquals = assertThrows(IllegalArgumentException.class,
                () -> TensorOverrides.parse("-ot", List.of("exps")));
        assertTrue(noEquals.getMessage().contains("expected REGEX=BUFFER"), noEquals.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TensorOverrides.parse("-ot", List.of("=CPU")));
    }

    @Test
    void cpuMoeTakesEveryRoutedExpertTensorButNotSharedExpertsOrTheRouter() {
        TensorOverrides rules = TensorOverrides.none().withCpuMoe();
        for (String p : List.of("up", "gate", "down")) {
            assertEquals(Optional.of(BufferTarget.CPU), target(rules, "blk.7.ffn_" + p + "_exps.weight"));
        }
        assertEquals(Optional.empty(), target(rules, "blk.7.ffn_up_shexp.weight"));
        assertEquals(Optional.empty(), target(rules, "blk.7.ffn_gate_inp.weight"));
        assertEquals(Optional.empty(), target(rules, "blk.7.ffn_up.weight"));
    }

    @Test
    void nCpuMoeTakesTheExpertsOfTheFirstLayersOnly() {
        TensorOverrides rules = TensorOverrides.none().withCpuMoeLayers(2);
        assertEquals(2, rules.rules().size());
        assertEquals(Optional.of(BufferTarget.CPU), target(rules, "blk.0.ffn_down_exps.weight"));
        assertEquals(Optional.of(BufferTarget.CPU), target(rules, "blk.1.ffn_gate_exps.weight"));
        assertEquals(Optional.empty(), target(rules, "blk.2.ffn_gate_exps.weight"));
        assertEquals(Optional.empty(), target(rules, "blk.11.ffn_gate_exps.weight"), "blk.1 must not match blk.11");
        assertEquals(Optional.empty(), target(rules, "blk.0.attn_q.weight"));
        assertTrue(TensorOverrides.none().withCpuMoeLayers(0).rules().isEmpty());
        assertThrows(IllegalArgumentException.class, () -> TensorOverrides.none().withCpuMoeLayers(-1));
    }

    @Test
    void overrideRulesComeBeforeTheCpuMoeRules() {
        TensorOverrides rules = TensorOverrides.parse("-ot", List.of("blk\\.0\\.ffn_up_exps=CUDA0")).withCpuMoe();
        assertEquals(Optional.of(BufferTarget.CUDA0), target(rules, "blk.0.ffn_up_exps.weight"));
        assertEquals(Optional.of(BufferTarget.CPU), target(rules, "blk.0.ffn_down_exps.weight"));
        assertFalse(TensorOverrides.none().withCpuMoe().sendsAnythingTo(BufferTarget.CUDA0));
    }
}
