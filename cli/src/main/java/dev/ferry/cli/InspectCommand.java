package dev.ferry.cli;

import dev.ferry.loader.GgufFile;
import dev.ferry.loader.GgufFormatException;
import dev.ferry.loader.ModelSummary;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ferry inspect FILE}: architecture, hyper-parameters, tokenizer, tensor table and totals of
 * a GGUF model, read from its header only (instant on a file of any size). A file that is not
 * valid GGUF gives one line on stderr naming the file and the problem, and exit code 1.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a GGUF model's architecture, hyper-parameters, tokenizer, tensors and totals "
                + "(reads the header only).")
public final class InspectCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "GGUF model file.")
    Path file;

    @Option(names = "--json", description = "Write the summary as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        ModelSummary summary;
        try (GgufFile gguf = GgufFile.open(file)) {
            summary = ModelSummary.of(gguf);
        } catch (GgufFormatException | UncheckedIOException e) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("ferry inspect: " + oneLine(e.getMessage()));
            err.flush();
            return 1;
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(InspectJson.render(summary));
        } else {
            out.print(InspectText.render(summary));
        }
        out.flush();
        return 0;
    }

    private static String oneLine(String message) {
        return message.replace("\r", "\\r").replace("\n", "\\n");
    }
}
