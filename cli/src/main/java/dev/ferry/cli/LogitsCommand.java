package dev.ferry.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.ferry.moe.model.InferenceSession;
import dev.ferry.moe.runtime.InferenceEngine;
import dev.ferry.moe.runtime.LoadedModel;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ferry logits}: evaluates a prompt as one batch and writes, per position, the top-K
 * {@code [id, logit]} pairs and the last position's full logits, in the {@code ferry-logits-v1}
 * format that {@code fixtures/tools/compare_logits.py} reads.
 */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Evaluate a prompt in one batch and write per-position top-K logits (ferry-logits-v1 JSON).")
public final class LogitsCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Mixin
    GpuOptions gpu;

    static final class Prompt {
        @Option(names = "--prompt-ids", split = ",", description = "Comma-separated token ids.")
        int[] ids;

        @Option(names = {"-p", "--prompt"}, description = "Prompt text (tokenized with the model's tokenizer).")
        String text;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    @Option(names = "--top-k", defaultValue = "20", description = "Pairs per position (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--json", description = "Write JSON (the only format; accepted for llama.cpp-style scripts).")
    boolean json;

    @Option(names = {"-o", "--output"}, description = "Output file (default: stdout).")
    Path output;

    @Override
    public Integer call() {
        if (topK < 1) {
            throw new IllegalArgumentException("--top-k must be at least 1, got " + topK);
        }
        try (LoadedModel loaded = model.load();
             InferenceEngine engine = model.engine(gpu);
             InferenceSession session = engine.newSession(loaded);
             Arena arena = Arena.ofShared()) {
            int[] ids = prompt.ids != null ? prompt.ids : Prompts.tokenize(loaded, prompt.text);
            if (ids.length == 0) {
                throw new IllegalArgumentException("the prompt is empty");
            }
            int vocab = loaded.config().vocabSize();
            MemorySegment logits = arena.allocate((long) ids.length * vocab * Float.BYTES, 64);
            session.evaluate(ids, 0, ids.length, true, logits);
            write(ids, vocab, logits);
        }
        return 0;
    }

    private void write(int[] ids, int vocab, MemorySegment logits) {
        try (OutputStream out = output == null ? new NonClosingStream(System.out) : Files.newOutputStream(output);
             JsonGenerator g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
            g.writeStartObject();
            g.writeStringField("format", "ferry-logits-v1");
            g.writeArrayFieldStart("prompt_ids");
            for (int id : ids) {
                g.writeNumber(id);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("top_k");
            int k = Math.min(topK, vocab);
            for (int p = 0; p < ids.length; p++) {
                float[] row = logits.asSlice((long) p * vocab * Float.BYTES, (long) vocab * Float.BYTES)
                        .toArray(ValueLayout.JAVA_FLOAT);
                g.writeStartArray();
                for (int id : TopK.indices(row, k)) {
                    g.writeStartArray();
                    g.writeNumber(id);
                    g.writeNumber(row[id]);
                    g.writeEndArray();
                }
                g.writeEndArray();
            }
            g.writeEndArray();
            g.writeArrayFieldStart("last_logits");
            float[] last = logits.asSlice((long) (ids.length - 1) * vocab * Float.BYTES, (long) vocab * Float.BYTES)
                    .toArray(ValueLayout.JAVA_FLOAT);
            for (float f : last) {
                g.writeNumber(f);
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeRaw('\n');
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + (output == null ? "stdout" : output) + ": " + e.getMessage(), e);
        }
    }
}
