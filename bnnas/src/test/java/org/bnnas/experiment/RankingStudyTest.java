// RankingStudyTest: the study's report from a small synthetic table and score files: every
// section, every plot, and verdicts that follow their stated rules, the no-loss rule in its three outcomes.
package org.bnnas.experiment;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.space.Architecture;
import org.bnnas.space.Cost;
import org.bnnas.space.SearchSpace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RankingStudyTest {
    static final SearchSpace SMALL = SearchSpace.load("bnnas-small");

    @TempDir
    Path dir;

    /** 30 architectures whose truth follows FLOPs plus noise; a BN predictor that follows the truth closely, a SPOS one that follows it loosely. */
    @Test
    void theReportHasEverySectionPlotAndVerdict() throws IOException {
        Rng rng = new Rng(4);
        List<GroundTruth.Row> rows = new ArrayList<>();
        Path scores = Files.createDirectories(dir.resolve("scores"));
        RunDir s = new RunDir(scores);
        List<int[]> archs = new ArrayList<>();
        Map<String, Double> truth = new LinkedHashMap<>();
        for (int i = 0; i < 30; i++) {
            int[] a = Architecture.sample(SMALL, rng);
            archs.add(a);
            double flops = Cost.of(SMALL, a, 1, 28).flops(), t = 0.85 + flops / 1e8 + 0.004 * rng.nextGaussian();
            truth.put(Architecture.format(a), t);
            for (long seed = 0; seed < (i < 8 ? 2 : 1); seed++) {
                rows.add(new GroundTruth.Row(a, flops, 1000 + i, seed, 4, t + 0.002 * rng.nextGaussian(), t, 100, "cpu", 2, "17", "abc", "d"));
            }
        }
        for (int i = 0; i < 6; i++) { // the check of the budget: six of them trained three times longer, in the same order, a point higher
            int[] a = archs.get(i);
            rows.add(new GroundTruth.Row(a, Cost.of(SMALL, a, 1, 28).flops(), 1000 + i, 0, 12, truth.get(Architecture.format(a)) + 0.01, 0, 300, "cpu", 2, "17", "abc", "d"));
        }
        for (String kind : List.of("bn", "spos", "bn-paper")) {
            double[] epochs = kind.equals("bn") ? new double[] {0.25, 0.5, 1, 2, 3} : kind.equals("spos") ? new double[] {2, 4} : new double[] {1, 6};
            for (double e : epochs) {
                for (int[] a : archs) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    String key = Architecture.format(a);
                    m.put("arch", key);
                    boolean bn = !kind.equals("spos");
                    m.put("evaluator", bn ? "bn" : "accuracy");
                    m.put("score", truth.get(key) + (bn ? 0.0005 : 0.01) * rng.nextGaussian());
                    m.put("seconds", bn ? 1e-7 : 1.5);
                    m.put("epoch", e);
                    m.put("train_seconds", e * (bn ? 30 : 40));
                    m.put("supernet_seed", kind.equals("bn-paper") ? 3 : 0);
                    s.appendLine(kind + (kind.equals("bn-paper") ? "-seed3.jsonl" : "-seed0.jsonl"), m);
                    if (!bn) { // a fully trained supernet is scored by the BN indicator too, here as closely as BN-only's
                        m.put("evaluator", "bn");
                        m.put("score", truth.get(key) + 0.0005 * rng.nextGaussian());
                        m.put("seconds", 1e-7);
                        s.appendLine("spos-seed0.jsonl", m);
                    }
                }
            }
        }
        for (double e : new double[] {0.25, 0.5, 1, 2, 3}) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("epoch", e);
            t.put("loss", 2.36 - 0.01 * e);
            t.put("train_seconds", e * 30);
            t.put("supernet_seed", 0);
            double[][] table = new double[21][];
            for (SearchSpace.Layer l : SMALL.layers) if (!l.fixedIdentity()) table[l.index()] = new double[] {1, 1 + e / 10, 1 - e / 10, 1, 1, 1};
            t.put("table", table);
            s.appendLine("bn-table-seed0.jsonl", t);
        }
        for (int[] a : archs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("arch", Architecture.format(a));
            m.put("evaluator", "naswot");
            m.put("score", rng.nextDouble());
            m.put("seconds", 0.3);
            s.appendLine("zero-cost.jsonl", m);
        }
        for (int k = 0; k < 3; k++) { // three subnets re-scored with three calibration draws each, sd 0.001 around their SPOS scores
            for (int draw = 0; draw < 3; draw++) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("arch", Architecture.format(archs.get(k)));
                m.put("evaluator", "accuracy");
                m.put("score", truth.get(Architecture.format(archs.get(k))) + 0.001 * (draw - 1));
                s.appendLine("spos-rescoring-2000.jsonl", m);
                m.put("score", truth.get(Architecture.format(archs.get(k))) + 0.0005 * (draw - 1));
                s.appendLine("spos-rescoring-2000-c100.jsonl", m);
            }
        }
        writeWinners(scores, archs.get(0), new double[] {0.882, 0.883, 0.884}, archs.get(1), new double[] {0.881, 0.880, 0.882});
        new RankingStudy(SMALL, rows, scores, 4e6, 300).write(dir.resolve("report"), "test");
        String md = Files.readString(dir.resolve("report/report.md"));
        for (String part : List.of("## The ground truth", "30 architectures", "### Does the truth carry signal?",
                "Before any predictor: the truth carries measurable signal", "| split-half tau |", "| reliability of the truth |",
                "| FLOPs' share of the true variance |", "| noise ceiling |", "## How each predictor ranks them", "| flops |",
                "| BN-NAS seed 0 (2 epochs) |", "| BN-NAS seed 0 (3 epochs) |", "| BN-NAS, the paper's updates per op seed 3 (6 epochs) |", "| SPOS seed 0 (4 epochs) |", "| naswot |", "## Ranking against training time",
                "## Why 4 epochs", "6 of the architectures were also trained for 12 epochs. Their order at 4 epochs (the truth above) agrees with the order at 12 at Kendall tau",
                "two seeds at 4 epochs agree with each other at tau", "## What chance gives at this K", "## Why BN-only training is fast", "## The paper's claims",
                "| supernet training over 10x faster | SPOS 160 s (4 epochs) / BN-NAS 60 s (2 epochs) = 2.7x", "not supported (rule: at least 10x",
                "| subnet evaluation over 600,000x faster | SPOS 1.50 s per subnet / BN-NAS 1.00e-07 s", "supported (rule: at least 600,000x)",
                "seed 0 at 2 epochs: tau", "| early ranking from BN-only training (beyond what FLOPs tells) |",
                "| BN indicator, fully trained supernet seed 0 (4 epochs) |",
                "| of which: the BN indicator ranks, read from a fully trained (SPOS) supernet (beyond what FLOPs tells) | seed 0 at 4 epochs: tau",
                "| of which: BN-only training is enough for the indicator (its tau within 0.1 of a fully trained supernet's) | BN-only seed 0 minus "
                        + "fully trained seed 0: ", "mean training loss at the last point was 2.330 (seed 0, epoch 3)",
                "## How precisely SPOS scores a subnet", "| 2000 | 20 | 3 x 3 | 0.0010 | 0.00", "| 2000 | 100 | 3 x 3 | 0.0005 | 0.00", "## Search under the FLOPs limit (4.00M)", "| SPOS | " + GroundTruth.ops(SMALL, archs.get(1)),
                "| no loss of accuracy | winners retrained: BN-NAS 0.8830 +- 0.0010 (3 seeds), SPOS 0.8810 +- 0.0010 (3 seeds); BN-NAS minus SPOS 0.002 [",
                "| supported (rule: supported if the interval lies above -0.5 points")) {
            assertTrue(md.contains(part), part + " in\n" + md);
        }
        for (String png : List.of("tau-vs-training-time.png", "tau-null-distribution.png", "bn-only-loss.png", "bn-only-gammas.png", "predictor-flops.png",
                "predictor-naswot.png")) {
            assertTrue(Files.size(dir.resolve("report/" + png)) > 0, png);
        }
    }

    @Test
    void onATruthOfSeedNoiseAloneEarlyRankingIsNotTestable() throws IOException {
        Rng rng = new Rng(6);
        List<GroundTruth.Row> rows = new ArrayList<>();
        List<int[]> archs = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            int[] a = Architecture.sample(SMALL, rng);
            archs.add(a);
            for (long seed = 0; seed < (i < 15 ? 2 : 1); seed++) {
                double v = 0.89 + 0.0055 * rng.nextGaussian();
                rows.add(new GroundTruth.Row(a, Cost.of(SMALL, a, 1, 28).flops(), 1000, seed, 4, v, v, 100, "cpu", 2, "17", "abc", "d"));
            }
        }
        Path scores = Files.createDirectories(dir.resolve("noise-scores"));
        RunDir s = new RunDir(scores);
        for (int[] a : archs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("arch", Architecture.format(a));
            m.put("evaluator", "bn");
            m.put("score", rng.nextDouble());
            m.put("seconds", 1e-7);
            m.put("epoch", 2.0);
            m.put("train_seconds", 60.0);
            m.put("supernet_seed", 0);
            s.appendLine("bn-seed0.jsonl", m);
        }
        new RankingStudy(SMALL, rows, scores, 4e6, 300).write(dir.resolve("noise-report"), "test");
        String md = Files.readString(dir.resolve("noise-report/report.md"));
        assertTrue(md.contains("Before any predictor: the truth carries no measurable signal beyond seed noise"), md);
        String line = md.lines().filter(l -> l.startsWith("| early ranking from BN-only training")).findFirst().orElseThrow();
        assertTrue(line.contains("| not testable on this truth (rule:"), line);
    }

    @Test
    void noLossOfAccuracyFollowsTheIntervalOfTheWinnersDifference() throws IOException {
        Rng rng = new Rng(5);
        List<GroundTruth.Row> rows = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int[] a = Architecture.sample(SMALL, rng);
            rows.add(new GroundTruth.Row(a, Cost.of(SMALL, a, 1, 28).flops(), 1000, 0, 4, 0.8 + i / 100.0, 0.8, 100, "cpu", 2, "17", "abc", "d"));
        }
        int[] bn = Architecture.sample(SMALL, rng), spos = Architecture.sample(SMALL, rng);
        String[] verdicts = {"| not supported (rule:", "| inconclusive (rule:", "| supported (rule:"};
        double[][] bnResults = {{0.860, 0.861, 0.862}, {0.874, 0.878, 0.882}, {0.879, 0.880, 0.881}};
        for (int k = 0; k < 3; k++) {
            Path scores = Files.createDirectories(dir.resolve("case" + k));
            writeWinners(scores, bn, bnResults[k], spos, new double[] {0.880, 0.881, 0.882});
            new RankingStudy(SMALL, rows, scores, 3.06e6, 200).write(dir.resolve("report" + k), "test");
            String md = Files.readString(dir.resolve("report" + k + "/report.md"));
            String line = md.lines().filter(l -> l.startsWith("| no loss of accuracy |")).findFirst().orElseThrow();
            assertTrue(line.contains(verdicts[k]), line);
        }
    }

    /** winners.json naming BN-NAS's and SPOS's winners, and retrained.jsonl with one row per seed of each. */
    private static void writeWinners(Path scores, int[] bn, double[] bnTest, int[] spos, double[] sposTest) throws IOException {
        Files.writeString(scores.resolve("winners.json"), "{\"BN-NAS\": \"" + Architecture.format(bn) + "\", \"SPOS\": \"" + Architecture.format(spos) + "\"}");
        for (int k = 0; k < bnTest.length; k++) {
            GroundTruth.append(scores.resolve("retrained.jsonl"), new GroundTruth.Row(bn, Cost.of(SMALL, bn, 1, 28).flops(), 1, k, 4, bnTest[k], bnTest[k],
                    1, "", 2, "", "", ""), SMALL);
        }
        for (int k = 0; k < sposTest.length; k++) {
            GroundTruth.append(scores.resolve("retrained.jsonl"), new GroundTruth.Row(spos, Cost.of(SMALL, spos, 1, 28).flops(), 1, k, 4, sposTest[k],
                    sposTest[k], 1, "", 2, "", "", ""), SMALL);
        }
    }
}
