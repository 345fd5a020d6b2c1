// Parameter: a trainable tensor owned by a module; gradients accumulate into it.
package org.bnnas.engine.nn;

import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Tensor;

/**
 * A leaf tensor that a module owns. Its memory never belongs to a {@link MemoryScope}: it lives
 * until the module is closed. {@link #grad()} is null until a backward pass reaches it, and
 * again after {@link #zeroGrad()}: a parameter with no gradient is left alone by the optimizer.
 */
public final class Parameter implements AutoCloseable {
    private final Tensor data;

    public Parameter(Tensor data) {
        this.data = MemoryScope.detach(data);
        data.requiresGrad(true);
    }

    public Tensor data() { return data; }

    public Tensor grad() { return data.grad(); }

    public boolean requiresGrad() { return data.requiresGrad(); }

    public Parameter requiresGrad(boolean on) {
        data.requiresGrad(on);
        return this;
    }

    /** Drops the gradient (PyTorch's zero_grad(set_to_none=True)). */
    public void zeroGrad() {
        Tensor g = data.grad();
        if (g != null) {
            data.setGrad(null);
            g.close();
        }
    }

    @Override
    public void close() {
        zeroGrad();
        data.close();
    }
}
