package dev.ferry.moe.offload;

import dev.ferry.hostmemory.ThreadPinner;
import dev.ferry.moe.placement.FakeTwoSocketMachine;
import dev.ferry.moe.placement.HostContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A sysfs tree of a two-node machine (CPU 0 on node 0, CPU 1 on node 1) without system calls,
 * whose thread pinner only records which thread asked for which CPU.
 */
final class TwoNodeHost {

    record PinCall(String thread, int cpu) {
    }

    final List<PinCall> pins = new CopyOnWriteArrayList<>();
    final HostContext context;

    TwoNodeHost(Path root) {
        ThreadPinner pinner = cpu -> pins.add(new PinCall(Thread.currentThread().getName(), cpu));
        context = FakeTwoSocketMachine.create(root, Optional.of(pinner));
    }
}
