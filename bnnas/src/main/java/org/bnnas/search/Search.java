// Search: the evolutionary search of the paper (SPOS's) and random search with the same budget,
// both under a FLOPs limit and optionally a latency limit, seeded, never evaluating an
// architecture twice.
package org.bnnas.search;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.space.Architecture;
import org.bnnas.space.Cost;
import org.bnnas.space.LatencyTable;
import org.bnnas.space.SearchSpace;

/**
 * Evolution: a population of random candidates within the FLOPs limit; each generation evaluates
 * the population, keeps the best {@code topK} seen so far, and breeds the next population from
 * them by mutation (each choice layer re-drawn with probability {@code mutationProbability}) and
 * crossover (each layer from either of two parents). Children that break the limit or were seen
 * before are discarded and drawn again; a bounded number of draws keeps a crowded space from
 * looping forever (the population is then topped up with fresh random candidates).
 */
public final class Search {
    /** The paper's settings: population 50, 20 generations, top 10, 25 mutations (p 0.1), 25 crossovers. */
    public record Config(int population, int generations, int topK, int mutations, double mutationProbability, int crossovers) {
        public static Config paper() {
            return new Config(50, 20, 10, 25, 0.1, 25);
        }
    }

    /** The result: the best candidates, best first, every evaluated candidate, and the best score per generation. */
    public record Result(List<Candidate> top, List<Candidate> evaluated, List<Double> bestPerGeneration) {
        /** The k best of every evaluated candidate, best first; of equal scores the one evaluated first (as in {@link #top}). */
        public List<Candidate> best(int k) {
            List<Candidate> sorted = new ArrayList<>(evaluated);
            sorted.sort(Comparator.comparingDouble(Candidate::score).reversed());
            return List.copyOf(sorted.subList(0, Math.min(k, sorted.size())));
        }
    }

    private final SearchSpace space;
    private final int inChannels, inputSize;
    private final double flopsLimit;
    private final ToDoubleFunction<int[]> evaluator;
    private final Rng rng;
    private LatencyTable latency;
    private double latencyLimitMs;
    /**
     * Random draws allowed per candidate wanted before giving up. A tight limit admits few uniform
     * paths (about 1 in 500 under bnnas-small's 3.06M and bnnas-imagenet's 475M), and a draw costs only a FLOPs count.
     */
    static final int DRAWS_PER_CANDIDATE = 10_000;

    private final Set<String> seen = new HashSet<>();
    private final List<Candidate> evaluated = new ArrayList<>();

    /** flopsLimit <= 0 means no limit. */
    public Search(SearchSpace space, int inChannels, int inputSize, double flopsLimit, ToDoubleFunction<int[]> evaluator, long seed) {
        this.space = space;
        this.inChannels = inChannels;
        this.inputSize = inputSize;
        this.flopsLimit = flopsLimit;
        this.evaluator = evaluator;
        this.rng = new Rng(seed);
    }

    /** Admits only candidates whose latency predicted by {@code table} is at most {@code limitMs} (0: no limit, the latency is still recorded). */
    public Search withLatency(LatencyTable table, double limitMs) {
        if (!table.space().equals(space.name)) throw new IllegalArgumentException("latency table of space " + table.space() + ", not " + space.name);
        if (table.inChannels() != inChannels || table.inputSize() != inputSize) {
            throw new IllegalArgumentException("latency table measured at input " + table.inChannels() + "x" + table.inputSize() + "x" + table.inputSize()
                    + ", the search's input is " + inChannels + "x" + inputSize + "x" + inputSize);
        }
        if (!(limitMs >= 0)) throw new IllegalArgumentException("latency limit must be >= 0, got " + limitMs);
        this.latency = table;
        this.latencyLimitMs = limitMs;
        return this;
    }

    private boolean withinLimit(int[] arch) {
        if (flopsLimit > 0 && Cost.of(space, arch, inChannels, inputSize).flops() > flopsLimit) return false;
        return latency == null || latencyLimitMs <= 0 || latency.predictMs(arch) <= latencyLimitMs;
    }

