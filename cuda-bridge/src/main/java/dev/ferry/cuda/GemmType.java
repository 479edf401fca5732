package dev.ferry.cuda;

/** Element type of both GEMM inputs; the output is always F32 with F32 accumulation. */
public enum GemmType {
    F16(2),
    F32(4);

    private final int bytes;

    GemmType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }
}
