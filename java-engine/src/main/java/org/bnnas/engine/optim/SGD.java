// SGD: stochastic gradient descent with momentum, weight decay and Nesterov, PyTorch's formula,
// and the rule a weight-sharing supernet needs: a parameter with no gradient is not touched.
package org.bnnas.engine.optim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Tensor;

/**
 * PyTorch's {@code torch.optim.SGD} (dampening 0) over one or more {@link ParamGroup}s. For each
 * parameter that has a gradient, {@link #step()} computes
 * <pre>
 * g   = grad + weightDecay * p
 * buf = momentum * buf + g        (buf = g on the parameter's first step)
 * p  -= lr * (nesterov ? g + momentum * buf : buf)       (p -= lr * g without momentum)
 * </pre>
 *
 * <p>No gradient, no update: a parameter whose gradient is null in this step is skipped
 * entirely: no weight decay, no momentum, and its momentum buffer is left as it was. In a
 * weight-sharing supernet only the sampled path receives a gradient; decaying or coasting the
 * other candidate ops on momentum would train them on steps in which they took no part. (This is
 * also what PyTorch does when gradients are set to None.) Parameters with requiresGrad false are
 * skipped too. Call {@link #zeroGrad()} after each step so that stale gradients are not reused.
 *
 * <p>The momentum buffers are created on a parameter's first step, outside any
 * {@link MemoryScope}, and belong to this optimizer: {@link #close()} frees them.
 */
public final class SGD implements AutoCloseable {
    /** Name suffix of a parameter's momentum buffer in {@link #stateDict}. */
    public static final String MOMENTUM_BUFFER = ".momentum_buffer";
    /** Name suffix of a parameter's step count (the steps in which it had a gradient) in {@link #stateDict}. */
    public static final String STEPS = ".steps";

    /** What the optimizer remembers of one parameter. */
    private static final class State {
        /** Null until the first step with momentum. */
        Tensor momentumBuffer;
        /** Steps in which this parameter had a gradient and was updated. */
        long steps;
    }

    private final List<ParamGroup> groups;
    /** By identity: parameters are distinct objects, and two may hold equal values. */
    private final Map<Parameter, State> state = new IdentityHashMap<>();
    private boolean closed;

    public SGD(ParamGroup... groups) {
        this(List.of(groups));
    }

    public SGD(List<ParamGroup> groups) {
        if (groups.isEmpty()) throw new IllegalArgumentException("SGD: no parameter groups");
        // A parameter in two groups would be stepped twice per step(), as PyTorch also refuses.
        Map<Parameter, Boolean> seen = new IdentityHashMap<>();
        for (ParamGroup g : groups) {
            for (Parameter p : g.params()) {
                if (seen.put(p, Boolean.TRUE) != null) throw new IllegalArgumentException("SGD: a parameter appears in more than one group");
            }
        }
        this.groups = Collections.unmodifiableList(new ArrayList<>(groups));
    }

    /** The groups, in the order given; set a group's learning rate through {@link ParamGroup#setLr}. */
    public List<ParamGroup> groups() { return groups; }

    /** Sets every group's learning rate to {@code factor * initialLr} (what a schedule does). */
    public void setLrFactor(double factor) {
        for (ParamGroup g : groups) g.setLr(g.initialLr() * factor);
    }

    /**
     * Updates every parameter that requires grad and has a gradient; see the class comment. Each
     * group's tensors go to the backend in one call, which a device backend turns into one launch.
     * A new momentum buffer starts at zero, which makes its first step buf = g exactly.
     */
    public void step() {
        checkOpen();
        for (ParamGroup group : groups) {
            float momentum = (float) group.momentum();
            List<Tensor> params = new ArrayList<>(), grads = new ArrayList<>(), bufs = momentum != 0f ? new ArrayList<>() : null;
            for (Parameter p : group.params()) {
                Tensor grad = p.grad();
                if (!p.requiresGrad() || grad == null) continue; // no gradient, no update
                if (!grad.shape().equals(p.data().shape())) {
                    throw new IllegalStateException("SGD: gradient " + grad.shape() + " for parameter " + p.data().shape());
                }
                State s = state.computeIfAbsent(p, k -> new State());
                if (momentum != 0f && s.momentumBuffer == null) s.momentumBuffer = newBuffer(p);
                params.add(p.data());
                grads.add(grad);
                if (bufs != null) bufs.add(s.momentumBuffer);
                s.steps++;
            }
            if (params.isEmpty()) continue;
            Backends.current().sgdStepAll(params, grads, bufs, (float) group.lr(), momentum, (float) group.weightDecay(), group.nesterov());
            for (Tensor t : params) t.bumpVersion();
            if (bufs != null) for (Tensor t : bufs) t.bumpVersion();
        }
    }

    /** Drops the gradient of every parameter of every group. */
    public void zeroGrad() {
        for (ParamGroup g : groups) for (Parameter p : g.params()) p.zeroGrad();
    }

    /** The momentum buffer of {@code p}, or null before its first step with momentum. Owned by this optimizer. */
    public Tensor momentumBuffer(Parameter p) {
        State s = state.get(p);
        return s == null ? null : s.momentumBuffer;
    }

