// OpsTest: every op, forward against float64 and backward against finite differences, through
// OpCheck; one line per case.
package org.bnnas.engine.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

public class OpsTest {

    @ParameterizedTest(name = "conv2d n{0} ci{1} {2}x{3} co{4} k{5} s{6} p{7} g{8}")
    @CsvSource({
        // n, ci, h, w, co, k, stride, pad, groups
        "2, 5, 6, 6, 7, 1, 1, 0, 1",     // pointwise: one GEMM
        "1, 8, 5, 5, 3, 1, 1, 0, 1",     // pointwise, batch 1
        "2, 3, 5, 5, 4, 3, 1, 1, 1",     // stem-like 3x3
        "1, 3, 7, 7, 4, 3, 2, 1, 1",     // stride 2, odd size, batch 1
        "2, 4, 6, 5, 6, 5, 1, 2, 2",     // grouped, non-square input
        "1, 2, 9, 9, 3, 7, 2, 3, 1",     // 7x7 stride 2
        "2, 4, 5, 5, 6, 3, 1, 0, 1",     // no padding
        "2, 4, 6, 6, 5, 1, 2, 0, 1",     // 1x1 with stride 2
        "2, 20, 6, 6, 20, 3, 1, 1, 20",  // depthwise, channels not a multiple of the vector length
        "1, 16, 9, 9, 16, 7, 1, 3, 16",  // depthwise 7x7
        "2, 24, 7, 7, 24, 5, 2, 2, 24",  // depthwise 5x5 stride 2, odd size
        "2, 3, 8, 8, 3, 3, 2, 1, 3",     // depthwise, 3 channels
        "1, 5, 5, 5, 5, 3, 1, 0, 5",     // depthwise without padding
    })
    void conv2d(int n, int ci, int h, int w, int co, int k, int stride, int pad, int groups) {
        OpCheck.of("conv2d", new int[] {n, ci, h, w}, new int[] {co, ci / groups, k, k})
                .run(t -> Ops.conv2d(t[0], t[1], stride, pad, groups),
                     x -> Ref.conv2d(x[0], x[1], n, ci, h, w, co, k, stride, pad, groups));
    }

    @ParameterizedTest(name = "batchNorm2d train n{0} c{1} {2}x{3}")
    @CsvSource({"3, 5, 4, 4", "1, 20, 3, 3", "2, 8, 1, 1", "4, 48, 2, 3"})
    void batchNormTraining(int n, int c, int h, int w) {
        OpCheck.of("batchNorm2d train", new int[] {n, c, h, w}, new int[] {c}, new int[] {c})
                .run(t -> Ops.batchNorm2d(t[0], t[1], t[2], null, null, true, 0.1, 1, 1e-5f),
                     x -> Ref.batchNormTrain(x[0], x[1], x[2], n, c, h * w, 1e-5));
    }

    @ParameterizedTest(name = "batchNorm2d + clamp {4} train n{0} c{1} {2}x{3}")
    @CsvSource({"3, 5, 4, 4, 6", "1, 20, 3, 3, 6", "2, 24, 3, 2, Infinity"})
    void batchNormWithActivation(int n, int c, int h, int w, float cap) {
        OpCheck.of("batchNorm2d + activation", new int[] {n, c, h, w}, new int[] {c}, new int[] {c}).scale(3)
                .run(t -> Ops.batchNorm2d(t[0], t[1], t[2], null, null, true, 0.1, 1, 1e-5f, cap),
                     x -> Ref.clamp(Ref.batchNormTrain(x[0], x[1], x[2], n, c, h * w, 1e-5), cap));
    }

    @Test
    void batchNormEvaluationWithActivation() {
        int n = 2, c = 17, h = 3, w = 3;
        OpCheck.of("batchNorm2d eval + relu6", new int[] {n, c, h, w}, new int[] {c}, new int[] {c}, new int[] {c}, new int[] {c})
                .grads(true, true, true, false, false).scale(4)
                .run(t -> Ops.batchNorm2d(t[0], t[1], t[2], t[3], positive(t[4]), false, 0.1, 0, 1e-5f, 6f),
                     x -> Ref.clamp(Ref.batchNormEval(x[0], x[1], x[2], x[3], positive(x[4]), c, h * w, 1e-5), 6));
    }

