// ReLU: max(x, 0).
package org.bnnas.engine.nn;

import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.Tensor;

public final class ReLU extends Module {
    @Override
    public Tensor forward(Tensor x) {
        return Ops.relu(x);
    }
}
