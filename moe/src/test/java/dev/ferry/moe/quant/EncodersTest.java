package dev.ferry.moe.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.loader.GgmlType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class EncodersTest {
    private static float[] gaussian(long seed, int n, double sigma) {
        Random random = new Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextGaussian() * sigma);
        }
        return values;
    }

    private static ByteBuffer le(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] encode(BlockEncoder encoder, float[] values) {
        byte[] out = new byte[Math.toIntExact(encoder.type().rowBytes(values.length))];
        encoder.encodeRow(MemorySegment.ofArray(values), 0, MemorySegment.ofArray(out), 0, values.length);
        return out;
    }

    @Test
    void floatToHalfRoundsToNearestEven() {
        assertEquals(0x3C00, HalfFloats.floatToHalf(1.0f));
        assertEquals((short) 0x8000, HalfFloats.floatToHalf(-0.0f));
        assertEquals(0x3C00, HalfFloats.floatToHalf(1.0f + 0x1p-11f), "halfway rounds down to even");
        assertEquals(0x3C02, HalfFloats.floatToHalf(1.0f + 3 * 0x1p-11f), "halfway rounds up to even");
        assertEquals(0x3C01, HalfFloats.floatToHalf(Math.nextUp(1.0f + 0x1p-11f)));
        assertEquals(0x7BFF, HalfFloats.floatToHalf(65504.0f));
        assertEquals(0x7C00, HalfFloats.floatToHalf(65520.0f), "halfway to 65536 overflows to infinity");
        assertEquals(0x0000, HalfFloats.floatToHalf(0x1p-25f), "halfway to the smallest subnormal rounds to zero");
        assertEquals(0x0001, HalfFloats.floatToHalf(Math.nextUp(0x1p-25f)));
        assertEquals(0x0002, HalfFloats.floatToHalf(3 * 0x1p-25f), "subnormal halfway rounds to even");
        assertEquals(0x7E00, HalfFloats.floatToHalf(Float.intBitsToFloat(0x7F800001)));
        assertEquals((short) 0xFE00, HalfFloats.floatToHalf(Float.intBitsToFloat(0xFFC00000)));
    }

    @Test
    void everyNonNanHalfSurvivesARoundTrip() {
        for (int h = 0; h < 1 << 16; h++) {
            boolean nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0;
            if (!nan) {
                assertEquals((short) h, HalfFloats.floatToHalf(HalfFloats.halfToFloat(h)), "half 0x" + Integer.toHexString(h));
            }
        }
    }

    @Test
    void floatToBf16RoundsToNearestEvenAndQuietsNan() {
        assertEquals(0x3F80, HalfFloats.floatToBf16(1.0f));
        assertEquals(0x3F80, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F808000)));
        assertEquals(0x3F82, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F818000)));
        assertEquals(0x3F81, HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F808001)));
        assertEquals(0x7FC0, HalfFloats.floatToBf16(Float.intBitsToFloat(0x7F800001)));
        assertEquals(0x7F80, HalfFloats.floatToBf16(Float.POSITIVE_INFINITY));
    }

    @Test
    void q8_0ReferenceRoundsHalfAwayAndX86RoundsHalfEven() {
        float[] x = new float[32];
        x[0] = 127.0f;
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = 0.5f;
        x[4] = -126.5f;
        byte[] ref = encode(Encoders.q8(GgmlType.Q8_0, Q8Rounding.REFERENCE), x);
        byte[] avx = encode(Encoders.q8(GgmlType.Q8_0, Q8Rounding.X86_SIMD), x);
        assertEquals(0x3C00, le(ref).getShort(0), "d = 127 / 127");
        assertArrayEquals(new byte[] {127, 3, -3, 1, -127}, java.util.Arrays.copyOfRange(ref, 2, 7));
        assertEquals(0x3C00, le(avx).getShort(0));
        assertArrayEquals(new byte[] {127, 2, -2, 0, -126}, java.util.Arrays.copyOfRange(avx, 2, 7));
        assertEquals(ref.length, 34);
    }

    @Test
    void q8_1StoresScaleTimesQuantSum() {
        float[] x = new float[32];
        x[0] = -12.7f;
        x[5] = 3.0f;
        x[31] = 1.0f;
        byte[] block = encode(Encoders.q8(GgmlType.Q8_1, Q8Rounding.X86_SIMD), x);
        float d = HalfFloats.halfToFloat(le(block).getShort(0));
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            sum += block[4 + j];
        }
        assertEquals(-127 + 30 + 10, sum);
        assertEquals(HalfFloats.floatToHalf(sum * (12.7f / 127.0f)), le(block).getShort(2));
        assertEquals(HalfFloats.floatToHalf(12.7f / 127.0f), HalfFloats.floatToHalf(d));
    }

    @Test
    void q8_KMapsLargestMagnitudeToMinus127AndRoundsTiesToEven() {
        float[] x = new float[256];
        x[0] = 2.5f;
        x[1] = 3.5f;
        x[2] = -0.5f;
        x[17] = -127.0f;
        x[255] = 100.0f;
        byte[] block = encode(Encoders.of(GgmlType.Q8_K), x);
        ByteBuffer b = le(block);
        assertEquals(1.0f, b.getFloat(Encoders.Q8_K_D_OFFSET), "d = 1 / (-127 / max) with max = -127");
        int qs = Encoders.Q8_K_QS_OFFSET;
        assertEquals(2, block[qs]);
        assertEquals(4, block[qs + 1]);
        assertEquals(0, block[qs + 2]);
        assertEquals(-127, block[qs + 17]);
        assertEquals(100, block[qs + 255]);
        assertEquals(6, b.getShort(Encoders.Q8_K_BSUMS_OFFSET));
        assertEquals(-127, b.getShort(Encoders.Q8_K_BSUMS_OFFSET + 2));
        assertEquals(100, b.getShort(Encoders.Q8_K_BSUMS_OFFSET + 30));

        x[17] = 127.0f;
        byte[] flipped = encode(Encoders.of(GgmlType.Q8_K), x);
        assertEquals(-1.0f, le(flipped).getFloat(0), "a positive maximum gives a negative d");
        assertEquals(-127, flipped[qs + 17]);
        assertEquals(-2, flipped[qs]);
    }

    @Test
    void q8_KRoundTripErrorIsAtMostHalfAStep() {
        float[] x = gaussian(7, 256 * 8, 0.7);
        byte[] blocks = encode(Encoders.of(GgmlType.Q8_K), x);
        ByteBuffer b = le(blocks);
        for (int blk = 0; blk < 8; blk++) {
            int base = blk * 292;
            float d = b.getFloat(base);
            int[] sums = new int[16];
            for (int j = 0; j < 256; j++) {
                int q = blocks[base + 4 + j];
                sums[j / 16] += q;
                float err = Math.abs(q * d - x[blk * 256 + j]);
                assertTrue(err <= Math.abs(d) * 0.5001f, "block " + blk + " value " + j + " error " + err);
            }
            for (int g = 0; g < 16; g++) {
                assertEquals(sums[g], b.getShort(base + 260 + g * 2), "bsum " + g);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Q8Rounding.class)
    void q8_0RoundTripErrorIsHalfAStepPlusScaleRounding(Q8Rounding rounding) {
        float[] x = gaussian(11, 32 * 64, 0.05);
        byte[] blocks = encode(Encoders.q8(GgmlType.Q8_0, rounding), x);
        float[] y = Decoders.dequantize(GgmlType.Q8_0, MemorySegment.ofArray(blocks), 0, x.length);
        for (int blk = 0; blk < 64; blk++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[blk * 32 + j]));
            }
            float d = amax / 127.0f;
            float storedD = HalfFloats.halfToFloat(le(blocks).getShort(blk * 34));
            float bound = 0.5f * d + 127 * Math.abs(d - storedD) + Math.ulp(amax);
            for (int j = 0; j < 32; j++) {
                float err = Math.abs(y[blk * 32 + j] - x[blk * 32 + j]);
                assertTrue(err <= bound, "block " + blk + " value " + j + " error " + err + " > " + bound);
            }
        }
    }

    @Test
    void q4_0ReferenceQuantizerHandChecked() {
        float[] x = new float[32];
        x[0] = -8.0f; // largest magnitude: d = -8 / -8 = 1
        x[1] = 3.0f;
        x[2] = 7.9f; // 16.4 truncates to 16, capped at 15
        x[16] = -0.6f; // 7.9 truncates to 7
        x[17] = 0.49f; // 8.99 truncates to 8
        byte[] block = Encoders.quantize(GgmlType.Q4_0, x);
        assertEquals(0x3C00, le(block).getShort(0));
        assertEquals(0 | (7 << 4), block[2] & 0xFF);
        assertEquals(11 | (8 << 4), block[3] & 0xFF);
        assertEquals(15 | (8 << 4), block[4] & 0xFF);
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0"})
    void reencodingADecodedLlamaCppFixtureReproducesItsBytes(GgmlType type) throws IOException {
        byte[] blocks = DecodersTest.fixture(type + ".blocks.bin");
        int n = Math.toIntExact(blocks.length / type.blockBytes() * type.blockSize());
        float[] decoded = Decoders.dequantize(type, MemorySegment.ofArray(blocks), 0, n);
        assertArrayEquals(blocks, Encoders.quantize(type, decoded));
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K", "F16", "BF16", "F32"})
    void quantizeThenDecodeStaysWithinTheTypesErrorBudget(GgmlType type) {
        // Sub-blocks with scales spread over 2^-4..2^3 exercise every bit of the packed K-quant scales.
        int n = 256 * 16;
        float[] x = gaussian(3, n, 0.02);
        for (int i = 0; i < n; i++) {
            x[i] *= (float) Math.pow(2, (i / 32) % 8 - 4);
        }
        double relativeRmsBudget = switch (type) {
            case Q4_0 -> 0.10;
            case Q4_K -> 0.09;
            case Q5_K -> 0.045;
            case Q6_K -> 0.025;
            case Q8_0 -> 0.007;
            case BF16 -> 0.002;
            case F16 -> 0.0003;
            default -> 0.0;
        };
        double blockMaxBudget = switch (type) {
            case Q4_0 -> 0.126;
            case Q4_K -> 0.08;
            case Q5_K -> 0.04;
            case Q6_K -> 0.04;
            case Q8_0 -> 0.0045;
            case BF16 -> 0.004;
            case F16 -> 0.0005;
            default -> 0.0;
        };
        float[] y = Decoders.dequantize(type, MemorySegment.ofArray(Encoders.quantize(type, x)), 0, n);
        double errSq = 0;
        double sumSq = 0;
        int block = 256;
        for (int b = 0; b < n / block; b++) {
            float amax = 0;
            for (int i = b * block; i < (b + 1) * block; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
            }
            for (int i = b * block; i < (b + 1) * block; i++) {
                double err = Math.abs((double) y[i] - x[i]);
                errSq += err * err;
                sumSq += (double) x[i] * x[i];
                assertTrue(err <= blockMaxBudget * amax, type + " value " + i + " error " + err + " > " + blockMaxBudget + " * " + amax);
            }
        }
        double relativeRms = Math.sqrt(errSq / sumSq);
        assertTrue(relativeRms <= relativeRmsBudget, type + " relative RMS error " + relativeRms);
    }

    @Test
    void zeroRowsEncodeToBlocksThatDecodeToZero() {
        for (GgmlType type : Encoders.supported()) {
            if (type == GgmlType.Q8_1 || type == GgmlType.Q8_K) {
                continue;
            }
            float[] y = Decoders.dequantize(type, MemorySegment.ofArray(Encoders.quantize(type, new float[256])), 0, 256);
            for (int i = 0; i < 256; i++) {
                assertEquals(0.0f, Math.abs(y[i]), type + " value " + i);
            }
        }
    }

    @Test
    void refusesTypesItCannotWriteAndPartialBlocks() {
        UnsupportedTensorTypeException e = assertThrows(UnsupportedTensorTypeException.class,
                () -> Encoders.of(GgmlType.IQ2_XXS));
        assertTrue(e.getMessage().contains("IQ2_XXS") && e.getMessage().contains("Q4_K"), e.getMessage());
        IllegalArgumentException partial = assertThrows(IllegalArgumentException.class,
                () -> Encoders.quantize(GgmlType.Q4_K, new float[255]));
        assertTrue(partial.getMessage().contains("255"), partial.getMessage());
    }

    @Test
    void dotTypesFollowLlamaCppsCpuBackend() {
        assertEquals(GgmlType.Q8_0, Encoders.dotType(GgmlType.Q4_0));
        assertEquals(GgmlType.Q8_0, Encoders.dotType(GgmlType.MXFP4));
        assertEquals(GgmlType.Q8_1, Encoders.dotType(GgmlType.Q5_1));
        assertEquals(GgmlType.Q8_K, Encoders.dotType(GgmlType.Q4_K));
        assertEquals(GgmlType.Q8_K, Encoders.dotType(GgmlType.IQ4_XS));
        assertEquals(GgmlType.F16, Encoders.dotType(GgmlType.F16));
        assertEquals("Q8_0 encoder (X86_SIMD)", Encoders.x86Activations(GgmlType.Q8_0).toString());
        assertThrows(UnsupportedTensorTypeException.class, () -> Encoders.dotType(GgmlType.IQ1_S));
    }
}
