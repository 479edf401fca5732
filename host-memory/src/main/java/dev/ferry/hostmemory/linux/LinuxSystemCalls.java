package dev.ferry.hostmemory.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.ferry.hostmemory.topology.CpuSet;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@link SystemCalls} through {@code java.lang.foreign}: libc's {@code mmap}, {@code madvise},
 * {@code mlock}, {@code sched_*affinity}, and raw {@code syscall} for the NUMA calls, so libnuma
 * is not needed. errno is captured with {@code Linker.Option.captureCallState}.
 *
 * <p>Call buffers come from shared arenas, as every segment on the inference path does: one
 * confined segment through the JDK's access code leaves a trap in its owner-thread check that
 * makes every kernel C2 compiles afterwards carry that check (bench/README.md, end to end step 8).
 */
@SuppressWarnings("restricted") // binding libc is this class's purpose; the JVM runs with --enable-native-access
public final class LinuxSystemCalls implements SystemCalls {

    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;
    private static final int MPOL_F_ADDR = 2;
    private static final int MPOL_F_MEMS_ALLOWED = 4;
    /** Policy flags the kernel ORs into the returned mode (static/relative nodes, NUMA balancing). */
    private static final int MPOL_MODE_MASK = 0xff;
    /** Node masks of 1024 bits, as libnuma uses; the kernel reads maxnode - 1 bits. */
    private static final int NODE_MASK_WORDS = 16;
    private static final long NODE_MAXNODE = NODE_MASK_WORDS * 64L + 1;
    /** Affinity masks of 8192 CPUs, large enough for any kernel's nr_cpu_ids. */
    private static final int CPU_MASK_WORDS = 128;
    private static final int MOVE_PAGES_CHUNK = 1 << 16;

    private final SyscallNumbers numbers;
    private final StructLayout captureLayout;
    private final VarHandle errnoHandle;
    private final MethodHandle syscall;
    private final MethodHandle mmap;
    private final MethodHandle munmap;
    private final MethodHandle madvise;
    private final MethodHandle mlock;
    private final MethodHandle munlock;
    private final MethodHandle schedSetaffinity;
    private final MethodHandle schedGetaffinity;
    private final long pageSize;

    private record SyscallNumbers(String arch, long mbind, long getMempolicy, long movePages, long getcpu) {
    }

    private static final class Holder {
        private static final String UNAVAILABLE_REASON;
        private static final Optional<SystemCalls> INSTANCE;

        static {
            String reason = "";
            SystemCalls calls = null;
            try {
                calls = new LinuxSystemCalls();
            } catch (UnsupportedOperationException | IllegalArgumentException | IllegalCallerException e) {
                reason = e.getMessage();
            }
            UNAVAILABLE_REASON = reason;
            INSTANCE = Optional.ofNullable(calls);
        }
    }

    /** The process-wide calls; empty on other systems. */
    public static Optional<SystemCalls> instance() {
        return Holder.INSTANCE;
    }

    /** Why {@link #instance()} is empty; empty text when it is not. */
    public static String unavailableReason() {
        return Holder.UNAVAILABLE_REASON;
    }

    /** One line for reports: how NUMA calls are made here, and whether libnuma is present (it is optional). */
    public static String backendDescription() {
        if (instance().isEmpty()) {
            return "no Linux system calls: " + unavailableReason();
        }
        boolean libnuma;
        try (Arena arena = Arena.ofShared()) {
            SymbolLookup.libraryLookup("libnuma.so.1", arena);
            libnuma = true;
        } catch (IllegalArgumentException e) {
            libnuma = false;
        }
        return "NUMA calls: raw syscalls through libc (" + ((LinuxSystemCalls) instance().get()).numbers.arch()
                + "); libnuma.so.1 " + (libnuma ? "present, not needed" : "absent, not needed");
    }

