// GroundTruthTest: the plan samples as the search does (uniform paths, stratified by FLOPs, a share
// near the limit), the table keeps what it was given, refuses a repeated row, survives a cut-off
// last line, and shards split the plan without overlap; the shipped table meets the study's counts,
// and a run's architecture is placed among the table's of similar FLOPs.
package org.bnnas.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.space.Architecture;
import org.bnnas.space.Cost;
import org.bnnas.space.SearchSpace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GroundTruthTest {
    static final SearchSpace SMALL = SearchSpace.load("bnnas-small");
    static final double LIMIT = 3.06e6;

    @TempDir
    Path dir;

    @Test
    void thePlanHoldsTheCountsAskedForSpreadOverTheFlopsRange() {
        List<GroundTruth.Entry> plan = GroundTruth.plan(SMALL, 1, 28, 60, 15, 20, LIMIT, 0, 7);
        assertEquals(75, plan.size());
        Set<String> archs = new HashSet<>();
        int near = 0;
        double lo = Double.MAX_VALUE, hi = 0;
        for (GroundTruth.Entry e : plan.subList(0, 60)) {
            assertTrue(archs.add(Architecture.key(e.arch())), "distinct");
            assertEquals(7, e.seed());
            double f = Cost.of(SMALL, e.arch(), 1, 28).flops();
            if (Math.abs(f - LIMIT) <= 0.05 * LIMIT) near++;
            lo = Math.min(lo, f);
            hi = Math.max(hi, f);
        }
        assertTrue(near >= 20, near + " within 5% of the limit");
        assertTrue(lo < 3.0e6 && hi > 5.5e6, "the stratified share spans the range: " + lo + " .. " + hi);
        for (int k = 0; k < 15; k++) {
            assertEquals(Architecture.key(plan.get(k).arch()), Architecture.key(plan.get(60 + k).arch()), "the second seeds retrain the first 15");
            assertEquals(8, plan.get(60 + k).seed());
        }
        int nearInFirstTen = 0;
        for (GroundTruth.Entry e : plan.subList(0, 10)) if (Math.abs(Cost.of(SMALL, e.arch(), 1, 28).flops() - LIMIT) <= 0.05 * LIMIT) nearInFirstTen++;
        assertTrue(nearInFirstTen >= 2 && nearInFirstTen <= 5, "a prefix holds both kinds in proportion: " + nearInFirstTen + " of 10");
        List<GroundTruth.Entry> again = GroundTruth.plan(SMALL, 1, 28, 60, 15, 20, LIMIT, 0, 7);
        for (int i = 0; i < plan.size(); i++) assertEquals(Architecture.key(plan.get(i).arch()), Architecture.key(again.get(i).arch()), "seeded");
    }

    @Test
    void shardsSplitThePlanWithoutOverlap() {
        Set<Integer> seen = new HashSet<>();
        for (int shard = 0; shard < 3; shard++) {
            for (int i = 0; i < 75; i++) if (GroundTruth.inShard(i, shard, 3)) assertTrue(seen.add(i));
        }
        assertEquals(75, seen.size());
    }

    @Test
    void theTableKeepsItsRowsAndRefusesARepeatedOne() throws IOException {
        Path table = dir.resolve("gt/table.jsonl");
        int[] a = Architecture.sample(SMALL, new org.bnnas.engine.tensor.Rng(1)), b = Architecture.sample(SMALL, new org.bnnas.engine.tensor.Rng(2));
        GroundTruth.Row r1 = new GroundTruth.Row(a, 3.1e6, 300_000, 0, 4, 0.88, 0.87, 120.5, "cpu", 2, "17", "abc", "2026-12-02");
        GroundTruth.Row r2 = new GroundTruth.Row(b, 4.2e6, 400_000, 0, 4, 0.89, 0.885, 130.5, "cpu", 2, "17", "abc", "2026-12-02");
        GroundTruth.append(table, r1, SMALL);
        GroundTruth.append(table, r2, SMALL);
        List<GroundTruth.Row> rows = GroundTruth.read(table, SMALL);
        assertEquals(2, rows.size());
        assertEquals(Architecture.format(a), Architecture.format(rows.get(0).arch()));
        assertEquals(0.885, rows.get(1).testTop1());
        assertTrue(Files.readString(table).contains("\"ops\":\"" + GroundTruth.ops(SMALL, a) + "\""), "op names beside the indices");
        Files.writeString(table, Files.readString(table) + "{\"arch\": \"0,-1", java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
        assertEquals(2, GroundTruth.read(table, SMALL).size(), "a last line cut off by a kill is left out");
        GroundTruth.append(dir.resolve("other.jsonl"), r1, SMALL);
        Path merged = dir.resolve("merged.jsonl");
        Files.writeString(merged, Files.readString(dir.resolve("other.jsonl")) + String.join("\n", Files.readAllLines(table).subList(0, 2)) + "\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GroundTruth.read(merged, SMALL));
        assertTrue(e.getMessage().startsWith(merged + ": line 2 repeats line 1"), e.getMessage());
    }

    @Test
    void aPlanThatCannotBeMetIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> GroundTruth.plan(SMALL, 1, 28, 10, 0, 5, 0, 0, 0), "near the limit without a limit");
        assertThrows(IllegalArgumentException.class, () -> GroundTruth.plan(SMALL, 1, 28, 10, 11, 0, LIMIT, 0, 0), "more second seeds than architectures");
        assertThrows(IllegalArgumentException.class, () -> GroundTruth.plan(SMALL, 1, 28, 10, 0, 5, 1e3, 0, 0), "no path near a limit below the cheapest");
    }

    @Test
    void theShippedTableHoldsTheStudysCounts() {
        // 60 architectures with one seed, 15 of them with two, 20 within 5% of the search's limit
        List<GroundTruth.Row> rows = GroundTruth.shipped(SMALL, "fashion-mnist");
        Map<String, Integer> seeds = new HashMap<>();
        Set<String> near = new HashSet<>();
        for (GroundTruth.Row r : rows) {
            if (r.epochs() != 4) continue;
            seeds.merge(Architecture.format(r.arch()), 1, Integer::sum);
            assertEquals(Cost.of(SMALL, r.arch(), 1, 28).flops(), r.flops(), "row's FLOPs");
            if (Math.abs(r.flops() - SMALL.flopsLimit) <= 0.05 * SMALL.flopsLimit) near.add(Architecture.format(r.arch()));
        }
        assertTrue(seeds.size() >= 60, seeds.size() + " architectures");
        assertTrue(seeds.values().stream().filter(n -> n >= 2).count() >= 15, "second seeds");
        assertTrue(near.size() >= 20, near.size() + " near the limit");
        assertTrue(GroundTruth.shipped(SearchSpace.load("bnnas-imagenet"), "fashion-mnist").isEmpty(), "no table for that space");
    }

    @Test
    void theFirstStudysTableCarriesNoMeasurableSignal() {
        // its 4-epoch truths: 15 architectures with two seeds, whose seeds agree at tau 0.086; the means spread no wider than seed noise
        Map<String, List<Double>> byArch = new java.util.LinkedHashMap<>();
        Map<String, Double> flops = new HashMap<>();
        for (GroundTruth.Row r : GroundTruth.shipped(SMALL, "fashion-mnist")) {
            if (r.epochs() != 4) continue;
            byArch.computeIfAbsent(Architecture.format(r.arch()), k -> new java.util.ArrayList<>()).add(r.valTop1());
            flops.put(Architecture.format(r.arch()), r.flops());
        }
        double[][] seeds = byArch.values().stream().map(v -> v.stream().mapToDouble(Double::doubleValue).toArray()).toArray(double[][]::new);
        double[] f = byArch.keySet().stream().mapToDouble(flops::get).toArray();
        org.bnnas.report.Reliability rel = org.bnnas.report.Reliability.of(seeds, f, 1000, new Rng(0));
        assertEquals(org.bnnas.report.Reliability.Signal.NONE, rel.signal(), rel.lines().toString());
        assertEquals(0.086, rel.splitHalfTau().estimate(), 0.0005);
        assertTrue(Math.abs(rel.noiseCeiling().estimate()) < 0.05, "a perfect predictor would rank nothing here: " + rel.noiseCeiling());
    }

    @Test
    void aRunsArchitectureIsPlacedAmongTheTablesOfSimilarFlops() {
        int[] a = sampled(0), b = sampled(1), c = sampled(2);
        List<GroundTruth.Row> rows = List.of(row(a, 3.00e6, 0, 4, 0.88), row(a, 3.00e6, 1, 4, 0.86), row(b, 3.05e6, 0, 4, 0.90),
                row(c, 5.00e6, 0, 4, 0.95), row(c, 5.00e6, 0, 12, 0.97));
        List<String> lines = GroundTruth.placement(rows, "t.jsonl", b, 3.05e6, 0.90, 8);
        assertEquals("ground truth (t.jsonl, 4 epochs each): 2 of its 3 architectures lie within 5% of 3.050M FLOPs", lines.get(0));
        assertEquals("their test top-1: median 0.8850, from 0.8700 to 0.9000 (best " + Architecture.format(b) + "); one seed's test top-1 varies by sd 0.0141",
                lines.get(1));
        assertEquals("this architecture is one of them: test top-1 0.9000 at 4 epochs, rank 1 of 2", lines.get(2));
        int[] other = sampled(3);
        assertEquals("this run's test top-1 0.8800 after 4 epochs would rank 2 of 3 among them",
                GroundTruth.placement(rows, "t.jsonl", other, 3.02e6, 0.88, 4).get(2));
        assertTrue(GroundTruth.placement(rows, "t.jsonl", other, 3.02e6, 0.88, 8).get(2)
                .startsWith("this run trained it for 8 epochs and the table for 4, so its 0.8800 is not comparable"));
        assertEquals(List.of("ground truth (t.jsonl, 4 epochs each): 0 of its 3 architectures lie within 5% of 4.000M FLOPs"),
                GroundTruth.placement(rows, "t.jsonl", other, 4.0e6, 0.88, 4));
    }

    private static int[] sampled(long seed) {
        return Architecture.sample(SMALL, new Rng(seed));
    }

    private static GroundTruth.Row row(int[] arch, double flops, long seed, int epochs, double test) {
        return new GroundTruth.Row(arch, flops, 0, seed, epochs, test, test, 1, "", 2, "", "", "");
    }
}
