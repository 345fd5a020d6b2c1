// Metrics: top-1 counting from logits.
package org.bnnas.train;

import org.bnnas.engine.tensor.Tensor;

public final class Metrics {
    private Metrics() {}

    /** How many rows of logits (N, K) have their largest value at the label. */
    public static int correct(Tensor logits, int[] labels) {
        float[] z = logits.toArray();
        int k = logits.dim(1), hits = 0;
        for (int r = 0; r < labels.length; r++) {
            int best = 0;
            for (int j = 1; j < k; j++) if (z[r * k + j] > z[r * k + best]) best = j;
            if (best == labels[r]) hits++;
        }
        return hits;
    }
}
