package dev.ferry.cuda.pcie;

import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * One cell of the report: copies of {@code bytes} from {@code source} memory on {@code node}
 * at {@code alignment}, in {@code direction}; GB/s (10^9 bytes/s) median, minimum and maximum
 * over {@code reps} repetitions, and the median as a percentage of the link's theoretical rate.
 * On a GPU the rates are timed on the device (CUDA events around each copy) and
 * {@code hostCallMedianGBps} is the median of the same copies timed around the synchronous call
 * on the host (driver and JNI overhead included); it is empty for simulated and host-only cells.
 */
public record PcieResult(OptionalInt node, String source, String alignment, long bytes, String direction,
                         double medianGBps, double minGBps, double maxGBps, int reps, OptionalDouble percentOfLink,
                         OptionalDouble hostCallMedianGBps) {
}
