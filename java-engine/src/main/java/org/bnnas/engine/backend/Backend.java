// Backend: the kernels every device implements. The CPU backend is the reference; the CUDA backend
// (native/) runs the same op test suite against it.
package org.bnnas.engine.backend;

import java.util.List;
import org.bnnas.engine.tensor.NativeMemory;
import org.bnnas.engine.tensor.Tensor;

/**
 * The device kernels behind the ops. Outputs are passed in, allocated by the caller with the
 * right shape, and every kernel writes all of its output. 4-D tensors are (N, C, H, W) stored
 * channels-last (see {@link Tensor}). Shapes are checked by the ops in {@code ops/}, not here.
 *
 * <p>Kernels only write memory; they leave {@link Tensor#version} alone. A caller that asks for an
 * in-place change (addInPlace, clampInPlace, the running statistics of batchNorm, sgdStep,
 * sgdStepAll) bumps the version of what changed, so that every backend is checked alike.
 */
public interface Backend {
    String name();

    // ---- memory ----
    /** Where tensors take their memory from while this backend is in use (it also fills and copies them). */
    default NativeMemory.Source memory() {
        return NativeMemory.HOST;
    }

    // ---- elementwise ----
    /** out = a + b. */
    void add(Tensor a, Tensor b, Tensor out);

    /** acc += x. */
    void addInPlace(Tensor acc, Tensor x);

    /** out = a * b. */
    void mul(Tensor a, Tensor b, Tensor out);

    /** out = x * s[0], s a one-element tensor (a factor that stays on the device). */
    void scaleBy(Tensor x, Tensor s, Tensor out);

    /** y = min(max(x, 0), cap); cap is +infinity for ReLU, 6 for ReLU6. */
    void clampRelu(Tensor x, float cap, Tensor y);

    /** dx = dy where 0 < y < cap, else 0 (y is the forward output). */
    void clampReluBackward(Tensor y, Tensor dy, float cap, Tensor dx);

    // ---- convolution: x (N, Ci, H, W), w (Co, Ci/groups, k, k), y (N, Co, OH, OW) ----
    void conv2d(Tensor x, Tensor w, Tensor y, ConvSpec spec);

    void conv2dBackwardData(Tensor dy, Tensor w, Tensor dx, ConvSpec spec);

    /** dw = dL/dw (overwritten, not accumulated). */
    void conv2dBackwardWeight(Tensor dy, Tensor x, Tensor dw, ConvSpec spec);

    /**
     * Depthwise convolution (groups = channels) of an input that first goes through a per-channel
     * affine map and activation: y = act(dwconv(act(x * inScale + inShift)) * outScale + outShift),
     * act clamping to [0, cap] (cap 0: none). outScale and outShift may be null (no output map).
     * With batch norms this is BN, ReLU6, depthwise conv (training: the normalised activation is
     * never written out), or, in evaluation, BN, ReLU6, depthwise conv, BN, ReLU6 in one pass.
     */
    void depthwiseAffine(Tensor x, Tensor inScale, Tensor inShift, float inCap, Tensor w, ConvSpec spec,
                         Tensor outScale, Tensor outShift, float outCap, Tensor y);

    /**
     * An inverted-residual block in evaluation with its batch norms as per-channel affine maps:
     * y = project(act(dw(act(expand(x) * scale1 + shift1)) * scale2 + shift2)) * scale3 + shift3,
     * plus x when {@code residual}; expand (mid, Ci, 1, 1) and project (Co, mid, 1, 1) are 1x1
     * convolutions, depthwise (mid, 1, k, k) runs with {@code spec}, act clamps to [0, cap]. The
     * default runs the separate kernels (conv2d, depthwiseAffine, conv2d, channelAffine, add); a
     * backend may keep the expanded activations in cache instead of writing them out.
     */
    default void invertedResidualInference(Tensor x, Tensor expand, Tensor scale1, Tensor shift1, Tensor depthwise, ConvSpec spec,
                                           Tensor scale2, Tensor shift2, Tensor project, Tensor scale3, Tensor shift3, float cap,
                                           boolean residual, Tensor y) {
        ConvSpec pointwise = new ConvSpec(1, 1, 0, 1);
        int n = x.dim(0), mid = expand.dim(0);
        try (Tensor expanded = Tensor.empty(n, mid, x.dim(2), x.dim(3));
             Tensor filtered = Tensor.empty(n, mid, y.dim(2), y.dim(3))) {
            conv2d(x, expand, expanded, pointwise);
            depthwiseAffine(expanded, scale1, shift1, cap, depthwise, spec, scale2, shift2, cap, filtered);
            conv2d(filtered, project, y, pointwise);
        }
        channelAffine(y, scale3, shift3, 0f, y);
        if (residual) add(x, y, y);
    }

    /** The weight gradient of depthwiseAffine without an output map: dw = dL/dw (overwritten). */
    void depthwiseAffineBackwardWeight(Tensor dy, Tensor x, Tensor inScale, Tensor inShift, float inCap, Tensor dw, ConvSpec spec);

    // ---- batch norm over (N, H, W) per channel, optionally fused with a clamped ReLU ----
    // cap: 0 for no activation, +infinity for ReLU, 6 for ReLU6 (y = min(max(bn(x), 0), cap)).

    /** Per-channel mean and biased variance of x over (N, H, W). */
    void batchNormStats(Tensor x, Tensor mean, Tensor var);

    /**
     * Batch norm as an affine map, per channel, in float arithmetic: invStd = (float) (1 /
     * sqrt(var + eps)) computed in double, scale = gamma * invStd, shift = beta - mean * scale.
     */
    void batchNormFold(Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor scale, Tensor shift, Tensor invStd);

