// CudaBackendTest: every kernel of the CUDA backend against the CPU backend (the reference) on
// random inputs in the shapes the two search spaces use, TF32 off, relative error at most 1e-4;
// every GPU output is poisoned with NaN first, so an element a kernel fails to write shows up.
// Skipped, with the reason, where there is no GPU.
package org.bnnas.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.bnnas.engine.backend.Backend;
import org.bnnas.engine.backend.BatchNormState;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.backend.ConvSpec;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@ExtendWith(Gpu.class)
class CudaBackendTest {
    private static final double RTOL = 1e-4, ATOL = 1e-5;
    private static final Backend CPU = Backends.cpu();
    private final Random random = new Random(7);

    /** An argument: its shape and its values in storage order. */
    private record In(int[] dims, float[] values) {}

    /** The op under test, given its inputs (null where the argument is null) and its outputs. */
    private interface Op {
        void run(Backend be, Tensor[] in, Tensor[] out);
    }

    private In rand(int... dims) {
        int n = 1;
        for (int d : dims) n *= d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) random.nextGaussian();
        return new In(dims, v);
    }

    private static int[] dims(int... d) {
        return d;
    }

    private static int[][] shapes(int[]... d) {
        return d;
    }

    /** Runs {@code op} on both backends, each on its own copies of the inputs, and compares every output element. */
    private void check(String name, In[] ins, int[][] outShapes, Op op) {
        float[][] ref = run(CPU, ins, outShapes, op, 0f);
        float[][] got = run(Gpu.backend(), ins, outShapes, op, Float.NaN);
        for (int i = 0; i < outShapes.length; i++) compare(name + " output " + i, ref[i], got[i]);
    }

    private static float[][] run(Backend be, In[] ins, int[][] outShapes, Op op, float poison) {
        Backends.use(be); // new tensors take this backend's memory
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor[] in = new Tensor[ins.length], out = new Tensor[outShapes.length];
            for (int i = 0; i < ins.length; i++) {
                if (ins[i] == null) continue;
                in[i] = Tensor.empty(ins[i].dims());
                in[i].copyFromStorage(ins[i].values());
            }
            for (int i = 0; i < out.length; i++) {
                out[i] = Tensor.empty(outShapes[i]);
                out[i].fill(poison);
            }
            op.run(be, in, out);
            float[][] result = new float[out.length][];
            for (int i = 0; i < out.length; i++) result[i] = out[i].toStorageArray();
            return result;
        } finally {
            Backends.use(Gpu.backend());
        }
    }

    private static void compare(String name, float[] ref, float[] got) {
        double worst = 0;
        for (int i = 0; i < ref.length; i++) {
            if (Float.isNaN(got[i]) && !Float.isNaN(ref[i])) fail(name + ": element " + i + " of " + ref.length + " was not written");
            double err = Math.abs(got[i] - ref[i]);
            worst = Math.max(worst, err);
            if (err > ATOL + RTOL * Math.abs(ref[i])) {
                fail(name + ": element " + i + " is " + got[i] + ", the CPU says " + ref[i] + " (largest error so far " + worst + ")");
            }
        }
    }

    @Test
    void elementwise() {
        In a = rand(3, 16, 28, 28), b = rand(3, 16, 28, 28);
        In[] ab = {a, b};
        int[][] one = shapes(a.dims());
        check("add", ab, one, (be, in, o) -> be.add(in[0], in[1], o[0]));
        check("mul", ab, one, (be, in, o) -> be.mul(in[0], in[1], o[0]));
        check("addInPlace", ab, one, (be, in, o) -> { o[0].copyFrom(in[0]); be.addInPlace(o[0], in[1]); });
        check("clampRelu 6", ab, one, (be, in, o) -> be.clampRelu(in[0], 6f, o[0]));
        check("clampRelu inf", ab, one, (be, in, o) -> be.clampRelu(in[0], Float.POSITIVE_INFINITY, o[0]));
        check("clampReluBackward", ab, one, (be, in, o) -> be.clampReluBackward(in[0], in[1], 0.5f, o[0]));
        check("clampInPlace", ab, one, (be, in, o) -> { o[0].copyFrom(in[0]); be.clampInPlace(o[0], 0.8f); });
        check("fill", ab, one, (be, in, o) -> o[0].fill(2.5f));
        check("copy", ab, one, (be, in, o) -> o[0].copyFrom(in[1]));
        check("copy into a slot", new In[] {rand(5)}, shapes(dims(12)), (be, in, o) -> {
            o[0].fill(1f);
            o[0].copyFrom(in[0], 7);
        });
        In factor = rand(1);
        check("scaleBy", new In[] {a, factor}, one, (be, in, o) -> be.scaleBy(in[0], in[1], o[0]));
    }

    @ParameterizedTest(name = "conv2d n{0} ci{1} {2}x{2} co{3} k{4} s{5} p{6} g{7}")
    @CsvSource({
        "8, 1, 28, 16, 3, 1, 1, 1",      // bnnas-small stem on Fashion-MNIST
        "8, 3, 32, 16, 3, 1, 1, 1",      // bnnas-small stem on CIFAR-10
        "8, 24, 14, 72, 1, 1, 0, 1",     // pointwise expansion
        "8, 72, 14, 72, 5, 2, 2, 72",    // depthwise, stride 2
        "8, 40, 7, 40, 7, 1, 3, 40",     // depthwise 7x7
        "2, 3, 224, 16, 3, 2, 1, 1",     // bnnas-imagenet stem
        "2, 96, 56, 96, 3, 1, 1, 96",    // bnnas-imagenet depthwise
    })
    void convolution(int n, int ci, int hw, int co, int k, int stride, int pad, int groups) {
        ConvSpec spec = new ConvSpec(k, stride, pad, groups);
        int oh = spec.outSize(hw);
        In[] xwdy = {rand(n, ci, hw, hw), rand(co, ci / groups, k, k), rand(n, co, oh, oh)};
        check("conv2d", xwdy, shapes(dims(n, co, oh, oh)), (be, in, o) -> be.conv2d(in[0], in[1], o[0], spec));
        check("conv2dBackwardData", xwdy, shapes(dims(n, ci, hw, hw)), (be, in, o) -> be.conv2dBackwardData(in[2], in[1], o[0], spec));
        check("conv2dBackwardWeight", xwdy, shapes(dims(co, ci / groups, k, k)), (be, in, o) -> be.conv2dBackwardWeight(in[2], in[0], o[0], spec));
    }

    @ParameterizedTest(name = "depthwiseAffine n{0} c{1} {2}x{2} k{3} s{4} outMap {5}")
    @CsvSource({"8, 48, 14, 3, 1, true", "8, 48, 14, 5, 2, false", "4, 24, 28, 7, 1, true", "2, 96, 56, 3, 2, false"})
    void depthwiseAffine(int n, int c, int hw, int k, int stride, boolean outMap) {
        ConvSpec spec = new ConvSpec(k, stride, k / 2, c);
        int oh = spec.outSize(hw);
        // x, w, inScale, inShift, dy, outScale, outShift
        In[] args = {rand(n, c, hw, hw), rand(c, 1, k, k), rand(c), rand(c), rand(n, c, oh, oh), outMap ? rand(c) : null, outMap ? rand(c) : null};
        check("depthwiseAffine", args, shapes(dims(n, c, oh, oh)),
                (be, in, o) -> be.depthwiseAffine(in[0], in[2], in[3], 6f, in[1], spec, in[5], in[6], outMap ? 6f : 0f, o[0]));
        check("depthwiseAffineBackwardWeight", args, shapes(dims(c, 1, k, k)),
                (be, in, o) -> be.depthwiseAffineBackwardWeight(in[4], in[0], in[2], in[3], 6f, o[0], spec));
    }

    /**
     * offset: added to x. cuDNN documents that its persistent batch-norm mode may lose precision
     * on inputs of a large range; activations far from zero (100 + N(0, 1)) check that it does not.
     */
    @ParameterizedTest(name = "batch norm n{0} c{1} {2}x{2} cap {3} batchStats {4} offset {5}")
    @CsvSource({"8, 16, 28, 6, true, 0", "8, 72, 7, 0, true, 0", "8, 40, 14, 6, false, 0", "2, 960, 7, 0, false, 0", "64, 16, 1, 6, true, 0",
                "64, 24, 14, 0, true, 0", "2, 1280, 7, 0, true, 0", "8, 72, 7, 0, true, 100", "64, 24, 14, 0, true, 100"})
    void batchNorm(int n, int c, int hw, float cap, boolean batchStats, float offset) {
        In x = rand(n, c, hw, hw);
        for (int i = 0; i < x.values().length; i++) x.values()[i] += offset;
        In dy = rand(n, c, hw, hw), gamma = rand(c), beta = rand(c), runningMean = rand(c), runningVar = positive(c);
        In[] args = {x, dy, gamma, beta, runningMean, runningVar};
        check("batchNormStats", args, shapes(dims(c), dims(c)), (be, in, o) -> be.batchNormStats(in[0], o[0], o[1]));
        // The per-channel values the later kernels take, computed on each backend from the same batch.
        Op withFold = (be, in, o) -> {
            try (Tensor mean = Tensor.empty(c); Tensor var = Tensor.empty(c)) {
                be.batchNormStats(in[0], mean, var);
                be.batchNormFold(in[2], in[3], mean, var, 1e-5f, o[0], o[1], o[2]);
            }
        };
        check("batchNormFold", args, shapes(dims(c), dims(c), dims(c)), withFold);
        check("updateRunningStat", args, shapes(dims(c)), (be, in, o) -> {
            try (Tensor mean = Tensor.empty(c); Tensor var = Tensor.empty(c)) {
                be.batchNormStats(in[0], mean, var);
                o[0].copyFrom(in[2]);
                be.updateRunningStat(o[0], var, 0.1, 1.01);
            }
        });
        check("channelAffine", args, shapes(dims(n, c, hw, hw)), (be, in, o) -> {
            try (Tensor scale = Tensor.empty(c); Tensor shift = Tensor.empty(c); Tensor invStd = Tensor.empty(c)) {
                withFold.run(be, in, new Tensor[] {scale, shift, invStd});
                be.channelAffine(in[0], scale, shift, cap, o[0]);
            }
        });
        // The whole forward (cuDNN's where cap is 0): y, the four per-channel values of the state and the running statistics.
        int[][] forwardOuts = shapes(dims(n, c, hw, hw), dims(c), dims(c), dims(c), dims(c), dims(c), dims(c));
        check("batchNorm forward", args, forwardOuts, (be, in, o) -> {
            BatchNormState st = new BatchNormState(in[2], 1e-5f, batchStats, o[1], o[2], o[3], o[4]);
            o[5].copyFrom(in[4]);
            o[6].copyFrom(in[5]);
            be.batchNorm(in[0], in[3], o[5], o[6], 0.1, cap, st, o[0]);
        });
        for (boolean inputGradient : new boolean[] {true, false}) {
            check("batchNormBackward, dx " + inputGradient, args, shapes(dims(n, c, hw, hw), dims(c), dims(c)), (be, in, o) -> {
                try (Tensor runMean = Tensor.empty(c); Tensor runVar = Tensor.empty(c); Tensor y = Tensor.empty(n, c, hw, hw)) {
                    runMean.copyFrom(in[4]);
                    runVar.copyFrom(in[5]);
                    BatchNormState st = BatchNormState.allocate(in[2], 1e-5f, batchStats);
                    be.batchNorm(in[0], in[3], runMean, runVar, 0.1, cap, st, y);
                    if (!inputGradient) o[0].fill(0f); // not computed: both sides leave zeros
                    be.batchNormBackward(in[0], in[1], cap, st, inputGradient ? o[0] : null, o[1], o[2]);
                }
            });
        }
        // cuDNN's backward computes dgamma and dbeta anyway: asking for dx alone must still give the same dx
        check("batchNormBackward, dx alone", args, shapes(dims(n, c, hw, hw)), (be, in, o) -> {
            try (Tensor y = Tensor.empty(n, c, hw, hw)) {
                BatchNormState st = BatchNormState.allocate(in[2], 1e-5f, true);
                be.batchNorm(in[0], in[3], null, null, 0.1, cap, st, y);
                be.batchNormBackward(in[0], in[1], cap, st, o[0], null, null);
            }
        });
    }

    /** Values in [0.5, 1.5): running variances. */
    private In positive(int... dims) {
        In r = rand(dims);
        for (int i = 0; i < r.values().length; i++) r.values()[i] = 0.5f + random.nextFloat();
        return r;
    }

    @Test
    void poolingLinearAndLoss() {
        In[] pool = {rand(8, 72, 7, 7), rand(8, 72)};
        check("globalAvgPool", pool, shapes(dims(8, 72)), (be, in, o) -> be.globalAvgPool(in[0], o[0]));
        check("globalAvgPoolBackward", pool, shapes(dims(8, 72, 7, 7)), (be, in, o) -> be.globalAvgPoolBackward(in[1], o[0]));
        In[] lin = {rand(64, 1280), rand(1000, 1280), rand(1000), rand(64, 1000)}; // x, w, b, dy
        check("linear", lin, shapes(dims(64, 1000)), (be, in, o) -> be.linear(in[0], in[1], in[2], o[0]));
        check("linearBackwardData", lin, shapes(dims(64, 1280)), (be, in, o) -> be.linearBackwardData(in[3], in[1], o[0]));
        check("linearBackwardParams", lin, shapes(dims(1000, 1280), dims(1000)), (be, in, o) -> be.linearBackwardParams(in[3], in[0], o[0], o[1]));
        int[] labels = random.ints(64, 0, 1000).toArray();
        check("crossEntropy", lin, shapes(dims(64, 1000), dims(1)), (be, in, o) -> be.crossEntropy(in[3], labels, 0.1f, o[1], o[0]));
        check("crossEntropy without dlogits", lin, shapes(dims(1)), (be, in, o) -> be.crossEntropy(in[3], labels, 0.1f, o[0], null));
        // the logits' first largest entry at the label for about half the rows
        int[] half = labels.clone();
        float[] z = lin[3].values();
        for (int r = 0; r < 64; r += 2) {
            int best = 0;
            for (int j = 1; j < 1000; j++) if (z[r * 1000 + j] > z[r * 1000 + best]) best = j;
            half[r] = best;
        }
        check("countCorrect", lin, shapes(dims(1)), (be, in, o) -> be.countCorrect(in[3], half, o[0]));
    }

    @Test
    void sgd() {
        In[] sgd = {rand(4099), rand(4099), rand(4099)}; // param, grad, momentum buffer
        for (boolean first : new boolean[] {true, false}) {
            for (boolean nesterov : new boolean[] {false, true}) {
                check("sgdStep first " + first + " nesterov " + nesterov, sgd, shapes(dims(4099), dims(4099)), (be, in, o) -> {
                    o[0].copyFrom(in[0]);
                    o[1].copyFrom(in[2]);
                    be.sgdStep(o[0], in[1], o[1], first, 0.05f, 0.9f, 4e-5f, nesterov);
                });
            }
        }
        check("sgdStep without momentum", sgd, shapes(dims(4099)), (be, in, o) -> {
            o[0].copyFrom(in[0]);
            be.sgdStep(o[0], in[1], null, false, 0.05f, 0f, 0f, false);
        });
    }

    /** Many BN-sized tensors at once, as a BN-only supernet's optimizer and the BN indicator see them. */
    @Test
    void multiTensorKernels() {
        int[] sizes = {16, 24, 24, 40, 72, 1, 960, 33};
        In[] args = new In[3 * sizes.length]; // params, grads, buffers
        int[][] outs = new int[2 * sizes.length][];
        for (int i = 0; i < sizes.length; i++) {
            args[i] = rand(sizes[i]);
            args[sizes.length + i] = rand(sizes[i]);
            args[2 * sizes.length + i] = rand(sizes[i]);
            outs[i] = dims(sizes[i]);
            outs[sizes.length + i] = dims(sizes[i]);
        }
        int k = sizes.length;
        check("sgdStepAll", args, outs, (be, in, o) -> {
            List<Tensor> params = new ArrayList<>(), grads = new ArrayList<>(), bufs = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                o[i].copyFrom(in[i]);
                o[k + i].copyFrom(in[2 * k + i]);
                params.add(o[i]);
                grads.add(in[k + i]);
                bufs.add(o[k + i]);
            }
            be.sgdStepAll(params, grads, bufs, 0.1f, 0.9f, 0f, false);
        });
        double[][] means = new double[2][];
        check("meanAbsolute", args, shapes(dims(1)), (be, in, o) -> {
            means[be == CPU ? 0 : 1] = be.meanAbsolute(List.of(in).subList(0, k));
            o[0].fill(0f); // the result is the returned array; the output tensor is unused
        });
        for (int i = 0; i < k; i++) assertEquals(means[0][i], means[1][i], 1e-12 * means[0][i], "mean |x| of tensor " + i);
    }
}
