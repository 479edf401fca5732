package dev.ferry.moe.offload;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A load-time progress bar that only appends characters (no carriage returns), so it reads the
 * same on a terminal and in a log file: {@code label [#####...] done in 1.2 s}.
 */
final class ProgressBar {

    private static final int WIDTH = 40;

    private final PrintStream out;
    private final long total;
    private final long startNanos = System.nanoTime();
    private long done;
    private int drawn;
    private boolean finished;

    ProgressBar(PrintStream out, String label, long total) {
        this.out = out;
        this.total = Math.max(1, total);
        out.print(label + " [");
        out.flush();
    }

    void advance(long bytes) {
        done += bytes;
        int target = (int) Math.min(WIDTH, done * WIDTH / total);
        if (target > drawn) {
            out.print("#".repeat(target - drawn));
            out.flush();
            drawn = target;
        }
    }

    /** Ends the line with "done in N s". */
    void finish() {
        end(String.format(Locale.ROOT, "] done in %.2f s", (System.nanoTime() - startNanos) / 1e9));
    }

    /** Ends the line with "failed" (the caller prints why). */
    void fail() {
        end("] failed");
    }

    private void end(String tail) {
        if (finished) {
            return;
        }
        finished = true;
        out.println(".".repeat(WIDTH - drawn) + tail);
        out.flush();
    }
}
