package dev.ferry.moe.plan;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The ordered tensor-buffer override rules of {@code -ot/--override-tensor}, {@code --cpu-moe}
 * and {@code --n-cpu-moe}. The first rule whose regex matches a tensor name decides its buffer,
 * as in llama.cpp's model loader.
 */
public record TensorOverrides(List<OverrideRule> rules) {

    /** llama.cpp's {@code --cpu-moe} pattern: every routed-expert tensor. */
    public static final String CPU_MOE_PATTERN = "\\.ffn_(up|down|gate)_exps";

    public TensorOverrides {
        rules = List.copyOf(rules);
    }

    public static TensorOverrides none() {
        return new TensorOverrides(List.of());
    }

    /**
     * Parses {@code -ot} values in order; each value holds one or more comma-separated
     * {@code REGEX=BUFFER} rules (the last {@code =} separates the buffer name).
     */
    public static TensorOverrides parse(String flag, List<String> values) {
        List<OverrideRule> rules = new ArrayList<>();
        for (String value : values) {
            for (String rule : value.split(",", -1)) {
                int eq = rule.lastIndexOf('=');
                if (eq < 0) {
                    throw new IllegalArgumentException(flag + " '" + rule + "': expected REGEX=BUFFER, e.g. exps=CPU");
                }
                String pattern = rule.substring(0, eq);
                if (pattern.isEmpty()) {
                    throw new IllegalArgumentException(flag + " '" + rule + "': the regular expression before '=' is empty");
                }
                rules.add(OverrideRule.of(flag, pattern, BufferTarget.parse(flag, rule, rule.substring(eq + 1))));
            }
        }
        return new TensorOverrides(rules);
    }

    /** These rules, then llama.cpp's {@code --cpu-moe} rule (all {@code *_exps} on the CPU). */
    public TensorOverrides withCpuMoe() {
        List<OverrideRule> out = new ArrayList<>(rules);
        out.add(OverrideRule.of("--cpu-moe", CPU_MOE_PATTERN, BufferTarget.CPU));
        return new TensorOverrides(out);
    }

    /** These rules, then one rule per layer {@code 0..n-1} keeping its experts on the CPU, as llama.cpp's {@code --n-cpu-moe N}. */
    public TensorOverrides withCpuMoeLayers(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("--n-cpu-moe: layer count must be 0 or positive, got " + n);
        }
        List<OverrideRule> out = new ArrayList<>(rules);
        for (int i = 0; i < n; i++) {
            out.add(OverrideRule.of("--n-cpu-moe", "blk\\." + i + CPU_MOE_PATTERN, BufferTarget.CPU));
        }
        return new TensorOverrides(out);
    }

    /** The first rule matching {@code tensorName}. */
    public Optional<OverrideRule> ruleFor(String tensorName) {
        for (OverrideRule r : rules) {
            if (r.matches(tensorName)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    public boolean sendsAnythingTo(BufferTarget target) {
        return rules.stream().anyMatch(r -> r.target() == target);
    }
}
