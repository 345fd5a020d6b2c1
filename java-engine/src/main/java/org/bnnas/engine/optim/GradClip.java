// GradClip: gradient clipping by value (PyTorch's clip_grad_value_), applied in place to the
// parameters' gradients before the optimizer step.
package org.bnnas.engine.optim;

import java.util.Collection;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.tensor.Tensor;

/**
 * In-place gradient clipping. Parameters without a gradient are skipped, so that the ops a
 * supernet did not sample do not get a gradient created for them.
 */
public final class GradClip {
    private GradClip() {}

    /** Clamps every element of every existing gradient to [-limit, limit] (clip_grad_value_). */
    public static void clipByValue(Collection<Parameter> params, float limit) {
        if (!(limit >= 0)) throw new IllegalArgumentException("clipByValue: limit must be >= 0, got " + limit);
        for (Parameter p : params) {
            Tensor g = p.grad();
            if (g != null) {
                Backends.current().clampInPlace(g, limit);
                g.bumpVersion();
            }
        }
    }
}
