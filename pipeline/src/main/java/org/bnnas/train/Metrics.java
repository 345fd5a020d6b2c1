// Metrics: the top-1 of a network over a whole data set (training counts its hits with Ops.countCorrect).
package org.bnnas.train;

import org.bnnas.data.BatchLoader;
import org.bnnas.data.Dataset;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Tensor;

public final class Metrics {
    private Metrics() {}

    /** The class with the largest logit in row {@code r} of {@code k}-wide logits (the first on a tie). */
    private static int predicted(float[] z, int r, int k) {
        int best = 0;
        for (int j = 1; j < k; j++) if (z[r * k + j] > z[r * k + best]) best = j;
        return best;
    }

    /** Receives each image's prediction during {@link #top1}. */
    public interface PredictionSink {
        void accept(int index, int label, int predicted);
    }

    /** Top-1 (a fraction) of {@code net} in eval mode over every image of {@code data}, in file order. */
    public static double top1(Module net, Dataset data, int batchSize, PredictionSink sink) {
        net.eval();
        long correct = 0;
        int index = 0;
        try (GradMode.Guard g = GradMode.noGrad(); BatchLoader loader = new BatchLoader(data, BatchLoader.Options.evaluation(batchSize))) {
            while (loader.hasNext()) {
                try (MemoryScope s = MemoryScope.open(); BatchLoader.Batch b = loader.next()) {
                    float[] z = net.forward(b.images()).toArray();
                    int k = data.classes();
                    for (int r = 0; r < b.size(); r++) {
                        int best = predicted(z, r, k);
                        if (best == b.labels()[r]) correct++;
                        if (sink != null) sink.accept(index, b.labels()[r], best);
                        index++;
                    }
                }
            }
        }
        return correct / (double) data.count();
    }
}
