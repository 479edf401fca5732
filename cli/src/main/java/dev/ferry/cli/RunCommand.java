package dev.ferry.cli;

import dev.ferry.moe.model.InferenceSession;
import dev.ferry.moe.model.ModelConfig;
import dev.ferry.moe.runtime.GenerationStats;
import dev.ferry.moe.runtime.Generator;
import dev.ferry.moe.runtime.InferenceEngine;
import dev.ferry.moe.runtime.LoadedModel;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ferry run}: generates text from a prompt, streaming it to stdout, with llama.cpp-style
 * timings on stderr. Without {@code -m} it runs the built-in demo model.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Generate text from a prompt (without -m: the built-in demo model, random weights).")
public final class RunCommand implements Callable<Integer> {

    static final String DEFAULT_PROMPT = "The river carried the ferry";

    @Mixin
    ModelOptions model;

    @Mixin
    GpuOptions gpu;

    @Mixin
    SamplingOptions sampling;

    @Option(names = {"-p", "--prompt"}, description = "Prompt text (default: \"" + DEFAULT_PROMPT + "\").")
    String prompt;

    @Option(names = {"-f", "--file"}, description = "Read the prompt from a file.")
    Path promptFile;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "128",
            description = "Tokens to generate; -1 = until end of generation or a full context (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--chat", description = "Wrap the prompt in the model's chat template as a user message.")
    boolean chat;

    @Option(names = {"-sys", "--system-prompt"}, description = "System message for --chat.")
    String systemPrompt;

    @Option(names = "--no-warmup", description = "Skip compiling the kernels on a few rows before the prompt (the first tokens run slower, and so may the rest).")
    boolean noWarmup;

    @Option(names = {"-v", "--verbose"}, description = "Print the model's configuration before running.")
    boolean verbose;

    @Override
    public Integer call() {
        PrintStream err = System.err;
        String text = promptText();
        try (LoadedModel loaded = model.loadOrDemo(err);
             InferenceEngine engine = model.engine(gpu);
             InferenceSession session = engine.newSession(loaded);
             Generator generator = new Generator(session, loaded.tokenizer(), sampling.params())) {
            ModelConfig c = loaded.config();
            if (verbose) {
                err.println("ferry: " + c);
            }
            if (systemPrompt != null && !chat) {
                throw new IllegalArgumentException("-sys: a system prompt needs --chat");
            }
            ChatPrompts conversation = chat ? ChatPrompts.of(loaded, systemPrompt, text, err) : null;
            String input = chat ? conversation.text() : text;
            int[] ids = chat ? conversation.ids() : Prompts.tokenize(loaded, input);
            err.printf("ferry: %s, %d layers, %d threads, context %d, seed %d%n", c.architecture(), c.layerCount(),
                    engine.threads(), session.contextLength(), generator.seed());
            if (!noWarmup) {
                var warmUp = session.warmUp();
                err.println("ferry: " + warmUp.summary());
                if (verbose) {
                    warmUp.steps().forEach(s -> err.println("ferry:   " + s));
                }
            }
            PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            out.print(input);
            out.flush();
            GenerationStats stats = generator.generate(ids, maxTokens, s -> {
                out.print(s);
                out.flush();
            });
            out.println();
            printTimings(err, loaded.loadMillis(), stats);
            engine.deviceRuntime().ifPresent(d -> HybridReport.print(err, d));
        }
        return 0;
    }

    private String promptText() {
        if (prompt != null && promptFile != null) {
            throw new IllegalArgumentException("-p and -f: give the prompt one way, not both");
        }
        if (promptFile != null) {
            try {
                return Files.readString(promptFile, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("-f: cannot read " + promptFile + ": " + e.getMessage(), e);
            }
        }
        return prompt != null ? prompt : DEFAULT_PROMPT;
    }

    static void printTimings(PrintStream err, double loadMillis, GenerationStats s) {
        err.printf("ferry:        load time = %10.2f ms%n", loadMillis);
        err.printf("ferry: prompt eval time = %10.2f ms / %5d tokens (%8.2f ms per token, %8.2f tokens per second)%n",
                s.promptMillis(), s.promptTokens(), s.promptMillis() / s.promptTokens(), s.promptTokensPerSecond());
        int runs = Math.max(s.generatedTokens(), 1);
        err.printf("ferry:        eval time = %10.2f ms / %5d runs   (%8.2f ms per token, %8.2f tokens per second)%n",
                s.generationMillis(), s.generatedTokens(), s.generationMillis() / runs, s.generationTokensPerSecond());
        err.printf("ferry:       total time = %10.2f ms / %5d tokens%n", loadMillis + s.promptMillis() + s.generationMillis(),
                s.promptTokens() + s.generatedTokens());
    }
}
