// Linear: a fully connected layer with bias, initialised as PyTorch's default.
package org.bnnas.engine.nn;

import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;

/** y = x w^T + b; w (out, in) and b uniform in [-1/sqrt(in), 1/sqrt(in)), PyTorch's default. */
public final class Linear extends Module {
    public final int inFeatures, outFeatures;
    private final Parameter weight, bias;

    public Linear(int in, int out, Rng rng) {
        this.inFeatures = in;
        this.outFeatures = out;
        double bound = 1.0 / Math.sqrt(in);
        Tensor w = Tensor.empty(out, in);
        Init.uniform(w, bound, rng);
        Tensor b = Tensor.empty(out);
        Init.uniform(b, bound, rng);
        weight = addParameter("weight", w);
        bias = addParameter("bias", b);
    }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    @Override
    public Tensor forward(Tensor x) {
        return Ops.linear(x, weight.data(), bias.data());
    }
}
