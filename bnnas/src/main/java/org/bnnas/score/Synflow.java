// Synflow: the synflow predictor (Tanaka et al. 2020, used as a zero-cost proxy by Abdelfattah et
// al. 2021) of a standalone network, computed on its linear envelope in float64 and returned as a
// natural logarithm, so that deep networks neither overflow nor underflow.
package org.bnnas.score;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bnnas.engine.nn.Conv2d;
import org.bnnas.engine.nn.Linear;
import org.bnnas.supernet.ResidualBlock;
import org.bnnas.supernet.StandaloneNet;

/**
 * The envelope: every weight replaced by its absolute value, every BN removed, every ReLU6
 * replaced by the identity (residuals and the average pool kept), one input of all ones. R is the
 * sum of its logits, and synflow = the sum over every convolution and linear weight W of
 * |W * dR/dW|. The envelope is linear in each layer's weights, so a layer's sum of W * dR/dW is
 * the inner product of its output z with dR/dz (Euler's theorem for homogeneous functions): no
 * weight gradient is formed, and every term is positive. The gains of some 60 layers multiply to
 * about 1e39 on bnnas-imagenet, beyond float32: the envelope runs in float64 on the host, and the
 * score is log(synflow). The classifier's bias moves no weight's gradient and is left out of R.
 */
public final class Synflow {
    private Synflow() {}

    /** log(synflow) of {@code net} for inputs of {@code channels} x size x size. */
    public static double logScore(StandaloneNet net, int channels, int size) {
        List<Step> steps = new ArrayList<>();
        Map x = Map.ones(channels, size);
        ConvStep stem = ConvStep.run((Conv2d) net.stem().get(0), x);
        steps.add(stem);
        x = stem.out;
        for (ResidualBlock b : net.blocks()) {
            BlockStep block = BlockStep.run(b, x);
            steps.add(block);
            x = block.out;
        }
        ConvStep head = ConvStep.run((Conv2d) net.head().get(0), x);
        steps.add(head);
        x = head.out;

        // Global average pool and the classifier: dR/dlogit = 1, and the classifier's share is R itself.
        Linear fc = net.classifierLinear();
        float[] w = fc.weight().data().toArray(); // (classes, features)
        int features = fc.inFeatures;
        double sum = 0;
        Map g = new Map(x.channels(), x.height, x.width);
        for (int c = 0; c < features; c++) {
            double mean = Arrays.stream(x.data[c]).sum() / x.pixels(), weightSum = 0;
            for (int k = 0; k < fc.outFeatures; k++) weightSum += Math.abs(w[k * features + c]);
            sum += weightSum * mean;
            Arrays.fill(g.data[c], weightSum / x.pixels());
        }
        double[] total = {sum};
        for (int s = steps.size() - 1; s >= 0; s--) g = steps.get(s).backward(g, total);
        return Math.log(total[0]);
    }

    /** An activation of the one image, channel-major: data[c][y * width + x]. */
    static final class Map {
        final double[][] data;
        final int height, width;

        Map(int channels, int height, int width) {
            this.data = new double[channels][height * width];
            this.height = height;
            this.width = width;
        }

        static Map ones(int channels, int size) {
            Map m = new Map(channels, size, size);
            for (double[] row : m.data) Arrays.fill(row, 1.0);
            return m;
        }

        int channels() {
            return data.length;
        }

        int pixels() {
            return height * width;
        }
    }

    /** A piece of the forward pass that backward walks in reverse. */
    private interface Step {
        /** dR/d(its input) from dR/d(its output); adds its convolutions' sums of (dR/dz) * z to total[0]. */
        Map backward(Map gOut, double[] total);
    }

    /** One convolution of the envelope: its |weights|, and its output z. */
    private static final class ConvStep implements Step {
        final Conv2d conv;
        final double[] w;
        final int inChannels, inHeight, inWidth;
        final Map out;

        private ConvStep(Conv2d conv, double[] w, Map in, Map out) {
            this.conv = conv;
            this.w = w;
            this.inChannels = in.channels();
            this.inHeight = in.height;
            this.inWidth = in.width;
            this.out = out;
        }