    private LinuxSystemCalls() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (!os.contains("linux")) {
            throw new UnsupportedOperationException("not Linux (os.name=" + System.getProperty("os.name") + ")");
        }
        String arch = System.getProperty("os.arch", "");
        numbers = switch (arch) {
            case "amd64", "x86_64" -> new SyscallNumbers("x86-64", 237, 239, 279, 309);
            case "aarch64" -> new SyscallNumbers("aarch64", 235, 236, 239, 168);
            default -> throw new UnsupportedOperationException("no syscall numbers for architecture " + arch);
        };
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        captureLayout = Linker.Option.captureStateLayout();
        errnoHandle = captureLayout.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        Linker.Option errno = Linker.Option.captureCallState("errno");
        syscall = linker.downcallHandle(find(libc, "syscall"),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(1), errno);
        mmap = linker.downcallHandle(find(libc, "mmap"),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), errno);
        munmap = linker.downcallHandle(find(libc, "munmap"), FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), errno);
        madvise = linker.downcallHandle(find(libc, "madvise"), FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), errno);
        mlock = linker.downcallHandle(find(libc, "mlock"), FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), errno);
        munlock = linker.downcallHandle(find(libc, "munlock"), FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), errno);
        schedSetaffinity = linker.downcallHandle(find(libc, "sched_setaffinity"),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), errno);
        schedGetaffinity = linker.downcallHandle(find(libc, "sched_getaffinity"),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), errno);
        MethodHandle getpagesize = linker.downcallHandle(find(libc, "getpagesize"), FunctionDescriptor.of(JAVA_INT));
        try {
            pageSize = (int) getpagesize.invokeExact();
        } catch (Throwable t) {
            throw new UnsupportedOperationException("getpagesize failed: " + t);
        }
    }

    private static MemorySegment find(SymbolLookup libc, String name) {
        return libc.find(name).orElseThrow(() -> new UnsupportedOperationException("libc has no symbol " + name));
    }

    private int errno(MemorySegment capture) {
        return (int) errnoHandle.get(capture, 0L);
    }

    private static IllegalStateException invocationFailure(String call, Throwable t) {
        return new IllegalStateException("native call " + call + " could not be invoked: " + t, t);
    }

    private long syscall(String name, long number, long a1, long a2, long a3, long a4, long a5, long a6, String detail) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment capture = arena.allocate(captureLayout);
            long r = (long) syscall.invokeExact(capture, number, a1, a2, a3, a4, a5, a6);
            if (r == -1) {
                throw new NativeCallException(name, errno(capture), detail);
            }
            return r;
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw invocationFailure(name, t);
        }
    }

    /** Runs a libc call returning int, throwing with errno when it returns -1. */
    private interface IntCall {
        int call(MemorySegment capture) throws Throwable;
    }

    private void libc(String name, String detail, IntCall body) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment capture = arena.allocate(captureLayout);
            int r = body.call(capture);
            if (r == -1) {
                throw new NativeCallException(name, errno(capture), detail);
            }
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw invocationFailure(name, t);
        }
    }

    @Override
    public MemorySegment mmapAnonymous(long length) {
        if (length <= 0 || length % pageSize != 0) {
            throw new IllegalArgumentException("mmap length must be a positive multiple of " + pageSize + ", got " + length);
        }
        try (Arena arena = Arena.ofShared()) {
            MemorySegment capture = arena.allocate(captureLayout);
            long addr = (long) mmap.invokeExact(capture, 0L, length, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            if (addr == -1L) {
                throw new NativeCallException("mmap", errno(capture), length + " bytes");
            }
            return MemorySegment.ofAddress(addr);
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw invocationFailure("mmap", t);
        }
    }

    @Override
    public void munmap(long address, long length) {
        libc("munmap", range(address, length), c -> (int) munmap.invokeExact(c, address, length));
    }

    @Override
    public void madvise(long address, long length, int advice) {
        libc("madvise", range(address, length) + " advice " + advice, c -> (int) madvise.invokeExact(c, address, length, advice));
    }

    @Override
    public void mlock(long address, long length) {
        libc("mlock", range(address, length), c -> (int) mlock.invokeExact(c, address, length));
    }

    @Override
    public void munlock(long address, long length) {
        libc("munlock", range(address, length), c -> (int) munlock.invokeExact(c, address, length));
    }

    @Override
    public void mbind(long address, long length, int mode, List<Integer> nodes, int flags) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment mask = MemorySegment.NULL;
            if (!nodes.isEmpty()) {
                mask = arena.allocate(JAVA_LONG, NODE_MASK_WORDS);
                long[] words = CpuSet.of(nodes).toWords(NODE_MASK_WORDS);
                for (int i = 0; i < words.length; i++) {
                    mask.setAtIndex(JAVA_LONG, i, words[i]);
                }
            }
            syscall("mbind", numbers.mbind(), address, length, mode, mask.address(), nodes.isEmpty() ? 0 : NODE_MAXNODE, flags,
                    range(address, length) + " mode " + new MemPolicy(mode, nodes).modeName() + " nodes " + nodes);
        }
    }

    @Override
    public MemPolicy getMempolicy() {
        return mempolicy(0L, 0, "thread policy");
    }

    @Override
    public MemPolicy getMempolicy(long address) {
        return mempolicy(address, MPOL_F_ADDR, "policy at 0x" + Long.toHexString(address));
    }

    @Override
    public List<Integer> memsAllowed() {
        return mempolicy(0L, MPOL_F_MEMS_ALLOWED, "mems allowed").nodes();
    }

    private MemPolicy mempolicy(long address, int flags, String detail) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment mode = arena.allocate(JAVA_INT);
            MemorySegment mask = arena.allocate(JAVA_LONG, NODE_MASK_WORDS);
            syscall("get_mempolicy", numbers.getMempolicy(), mode.address(), mask.address(), NODE_MAXNODE, address, flags, 0, detail);
            long[] words = mask.toArray(JAVA_LONG);
            return new MemPolicy(mode.get(JAVA_INT, 0) & MPOL_MODE_MASK, CpuSet.fromWords(words).toList());
        }
    }

    @Override
    public void queryPageNodes(long address, long pageSize, int count, int[] status, int offset) {
        if (count < 0 || offset < 0 || offset + count > status.length) {
            throw new IllegalArgumentException("status array too small for " + count + " pages at " + offset);
        }
        try (Arena arena = Arena.ofShared()) {
            int chunk = Math.min(count, MOVE_PAGES_CHUNK);
            MemorySegment pages = arena.allocate(JAVA_LONG, Math.max(chunk, 1));
            MemorySegment out = arena.allocate(JAVA_INT, Math.max(chunk, 1));
            for (int done = 0; done < count; done += chunk) {
                int n = Math.min(chunk, count - done);
                for (int i = 0; i < n; i++) {
                    pages.setAtIndex(JAVA_LONG, i, address + (done + (long) i) * pageSize);
                }
                syscall("move_pages", numbers.movePages(), 0, n, pages.address(), 0, out.address(), 0,
                        "query " + n + " pages at 0x" + Long.toHexString(address + done * pageSize));
                for (int i = 0; i < n; i++) {
                    status[offset + done + i] = out.getAtIndex(JAVA_INT, i);
                }
            }
        }
    }

    @Override
    public void setThreadAffinity(CpuSet cpus) {
        if (cpus.isEmpty()) {
            throw new IllegalArgumentException("cannot pin a thread to an empty CPU set");
        }
        int words = Math.max(16, cpus.last() / 64 + 1);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment mask = arena.allocate(JAVA_LONG, words);
            long[] bits = cpus.toWords(words);
            for (int i = 0; i < words; i++) {
                mask.setAtIndex(JAVA_LONG, i, bits[i]);
            }
            libc("sched_setaffinity", "CPUs " + cpus.toListString(),
                    c -> (int) schedSetaffinity.invokeExact(c, 0, words * 8L, mask.address()));
        }
    }

    @Override
    public CpuSet threadAffinity() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment mask = arena.allocate(JAVA_LONG, CPU_MASK_WORDS);
            libc("sched_getaffinity", "", c -> (int) schedGetaffinity.invokeExact(c, 0, CPU_MASK_WORDS * 8L, mask.address()));
            return CpuSet.fromWords(mask.toArray(JAVA_LONG));
        }
    }

    @Override
    public CpuLocation getcpu() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment cpu = arena.allocate(JAVA_INT);
            MemorySegment node = arena.allocate(JAVA_INT);
            syscall("getcpu", numbers.getcpu(), cpu.address(), node.address(), 0, 0, 0, 0, "");
            return new CpuLocation(cpu.get(JAVA_INT, 0), node.get(JAVA_INT, 0));
        }
    }

    @Override
    public long pageSize() {
        return pageSize;
    }

    private static String range(long address, long length) {
        return "0x" + Long.toHexString(address) + "+" + length;
    }
}
