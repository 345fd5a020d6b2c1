// SearchSettings: how a search runs: the predictor that scores a subnet, evolution or random
// sampling, the FLOPs and latency limits, the search's sizes and how many of the best it reports.
package org.bnnas.experiment;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bnnas.score.Predictor;
import org.bnnas.space.LatencyTable;

/**
 * One search's settings. {@code flopsLimit} is the largest FLOPs count of a candidate, 0 for
 * none; {@code calibrationBatches} is used by the accuracy evaluator only (training batches that
 * re-estimate the BN statistics of each subnet); {@code topK} best candidates are reported;
 * {@code latencyTable} (or null) predicts each candidate's latency, and {@code latencyLimitMs}
 * (0 for none) bounds it.
 */
public record SearchSettings(Predictor evaluator, Method method, double flopsLimit, int calibrationBatches, int population, int generations,
                             int topK, LatencyTable latencyTable, double latencyLimitMs) {
    /** evolution: the paper's evolutionary search; random: the same number of uniformly drawn subnets. */
    public enum Method {
        EVOLUTION, RANDOM;

        @Override
        public String toString() {
            return name().toLowerCase();
        }
    }

    public SearchSettings {
        if (evaluator == null || method == null) throw new IllegalArgumentException("search: an evaluator and a method are required");
        if (!(flopsLimit >= 0) || Double.isInfinite(flopsLimit)) throw new IllegalArgumentException("search: FLOPs limit must be finite and >= 0, got " + flopsLimit);
        if (calibrationBatches < 1) throw new IllegalArgumentException("search: calibration batches must be at least 1, got " + calibrationBatches);
        if (population < 2) throw new IllegalArgumentException("search: population must be at least 2, got " + population);
        if (generations < 1) throw new IllegalArgumentException("search: generations must be at least 1, got " + generations);
        if (topK < 1) throw new IllegalArgumentException("search: top-k must be at least 1, got " + topK);
        if (!(latencyLimitMs >= 0) || Double.isInfinite(latencyLimitMs)) throw new IllegalArgumentException("search: latency limit must be finite and >= 0, got " + latencyLimitMs);
        if (latencyLimitMs > 0 && latencyTable == null) throw new IllegalArgumentException("search: a latency limit needs a latency table");
    }

    /** The paper's reporting and no latency table: the best 10. */
    public SearchSettings(Predictor evaluator, Method method, double flopsLimit, int calibrationBatches, int population, int generations) {
        this(evaluator, method, flopsLimit, calibrationBatches, population, generations, 10, null, 0);
    }

    /** The settings as configuration entries (config.json). */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("evaluator", evaluator.toString());
        m.put("method", method.toString());
        m.put("flops_limit", flopsLimit);
        m.put("calibration_batches", calibrationBatches);
        m.put("population", population);
        m.put("generations", generations);
        m.put("top_k", topK);
        if (latencyTable != null) {
            m.put("latency_limit_ms", latencyLimitMs);
            m.put("latency_table", Map.of("device", latencyTable.device(), "batch", latencyTable.batch()));
        }
        return m;
    }
}
