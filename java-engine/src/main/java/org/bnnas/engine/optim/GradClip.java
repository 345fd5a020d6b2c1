// GradClip: gradient clipping by value and by global norm (PyTorch's clip_grad_value_ and
// clip_grad_norm_), applied in place to the parameters' gradients before the optimizer step.
package org.bnnas.engine.optim;

import java.util.Collection;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.tensor.Tensor;

/**
 * In-place gradient clipping. Parameters without a gradient are skipped, so that the ops a
 * supernet did not sample neither count toward the norm nor get a gradient created for them.
 */
public final class GradClip {
    /** PyTorch's guard against division by a zero norm. */
    private static final double EPS = 1e-6;

    private GradClip() {}

    /** Clamps every element of every existing gradient to [-limit, limit] (clip_grad_value_). */
    public static void clipByValue(Collection<Parameter> params, float limit) {
        if (!(limit >= 0)) throw new IllegalArgumentException("clipByValue: limit must be >= 0, got " + limit);
        for (Parameter p : params) {
            Tensor g = p.grad();
            if (g != null) Backends.current().clampInPlace(g, limit);
        }
    }

    /**
     * Scales all gradients together so that their global L2 norm is at most {@code maxNorm}
     * (clip_grad_norm_). The norm is sqrt of the sum of squares of every gradient element, summed
     * in double in the collection's iteration order (pass a List for a reproducible result). When
     * it exceeds maxNorm, every gradient is multiplied by maxNorm / (norm + 1e-6).
     *
     * <p>A non-finite norm (NaN or infinity) is returned as it is and the gradients are left
     * unchanged, so that the caller can see it and skip the step instead of stepping on NaN.
     *
     * @return the total norm before clipping (0 when no parameter has a gradient)
     */
    public static double clipByNorm(Collection<Parameter> params, double maxNorm) {
        if (!(maxNorm >= 0)) throw new IllegalArgumentException("clipByNorm: maxNorm must be >= 0, got " + maxNorm);
        double sumSquares = 0;
        for (Parameter p : params) {
            Tensor g = p.grad();
            if (g != null) sumSquares += Backends.current().sumOfSquares(g);
        }
        double total = Math.sqrt(sumSquares);
        if (Double.isFinite(total) && total > maxNorm) {
            float scale = (float) (maxNorm / (total + EPS));
            for (Parameter p : params) {
                Tensor g = p.grad();
                if (g != null) Backends.current().scaleInPlace(g, scale);
            }
        }
        return total;
    }
}
