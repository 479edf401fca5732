package dev.ferry.cli;

import dev.ferry.moe.synth.ModelSynthesizer;
import dev.ferry.moe.synth.SynthPreset;
import dev.ferry.moe.synth.SynthProgress;
import dev.ferry.moe.synth.SynthResult;
import dev.ferry.moe.synth.SynthSpec;
import dev.ferry.moe.synth.SynthType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ferry synth --preset NAME [--layers N] [--vocab N] [--type T] [--seed S] -o FILE}: writes
 * a random-weight GGUF model with a real architecture's shapes, metadata and a working BPE
 * tokenizer, for benchmarks without downloads. Progress goes to stderr for models over 64 MiB.
 */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a random-weight GGUF model with a real architecture's shapes (for benchmarks and tests).")
public final class SynthCommand implements Callable<Integer> {

    private static final long PROGRESS_THRESHOLD = 64L << 20;

    @Option(names = "--preset", required = true, paramLabel = "NAME",
            description = "Model shape: tiny-qwen3moe, tiny-qwen3, qwen3-0.6b, qwen3-30b-a3b, qwen3-235b-a22b.")
    String preset;

    @Option(names = "--layers", paramLabel = "N", description = "Number of blocks (default: the preset's).")
    Integer layers;

    @Option(names = "--vocab", paramLabel = "N", description = "Vocabulary size (default: the preset's).")
    Integer vocab;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "Q4_K_M",
            description = "F32, F16, Q8_0, Q4_0, Q4_K, Q4_K_M, Q5_K, Q5_K_M (llama.cpp's mixes) or Q6_K (default: ${DEFAULT-VALUE}).")
    String type;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Worker threads (default: all CPUs).")
    Integer threads;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "GGUF file to write.")
    Path output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        SynthPreset p = SynthPreset.named(preset);
        SynthType t = SynthType.parse(type);
        SynthSpec s = p.spec();
        if (layers != null) {
            s = s.withLayers(layers);
        }
        if (vocab != null) {
            s = s.withVocabSize(vocab);
        }
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        ModelSynthesizer synth = new ModelSynthesizer(s, t, seed);
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        long total = synth.dataBytes();
        SynthProgress progress = total >= PROGRESS_THRESHOLD ? new ProgressLine(err) : SynthProgress.NONE;
        SynthResult r = synth.write(output, n, progress);
        if (total >= PROGRESS_THRESHOLD) {
            err.print("\r\033[K");
            err.flush();
        }
        out.printf(Locale.ROOT, "wrote %s: %s, %d layers, %s, %.2f B params, %d tensors, %.1f MiB in %.1f s (random weights)%n",
                r.path(), p.name(), s.layers(), t, r.parameterCount() / 1e9, r.tensorCount(),
                r.fileSize() / 1048576.0, r.seconds());
        out.flush();
        return 0;
    }

    /** A one-line percentage on stderr, redrawn at most every whole percent. */
    private static final class ProgressLine implements SynthProgress {
        private final PrintWriter err;
        private final long start = System.nanoTime();
        private int shown = -1;

        ProgressLine(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void update(long written, long total, String tensor) {
            int percent = (int) (100 * written / Math.max(1, total));
            if (percent == shown) {
                return;
            }
            shown = percent;
            double seconds = (System.nanoTime() - start) / 1e9;
            err.printf(Locale.ROOT, "\rsynth: %3d%%  %.0f / %.0f MiB  %.0f MiB/s  %s\033[K", percent,
                    written / 1048576.0, total / 1048576.0, written / 1048576.0 / Math.max(seconds, 1e-3), tensor);
            err.flush();
        }
    }
}
