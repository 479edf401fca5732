package dev.ferry.cuda.selftest;

import dev.ferry.cuda.Device;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Runs the {@link DeviceContract} checks on one device and collects the outcomes. */
public final class ContractRun {

    /** Outcome of one check; {@code failure} is empty when it passed. */
    public record Outcome(String name, boolean passed, String failure, double seconds) {
    }

    private ContractRun() {
    }

    public static List<Outcome> run(Device device) {
        List<Outcome> outcomes = new ArrayList<>();
        for (DeviceContract.Check check : DeviceContract.checks()) {
            long start = System.nanoTime();
            String failure = "";
            try {
                check.body().accept(device);
            } catch (RuntimeException | AssertionError e) {
                failure = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            outcomes.add(new Outcome(check.name(), failure.isEmpty(), failure, (System.nanoTime() - start) / 1e9));
        }
        return List.copyOf(outcomes);
    }

    /** The outcomes as a JSON object (no library needed on the GPU machine). */
    public static String toJson(String device, String kernels, String gemm, List<Outcome> outcomes) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\n  \"device\": ").append(quote(device)).append(",\n  \"kernels\": ").append(quote(kernels))
                .append(",\n  \"gemm\": ").append(quote(gemm)).append(",\n  \"passed\": ")
                .append(outcomes.stream().filter(Outcome::passed).count()).append(",\n  \"failed\": ")
                .append(outcomes.stream().filter(o -> !o.passed()).count()).append(",\n  \"checks\": [\n");
        for (int i = 0; i < outcomes.size(); i++) {
            Outcome o = outcomes.get(i);
            sb.append(String.format(Locale.ROOT, "    {\"name\": %s, \"passed\": %s, \"seconds\": %.4f, \"failure\": %s}%s%n",
                    quote(o.name()), o.passed(), o.seconds(), quote(o.failure()), i + 1 < outcomes.size() ? "," : ""));
        }
        return sb.append("  ]\n}\n").toString();
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
