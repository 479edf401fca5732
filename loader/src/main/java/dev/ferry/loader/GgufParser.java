package dev.ferry.loader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Parses and validates the header, metadata and tensor infos of a mapped GGUF file. Every count
 * and length is checked against the bytes left in the file before anything is allocated, so a
 * hostile file can make it throw GgufFormatException and nothing else.
 */
final class GgufParser {

    /** "GGUF" read as a little-endian u32. */
    static final int MAGIC = 0x46554747;
    /** Nested metadata arrays deeper than this are refused (the parser recurses per level). */
    static final int MAX_ARRAY_NESTING = 8;
    /** GGML_MAX_NAME - 1: llama.cpp refuses longer tensor names. */
    static final int MAX_TENSOR_NAME_BYTES = 63;
    /** Alignments beyond 1 GiB are no real file's choice and would make the padding absurd. */
    static final long MAX_ALIGNMENT = 1L << 30;
    /** Bytes of the smallest tensor info: name length, n_dims, type, offset. */
    static final long MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8;
    /** Bytes of the smallest key/value: key length, value type, one byte of value. */
    static final long MIN_KV_BYTES = 8 + 4 + 1;

    /** Java heap a parsed tensor info or key/value costs at least (object headers, arrays, strings). */
    static final long HEAP_PER_TENSOR = 160;
    static final long HEAP_PER_KV = 96;
    static final long HEAP_PER_STRING = 48;
    static final long HEAP_PER_NESTED_ARRAY = 56;
    /**
     * The most Java heap the header of one file may cost: real files need tens of MB (a 256k-token
     * vocabulary plus its merges), while a hostile file of hundreds of GB could otherwise describe
     * billions of tiny strings and exhaust the heap.
     */
    static final long MAX_HEADER_HEAP = 1L << 30;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    record Result(int version, long alignment, long dataOffset, long headerEnd, GgufMetadata metadata,
                  List<TensorInfo> tensors) {
    }

    private final String file;
    private final MemorySegment seg;
    private final long size;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private long pos;
    private final long heapBudget;
    private long heapLeft;

    GgufParser(String file, MemorySegment seg) {
        this.file = file;
        this.seg = seg;
        this.size = seg.byteSize();
        this.heapBudget = Math.min(MAX_HEADER_HEAP, Runtime.getRuntime().maxMemory() / 4);
        this.heapLeft = heapBudget;
    }

    /** Takes {@code count * each} bytes from the heap budget before they are allocated. */
    private void charge(long at, long count, long each, Object what) {
        if (count > heapLeft / each) {
            throw error(at, "%s would need more than the %,d bytes of memory left of the %,d-byte budget for a GGUF "
                    + "header (%,d items of at least %d bytes)", what, heapLeft, heapBudget, count, each);
        }
        heapLeft -= count * each;
    }

