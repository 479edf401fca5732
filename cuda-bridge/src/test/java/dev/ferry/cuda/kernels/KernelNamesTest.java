package dev.ferry.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class KernelNamesTest {

    private static final Path SOURCE = Path.of("../native/src/main/cuda/ferry_kernels.cu");

    /** The kernels the source defines: plain {@code __global__} functions and each quant type's macro pair. */
    private static Set<String> globalsInSource() throws IOException {
        String source = Files.readString(SOURCE);
        Set<String> names = new TreeSet<>();
        Matcher plain = Pattern.compile("__global__\\s+void\\s+(ferry_\\w+)\\s*\\(").matcher(source);
        while (plain.find()) {
            names.add(plain.group(1));
        }
        Matcher quant = Pattern.compile("(?m)^FERRY_QUANT_KERNELS\\((\\w+),").matcher(source);
        while (quant.find()) {
            names.add("ferry_dequant_" + quant.group(1) + "_f16");
            names.add("ferry_matvec_" + quant.group(1) + "_f32");
        }
        return names;
    }

    /** The CUDA backend looks its kernels up by these names: one left out is "not available" on a GPU only. */
    @Test
    void everyKernelOfTheCudaSourceIsListedAndNoOtherName() throws IOException {
        Set<String> source = globalsInSource();
        assertEquals(35, source.size(), "kernels defined in " + SOURCE);
        assertEquals(source, new TreeSet<>(KernelNames.all()));
        assertEquals(KernelNames.all().size(), Set.copyOf(KernelNames.all()).size(), "no name twice");
    }

    @Test
    void everyListedKernelHasACpuTwin() {
        assertEquals(new TreeSet<>(KernelNames.all()), new TreeSet<>(KernelRegistry.withStandardTwins().names()));
    }
}
