// Predictor: every way this project scores an architecture short of training it: the BN indicator
// (BN-NAS), SPOS's accuracy, the training-free proxies, and the FLOPs, params and random baselines.
package org.bnnas.score;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The name on the command line ({@link #id}) and what a predictor needs. Higher is better for every one. */
public enum Predictor {
    /** The sum over the path's layers of the mean |gamma| of the chosen op's last BN, from a BN-NAS supernet. */
    BN("bn"),
    /** Validation top-1 after BN recalibration on training batches, from a SPOS supernet. */
    ACCURACY("accuracy"),
    /** log of the sum of |W * dR/dW| on the network's linear envelope (see {@link Synflow}). */
    SYNFLOW("synflow"),
    /** Sum of |W * dL/dW| over the weights, on one batch. */
    SNIP("snip"),
    /** Sum over the weights of the L2 norm of dL/dW, on one batch. */
    GRAD_NORM("grad_norm"),
    /** Minus the eigenvalue penalty of the correlation of the input gradients, on one batch. */
    JACOB_COV("jacob_cov"),
    /** log |det K| of the ReLU6 sign codes' agreement matrix, on one batch. */
    NASWOT("naswot"),
    /** Convolution multiply-accumulates and the classifier's, as {@code bnnas info} counts them. */
    FLOPS("flops"),
    /** Parameters, as {@code bnnas info} counts them. */
    PARAMS("params"),
    /** A seeded uniform number per architecture: the baseline that knows nothing. */
    RANDOM("random");

    public final String id;

    Predictor(String id) {
        this.id = id;
    }

    /** The predictor of that name, or an IllegalArgumentException listing the names. */
    public static Predictor parse(String id) {
        for (Predictor p : values()) if (p.id.equals(id)) return p;
        throw new IllegalArgumentException("'" + id + "' is not a predictor (" + Arrays.stream(values()).map(p -> p.id).collect(Collectors.joining(", ")) + ")");
    }

    /** bn and accuracy score paths of a trained supernet. */
    public boolean needsSupernet() {
        return this == BN || this == ACCURACY;
    }

    /** The predictors computed from one batch of images (and labels). */
    public boolean needsBatch() {
        return this == SNIP || this == GRAD_NORM || this == JACOB_COV || this == NASWOT;
    }

    /** The predictors computed on a network's weights: a standalone network from the seed, or a checkpoint's weights. */
    public boolean needsNetwork() {
        return needsBatch() || this == SYNFLOW;
    }

    @Override
    public String toString() {
        return id;
    }
}