    Result parse() {
        int version = header();
        long tensorCount = u64("tensor count");
        long kvCount = u64("metadata key/value count");
        long left = size - pos;
        if (tensorCount < 0 || tensorCount > left / MIN_TENSOR_INFO_BYTES) {
            throw error(pos - 16, "tensor count %s cannot fit in the %,d bytes left (a tensor info takes at least %d)",
                    Long.toUnsignedString(tensorCount), left, MIN_TENSOR_INFO_BYTES);
        }
        if (kvCount < 0 || kvCount > left / MIN_KV_BYTES
                || tensorCount * MIN_TENSOR_INFO_BYTES + kvCount * MIN_KV_BYTES > left) {
            throw error(pos - 8, "metadata count %s with %,d tensors cannot fit in the %,d bytes left",
                    Long.toUnsignedString(kvCount), tensorCount, left);
        }

        charge(8, tensorCount, HEAP_PER_TENSOR, "the tensor infos");
        charge(16, kvCount, HEAP_PER_KV, "the metadata entries");
        LinkedHashMap<String, GgufValue> kv = new LinkedHashMap<>();
        long alignmentValueAt = -1;
        for (long i = 0; i < kvCount; i++) {
            long keyAt = pos;
            String key = string("key of metadata entry " + i);
            if (kv.containsKey(key)) {
                throw error(keyAt, "duplicate metadata key '%s'", key);
            }
            long typeAt = pos;
            GgufValueType type = valueType(u32("value type of '" + key + "'"), typeAt, "metadata key '" + key + "'");
            if (key.equals(GgufMetadata.ALIGNMENT)) {
                alignmentValueAt = pos;
            }
            kv.put(key, value(type, key, 0));
        }
        GgufMetadata metadata = GgufMetadata.wrap(file, kv);
        long alignment = alignment(kv.get(GgufMetadata.ALIGNMENT), alignmentValueAt);

        List<TensorInfo> tensors = new ArrayList<>((int) Math.min(tensorCount, 1 << 16));
        long[] infoAt = new long[(int) tensorCount];
        Set<String> names = new HashSet<>();
        for (int i = 0; i < tensorCount; i++) {
            infoAt[i] = pos;
            tensors.add(tensorInfo(i, alignment, names));
        }
        long headerEnd = pos;
        long dataOffset = (headerEnd + alignment - 1) / alignment * alignment;
        if (dataOffset > size && !tensors.isEmpty()) {
            throw error(headerEnd, "data section would start at byte %,d (aligned to %,d), past the end of the %,d-byte file",
                    dataOffset, alignment, size);
        }
        checkPlacement(tensors, infoAt, dataOffset);
        return new Result(version, alignment, dataOffset, headerEnd, metadata, tensors);
    }