    /** Takes arch if it is new and within the limit. */
    private boolean admit(int[] arch, List<int[]> into) {
        if (!withinLimit(arch) || !seen.add(Architecture.key(arch))) return false;
        into.add(arch);
        return true;
    }

    private Candidate evaluate(int[] arch) {
        Cost c = Cost.of(space, arch, inChannels, inputSize);
        Candidate cand = new Candidate(arch, evaluator.applyAsDouble(arch), c.flops(), c.params(),
                latency == null ? Double.NaN : latency.predictMs(arch));
        evaluated.add(cand);
        return cand;
    }

    /** Adds up to n new random candidates within the limit. */
    private void addRandom(List<int[]> into, int n) {
        for (long tries = 0, added = 0; added < n && tries < (long) DRAWS_PER_CANDIDATE * n; tries++) {
            if (admit(Architecture.sample(space, rng), into)) added++;
        }
    }

    private String noneWithinLimits(int n) {
        return "search: none of " + (long) DRAWS_PER_CANDIDATE * n + " random architectures is within the limits (FLOPs " + (flopsLimit > 0 ? flopsLimit : "none")
                + (latency != null && latencyLimitMs > 0 ? ", latency " + latencyLimitMs + " ms" : "") + ")";
    }

    public Result evolve(Config cfg) {
        List<Candidate> top = new ArrayList<>();
        List<Double> best = new ArrayList<>();
        List<int[]> population = new ArrayList<>();
        addRandom(population, cfg.population());
        if (population.isEmpty()) throw new IllegalArgumentException(noneWithinLimits(cfg.population()));
        for (int g = 0; g < cfg.generations(); g++) {
            for (int[] arch : population) top.add(evaluate(arch));
            top.sort(Comparator.comparingDouble(Candidate::score).reversed());
            if (top.size() > cfg.topK()) top = new ArrayList<>(top.subList(0, cfg.topK()));
            best.add(top.get(0).score());
            if (g == cfg.generations() - 1) break;
            population = new ArrayList<>();
            for (int tries = 0, made = 0; made < cfg.mutations() && tries < 100 * cfg.mutations(); tries++) {
                int[] child = top.get(rng.nextInt(top.size())).arch().clone();
                for (SearchSpace.Layer l : space.layers) {
                    if (!l.fixedIdentity() && rng.nextDouble() < cfg.mutationProbability()) child[l.index()] = rng.nextInt(space.ops.size());
                }
                if (admit(child, population)) made++;
            }
            for (int tries = 0, made = 0; made < cfg.crossovers() && tries < 100 * cfg.crossovers(); tries++) {
                int[] a = top.get(rng.nextInt(top.size())).arch(), b = top.get(rng.nextInt(top.size())).arch();
                int[] child = new int[a.length];
                for (int i = 0; i < a.length; i++) child[i] = rng.nextInt(2) == 0 ? a[i] : b[i];
                if (admit(child, population)) made++;
            }
            addRandom(population, cfg.population() - population.size());
        }
        return new Result(top, List.copyOf(evaluated), best);
    }

    /** Random search with a budget of {@code evaluations} distinct candidates within the limit. */
    public Result random(int evaluations, int topK) {
        List<int[]> all = new ArrayList<>();
        addRandom(all, evaluations);
        if (all.isEmpty()) throw new IllegalArgumentException(noneWithinLimits(evaluations));
        List<Candidate> top = new ArrayList<>();
        List<Double> best = new ArrayList<>();
        for (int[] arch : all) {
            top.add(evaluate(arch));
            best.add(top.stream().mapToDouble(Candidate::score).max().orElseThrow());
        }
        top.sort(Comparator.comparingDouble(Candidate::score).reversed());
        return new Result(List.copyOf(top.subList(0, Math.min(topK, top.size()))), List.copyOf(evaluated), best);
    }
}
