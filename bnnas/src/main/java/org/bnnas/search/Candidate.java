// Candidate: an evaluated architecture: its score, FLOPs, parameters, predicted latency and, for a
// finalist checked on the machine, its measured latency.
package org.bnnas.search;

/**
 * {@code latencyMs} is the latency table's prediction, NaN when the search has no table;
 * {@code measuredMs} the whole network's forward time measured here, NaN when not measured.
 */
public record Candidate(int[] arch, double score, double flops, long params, double latencyMs, double measuredMs) {
    public Candidate(int[] arch, double score, double flops, long params, double latencyMs) {
        this(arch, score, flops, params, latencyMs, Double.NaN);
    }

    public Candidate withMeasuredMs(double ms) {
        return new Candidate(arch, score, flops, params, latencyMs, ms);
    }
}
