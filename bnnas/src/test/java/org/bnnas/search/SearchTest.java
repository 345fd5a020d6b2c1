// SearchTest: evolution and random search respect the FLOPs limit, never evaluate an architecture
// twice, are reproducible from the seed, evolution improves on what it started from; a latency
// table's limit bounds every candidate, and the best k of all evaluated extend the top ten.
package org.bnnas.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.space.Architecture;
import org.bnnas.space.Cost;
import org.bnnas.space.LatencyTable;
import org.bnnas.space.SearchSpace;
import org.junit.jupiter.api.Test;

class SearchTest {
    private static final SearchSpace SPACE = SearchSpace.load("bnnas-small");
    /** A score that prefers large kernels and expansions: the search has something to find. */
    private static final ToDoubleFunction<int[]> PREFERS_BIG_OPS = a -> Arrays.stream(a).filter(o -> o >= 0).sum();

    private static double medianFlops() {
        Rng rng = new Rng(3);
        double[] f = new double[201];
        for (int i = 0; i < f.length; i++) f[i] = Cost.of(SPACE, Architecture.sample(SPACE, rng), 1, 28).flops();
        Arrays.sort(f);
        return f[100];
    }

    @Test
    void evolutionKeepsTheLimitNeverRepeatsAndImproves() {
        double limit = medianFlops();
        Search.Result r = new Search(SPACE, 1, 28, limit, PREFERS_BIG_OPS, 7).evolve(Search.Config.paper());
        Set<String> keys = new HashSet<>();
        for (Candidate c : r.evaluated()) {
            assertTrue(c.flops() <= limit, "within the FLOPs limit: " + c.flops());
            assertTrue(keys.add(Architecture.key(c.arch())), "evaluated twice: " + Architecture.format(c.arch()));
        }
        assertEquals(50 * 20, r.evaluated().size());
        assertEquals(10, r.top().size());
        assertEquals(20, r.bestPerGeneration().size());
        assertTrue(r.bestPerGeneration().get(19) > r.bestPerGeneration().get(0), "best score rises: " + r.bestPerGeneration());
        for (int i = 1; i < r.top().size(); i++) assertTrue(r.top().get(i - 1).score() >= r.top().get(i).score());
    }

    @Test
    void sameSeedSameResult() {
        double limit = medianFlops();
        Search.Result a = new Search(SPACE, 1, 28, limit, PREFERS_BIG_OPS, 11).evolve(Search.Config.paper());
        Search.Result b = new Search(SPACE, 1, 28, limit, PREFERS_BIG_OPS, 11).evolve(Search.Config.paper());
        assertEquals(a.evaluated().size(), b.evaluated().size());
        for (int i = 0; i < a.evaluated().size(); i++) {
            assertEquals(Architecture.format(a.evaluated().get(i).arch()), Architecture.format(b.evaluated().get(i).arch()));
        }
    }

    @Test
    void randomSearchHasTheSameBudgetAndRules() {
        double limit = medianFlops();
        Search.Result r = new Search(SPACE, 1, 28, limit, PREFERS_BIG_OPS, 5).random(1000, 10);
        Set<String> keys = new HashSet<>();
        for (Candidate c : r.evaluated()) {
            assertTrue(c.flops() <= limit);
            assertTrue(keys.add(Architecture.key(c.arch())));
        }
        assertEquals(1000, r.evaluated().size());
        assertEquals(10, r.top().size());
        Search.Result evo = new Search(SPACE, 1, 28, limit, PREFERS_BIG_OPS, 5).evolve(Search.Config.paper());
        assertTrue(evo.top().get(0).score() >= r.top().get(0).score(), "evolution finds at least what random search finds");
    }

    /** A made-up latency table: the fixed part 1 ms, op o of layer l costs (o + 1) * (l + 1) / 100 ms. */
    static LatencyTable table() {
        double[][] ms = new double[SPACE.numLayers()][];
        for (SearchSpace.Layer l : SPACE.layers) {
            if (l.fixedIdentity()) continue;
            ms[l.index()] = new double[SPACE.ops.size()];
            for (int o = 0; o < SPACE.ops.size(); o++) ms[l.index()][o] = (o + 1) * (l.index() + 1) / 100.0;
        }
        return new LatencyTable(SPACE.name, "cpu", 1, 1, 28, 1.0, ms, java.util.Map.of());
    }

    @Test
    void aLatencyLimitBoundsEveryCandidatesPredictedLatency() {
        LatencyTable table = table();
        Rng rng = new Rng(4);
        double[] ms = new double[201];
        for (int i = 0; i < ms.length; i++) ms[i] = table.predictMs(Architecture.sample(SPACE, rng));
        Arrays.sort(ms);
        double limit = ms[50];
        Search.Result r = new Search(SPACE, 1, 28, 0, PREFERS_BIG_OPS, 7).withLatency(table, limit).evolve(Search.Config.paper());
        for (Candidate c : r.evaluated()) {
            assertEquals(table.predictMs(c.arch()), c.latencyMs(), 1e-12);
            assertTrue(c.latencyMs() <= limit, "within the latency limit: " + c.latencyMs());
        }
        Search.Result free = new Search(SPACE, 1, 28, 0, PREFERS_BIG_OPS, 7).evolve(Search.Config.paper());
        assertTrue(Double.isNaN(free.top().get(0).latencyMs()), "no table, no latency");
        assertTrue(free.top().get(0).score() > r.top().get(0).score(), "the limit costs the big ops");
    }

    @Test
    void aLimitNothingMeetsIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Search(SPACE, 1, 28, 0, PREFERS_BIG_OPS, 7).withLatency(table(), 0.5).evolve(Search.Config.paper()));
        assertTrue(e.getMessage().contains("latency 0.5 ms"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Search(SPACE, 3, 32, 0, PREFERS_BIG_OPS, 7).withLatency(table(), 5));
    }

    @Test
    void theBestKOfAllEvaluatedExtendTheTopTen() {
        Search.Result r = new Search(SPACE, 1, 28, medianFlops(), PREFERS_BIG_OPS, 9).evolve(Search.Config.paper());
        List<Candidate> best = r.best(25);
        assertEquals(25, best.size());
        for (int i = 0; i < 10; i++) assertSame(r.top().get(i), best.get(i));
        for (int i = 1; i < best.size(); i++) assertTrue(best.get(i - 1).score() >= best.get(i).score());
        double worstKept = best.get(24).score();
        assertEquals(25, r.evaluated().stream().filter(c -> c.score() > worstKept).count() + best.stream().filter(c -> c.score() == worstKept).count());
    }

    @Test
    void thePapersTightLimitStillFillsEveryPopulation() {
        SearchSpace imagenet = SearchSpace.load("bnnas-imagenet"); // about 1 uniform path in 500 is within 475M
        Search.Result r = new Search(imagenet, 3, 224, imagenet.flopsLimit, PREFERS_BIG_OPS, 2).evolve(new Search.Config(50, 2, 10, 25, 0.1, 25));
        assertEquals(100, r.evaluated().size());
        for (Candidate c : r.evaluated()) assertTrue(c.flops() <= 475e6);
    }
}
