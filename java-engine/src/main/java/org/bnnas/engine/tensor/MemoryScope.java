// MemoryScope: owns the tensors created while it is open (a training step, an evaluation) and
// releases them all when it closes.
package org.bnnas.engine.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A region of deterministic native-memory ownership. Every tensor created on this thread while a
 * scope is open belongs to the innermost scope and is closed with it, unless it was closed earlier
 * or taken out with {@link #detach(Tensor)}. Tensors created outside any scope belong to their
 * creator (parameters, optimizer state), who closes them.
 * <pre>
 * try (MemoryScope step = MemoryScope.open()) {
 *     Tensor loss = model.forward(x) ...;  Autograd.backward(loss);  optimizer.step();
 * }   // every intermediate is back in the pool here
 * </pre>
 */
public final class MemoryScope implements AutoCloseable {
    private static final ThreadLocal<ArrayDeque<MemoryScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final List<Tensor> owned = new ArrayList<>();
    private boolean closed;

    private MemoryScope() {}

    public static MemoryScope open() {
        MemoryScope s = new MemoryScope();
        STACK.get().push(s);
        return s;
    }

    /** The innermost open scope of this thread, or null. */
    static MemoryScope current() {
        return STACK.get().peek();
    }

    void adopt(Tensor t) {
        owned.add(t);
    }

    /** Removes {@code t} from whatever scope owns it: the caller now owns it. */
    public static Tensor detach(Tensor t) {
        t.owner = null; // the scope skips tensors it no longer owns when it closes
        return t;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        ArrayDeque<MemoryScope> stack = STACK.get();
        if (stack.peek() != this) throw new IllegalStateException("MemoryScope: closed out of order");
        stack.pop();
        for (Tensor t : owned) {
            if (t.owner != this) continue; // detached since
            t.owner = null;
            t.close();
        }
        owned.clear();
    }
}