        static ConvStep run(Conv2d c, Map in) {
            float[] raw = c.weight().data().toArray(); // (out, in / groups, k, k)
            double[] w = new double[raw.length];
            for (int i = 0; i < raw.length; i++) w[i] = Math.abs(raw[i]);
            int k = c.kernel, s = c.stride, p = c.padding;
            int oh = (in.height + 2 * p - k) / s + 1, ow = (in.width + 2 * p - k) / s + 1;
            Map out = new Map(c.outChannels, oh, ow);
            walk(c, in.height, in.width, oh, ow, (o, i, wi, op, ip) -> out.data[o][op] += w[wi] * in.data[i][ip]);
            return new ConvStep(c, w, in, out);
        }

        @Override
        public Map backward(Map gOut, double[] total) {
            total[0] += dot(gOut, out);
            Map gIn = new Map(inChannels, inHeight, inWidth);
            walk(conv, inHeight, inWidth, out.height, out.width, (o, i, wi, op, ip) -> gIn.data[i][ip] += w[wi] * gOut.data[o][op]);
            return gIn;
        }

        /** A visit of one product of the convolution: output channel, input channel, weight index, output and input pixel. */
        interface Tap {
            void at(int o, int i, int wi, int op, int ip);
        }

        /** Every (output pixel, weight) pair of the convolution whose input pixel lies inside the image (zero padding elsewhere). */
        static void walk(Conv2d c, int h, int w, int oh, int ow, Tap tap) {
            int k = c.kernel, s = c.stride, p = c.padding, perGroupIn = c.inChannels / c.groups, perGroupOut = c.outChannels / c.groups;
            for (int o = 0; o < c.outChannels; o++) {
                int group = o / perGroupOut;
                for (int ii = 0; ii < perGroupIn; ii++) {
                    int i = group * perGroupIn + ii;
                    for (int ky = 0; ky < k; ky++) {
                        for (int kx = 0; kx < k; kx++) {
                            int wi = ((o * perGroupIn + ii) * k + ky) * k + kx;
                            for (int oy = 0; oy < oh; oy++) {
                                int iy = oy * s + ky - p;
                                if (iy < 0 || iy >= h) continue;
                                for (int ox = 0; ox < ow; ox++) {
                                    int ix = ox * s + kx - p;
                                    if (ix >= 0 && ix < w) tap.at(o, i, wi, oy * ow + ox, iy * w + ix);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** A block: its convolutions in order and, where it has one, the residual add of its input. */
    private static final class BlockStep implements Step {
        final List<ConvStep> convs = new ArrayList<>();
        final boolean residual;
        Map out;

        private BlockStep(boolean residual) {
            this.residual = residual;
        }

        static BlockStep run(ResidualBlock b, Map in) {
            BlockStep step = new BlockStep(b.hasResidual());
            Map x = in;
            for (int i = 0; i < b.layers().size(); i++) {
                if (!(b.layers().get(i) instanceof Conv2d c)) continue;
                ConvStep conv = ConvStep.run(c, x);
                step.convs.add(conv);
                x = conv.out;
            }
            step.out = step.residual ? sum(x, in) : x;
            return step;
        }

        @Override
        public Map backward(Map gOut, double[] total) {
            Map g = gOut;
            for (int i = convs.size() - 1; i >= 0; i--) g = convs.get(i).backward(g, total);
            return residual ? sum(g, gOut) : g;
        }
    }

    private static Map sum(Map a, Map b) {
        Map out = new Map(a.channels(), a.height, a.width);
        for (int c = 0; c < a.channels(); c++) for (int p = 0; p < a.pixels(); p++) out.data[c][p] = a.data[c][p] + b.data[c][p];
        return out;
    }

    private static double dot(Map a, Map b) {
        double s = 0;
        for (int c = 0; c < a.channels(); c++) for (int p = 0; p < a.pixels(); p++) s += a.data[c][p] * b.data[c][p];
        return s;
    }
}
