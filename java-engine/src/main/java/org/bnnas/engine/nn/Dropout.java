// Dropout: zeroes elements with probability p in training, from its own seeded generator.
package org.bnnas.engine.nn;

import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;

public final class Dropout extends Module {
    public final float p;
    private final Rng rng;

    public Dropout(float p, Rng rng) {
        if (p < 0f || p >= 1f) throw new IllegalArgumentException("Dropout: probability must be in [0, 1), got " + p);
        this.p = p;
        this.rng = rng;
    }

    public Rng rng() { return rng; }

    @Override
    public Tensor forward(Tensor x) {
        return Ops.dropout(x, p, training, rng);
    }
}
