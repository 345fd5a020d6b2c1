// ReproductionTest: the reproduce experiment end to end on a tiny generated data set: every stage
// leaves its results and plots, the report is written, and a rerun redoes nothing.
package org.bnnas.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bnnas.data.Datasets;
import org.bnnas.data.TestFiles;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReproductionTest {
    private static final SearchSpace SPACE = SearchSpace.load("bnnas-small");
    /** Four architectures, one epoch everywhere, a population of 4 for 2 generations. */
    private static final Reproduction.Preset TINY = new Reproduction.Preset("tiny", 4, 1, 0, 1, 2, 1, 1, 0, 4, 2, 1, 1, 50);

    @TempDir
    Path dir;

    private Datasets.Splits data() throws IOException {
        Path files = TestFiles.idxDir(Files.createDirectories(dir.resolve("data")), 200, 50);
        return Datasets.loadSplits("fashion-mnist", files, 50, 0);
    }

    @Test
    void theArchitecturesSpanTheFlopsRangeDenserAtTheCheapEnd() throws IOException {
        Reproduction r = new Reproduction(new RunDir(dir.resolve("run")), SPACE, data(), new Reproduction.Preset("t", 6, 1, 0, 1, 1, 1, 1, 0, 4, 1, 1, 1, 50), 0,
                new PrintWriter(new StringWriter()));
        r.chooseArchitectures();
        Set<String> distinct = new HashSet<>();
        double previous = 0;
        for (int[] a : r.archs()) {
            assertTrue(distinct.add(Architecture.format(a)));
            assertTrue(r.flops(a) > previous, "ordered from the cheapest to the dearest");
            previous = r.flops(a);
        }
        double first = r.flops(r.archs().get(0)), last = r.flops(r.archs().get(5));
        assertEquals(2.271e6, first, 0.01e6, "the cheapest architecture of bnnas-small");
        assertEquals(6.664e6, last, 0.01e6, "the dearest");
        for (int k = 1; k < 5; k++) {
            double fraction = k / 5.0, target = first + (last - first) * fraction * fraction;
            assertEquals(target, r.flops(r.archs().get(k)), 0.05e6, "denser at the cheap end: target " + k + " of 0..5");
        }
    }

    @Test
    void everyStageLeavesItsResultsAndARerunRedoesNothing() throws IOException {
        RunDir run = new RunDir(dir.resolve("run"));
        Datasets.Splits data = data();
        StringWriter log = new StringWriter();
        Reproduction r = new Reproduction(run, SPACE, data, TINY, 0, new PrintWriter(log, true));
        r.runAll();
        r.writeReport("test");
        assertEquals(8, Files.readAllLines(run.file("ground_truth.jsonl")).size(), "4 architectures x 2 seeds");
        assertEquals(3, Files.readAllLines(run.file("bn_nas.jsonl")).size(), "the BN indicator after each of the epoch's 3 batches (4 times in a longer one)");
        assertEquals(2, Files.readAllLines(run.file("spos.jsonl")).size(), "SPOS after each of its 2 epochs");
        assertEquals(2, Files.readAllLines(run.file("search.jsonl")).size(), "one search per method");
        assertEquals(4, Files.readAllLines(run.file("retrain.jsonl")).size(), "two winners x 2 seeds");
        String lastBn = Files.readAllLines(run.file("bn_nas.jsonl")).get(2);
        assertTrue(lastBn.contains("\"lookup_seconds\"") && lastBn.contains("\"bn_table\""), lastBn);
        String report = Files.readString(run.file("report.md"));
        for (String row : List.of("| supernet training |", "| evaluating one subnet |", "| the whole search", "| Kendall tau vs the ground truth, last scoring |",
                "biased upward", "one swapped pair moves Kendall tau by", "(FLOPs) and",
                "| retrained winner", "## Stability of the BN op rankings")) {
            assertTrue(report.contains(row), row);
        }
        for (String png : List.of("tau-vs-training-time.png", "ground-truth-vs-flops.png", "bn-score-vs-flops.png", "spos-score-vs-flops.png",
                "stability.png", "convergence-loss.png", "convergence-accuracy.png")) {
            assertTrue(Files.size(run.file(png)) > 0, png);
        }

        List<String> before = Files.readAllLines(run.file("ground_truth.jsonl"));
        StringWriter second = new StringWriter();
        Reproduction again = new Reproduction(run, SPACE, data, TINY, 0, new PrintWriter(second, true));
        again.runAll();
        assertEquals(before, Files.readAllLines(run.file("ground_truth.jsonl")), "nothing retrained");
        assertEquals(3, Files.readAllLines(run.file("bn_nas.jsonl")).size());
        assertEquals(4, Files.readAllLines(run.file("retrain.jsonl")).size());
        assertTrue(second.toString().contains("done earlier"), second.toString());
    }
}
