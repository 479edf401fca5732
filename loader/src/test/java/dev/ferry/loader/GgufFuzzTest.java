package dev.ferry.loader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutates the fixtures (bit flips, byte sets, truncations, huge counts and lengths, overlapping and
 * misaligned offsets, bad UTF-8, random type ids and alignments) and checks that GgufFile.open
 * either accepts the file or throws GgufFormatException: never any other exception or error.
 *
 * <p>Only the header region (everything before the data section) is written for real; the data
 * section is a sparse hole of the original length, because parsing never reads tensor data. One
 * mutation is reproduced with {@code -Dferry.fuzz.seed=S -Dferry.fuzz.count=1}.
 */
class GgufFuzzTest {

    private static final long DEFAULT_SEED = 0x5EED_2026_1127L;
    private static final int DEFAULT_COUNT = 3000;
    /** More than any fixture's header region plus the bytes an insertion adds. */
    private static final int DIRTY_PREFIX = 1 << 16;

    @TempDir
    Path dir;

    /** Positions of the fields of a valid header, found by walking it. */
    enum Kind {
        COUNT, STRING_LENGTH, STRING_BYTES, VALUE_TYPE, ARRAY_TYPE, ARRAY_COUNT, SCALAR, N_DIMS, DIM, TENSOR_TYPE,
        TENSOR_OFFSET, ALIGNMENT
    }

    record Field(Kind kind, int pos, int width) {
    }

    record Base(String name, byte[] head, long fileSize, Map<Kind, List<Field>> fields) {
    }

