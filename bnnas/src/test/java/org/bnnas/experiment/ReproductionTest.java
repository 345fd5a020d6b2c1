// ReproductionTest: the reproduce experiment end to end on a tiny generated data set, with a ground
// truth trained afresh: every stage leaves the study's files, the check retrains the table's rows
// bit for bit on one machine, the report carries the check and the verdicts, and a rerun redoes nothing.
package org.bnnas.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.bnnas.data.Datasets;
import org.bnnas.data.TestFiles;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReproductionTest {
    private static final SearchSpace SPACE = SearchSpace.load("bnnas-small");
    /** One seed of each supernet, one epoch (SPOS two, scored after each), a population of 4 for 2 generations, winners 1 epoch x 2 seeds; a plan of 6 architectures, 2 with a second seed. */
    private static final Reproduction.Preset TINY = new Reproduction.Preset("tiny", 1, 1, 1, 2, 1, 1, 0, 4, 2, 1, 2, 2, 6, 2, 2, 1);

    @TempDir
    Path dir;

    private Datasets.Splits data() throws IOException {
        Path files = TestFiles.idxDir(Files.createDirectories(dir.resolve("data")), 200, 50);
        return Datasets.loadSplits("fashion-mnist", files, 50, 0);
    }

    @Test
    void everyStageLeavesTheStudysFilesAndARerunRedoesNothing() throws IOException {
        RunDir run = new RunDir(dir.resolve("run"));
        Datasets.Splits data = data();
        Path table = run.file("ground-truth.jsonl");
        StringWriter log = new StringWriter();
        Reproduction r = new Reproduction(run, SPACE, "fashion-mnist", data, TINY, 0, table, true, "abc", new PrintWriter(log, true));
        r.runAll();
        r.writeReport("test", 200);

        List<GroundTruth.Row> rows = GroundTruth.read(table, SPACE);
        assertEquals(8, rows.size(), "6 architectures, 2 of them with a second seed");
        List<GroundTruth.Row> checked = GroundTruth.read(run.file("check.jsonl"), SPACE);
        assertEquals(2, checked.size(), "two of the table's rows retrained");
        Map<String, GroundTruth.Row> byKey = rows.stream().collect(Collectors.toMap(GroundTruth.Row::key, x -> x));
        for (GroundTruth.Row c : checked) {
            GroundTruth.Row t = byKey.get(c.key());
            assertEquals(t.valTop1(), c.valTop1(), 0.0, "one machine, one seed: the same result");
            assertTrue(rows.stream().filter(x -> Architecture.format(x.arch()).equals(Architecture.format(c.arch()))).count() == 2,
                    "only architectures whose seed noise the table knows are checked");
        }
        Set<String> archs = rows.stream().map(x -> Architecture.format(x.arch())).collect(Collectors.toSet());
        for (String f : List.of("bn-seed0.jsonl", "spos-seed0.jsonl")) {
            Set<String> scored = run.metricsFile("scores/" + f).stream().map(o -> o.get("arch").getAsString()).collect(Collectors.toSet());
            assertEquals(archs, scored, f + " scores every architecture of the table");
        }
        List<com.google.gson.JsonObject> spos = run.metricsFile("scores/spos-seed0.jsonl");
        assertEquals(2 * archs.size(), spos.stream().filter(o -> o.get("evaluator").getAsString().equals("accuracy")).count(),
                "SPOS scored by accuracy after each of its 2 epochs");
        assertEquals(2 * archs.size(), spos.stream().filter(o -> o.get("evaluator").getAsString().equals("bn")).count(),
                "and by the BN indicator of the fully trained supernet, the ablation");
        assertTrue(Files.size(run.file("scores/bn-table-seed0.jsonl")) > 0);
        assertEquals(5 * archs.size(), run.metricsFile("scores/zero-cost.jsonl").size(), "five training-free predictors on every architecture");
        Map<String, com.google.gson.JsonElement> winners = JsonParser.parseString(Files.readString(run.file("scores/winners.json"))).getAsJsonObject().asMap();
        assertEquals(5, winners.size(), "BN-NAS, SPOS, the best training-free predictor, random and the largest under the limit: " + winners.keySet());
        assertTrue(winners.keySet().containsAll(List.of("BN-NAS", "SPOS", "random", "largest under the limit")), winners.keySet().toString());
        for (var w : winners.values()) {
            int[] a = Architecture.parse(w.getAsString(), SPACE);
            assertTrue(org.bnnas.space.Cost.of(SPACE, a, 1, 28).flops() <= SPACE.flopsLimit, "every winner keeps to the FLOPs limit");
        }
        long distinctWinners = winners.values().stream().distinct().count();
        assertEquals(2 * distinctWinners, GroundTruth.read(run.file("scores/retrained.jsonl"), SPACE).size(), "every winner x 2 seeds");

        String report = Files.readString(run.file("report.md"));
        for (String part : List.of("**The tiny preset shortens every budget to check the setup: its verdicts do not test the paper's claims", "## The ground truth", "## The table on this machine", "| validation top-1 in the table | here |",
                "Every difference is within the rule", "## How each predictor ranks them", "| BN-NAS seed 0 (1 epochs) |", "| naswot |",
                "## Search under the FLOPs limit (3.06M)", "## The paper's claims", "| supernet training over 10x faster |", "| no loss of accuracy |")) {
            assertTrue(report.contains(part), part + " in\n" + report);
        }
        assertTrue(Files.size(run.file("tau-vs-training-time.png")) > 0);

        List<String> before = Files.readAllLines(table), retrained = Files.readAllLines(run.file("scores/retrained.jsonl"));
        StringWriter second = new StringWriter();
        Reproduction again = new Reproduction(run, SPACE, "fashion-mnist", data, TINY, 0, table, true, "abc", new PrintWriter(second, true));
        again.runAll();
        assertEquals(before, Files.readAllLines(table), "no ground truth trained again");
        assertEquals(retrained, Files.readAllLines(run.file("scores/retrained.jsonl")), "no winner retrained again");
        assertEquals(2, GroundTruth.read(run.file("check.jsonl"), SPACE).size());
        assertTrue(second.toString().contains("BN-NAS supernet seed 0: done earlier") && !second.toString().contains("retrain"), second.toString());
    }

    @Test
    void theCommittedTableIsTheDefaultGroundTruth() throws IOException {
        Reproduction r = new Reproduction(new RunDir(dir.resolve("run")), SPACE, "fashion-mnist", data(), TINY, 0, null, false, "abc",
                new PrintWriter(new StringWriter()));
        List<GroundTruth.Row> shipped = GroundTruth.shipped(SPACE, "fashion-mnist");
        assertEquals(shipped.size(), r.groundTruth().size());
        assertEquals(4, r.budget(), "the committed table's main budget");
        assertEquals(60, r.archs().size());
        assertEquals(2, r.checkedRows().size());
        for (GroundTruth.Row c : r.checkedRows()) assertEquals(0, c.seed());
        Reproduction none = new Reproduction(new RunDir(dir.resolve("other")), SPACE, "mnist", data(), TINY, 0, null, false, "abc",
                new PrintWriter(new StringWriter()));
        assertTrue(assertThrows(IllegalArgumentException.class, none::groundTruth).getMessage().contains("no ground truth ships for bnnas-small on mnist"));
    }
}
