// BatchNorm2d: PyTorch's BatchNorm2d: biased batch variance to normalise, unbiased in running_var,
// momentum 0.1 (or a cumulative average), eps 1e-5, num_batches_tracked.
package org.bnnas.engine.nn;

import java.util.Map;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Tensor;

/**
 * Batch normalisation over (N, H, W) per channel. gamma starts at 1, beta at 0, running_mean at
 * 0 and running_var at 1. A null momentum selects the cumulative moving average (PyTorch's
 * momentum=None), which BN recalibration uses.
 */
public final class BatchNorm2d extends Module {
    public final int numFeatures;
    public final float eps;
    private Double momentum;
    private final Parameter weight, bias;
    private final Tensor runningMean, runningVar;
    private long numBatchesTracked;

    public BatchNorm2d(int numFeatures) {
        this(numFeatures, 1e-5f, 0.1);
    }

    public BatchNorm2d(int numFeatures, float eps, Double momentum) {
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        Tensor g = Tensor.empty(numFeatures);
        g.fill(1f);
        weight = addParameter("weight", g);
        bias = addParameter("bias", Tensor.zeros(numFeatures));
        runningMean = addBuffer("running_mean", Tensor.zeros(numFeatures));
        Tensor v = Tensor.empty(numFeatures);
        v.fill(1f);
        runningVar = addBuffer("running_var", v);
    }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    public Tensor runningMean() { return runningMean; }

    public Tensor runningVar() { return runningVar; }

    public long numBatchesTracked() { return numBatchesTracked; }

    public Double momentum() { return momentum; }

    /** Sets the momentum; null selects the cumulative average. */
    public void setMomentum(Double m) { this.momentum = m; }

    /** The running statistics and momentum at one moment, the tensors copied on the device; close to free them. */
    public record RunningStats(Tensor mean, Tensor var, long numBatchesTracked, Double momentum) implements AutoCloseable {
        @Override
        public void close() {
            mean.close();
            var.close();
        }
    }

    /**
     * A copy of the running statistics and momentum, owned by the caller, for
     * {@link #restoreRunningStats}. Copied on the device, so that saving and restoring the BN
     * statistics of a whole supernet around each evaluation never waits for a GPU.
     */
    public RunningStats saveRunningStats() {
        return new RunningStats(MemoryScope.detach(runningMean.copy()), MemoryScope.detach(runningVar.copy()), numBatchesTracked, momentum);
    }

    /** Puts back what {@link #saveRunningStats} copied (which stays open). */
    public void restoreRunningStats(RunningStats saved) {
        runningMean.copyFrom(saved.mean());
        runningVar.copyFrom(saved.var());
        numBatchesTracked = saved.numBatchesTracked();
        momentum = saved.momentum();
    }

    /** running_mean = 0, running_var = 1, num_batches_tracked = 0 (PyTorch's reset_running_stats). */
    public void resetRunningStats() {
        runningMean.fill(0f);
        runningVar.fill(1f);
        numBatchesTracked = 0;
    }

    @Override
    public Tensor forward(Tensor x) {
        return forward(x, 0f);
    }

    /**
     * The evaluation transform as y = x * scale + shift: {scale, shift} with
     * scale = gamma / sqrt(running_var + eps), shift = beta - running_mean * scale.
     */
    public Tensor[] evalAffine() {
        Tensor scale = Tensor.empty(numFeatures), shift = Tensor.empty(numFeatures);
        try (Tensor invStd = Tensor.empty(numFeatures)) {
            Backends.current().batchNormFold(weight.data(), bias.data(), runningMean, runningVar, eps, scale, shift, invStd);
        }
        return new Tensor[] {scale, shift};
    }

    /**
     * This BN, min(max(., 0), cap) and the depthwise convolution {@code depthwise} as one op
     * (see Ops.batchNormDepthwise): the activation between them is never written out; while an
     * {@link ActivationProbe} is open, the same steps run one at a time so that it is.
     */
    public Tensor forwardIntoDepthwise(Tensor x, float activationCap, Conv2d depthwise) {
        if (depthwise.groups != depthwise.inChannels || depthwise.padding != depthwise.kernel / 2) {
            throw new IllegalArgumentException("forwardIntoDepthwise: " + depthwise.inChannels + " -> " + depthwise.outChannels
                    + " conv with groups " + depthwise.groups + " and padding " + depthwise.padding + " is not a same-padded depthwise conv");
        }
        if (ActivationProbe.active()) return depthwise.forward(forward(x, activationCap));
        if (training) numBatchesTracked++;
        return Ops.batchNormDepthwise(x, weight.data(), bias.data(), runningMean, runningVar, training, momentum, numBatchesTracked, eps,
                activationCap, depthwise.weight().data(), depthwise.stride);
    }

    /** This BN followed by min(max(., 0), cap), fused into one op (see Ops.batchNorm2d); cap 6 is a ReLU6 an ActivationProbe sees. */
    public Tensor forward(Tensor x, float activationCap) {
        if (training) numBatchesTracked++;
        Tensor y = Ops.batchNorm2d(x, weight.data(), bias.data(), runningMean, runningVar, training, momentum, numBatchesTracked, eps, activationCap);
        if (activationCap == 6f) ActivationProbe.report(y);
        return y;
    }

    @Override
    protected void extraState(String prefix, Map<String, TensorData> out) {
        out.put(prefix + "num_batches_tracked", TensorData.i64Scalar(numBatchesTracked));
    }

    @Override
    protected void loadExtraState(String prefix, Map<String, TensorData> in) {
        TensorData d = in.get(prefix + "num_batches_tracked");
        if (d != null) numBatchesTracked = d.longValue(prefix + "num_batches_tracked");
    }
}
