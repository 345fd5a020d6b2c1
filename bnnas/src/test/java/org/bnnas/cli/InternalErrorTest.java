// InternalErrorTest: an exception nobody expected reaches the user as one line with exit code 1:
// what failed and the exception's message, the stack trace written to error.log in the run
// directory (or to a temporary file named in the line, where the command has no directory yet),
// or printed with --debug. Part of the reliability suite.
package org.bnnas.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Tag("reliability")
class InternalErrorTest {
    @TempDir
    Path dir;

    /** A command with a bug: it fails after taking its run directory, or before when --early. */
    @Command(name = "buggy")
    static final class Buggy implements Callable<Integer> {
        @Mixin
        RunDirOption runDir;

        @CommandLine.Option(names = "--early")
        boolean early;

        @CommandLine.Option(names = "--out-of-memory")
        boolean outOfMemory;

        @Override
        public Integer call() {
            if (!early) runDir.create("buggy");
            if (outOfMemory) throw new OutOfMemoryError("Java heap space");
            throw new IllegalStateException("the bug's message");
        }
    }

    record Result(int code, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new CommandLine(new Main()).addSubcommand(new Buggy()), new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, err.toString());
    }

    @Test
    void theTraceGoesToTheRunDirectory() throws Exception {
        Path out = dir.resolve("run");
        Result r = run("buggy", "--out", out.toString());
        assertEquals(1, r.code());
        assertEquals("bnnas buggy: internal error: java.lang.IllegalStateException: the bug's message (the stack trace is in " + out.resolve("error.log")
                + "; --debug prints it)", r.err().strip());
        String trace = Files.readString(out.resolve("error.log"));
        assertTrue(trace.startsWith("java.lang.IllegalStateException: the bug's message") && trace.contains("\tat org.bnnas.cli.InternalErrorTest$Buggy.call"),
                trace);
    }

    @Test
    void withoutARunDirectoryTheTraceGoesToATemporaryFile() throws Exception {
        Result r = run("buggy", "--early");
        assertEquals(1, r.code());
        Matcher m = Pattern.compile("bnnas buggy: internal error: java.lang.IllegalStateException: the bug's message \\(the stack trace is in (\\S+); "
                + "--debug prints it\\)").matcher(r.err().strip());
        assertTrue(m.matches(), r.err());
        Path trace = Path.of(m.group(1));
        assertTrue(Files.readString(trace).contains("IllegalStateException"));
        Files.delete(trace);
    }

    @Test
    void runningOutOfHeapSaysHowToGiveMore() {
        Result r = run("buggy", "--early", "--out-of-memory");
        assertEquals(1, r.code());
        assertTrue(r.err().strip().matches("bnnas buggy: out of Java heap memory \\(Java heap space, at most \\d+ MiB\\): give the JVM more, "
                + "e\\.g\\. BNNAS_JAVA_OPTS=-Xmx4g bin/bnnas \\.\\.\\."), r.err());
    }

    @Test
    void debugPrintsTheTrace() {
        Result r = run("buggy", "--early", "--debug");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("bnnas buggy: internal error: java.lang.IllegalStateException: the bug's message\n"), r.err());
        assertTrue(r.err().contains("\tat org.bnnas.cli.InternalErrorTest$Buggy.call"), r.err());
    }
}
