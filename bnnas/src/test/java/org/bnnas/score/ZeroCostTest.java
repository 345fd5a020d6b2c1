// ZeroCostTest: each training-free predictor against an independent float64 computation of a tiny
// network written out here by hand (finite differences for every gradient, Cholesky for every
// determinant), and the predictors' known invariances.
package org.bnnas.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.nn.ActivationProbe;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.StandaloneNet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ZeroCostTest {
    /** Two choice layers (a stride-2 block, then one with a residual) after a stem whose block has its residual (2 -> 2 channels). */
    static final SearchSpace TINY = SearchSpace.parse("""
            {"name": "tiny", "input": {"channels": 1, "size": 6}, "classes": 3,
             "stem": {"conv3x3": {"out": 2, "stride": 1}, "mbconv_e1": {"kernel": 3, "out": 2}},
             "stages": [{"channels": 3, "layers": 2, "stride": 2}],
             "ops": [{"name": "k3e2", "kernel": 3, "expand": 2}],
             "head": {"conv1x1": 4, "dropout_retrain": 0.2}}""", "tiny");
    static final int[] ARCH = {0, 0};
    static final int N = 4, SIZE = 6;
    static final double RTOL = 1e-3;

    // ---- the tiny network in float64, written out layer by layer ----------------------------------

    /** The network's parameters by PyTorch name, flat in PyTorch's layout, in float64; the gradients below perturb them in place. */
    final Map<String, double[]> p = new HashMap<>();

    void readWeights(Module net) {
        for (Map.Entry<String, TensorData> e : net.stateDict().entrySet()) {
            if (e.getValue().dtype() != TensorData.DType.F32) continue;
            float[] v = e.getValue().floats();
            double[] d = new double[v.length];
            for (int i = 0; i < v.length; i++) d[i] = v[i];
            p.put(e.getKey(), d);
        }
    }

    /** x[n][c][h][w] convolved with p[w] (out, in / groups, k, k), zero padding k / 2. */
    double[][][][] conv(double[][][][] x, String w, int out, int k, int stride, int groups, boolean abs) {
        double[] wt = p.get(w);
        int n = x.length, in = x[0].length, h = x[0][0].length, oh = (h + 2 * (k / 2) - k) / stride + 1;
        int inPer = in / groups, outPer = out / groups;
        double[][][][] y = new double[n][out][oh][oh];
        for (int b = 0; b < n; b++) for (int o = 0; o < out; o++) for (int i = 0; i < inPer; i++) for (int ky = 0; ky < k; ky++) for (int kx = 0; kx < k; kx++) {
            double wv = wt[((o * inPer + i) * k + ky) * k + kx];
            if (abs) wv = Math.abs(wv);
            int c = (o / outPer) * inPer + i;
            for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < oh; ox++) {
                int iy = oy * stride + ky - k / 2, ix = ox * stride + kx - k / 2;
                if (iy >= 0 && iy < h && ix >= 0 && ix < h) y[b][o][oy][ox] += wv * x[b][c][iy][ix];
            }
        }
        return y;
    }

    /** Batch norm in training mode: the batch's mean and biased variance per channel, eps 1e-5. */
    double[][][][] bn(double[][][][] x, String name) {
        double[] gamma = p.get(name + ".weight"), beta = p.get(name + ".bias");
        int n = x.length, c = x[0].length, h = x[0][0].length;
        double[][][][] y = new double[n][c][h][h];
        for (int ch = 0; ch < c; ch++) {
            double mean = 0, var = 0;
            for (double[][][] img : x) for (double[] row : img[ch]) for (double v : row) mean += v;
            mean /= n * h * h;
            for (double[][][] img : x) for (double[] row : img[ch]) for (double v : row) var += (v - mean) * (v - mean);
            var /= n * h * h;
            double inv = 1 / Math.sqrt(var + 1e-5);
            for (int b = 0; b < n; b++) for (int i = 0; i < h; i++) for (int j = 0; j < h; j++) y[b][ch][i][j] = (x[b][ch][i][j] - mean) * inv * gamma[ch] + beta[ch];
        }
        return y;
    }

    /** min(max(x, 0), 6), or x itself in the linear envelope; each activation is recorded in {@code seen}. */
    static double[][][][] relu6(double[][][][] x, boolean envelope, List<double[][][][]> seen) {
        if (envelope) return x;
        double[][][][] y = new double[x.length][x[0].length][x[0][0].length][x[0][0].length];
        for (int b = 0; b < x.length; b++) for (int c = 0; c < x[0].length; c++) for (int i = 0; i < x[0][0].length; i++) for (int j = 0; j < x[0][0].length; j++) {
            y[b][c][i][j] = Math.min(Math.max(x[b][c][i][j], 0), 6);
        }
        if (seen != null) seen.add(y);
        return y;
    }

    static double[][][][] add(double[][][][] a, double[][][][] b) {
        double[][][][] y = new double[a.length][a[0].length][a[0][0].length][a[0][0].length];
        for (int n = 0; n < a.length; n++) for (int c = 0; c < a[0].length; c++) for (int i = 0; i < a[0][0].length; i++) for (int j = 0; j < a[0][0].length; j++) {
            y[n][c][i][j] = a[n][c][i][j] + b[n][c][i][j];
        }
        return y;
    }

    /** The logits; in the envelope every weight is |w|, there is no BN, ReLU6 is the identity and the classifier has no bias. */
    double[][] forward(double[][][][] x, boolean envelope, List<double[][][][]> seen) {
        java.util.function.BiFunction<double[][][][], String, double[][][][]> norm = (t, name) -> envelope ? t : bn(t, name);
        double[][][][] t = relu6(norm.apply(conv(x, "conv_bn.0.weight", 2, 3, 1, 1, envelope), "conv_bn.1"), envelope, seen);
        double[][][][] s = relu6(norm.apply(conv(t, "MBConv_ratio_1.conv.0.weight", 2, 3, 1, 2, envelope), "MBConv_ratio_1.conv.1"), envelope, seen);
        s = norm.apply(conv(s, "MBConv_ratio_1.conv.3.weight", 2, 1, 1, 1, envelope), "MBConv_ratio_1.conv.4");
        t = add(t, s); // 2 -> 2 channels, stride 1: the stem block's residual
        int[][] blocks = {{2, 4, 3, 2}, {3, 6, 3, 1}}; // in, mid, out, stride
        for (int i = 0; i < 2; i++) {
            String b = "features." + i + ".conv.";
            int mid = blocks[i][1], out = blocks[i][2], stride = blocks[i][3];
            double[][][][] u = relu6(norm.apply(conv(t, b + "0.weight", mid, 1, 1, 1, envelope), b + "1"), envelope, seen);
            u = relu6(norm.apply(conv(u, b + "3.weight", mid, 3, stride, mid, envelope), b + "4"), envelope, seen);
            u = norm.apply(conv(u, b + "6.weight", out, 1, 1, 1, envelope), b + "7");
            t = stride == 1 && blocks[i][0] == out ? add(t, u) : u;
        }
        t = relu6(norm.apply(conv(t, "conv_1x1_bn.0.weight", 4, 1, 1, 1, envelope), "conv_1x1_bn.1"), envelope, seen);
        double[] w = p.get("classifier.1.weight"), bias = p.get("classifier.1.bias");
        double[][] logits = new double[t.length][3];
        for (int n = 0; n < t.length; n++) for (int k = 0; k < 3; k++) {
            double z = envelope ? 0 : bias[k];
            for (int c = 0; c < 4; c++) {
                double pooled = 0;
                for (double[] row : t[n][c]) for (double v : row) pooled += v;
                z += (envelope ? Math.abs(w[k * 4 + c]) : w[k * 4 + c]) * pooled / (t[n][c].length * t[n][c].length);
            }
            logits[n][k] = z;
        }
        return logits;
    }

    double crossEntropy(double[][] x, int[] labels) {
        double loss = 0;
        for (int n = 0; n < x.length; n++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (double v : x[n]) max = Math.max(max, v);
            for (double v : x[n]) sum += Math.exp(v - max);
            loss += Math.log(sum) + max - x[n][labels[n]];
        }
        return loss / x.length;
    }

    static double sum(double[][] x) {
        double s = 0;
        for (double[] r : x) for (double v : r) s += v;
        return s;
    }

    /** d f / d p[name][i] by central differences (f smooth in it; h 1e-5 gives 1e-9 relative). */
    double derivative(String name, int i, java.util.function.DoubleSupplier f) {
        double[] v = p.get(name);
        double keep = v[i], h = 1e-5 * Math.max(1, Math.abs(keep));
        v[i] = keep + h;
        double up = f.getAsDouble();
        v[i] = keep - h;
        double down = f.getAsDouble();
        v[i] = keep;
        return (up - down) / (2 * h);
    }

    static final List<String> WEIGHTS = List.of("conv_bn.0.weight", "MBConv_ratio_1.conv.0.weight", "MBConv_ratio_1.conv.3.weight",
            "features.0.conv.0.weight", "features.0.conv.3.weight", "features.0.conv.6.weight", "features.1.conv.0.weight", "features.1.conv.3.weight",
            "features.1.conv.6.weight", "conv_1x1_bn.0.weight", "classifier.1.weight");

    /** log det of a symmetric positive definite matrix and the trace of its inverse, by Cholesky. */
    static double[] choleskyLogDetAndTraceOfInverse(double[][] a) {
        int n = a.length;
        double[][] l = new double[n][n];
        double logDet = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i][j];
                for (int k = 0; k < j; k++) s -= l[i][k] * l[j][k];
                l[i][j] = i == j ? Math.sqrt(s) : s / l[j][j];
            }
            logDet += 2 * Math.log(l[i][i]);
        }
        double trace = 0;
        for (int col = 0; col < n; col++) { // solve L L^T x = e_col, take x[col]
            double[] y = new double[n], x = new double[n];
            for (int i = 0; i < n; i++) {
                double s = i == col ? 1 : 0;
                for (int k = 0; k < i; k++) s -= l[i][k] * y[k];
                y[i] = s / l[i][i];
            }
            for (int i = n - 1; i >= 0; i--) {
                double s = y[i];
                for (int k = i + 1; k < n; k++) s -= l[k][i] * x[k];
                x[i] = s / l[i][i];
            }
            trace += x[col];
        }
        return new double[] {logDet, trace};
    }

    // ---- the fixture: our network, its batch, and the same in float64 --------------------------------

    final Rng rng = new Rng(31);
    final StandaloneNet net = new StandaloneNet(TINY, ARCH, 1, new Rng(5));
    final float[] pixels = new float[N * SIZE * SIZE];
    final int[] labels = {0, 2, 1, 2};

    ZeroCostTest() {
        randomiseGammasAndBetas(net, rng); // away from 1 and 0, so that every BN's part shows
        for (int i = 0; i < pixels.length; i++) pixels[i] = (float) rng.nextGaussian();
        readWeights(net);
    }

    @AfterEach
    void closeTheNetwork() {
        net.close();
    }

    static void randomiseGammasAndBetas(Module m, Rng rng) {
        if (m instanceof BatchNorm2d bn) {
            float[] g = new float[bn.numFeatures], b = new float[bn.numFeatures];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) (0.5 + rng.nextDouble());
                b[i] = (float) (rng.nextDouble() - 0.5);
            }
            bn.weight().data().copyFrom(g);
            bn.bias().data().copyFrom(b);
        }
        m.children().values().forEach(c -> randomiseGammasAndBetas(c, rng));
    }

    Tensor images() {
        return Tensor.fromArray(pixels, N, 1, SIZE, SIZE);
    }

    double[][][][] imagesInDouble() {
        double[][][][] x = new double[N][1][SIZE][SIZE];
        for (int i = 0; i < pixels.length; i++) x[i / (SIZE * SIZE)][0][(i / SIZE) % SIZE][i % SIZE] = pixels[i];
        return x;
    }

    static void assertRelative(double expected, double actual, String what) {
        assertTrue(Math.abs(actual - expected) <= RTOL * Math.abs(expected), what + ": expected " + expected + ", got " + actual);
    }

    // ---- the predictors against their float64 definitions ------------------------------------------

    @Test
    void gradNormAndSnipAreTheWeightGradientsSums() {
        double[][][][] x = imagesInDouble();
        double gradNorm = 0, snip = 0;
        for (String w : WEIGHTS) {
            double norm = 0;
            for (int i = 0; i < p.get(w).length; i++) {
                double g = derivative(w, i, () -> crossEntropy(forward(x, false, null), labels));
                norm += g * g;
                snip += Math.abs(p.get(w)[i] * g);
            }
            gradNorm += Math.sqrt(norm);
        }
        try (Tensor images = images()) {
            assertRelative(gradNorm, ZeroCost.gradNorm(net, images, labels), "grad_norm");
            assertRelative(snip, ZeroCost.snip(net, images, labels), "snip");
        }
    }

    @Test
    void jacobCovIsTheEigenvaluePenaltyOfTheInputGradientsCorrelation() {
        double[][][][] x = imagesInDouble();
        int d = SIZE * SIZE;
        double[][] j = new double[N][d];
        for (int n = 0; n < N; n++) {
            for (int q = 0; q < d; q++) {
                double keep = x[n][0][q / SIZE][q % SIZE], h = 1e-5;
                x[n][0][q / SIZE][q % SIZE] = keep + h;
                double up = sum(forward(x, false, null));
                x[n][0][q / SIZE][q % SIZE] = keep - h;
                double down = sum(forward(x, false, null));
                x[n][0][q / SIZE][q % SIZE] = keep;
                j[n][q] = (up - down) / (2 * h);
            }
        }
        double[][] c = new double[N][N];
        double[] mean = new double[N], norm = new double[N];
        for (int a = 0; a < N; a++) {
            for (double v : j[a]) mean[a] += v / d;
            for (double v : j[a]) norm[a] += (v - mean[a]) * (v - mean[a]);
        }
        for (int a = 0; a < N; a++) for (int b = 0; b < N; b++) {
            double s = 0;
            for (int q = 0; q < d; q++) s += (j[a][q] - mean[a]) * (j[b][q] - mean[b]);
            c[a][b] = s / Math.sqrt(norm[a] * norm[b]) + (a == b ? ZeroCost.JACOB_COV_K : 0);
        }
        // sum over eigenvalues v of log(v + k) + 1 / (v + k) = log det(C + kI) + trace((C + kI)^-1)
        double[] ld = choleskyLogDetAndTraceOfInverse(c);
        try (Tensor images = images()) {
            assertRelative(-(ld[0] + ld[1]), ZeroCost.jacobCov(net, images), "jacob_cov");
        }
    }

    @Test
    void naswotIsTheLogDeterminantOfTheSignCodesAgreement() {
        List<double[][][][]> activations = new ArrayList<>();
        forward(imagesInDouble(), false, activations);
        double[][] k = new double[N][N];
        for (double[][][][] a : activations) {
            for (int i = 0; i < N; i++) for (int j = 0; j < N; j++) {
                for (int c = 0; c < a[0].length; c++) for (int y = 0; y < a[0][0].length; y++) for (int x = 0; x < a[0][0].length; x++) {
                    if ((a[i][c][y][x] > 0) == (a[j][c][y][x] > 0)) k[i][j]++;
                }
            }
        }
        assertEquals(7, activations.size(), "the stem's, the stem block's, two per choice block and the head's ReLU6");
        try (Tensor images = images()) {
            assertRelative(choleskyLogDetAndTraceOfInverse(k)[0], ZeroCost.naswot(net, images), "naswot");
        }
    }

    @Test
    void synflowIsTheLogOfTheEnvelopesWeightsTimesTheirGradients() {
        double[][][][] ones = new double[1][1][SIZE][SIZE];
        for (double[] row : ones[0][0]) java.util.Arrays.fill(row, 1.0);
        double score = 0;
        for (String w : WEIGHTS) {
            for (int i = 0; i < p.get(w).length; i++) {
                score += Math.abs(p.get(w)[i] * derivative(w, i, () -> sum(forward(ones, true, null))));
            }
        }
        double ours = Synflow.logScore(net, 1, SIZE);
        assertRelative(score, Math.exp(ours), "synflow");
    }

    // ---- invariances ----------------------------------------------------------------------------------

    @Test
    void synflowIsUnchangedWhenOneConvolutionScalesUpAndTheNextDown() {
        SearchSpace small = SearchSpace.load("bnnas-small");
        int[] arch = {0, -1, 1, 2, 3, -1, -1, 4, 5, -1, 0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1};
        try (StandaloneNet n = new StandaloneNet(small, arch, 1, new Rng(2))) {
            double before = Synflow.logScore(n, 1, 28);
            Map<String, TensorData> sd = n.stateDict();
            scale(n, "features.3.conv.0.weight", sd, 3.7f);
            scale(n, "features.3.conv.3.weight", sd, 1 / 3.7f);
            assertEquals(before, Synflow.logScore(n, 1, 28), 1e-6, "the block between them computes the same, and so does every layer's share");
            scale(n, "features.3.conv.3.weight", sd, 3.7f); // the depthwise back, the expansion still up: the score moves
            assertTrue(Synflow.logScore(n, 1, 28) > before + 0.1);
        }
    }

    private static void scale(StandaloneNet n, String name, Map<String, TensorData> sd, float factor) {
        Tensor w = n.namedParameters().get(name).data();
        float[] v = w.toArray();
        for (int i = 0; i < v.length; i++) v[i] *= factor;
        w.copyFrom(v);
    }

    @Test
    void naswotsMatrixIsSymmetricWithTheCodeLengthOnItsDiagonal() {
        long[] perImage = {0};
        long[][] agree = new long[N][N];
        try (Tensor images = images(); GradMode.Guard g = GradMode.noGrad();
             ActivationProbe.Guard probe = ActivationProbe.open(a -> {
                 perImage[0] += a.size() / a.dim(0);
                 ZeroCost.addCodes(a, agree);
             })) {
            net.train();
            net.dropout().train(false);
            net.forward(images);
        }
        for (int i = 0; i < N; i++) {
            assertEquals(perImage[0], agree[i][i], "an image agrees with itself everywhere");
            for (int j = 0; j < N; j++) assertEquals(agree[i][j], agree[j][i]);
        }
    }

    @Test
    void theProbeSeesEveryActivationAndChangesNoResult() {
        try (Tensor images = images(); GradMode.Guard g = GradMode.noGrad()) {
            net.train();
            net.dropout().train(false);
            float[] plain = net.forward(images).toArray();
            int[] seen = {0};
            float[] probed;
            try (ActivationProbe.Guard probe = ActivationProbe.open(a -> seen[0]++)) {
                probed = net.forward(images).toArray();
            }
            assertEquals(7, seen[0]);
            for (int i = 0; i < plain.length; i++) assertEquals(plain[i], probed[i], 1e-5, "logit " + i);
        }
    }
}
