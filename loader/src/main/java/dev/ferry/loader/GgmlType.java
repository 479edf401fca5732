package dev.ferry.loader;

import java.util.Optional;

/**
 * The ggml tensor types as llama.cpp numbers them, with their block geometry. Every id llama.cpp
 * has ever assigned is listed so that a file using an unsupported or retired type is reported by
 * name instead of failing on an unknown number.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q4_2(4, 0, 0),
    Q4_3(5, 0, 0),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    Q4_0_4_4(31, 0, 0),
    Q4_0_4_8(32, 0, 0),
    Q4_0_8_8(33, 0, 0),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    IQ4_NL_4_4(36, 0, 0),
    IQ4_NL_4_8(37, 0, 0),
    IQ4_NL_8_8(38, 0, 0),
    MXFP4(39, 32, 17),
    NVFP4(40, 64, 36);

    private static final GgmlType[] BY_ID = buildIndex();

    private final int id;
    private final int blockSize;
    private final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    private static GgmlType[] buildIndex() {
        GgmlType[] index = new GgmlType[values().length];
        for (GgmlType t : values()) {
            index[t.id] = t;
        }
        return index;
    }

    /** The type with this on-disk id, if llama.cpp ever defined one. */
    public static Optional<GgmlType> byId(long id) {
        return id >= 0 && id < BY_ID.length ? Optional.ofNullable(BY_ID[(int) id]) : Optional.empty();
    }

    /** The type with this name, ignoring case ("q8_0", "Q4_K", "bf16"), if llama.cpp defines one. */
    public static Optional<GgmlType> byName(String name) {
        for (GgmlType t : values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    public int id() {
        return id;
    }

    /** Number of values one block holds (1 for plain scalar types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes one block occupies in a tensor's data. */
    public int blockBytes() {
        return blockBytes;
    }

    /**
     * True for ids llama.cpp removed (Q4_2, Q4_3, the runtime-repacked Q4_0_x_y and IQ4_NL_x_y):
     * files that use them cannot be read by any current tool.
     */
    public boolean isRemoved() {
        return blockSize == 0;
    }

    /** True for block-quantized types (more than one value per block). */
    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Bytes of a row of {@code n} values, or -1 when {@code n} is not a whole number of blocks. */
    public long rowBytes(long n) {
        if (isRemoved() || n < 0 || n % blockSize != 0) {
            return -1;
        }
        return n / blockSize * blockBytes;
    }
}
