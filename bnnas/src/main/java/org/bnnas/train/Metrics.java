// Metrics: the top-1 of a network over a whole data set, counted on the device unless each
// prediction is wanted (training counts its hits with Ops.countCorrect too).
package org.bnnas.train;

import org.bnnas.data.BatchLoader;
import org.bnnas.data.Dataset;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Tensor;

public final class Metrics {
    private Metrics() {}

    /** Receives each image's prediction during {@link #top1}. */
    public interface PredictionSink {
        void accept(int index, int label, int predicted);
    }

    /**
     * Top-1 (a fraction) of {@code net} in eval mode over every image of {@code data}, in file
     * order; {@code sink}, when not null, receives every image's prediction. The predicted class
     * is the one with the largest logit, the first on a tie.
     *
     * <p>Without a sink the hits are counted on the device, one slot per batch, and read once at
     * the end: on a GPU the forwards queue up instead of each waiting for its logits to reach the
     * host. With a sink the logits of every batch are read.
     */
    public static double top1(Module net, Dataset data, int batchSize, PredictionSink sink) {
        net.eval();
        try (GradMode.Guard g = GradMode.noGrad(); BatchLoader loader = new BatchLoader(data, BatchLoader.Options.evaluation(batchSize))) {
            long correct = sink == null ? countOnDevice(net, loader) : countOnHost(net, loader, data.classes(), sink);
            return correct / (double) data.count();
        }
    }

    private static long countOnDevice(Module net, BatchLoader loader) {
        try (Tensor hits = MemoryScope.detach(Tensor.zeros(Math.max(1, loader.batchesPerEpoch())))) {
            for (int batch = 0; loader.hasNext(); batch++) {
                try (MemoryScope s = MemoryScope.open(); BatchLoader.Batch b = loader.next()) {
                    hits.copyFrom(Ops.countCorrect(net.forward(b.images()), b.labels()), batch);
                }
            }
            long correct = 0;
            for (float h : hits.toStorageArray()) correct += (long) h; // each slot counts at most one batch: exact in float
            return correct;
        }
    }

    private static long countOnHost(Module net, BatchLoader loader, int classes, PredictionSink sink) {
        long correct = 0;
        int index = 0;
        while (loader.hasNext()) {
            try (MemoryScope s = MemoryScope.open(); BatchLoader.Batch b = loader.next()) {
                float[] z = net.forward(b.images()).toArray();
                for (int r = 0; r < b.size(); r++) {
                    int best = predicted(z, r, classes);
                    if (best == b.labels()[r]) correct++;
                    sink.accept(index++, b.labels()[r], best);
                }
            }
        }
        return correct;
    }

    /** The class with the largest logit in row {@code r} of {@code k}-wide logits (the first on a tie), as Ops.countCorrect picks it. */
    private static int predicted(float[] z, int r, int k) {
        int best = 0;
        for (int j = 1; j < k; j++) if (z[r * k + j] > z[r * k + best]) best = j;
        return best;
    }
}
