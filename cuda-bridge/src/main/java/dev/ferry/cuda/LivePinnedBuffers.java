package dev.ferry.cuda;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The pinned and registered host buffers a device has handed out and not yet seen closed, so
 * that closing the device releases what its users forgot.
 */
public final class LivePinnedBuffers {

    private final Set<PinnedHostBuffer> live = ConcurrentHashMap.newKeySet();

    /** A buffer over {@code segment} that runs {@code release} once when closed, tracked until then. */
    public PinnedHostBuffer track(MemorySegment segment, HostMemoryKind kind, OptionalInt numaNode, Runnable release) {
        PinnedHostBuffer[] self = new PinnedHostBuffer[1];
        self[0] = PinnedHostBuffer.of(segment, kind, numaNode, () -> {
            live.remove(self[0]);
            release.run();
        });
        live.add(self[0]);
        return self[0];
    }

    /** Closes every buffer still open. */
    public void closeAll() {
        for (PinnedHostBuffer p : new ArrayList<>(live)) {
            p.close();
        }
    }
}
