package dev.ferry.cuda.jcuda;

import jcuda.Pointer;

import java.lang.foreign.MemorySegment;

/**
 * A JCuda {@link Pointer} holding a raw host address, so copies can use memory of any size
 * ({@code Pointer.to(ByteBuffer)} stops at 2 GiB). JCuda's natives use {@code nativePointer +
 * byteOffset} of a pointer that has no buffer, which is exactly this. Also receives the address
 * written by {@code cuMemHostAlloc}.
 */
final class HostPointer extends Pointer {

    HostPointer(long address) {
        super(address);
    }

    static HostPointer at(MemorySegment segment, long offset) {
        return new HostPointer(segment.address() + offset);
    }

    /** The address held (set by JCuda when this pointer was an output argument). */
    long address() {
        return getNativePointer() + getByteOffset();
    }
}