    @Test
    void batchNormEvaluation() {
        int n = 2, c = 6, h = 3, w = 3;
        OpCheck.of("batchNorm2d eval", new int[] {n, c, h, w}, new int[] {c}, new int[] {c}, new int[] {c}, new int[] {c})
                .grads(true, true, true, false, false)
                .run(t -> Ops.batchNorm2d(t[0], t[1], t[2], t[3], positive(t[4]), false, 0.1, 0, 1e-5f),
                     x -> Ref.batchNormEval(x[0], x[1], x[2], x[3], positive(x[4]), c, h * w, 1e-5));
    }

    /** A variance from a uniform draw: v^2 + 0.5. */
    private static Tensor positive(Tensor v) {
        float[] a = v.toArray();
        for (int i = 0; i < a.length; i++) a[i] = a[i] * a[i] + 0.5f;
        return Tensor.fromArray(a, v.shape().dims());
    }

    private static double[] positive(double[] v) {
        double[] a = new double[v.length];
        for (int i = 0; i < a.length; i++) a[i] = (float) ((float) v[i] * (float) v[i] + 0.5f);
        return a;
    }

    @ParameterizedTest(name = "depthwiseConv2dAffine c{0} {1}x{1} k{2} s{3}")
    @CsvSource({"20, 6, 3, 1", "16, 7, 5, 2", "3, 5, 7, 1"})
    void depthwiseConvWithAffines(int c, int h, int k, int stride) {
        // act(dw(act(x * s1 + b1)) * s2 + b2) against the composition of the references
        int n = 2, oh = (h + 2 * (k / 2) - k) / stride + 1;
        OpCheck.of("depthwiseConv2dAffine", new int[] {n, c, h, h}, new int[] {c, 1, k, k}, new int[] {c}, new int[] {c}, new int[] {c}, new int[] {c})
                .grads(false, false, false, false, false, false).scale(3)
                .run(t -> Ops.depthwiseConv2dAffine(t[0], t[2], t[3], 6f, t[1], stride, t[4], t[5], 6f), x -> {
                    double[] a = Ref.clamp(affine(x[0], x[2], x[3], c, h * h), 6);
                    double[] y = Ref.conv2d(a, x[1], n, c, h, h, c, k, stride, k / 2, c);
                    return Ref.clamp(affine(y, x[4], x[5], c, oh * oh), 6);
                });
    }

    @ParameterizedTest(name = "batchNormDepthwise n{0} c{1} {2}x{2} k{3} s{4}")
    @CsvSource({"2, 20, 6, 3, 1", "3, 16, 7, 5, 2", "1, 3, 5, 7, 1"})
    void batchNormReluDepthwise(int n, int c, int h, int k, int stride) {
        // conv(relu6(bn(x))) with every gradient: x, gamma, beta and the depthwise weight
        OpCheck.of("batchNormDepthwise", new int[] {n, c, h, h}, new int[] {c}, new int[] {c}, new int[] {c, 1, k, k}).scale(3)
                .run(t -> Ops.batchNormDepthwise(t[0], t[1], t[2], null, null, true, 0.1, 1, 1e-5f, 6f, t[3], stride),
                     x -> Ref.conv2d(Ref.clamp(Ref.batchNormTrain(x[0], x[1], x[2], n, c, h * h, 1e-5), 6), x[3], n, c, h, h, c, k, stride, k / 2, c));
    }

