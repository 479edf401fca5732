package dev.ferry.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code ferry} command: one picocli subcommand per job. */
@Command(
        name = "ferry",
        mixinStandardHelpOptions = true,
        version = "ferry 0.1.0",
        description = "Runs Mixture-of-Experts LLMs from GGUF files: experts in NUMA-placed host RAM, the rest on one GPU.",
        subcommands = {CommandLine.HelpCommand.class})
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code, without exiting (for tests). */
    public static int execute(String... args) {
        return new CommandLine(new Main()).execute(args);
    }
}