    @Test
    void onlyGgufFormatExceptionEscapesFromMutatedFixtures() throws IOException {
        long seed = Long.getLong("ferry.fuzz.seed", DEFAULT_SEED);
        int count = Integer.getInteger("ferry.fuzz.count", DEFAULT_COUNT);
        List<Base> bases = new ArrayList<>();
        for (String model : Fixtures.MODELS) {
            bases.add(base(model, Fixtures.model(model)));
        }
        bases.add(base("tiny-qwen3moe-Q4_0 aligned to 64", withAlignment(Fixtures.model("tiny-qwen3moe-Q4_0.gguf"))));

        Path file = dir.resolve("mutant.gguf");
        int accepted = 0;
        int refused = 0;
        Map<String, Integer> problems = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            long mutationSeed = seed + i;
            Random random = new Random(mutationSeed);
            Mutant m = mutate(bases, random);
            writeSparse(file, m.head(), m.fileSize());
            try (GgufFile f = GgufFile.open(file)) {
                for (TensorInfo t : f.tensors()) {
                    assertEquals(t.byteSize(), f.data(t).byteSize());
                }
                accepted++;
            } catch (GgufFormatException e) {
                assertTrue(e.getMessage().startsWith(file + ": byte "), e.getMessage());
                refused++;
                problems.merge(e.problem().replaceAll("'[^']*'", "'_'").replaceAll("\\(bytes [^)]*\\)", "(bytes _)")
                        .replaceAll("[0-9][0-9,.]*", "N"), 1,
                        Integer::sum);
            } catch (Throwable t) {
                fail("mutation seed " + mutationSeed + " (" + m.description() + ") let "
                        + t + " escape; rerun with -Dferry.fuzz.seed=" + mutationSeed + " -Dferry.fuzz.count=1", t);
            }
        }
        System.out.printf("GGUF fuzz: %d mutations from seed %d: %d refused (%d kinds of problem), %d accepted%n",
                count, seed, refused, problems.size(), accepted);
        if (Boolean.getBoolean("ferry.fuzz.verbose")) {
            problems.forEach((p, n) -> System.out.printf("%6d  %s%n", n, p));
        }
        assertEquals(count, accepted + refused);
        assertTrue(count < 100 || refused > count / 2, "most mutations must hit a check; refused " + refused);
        assertTrue(count < 2000 || problems.size() >= 30,
                "the mutations must reach many different checks, reached " + problems.size() + ": " + problems.keySet());
    }

    record Mutant(byte[] head, long fileSize, String description) {
    }

    /** One mutant of a randomly chosen base; alignment mutations use the base that has the key. */
    private static Mutant mutate(List<Base> bases, Random r) {
        int roll = r.nextInt(100);
        Base base = roll >= 60 && roll < 66 ? bases.getLast() : bases.get(r.nextInt(bases.size()));
        Mutant m = mutate(base, roll, r);
        return new Mutant(m.head(), m.fileSize(), base.name() + ": " + m.description());
    }

    private static Mutant mutate(Base base, int roll, Random r) {
        byte[] h = base.head().clone();
        long size = base.fileSize();
        if (roll < 14) {
            int flips = 1 + r.nextInt(3);
            for (int k = 0; k < flips; k++) {
                int p = r.nextInt(h.length);
                h[p] ^= (byte) (1 << r.nextInt(8));
            }
            return new Mutant(h, size, flips + " bit flips");
        }
        if (roll < 24) {
            int p = r.nextInt(h.length);
            h[p] = (byte) (r.nextBoolean() ? r.nextInt(256) : (r.nextBoolean() ? 0 : 0xFF));
            return new Mutant(h, size, "byte set at " + p);
        }
        if (roll < 34) {
            long cut = r.nextInt(4) == 0 ? (long) (r.nextDouble() * size) : r.nextInt(h.length + 1);
            return new Mutant(Arrays.copyOf(h, (int) Math.min(cut, h.length)), cut, "truncated to " + cut);
        }
        if (roll < 41) {
            int p = r.nextInt(h.length);
            int n = 1 + r.nextInt(16);
            byte[] out;
            if (r.nextBoolean()) {
                out = new byte[h.length + n];
                System.arraycopy(h, 0, out, 0, p);
                for (int k = 0; k < n; k++) {
                    out[p + k] = (byte) r.nextInt(256);
                }
                System.arraycopy(h, p, out, p + n, h.length - p);
                return new Mutant(out, size + n, n + " bytes inserted at " + p);
            }
            n = Math.min(n, h.length - p);
            out = new byte[h.length - n];
            System.arraycopy(h, 0, out, 0, p);
            System.arraycopy(h, p + n, out, p, h.length - p - n);
            return new Mutant(out, size - n, n + " bytes deleted at " + p);
        }
        if (roll < 49) {
            Field f = pick(base, Kind.STRING_BYTES, r);
            if (f != null && f.width() > 0) {
                byte[][] bad = {{(byte) 0xC3, '('}, {(byte) 0xFF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                        {(byte) 0xC0, (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0x80}};
                byte[] b = bad[r.nextInt(bad.length)];
                int p = f.pos() + r.nextInt(f.width());
                System.arraycopy(b, 0, h, p, Math.min(b.length, f.pos() + f.width() - p));
                return new Mutant(h, size, "bad UTF-8 at " + p);
            }
        }
        if (roll < 60) {
            List<Field> offsets = base.fields().getOrDefault(Kind.TENSOR_OFFSET, List.of());
            if (offsets.size() >= 2) {
                Field f = offsets.get(r.nextInt(offsets.size()));
                long v = switch (r.nextInt(5)) {
                    case 0 -> readLong(h, offsets.get(r.nextInt(offsets.size())).pos());
                    case 1 -> readLong(h, f.pos()) + 1 + r.nextInt(31);
                    case 2 -> readLong(h, f.pos()) + 32L * (1 + r.nextInt(4));
                    case 3 -> size;
                    default -> interestingLong(r, size);
                };
                writeLong(h, f.pos(), v);
                return new Mutant(h, size, "tensor offset at " + f.pos() + " set to " + v);
            }
        }
        if (roll < 66) {
            Field f = pick(base, Kind.ALIGNMENT, r);
            if (f != null) {
                long v = switch (r.nextInt(4)) {
                    case 0 -> 1L << r.nextInt(32);
                    case 1 -> r.nextInt(200);
                    case 2 -> interestingInt(r);
                    default -> 0;
                };
                writeInt(h, f.pos(), (int) v);
                return new Mutant(h, size, "alignment set to " + v);
            }
        }
        Kind[] kinds = {Kind.COUNT, Kind.STRING_LENGTH, Kind.VALUE_TYPE, Kind.ARRAY_TYPE, Kind.ARRAY_COUNT,
                Kind.SCALAR, Kind.N_DIMS, Kind.DIM, Kind.TENSOR_TYPE};
        Kind kind = kinds[r.nextInt(kinds.length)];
        Field f = pick(base, kind, r);
        if (f == null) {
            h[r.nextInt(h.length)] ^= 1;
            return new Mutant(h, size, "bit flip (no " + kind + " field)");
        }
        if (f.width() == 8) {
            long v = kind == Kind.DIM && r.nextBoolean() ? 1L << (20 + r.nextInt(40)) : interestingLong(r, size);
            writeLong(h, f.pos(), v);
            return new Mutant(h, size, kind + " at " + f.pos() + " set to " + v);
        }
        if (f.width() == 4) {
            int v = switch (kind) {
                case VALUE_TYPE, ARRAY_TYPE -> r.nextBoolean() ? r.nextInt(16) : interestingInt(r);
                case TENSOR_TYPE -> r.nextInt(4) == 0 ? interestingInt(r) : r.nextInt(45);
                case N_DIMS -> r.nextBoolean() ? r.nextInt(7) : interestingInt(r);
                default -> interestingInt(r);
            };
            writeInt(h, f.pos(), v);
            return new Mutant(h, size, kind + " at " + f.pos() + " set to " + v);
        }
        for (int k = 0; k < f.width(); k++) {
            h[f.pos() + k] = (byte) r.nextInt(256);
        }
        return new Mutant(h, size, kind + " bytes at " + f.pos() + " randomised");
    }

    private static Field pick(Base base, Kind kind, Random r) {
        List<Field> fs = base.fields().getOrDefault(kind, List.of());
        return fs.isEmpty() ? null : fs.get(r.nextInt(fs.size()));
    }

    private static long interestingLong(Random r, long fileSize) {
        long[] values = {0, 1, 7, 31, 33, Integer.MAX_VALUE, 1L << 31, 0xFFFF_FFFFL, 1L << 32, 1L << 40, 1L << 62,
                Long.MAX_VALUE, Long.MIN_VALUE, -1, -2, fileSize, fileSize - 1, fileSize + 1, fileSize / 2};
        return r.nextInt(5) == 0 ? r.nextLong() : values[r.nextInt(values.length)];
    }

    private static int interestingInt(Random r) {
        int[] values = {0, 1, 2, 3, 4, 5, 9, 12, 13, 99, 255, 65535, Integer.MAX_VALUE, Integer.MIN_VALUE, -1};
        return r.nextInt(5) == 0 ? r.nextInt() : values[r.nextInt(values.length)];
    }

    private static long readLong(byte[] h, int p) {
        return ByteBuffer.wrap(h, p, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static void writeLong(byte[] h, int p, long v) {
        ByteBuffer.wrap(h, p, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
    }

    private static void writeInt(byte[] h, int p, int v) {
        ByteBuffer.wrap(h, p, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(v);
    }

    /**
     * Makes {@code file} hold {@code head}, then zeros up to {@code size}. The file is rewritten in
     * place rather than truncated to zero (which makes ext4 flush it on close, 10 ms a mutant); the
     * bytes an earlier, longer mutant left behind are zeroed, so a mutant never depends on the ones
     * before it.
     */
    private static void writeSparse(Path file, byte[] head, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            int written = (int) Math.min(Math.max(head.length, DIRTY_PREFIX), size);
            ByteBuffer b = ByteBuffer.wrap(Arrays.copyOf(head, written));
            long pos = 0;
            while (b.hasRemaining()) {
                pos += ch.write(b, pos);
            }
            if (ch.size() > size) {
                ch.truncate(size);
            } else if (ch.size() < size) {
                ch.write(ByteBuffer.allocate(1), size - 1);
            }
        }
    }

    private Path withAlignment(Path source) {
        Path out = dir.resolve("aligned64.gguf");
        try (GgufFile f = GgufFile.open(source)) {
            GgufMetadata md = f.metadata().toBuilder().putUInt32(GgufMetadata.ALIGNMENT, 64).build();
            GgufWriter.Builder b = GgufWriter.builder().metadata(md);
            for (TensorInfo t : f.tensors()) {
                b.tensor(t.name(), t.type(), t.shape());
            }
            try (GgufWriter w = b.create(out)) {
                for (TensorInfo t : f.tensors()) {
                    w.write(t.name(), f.data(t));
                }
            }
        }
        return out;
    }

    private static Base base(String name, Path path) throws IOException {
        long dataOffset;
        try (GgufFile f = GgufFile.open(path)) {
            dataOffset = f.dataOffset();
        }
        byte[] head;
        try (FileChannel ch = FileChannel.open(path); Arena arena = Arena.ofConfined()) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, dataOffset, arena);
            head = m.toArray(ValueLayout.JAVA_BYTE);
        }
        return new Base(name, head, Files.size(path), new Walker(head).walk());
    }

    /** Records where each field of a valid header lies (the file is known good: no checks). */
    private static final class Walker {
        private final ByteBuffer b;
        private final Map<Kind, List<Field>> fields = new EnumMap<>(Kind.class);

        Walker(byte[] head) {
            b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        }

        Map<Kind, List<Field>> walk() {
            b.position(8);
            add(Kind.COUNT, 8);
            long tensors = b.getLong();
            add(Kind.COUNT, 8);
            long kvs = b.getLong();
            for (long i = 0; i < kvs; i++) {
                String key = string();
                add(Kind.VALUE_TYPE, 4);
                int type = b.getInt();
                if (key.equals(GgufMetadata.ALIGNMENT)) {
                    add(Kind.ALIGNMENT, 4);
                }
                value(type);
            }
            for (long i = 0; i < tensors; i++) {
                string();
                add(Kind.N_DIMS, 4);
                int n = b.getInt();
                for (int d = 0; d < n; d++) {
                    add(Kind.DIM, 8);
                    b.getLong();
                }
                add(Kind.TENSOR_TYPE, 4);
                b.getInt();
                add(Kind.TENSOR_OFFSET, 8);
                b.getLong();
            }
            return fields;
        }

        private void add(Kind kind, int width) {
            fields.computeIfAbsent(kind, k -> new ArrayList<>()).add(new Field(kind, b.position(), width));
        }

        private String string() {
            add(Kind.STRING_LENGTH, 8);
            int len = (int) b.getLong();
            add(Kind.STRING_BYTES, len);
            byte[] s = new byte[len];
            b.get(s);
            return new String(s, StandardCharsets.UTF_8);
        }

        private void value(int type) {
            GgufValueType t = GgufValueType.byId(type).orElseThrow();
            switch (t) {
                case STRING -> string();
                case ARRAY -> {
                    add(Kind.ARRAY_TYPE, 4);
                    int et = b.getInt();
                    add(Kind.ARRAY_COUNT, 8);
                    long n = b.getLong();
                    for (long i = 0; i < n; i++) {
                        value(et);
                    }
                }
                default -> {
                    add(Kind.SCALAR, t.minBytes());
                    b.position(b.position() + t.minBytes());
                }
            }
        }
    }
}
