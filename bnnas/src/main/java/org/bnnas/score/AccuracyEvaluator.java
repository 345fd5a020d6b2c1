// AccuracyEvaluator: the SPOS evaluator: reset the BN running statistics, recalibrate them as a
// cumulative average over training batches, then measure top-1 on the validation set.
package org.bnnas.score;

import org.bnnas.data.BatchLoader;
import org.bnnas.data.Dataset;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.Metrics;

/**
 * Recalibration uses the cumulative average (PyTorch's momentum=None): with the usual moving
 * average, 0.9^20 = 12% of the reset variance 1 would remain after 20 batches, far above the
 * variance of Kaiming-initialised depthwise outputs, and every subnet would score near chance.
 */
public final class AccuracyEvaluator implements AutoCloseable {
    private final Supernet net;
    private final BatchLoader calibration;
    private final Dataset validation;
    private final int calibrationBatches, batchSize;
    private final java.util.List<BatchNorm2d> bns;

    public AccuracyEvaluator(Supernet net, Dataset train, Dataset val, int calibrationBatches, int batchSize, long seed) {
        this.net = net;
        this.calibrationBatches = calibrationBatches;
        this.calibration = calibrationLoader(train, batchSize, seed);
        this.validation = val;
        this.batchSize = batchSize;
        this.bns = net.modulesOf(BatchNorm2d.class);
    }

    /**
     * Validation top-1 (a fraction) of {@code arch} after recalibrating its batch norms. The
     * supernet's own BN statistics are put back afterwards, so evaluating in the middle of
     * training (or between two searches) changes nothing in it but the selected path.
     */
    public double evaluate(int[] arch) {
        java.util.List<BatchNorm2d.RunningStats> saved = new java.util.ArrayList<>();
        try {
            for (BatchNorm2d bn : bns) saved.add(bn.saveRunningStats());
            return recalibratedTop1(arch);
        } finally {
            for (int i = 0; i < saved.size(); i++) {
                bns.get(i).restoreRunningStats(saved.get(i));
                saved.get(i).close();
            }
        }
    }

    private double recalibratedTop1(int[] arch) {
        net.select(arch);
        try (GradMode.Guard g = GradMode.noGrad()) {
            recalibrate(net, bns, calibration, calibrationBatches);
            return Metrics.top1(net, validation, batchSize, null);
        }
    }

    /**
     * Resets the running statistics of every BN of {@code net} and re-estimates them as the
     * cumulative average over the first {@code batches} batches of {@code calibration} (a new
     * epoch 0), forwarded in training mode without gradients; then restores PyTorch's default
     * momentum 0.1. Leaves {@code net} in training mode.
     */
    public static void recalibrate(org.bnnas.engine.nn.Module net, int batches, BatchLoader calibration) {
        java.util.List<BatchNorm2d> bns = net.modulesOf(BatchNorm2d.class);
        try (GradMode.Guard g = GradMode.noGrad()) {
            recalibrate(net, bns, calibration, batches);
        }
    }

    private static void recalibrate(org.bnnas.engine.nn.Module net, java.util.List<BatchNorm2d> bns, BatchLoader calibration, int batches) {
        for (BatchNorm2d bn : bns) {
            bn.resetRunningStats();
            bn.setMomentum(null);
        }
        net.train();
        calibration.startEpoch(0);
        for (int i = 0; i < batches && calibration.hasNext(); i++) {
            try (MemoryScope s = MemoryScope.open(); BatchLoader.Batch b = calibration.next()) {
                net.forward(b.images());
            }
        }
        for (BatchNorm2d bn : bns) bn.setMomentum(0.1);
    }

    /** The loader recalibration draws from: shuffled training batches, no augmentation. */
    public static BatchLoader calibrationLoader(Dataset train, int batchSize, long seed) {
        return new BatchLoader(train, new BatchLoader.Options(batchSize, true, false, false, seed));
    }

    @Override
    public void close() {
        calibration.close();
    }
}