    @ParameterizedTest(name = "invertedResidualInference n{0} ci{1} {2}x{3} mid{4} co{5} k{6} s{7}")
    @CsvSource({
        // n, ci, h, w, mid, co, k, stride: images taller than one band of rows, batches of small images, channels off the vector length
        "2, 8, 140, 20, 24, 8, 7, 1",  // residual, many bands of rows, a 7x7 window across band edges
        "3, 5, 23, 17, 30, 9, 5, 2",   // stride 2, odd sizes
        "1, 16, 6, 6, 96, 16, 3, 1",   // one band, a residual
        "2, 4, 9, 33, 12, 6, 3, 2",    // wide rows, one row per band
        "32, 8, 5, 5, 24, 8, 3, 1",    // small images, two to a GEMM, a residual
        "50, 6, 4, 5, 20, 10, 5, 2",   // small images, three to a GEMM, a last group of two
    })
    void invertedResidualInference(int n, int ci, int h, int w, int mid, int co, int k, int stride) {
        // project(act(dw(act(expand(x) * s1 + b1)) * s2 + b2)) * s3 + b3 (+ x) against the composition of the references
        boolean residual = stride == 1 && ci == co;
        int oh = (h + 2 * (k / 2) - k) / stride + 1, ow = (w + 2 * (k / 2) - k) / stride + 1;
        OpCheck.of("invertedResidualInference", new int[] {n, ci, h, w}, new int[] {mid, ci, 1, 1}, new int[] {mid}, new int[] {mid},
                        new int[] {mid, 1, k, k}, new int[] {mid}, new int[] {mid}, new int[] {co, mid, 1, 1}, new int[] {co}, new int[] {co})
                .grads(false, false, false, false, false, false, false, false, false, false).scale(3)
                .tolerance(5e-4, 0) // three float32 convolutions in a row (the separate kernels' error too)
                .run(t -> Ops.invertedResidualInference(t[0], t[1], t[2], t[3], t[4], stride, t[5], t[6], t[7], t[8], t[9], 6f, residual), x -> {
                    double[] e = Ref.clamp(affine(Ref.conv2d(x[0], x[1], n, ci, h, w, mid, 1, 1, 0, 1), x[2], x[3], mid, h * w), 6);
                    double[] d = Ref.clamp(affine(Ref.conv2d(e, x[4], n, mid, h, w, mid, k, stride, k / 2, mid), x[5], x[6], mid, oh * ow), 6);
                    double[] y = affine(Ref.conv2d(d, x[7], n, mid, oh, ow, co, 1, 1, 0, 1), x[8], x[9], co, oh * ow);
                    return residual ? Ref.add(x[0], y) : y;
                });
    }

