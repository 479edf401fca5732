package dev.ferry.hostmemory.topology;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.List;
import java.util.stream.IntStream;

/**
 * An immutable set of CPU (or NUMA node) numbers, with the two text forms Linux uses: the list
 * form of sysfs ({@code 0-3,8,10-11}) and the hexadecimal mask form of {@code taskset} and
 * llama.cpp's {@code --cpu-mask} (rightmost digit is CPUs 0-3).
 */
public final class CpuSet {

    private static final CpuSet EMPTY = new CpuSet(new BitSet());

    private final BitSet bits;

    private CpuSet(BitSet bits) {
        this.bits = bits;
    }

    public static CpuSet empty() {
        return EMPTY;
    }

    public static CpuSet of(int... cpus) {
        BitSet b = new BitSet();
        for (int cpu : cpus) {
            b.set(checked(cpu));
        }
        return new CpuSet(b);
    }

    public static CpuSet of(Collection<Integer> cpus) {
        BitSet b = new BitSet();
        for (int cpu : cpus) {
            b.set(checked(cpu));
        }
        return new CpuSet(b);
    }

    /** The CPUs {@code lo..hi}, both included. */
    public static CpuSet range(int lo, int hi) {
        if (lo < 0 || hi < lo) {
            throw new IllegalArgumentException("bad CPU range " + lo + "-" + hi);
        }
        BitSet b = new BitSet();
        b.set(lo, hi + 1);
        return new CpuSet(b);
    }

    /**
     * Parses the sysfs list form: comma-separated numbers and {@code lo-hi} ranges; an empty or
     * blank text is the empty set.
     */
    public static CpuSet parseList(String text) {
        String s = text.strip();
        BitSet b = new BitSet();
        if (s.isEmpty()) {
            return new CpuSet(b);
        }
        for (String part : s.split(",")) {
            String p = part.strip();
            int dash = p.indexOf('-');
            try {
                if (dash < 0) {
                    b.set(checked(Integer.parseInt(p)));
                } else {
                    int lo = Integer.parseInt(p.substring(0, dash).strip());
                    int hi = Integer.parseInt(p.substring(dash + 1).strip());
                    if (lo < 0 || hi < lo) {
                        throw new IllegalArgumentException("bad range '" + p + "' in CPU list '" + text + "'");
                    }
                    b.set(lo, hi + 1);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad CPU list '" + text + "': '" + p + "' is not a number or lo-hi range");
            }
        }
        return new CpuSet(b);
    }

    /**
     * Parses a hexadecimal mask of any length, optionally prefixed with {@code 0x}; commas (the
     * sysfs {@code cpumap} form) are ignored. The last digit holds CPUs 0-3.
     */
    public static CpuSet parseMask(String hex) {
        String s = hex.strip().replace(",", "");
        if (s.startsWith("0x") || s.startsWith("0X")) {
            s = s.substring(2);
        }
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty CPU mask '" + hex + "'");
        }
        BitSet b = new BitSet();
        int n = s.length();
        for (int i = 0; i < n; i++) {
            int digit = Character.digit(s.charAt(n - 1 - i), 16);
            if (digit < 0) {
                throw new IllegalArgumentException("bad CPU mask '" + hex + "': '" + s.charAt(n - 1 - i) + "' is not a hex digit");
            }
            for (int bit = 0; bit < 4; bit++) {
                if ((digit & (1 << bit)) != 0) {
                    b.set(i * 4 + bit);
                }
            }
        }
        return new CpuSet(b);
    }

    /** Builds a set from the bits of a native {@code unsigned long} mask (bit i = CPU i). */
    public static CpuSet fromWords(long[] words) {
        return new CpuSet(BitSet.valueOf(words));
    }

    /** The set as {@code unsigned long} words of {@code wordCount} (bit i = CPU i). */
    public long[] toWords(int wordCount) {
        long[] raw = bits.toLongArray();
        if (raw.length > wordCount) {
            throw new IllegalArgumentException("CPU set " + this + " needs " + raw.length + " words, only " + wordCount + " allowed");
        }
        long[] words = new long[wordCount];
        System.arraycopy(raw, 0, words, 0, raw.length);
        return words;
    }

    private static int checked(int cpu) {
        if (cpu < 0) {
            throw new IllegalArgumentException("negative CPU number " + cpu);
        }
        return cpu;
    }

    public boolean contains(int cpu) {
        return cpu >= 0 && bits.get(cpu);
    }

    public int size() {
        return bits.cardinality();
    }

    public boolean isEmpty() {
        return bits.isEmpty();
    }

    /** Lowest member; the set must not be empty. */
    public int first() {
        if (bits.isEmpty()) {
            throw new IllegalStateException("empty CPU set has no first CPU");
        }
        return bits.nextSetBit(0);
    }

    /** Highest member, or -1 when empty. */
    public int last() {
        return bits.length() - 1;
    }

    public CpuSet and(CpuSet other) {
        BitSet b = (BitSet) bits.clone();
        b.and(other.bits);
        return new CpuSet(b);
    }

    public CpuSet or(CpuSet other) {
        BitSet b = (BitSet) bits.clone();
        b.or(other.bits);
        return new CpuSet(b);
    }

    public CpuSet without(CpuSet other) {
        BitSet b = (BitSet) bits.clone();
        b.andNot(other.bits);
        return new CpuSet(b);
    }

    public IntStream stream() {
        return bits.stream();
    }

    /** Members in ascending order. */
    public List<Integer> toList() {
        List<Integer> out = new ArrayList<>(size());
        bits.stream().forEach(out::add);
        return List.copyOf(out);
    }

    /** The sysfs list form, e.g. {@code 0-27,56-83}; empty set gives an empty string. */
    public String toListString() {
        StringBuilder sb = new StringBuilder();
        int i = bits.nextSetBit(0);
        while (i >= 0) {
            int end = bits.nextClearBit(i) - 1;
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(i);
            if (end > i) {
                sb.append('-').append(end);
            }
            i = bits.nextSetBit(end + 1);
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CpuSet other && bits.equals(other.bits);
    }

    @Override
    public int hashCode() {
        return bits.hashCode();
    }

    @Override
    public String toString() {
        return "{" + toListString() + "}";
    }
}
