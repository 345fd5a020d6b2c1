// SearchTest: evolution and random search respect the FLOPs limit, never evaluate an architecture
// twice, are reproducible from the seed, and evolution improves on what it started from.
package org.bnnas.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.space.Architecture;
import org.bnnas.space.Cost;
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
}
