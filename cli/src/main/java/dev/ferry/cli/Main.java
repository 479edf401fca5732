package dev.ferry.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code ferry} command: one picocli subcommand per job. */
@Command(
        name = "ferry",
        mixinStandardHelpOptions = true,
        version = "ferry 0.1.0",
        description = "Runs Mixture-of-Experts LLMs from GGUF files: experts in NUMA-placed host RAM, the rest on one GPU.",
        subcommands = {CommandLine.HelpCommand.class, RunCommand.class, LogitsCommand.class, TokenizeCommand.class, BenchCommand.class, InspectCommand.class, PcieCommand.class,
                SynthCommand.class})
public final class Main {

    Main() {
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code, without exiting (for tests). */
    public static int execute(String... args) {
        return new CommandLine(new Main())
                .setExecutionExceptionHandler(Main::reportFailure)
                .execute(args);
    }

    /**
     * Bad input (a malformed file, a wrong flag value, a missing model) is reported in one line
     * naming what is wrong; only genuine bugs get a stack trace.
     */
    private static int reportFailure(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        if (e instanceof IllegalArgumentException || e instanceof IllegalStateException
                || e instanceof java.io.UncheckedIOException || e instanceof UnsupportedOperationException
                || e instanceof dev.ferry.loader.GgufFormatException) {
            cmd.getErr().println("ferry " + cmd.getCommandName() + ": " + e.getMessage());
            return 1;
        }
        cmd.getErr().println("ferry " + cmd.getCommandName() + ": internal error: " + e);
        e.printStackTrace(cmd.getErr());
        return 70;
    }
}
