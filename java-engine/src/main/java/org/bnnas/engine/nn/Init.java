// Init: the initialisers BN-NAS uses, all drawn from a seeded Rng.
package org.bnnas.engine.nn;

import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;

/** Weight initialisers, in the logical (PyTorch) order of the tensor's elements. */
public final class Init {
    private Init() {}

    /**
     * Kaiming normal with mode fan-out and the ReLU gain, as the paper's code initialises its
     * convolutions: std = sqrt(2 / fan_out), fan_out = out_channels * k * k.
     */
    public static void kaimingNormalFanOut(Tensor w, Rng rng) {
        int fanOut = w.dim(0);
        for (int d = 2; d < w.rank(); d++) fanOut *= w.dim(d);
        double std = Math.sqrt(2.0 / fanOut);
        float[] v = new float[w.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * std);
        w.copyFrom(v);
    }

    /** Uniform in [-bound, bound). */
    public static void uniform(Tensor t, double bound, Rng rng) {
        float[] v = new float[t.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        t.copyFrom(v);
    }
}
