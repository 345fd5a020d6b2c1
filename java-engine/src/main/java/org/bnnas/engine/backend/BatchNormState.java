// BatchNormState: the per-channel values one batch-norm forward writes and its backward reads.
package org.bnnas.engine.backend;

import org.bnnas.engine.tensor.Tensor;

/**
 * What a batch-norm forward leaves for its backward: gamma and eps as the forward used them,
 * whether it normalised with the batch's own statistics (training) or the running ones, and four
 * per-channel tensors it writes: the mean it subtracted, invStd = 1 / sqrt(var + eps), and the
 * affine map y = x * scale + shift that the normalisation amounts to (scale = gamma * invStd,
 * shift = beta - mean * scale).
 */
public record BatchNormState(Tensor gamma, float eps, boolean batchStats, Tensor mean, Tensor invStd, Tensor scale, Tensor shift) {
    /** The four per-channel tensors allocated (contents undefined until the forward writes them), in the current scope. */
    public static BatchNormState allocate(Tensor gamma, float eps, boolean batchStats) {
        int c = gamma.size();
        return new BatchNormState(gamma, eps, batchStats, Tensor.empty(c), Tensor.empty(c), Tensor.empty(c), Tensor.empty(c));
    }
}
