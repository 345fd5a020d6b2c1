// Candidate: an evaluated architecture: its score, FLOPs, parameters and predicted latency.
package org.bnnas.search;

/** {@code latencyMs} is the latency table's prediction, NaN when the search has no table. */
public record Candidate(int[] arch, double score, double flops, long params, double latencyMs) {}
