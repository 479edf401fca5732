package dev.ferry.hostmemory.linux;

import java.util.Map;

/** Names and short meanings of the Linux errno values these calls can return. */
public final class Errno {

    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENODEV = 19;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int ERANGE = 34;
    public static final int ENOSYS = 38;
    public static final int EOPNOTSUPP = 95;
    public static final int EHWPOISON = 133;

    private static final Map<Integer, String[]> TABLE = Map.ofEntries(
            Map.entry(EPERM, new String[] {"EPERM", "operation not permitted"}),
            Map.entry(ENOENT, new String[] {"ENOENT", "no such file, or page not present"}),
            Map.entry(ESRCH, new String[] {"ESRCH", "no such process"}),
            Map.entry(EINTR, new String[] {"EINTR", "interrupted"}),
            Map.entry(EIO, new String[] {"EIO", "I/O error"}),
            Map.entry(E2BIG, new String[] {"E2BIG", "argument list too long"}),
            Map.entry(EBADF, new String[] {"EBADF", "bad file descriptor"}),
            Map.entry(EAGAIN, new String[] {"EAGAIN", "resource temporarily unavailable"}),
            Map.entry(ENOMEM, new String[] {"ENOMEM", "out of memory"}),
            Map.entry(EACCES, new String[] {"EACCES", "permission denied"}),
            Map.entry(EFAULT, new String[] {"EFAULT", "bad address"}),
            Map.entry(EBUSY, new String[] {"EBUSY", "device or resource busy"}),
            Map.entry(EEXIST, new String[] {"EEXIST", "exists"}),
            Map.entry(ENODEV, new String[] {"ENODEV", "no such device"}),
            Map.entry(EINVAL, new String[] {"EINVAL", "invalid argument"}),
            Map.entry(ENOSPC, new String[] {"ENOSPC", "no space left"}),
            Map.entry(ERANGE, new String[] {"ERANGE", "result out of range"}),
            Map.entry(ENOSYS, new String[] {"ENOSYS", "function not implemented"}),
            Map.entry(EOPNOTSUPP, new String[] {"EOPNOTSUPP", "operation not supported"}),
            Map.entry(EHWPOISON, new String[] {"EHWPOISON", "memory page has hardware error"}));

    private Errno() {
    }

    /** E.g. {@code EPERM}; {@code errno 77} for values outside the table. */
    public static String name(int errno) {
        String[] e = TABLE.get(errno);
        return e != null ? e[0] : "errno " + errno;
    }

    /** E.g. {@code EPERM (1, operation not permitted)}. */
    public static String describe(int errno) {
        String[] e = TABLE.get(errno);
        return e != null ? e[0] + " (" + errno + ", " + e[1] + ")" : "errno " + errno;
    }
}
