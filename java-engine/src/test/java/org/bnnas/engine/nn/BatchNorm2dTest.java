// BatchNorm2dTest: the layer against PyTorch's BatchNorm2d semantics, with every expected value
// computed here from the definition in double.
package org.bnnas.engine.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * PyTorch's {@code nn.BatchNorm2d(C)} (eps 1e-5, momentum 0.1, affine, track_running_stats):
 * <ul>
 *   <li>training normalises with the batch mean and the <em>biased</em> batch variance;</li>
 *   <li>running_mean = 0.9 running_mean + 0.1 mean, running_var = 0.9 running_var + 0.1 var * n / (n - 1)
 *       (the <em>unbiased</em> variance, n = N*H*W values per channel);</li>
 *   <li>momentum None: the cumulative average, factor 1 / num_batches_tracked;</li>
 *   <li>evaluation normalises with the running statistics and changes no state.</li>
 * </ul>
 */
class BatchNorm2dTest {
    private static final int N = 4, C = 3, H = 3, W = 5;
    private static final int COUNT = N * H * W; // values per channel
    private static final double EPS = 1e-5;

    /** Logical (N, C, H, W) values with a different mean and spread per channel and per batch. */
    private static float[] batch(long seed) {
        Rng rng = new Rng(seed);
        float[] x = new float[N * C * H * W];
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < C; c++) {
                for (int p = 0; p < H * W; p++) {
                    double centre = (c - 1) * 1.5 + seed % 3, spread = 0.5 + c;
                    x[(n * C + c) * H * W + p] = (float) (centre + spread * rng.nextGaussian());
                }
            }
        }
        return x;
    }

    private static double[] mean(float[] x) {
        double[] m = new double[C];
        for (int n = 0; n < N; n++) for (int c = 0; c < C; c++) for (int p = 0; p < H * W; p++) m[c] += x[(n * C + c) * H * W + p];
        for (int c = 0; c < C; c++) m[c] /= COUNT;
        return m;
    }

    /** The biased variance (divides by n), as the normalisation uses. */
    private static double[] biasedVar(float[] x) {
        double[] m = mean(x), v = new double[C];
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < C; c++) {
                for (int p = 0; p < H * W; p++) {
                    double d = x[(n * C + c) * H * W + p] - m[c];
                    v[c] += d * d;
                }
            }
        }
        for (int c = 0; c < C; c++) v[c] /= COUNT;
        return v;
    }

    private static double[] unbiasedVar(float[] x) {
        double[] v = biasedVar(x);
        for (int c = 0; c < C; c++) v[c] = v[c] * COUNT / (COUNT - 1);
        return v;
    }

    /** (x - mean) / sqrt(var + eps) * gamma + beta per channel. */
    private static double[] normalise(float[] x, double[] mean, double[] var, float[] gamma, float[] beta) {
        double[] y = new double[x.length];
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < C; c++) {
                for (int p = 0; p < H * W; p++) {
                    int i = (n * C + c) * H * W + p;
                    y[i] = (x[i] - mean[c]) / Math.sqrt(var[c] + EPS) * gamma[c] + beta[c];
                }
            }
        }
        return y;
    }

    private static void assertClose(double[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            assertTrue(err <= tol * Math.max(1.0, Math.abs(expected[i])),
                    what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i] + " (error " + err + ")");
        }
    }

    private static void setAffine(BatchNorm2d bn, float[] gamma, float[] beta) {
        bn.weight().data().copyFrom(gamma);
        bn.bias().data().copyFrom(beta);
    }

    private static final float[] GAMMA = {1.5f, -0.7f, 0.3f};
    private static final float[] BETA = {0.25f, -1.0f, 2.0f};

    @Test
    void initialState() {
        try (BatchNorm2d bn = new BatchNorm2d(C)) {
            assertArrayEquals(new float[] {1, 1, 1}, bn.weight().data().toArray(), "gamma starts at 1");
            assertArrayEquals(new float[] {0, 0, 0}, bn.bias().data().toArray(), "beta starts at 0");
            assertArrayEquals(new float[] {0, 0, 0}, bn.runningMean().toArray(), "running_mean starts at 0");
            assertArrayEquals(new float[] {1, 1, 1}, bn.runningVar().toArray(), "running_var starts at 1");
            assertEquals(0L, bn.numBatchesTracked());
            assertEquals(0.1, bn.momentum(), "PyTorch's default momentum");
            assertEquals(1e-5f, bn.eps, "PyTorch's default eps");
            assertTrue(bn.isTraining(), "a new module is in training mode");
            assertTrue(bn.weight().requiresGrad() && bn.bias().requiresGrad(), "gamma and beta are trainable");
            assertNull(bn.weight().grad());
            assertEquals(List.of("weight", "bias"), List.copyOf(bn.namedParameters().keySet()));
            assertEquals(List.of("running_mean", "running_var"), List.copyOf(bn.namedBuffers().keySet()));
        }
    }

    @Test
    void trainingNormalisesWithBiasedBatchVarianceAndUpdatesRunningStatsWithUnbiasedVariance() {
        float[] x = batch(1);
        try (BatchNorm2d bn = new BatchNorm2d(C); MemoryScope s = MemoryScope.open()) {
            setAffine(bn, GAMMA, BETA);
            Tensor y = bn.forward(Tensor.fromArray(x, N, C, H, W));

            double[] m = mean(x), v = biasedVar(x), uv = unbiasedVar(x);
            assertEquals(List.of(N, C, H, W), List.of(y.dim(0), y.dim(1), y.dim(2), y.dim(3)));
            assertClose(normalise(x, m, v, GAMMA, BETA), y.toArray(), 2e-5, "training output (biased variance)");

            double[] expectedMean = new double[C], expectedVar = new double[C];
            for (int c = 0; c < C; c++) {
                expectedMean[c] = 0.9 * 0.0 + 0.1 * m[c];
                expectedVar[c] = 0.9 * 1.0 + 0.1 * uv[c];
            }
            assertClose(expectedMean, bn.runningMean().toArray(), 1e-6, "running_mean after one batch");
            assertClose(expectedVar, bn.runningVar().toArray(), 1e-6, "running_var after one batch (unbiased)");
            assertEquals(1L, bn.numBatchesTracked());

            // A second batch: the exponential moving average continues from the first.
            float[] x2 = batch(2);
            bn.forward(Tensor.fromArray(x2, N, C, H, W));
            double[] m2 = mean(x2), uv2 = unbiasedVar(x2);
            for (int c = 0; c < C; c++) {
                expectedMean[c] = 0.9 * expectedMean[c] + 0.1 * m2[c];
                expectedVar[c] = 0.9 * expectedVar[c] + 0.1 * uv2[c];
            }
            assertClose(expectedMean, bn.runningMean().toArray(), 1e-6, "running_mean after two batches");
            assertClose(expectedVar, bn.runningVar().toArray(), 1e-6, "running_var after two batches");
            assertEquals(2L, bn.numBatchesTracked());
        }
    }

    @Test
    void theUnbiasedCorrectionIsReallyApplied() {
        // With momentum 1 the running statistics are exactly the last batch's: running_var must be
        // the unbiased variance, which differs from the biased one by n / (n - 1) = 60 / 59.
        float[] x = batch(3);
        try (BatchNorm2d bn = new BatchNorm2d(C, 1e-5f, 1.0); MemoryScope s = MemoryScope.open()) {
            bn.forward(Tensor.fromArray(x, N, C, H, W));
            double[] v = biasedVar(x), uv = unbiasedVar(x);
            assertClose(mean(x), bn.runningMean().toArray(), 1e-6, "running_mean with momentum 1");
            assertClose(uv, bn.runningVar().toArray(), 1e-6, "running_var with momentum 1");
            for (int c = 0; c < C; c++) {
                assertTrue(Math.abs(bn.runningVar().toArray()[c] - v[c]) > 1e-3 * v[c],
                        "running_var must not be the biased variance (channel " + c + ")");
            }
        }
    }

    @Test
    void evaluationUsesRunningStatisticsAndChangesNoState() {
        float[] train = batch(4), test = batch(5);
        try (BatchNorm2d bn = new BatchNorm2d(C); MemoryScope s = MemoryScope.open()) {
            setAffine(bn, GAMMA, BETA);
            bn.forward(Tensor.fromArray(train, N, C, H, W));
            float[] rm = bn.runningMean().toArray(), rv = bn.runningVar().toArray();
            long tracked = bn.numBatchesTracked();

            bn.eval();
            assertFalse(bn.isTraining());
            Tensor y = bn.forward(Tensor.fromArray(test, N, C, H, W));
            double[] rmd = new double[C], rvd = new double[C];
            for (int c = 0; c < C; c++) {
                rmd[c] = rm[c];
                rvd[c] = rv[c];
            }
            assertClose(normalise(test, rmd, rvd, GAMMA, BETA), y.toArray(), 2e-5, "evaluation output (running statistics)");
            assertArrayEquals(rm, bn.runningMean().toArray(), "evaluation must not touch running_mean");
            assertArrayEquals(rv, bn.runningVar().toArray(), "evaluation must not touch running_var");
            assertEquals(tracked, bn.numBatchesTracked(), "evaluation forwards are not counted");

            // The very same input in eval mode but with fresh running stats (0, 1): y = x / sqrt(1 + eps) * gamma + beta.
            bn.resetRunningStats();
            Tensor y0 = bn.forward(Tensor.fromArray(test, N, C, H, W));
            assertClose(normalise(test, new double[C], new double[] {1, 1, 1}, GAMMA, BETA), y0.toArray(), 2e-5,
                    "evaluation with reset statistics");
        }
    }

    @Test
    void cumulativeAverageAfterThreeBatchesIsThePlainAverage() {
        float[][] xs = {batch(10), batch(11), batch(12)};
        try (BatchNorm2d bn = new BatchNorm2d(C); MemoryScope s = MemoryScope.open()) {
            bn.setMomentum(null);
            assertNull(bn.momentum());
            // Start from non-default statistics: the cumulative average must forget them entirely.
            bn.runningMean().copyFrom(new float[] {5f, -5f, 7f});
            bn.runningVar().copyFrom(new float[] {9f, 0.1f, 3f});
            for (float[] x : xs) bn.forward(Tensor.fromArray(x, N, C, H, W));

            double[] avgMean = new double[C], avgVar = new double[C];
            for (float[] x : xs) {
                double[] m = mean(x), uv = unbiasedVar(x);
                for (int c = 0; c < C; c++) {
                    avgMean[c] += m[c] / xs.length;
                    avgVar[c] += uv[c] / xs.length;
                }
            }
            assertEquals(3L, bn.numBatchesTracked());
            assertClose(avgMean, bn.runningMean().toArray(), 2e-6, "running_mean = average of the 3 batch means");
            assertClose(avgVar, bn.runningVar().toArray(), 2e-6, "running_var = average of the 3 unbiased variances");
        }
    }

    @Test
    void cumulativeAverageAfterResetIsTheFirstBatchThenTheAverage() {
        // BN recalibration: reset, switch to the cumulative average, run k batches.
        float[] a = batch(20), b = batch(21);
        try (BatchNorm2d bn = new BatchNorm2d(C); MemoryScope s = MemoryScope.open()) {
            for (int i = 0; i < 4; i++) bn.forward(Tensor.fromArray(batch(30 + i), N, C, H, W));
            bn.resetRunningStats();
            bn.setMomentum(null);
            bn.forward(Tensor.fromArray(a, N, C, H, W));
            assertClose(mean(a), bn.runningMean().toArray(), 1e-6, "after one batch: that batch's mean");
            assertClose(unbiasedVar(a), bn.runningVar().toArray(), 1e-6, "after one batch: that batch's unbiased variance");
            bn.forward(Tensor.fromArray(b, N, C, H, W));
            double[] ma = mean(a), mb = mean(b), va = unbiasedVar(a), vb = unbiasedVar(b), em = new double[C], ev = new double[C];
            for (int c = 0; c < C; c++) {
                em[c] = (ma[c] + mb[c]) / 2;
                ev[c] = (va[c] + vb[c]) / 2;
            }
            assertClose(em, bn.runningMean().toArray(), 1e-6, "after two batches: mean of means");
            assertClose(ev, bn.runningVar().toArray(), 1e-6, "after two batches: mean of variances");
            assertEquals(2L, bn.numBatchesTracked());
        }
    }

    @Test
    void numBatchesTrackedCountsTrainingForwardsOnly() {
        try (BatchNorm2d bn = new BatchNorm2d(C); MemoryScope s = MemoryScope.open()) {
            Tensor x = Tensor.fromArray(batch(7), N, C, H, W);
            for (int i = 0; i < 5; i++) bn.forward(x);
            assertEquals(5L, bn.numBatchesTracked());
            bn.eval();
            for (int i = 0; i < 3; i++) bn.forward(x);
            assertEquals(5L, bn.numBatchesTracked(), "evaluation forwards are not counted");
            bn.train();
            bn.forward(x);
            assertEquals(6L, bn.numBatchesTracked());
        }
    }

    @Test
    void resetRunningStatsRestoresTheInitialStatistics() {
        try (BatchNorm2d bn = new BatchNorm2d(C); MemoryScope s = MemoryScope.open()) {
            setAffine(bn, GAMMA, BETA);
            for (int i = 0; i < 3; i++) bn.forward(Tensor.fromArray(batch(40 + i), N, C, H, W));
            assertFalse(java.util.Arrays.equals(new float[] {0, 0, 0}, bn.runningMean().toArray()));
            bn.resetRunningStats();
            assertArrayEquals(new float[] {0, 0, 0}, bn.runningMean().toArray(), "running_mean back to 0");
            assertArrayEquals(new float[] {1, 1, 1}, bn.runningVar().toArray(), "running_var back to 1");
            assertEquals(0L, bn.numBatchesTracked(), "num_batches_tracked back to 0");
            // PyTorch's reset_running_stats leaves the affine parameters alone.
            assertArrayEquals(GAMMA, bn.weight().data().toArray(), "gamma untouched by the reset");
            assertArrayEquals(BETA, bn.bias().data().toArray(), "beta untouched by the reset");
        }
    }

    @Test
    void stateDictHasPyTorchNamesAndAnI64BatchCounter() {
        try (BatchNorm2d bn = new BatchNorm2d(C); MemoryScope s = MemoryScope.open()) {
            setAffine(bn, GAMMA, BETA);
            bn.forward(Tensor.fromArray(batch(50), N, C, H, W));
            bn.forward(Tensor.fromArray(batch(51), N, C, H, W));
            Map<String, TensorData> sd = bn.stateDict();
            assertEquals(List.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked"), List.copyOf(sd.keySet()),
                    "PyTorch's BatchNorm2d state dict, in PyTorch's order");
            for (String k : List.of("weight", "bias", "running_mean", "running_var")) {
                assertEquals(TensorData.DType.F32, sd.get(k).dtype(), k);
                assertArrayEquals(new int[] {C}, sd.get(k).shape(), k);
            }
            assertArrayEquals(GAMMA, sd.get("weight").floats());
            assertArrayEquals(BETA, sd.get("bias").floats());
            assertArrayEquals(bn.runningMean().toArray(), sd.get("running_mean").floats());
            assertArrayEquals(bn.runningVar().toArray(), sd.get("running_var").floats());
            TensorData nbt = sd.get("num_batches_tracked");
            assertEquals(TensorData.DType.I64, nbt.dtype(), "num_batches_tracked is int64, as in PyTorch");
            assertArrayEquals(new int[0], nbt.shape(), "num_batches_tracked is a 0-d tensor");
            assertEquals(2L, nbt.longValue("num_batches_tracked"));
            assertThrows(IllegalStateException.class, nbt::floats);

            // Round trip into a fresh layer restores everything, the counter included.
            try (BatchNorm2d copy = new BatchNorm2d(C)) {
                copy.loadStateDict(sd, true);
                assertEquals(sd, copy.stateDict());
                assertEquals(2L, copy.numBatchesTracked());
            }
        }
    }

    @Test
    void savedRunningStatsComeBackAfterRecalibration() {
        try (BatchNorm2d bn = new BatchNorm2d(C); MemoryScope s = MemoryScope.open()) {
            Tensor x = Tensor.fromArray(batch(30), N, C, H, W);
            bn.forward(x);
            bn.forward(x);
            Map<String, TensorData> before = bn.stateDict();
            try (BatchNorm2d.RunningStats saved = bn.saveRunningStats()) {
                // what recalibration does: reset, cumulative average over other batches
                bn.resetRunningStats();
                bn.setMomentum(null);
                bn.forward(Tensor.fromArray(batch(31), N, C, H, W));
                assertEquals(1L, bn.numBatchesTracked());
                bn.restoreRunningStats(saved);
                assertEquals(before, bn.stateDict(), "running mean, variance and num_batches_tracked as saved");
                assertEquals(0.1, bn.momentum(), "the momentum as saved");
                bn.forward(x);
                assertArrayEquals(before.get("running_var").floats(), saved.var().toArray(), "the saved copy does not follow the layer");
            }
        }
    }

    @Test
    void trainingNeedsMoreThanOneValuePerChannel() {
        try (BatchNorm2d bn = new BatchNorm2d(C); MemoryScope s = MemoryScope.open()) {
            Tensor single = Tensor.fromArray(new float[] {1, 2, 3}, 1, C, 1, 1);
            assertThrows(IllegalArgumentException.class, () -> bn.forward(single), "PyTorch raises for 1 value per channel");
            bn.eval();
            Tensor y = bn.forward(single); // fine in evaluation
            assertClose(new double[] {1 / Math.sqrt(1 + EPS), 2 / Math.sqrt(1 + EPS), 3 / Math.sqrt(1 + EPS)}, y.toArray(), 1e-6,
                    "evaluation of a single pixel");
        }
    }
}
