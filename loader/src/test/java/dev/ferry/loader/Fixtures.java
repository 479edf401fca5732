package dev.ferry.loader;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;

/** The llama.cpp-written GGUF fixtures on the test classpath. */
final class Fixtures {

    static final List<String> MODELS = List.of(
            "tiny-qwen3moe-F32.gguf",
            "tiny-qwen3moe-Q8_0.gguf",
            "tiny-qwen3moe-Q4_0.gguf",
            "tiny-qwen3-F32.gguf",
            "tiny-qwen3-Q8_0.gguf",
            "small-qwen3moe-k-Q4_K_M.gguf",
            "small-qwen3moe-k-Q6_K.gguf");

    private Fixtures() {
    }

    static Path model(String name) {
        URL url = Fixtures.class.getResource("/fixtures/models/" + name);
        if (url == null) {
            throw new IllegalStateException("fixture " + name + " is not on the test classpath");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
