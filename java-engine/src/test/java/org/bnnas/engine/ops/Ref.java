// Ref: float64 reference implementations of the ops, written from their definitions on logical
// row-major (N, C, H, W) arrays, for OpCheck.
package org.bnnas.engine.ops;

/** Straightforward float64 definitions; slow and obviously right. */
final class Ref {
    private Ref() {}

    /** Convolution without bias; x (n, ci, h, w), w (co, ci/g, k, k). */
    static double[] conv2d(double[] x, double[] w, int n, int ci, int h, int wd, int co, int k, int stride, int pad, int groups) {
        int oh = (h + 2 * pad - k) / stride + 1, ow = (wd + 2 * pad - k) / stride + 1;
        int cig = ci / groups, cog = co / groups;
        double[] y = new double[n * co * oh * ow];
        for (int b = 0; b < n; b++)
            for (int o = 0; o < co; o++) {
                int g = o / cog;
                for (int r = 0; r < oh; r++)
                    for (int q = 0; q < ow; q++) {
                        double s = 0;
                        for (int c = 0; c < cig; c++)
                            for (int kh = 0; kh < k; kh++)
                                for (int kw = 0; kw < k; kw++) {
                                    int ih = r * stride - pad + kh, iw = q * stride - pad + kw;
                                    if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                                    s += x[((b * ci + g * cig + c) * h + ih) * wd + iw] * w[((o * cig + c) * k + kh) * k + kw];
                                }
                        y[((b * co + o) * oh + r) * ow + q] = s;
                    }
            }
        return y;
    }

    /** Batch norm with batch statistics (biased variance). */
    static double[] batchNormTrain(double[] x, double[] gamma, double[] beta, int n, int c, int hw, double eps) {
        double[] y = new double[x.length];
        for (int ch = 0; ch < c; ch++) {
            double mean = 0, var = 0;
            for (int b = 0; b < n; b++) for (int p = 0; p < hw; p++) mean += x[(b * c + ch) * hw + p];
            mean /= n * hw;
            for (int b = 0; b < n; b++) for (int p = 0; p < hw; p++) var += Math.pow(x[(b * c + ch) * hw + p] - mean, 2);
            var /= n * hw;
            for (int b = 0; b < n; b++)
                for (int p = 0; p < hw; p++) {
                    int i = (b * c + ch) * hw + p;
                    y[i] = (x[i] - mean) / Math.sqrt(var + eps) * gamma[ch] + beta[ch];
                }
        }
        return y;
    }

    /** Batch norm with given statistics. */
    static double[] batchNormEval(double[] x, double[] gamma, double[] beta, double[] mean, double[] var, int c, int hw, double eps) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int ch = (i / hw) % c;
            y[i] = (x[i] - mean[ch]) / Math.sqrt(var[ch] + eps) * gamma[ch] + beta[ch];
        }
        return y;
    }

    static double[] clamp(double[] x, double cap) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = Math.min(Math.max(x[i], 0), cap);
        return y;
    }

    static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] + b[i];
        return y;
    }

    static double[] globalAvgPool(double[] x, int n, int c, int hw) {
        double[] y = new double[n * c];
        for (int i = 0; i < x.length; i++) y[i / hw] += x[i] / hw;
        return y;
    }

    static double[] linear(double[] x, double[] w, double[] b, int n, int in, int out) {
        double[] y = new double[n * out];
        for (int r = 0; r < n; r++)
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) s += x[r * in + i] * w[o * in + i];
                y[r * out + o] = s;
            }
        return y;
    }

    /** Mean label-smoothed cross-entropy, as a one-element array. */
    static double[] crossEntropy(double[] z, int[] labels, int k, double eps) {
        int n = labels.length;
        double total = 0;
        for (int r = 0; r < n; r++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < k; j++) max = Math.max(max, z[r * k + j]);
            for (int j = 0; j < k; j++) sum += Math.exp(z[r * k + j] - max);
            for (int j = 0; j < k; j++) {
                double target = (j == labels[r] ? 1 - eps : 0) + eps / k;
                total -= target * (z[r * k + j] - max - Math.log(sum));
            }
        }
        return new double[] {total / n};
    }
}