    private int header() {
        need(4, "the magic 'GGUF'");
        int magic = seg.get(U32, 0);
        if (magic != MAGIC) {
            byte[] head = new byte[4];
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 0, head, 0, 4);
            throw error(0, "not a GGUF file: it starts with bytes %s instead of 'GGUF' (47 47 55 46)", hex(head));
        }
        pos = 4;
        int version = u32("version");
        if (version == 1) {
            throw error(4, "GGUF version 1 is not supported (only versions 2 and 3 are)");
        }
        int swapped = Integer.reverseBytes(version);
        if ((version & 0xFFFF) == 0 && swapped >= 1 && swapped <= 3) {
            throw error(4, "big-endian GGUF file (version %d stored big-endian); only little-endian files are supported",
                    swapped);
        }
        if (version != 2 && version != 3) {
            throw error(4, "unsupported GGUF version %s (only versions 2 and 3 are)", Integer.toUnsignedString(version));
        }
        return version;
    }

    private long alignment(GgufValue value, long at) {
        if (value == null) {
            return GgufFile.DEFAULT_ALIGNMENT;
        }
        if (!(value instanceof GgufValue.IntValue iv)) {
            throw error(at, "%s must be an integer, found %s", GgufMetadata.ALIGNMENT, value.type());
        }
        long a = iv.value();
        if (a <= 0 || Long.bitCount(a) != 1 || a > MAX_ALIGNMENT) {
            throw error(at, "%s is %s; it must be a power of two between 1 and %,d", GgufMetadata.ALIGNMENT,
                    iv.text(), MAX_ALIGNMENT);
        }
        return a;
    }

    private TensorInfo tensorInfo(int index, long alignment, Set<String> names) {
        long at = pos;
        String name = string("name of tensor " + index);
        int nameBytes = (int) (pos - at - 8);
        if (nameBytes > MAX_TENSOR_NAME_BYTES) {
            throw error(at, "tensor name '%s' is %d bytes long; ggml allows at most %d", name, nameBytes,
                    MAX_TENSOR_NAME_BYTES);
        }
        if (!names.add(name)) {
            throw error(at, "duplicate tensor name '%s'", name);
        }
        long dimsAt = pos;
        int nDims = u32("dimension count of tensor '" + name + "'");
        if (nDims < 0 || nDims > GgufFile.MAX_DIMS) {
            throw error(dimsAt, "tensor '%s' has %s dimensions; ggml allows at most %d", name,
                    Integer.toUnsignedString(nDims), GgufFile.MAX_DIMS);
        }
        long[] shape = new long[nDims];
        for (int d = 0; d < nDims; d++) {
            long dAt = pos;
            shape[d] = u64("dimension " + d + " of tensor '" + name + "'");
            if (shape[d] < 0) {
                throw error(dAt, "dimension %d of tensor '%s' is %s, beyond any sane size", d, name,
                        Long.toUnsignedString(shape[d]));
            }
        }
        long typeAt = pos;
        int typeId = u32("type of tensor '" + name + "'");
        GgmlType type = GgmlType.byId(Integer.toUnsignedLong(typeId)).orElseThrow(() -> error(typeAt,
                "tensor '%s' has unknown ggml type id %s", name, Integer.toUnsignedString(typeId)));
        if (type.isRemoved()) {
            throw error(typeAt, "tensor '%s' has type %s (id %d), which ggml no longer supports", name, type,
                    type.id());
        }
        long elements;
        long byteSize;
        try {
            elements = 1;
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            long ne0 = nDims == 0 ? 1 : shape[0];
            long rowBytes = type.rowBytes(ne0);
            if (rowBytes < 0) {
                throw error(dimsAt, "tensor '%s' has rows of %,d values, not a multiple of the %s block size %d",
                        name, ne0, type, type.blockSize());
            }
            long rows = 1;
            for (int d = 1; d < nDims; d++) {
                rows = Math.multiplyExact(rows, shape[d]);
            }
            byteSize = Math.multiplyExact(rowBytes, rows);
        } catch (ArithmeticException e) {
            throw error(dimsAt, "tensor '%s' with shape %s has more elements than 64 bits can count", name,
                    Arrays.toString(shape));
        }
        long offsetAt = pos;
        long offset = u64("data offset of tensor '" + name + "'");
        if (offset < 0 || offset > size) {
            throw error(offsetAt, "tensor '%s' has data offset %s, past the end of the %,d-byte file", name,
                    Long.toUnsignedString(offset), size);
        }
        if (offset % alignment != 0) {
            throw error(offsetAt, "tensor '%s' has data offset %,d, not a multiple of the alignment %,d", name,
                    offset, alignment);
        }
        return new TensorInfo(name, type, shape, offset, byteSize);
    }

    /** Every tensor must lie inside the file and no two may share bytes. */
    private void checkPlacement(List<TensorInfo> tensors, long[] infoAt, long dataOffset) {
        for (int i = 0; i < tensors.size(); i++) {
            TensorInfo t = tensors.get(i);
            long start = dataOffset + t.offset();
            if (t.offset() > size - dataOffset || t.byteSize() > size - start) {
                String end = t.offset() > size - dataOffset || t.byteSize() > Long.MAX_VALUE - start
                        ? "beyond byte " + String.format(Locale.ROOT, "%,d", size)
                        : String.format(Locale.ROOT, "at byte %,d", start + t.byteSize());
                throw error(infoAt[i], "tensor '%s' (%s, %s, %,d bytes) ends %s, past the end of the %,d-byte file",
                        t.name(), t.type(), t.shapeText(), t.byteSize(), end, size);
            }
        }
        Integer[] order = new Integer[tensors.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingLong(i -> tensors.get(i).offset()));
        int previous = -1;
        for (int i : order) {
            TensorInfo t = tensors.get(i);
            if (t.byteSize() == 0) {
                continue;
            }
            if (previous >= 0) {
                TensorInfo p = tensors.get(previous);
                if (p.offset() + p.byteSize() > t.offset()) {
                    throw error(infoAt[i], "tensor '%s' (data bytes %,d to %,d) overlaps tensor '%s' (data bytes %,d to %,d)",
                            t.name(), dataOffset + t.offset(), dataOffset + t.offset() + t.byteSize(), p.name(),
                            dataOffset + p.offset(), dataOffset + p.offset() + p.byteSize());
                }
            }
            previous = i;
        }
    }

    private GgufValueType valueType(int id, long at, String owner) {
        return GgufValueType.byId(Integer.toUnsignedLong(id)).orElseThrow(() -> error(at,
                "%s has unknown value type id %s", owner, Integer.toUnsignedString(id)));
    }

    private GgufValue value(GgufValueType type, String key, int depth) {
        String what = "value of '" + key + "'";
        return switch (type) {
            case UINT8 -> new GgufValue.IntValue(type, Byte.toUnsignedLong(u8(what)));
            case INT8 -> new GgufValue.IntValue(type, u8(what));
            case UINT16 -> new GgufValue.IntValue(type, Short.toUnsignedLong(u16(what)));
            case INT16 -> new GgufValue.IntValue(type, u16(what));
            case UINT32 -> new GgufValue.IntValue(type, Integer.toUnsignedLong(u32(what)));
            case INT32 -> new GgufValue.IntValue(type, u32(what));
            case UINT64, INT64 -> new GgufValue.IntValue(type, u64(what));
            case FLOAT32 -> new GgufValue.FloatValue(type, f32(what));
            case FLOAT64 -> new GgufValue.FloatValue(type, f64(what));
            case BOOL -> new GgufValue.BoolValue(bool(what));
            case STRING -> new GgufValue.StringValue(string(what));
            case ARRAY -> array(key, depth);
        };
    }

    private GgufArray array(String key, int depth) {
        long at = pos;
        if (depth >= MAX_ARRAY_NESTING) {
            throw error(at, "metadata key '%s' nests arrays more than %d levels deep", key, MAX_ARRAY_NESTING);
        }
        GgufValueType elementType = valueType(u32("array element type of '" + key + "'"), at,
                "array element of metadata key '" + key + "'");
        long countAt = pos;
        long count = u64("array length of '" + key + "'");
        long left = size - pos;
        if (count < 0 || count > left / elementType.minBytes()) {
            throw error(countAt, "array '%s' claims %s elements of %s (at least %d bytes each) but only %,d bytes are left",
                    key, Long.toUnsignedString(count), elementType, elementType.minBytes(), left);
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw error(countAt, "array '%s' has %,d elements, more than a Java array holds", key, count);
        }
        long heapEach = switch (elementType) {
            case STRING -> HEAP_PER_STRING;
            case ARRAY -> HEAP_PER_NESTED_ARRAY;
            default -> elementType.minBytes();
        };
        charge(countAt, count, heapEach, "array '" + key + "'");
        int n = (int) count;
        Object storage = switch (elementType) {
            case UINT8, INT8 -> {
                byte[] a = new byte[n];
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, a, 0, n);
                yield a;
            }
            case UINT16, INT16 -> {
                short[] a = new short[n];
                MemorySegment.copy(seg, U16, pos, a, 0, n);
                yield a;
            }
            case UINT32, INT32 -> {
                int[] a = new int[n];
                MemorySegment.copy(seg, U32, pos, a, 0, n);
                yield a;
            }
            case UINT64, INT64 -> {
                long[] a = new long[n];
                MemorySegment.copy(seg, U64, pos, a, 0, n);
                yield a;
            }
            case FLOAT32 -> {
                float[] a = new float[n];
                MemorySegment.copy(seg, F32, pos, a, 0, n);
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                MemorySegment.copy(seg, F64, pos, a, 0, n);
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = bool(new Part("", key, i));
                }
                yield a;
            }
            case STRING -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) {
                    a[i] = string(new Part("", key, i));
                }
                yield a;
            }
            case ARRAY -> {
                GgufArray[] a = new GgufArray[n];
                for (int i = 0; i < n; i++) {
                    a[i] = array(key, depth + 1);
                }
                yield a;
            }
        };
        if (fixedWidth(elementType)) {
            pos += count * elementType.minBytes();
        }
        return GgufArray.wrap(elementType, storage);
    }

    private static boolean fixedWidth(GgufValueType t) {
        return t != GgufValueType.STRING && t != GgufValueType.ARRAY && t != GgufValueType.BOOL;
    }

    private void need(long n, Object what) {
        if (n > size - pos) {
            throw error(pos, "file ends inside %s: %d bytes needed, %,d left in the %,d-byte file", what, n,
                    size - pos, size);
        }
    }

    private byte u8(Object what) {
        need(1, what);
        return seg.get(ValueLayout.JAVA_BYTE, pos++);
    }

    private short u16(Object what) {
        need(2, what);
        short v = seg.get(U16, pos);
        pos += 2;
        return v;
    }

    private int u32(Object what) {
        need(4, what);
        int v = seg.get(U32, pos);
        pos += 4;
        return v;
    }

    private long u64(Object what) {
        need(8, what);
        long v = seg.get(U64, pos);
        pos += 8;
        return v;
    }

    private float f32(Object what) {
        need(4, what);
        float v = seg.get(F32, pos);
        pos += 4;
        return v;
    }

    private double f64(Object what) {
        need(8, what);
        double v = seg.get(F64, pos);
        pos += 8;
        return v;
    }

    private boolean bool(Object what) {
        long at = pos;
        byte b = u8(what);
        if (b != 0 && b != 1) {
            throw error(at, "%s is a bool stored as %d; it must be 0 or 1", what, b);
        }
        return b == 1;
    }

    /** Names a part of the file for error messages; built into text only when an error is thrown. */
    private record Part(String prefix, Object owner, int index) {
        @Override
        public String toString() {
            return index >= 0 ? prefix + "element " + index + " of '" + owner + "'" : prefix + owner;
        }
    }

    private String string(Object what) {
        long at = pos;
        long len = u64(new Part("length of ", what, -1));
        if (len < 0 || len > size - pos) {
            throw error(at, "%s has length %s, past the end of the file (%,d bytes left)", what,
                    Long.toUnsignedString(len), size - pos);
        }
        if (len > Integer.MAX_VALUE - 8) {
            throw error(at, "%s is %,d bytes long, more than a Java string holds", what, len);
        }
        charge(at, len, 2, what);
        byte[] bytes = new byte[(int) len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, bytes, 0, bytes.length);
        String s;
        if (isAscii(bytes)) {
            s = new String(bytes, StandardCharsets.ISO_8859_1);
        } else {
            try {
                s = utf8.decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw error(at, "%s is not valid UTF-8 (bytes %s)", what, hex(Arrays.copyOf(bytes, Math.min(bytes.length, 32))));
            }
        }
        pos += len;
        return s;
    }

    private static boolean isAscii(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }

    private static String hex(byte[] bytes) {
        StringBuilder b = new StringBuilder();
        for (byte x : bytes) {
            if (!b.isEmpty()) {
                b.append(' ');
            }
            b.append(String.format("%02X", x));
        }
        return b.toString();
    }

    private GgufFormatException error(long at, String format, Object... args) {
        Object[] shown = args.clone();
        for (int i = 0; i < shown.length; i++) {
            if (shown[i] instanceof String || shown[i] instanceof Part) {
                shown[i] = printable(shown[i].toString());
            }
        }
        return new GgufFormatException(file, at, String.format(Locale.ROOT, format, shown));
    }

    /** Names from the file as they may appear in a one-line message: control characters escaped, cut at 120. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 130));
        for (int i = 0; i < s.length() && i < 120; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || (c >= 0x7F && c < 0xA0) || c == '\u2028' || c == '\u2029') {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (s.length() > 120) {
            b.append("...");
        }
        return b.toString();
    }
}