    /** running = (float) ((1 - m) * running + m * batch * correction), computed in double. */
    void updateRunningStat(Tensor running, Tensor batch, double m, double correction);

    /** y = act(x * scale + shift) per channel: the normalisation once statistics are known. */
    void channelAffine(Tensor x, Tensor scale, Tensor shift, float cap, Tensor y);

    /**
     * The batch-norm forward, writing every per-channel tensor of {@code st} and, when y is not
     * null, y = act(x * scale + shift). With st.batchStats() it normalises with the batch's own
     * statistics (batchNormStats, then batchNormFold) and, when runningMean is not null, updates
     * the running statistics with momentum m (updateRunningStat; the variance with Bessel's
     * correction count / (count - 1)); otherwise it folds the running statistics and copies
     * runningMean into st.mean(). The default is those kernels in that order; a device backend may
     * do it in fewer passes (CUDA: cuDNN's batch norm where there is no activation).
     */
    default void batchNorm(Tensor x, Tensor beta, Tensor runningMean, Tensor runningVar, double m, float cap, BatchNormState st, Tensor y) {
        if (st.batchStats()) {
            int c = x.dim(1);
            long count = x.size() / c;
            try (Tensor var = Tensor.empty(c)) {
                batchNormStats(x, st.mean(), var);
                batchNormFold(st.gamma(), beta, st.mean(), var, st.eps(), st.scale(), st.shift(), st.invStd());
                if (runningMean != null) {
                    updateRunningStat(runningMean, st.mean(), m, 1.0);
                    updateRunningStat(runningVar, var, m, count / (double) (count - 1));
                }
            }
        } else {
            batchNormFold(st.gamma(), beta, runningMean, runningVar, st.eps(), st.scale(), st.shift(), st.invStd());
            st.mean().copyFrom(runningMean);
        }
        if (y != null) channelAffine(x, st.scale(), st.shift(), cap, y);
    }

    /**
     * Backward of y = act(x * scale + shift), the forward's values in {@code st} (the activation's
     * mask is recomputed exactly from x). With batch statistics dx includes the terms through mean
     * and variance; otherwise dx = dy' * scale, dy' being dy through the activation. Any of dx,
     * dgamma, dbeta may be null and is then not computed.
     */
    void batchNormBackward(Tensor x, Tensor dy, float cap, BatchNormState st, Tensor dx, Tensor dgamma, Tensor dbeta);

    // ---- pooling, linear, loss ----
    /** y (N, C) = mean of x (N, C, H, W) over H and W. */
    void globalAvgPool(Tensor x, Tensor y);

    void globalAvgPoolBackward(Tensor dy, Tensor dx);

    /** y (N, out) = x (N, in) w(out, in)^T + b; b may be null. */
    void linear(Tensor x, Tensor w, Tensor b, Tensor y);

    /** dx = dy w (may be null: not computed). */
    void linearBackwardData(Tensor dy, Tensor w, Tensor dx);

    /** dw = dy^T x, db = column sums of dy (either may be null). */
    void linearBackwardParams(Tensor dy, Tensor x, Tensor dw, Tensor db);

    /**
     * Mean softmax cross-entropy of logits (N, K) against labels with label smoothing eps
     * (target (1 - eps) on the label plus eps / K everywhere), written into the one-element
     * tensor loss (it stays on the device: reading it is the caller's choice). Writes
     * d(loss)/d(logits) into dlogits when it is not null.
     */
    void crossEntropy(Tensor logits, int[] labels, float smoothing, Tensor loss, Tensor dlogits);

    /**
     * count (one element) = how many rows of logits (N, K) have their largest value at the label,
     * the first largest on a tie (a NaN is never larger).
     */
    void countCorrect(Tensor logits, int[] labels, Tensor count);

    // ---- reductions and updates ----
    /**
     * The mean absolute value of each tensor, in double (the BN indicator's table: the mean |gamma|
     * of each op's last BN). A device backend computes them all in one launch.
     */
    default double[] meanAbsolute(List<Tensor> xs) {
        double[] out = new double[xs.size()];
        for (int i = 0; i < out.length; i++) {
            float[] v = xs.get(i).toStorageArray();
            double s = 0;
            for (float x : v) s += Math.abs(x);
            out[i] = s / v.length;
        }
        return out;
    }

    /** x = clamp(x, -limit, limit). */
    void clampInPlace(Tensor x, float limit);

    /**
     * One SGD step with momentum and weight decay, in place, PyTorch's formula:
     * g = grad + wd * p; buf = momentum * buf + g (buf = g on the first step);
     * p -= lr * (nesterov ? g + momentum * buf : buf). buf may be null when momentum is 0.
     */
    void sgdStep(Tensor param, Tensor grad, Tensor buf, boolean firstStep, float lr, float momentum,
                 float weightDecay, boolean nesterov);

    /**
     * sgdStep (not a first step) on each params[i] with grads[i] and bufs[i] (bufs null when
     * momentum is 0), all with the same hyperparameters. A device backend does them all in one
     * launch (a BN-only supernet has hundreds of small gamma and beta tensors).
     */
    default void sgdStepAll(List<Tensor> params, List<Tensor> grads, List<Tensor> bufs, float lr, float momentum, float weightDecay,
                            boolean nesterov) {
        for (int i = 0; i < params.size(); i++) {
            sgdStep(params.get(i), grads.get(i), bufs == null ? null : bufs.get(i), false, lr, momentum, weightDecay, nesterov);
        }
    }
}
