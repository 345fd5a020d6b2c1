// Main: the bnnas command line: run, reproduce, train-supernet, search, score, retrain, evaluate, info, bench, rank, study, export and
// latency-table, with one-line errors and exit code 2 for bad input.
package org.bnnas.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import org.bnnas.data.DataException;
import org.bnnas.train.TrainingDivergedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Exit codes: 0 success; 2 bad input (an unknown or malformed option, a missing or broken file, a
 * value out of range), reported in one line naming what is wrong; 1 an internal error, with its
 * stack trace.
 */
@Command(name = "bnnas", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "BN-NAS: neural architecture search with batch normalization, and its baseline SPOS.",
        subcommands = {RunCommand.class, ReproduceCommand.class, TrainSupernetCommand.class, SearchCommand.class, ScoreCommand.class,
                RetrainCommand.class, EvaluateCommand.class, InfoCommand.class, BenchCommand.class, RankCommand.class,
                StudyCommand.class, ExportCommand.class, LatencyTableCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    /** The commit this build was made from, as the launcher passes it (-Dbnnas.commit), or "unknown". */
    static String commit() {
        return System.getProperty("bnnas.commit", "unknown");
    }

    /** The version of this build, from the jar's manifest ("dev" when run from classes). */
    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"bnnas " + version() + " (Java " + Runtime.version() + ")"};
        }
    }

    /** Runs the CLI with {@code args} and returns the exit code (tests call this). */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cmd = new CommandLine(new Main());
        cmd.setExpandAtFiles(false); // "--arch @best.json" names an architecture file, not a file of arguments
        String[] expanded;
        try {
            expanded = Replay.expand(args);
        } catch (CliException e) {
            err.println("bnnas " + args[0] + ": " + e.getMessage());
            err.flush();
            return 2;
        }
        cmd.setOverwrittenOptionsAllowed(expanded != args); // in a replay, the options given beside --config override the recorded ones
        cmd.setOut(out);
        cmd.setErr(err);
        cmd.setExecutionExceptionHandler((ex, line, parse) -> {
            String message = userError(ex);
            if (message == null) throw ex;
            line.getErr().println("bnnas " + line.getCommandName() + ": " + message);
            line.getErr().flush();
            return 2;
        });
        return cmd.execute(expanded);
    }

    /** The one-line message of a user error, or null for an internal error. */
    static String userError(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof CliException || t instanceof DataException || t instanceof TrainingDivergedException || t instanceof IOException) {
                return oneLine(t.getMessage());
            }
            if (t instanceof UncheckedIOException u) return oneLine(u.getCause().getMessage());
        }
        if (ex instanceof IllegalArgumentException) return oneLine(ex.getMessage());
        return null;
    }

    private static String oneLine(String s) {
        return s == null ? "error" : s.replace('\n', ' ').trim();
    }

    public static void main(String[] args) {
        int code = execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
        System.exit(code);
    }
}
