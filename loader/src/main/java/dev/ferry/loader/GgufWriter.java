package dev.ferry.loader;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes a GGUF file: the header, metadata and tensor infos at {@link Builder#create}, then the
 * tensor data streamed in by the caller, so models of any size are written without holding their
 * data in memory. Tensor data starts at offsets aligned to {@code general.alignment} (32 when the
 * key is absent); every padding byte is zero, and the file ends padded to the alignment after the
 * last tensor, as llama.cpp writes it.
 *
 * <pre>{@code
 * try (GgufWriter w = GgufWriter.builder().metadata(md)
 *         .tensor("token_embd.weight", GgmlType.Q8_0, 4096, 151936)
 *         .create(path)) {
 *     w.append("token_embd.weight", chunk1);
 *     w.append("token_embd.weight", chunk2); // ... until the tensor is complete
 * }
 * }</pre>
 *
 * {@link #close()} throws IllegalStateException when a tensor was not written completely (the file
 * is then incomplete and must not be used).
 */
public final class GgufWriter implements AutoCloseable {

    /** Largest slice handed to one channel write (ByteBuffers hold at most 2 GiB). */
    private static final long CHUNK = 64L << 20;

    private final Path path;
    private final FileChannel channel;
    private final long dataOffset;
    private final long alignment;
    private final long fileEnd;
    private final List<TensorInfo> tensors;
    private final Map<String, Integer> index;
    private final long[] written;
    private boolean closed;

    private GgufWriter(Path path, FileChannel channel, long dataOffset, long alignment, long fileEnd,
                       List<TensorInfo> tensors) {
        this.path = path;
        this.channel = channel;
        this.dataOffset = dataOffset;
        this.alignment = alignment;
        this.fileEnd = fileEnd;
        this.tensors = tensors;
        this.index = new HashMap<>();
        for (int i = 0; i < tensors.size(); i++) {
            index.put(tensors.get(i).name(), i);
        }
        this.written = new long[tensors.size()];
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Writes {@code source}'s metadata and tensors to {@code target} with the same layout. */
    public static void copy(GgufFile source, Path target) {
        if (sameFile(source.path(), target)) {
            // Truncating the file under its own mapping would crash the reader with SIGBUS.
            throw new IllegalArgumentException("cannot copy " + source.path() + " onto itself");
        }
        Builder b = builder().version(source.version()).metadata(source.metadata());
        source.tensors().forEach(b::tensor);
        try (GgufWriter w = b.create(target)) {
            for (TensorInfo t : source.tensors()) {
                w.write(t.name(), source.data(t));
            }
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    public Path path() {
        return path;
    }

    /** Absolute start of the data section. */
    public long dataOffset() {
        return dataOffset;
    }

    public long alignment() {
        return alignment;
    }

    /** The tensors with their final offsets, in file order. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    /** Size the file will have when every tensor is written. */
    public long fileSize() {
        return fileEnd;
    }

    /** Writes the whole data of tensor {@code name}; {@code data} must hold exactly its byte size. */
    public void write(String name, MemorySegment data) {
        TensorInfo t = tensors.get(indexOf(name));
        if (data.byteSize() != t.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "' takes " + t.byteSize() + " bytes, got "
                    + data.byteSize());
        }
        if (written[indexOf(name)] != 0) {
            throw new IllegalStateException("tensor '" + name + "' was already written");
        }
        append(name, data);
    }

    /** Writes the next {@code chunk} of tensor {@code name}'s data, after what was appended before. */
    public void append(String name, MemorySegment chunk) {
        if (closed) {
            throw new IllegalStateException(path + ": writer is closed");
        }
        int i = indexOf(name);
        TensorInfo t = tensors.get(i);
        if (chunk.byteSize() > t.byteSize() - written[i]) {
            throw new IllegalArgumentException("tensor '" + name + "' takes " + t.byteSize() + " bytes; "
                    + written[i] + " are written and " + chunk.byteSize() + " more do not fit");
        }
        long at = dataOffset + t.offset() + written[i];
        writeFully(chunk, at);
        written[i] += chunk.byteSize();
    }

    /** Bytes of tensor {@code name} still to be written. */
    public long remaining(String name) {
        int i = indexOf(name);
        return tensors.get(i).byteSize() - written[i];
    }

    private int indexOf(String name) {
        Integer i = index.get(name);
        if (i == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in the layout of " + path);
        }
        return i;
    }

    private void writeFully(MemorySegment data, long at) {
        // Heap segments over float[] and friends have no ByteBuffer view; they go through a byte[].
        boolean viewable = data.isNative() || data.heapBase().map(b -> b instanceof byte[]).orElse(true);
        try {
            for (long done = 0; done < data.byteSize(); ) {
                long n = Math.min(CHUNK, data.byteSize() - done);
                ByteBuffer buf = viewable ? data.asSlice(done, n).asByteBuffer()
                        : ByteBuffer.wrap(data.asSlice(done, n).toArray(ValueLayout.JAVA_BYTE));
                long pos = at + done;
                while (buf.hasRemaining()) {
                    pos += channel.write(buf, pos);
                }
                done += n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": write failed: " + e.getMessage(), e);
        }
    }

    /**
     * Pads the file to its final size with zeros and closes it. Throws IllegalStateException,
     * after closing, when a tensor's data was not written completely.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<String> incomplete = new ArrayList<>();
        for (int i = 0; i < written.length; i++) {
            if (written[i] != tensors.get(i).byteSize()) {
                incomplete.add(tensors.get(i).name() + " (" + written[i] + " of " + tensors.get(i).byteSize() + " bytes)");
            }
        }
        try (channel) {
            long size = channel.size();
            if (size < fileEnd) {
                // Gaps between tensors read as zeros already; writing the last byte fixes the length.
                channel.write(ByteBuffer.allocate(1), fileEnd - 1);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot finish the file: " + e.getMessage(), e);
        }
        if (!incomplete.isEmpty()) {
            throw new IllegalStateException(path + ": incomplete GGUF file, tensors not fully written: "
                    + String.join(", ", incomplete.subList(0, Math.min(5, incomplete.size())))
                    + (incomplete.size() > 5 ? " and " + (incomplete.size() - 5) + " more" : ""));
        }
    }

    /** Collects the metadata and the tensor layout; {@link #create} writes the header. */
    public static final class Builder {
        private int version = 3;
        private GgufMetadata metadata = GgufMetadata.builder().build();
        private final LinkedHashMap<String, TensorSlot> slots = new LinkedHashMap<>();

        private record TensorSlot(String name, GgmlType type, long[] shape, long offset) {
        }

        private Builder() {
        }

        /** GGUF version to write: 3 (default) or 2, which share one layout. */
        public Builder version(int version) {
            if (version != 2 && version != 3) {
                throw new IllegalArgumentException("can write GGUF version 2 or 3, not " + version);
            }
            this.version = version;
            return this;
        }

        /** The key/value metadata, written in its order; {@code general.alignment} sets the alignment. */
        public Builder metadata(GgufMetadata metadata) {
            this.metadata = Objects.requireNonNull(metadata, "metadata");
            return this;
        }

        /** Adds a tensor placed after every tensor added so far, at the next aligned offset. */
        public Builder tensor(String name, GgmlType type, long... shape) {
            return add(new TensorSlot(name, type, shape.clone(), -1));
        }

        /** Adds a tensor at the data offset {@code info} names (as read from a file). */
        public Builder tensor(TensorInfo info) {
            return add(new TensorSlot(info.name(), info.type(), info.shape(), info.offset()));
        }

        private Builder add(TensorSlot slot) {
            Objects.requireNonNull(slot.name(), "name");
            Objects.requireNonNull(slot.type(), "type");
            if (slots.containsKey(slot.name())) {
                throw new IllegalArgumentException("duplicate tensor name '" + slot.name() + "'");
            }
            if (slot.name().getBytes(StandardCharsets.UTF_8).length > GgufParser.MAX_TENSOR_NAME_BYTES) {
                throw new IllegalArgumentException("tensor name '" + slot.name() + "' is longer than "
                        + GgufParser.MAX_TENSOR_NAME_BYTES + " bytes");
            }
            if (slot.shape().length > GgufFile.MAX_DIMS) {
                throw new IllegalArgumentException("tensor '" + slot.name() + "' has " + slot.shape().length
                        + " dimensions, at most " + GgufFile.MAX_DIMS + " allowed");
            }
            for (long d : slot.shape()) {
                if (d < 0) {
                    throw new IllegalArgumentException("tensor '" + slot.name() + "' has negative dimension " + d);
                }
            }
            try {
                TensorInfo.byteSizeOf(slot.type(), slot.shape());
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new IllegalArgumentException("tensor '" + slot.name() + "': " + e.getMessage(), e);
            }
            slots.put(slot.name(), slot);
            return this;
        }

        /** Creates (or truncates) {@code path} and writes the header; tensor data follows through the writer. */
        public GgufWriter create(Path path) {
            long alignment = alignmentOf(metadata);
            List<TensorInfo> tensors = layout(alignment);
            byte[] header = header(tensors);
            long dataOffset = alignUp(header.length, alignment);
            long dataEnd = 0;
            for (TensorInfo t : tensors) {
                dataEnd = Math.max(dataEnd, t.offset() + t.byteSize());
            }
            long fileEnd = dataOffset + alignUp(dataEnd, alignment);
            FileChannel channel;
            try {
                channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException(path + ": cannot create: " + e.getMessage(), e);
            }
            try {
                // The padding up to the data section is left as a hole: it reads as zeros.
                ByteBuffer buf = ByteBuffer.wrap(header);
                while (buf.hasRemaining()) {
                    channel.write(buf);
                }
            } catch (IOException e) {
                try {
                    channel.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw new UncheckedIOException(path + ": cannot write the header: " + e.getMessage(), e);
            }
            return new GgufWriter(path, channel, dataOffset, alignment, fileEnd, List.copyOf(tensors));
        }

        private static long alignmentOf(GgufMetadata metadata) {
            if (!metadata.has(GgufMetadata.ALIGNMENT)) {
                return GgufFile.DEFAULT_ALIGNMENT;
            }
            long a = metadata.getLong(GgufMetadata.ALIGNMENT);
            if (a <= 0 || Long.bitCount(a) != 1 || a > GgufParser.MAX_ALIGNMENT) {
                throw new IllegalArgumentException(GgufMetadata.ALIGNMENT + " is " + a
                        + "; it must be a power of two between 1 and " + GgufParser.MAX_ALIGNMENT);
            }
            return a;
        }

        /** Fixes every tensor's offset and checks that explicit offsets are aligned and disjoint. */
        private List<TensorInfo> layout(long alignment) {
            List<TensorInfo> out = new ArrayList<>(slots.size());
            long next = 0;
            for (TensorSlot s : slots.values()) {
                long size = TensorInfo.byteSizeOf(s.type(), s.shape());
                long offset = s.offset() >= 0 ? s.offset() : next;
                if (offset % alignment != 0) {
                    throw new IllegalArgumentException("tensor '" + s.name() + "' offset " + offset
                            + " is not a multiple of the alignment " + alignment);
                }
                out.add(new TensorInfo(s.name(), s.type(), s.shape(), offset, size));
                next = Math.max(next, alignUp(Math.addExact(offset, size), alignment));
            }
            List<TensorInfo> byOffset = new ArrayList<>(out);
            byOffset.removeIf(t -> t.byteSize() == 0);
            byOffset.sort(Comparator.comparingLong(TensorInfo::offset));
            for (int i = 1; i < byOffset.size(); i++) {
                TensorInfo p = byOffset.get(i - 1);
                TensorInfo t = byOffset.get(i);
                if (p.offset() + p.byteSize() > t.offset()) {
                    throw new IllegalArgumentException("tensors '" + p.name() + "' and '" + t.name() + "' overlap");
                }
            }
            return out;
        }

        private byte[] header(List<TensorInfo> tensors) {
            HeaderBytes out = new HeaderBytes();
            out.u32(GgufParser.MAGIC);
            out.u32(version);
            out.u64(tensors.size());
            out.u64(metadata.size());
            for (Map.Entry<String, GgufValue> e : metadata.asMap().entrySet()) {
                out.string(e.getKey());
                out.u32(e.getValue().type().id());
                out.value(e.getValue());
            }
            for (TensorInfo t : tensors) {
                out.string(t.name());
                out.u32(t.nDims());
                for (int d = 0; d < t.nDims(); d++) {
                    out.u64(t.dim(d));
                }
                out.u32(t.type().id());
                out.u64(t.offset());
            }
            return out.toByteArray();
        }
    }

    static long alignUp(long n, long alignment) {
        return Math.addExact(n, alignment - 1) / alignment * alignment;
    }

    /** Little-endian serialisation of the header into memory (metadata is megabytes at most). */
    private static final class HeaderBytes extends ByteArrayOutputStream {
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        private final CharsetEncoder utf8 = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);

        HeaderBytes() {
            super(1 << 16);
        }

        void u8(int v) {
            write(v);
        }

        void u16(int v) {
            scratch.clear();
            scratch.putShort((short) v);
            write(scratch.array(), 0, 2);
        }

        void u32(int v) {
            scratch.clear();
            scratch.putInt(v);
            write(scratch.array(), 0, 4);
        }

        void u64(long v) {
            scratch.clear();
            scratch.putLong(v);
            write(scratch.array(), 0, 8);
        }

        void string(String s) {
            byte[] bytes;
            if (isAscii(s)) {
                bytes = s.getBytes(StandardCharsets.ISO_8859_1);
            } else {
                try {
                    ByteBuffer b = utf8.encode(CharBuffer.wrap(s));
                    bytes = new byte[b.remaining()];
                    b.get(bytes);
                } catch (CharacterCodingException e) {
                    throw new IllegalArgumentException("string '" + s + "' cannot be encoded as UTF-8", e);
                }
            }
            u64(bytes.length);
            write(bytes, 0, bytes.length);
        }

        private static boolean isAscii(String s) {
            for (int i = 0; i < s.length(); i++) {
                if (s.charAt(i) >= 0x80) {
                    return false;
                }
            }
            return true;
        }

        void value(GgufValue v) {
            switch (v) {
                case GgufValue.IntValue i -> scalarInt(i.type(), i.value());
                case GgufValue.FloatValue f -> {
                    if (f.type() == GgufValueType.FLOAT32) {
                        u32(Float.floatToRawIntBits((float) f.value()));
                    } else {
                        u64(Double.doubleToRawLongBits(f.value()));
                    }
                }
                case GgufValue.BoolValue b -> u8(b.value() ? 1 : 0);
                case GgufValue.StringValue s -> string(s.value());
                case GgufArray a -> array(a);
            }
        }

        private void scalarInt(GgufValueType type, long v) {
            switch (type) {
                case UINT8, INT8 -> u8((int) v);
                case UINT16, INT16 -> u16((int) v);
                case UINT32, INT32 -> u32((int) v);
                default -> u64(v);
            }
        }

        private void array(GgufArray a) {
            u32(a.elementType().id());
            u64(a.size());
            switch (a.storage()) {
                case byte[] x -> write(x, 0, x.length);
                case short[] x -> {
                    for (short e : x) {
                        u16(e);
                    }
                }
                case int[] x -> {
                    for (int e : x) {
                        u32(e);
                    }
                }
                case long[] x -> {
                    for (long e : x) {
                        u64(e);
                    }
                }
                case float[] x -> {
                    for (float e : x) {
                        u32(Float.floatToRawIntBits(e));
                    }
                }
                case double[] x -> {
                    for (double e : x) {
                        u64(Double.doubleToRawLongBits(e));
                    }
                }
                case boolean[] x -> {
                    for (boolean e : x) {
                        u8(e ? 1 : 0);
                    }
                }
                case String[] x -> {
                    for (String e : x) {
                        string(e);
                    }
                }
                case GgufArray[] x -> {
                    for (GgufArray e : x) {
                        array(e);
                    }
                }
                default -> throw new IllegalStateException("unexpected array storage " + a.storage().getClass());
            }
        }
    }
}
