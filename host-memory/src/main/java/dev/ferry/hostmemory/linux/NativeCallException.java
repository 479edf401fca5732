package dev.ferry.hostmemory.linux;

/** A failed system call, naming the call and its errno. */
public final class NativeCallException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    public NativeCallException(String call, int errno, String detail) {
        super(call + " failed: " + Errno.describe(errno) + (detail.isEmpty() ? "" : " [" + detail + "]"));
        this.call = call;
        this.errno = errno;
    }

    /** The call that failed, e.g. {@code mbind}. */
    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }

    public String errnoName() {
        return Errno.name(errno);
    }
}
