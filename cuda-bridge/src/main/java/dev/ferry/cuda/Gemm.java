package dev.ferry.cuda;

/** Matrix products on a device: cuBLAS on a GPU, a CPU twin on the simulated device. */
public interface Gemm {

    /** Which implementation runs, in words (e.g. "cuBLAS 13 via java.lang.foreign"). */
    String implementation();

    /** Queues {@code call} on {@code stream}. */
    void run(Stream stream, GemmCall call);
}
