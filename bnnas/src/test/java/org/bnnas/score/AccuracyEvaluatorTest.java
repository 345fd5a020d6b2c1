// AccuracyEvaluatorTest: the SPOS evaluator recalibrates with a cumulative average, returns a
// fraction, and leaves the supernet as it found it.
package org.bnnas.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.bnnas.data.BatchLoader;
import org.bnnas.data.Dataset;
import org.bnnas.data.TestFiles;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.Supernet;
import org.junit.jupiter.api.Test;

class AccuracyEvaluatorTest {
    private static final SearchSpace SPACE = SearchSpace.load("bnnas-small");

    private static Dataset random(int count, long seed) {
        return TestFiles.randomImages(count, seed);
    }

    @Test
    void evaluationGivesAFractionAndLeavesTheSupernetUnchanged() {
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0));
             AccuracyEvaluator ev = new AccuracyEvaluator(net, random(64, 1), random(40, 2), 3, 16, 5)) {
            trainOneBatch(net, Architecture.sample(SPACE, new Rng(4))); // running statistics other than the reset values
            Map<String, TensorData> before = net.stateDict();
            double top1 = ev.evaluate(Architecture.sample(SPACE, new Rng(3)));
            assertTrue(top1 >= 0 && top1 <= 1, "a fraction: " + top1);
            assertEquals(Math.round(top1 * 40) / 40.0, top1, 1e-12, "a count of the 40 validation images");
            Map<String, TensorData> after = net.stateDict();
            for (String k : before.keySet()) assertEquals(before.get(k), after.get(k), k + " is restored");
        }
    }

    /** One training-mode forward of {@code arch}: its BNs' running statistics move and count a batch. */
    private static void trainOneBatch(Supernet net, int[] arch) {
        net.select(arch);
        net.train();
        try (MemoryScope s = MemoryScope.open(); GradMode.Guard g = GradMode.noGrad();
             BatchLoader loader = AccuracyEvaluator.calibrationLoader(random(16, 7), 16, 1); BatchLoader.Batch b = loader.next()) {
            net.forward(b.images());
        }
    }

    @Test
    void recalibrationIsACumulativeAverageOverTheGivenBatches() {
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0));
             BatchLoader calibration = AccuracyEvaluator.calibrationLoader(random(64, 1), 16, 5)) {
            net.select(Architecture.sample(SPACE, new Rng(3)));
            AccuracyEvaluator.recalibrate(net, 3, calibration);
            BatchNorm2d stem = (BatchNorm2d) net.children().get("conv_bn").children().get("1");
            assertEquals(3, stem.numBatchesTracked(), "three batches seen since the reset");
            // With a cumulative average the running variance is the mean of three batch variances
            // of Kaiming-scaled outputs: far from the reset value 1 that a moving average would keep 0.9^3 of.
            float[] var = stem.runningVar().toArray();
            double mean = 0;
            for (float v : var) mean += v / var.length;
            assertTrue(mean < 0.9 * 0.9 * 0.9, "no trace of the reset variance: " + mean);
        }
    }
}
