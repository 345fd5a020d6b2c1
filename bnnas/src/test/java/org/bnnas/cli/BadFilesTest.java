// BadFilesTest: every file bnnas reads, empty, cut short, random or garbled, fed to every command
// that reads it: each gets exit code 2 and one line naming the file, never a stack trace, and the
// file and what the user had beside it stay as they were. Part of the reliability suite.
package org.bnnas.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.bnnas.data.TestFiles;
import org.bnnas.engine.tensor.Rng;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("reliability")
class BadFilesTest {
    @TempDir
    static Path dir;
    static Path data, cifar, supernet, config, table, space, archFile;
    static final String ARCH = "0,-1,1,2,3,-1,-1,4,5,-1,0,1,2,3,4,5,5,4,3,2,1";

    /** A good file of each kind, made once: a supernet run (its checkpoint and config.json), a table, a space, an architecture file. */
    @BeforeAll
    static void goodFiles() throws IOException {
        data = TestFiles.idxDir(Files.createDirectories(dir.resolve("data")), 300, 100);
        cifar = TestFiles.cifarDir(Files.createDirectories(dir.resolve("cifar")), 20);
        Path run = dir.resolve("supernet-run");
        StringWriter err = new StringWriter();
        assertEquals(0, Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err), "train-supernet", "--data-dir", data.toString(),
                "--validation-size", "100", "--epochs", "1", "--batch-size", "100", "--out", run.toString()), err.toString());
        supernet = run.resolve("supernet.safetensors");
        config = run.resolve("config.json");
        table = dir.resolve("table.jsonl");
        Files.copy(Path.of("../docs/ground-truth/bnnas-small-fashion-mnist.jsonl"), table);
        space = dir.resolve("space.json");
        Files.copy(Path.of("src/main/resources/spaces/bnnas-small.json"), space);
        archFile = dir.resolve("arch.json");
        Files.writeString(archFile, "{\"space\": \"bnnas-small\", \"indices\": [" + ARCH + "]}");
    }

    /** The broken forms of a good file: empty, random bytes, and cut short (two thirds and a byte) or, for line files, with a garbled line in the middle. */
    static Map<String, byte[]> broken(Path good, boolean lines) throws IOException {
        byte[] bytes = Files.readAllBytes(good);
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("empty", new byte[0]);
        m.put("random", random(2048));
        if (lines) {
            String[] l = new String(bytes, StandardCharsets.UTF_8).split("\n");
            l[l.length / 2] = l[l.length / 2].substring(0, l[l.length / 2].length() / 2);
            m.put("garbled line", (String.join("\n", l) + "\n").getBytes(StandardCharsets.UTF_8));
        } else {
            m.put("cut short", java.util.Arrays.copyOf(bytes, bytes.length * 2 / 3 + 1));
        }
        return m;
    }

    static byte[] random(int n) {
        Rng rng = new Rng(n);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) rng.nextInt(256);
        return b;
    }

    /**
     * Writes each broken form of {@code good} as a file of its own, runs every command of
     * {@code commands} on it, and checks: exit 2, one line naming the file, the file unchanged.
     */
    static void check(String kind, Path good, boolean lines, List<Function<Path, Object[]>> commands) throws IOException {
        check(kind, good, broken(good, lines), commands);
    }

    static void check(String kind, Path good, Map<String, byte[]> broken, List<Function<Path, Object[]>> commands) throws IOException {
        for (Map.Entry<String, byte[]> e : broken.entrySet()) {
            Path f = Files.createDirectories(dir.resolve(kind + "-" + e.getKey().replace(' ', '-'))).resolve(good.getFileName());
            Files.write(f, e.getValue());
            for (Function<Path, Object[]> command : commands) {
                Object[] args = command.apply(f);
                StringWriter out = new StringWriter(), err = new StringWriter();
                int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), Stream.of(args).map(Object::toString).toArray(String[]::new));
                String what = kind + " " + e.getKey() + ", bnnas " + String.join(" ", Stream.of(args).map(Object::toString).toList()) + ":\n" + err;
                String message = err.toString().lines().filter(l -> !l.startsWith(CommonOptions.DEVICE_NOTE)).collect(Collectors.joining("\n")).strip();
                assertEquals(2, code, what);
                assertFalse(message.contains("\n"), "one line: " + what);
                assertTrue(message.contains(f.getFileName().toString()), "names the file: " + what);
                assertArrayEquals(e.getValue(), Files.readAllBytes(f), "the file is as it was: " + what);
            }
        }
    }

    static Path out(String name) {
        return dir.resolve("out-" + name + "-" + System.nanoTime());
    }

    @Test
    void brokenCheckpoints() throws IOException {
        Path onnx = dir.resolve("kept.onnx");
        Files.writeString(onnx, "the user's model");
        check("checkpoint", supernet, false, List.of(
                f -> new Object[] {"evaluate", "--data-dir", data, "--validation-size", 100, "--checkpoint", f, "--arch=" + ARCH, "--out", out("evaluate")},
                f -> new Object[] {"score", "--checkpoint", f, "--evaluator", "bn", "--arch=" + ARCH, "--out", out("score")},
                f -> new Object[] {"search", "--checkpoint", f, "--population", 4, "--generations", 1, "--out", out("search")},
                f -> new Object[] {"export", "--checkpoint", f, "--arch=" + ARCH, "--out", onnx}));
        assertEquals("the user's model", Files.readString(onnx), "a failed export leaves the file it would have replaced");
    }

    @Test
    void brokenImageFiles() throws IOException {
        for (String name : List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")) {
            Path copy = Files.createDirectories(dir.resolve("idx-" + name));
            for (String f : List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")) {
                if (!f.equals(name)) Files.copy(data.resolve(f), copy.resolve(f));
            }
            for (Map.Entry<String, byte[]> e : broken(data.resolve(name), false).entrySet()) {
                Files.write(copy.resolve(name), e.getValue());
                Path o = out("idx");
                checkOne("IDX " + name + " " + e.getKey(), name, new Object[] {"train-supernet", "--data-dir", copy, "--validation-size", 100, "--epochs", 1,
                        "--out", o});
                assertFalse(Files.exists(o), "no run directory for a run that could not start");
            }
            // a whole gzip stream of a file cut short: the IDX reader, not gzip, has to notice
            Files.write(copy.resolve(name), gzip(java.util.Arrays.copyOf(gunzip(data.resolve(name)), 600)));
            checkOne("IDX " + name + " whole gzip of a short file", name, new Object[] {"train-supernet", "--data-dir", copy, "--validation-size", 100,
                    "--epochs", 1, "--out", out("idx")});
        }
        for (Map.Entry<String, byte[]> e : broken(cifar.resolve("data_batch_3.bin"), false).entrySet()) {
            if (e.getKey().equals("random")) continue; // random bytes of whole records are valid CIFAR records
            Path copy = Files.createDirectories(dir.resolve("cifar-" + e.getKey().replace(' ', '-')));
            try (Stream<Path> s = Files.list(cifar)) {
                for (Path p : s.toList()) Files.copy(p, copy.resolve(p.getFileName()));
            }
            Files.write(copy.resolve("data_batch_3.bin"), e.getValue());
            if (e.getValue().length == 0) continue; // an empty batch file is a data set of fewer images, which the count check below refuses
            checkOne("CIFAR " + e.getKey(), "data_batch_3.bin", new Object[] {"train-supernet", "--data", "cifar10", "--data-dir", copy, "--validation-size",
                    10, "--epochs", 1, "--out", out("cifar")});
        }
    }

    private static void checkOne(String what, String fileName, Object[] args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), Stream.of(args).map(Object::toString).toArray(String[]::new));
        String message = err.toString().lines().filter(l -> !l.startsWith(CommonOptions.DEVICE_NOTE)).collect(Collectors.joining("\n")).strip();
        assertEquals(2, code, what + ": " + err);
        assertFalse(message.contains("\n"), what + ", one line: " + message);
        assertTrue(message.contains(fileName), what + ", names the file: " + message);
    }

    private static byte[] gunzip(Path f) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(Files.newInputStream(f))) {
            return in.readAllBytes();
        }
    }

    private static byte[] gzip(byte[] b) throws IOException {
        java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(b);
        }
        return bos.toByteArray();
    }

    @Test
    void brokenSpacesArchitecturesAndConfigs() throws IOException {
        check("space", space, false, List.of(f -> new Object[] {"info", "--space", f}));
        check("architecture", archFile, false, List.of(f -> new Object[] {"info", "--arch", "@" + f},
                f -> new Object[] {"score", "--evaluator", "flops", "--arch-file", f, "--out", out("score")},
                f -> new Object[] {"retrain", "--data-dir", data, "--validation-size", 100, "--arch", "@" + f, "--out", out("retrain")}));
        check("config", config, false, List.of(f -> new Object[] {"train-supernet", "--config", f, "--out", out("replay")}));
    }

    @Test
    void brokenTablesAndScoreFiles() throws IOException {
        Path kept = dir.resolve("kept-run");
        check("table", table, true, List.of(f -> new Object[] {"rank", "--ground-truth", f},
                f -> new Object[] {"study", "--ground-truth", f, "--out", out("study")},
                f -> new Object[] {"reproduce", "--data-dir", data, "--validation-size", 100, "--ground-truth", f, "--quick", "--out", kept}));
        Map<String, byte[]> broken = broken(table, true);
        broken.remove("empty"); // an empty table is a table of no rows yet, which bench fills
        check("bench-table", table, broken, List.of(f -> new Object[] {"bench", "--data-dir", data, "--validation-size", 100, "--table", f, "--archs", 2,
                "--second-seeds", 0, "--near-limit", 0, "--epochs", 1, "--out", out("bench")}));
        assertFalse(Files.exists(kept.resolve("check.jsonl")), "nothing was trained against a broken table");
        Path scores = dir.resolve("scores.jsonl");
        Files.writeString(scores, Files.readAllLines(table).stream().limit(20).map(l -> {
            var o = com.google.gson.JsonParser.parseString(l).getAsJsonObject();
            return "{\"arch\": \"" + o.get("arch").getAsString() + "\", \"evaluator\": \"x\", \"score\": " + o.get("flops").getAsDouble() + "}";
        }).collect(Collectors.joining("\n")) + "\n");
        check("scores", scores, true, List.of(f -> new Object[] {"rank", "--ground-truth", table, "--epochs", 4, "--scores", f}));
        Path winners = Files.createDirectories(dir.resolve("winners")).resolve("winners.json");
        Files.writeString(winners, "{\"BN-NAS\": \"" + ARCH + "\", \"SPOS\": \"" + ARCH + "\"}");
        check("winners", winners, false, List.of(f -> new Object[] {"study", "--ground-truth", table, "--scores-dir", f.getParent(), "--out", out("study")}));
    }

    @Test
    void brokenLatencyTables() throws IOException {
        Path latency = dir.resolve("latency.json");
        StringBuilder layers = new StringBuilder();
        for (int l = 0; l < 21; l++) {
            layers.append(l == 0 ? "" : ", ").append(List.of(1, 5, 6, 9).contains(l) ? "null"
                    : "{\"k3e3\": 0.1, \"k3e6\": 0.2, \"k5e3\": 0.1, \"k5e6\": 0.2, \"k7e3\": 0.1, \"k7e6\": 0.2}");
        }
        Files.writeString(latency, "{\"space\": \"bnnas-small\", \"device\": \"cpu\", \"threads\": 2, \"batch\": 16, \"input\": [1, 28, 28], "
                + "\"fixed_ms\": 1.0, \"layers\": [" + layers + "]}");
        check("latency", latency, false, List.of(f -> new Object[] {"latency-table", "--device", "cpu", "--table", f, "--check", 1},
                f -> new Object[] {"search", "--evaluator", "params", "--latency-table", f, "--latency-limit", 3, "--population", 4, "--generations", 1,
                        "--out", out("search")}));
    }
}
