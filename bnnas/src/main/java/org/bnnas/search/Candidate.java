// Candidate: an evaluated architecture: its score, FLOPs and parameters.
package org.bnnas.search;

public record Candidate(int[] arch, double score, double flops, long params) {}
