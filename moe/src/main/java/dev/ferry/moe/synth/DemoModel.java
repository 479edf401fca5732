package dev.ferry.moe.synth;

import dev.ferry.loader.GgufFile;
import dev.ferry.loader.GgufFormatException;
import dev.ferry.loader.GgufMetadata;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The built-in demo model {@code ferry run} uses without {@code -m}: the {@code tiny-qwen3moe}
 * preset in Q8_0 with a fixed seed, generated on first use into the cache folder
 * ({@code $FERRY_CACHE}, else {@code $XDG_CACHE_HOME/ferry}, else {@code ~/.cache/ferry}) and
 * reused afterwards. A cached file whose stamp (synthesizer version, preset, type, seed) differs
 * from this build's, or that does not parse, is generated again. Generation writes a temporary
 * file and moves it into place, so a concurrent or interrupted run never sees a partial model.
 */
public final class DemoModel {

    public static final SynthPreset PRESET = SynthPreset.TINY_QWEN3MOE;
    public static final SynthType TYPE = SynthType.Q8_0;
    public static final long SEED = 20260101L;
    public static final String FILE_NAME = "demo-" + PRESET.name() + "-" + TYPE.name() + ".gguf";

    /** Where the demo model is and whether this call had to generate it. */
    public record Located(Path path, boolean generated) {
    }

    private DemoModel() {
    }

    /** The demo model in the default cache folder, generated there first if needed. */
    public static Path path() {
        return ensure(cacheDirectory(System.getenv(), System.getProperty("user.home"))).path();
    }

    /** The demo model in {@code cacheDirectory}, generated there first if needed. */
    public static Path path(Path cacheDirectory) {
        return ensure(cacheDirectory).path();
    }

    /** Finds or generates the demo model in {@code cacheDirectory}. */
    public static Located ensure(Path cacheDirectory) {
        Path target = cacheDirectory.resolve(FILE_NAME);
        if (isCurrent(target)) {
            return new Located(target, false);
        }
        try {
            Files.createDirectories(cacheDirectory);
        } catch (IOException e) {
            throw new UncheckedIOException(cacheDirectory + ": cannot create the cache folder for the demo model ("
                    + e.getMessage() + "); set FERRY_CACHE to a writable folder", e);
        }
        Path temp;
        try {
            temp = Files.createTempFile(cacheDirectory, FILE_NAME + ".", ".tmp");
        } catch (IOException e) {
            throw new UncheckedIOException(cacheDirectory + ": cannot write the demo model (" + e.getMessage()
                    + "); set FERRY_CACHE to a writable folder", e);
        }
        try {
            int threads = Math.min(4, Runtime.getRuntime().availableProcessors());
            new ModelSynthesizer(PRESET.spec(), TYPE, SEED).write(temp, threads, SynthProgress.NONE);
            makeReadable(temp);
            moveIntoPlace(temp, target);
        } finally {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                // A leftover temporary file is harmless; the model itself is in place or the error propagates.
            }
        }
        return new Located(target, true);
    }

    /** Temporary files are created owner-only; the cached model is an ordinary readable file. */
    private static void makeReadable(Path file) {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException | IOException e) {
            // Owner-only access still works for the user who generated it.
        }
    }

    private static void moveIntoPlace(Path temp, Path target) {
        try {
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot move the generated demo model into place: "
                    + e.getMessage(), e);
        }
    }

    /** True when {@code file} exists, parses, and carries this build's demo stamp. */
    public static boolean isCurrent(Path file) {
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try (GgufFile gguf = GgufFile.open(file)) {
            GgufMetadata md = gguf.metadata();
            return md.getLong(ModelSynthesizer.KEY_VERSION, -1) == ModelSynthesizer.FORMAT_VERSION
                    && md.getString("general.name", "").equals(PRESET.name())
                    && md.getString(ModelSynthesizer.KEY_TYPE, "").equals(TYPE.name())
                    && md.getLong(ModelSynthesizer.KEY_SEED, -1) == SEED;
        } catch (GgufFormatException | UncheckedIOException | IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The cache folder: {@code $FERRY_CACHE}, else {@code $XDG_CACHE_HOME/ferry}, else
     * {@code <home>/.cache/ferry}; empty variables count as unset.
     */
    public static Path cacheDirectory(Map<String, String> env, String userHome) {
        String ferry = env.get("FERRY_CACHE");
        if (ferry != null && !ferry.isBlank()) {
            return Path.of(ferry);
        }
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "ferry");
        }
        if (userHome == null || userHome.isBlank()) {
            throw new IllegalStateException("no cache folder for the demo model: set FERRY_CACHE or HOME");
        }
        return Path.of(userHome, ".cache", "ferry");
    }
}
