package dev.ferry.cli;

import dev.ferry.loader.GgufFile;
import dev.ferry.loader.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry tokenize}: prints the token ids of a text as a JSON list. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids of TEXT as a JSON list, as the model's tokenizer produces them.")
public final class TokenizeCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, description = "GGUF model file.")
    Path model;

    @Option(names = "--no-parse-special", description = "Tokenize special-token text as plain text.")
    boolean noParseSpecial;

    @Option(names = "--no-bos", description = "Never add the BOS token, whatever the model asks.")
    boolean noBos;

    @Parameters(index = "0", paramLabel = "TEXT", description = "Text to tokenize.")
    String text;

    @Override
    public Integer call() {
        try (GgufFile file = GgufFile.open(model)) {
            Tokenizer tokenizer = Tokenizer.fromGguf(file.metadata());
            int[] ids = tokenizer.encode(text, !noBos, !noParseSpecial);
            System.out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(", ", "[", "]")));
        }
        return 0;
    }
}
