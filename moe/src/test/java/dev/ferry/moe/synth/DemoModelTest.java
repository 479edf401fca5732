package dev.ferry.moe.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoModelTest {

    @TempDir
    Path cache;

    @Test
    void demoIsGeneratedOnceThenReused() throws IOException {
        DemoModel.Located first = DemoModel.ensure(cache);
        assertTrue(first.generated());
        assertEquals(cache.resolve(DemoModel.FILE_NAME), first.path());
        assertTrue(DemoModel.isCurrent(first.path()));
        FileTime written = Files.getLastModifiedTime(first.path());
        DemoModel.Located second = DemoModel.ensure(cache);
        assertFalse(second.generated());
        assertEquals(written, Files.getLastModifiedTime(second.path()));
        try (Stream<Path> files = Files.list(cache)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
        ModelSynthesizerTest.assertFiniteAndVaried(ModelSynthesizerTest.lastLogits(second.path(), new int[] {1, 2, 3}));
    }

    @Test
    void aStaleOrBrokenCachedFileIsReplaced() throws IOException {
        Path target = cache.resolve(DemoModel.FILE_NAME);
        new ModelSynthesizer(DemoModel.PRESET.spec(), DemoModel.TYPE, DemoModel.SEED + 1)
                .write(target, 1, SynthProgress.NONE);
        assertFalse(DemoModel.isCurrent(target), "another seed is another demo");
        assertTrue(DemoModel.ensure(cache).generated());
        assertTrue(DemoModel.isCurrent(target));
        Files.write(target, new byte[] {'G', 'G', 'U', 'F', 3, 0});
        assertFalse(DemoModel.isCurrent(target));
        assertTrue(DemoModel.ensure(cache).generated());
        assertTrue(DemoModel.isCurrent(target));
    }

    @Test
    void cacheFolderFollowsFerryCacheThenXdgThenHome() {
        assertEquals(Path.of("/data/f"), DemoModel.cacheDirectory(Map.of("FERRY_CACHE", "/data/f", "XDG_CACHE_HOME", "/x"), "/home/u"));
        assertEquals(Path.of("/x/ferry"), DemoModel.cacheDirectory(Map.of("FERRY_CACHE", "", "XDG_CACHE_HOME", "/x"), "/home/u"));
        assertEquals(Path.of("/home/u/.cache/ferry"), DemoModel.cacheDirectory(Map.of(), "/home/u"));
        assertThrows(IllegalStateException.class, () -> DemoModel.cacheDirectory(Map.of(), ""));
    }
}
