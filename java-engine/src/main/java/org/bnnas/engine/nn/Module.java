// Module: the base of every layer: named parameters, buffers and children, train/eval mode,
// requiresGrad, and a state dict with PyTorch's names and layouts.
package org.bnnas.engine.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Tensor;

/**
 * A layer or a network, in PyTorch's shape: {@code parameters()}, {@code namedParameters()},
 * buffers, {@code train()} / {@code eval()}, {@code requiresGrad(false)}, and a state dict whose
 * names join child names with dots. Closing a module frees everything it owns.
 */
public abstract class Module implements AutoCloseable {
    private final Map<String, Parameter> params = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    protected boolean training = true;

    public abstract Tensor forward(Tensor x);

    /** Registers a child under {@code name} (PyTorch's add_module); returns it. */
    public <M extends Module> M addModule(String name, M child) {
        if (children.containsKey(name)) throw new IllegalArgumentException("module: duplicate child name " + name);
        children.put(name, child);
        return child;
    }

    protected Parameter addParameter(String name, Tensor value) {
        Parameter p = new Parameter(value);
        params.put(name, p);
        return p;
    }

    protected Tensor addBuffer(String name, Tensor value) {
        buffers.put(name, MemoryScope.detach(value));
        return value;
    }

    public Map<String, Module> children() {
        return java.util.Collections.unmodifiableMap(children);
    }

    /** This module and its descendants that are a {@code type}, depth first in registration order. */
    public <M extends Module> List<M> modulesOf(Class<M> type) {
        List<M> out = new ArrayList<>();
        if (type.isInstance(this)) out.add(type.cast(this));
        for (Module c : children.values()) out.addAll(c.modulesOf(type));
        return out;
    }

    /** Every parameter of this module and its descendants, named by dotted path, in registration order. */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collectParameters("", out);
        return out;
    }

    private void collectParameters(String prefix, Map<String, Parameter> out) {
        params.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, c) -> c.collectParameters(prefix + n + ".", out));
    }

    public List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Every buffer (running statistics, ...) by dotted path. */
    public Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collectBuffers("", out);
        return out;
    }

    private void collectBuffers(String prefix, Map<String, Tensor> out) {
        buffers.forEach((n, b) -> out.put(prefix + n, b));
        children.forEach((n, c) -> c.collectBuffers(prefix + n + ".", out));
    }

    public Module train(boolean on) {
        training = on;
        children.values().forEach(c -> c.train(on));
        return this;
    }

    public Module train() {
        return train(true);
    }

    public Module eval() {
        return train(false);
    }

    public boolean isTraining() {
        return training;
    }

    /** Sets requiresGrad on every parameter of this module and its descendants. */
    public Module requiresGrad(boolean on) {
        for (Parameter p : parameters()) p.requiresGrad(on);
        return this;
    }

    /** Drops every parameter's gradient. */
    public void zeroGrad() {
        for (Parameter p : parameters()) p.zeroGrad();
    }

    /**
     * Parameters and buffers by PyTorch name, as arrays in PyTorch's layout (conv weights OIHW),
     * plus any extra state of subclasses ({@link #extraState}).
     */
    public Map<String, TensorData> stateDict() {
        Map<String, TensorData> out = new LinkedHashMap<>();
        collectState("", out);
        return out;
    }

    private void collectState(String prefix, Map<String, TensorData> out) {
        params.forEach((n, p) -> out.put(prefix + n, TensorData.of(p.data())));
        buffers.forEach((n, b) -> out.put(prefix + n, TensorData.of(b)));
        extraState(prefix, out);
        children.forEach((n, c) -> c.collectState(prefix + n + ".", out));
    }

    /** Subclasses add state that is not a float tensor (BatchNorm2d's num_batches_tracked). */
    protected void extraState(String prefix, Map<String, TensorData> out) {}

    /** Subclasses read back what {@link #extraState} wrote. */
    protected void loadExtraState(String prefix, Map<String, TensorData> in) {}

    /**
     * Copies values by name into this module. With strict, every name must be present on both
     * sides; shapes must always match.
     */
    public void loadStateDict(Map<String, TensorData> state, boolean strict) {
        Map<String, TensorData> mine = stateDict();
        if (strict) {
            for (String k : mine.keySet()) if (!state.containsKey(k)) throw new IllegalArgumentException("loadStateDict: missing key " + k);
            for (String k : state.keySet()) if (!mine.containsKey(k)) throw new IllegalArgumentException("loadStateDict: unexpected key " + k);
        }
        Map<String, Tensor> targets = new LinkedHashMap<>();
        namedParameters().forEach((k, p) -> targets.put(k, p.data()));
        targets.putAll(namedBuffers());
        for (Map.Entry<String, Tensor> e : targets.entrySet()) {
            TensorData d = state.get(e.getKey());
            if (d == null) continue;
            d.copyInto(e.getKey(), e.getValue());
        }
        loadExtra("", state);
    }

    private void loadExtra(String prefix, Map<String, TensorData> state) {
        loadExtraState(prefix, state);
        children.forEach((n, c) -> c.loadExtra(prefix + n + ".", state));
    }

    @Override
    public void close() {
        params.values().forEach(Parameter::close);
        buffers.values().forEach(Tensor::close);
        children.values().forEach(Module::close);
    }
}
