// Sequential: children applied in order, named "0", "1", ... as in PyTorch.
package org.bnnas.engine.nn;

import java.util.ArrayList;
import java.util.List;
import org.bnnas.engine.tensor.Tensor;

public final class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... modules) {
        for (Module m : modules) add(m);
    }

    public Sequential add(Module m) {
        addModule(Integer.toString(layers.size()), m);
        layers.add(m);
        return this;
    }

    public Module get(int i) {
        return layers.get(i);
    }

    public int size() {
        return layers.size();
    }

    /**
     * Runs the layers in order. A BatchNorm2d followed by a ReLU6 runs as one fused op
     * (the same result, a third less memory traffic); the modules and their names stay as they are.
     */
    @Override
    public Tensor forward(Tensor x) {
        for (int i = 0; i < layers.size(); i++) {
            Module m = layers.get(i);
            Module next = i + 1 < layers.size() ? layers.get(i + 1) : null;
            if (m instanceof BatchNorm2d bn && next instanceof ReLU6) {
                x = bn.forward(x, 6f);
                i++;
            } else {
                x = m.forward(x);
            }
        }
        return x;
    }
}