    private static double[] affine(double[] x, double[] scale, double[] shift, int c, int hw) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * scale[(i / hw) % c] + shift[(i / hw) % c];
        return y;
    }

    @Test
    void relu6() {
        OpCheck.of("relu6", new int[] {3, 7, 5}).scale(9).run(t -> Ops.relu6(t[0]), x -> Ref.clamp(x[0], 6));
    }

    @Test
    void add() {
        OpCheck.of("add", new int[] {2, 3, 5, 5}, new int[] {2, 3, 5, 5}).run(t -> Ops.add(t[0], t[1]), x -> Ref.add(x[0], x[1]));
    }

    @Test
    void addOfATensorWithItself() { // the gradient of a tensor used twice accumulates
        OpCheck.of("add x+x", new int[] {1, 17, 2, 2}).run(t -> Ops.add(t[0], t[0]), x -> Ref.add(x[0], x[0]));
    }

    @Test
    void globalAvgPool() {
        OpCheck.of("globalAvgPool", new int[] {3, 20, 3, 5}).run(t -> Ops.globalAvgPool(t[0]), x -> Ref.globalAvgPool(x[0], 3, 20, 15));
    }

    @Test
    void linear() {
        OpCheck.of("linear", new int[] {4, 9}, new int[] {5, 9}, new int[] {5})
                .run(t -> Ops.linear(t[0], t[1], t[2]), x -> Ref.linear(x[0], x[1], x[2], 4, 9, 5));
    }

    @Test
    void dropout() {
        float p = 0.3f;
        OpCheck.of("dropout", new int[] {4, 6, 2, 2}).run(t -> Ops.dropout(t[0], p, true, new Rng(7)), x -> {
            Rng rng = new Rng(7);
            double[] y = new double[x[0].length];
            for (int i = 0; i < y.length; i++) y[i] = rng.nextFloat() < p ? 0 : x[0][i] * (1f / (1f - p));
            return y;
        });
    }

    @Test
    void dropoutIsIdentityInEvaluation() {
        Tensor x = Tensor.fromArray(new float[] {1, 2, 3}, 3);
        assertTrue(Ops.dropout(x, 0.5f, false, new Rng(1)) == x);
        x.close();
    }

    @ParameterizedTest(name = "crossEntropy smoothing {0}")
    @CsvSource({"0.0", "0.1"})
    void crossEntropy(float smoothing) {
        int[] labels = {3, 0, 6, 6, 1};
        OpCheck.of("crossEntropy", new int[] {5, 7}).scale(4)
                .run(t -> Ops.crossEntropy(t[0], labels, smoothing), x -> Ref.crossEntropy(x[0], labels, 7, smoothing));
    }

    @Test
    void countCorrectTakesTheFirstLargestLogit() {
        float nan = Float.NaN;
        Tensor z = Tensor.fromArray(new float[] {
            0, 5, 5, 1, // a tie: class 1
            9, 2, 3, 4, // class 0
            nan, 1, 7, 2, // a NaN is never larger, so class 0 stays the first largest
            -3, -1, -2, -1, // a tie: class 1
        }, 4, 4);
        try (Tensor hits = Ops.countCorrect(z, new int[] {1, 0, 0, 3})) {
            assertEquals(3f, hits.item());
        }
        try (Tensor hits = Ops.countCorrect(z, new int[] {2, 1, 2, 1})) {
            assertEquals(1f, hits.item());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.countCorrect(z, new int[] {0}));
        assertEquals("countCorrect: 1 labels for logits [4, 4]", e.getMessage());
        z.close();
    }

    @Test
    void copyIntoASlotOfALongerTensor() {
        try (Tensor log = Tensor.zeros(5); Tensor a = Tensor.fromArray(new float[] {7}, 1); Tensor b = Tensor.fromArray(new float[] {8, 9}, 2)) {
            log.copyFrom(a, 4);
            log.copyFrom(b, 1);
            assertArrayEquals(new float[] {0, 8, 9, 0, 7}, log.toArray());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> log.copyFrom(b, 4));
            assertEquals("Tensor.copyFrom: [2] at offset 4 does not fit into [5]", e.getMessage());
        }
    }

    // ---- argument errors name the op, the argument and the shapes ----

    @Test
    void convRejectsMismatchedChannels() {
        Tensor x = Tensor.zeros(1, 3, 5, 5), w = Tensor.zeros(4, 2, 3, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.conv2d(x, w, 1, 1, 1));
        assertTrue(e.getMessage().startsWith("conv2d:"), e.getMessage());
        assertTrue(e.getMessage().contains("[4, 2, 3, 3]") && e.getMessage().contains("[1, 3, 5, 5]"), e.getMessage());
        x.close();
        w.close();
    }

    @Test
    void addRejectsDifferentShapes() {
        Tensor a = Tensor.zeros(2, 3), b = Tensor.zeros(3, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.add(a, b));
        assertEquals("add: shapes differ: [2, 3] and [3, 2]", e.getMessage());
        a.close();
        b.close();
    }

    @Test
    void crossEntropyRejectsLabelsOutOfRange() {
        Tensor z = Tensor.zeros(2, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.crossEntropy(z, new int[] {0, 4}, 0f));
        assertEquals("crossEntropy: label 4 outside [0, 4)", e.getMessage());
        z.close();
    }

    @Test
    void batchNormRejectsWrongChannelCount() {
        Tensor x = Tensor.zeros(2, 3, 2, 2), g = Tensor.zeros(4), b = Tensor.zeros(4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.batchNorm2d(x, g, b, null, null, true, 0.1, 1, 1e-5f));
        assertTrue(e.getMessage().contains("[4]") && e.getMessage().contains("[2, 3, 2, 2]"), e.getMessage());
        x.close();
        g.close();
        b.close();
    }
}
