// Conv2d: a 2-D convolution layer without bias (BN follows every conv in the supernet).
package org.bnnas.engine.nn;

import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;

/** weight (out, in/groups, k, k), Kaiming normal fan-out; no bias. */
public final class Conv2d extends Module {
    public final int inChannels, outChannels, kernel, stride, padding, groups;
    private final Parameter weight;

    public Conv2d(int in, int out, int kernel, int stride, int padding, int groups, Rng rng) {
        if (in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("Conv2d: groups " + groups + " must divide in " + in + " and out " + out);
        }
        this.inChannels = in;
        this.outChannels = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.groups = groups;
        Tensor w = Tensor.empty(out, in / groups, kernel, kernel);
        Init.kaimingNormalFanOut(w, rng);
        this.weight = addParameter("weight", w);
    }

    public Parameter weight() {
        return weight;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Ops.conv2d(x, weight.data(), stride, padding, groups);
    }
}
