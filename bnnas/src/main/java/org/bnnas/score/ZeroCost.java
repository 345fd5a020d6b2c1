// ZeroCost: the training-free predictors computed on one batch with gradients or activations of a
// standalone network: grad_norm and snip (Abdelfattah et al. 2021), jacob_cov and NASWOT (Mellor
// et al. 2021). Synflow, which needs no data, is in Synflow.
package org.bnnas.score;

import java.util.ArrayList;
import java.util.List;
import org.bnnas.engine.autograd.Autograd;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.nn.ActivationProbe;
import org.bnnas.engine.nn.Conv2d;
import org.bnnas.engine.nn.Linear;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.supernet.StandaloneNet;

/**
 * Each predictor runs the network in training mode (BN normalises with the batch's statistics),
 * with dropout off, on the batch it is given, and leaves no gradient behind. Higher is better for
 * every score: jacob_cov's definition already carries the minus sign that makes it so. "Weights"
 * are every convolution and linear weight, not BN parameters or biases. The network's BN running
 * statistics move (a training-mode forward updates them): give each predictor a network of its own.
 */
public final class ZeroCost {
    /** jacob_cov's regulariser, the published value. */
    static final double JACOB_COV_K = 1e-5;

    private ZeroCost() {}

    /** Every convolution and linear weight of {@code net}, in module order. */
    public static List<Parameter> weights(Module net) {
        List<Parameter> out = new ArrayList<>();
        collect(net, out);
        return out;
    }

    private static void collect(Module m, List<Parameter> out) {
        if (m instanceof Conv2d c) out.add(c.weight());
        if (m instanceof Linear l) out.add(l.weight());
        m.children().values().forEach(c -> collect(c, out));
    }

    /** Sum over the weights W of the L2 norm of dL/dW, L the mean cross-entropy (no label smoothing) of the batch. */
    public static double gradNorm(StandaloneNet net, Tensor images, int[] labels) {
        return lossGradients(net, images, labels, (w, g) -> {
            double s = 0;
            for (float v : g) s += (double) v * v;
            return Math.sqrt(s);
        });
    }

    /** Sum over the weights W of |W * dL/dW| (elementwise, summed), L as for grad_norm. */
    public static double snip(StandaloneNet net, Tensor images, int[] labels) {
        return lossGradients(net, images, labels, (w, g) -> {
            double s = 0;
            for (int i = 0; i < g.length; i++) s += Math.abs((double) w[i] * g[i]);
            return s;
        });
    }

    private interface PerWeight {
        double of(float[] weight, float[] gradient);
    }

    private static double lossGradients(StandaloneNet net, Tensor images, int[] labels, PerWeight term) {
        List<Parameter> weights = prepare(net);
        try (MemoryScope scope = MemoryScope.open()) {
            Autograd.backward(Ops.crossEntropy(net.forward(images), labels, 0f));
            double sum = 0;
            for (Parameter w : weights) sum += term.of(w.data().toStorageArray(), w.grad().toStorageArray());
            return sum;
        } finally {
            net.zeroGrad();
        }
    }

    /**
     * J_i = d(sum of all logits of the batch)/d(image i), one backward pass (BN's batch statistics
     * couple the images, as in the published implementations); C = the correlation matrix of the
     * J_i; the score is -sum over C's eigenvalues v of log(v + k) + 1 / (v + k), k = 1e-5.
     */
    public static double jacobCov(StandaloneNet net, Tensor images) {
        prepare(net);
        int n = images.dim(0), d = images.size() / n;
        double[][] j = new double[n][d];
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor x = images.copy().requiresGrad(true);
            Tensor logits = net.forward(x);
            Tensor ones = Tensor.empty(logits.shape());
            ones.fill(1f);
            Autograd.backward(logits, ones);
            float[] g = x.grad().toArray(); // logical order: image i's gradient is one contiguous row
            for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) j[i][k] = g[i * d + k];
            x.close();
        } finally {
            net.zeroGrad();
        }
        double[][] c = correlation(j);
        double score = 0;
        for (double v : SymmetricEigen.of(c).values()) score -= Math.log(v + JACOB_COV_K) + 1 / (v + JACOB_COV_K);
        return score;
    }

    /** The correlation matrix of the rows of {@code x} (numpy's corrcoef); a row without variance gives NaN, as there. */
    static double[][] correlation(double[][] x) {
        int n = x.length, d = x[0].length;
        double[][] centred = new double[n][d];
        double[] norm = new double[n];
        for (int i = 0; i < n; i++) {
            double mean = 0;
            for (double v : x[i]) mean += v;
            mean /= d;
            for (int k = 0; k < d; k++) {
                centred[i][k] = x[i][k] - mean;
                norm[i] += centred[i][k] * centred[i][k];
            }
            norm[i] = Math.sqrt(norm[i]);
        }
        double[][] c = new double[n][n];
        for (int a = 0; a < n; a++) {
            for (int b = a; b < n; b++) {
                double s = 0;
                for (int k = 0; k < d; k++) s += centred[a][k] * centred[b][k];
                c[a][b] = c[b][a] = s / (norm[a] * norm[b]);
            }
        }
        return c;
    }

    /**
     * NASWOT: for every ReLU6 of the network, the binary code [activation > 0] of each image, all
     * ReLU6s' codes concatenated; K[i][j] = the number of positions where images i and j agree; the
     * score is log |det K|.
     */
    public static double naswot(StandaloneNet net, Tensor images) {
        prepare(net);
        int n = images.dim(0);
        long[][] agree = new long[n][n];
        try (MemoryScope scope = MemoryScope.open(); GradMode.Guard g = GradMode.noGrad();
             ActivationProbe.Guard probe = ActivationProbe.open(a -> addCodes(a, agree))) {
            net.forward(images);
        }
        double[][] k = new double[n][n];
        for (int a = 0; a < n; a++) for (int b = 0; b < n; b++) k[a][b] = agree[a][b];
        return SymmetricEigen.logAbsDet(k);
    }

    /** Adds, for each pair of images, how many positions of this activation have the same sign code in both. */
    static void addCodes(Tensor activation, long[][] agree) {
        int n = activation.dim(0), per = activation.size() / n, words = (per + 63) / 64;
        float[] v = activation.toStorageArray(); // image i's values are one contiguous stretch in any layout
        long[][] bits = new long[n][words];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < per; p++) if (v[i * per + p] > 0) bits[i][p >>> 6] |= 1L << (p & 63);
        }
        for (int a = 0; a < n; a++) {
            agree[a][a] += per;
            for (int b = a + 1; b < n; b++) {
                long differ = 0;
                for (int w = 0; w < words; w++) differ += Long.bitCount(bits[a][w] ^ bits[b][w]);
                agree[a][b] += per - differ;
                agree[b][a] += per - differ;
            }
        }
    }

    /** Training mode with dropout off, every parameter requiring a gradient, none held; returns the weights. */
    private static List<Parameter> prepare(StandaloneNet net) {
        net.train();
        net.dropout().train(false);
        net.requiresGrad(true);
        net.zeroGrad();
        return weights(net);
    }
}
