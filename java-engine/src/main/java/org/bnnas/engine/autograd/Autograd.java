// Autograd: the reverse-mode walk over the recorded graph, and gradient accumulation.
package org.bnnas.engine.autograd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Node;
import org.bnnas.engine.tensor.Tensor;

/**
 * Reverse-mode differentiation over the dynamic graph: the tensors reachable from the root are
 * visited in reverse topological order; each node receives the complete gradient of its output
 * and passes gradients to its inputs. Gradients of intermediate tensors are freed as soon as their
 * node has run; gradients of leaves (parameters) accumulate with {@code +=} and are owned by the
 * leaf until {@code zeroGrad}.
 */
public final class Autograd {
    private Autograd() {}

    public static void backward(Tensor root) {
        if (root.size() != 1) throw new IllegalArgumentException("backward: root must be a scalar, got shape " + root.shape());
        backward(root, Tensor.scalar(1f));
    }

    /**
     * Vector-Jacobian product: back-propagates {@code seed} (the gradient of some scalar with
     * respect to root, same shape as root; ownership passes to this call) through the graph.
     *
     * @throws IllegalStateException when a tensor some node's backward reads was modified in place
     *     after the forward (see {@link Node#saves}); then no node has run
     */
    public static void backward(Tensor root, Tensor seed) {
        if (!root.requiresGrad()) throw new IllegalArgumentException("backward: the root does not require grad (nothing to train?)");
        if (!seed.shape().equals(root.shape())) throw new IllegalArgumentException("backward: seed " + seed.shape() + " for root " + root.shape());
        List<Tensor> order = topologicalOrder(root);
        // Every node is checked before any runs, so that a refused backward changes no gradient.
        for (Tensor t : order) {
            if (t.gradFn() == null) continue;
            try {
                t.gradFn().checkSaved();
            } catch (IllegalStateException e) {
                seed.close();
                throw e;
            }
        }
        accumulate(root, seed);
        for (Tensor t : order) { // outputs before the inputs they were computed from
            Node node = t.gradFn();
            Tensor g = t.grad();
            if (node == null || g == null) continue;
            t.setGrad(null);
            PASSED_ON.set(null);
            node.backward(g);
            if (PASSED_ON.get() != g) g.close();
        }
        PASSED_ON.set(null);
    }

    /** The gradient a node handed on unchanged (see passOn), which the walk must not free. */
    private static final ThreadLocal<Tensor> PASSED_ON = new ThreadLocal<>();

    /**
     * Hands the node's own output gradient {@code g} to input {@code t} unchanged, without a copy
     * (an identity path, such as one side of an add). At most once per node.
     */
    public static void passOn(Tensor t, Tensor g) {
        if (!t.requiresGrad()) return;
        PASSED_ON.set(g);
        accumulate(t, g);
    }

    /** Tensors with a grad function reachable from root, each after every tensor that uses it. */
    private static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> post = new ArrayList<>();
        Set<Tensor> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object[]> stack = new ArrayDeque<>(); // {tensor, next input index}
        stack.push(new Object[] {root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Tensor t = (Tensor) top[0];
            Node n = t.gradFn();
            int i = (Integer) top[1];
            if (n != null && i < n.inputCount()) {
                top[1] = i + 1;
                Tensor child = n.input(i);
                if (child != null && child.gradFn() != null && visited.add(child)) stack.push(new Object[] {child, 0});
            } else {
                stack.pop();
                post.add(t);
            }
        }
        Collections.reverse(post);
        return post;
    }

    /**
     * Adds {@code g} to the gradient of {@code t}. Takes ownership of {@code g}: it becomes the
     * gradient itself when {@code t} had none, otherwise it is added and closed. Leaf gradients
     * are detached from the step's scope so that they outlive it.
     */
    public static void accumulate(Tensor t, Tensor g) {
        if (!t.requiresGrad()) {
            g.close();
            return;
        }
        if (!g.shape().equals(t.shape())) {
            throw new IllegalStateException("accumulate: gradient " + g.shape() + " for tensor " + t.shape());
        }
        Tensor cur = t.grad();
        if (cur == null) {
            if (t.isLeaf()) MemoryScope.detach(g);
            t.setGrad(g);
        } else {
            Backends.current().addInPlace(cur, g);
            cur.bumpVersion();
            g.close();
        }
    }
}
