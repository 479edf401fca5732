package dev.ferry.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs {@code ferry inspect} in-process and captures its exit code, stdout and stderr. */
record InspectRun(int exitCode, String out, String err) {

    static InspectRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new InspectCommand());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new InspectRun(code, out.toString(), err.toString());
    }
}
