// RunDirectorySafetyTest: a run directory never loses a run. A second run into a finished --out is
// refused and leaves it byte for byte as it was; --overwrite replaces it and --resume continues
// it; a directory of other files is never touched; a second process on a directory in use exits
// naming the holder's PID; kill -9 leaves no stale lock, and --resume then ends bit-identical to
// an uninterrupted run; several processes appending to one table neither interleave nor repeat a
// row. Part of the reliability suite (tag "reliability"), with real processes where it matters.
package org.bnnas.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bnnas.data.TestFiles;
import org.bnnas.experiment.RunDir;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("reliability")
class RunDirectorySafetyTest {
    @TempDir
    static Path dir;
    static Path data;

    record Result(int code, String out, String err) {}

    static Result bnnas(Object... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), Stream.of(args).map(Object::toString).toArray(String[]::new));
        return new Result(code, out.toString(), err.toString());
    }

    /** `bnnas ARGS` in a JVM of its own, as a second terminal would start it; its output goes to {@code log}. */
    static Process start(Path log, Object... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules",
                "jdk.incubator.vector", "-Dbnnas.threads=1", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        for (Object a : args) cmd.add(a.toString());
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** 1,100 training images (100 held out for validation) and 100 test images. */
    @BeforeAll
    static void data() throws IOException {
        data = TestFiles.idxDir(Files.createDirectories(dir.resolve("data")), 1100, 100);
    }

    static Object[] train(Path out, int epochs, Object... more) {
        List<Object> a = new ArrayList<>(List.of("train-supernet", "--data-dir", data, "--validation-size", 100, "--mode", "full", "--epochs", epochs,
                "--batch-size", 50, "--threads", 1, "--out", out));
        a.addAll(List.of(more));
        return a.toArray();
    }

    /** Every file of a directory but its lock file, by name, with its bytes. */
    static Map<String, String> contents(Path d) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        try (Stream<Path> s = Files.walk(d)) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                if (!p.getFileName().toString().equals(RunDir.LOCK_FILE)) m.put(d.relativize(p).toString(), java.util.Base64.getEncoder().encodeToString(Files.readAllBytes(p)));
            }
        }
        return m;
    }

    static void assertOneLine(Result r, int code, String expected) {
        assertEquals(code, r.code(), r.out() + r.err());
        String err = r.err().lines().filter(l -> !l.startsWith(CommonOptions.DEVICE_NOTE)).collect(Collectors.joining("\n")).strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.contains(expected), err);
    }

    @Test
    void aSecondRunIntoAFinishedRunIsRefusedAndLeavesItAsItWas() throws IOException {
        Path out = dir.resolve("finished");
        assertEquals(0, bnnas(train(out, 1)).code());
        Map<String, String> before = contents(out);
        assertOneLine(bnnas(train(out, 1)), 2, "--out " + out + " holds a run already: --resume continues it, --overwrite replaces it");
        assertEquals(before, contents(out), "nothing the first run wrote has changed");
        assertOneLine(bnnas(train(out, 1, "--resume", "--overwrite")), 2, "--resume and --overwrite: choose one");
        assertOneLine(bnnas("search", "--checkpoint", out.resolve("supernet.safetensors"), "--population", 4, "--generations", 1, "--out", out), 2,
                "holds a run already: --overwrite replaces it (search does not continue a run)");
        assertEquals(before, contents(out));

        Result again = bnnas(train(out, 1, "--overwrite"));
        assertEquals(0, again.code(), again.err());
        long epochLines = Files.readAllLines(out.resolve("metrics.jsonl")).stream().filter(l -> l.contains("\"epoch\"")).count();
        assertEquals(1, epochLines, "the replaced run's metrics are gone, not appended to");
        Map<String, String> replaced = contents(out);
        Result resumed = bnnas(train(out, 1, "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(replaced.get("supernet.safetensors"), contents(out).get("supernet.safetensors"), "a finished run resumed has nothing left to train");
    }

    @Test
    void aDirectoryOfOtherFilesIsNeverTouched() throws IOException {
        Path mine = Files.createDirectories(dir.resolve("my-notes"));
        Files.writeString(mine.resolve("notes.txt"), "mine");
        for (Object[] args : List.of(train(mine, 1), train(mine, 1, "--overwrite"))) {
            assertOneLine(bnnas(args), 2, "--out " + mine + " is not empty and holds no bnnas run (no config.json)");
        }
        assertEquals(Set.of("notes.txt"), contents(mine).keySet());
        assertEquals("mine", Files.readString(mine.resolve("notes.txt")));
    }

    /**
     * A second process on a directory in use exits naming the first's PID; killing the first with
     * SIGKILL leaves no stale lock, and --resume then finishes bit for bit as a run never killed.
     */
    @Test
    void aDirectoryInUseIsRefusedAndKillNineThenResumeMatchesAnUninterruptedRun() throws Exception {
        Path whole = dir.resolve("uninterrupted"), killed = dir.resolve("killed");
        assertEquals(0, bnnas(train(whole, 6)).code());
        Process first = start(dir.resolve("killed.log"), train(killed, 6));
        try {
            Path state = killed.resolve("supernet.state.safetensors");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.exists(state) && first.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
            assertTrue(first.isAlive(), "the first run is still training after its first epoch: " + Files.readString(dir.resolve("killed.log")));
            assertOneLine(bnnas(train(killed, 6, "--resume")), 2, killed + " is in use by another bnnas run (PID " + first.pid() + ")");
            first.destroyForcibly(); // SIGKILL: no shutdown hook, no finally block
            assertTrue(first.waitFor(30, TimeUnit.SECONDS));
        } finally {
            first.destroyForcibly();
        }
        Result resumed = bnnas(train(killed, 6, "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        for (String f : List.of("supernet.safetensors", "supernet.state.safetensors")) {
            assertArrayEquals(Files.readAllBytes(whole.resolve(f)), Files.readAllBytes(killed.resolve(f)), f + " as if never killed");
        }
    }

    /** Three processes train the same four rows into one table: it ends with each row once, every line whole. */
    @Test
    void processesAppendingToOneTableNeitherInterleaveNorRepeatARow() throws Exception {
        Path table = dir.resolve("shared-table.jsonl");
        List<Process> processes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            processes.add(start(dir.resolve("bench-" + i + ".log"), "bench", "--data-dir", data, "--validation-size", 1000, "--table", table,
                    "--arch", "0,-1,1,2,3,-1,-1,4,5,-1,0,1,2,3,4,5,5,4,3,2,1", "--arch", "5,-1,5,2,1,-1,-1,3,1,-1,3,3,4,2,5,5,3,0,5,2,3",
                    "--seeds", "0,1", "--epochs", 1, "--batch-size", 100, "--out", dir.resolve("bench-" + i)));
        }
        for (Process p : processes) {
            assertTrue(p.waitFor(300, TimeUnit.SECONDS), "bench finished");
            assertEquals(0, p.exitValue());
        }
        List<String> lines = Files.readAllLines(table);
        Set<String> keys = new HashSet<>();
        for (String line : lines) {
            var o = JsonParser.parseString(line).getAsJsonObject();
            keys.add(o.get("arch").getAsString() + "@" + o.get("seed").getAsLong());
        }
        assertEquals(4, lines.size(), String.join("\n", lines));
        assertEquals(4, keys.size());
    }
}
