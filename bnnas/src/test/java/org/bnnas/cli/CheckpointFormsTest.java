// CheckpointFormsTest: every command that takes --checkpoint (score, search, evaluate, export) on
// the four forms a user brings: a supernet and a standalone network, each written by bnnas and by
// PyTorch (the official names, no metadata). What the file says is taken from it; what it cannot
// say comes from --space and --arch, and a missing --arch is one line, never a stack trace. Part
// of the reliability suite.
package org.bnnas.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bnnas.data.TestFiles;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.OfficialNet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("reliability")
class CheckpointFormsTest {
    @TempDir
    static Path dir;
    static Path data, oursSupernet, oursStandalone, theirsSupernet, theirsStandalone;
    static final String ARCH = "0,-1,1,2,3,-1,-1,4,5,-1,0,1,2,3,4,5,5,4,3,2,1";

    record Result(int code, String out, String err) {}

    static Result bnnas(Object... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), Stream.of(args).map(Object::toString).toArray(String[]::new));
        return new Result(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void theFourForms() throws Exception {
        data = TestFiles.idxDir(Files.createDirectories(dir.resolve("data")), 300, 100);
        Result s = bnnas("train-supernet", "--data-dir", data, "--validation-size", 100, "--epochs", 1, "--batch-size", 100, "--out", dir.resolve("sn"));
        assertEquals(0, s.code(), s.err());
        Result r = bnnas("retrain", "--data-dir", data, "--validation-size", 100, "--arch=" + ARCH, "--epochs", 1, "--batch-size", 100, "--out",
                dir.resolve("re"));
        assertEquals(0, r.code(), r.err());
        oursSupernet = dir.resolve("sn/supernet.safetensors");
        oursStandalone = dir.resolve("re/standalone.safetensors");
        SearchSpace small = SearchSpace.load("bnnas-small");
        int[] arch = Architecture.parse(ARCH, small);
        theirsSupernet = OfficialNet.init(dir, "supernet", small, List.of(arch), 1, 28);
        theirsStandalone = OfficialNet.init(dir, "standalone", small, List.of(arch), 1, 28);
    }

    static Path out(String name) {
        return dir.resolve("out-" + name + "-" + System.nanoTime());
    }

    static void ok(Result r) {
        assertEquals(0, r.code(), r.out() + r.err());
    }

    static void oneLine(Result r, String expected) {
        assertEquals(2, r.code(), r.out() + r.err());
        String err = r.err().lines().filter(l -> !l.startsWith(CommonOptions.DEVICE_NOTE)).collect(Collectors.joining("\n")).strip();
        assertFalse(err.contains("\n") || err.contains("Exception"), "one line, no stack trace: " + err);
        assertTrue(err.contains(expected), err);
    }

    @Test
    void supernetsOfBothWritersNeedTheirPath() {
        for (Path f : List.of(oursSupernet, theirsSupernet)) {
            ok(bnnas("score", "--checkpoint", f, "--evaluator", "bn,synflow", "--arch=" + ARCH, "--out", out("score")));
            ok(bnnas("search", "--checkpoint", f, "--evaluator", "bn", "--population", 4, "--generations", 1, "--out", out("search")));
            ok(bnnas("evaluate", "--data-dir", data, "--validation-size", 100, "--checkpoint", f, "--arch=" + ARCH, "--out", out("evaluate")));
            ok(bnnas("export", "--checkpoint", f, "--arch=" + ARCH, "--out", out("export") + ".onnx"));
            oneLine(bnnas("evaluate", "--data-dir", data, "--validation-size", 100, "--checkpoint", f, "--out", out("evaluate")),
                    "--arch is required with " + f + " (a supernet: which path)");
            oneLine(bnnas("export", "--checkpoint", f, "--out", out("export")), "--arch is required with " + f + " (a supernet: which path)");
        }
    }

    @Test
    void aStandaloneNetworkWrittenByBnnasSaysItsArchitecture() {
        Result score = bnnas("score", "--checkpoint", oursStandalone, "--evaluator", "synflow", "--out", out("score"));
        ok(score);
        assertTrue(score.out().contains(ARCH), "scored as the architecture the file records: " + score.out());
        ok(bnnas("evaluate", "--data-dir", data, "--validation-size", 100, "--checkpoint", oursStandalone, "--out", out("evaluate")));
        ok(bnnas("export", "--checkpoint", oursStandalone, "--out", out("export") + ".onnx"));
        String other = "5" + ARCH.substring(1);
        oneLine(bnnas("score", "--checkpoint", oursStandalone, "--evaluator", "synflow", "--arch=" + other, "--out", out("score")),
                "--arch " + other + " differs from the architecture of " + oursStandalone);
        oneLine(bnnas("search", "--checkpoint", oursStandalone, "--evaluator", "bn", "--out", out("search")), "is a standalone network, not a supernet");
    }

    /** The case that used to end in a NullPointerException and a stack trace: score on a PyTorch-written standalone network without --arch. */
    @Test
    void aStandaloneNetworkWrittenByPytorchTakesItsArchitectureFromArch() throws IOException {
        String missing = "--arch is required with " + theirsStandalone + " (a standalone network written without bnnas metadata";
        oneLine(bnnas("score", "--checkpoint", theirsStandalone, "--evaluator", "synflow", "--out", out("score")), missing);
        oneLine(bnnas("evaluate", "--data-dir", data, "--validation-size", 100, "--checkpoint", theirsStandalone, "--out", out("evaluate")), missing);
        oneLine(bnnas("export", "--checkpoint", theirsStandalone, "--out", out("export")), missing);
        Result score = bnnas("score", "--checkpoint", theirsStandalone, "--evaluator", "synflow,naswot", "--arch=" + ARCH, "--data-dir", data,
                "--validation-size", 100, "--batch-size", 8, "--out", out("score"));
        ok(score);
        ok(bnnas("evaluate", "--data-dir", data, "--validation-size", 100, "--checkpoint", theirsStandalone, "--arch=" + ARCH, "--out", out("evaluate")));
        Path onnx = Path.of(out("export") + ".onnx");
        ok(bnnas("export", "--checkpoint", theirsStandalone, "--arch=" + ARCH, "--out", onnx));
        assertTrue(Files.size(onnx) > 0);
        oneLine(bnnas("score", "--checkpoint", theirsStandalone, "--evaluator", "synflow", "--arch=" + ARCH, "--arch=" + "5" + ARCH.substring(1),
                "--out", out("score")), "is one standalone network, so one architecture, not 2");
    }
}
