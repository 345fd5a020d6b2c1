// Node: one recorded op in the autograd graph (what a tensor's gradFn points at), and the tensors
// its backward reads with their versions at the forward; its backward sits beside the forward in
// ops/, and autograd/ walks the nodes.
package org.bnnas.engine.tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * An op application recorded for backward. {@code inputs} are the tensors it differentiates
 * with respect to; an input that does not require grad gets none, and the op is expected to skip
 * the work for it entirely (no weight gradient for a frozen weight, no input gradient below the
 * first trainable parameter).
 *
 * <p>The tensors the backward reads are declared with {@link #saves} when the node is recorded,
 * which notes their versions; the backward walk refuses to run a node whose saved tensor
 * was modified in place since (PyTorch's rule), as its gradients would be computed from values the
 * forward never used. What an op keeps privately (dropout's mask, the loss's gradient, batch
 * norm's statistics) nobody else can modify and is not declared.
 */
public abstract class Node {
    protected final String name;
    protected final Tensor[] inputs;
    private final List<Saved> saved = new ArrayList<>(2);

    /** A tensor the backward reads, its role for messages, and its version at the forward. */
    private record Saved(String role, Tensor tensor, long version) {}

    protected Node(String name, Tensor... inputs) {
        this.name = name;
        this.inputs = inputs;
    }

    /**
     * Declares that the backward reads {@code t} ({@code role} names it in messages: "input",
     * "weight", ...) and notes its version now, at the forward. Returns this node.
     */
    public final Node saves(String role, Tensor t) {
        saved.add(new Saved(role, t, t.version()));
        return this;
    }

    /**
     * Throws IllegalStateException, naming this op, the saved tensor (its position among the saved
     * ones, role and shape) and both versions, when a saved tensor was modified in place since the
     * forward.
     */
    public void checkSaved() {
        for (int i = 0; i < saved.size(); i++) {
            Saved s = saved.get(i);
            long now = s.tensor().version();
            if (now != s.version()) {
                throw new IllegalStateException("backward of " + name + ": its saved tensor " + i + " (" + s.role() + ", shape "
                        + s.tensor().shape() + ") was modified in place after the forward (version " + s.version() + ", now " + now + ")");
            }
        }
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
     * hands each to autograd's accumulate. Called by the backward walk, once per node.
     */
    public abstract void backward(Tensor gradOutput);

    public String name() { return name; }

    /** How many inputs the op recorded (some may be null: an absent bias). */
    public int inputCount() { return inputs.length; }
}
