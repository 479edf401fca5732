package dev.ferry.moe.model;

import dev.ferry.loader.GgufFile;
import java.util.List;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/** Finds the {@link Architecture} for a GGUF file among those registered as services. */
public final class Architectures {

    private Architectures() {
    }

    public static List<Architecture> all() {
        return ServiceLoader.load(Architecture.class, Architectures.class.getClassLoader()).stream()
                .map(ServiceLoader.Provider::get)
                .toList();
    }

    public static Architecture forName(String name) {
        List<Architecture> all = all();
        return all.stream().filter(a -> a.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("architecture '" + name + "' is not supported (supported: "
                        + all.stream().map(Architecture::name).sorted().collect(Collectors.joining(", ")) + ")"));
    }

    /** The architecture of {@code file}, from its {@code general.architecture}. */
    public static Architecture of(GgufFile file) {
        String name = file.metadata().getString("general.architecture");
        try {
            return forName(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file.path() + ": " + e.getMessage(), e);
        }
    }
}
