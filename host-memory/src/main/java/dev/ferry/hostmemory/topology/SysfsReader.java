package dev.ferry.hostmemory.topology;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Read access to the kernel's pseudo files ({@code /sys}, {@code /proc}) by path relative to a
 * root, so tests can hand {@link Topology} a fake tree.
 */
public interface SysfsReader {

    /** The trimmed content of the file at {@code path} (e.g. {@code sys/devices/system/cpu/online}), or empty when absent or unreadable. */
    Optional<String> read(String path);

    /** Names of the entries of the directory at {@code path}, sorted; empty when it does not exist. */
    List<String> list(String path);

    boolean exists(String path);

    /** A human name for where the files come from, used in messages. */
    String root();

    /** The running system: the real {@code /}. */
    static SysfsReader system() {
        return ofRoot(Path.of("/"));
    }

    /** Files under {@code root}, laid out like the real {@code /} ({@code root/sys/...}, {@code root/proc/...}). */
    static SysfsReader ofRoot(Path root) {
        return new FileSysfsReader(root);
    }

    /** Reads files below a root directory. */
    record FileSysfsReader(Path rootPath) implements SysfsReader {

        @Override
        public Optional<String> read(String path) {
            Path p = rootPath.resolve(path);
            try {
                return Optional.of(Files.readString(p).strip());
            } catch (NoSuchFileException e) {
                return Optional.empty();
            } catch (IOException | SecurityException e) {
                // Some sysfs attributes exist but refuse reads (permissions, unsupported by the driver).
                return Optional.empty();
            }
        }

        @Override
        public List<String> list(String path) {
            Path dir = rootPath.resolve(path);
            if (!Files.isDirectory(dir)) {
                return List.of();
            }
            try (Stream<Path> entries = Files.list(dir)) {
                return entries.map(e -> e.getFileName().toString()).sorted().toList();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + dir, e);
            }
        }

        @Override
        public boolean exists(String path) {
            return Files.exists(rootPath.resolve(path));
        }

        @Override
        public String root() {
            return rootPath.toString();
        }
    }
}
