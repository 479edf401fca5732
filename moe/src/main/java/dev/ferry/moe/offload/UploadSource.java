package dev.ferry.moe.offload;

import dev.ferry.cuda.DeviceBuffer;
import dev.ferry.cuda.HostMemoryKind;
import dev.ferry.cuda.PinnedHostBuffer;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/** A host byte range to upload from: {@code bytes} bytes of {@code buffer} at {@code offset}. */
public record UploadSource(PinnedHostBuffer buffer, long offset, long bytes) {

    public UploadSource {
        Objects.requireNonNull(buffer, "buffer");
        DeviceBuffer.checkRange("upload source", buffer.size(), offset, bytes);
    }

    /** How the source is backed (decides the DMA rate). */
    public HostMemoryKind kind() {
        return buffer.kind();
    }

    /** The bytes themselves. */
    public MemorySegment segment() {
        return buffer.segment().asSlice(offset, bytes);
    }
}
