package dev.ferry.loader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A GGUF file (version 2 or 3, little-endian) mapped read-only into memory and fully validated.
 *
 * <p>The mapping is owned by a shared {@link Arena}, so tensor slices may be read from any thread;
 * {@link #close()} unmaps the file, after which every segment handed out throws
 * IllegalStateException on access. Nothing of the tensor data is read by {@link #open}.
 */
public final class GgufFile implements AutoCloseable {

    /** GGML_MAX_DIMS. */
    public static final int MAX_DIMS = 4;
    /** Data alignment when {@code general.alignment} is absent. */
    public static final long DEFAULT_ALIGNMENT = 32;

    private final Path path;
    private final Arena arena;
    private final MemorySegment mapping;
    private final int version;
    private final long alignment;
    private final long dataOffset;
    private final GgufMetadata metadata;
    private final List<TensorInfo> tensors;
    private final Map<String, TensorInfo> tensorsByName;

    private GgufFile(Path path, Arena arena, MemorySegment mapping, GgufParser.Result parsed) {
        this.path = path;
        this.arena = arena;
        this.mapping = mapping;
        this.version = parsed.version();
        this.alignment = parsed.alignment();
        this.dataOffset = parsed.dataOffset();
        this.metadata = parsed.metadata();
        this.tensors = List.copyOf(parsed.tensors());
        Map<String, TensorInfo> byName = new HashMap<>(tensors.size() * 2);
        for (TensorInfo t : tensors) {
            byName.put(t.name(), t);
        }
        this.tensorsByName = byName;
    }

    /**
     * Maps and validates {@code path}. Throws GgufFormatException when the content is not a valid
     * GGUF file, UncheckedIOException (naming the path) when it cannot be read at all.
     */
    public static GgufFile open(Path path) {
        Objects.requireNonNull(path, "path");
        if (Files.isDirectory(path)) {
            throw new UncheckedIOException(new IOException(path + ": is a directory, not a GGUF file"));
        }
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            Arena arena = Arena.ofShared();
            try {
                // reinterpret: the same pages, scope and read-only flag as a plain native segment. The
                // kernels then see one segment class whether weights come from the file or a host buffer;
                // with a mapped one mixed in, C2 compiled them for both and ran them 2x slower.
                MemorySegment mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena).asReadOnly()
                        .reinterpret(size);
                GgufParser.Result parsed = new GgufParser(path.toString(), mapping).parse();
                return new GgufFile(path, arena, mapping, parsed);
            } catch (RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(path + ": no such file", e);
        } catch (AccessDeniedException e) {
            throw new UncheckedIOException(path + ": permission denied", e);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public long fileSize() {
        return mapping.byteSize();
    }

    /** {@code general.alignment}, or 32 when absent. */
    public long alignment() {
        return alignment;
    }

    /** Absolute file position where the data section starts. */
    public long dataOffset() {
        return dataOffset;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** All tensors in file order. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    /** The tensor with this name; IllegalArgumentException when the file has none. */
    public TensorInfo tensor(String name) {
        TensorInfo t = tensorsByName.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + path);
        }
        return t;
    }

    public Optional<TensorInfo> findTensor(String name) {
        return Optional.ofNullable(tensorsByName.get(name));
    }

    /** Read-only slice of the mapping holding this tensor's data; byteSize() == t.byteSize(). */
    public MemorySegment data(TensorInfo t) {
        TensorInfo own = tensorsByName.get(t.name());
        if (!t.equals(own)) {
            throw new IllegalArgumentException("tensor " + t + " is not a tensor of " + path);
        }
        return mapping.asSlice(dataOffset + t.offset(), t.byteSize());
    }

    /** The whole read-only mapping. */
    public MemorySegment segment() {
        return mapping;
    }

    /** Unmaps the file; every segment from this file becomes inaccessible. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + metadata.size() + " keys, " + tensors.size()
                + " tensors]";
    }
}