    /** How many steps updated {@code p} (steps in which it had a gradient). */
    public long steps(Parameter p) {
        State s = state.get(p);
        return s == null ? 0 : s.steps;
    }

    /** Inverts a module's {@code namedParameters()} into the map {@link #stateDict} takes. */
    public static Map<Parameter, String> namesOf(Map<String, Parameter> named) {
        Map<Parameter, String> out = new IdentityHashMap<>();
        named.forEach((n, p) -> out.put(p, n));
        return out;
    }

    /**
     * The optimizer state for a checkpoint, keyed by parameter name: {@code name + ".steps"} (I64
     * scalar) for every parameter that has been updated, and {@code name + ".momentum_buffer"}
     * (F32, the parameter's shape, logical order) for those that have a momentum buffer. A
     * parameter that has never had a gradient has no entry, so a restored optimizer will treat
     * its next step as its first, as this one would. Learning rates are not stored: the schedule
     * sets them from the step number. Every parameter of the groups must have a name.
     */
    public Map<String, TensorData> stateDict(Map<Parameter, String> names) {
        checkOpen();
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (ParamGroup g : groups) {
            for (Parameter p : g.params()) {
                String name = nameOf(p, names);
                State s = state.get(p);
                if (s == null) continue;
                out.put(name + STEPS, TensorData.i64Scalar(s.steps));
                if (s.momentumBuffer != null) out.put(name + MOMENTUM_BUFFER, TensorData.of(s.momentumBuffer));
            }
        }
        return out;
    }

    /**
     * Replaces this optimizer's state by what {@link #stateDict} wrote: parameters without an
     * entry go back to "never stepped". Every key must belong to a parameter of the groups and
     * buffers must have the parameter's shape; nothing is changed when a check fails.
     */
    public void loadStateDict(Map<String, TensorData> in, Map<Parameter, String> names) {
        checkOpen();
        // Check everything before changing anything, so that a bad checkpoint leaves the optimizer intact.
        Map<String, Parameter> byName = new LinkedHashMap<>();
        for (ParamGroup g : groups) {
            for (Parameter p : g.params()) {
                if (byName.put(nameOf(p, names), p) != null) throw new IllegalArgumentException("loadStateDict: two parameters named " + nameOf(p, names));
            }
        }
        for (Map.Entry<String, TensorData> e : in.entrySet()) {
            String key = e.getKey();
            TensorData d = e.getValue();
            if (key.endsWith(STEPS) && byName.containsKey(stripSuffix(key, STEPS))) {
                if (d.longValue(key) < 0) throw new IllegalArgumentException("loadStateDict: " + key + " is negative");
            } else if (key.endsWith(MOMENTUM_BUFFER) && byName.containsKey(stripSuffix(key, MOMENTUM_BUFFER))) {
                Parameter p = byName.get(stripSuffix(key, MOMENTUM_BUFFER));
                if (!java.util.Arrays.equals(d.shape(), p.data().shape().dims())) {
                    throw new IllegalArgumentException("loadStateDict: " + key + " has shape " + java.util.Arrays.toString(d.shape())
                            + ", parameter has " + p.data().shape());
                }
                d.floats(); // throws on a non-F32 entry
                if (!in.containsKey(stripSuffix(key, MOMENTUM_BUFFER) + STEPS)) {
                    throw new IllegalArgumentException("loadStateDict: " + key + " without its " + STEPS + " entry");
                }
            } else {
                throw new IllegalArgumentException("loadStateDict: unexpected key " + key);
            }
        }
        closeBuffers();
        state.clear();
        for (Map.Entry<String, Parameter> e : byName.entrySet()) {
            TensorData steps = in.get(e.getKey() + STEPS);
            if (steps == null) continue;
            State s = new State();
            s.steps = steps.longValue(e.getKey() + STEPS);
            TensorData buf = in.get(e.getKey() + MOMENTUM_BUFFER);
            if (buf != null) {
                s.momentumBuffer = newBuffer(e.getValue());
                buf.copyInto(e.getKey() + MOMENTUM_BUFFER, s.momentumBuffer);
            }
            state.put(e.getValue(), s);
        }
    }

    /** Frees the momentum buffers. The parameters belong to their module and stay open. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        closeBuffers();
        state.clear();
    }

    private void closeBuffers() {
        for (State s : state.values()) {
            if (s.momentumBuffer != null) s.momentumBuffer.close();
            s.momentumBuffer = null;
        }
    }

    /** A zeroed buffer shaped like {@code p}, detached so that it outlives the step's scope. */
    private static Tensor newBuffer(Parameter p) {
        return MemoryScope.detach(Tensor.zeros(p.data().shape()));
    }

    private static String nameOf(Parameter p, Map<Parameter, String> names) {
        String n = names.get(p);
        if (n == null) throw new IllegalArgumentException("SGD: a parameter of the optimizer has no name in the given map");
        return n;
    }

    private static String stripSuffix(String key, String suffix) {
        return key.substring(0, key.length() - suffix.length());
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("SGD: used after close");
    }
}
