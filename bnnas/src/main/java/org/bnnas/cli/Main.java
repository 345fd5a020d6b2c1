// Main: the bnnas command line: run, reproduce, train-supernet, search, score, retrain, evaluate, info, bench, rank, convergence, study,
// export and latency-table, with one-line errors and exit code 2 for bad input.
package org.bnnas.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import org.bnnas.data.DataException;
import org.bnnas.experiment.RunDir;
import org.bnnas.train.TrainingDivergedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Exit codes: 0 success; 2 bad input (an unknown or malformed option, a missing or broken file, a
 * value out of range, a run directory that is taken), reported in one line naming what is wrong;
 * 1 an internal error, reported in one line with the exception's message, its stack trace written
 * to error.log in the run directory (or a temporary file where the command has none yet), or
 * printed with --debug.
 */
@Command(name = "bnnas", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"BN-NAS: neural architecture search with batch normalization, and its baseline SPOS.",
                "--debug, anywhere on the line, prints an internal error's stack trace instead of writing it to a file."},
        subcommands = {RunCommand.class, ReproduceCommand.class, TrainSupernetCommand.class, SearchCommand.class, ScoreCommand.class,
                RetrainCommand.class, EvaluateCommand.class, InfoCommand.class, BenchCommand.class, RankCommand.class, ConvergenceCommand.class,
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

    /** Anywhere among the arguments: an internal error prints its stack trace instead of writing it to a file. */
    static final String DEBUG = "--debug";

    /** Runs the CLI with {@code args} and returns the exit code (tests call this). */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        return execute(new CommandLine(new Main()), out, err, args);
    }

    /** As {@link #execute(PrintWriter, PrintWriter, String...)} with the command line {@code cmd} (bnnas's, with what a test adds to it). */
    static int execute(CommandLine cmd, PrintWriter out, PrintWriter err, String... args) {
        boolean debug = java.util.Arrays.asList(args).contains(DEBUG);
        if (debug) args = java.util.Arrays.stream(args).filter(a -> !a.equals(DEBUG)).toArray(String[]::new);
        cmd.setExpandAtFiles(false); // "--arch @best.json" names an architecture file, not a file of arguments
        String[] expanded;
        try {
            expanded = Replay.expand(args);
        } catch (CliException e) {
            err.println("bnnas " + args[0] + ": " + oneLine(e.getMessage()));
            err.flush();
            return 2;
        }
        cmd.setOverwrittenOptionsAllowed(expanded != args); // in a replay, the options given beside --config override the recorded ones
        cmd.setOut(out);
        cmd.setErr(err);
        cmd.setParameterExceptionHandler((ex, argv) -> {
            CommandLine line = ex.getCommandLine();
            String name = line.getCommandName().equals("bnnas") ? "bnnas" : "bnnas " + line.getCommandName();
            String hint = "";
            if (ex instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()) {
                hint = " (did you mean " + String.join(" or ", u.getSuggestions().stream().limit(3).toList()) + "?)";
            }
            line.getErr().println(name + ": " + oneLine(ex.getMessage()).replaceAll("[.:]$", "") + hint + ". Try '" + name + " --help'.");
            line.getErr().flush();
            return 2;
        });
        cmd.setExecutionExceptionHandler((ex, line, parse) -> {
            String message = userError(ex);
            if (message != null) {
                line.getErr().println("bnnas " + line.getCommandName() + ": " + message);
                line.getErr().flush();
                return 2;
            }
            line.getErr().println("bnnas " + line.getCommandName() + ": internal error: " + ex.getClass().getName() + ": " + oneLine(ex.getMessage())
                    + (debug ? "" : " (" + traceWrittenTo(ex) + ")"));
            if (debug) ex.printStackTrace(line.getErr());
            line.getErr().flush();
            return 1;
        });
        int skippedBefore = org.bnnas.data.ImageFolder.skipped();
        org.bnnas.data.ImageFolder.setLog(line -> {
            synchronized (err) {
                err.println(line);
                err.flush();
            }
        });
        try {
            return cmd.execute(expanded);
        } catch (OutOfMemoryError e) { // picocli passes Errors through; the heap bin/bnnas sets was too small for this run
            err.println("bnnas" + (args.length > 0 ? " " + args[0] : "") + ": out of Java heap memory (" + oneLine(e.getMessage()) + ", at most "
                    + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB): give the JVM more, e.g. BNNAS_JAVA_OPTS=-Xmx4g bin/bnnas ...");
            err.flush();
            return 1;
        } finally {
            RunDir.releaseClaims(); // a process that ends releases them anyway; tests run many commands in one process
            int skipped = org.bnnas.data.ImageFolder.skipped() - skippedBefore;
            if (skipped > 0) {
                err.println("bnnas: " + skipped + " image file" + (skipped == 1 ? "" : "s") + " could not be decoded and " + (skipped == 1 ? "was" : "were")
                        + " skipped (--skip-bad-images)");
                err.flush();
            }
        }
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

    /** Writes the stack trace to error.log in the run directory being written (or to a temporary file) and says where, or why not. */
    private static String traceWrittenTo(Throwable ex) {
        java.io.StringWriter trace = new java.io.StringWriter();
        ex.printStackTrace(new PrintWriter(trace));
        try {
            java.nio.file.Path dir = RunDir.claimedDirectory();
            java.nio.file.Path file = dir != null ? dir.resolve("error.log") : java.nio.file.Files.createTempFile("bnnas-error-", ".log");
            java.nio.file.Files.writeString(file, trace.toString());
            return "the stack trace is in " + file + "; --debug prints it";
        } catch (IOException | RuntimeException e) {
            return "the stack trace could not be written (" + e.getMessage() + "); --debug prints it";
        }
    }

    /** A message on one line, in plain words where a library's own phrasing would puzzle a user. */
    static String oneLine(String s) {
        if (s == null) return "error";
        String t = s.replace('\n', ' ').trim();
        t = t.replaceAll("(?:[a-z0-9_]+\\.)*\\w*(?:Json|EOF)\\w*Exception: ", "");
        t = t.replaceAll("Use JsonReader\\.setStrictness\\(Strictness\\.LENIENT\\) to accept malformed JSON", "malformed JSON");
        t = t.replaceAll("End of input at", "the JSON ends early at");
        t = t.replaceAll(" path [^\\s)]*", "");
        t = t.replaceAll(" ?See https://github\\.com/google/gson/[^\\s)]*", "");
        t = t.replaceAll("Not a JSON Object: null", "empty, not a JSON object");
        t = t.replaceAll("Not a JSON Object: [^)]*", "not a JSON object").replaceAll("Not a JSON Array: [^)]*", "not a JSON array");
        t = t.replaceAll("Input length = \\d+", "not UTF-8 text");
        t = t.replaceAll("Cannot invoke \"[^\"]*\" because the return value of \"com\\.google\\.gson\\.JsonObject\\.get\\(String\\)\" is null",
                "a required field is missing");
        return t;
    }

    public static void main(String[] args) {
        int code;
        try {
            code = execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
        } catch (RuntimeException | Error e) { // outside a command (picocli itself, a class that fails to load): still one line
            System.err.println("bnnas: internal error: " + e.getClass().getName() + ": " + oneLine(e.getMessage()));
            if (java.util.Arrays.asList(args).contains(DEBUG)) e.printStackTrace();
            code = 1;
        }
        System.exit(code);
    }
}
