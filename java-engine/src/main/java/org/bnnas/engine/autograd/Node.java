// Node: one recorded op in the autograd graph; its backward sits beside the forward in ops/.
package org.bnnas.engine.autograd;

import org.bnnas.engine.tensor.Tensor;

/**
 * An op application recorded for backward. {@code inputs} are the tensors it differentiates
 * with respect to; an input that does not require grad gets none, and the op is expected to skip
 * the work for it entirely (no weight gradient for a frozen weight, no input gradient below the
 * first trainable parameter).
 */
public abstract class Node {
    protected final String name;
    protected final Tensor[] inputs;

    protected Node(String name, Tensor... inputs) {
        this.name = name;
        this.inputs = inputs;
    }

    /** Input {@code i}, as recorded. */
    public Tensor input(int i) {
        return inputs[i];
    }

    /** Whether input {@code i} needs a gradient. */
    public boolean needs(int i) {
        return inputs[i] != null && inputs[i].requiresGrad();
    }

    /**
     * Computes the gradients of the inputs that need one, given the gradient of the output, and
     * hands each to {@link Autograd#accumulate}.
     */
    protected abstract void backward(Tensor gradOutput);

    public String name() { return name; }

    Tensor[] inputs() { return inputs; }
}
