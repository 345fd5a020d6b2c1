// Ops: the differentiable operations. Each op checks its arguments, runs the forward kernel, and
// records a Node whose backward sits right below it.
package org.bnnas.engine.ops;

import org.bnnas.engine.autograd.Autograd;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.backend.Backend;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.backend.BatchNormState;
import org.bnnas.engine.backend.ConvSpec;
import org.bnnas.engine.tensor.Node;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Shape;
import org.bnnas.engine.tensor.Tensor;

/**
 * Differentiable ops on {@link Tensor}s. A node is recorded only when grad mode is on and some
 * input requires grad; its backward computes only the gradients that some input needs.
 */
public final class Ops {
    private Ops() {}

    private static Backend be() {
        return Backends.current();
    }

    private static boolean recording(Tensor... inputs) {
        if (!GradMode.isEnabled()) return false;
        for (Tensor t : inputs) if (t != null && t.requiresGrad()) return true;
        return false;
    }

    private static IllegalArgumentException bad(String op, String what) {
        return new IllegalArgumentException(op + ": " + what);
    }

    private static void requireRank(String op, String arg, Tensor t, int rank) {
        if (t.rank() != rank) throw bad(op, arg + " must be " + rank + "-D, got shape " + t.shape());
    }

    private static void requireSameShape(String op, Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) throw bad(op, "shapes differ: " + a.shape() + " and " + b.shape());
    }

    // ---- elementwise ---------------------------------------------------------------------------

    /** a + b (same shapes; the residual connection). */
    public static Tensor add(Tensor a, Tensor b) {
        requireSameShape("add", a, b);
        Tensor out = Tensor.empty(a.shape());
        be().add(a, b, out);
        if (recording(a, b)) {
            out.setGradFn(new Node("add", a, b) { // reads no tensor of the forward: saves nothing
                @Override public void backward(Tensor g) {
                    // one side gets a copy, the other the gradient itself
                    if (needs(0) && needs(1)) Autograd.accumulate(inputs[1], g.copy());
                    else if (needs(1)) Autograd.passOn(inputs[1], g);
                    if (needs(0)) Autograd.passOn(inputs[0], g);
                }
            });
        }
        return out;
    }

    /** min(max(x, 0), 6). */
    public static Tensor relu6(Tensor x) {
        Tensor y = Tensor.empty(x.shape());
        be().clampRelu(x, 6f, y);
        if (recording(x)) {
            y.setGradFn(new Node("relu6", x) {
                @Override public void backward(Tensor g) {
                    Tensor dx = Tensor.empty(g.shape());
                    be().clampReluBackward(y, g, 6f, dx);
                    Autograd.accumulate(inputs[0], dx);
                }
            }.saves("output", y));
        }
        return y;
    }

    // ---- convolution ---------------------------------------------------------------------------

    /**
     * 2-D convolution without bias. x (N, Ci, H, W), w (Co, Ci/groups, k, k); kernel k odd or
     * even, any stride, padding and groups dividing Ci and Co.
     */
    public static Tensor conv2d(Tensor x, Tensor w, int stride, int padding, int groups) {
        requireRank("conv2d", "input", x, 4);
        requireRank("conv2d", "weight", w, 4);
        int ci = x.dim(1), co = w.dim(0), k = w.dim(2);
        if (w.dim(3) != k) throw bad("conv2d", "weight kernel must be square, got shape " + w.shape());
        ConvSpec spec = new ConvSpec(k, stride, padding, groups);
        if (ci % groups != 0 || co % groups != 0) {
            throw bad("conv2d", "groups " + groups + " must divide input channels " + ci + " and output channels " + co
                    + " (input " + x.shape() + ", weight " + w.shape() + ")");
        }
        if (w.dim(1) != ci / groups) {
            throw bad("conv2d", "weight " + w.shape() + " expects " + w.dim(1) * groups + " input channels, input " + x.shape() + " has " + ci);
        }
        int oh = spec.outSize(x.dim(2)), ow = spec.outSize(x.dim(3));
        if (oh < 1 || ow < 1) throw bad("conv2d", "input " + x.shape() + " too small for kernel " + k + " with padding " + padding);
        Tensor y = Tensor.empty(x.dim(0), co, oh, ow);
        be().conv2d(x, w, y, spec);
        if (recording(x, w)) {
            y.setGradFn(new Node("conv2d", x, w) {
                @Override public void backward(Tensor g) {
                    if (needs(1)) {
                        Tensor dw = Tensor.empty(w.shape());
                        be().conv2dBackwardWeight(g, x, dw, spec);
                        Autograd.accumulate(inputs[1], dw);
                    }
                    if (needs(0)) {
                        Tensor dx = Tensor.empty(x.shape());
                        be().conv2dBackwardData(g, w, dx, spec);
                        Autograd.accumulate(inputs[0], dx);
                    }
                }
            }.saves("input", x).saves("weight", w));
        }
        return y;
    }

    /**
     * Inference only: act(dwconv(act(x * inScale + inShift)) * outScale + outShift) in one op,
     * act = clamp to [0, cap] (cap 0: none); w (C, 1, k, k), padding k / 2. Records no graph, so it
     * refuses inputs that would need one.
     */
    public static Tensor depthwiseConv2dAffine(Tensor x, Tensor inScale, Tensor inShift, float inCap, Tensor w, int stride,
                                               Tensor outScale, Tensor outShift, float outCap) {
        requireRank("depthwiseConv2dAffine", "input", x, 4);
        requireRank("depthwiseConv2dAffine", "weight", w, 4);
        int c = x.dim(1), k = w.dim(2);
        if (w.dim(0) != c || w.dim(1) != 1 || w.dim(3) != k) {
            throw bad("depthwiseConv2dAffine", "weight " + w.shape() + " is not a depthwise kernel for input " + x.shape());
        }
        for (Tensor t : new Tensor[] {inScale, inShift, outScale, outShift}) {
            if (t.rank() != 1 || t.dim(0) != c) throw bad("depthwiseConv2dAffine", "per-channel tensor " + t.shape() + " for input " + x.shape());
        }
        if (recording(x, w, inScale, inShift, outScale, outShift)) {
            throw bad("depthwiseConv2dAffine", "inference only: call it with grad mode off or on tensors that need no gradient");
        }
        ConvSpec spec = new ConvSpec(k, stride, k / 2, c);
        Tensor y = Tensor.empty(x.dim(0), c, spec.outSize(x.dim(2)), spec.outSize(x.dim(3)));
        be().depthwiseAffine(x, inScale, inShift, inCap, w, spec, outScale, outShift, outCap, y);
        return y;
    }

    /**
     * Inference only: an inverted-residual block with its batch norms given as per-channel affine
     * maps (see Backend.invertedResidualInference): 1x1 expand, affine and clamp, k x k depthwise
     * conv at {@code stride} (padding k / 2), affine and clamp, 1x1 project, affine, plus x when
     * {@code residual}. Records no graph, so it refuses inputs that would need one.
     */
    public static Tensor invertedResidualInference(Tensor x, Tensor expand, Tensor scale1, Tensor shift1, Tensor depthwise, int stride,
                                                   Tensor scale2, Tensor shift2, Tensor project, Tensor scale3, Tensor shift3, float cap,
                                                   boolean residual) {
        String op = "invertedResidualInference";
        requireRank(op, "input", x, 4);
        requireRank(op, "expand weight", expand, 4);
        requireRank(op, "depthwise weight", depthwise, 4);
        requireRank(op, "project weight", project, 4);
        int ci = x.dim(1), mid = expand.dim(0), co = project.dim(0), k = depthwise.dim(2);
        if (expand.dim(1) != ci || expand.dim(2) != 1 || expand.dim(3) != 1) throw bad(op, "expand weight " + expand.shape() + " for input " + x.shape());
        if (depthwise.dim(0) != mid || depthwise.dim(1) != 1 || depthwise.dim(3) != k) {
            throw bad(op, "depthwise weight " + depthwise.shape() + " after expand weight " + expand.shape());
        }
        if (project.dim(1) != mid || project.dim(2) != 1 || project.dim(3) != 1) {
            throw bad(op, "project weight " + project.shape() + " after expand weight " + expand.shape());
        }
        Tensor[][] maps = {{scale1, shift1}, {scale2, shift2}, {scale3, shift3}};
        int[] widths = {mid, mid, co};
        for (int i = 0; i < 3; i++) {
            for (Tensor t : maps[i]) {
                if (t.rank() != 1 || t.dim(0) != widths[i]) throw bad(op, "per-channel tensor " + t.shape() + " for " + widths[i] + " channels");
            }
        }
        ConvSpec spec = new ConvSpec(k, stride, k / 2, mid);
        int oh = spec.outSize(x.dim(2)), ow = spec.outSize(x.dim(3));
        if (residual && (co != ci || oh != x.dim(2) || ow != x.dim(3))) throw bad(op, "a residual needs equal input and output shapes, input " + x.shape());
        if (recording(x, expand, scale1, shift1, depthwise, scale2, shift2, project, scale3, shift3)) {
            throw bad(op, "inference only: call it with grad mode off or on tensors that need no gradient");
        }
        Tensor y = Tensor.empty(x.dim(0), co, oh, ow);
        be().invertedResidualInference(x, expand, scale1, shift1, depthwise, spec, scale2, shift2, project, scale3, shift3, cap, residual, y);
        return y;
    }

    // ---- batch norm ----------------------------------------------------------------------------

    /**
     * Batch normalisation of x (N, C, H, W) over N, H, W, as PyTorch's BatchNorm2d.
     * In training it normalises with the biased batch variance and, when running statistics are
     * given, updates them: running = (1 - m) * running + m * batch, with the unbiased variance;
     * momentum null means the cumulative average (m = 1 / numBatchesTracked, counted by the
     * caller before this call). In evaluation it uses the running statistics.
     */
    public static Tensor batchNorm2d(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                     boolean training, Double momentum, long numBatchesTracked, float eps) {
        return batchNorm2d(x, gamma, beta, runningMean, runningVar, training, momentum, numBatchesTracked, eps, 0f);
    }

    /**
     * Batch norm followed by a clamped ReLU, min(max(bn(x), 0), cap), in one pass over the data
     * each way (cap +infinity: ReLU; 6: ReLU6; 0: no activation). Equal to relu6(batchNorm2d(x))
     * up to rounding, with a third less memory traffic.
     */
    public static Tensor batchNorm2d(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                     boolean training, Double momentum, long numBatchesTracked, float eps, float cap) {
        requireRank("batchNorm2d", "input", x, 4);
        Tensor y = Tensor.empty(x.shape());
        BatchNormState st = normalise("batchNorm2d", x, gamma, beta, runningMean, runningVar, training, momentum, numBatchesTracked, eps, cap, y);
        if (recording(x, gamma, beta)) {
            y.setGradFn(new Node("batchNorm2d", x, gamma, beta) {
                @Override public void backward(Tensor g) {
                    batchNormBackward(this, x, g, cap, st);
                }
            }.saves("input", x).saves("weight", gamma)); // gamma: cuDNN's backward reads it, not st's scale
        }
        return y;
    }

    /**
     * Batch norm, a clamped ReLU (cap as in batchNorm2d) and a depthwise convolution (w (C, 1, k, k),
     * padding k / 2) as one op: the normalised activation, the block's largest tensor, is never
     * written out; its backward recomputes it from x. Equal to
     * conv2d(batchNorm2d(x, ..., cap), w, stride, k / 2, C) up to rounding.
     */
    public static Tensor batchNormDepthwise(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                            boolean training, Double momentum, long numBatchesTracked, float eps, float cap,
                                            Tensor w, int stride) {
        requireRank("batchNormDepthwise", "input", x, 4);
        requireRank("batchNormDepthwise", "weight", w, 4);
        int c = x.dim(1), k = w.dim(2);
        if (w.dim(0) != c || w.dim(1) != 1 || w.dim(3) != k) {
            throw bad("batchNormDepthwise", "weight " + w.shape() + " is not a depthwise kernel for input " + x.shape());
        }
        BatchNormState st = normalise("batchNormDepthwise", x, gamma, beta, runningMean, runningVar, training, momentum, numBatchesTracked, eps, cap,
                null);
        ConvSpec spec = new ConvSpec(k, stride, k / 2, c);
        Tensor y = Tensor.empty(x.dim(0), c, spec.outSize(x.dim(2)), spec.outSize(x.dim(3)));
        be().depthwiseAffine(x, st.scale(), st.shift(), cap, w, spec, null, null, 0f, y);
        if (recording(x, gamma, beta, w)) {
            y.setGradFn(new Node("batchNormDepthwise", x, gamma, beta, w) {
                @Override public void backward(Tensor g) {
                    if (needs(3)) {
                        Tensor dw = Tensor.empty(w.shape());
                        be().depthwiseAffineBackwardWeight(g, x, st.scale(), st.shift(), cap, dw, spec);
                        Autograd.accumulate(inputs[3], dw);
                    }
                    if (needs(0) || needs(1) || needs(2)) {
                        try (Tensor activated = Tensor.empty(x.shape())) { // the gradient of the normalised activation
                            be().conv2dBackwardData(g, w, activated, spec);
                            batchNormBackward(this, x, activated, cap, st);
                        }
                    }
                }
            }.saves("input", x).saves("weight", gamma).saves("depthwise weight", w));
        }
        return y;
    }

    /** Gradients for inputs 0-2 of {@code node} (x, gamma, beta) from dy, the gradient of act(x * scale + shift). */
    private static void batchNormBackward(Node node, Tensor x, Tensor dy, float cap, BatchNormState st) {
        int c = x.dim(1);
        Tensor dx = node.needs(0) ? Tensor.empty(x.shape()) : null;
        Tensor dg = node.needs(1) ? Tensor.empty(c) : null;
        Tensor db = node.needs(2) ? Tensor.empty(c) : null;
        be().batchNormBackward(x, dy, cap, st, dx, dg, db);
        if (dx != null) Autograd.accumulate(node.input(0), dx);
        if (dg != null) Autograd.accumulate(node.input(1), dg);
        if (db != null) Autograd.accumulate(node.input(2), db);
    }

    /**
     * The batch-norm forward (statistics, running-statistics update, folded scale and shift, and y
     * when it is not null; see batchNorm2d for the semantics) and what its backward needs.
     */
    private static BatchNormState normalise(String op, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                            boolean training, Double momentum, long numBatchesTracked, float eps, float cap, Tensor y) {
        if (!(cap >= 0f)) throw bad(op, "activation cap must be 0 (none) or positive, got " + cap);
        int c = x.dim(1);
        for (Tensor t : new Tensor[] {gamma, beta, runningMean, runningVar}) {
            if (t != null && (t.rank() != 1 || t.dim(0) != c)) {
                throw bad(op, "per-channel tensor " + t.shape() + " does not match input " + x.shape() + " (" + c + " channels)");
            }
        }
        if (training && x.size() / c <= 1) throw bad(op, "training needs more than one value per channel, input " + x.shape());
        BatchNormState st = BatchNormState.allocate(gamma, eps, training || runningMean == null);
        boolean update = training && runningMean != null;
        double m = momentum == null ? 1.0 / Math.max(1, numBatchesTracked) : momentum;
        be().batchNorm(x, beta, runningMean, runningVar, update ? m : 0.0, cap, st, y);
        if (update) {
            runningMean.bumpVersion();
            runningVar.bumpVersion();
        }
        return st;
    }

    // ---- pooling, linear, dropout, loss ----------------------------------------------------------

    /** (N, C, H, W) to (N, C): the mean over H and W. */
    public static Tensor globalAvgPool(Tensor x) {
        requireRank("globalAvgPool", "input", x, 4);
        Tensor y = Tensor.empty(x.dim(0), x.dim(1));
        be().globalAvgPool(x, y);
        if (recording(x)) {
            Shape xs = x.shape();
            y.setGradFn(new Node("globalAvgPool", x) { // reads only x's shape: saves nothing
                @Override public void backward(Tensor g) {
                    Tensor dx = Tensor.empty(xs);
                    be().globalAvgPoolBackward(g, dx);
                    Autograd.accumulate(inputs[0], dx);
                }
            });
        }
        return y;
    }

    /** x (N, in) w(out, in)^T + b(out); b may be null. */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        requireRank("linear", "input", x, 2);
        requireRank("linear", "weight", w, 2);
        if (x.dim(1) != w.dim(1)) throw bad("linear", "input " + x.shape() + " does not match weight " + w.shape());
        if (b != null && (b.rank() != 1 || b.dim(0) != w.dim(0))) throw bad("linear", "bias " + b.shape() + " does not match weight " + w.shape());
        Tensor y = Tensor.empty(x.dim(0), w.dim(0));
        be().linear(x, w, b, y);
        if (recording(x, w, b)) {
            y.setGradFn(new Node("linear", x, w, b) {
                @Override public void backward(Tensor g) {
                    if (needs(0)) {
                        Tensor dx = Tensor.empty(x.shape());
                        be().linearBackwardData(g, w, dx);
                        Autograd.accumulate(inputs[0], dx);
                    }
                    Tensor dw = needs(1) ? Tensor.empty(w.shape()) : null;
                    Tensor db = needs(2) ? Tensor.empty(b.shape()) : null;
                    if (dw != null || db != null) be().linearBackwardParams(g, x, dw, db);
                    if (dw != null) Autograd.accumulate(inputs[1], dw);
                    if (db != null) Autograd.accumulate(inputs[2], db);
                }
            }.saves("input", x).saves("weight", w));
        }
        return y;
    }

    /** Zeroes each element with probability p and scales the rest by 1 / (1 - p); identity when not training. */
    public static Tensor dropout(Tensor x, float p, boolean training, Rng rng) {
        if (p < 0f || p >= 1f) throw bad("dropout", "probability must be in [0, 1), got " + p);
        if (!training || p == 0f) return x;
        float[] m = new float[x.size()];
        float keep = 1f / (1f - p);
        for (int i = 0; i < m.length; i++) m[i] = rng.nextFloat() < p ? 0f : keep;
        Tensor mask = Tensor.empty(x.shape());
        mask.copyFrom(m); // drawn in logical order, so the mask does not depend on the memory format
        Tensor y = Tensor.empty(x.shape());
        be().mul(x, mask, y);
        if (recording(x)) {
            y.setGradFn(new Node("dropout", x) { // reads only its own mask, which nobody else can modify
                @Override public void backward(Tensor g) {
                    Tensor dx = Tensor.empty(g.shape());
                    be().mul(g, mask, dx);
                    Autograd.accumulate(inputs[0], dx);
                }
            });
        }
        return y;
    }

    /**
     * Mean softmax cross-entropy of logits (N, K) with label smoothing: the target puts
     * 1 - smoothing + smoothing / K on the label and smoothing / K on every other class.
     */
    public static Tensor crossEntropy(Tensor logits, int[] labels, float smoothing) {
        requireRank("crossEntropy", "logits", logits, 2);
        int n = logits.dim(0), k = logits.dim(1);
        if (labels.length != n) throw bad("crossEntropy", labels.length + " labels for logits " + logits.shape());
        for (int l : labels) if (l < 0 || l >= k) throw bad("crossEntropy", "label " + l + " outside [0, " + k + ")");
        if (smoothing < 0f || smoothing >= 1f) throw bad("crossEntropy", "label smoothing must be in [0, 1), got " + smoothing);
        boolean rec = recording(logits);
        Tensor grad = rec ? Tensor.empty(logits.shape()) : null;
        Tensor loss = Tensor.empty(Shape.of());
        be().crossEntropy(logits, labels, smoothing, loss, grad);
        if (rec) {
            loss.setGradFn(new Node("crossEntropy", logits) { // reads only its own gradient, which nobody else can modify
                @Override public void backward(Tensor g) {
                    Tensor d = Tensor.empty(grad.shape());
                    be().scaleBy(grad, g, d); // g stays on the device: the host does not wait for the loss
                    Autograd.accumulate(inputs[0], d);
                }
            });
        }
        return loss;
    }

    /**
     * How many rows of logits (N, K) have their largest value (the first, on a tie) at the label,
     * as a one-element tensor on the device; no gradient.
     */
    public static Tensor countCorrect(Tensor logits, int[] labels) {
        requireRank("countCorrect", "logits", logits, 2);
        if (labels.length != logits.dim(0)) throw bad("countCorrect", labels.length + " labels for logits " + logits.shape());
        Tensor count = Tensor.empty(Shape.of());
        be().countCorrect(logits, labels, count);
        return count;
    }
}
