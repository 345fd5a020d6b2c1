// ReLU6: min(max(x, 0), 6), the activation of the MobileNetV2-style BN-NAS blocks.
package org.bnnas.engine.nn;

import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.Tensor;

public final class ReLU6 extends Module {
    @Override
    public Tensor forward(Tensor x) {
        Tensor y = Ops.relu6(x);
        ActivationProbe.report(y);
        return y;
    }
}
