// Vec: the one vector species of the CPU kernels and load/store helpers on off-heap buffers.
package org.bnnas.engine.backend.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Every CPU kernel uses this single species. On JDK 17 mixing vector shapes in one JVM, or
 * passing the species as a parameter, costs up to 10x, so it is a static final constant and no
 * other shape appears anywhere in the engine. Two more JDK 17 rules the kernels follow: masked
 * loads and stores on off-heap buffers are not compiled to vector instructions (kernels work on
 * heap copies or whole vectors instead), and a vector accumulator must be carried by a single
 * loop level (through nested loops it is boxed on every iteration).
 */
final class Vec {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    private Vec() {}

    /** Loads lanes i .. i+L-1 (float index) of an off-heap buffer. */
    static FloatVector load(ByteBuffer b, int i) {
        return FloatVector.fromByteBuffer(F, b, i << 2, NATIVE);
    }

    static void store(FloatVector v, ByteBuffer b, int i) {
        v.intoByteBuffer(b, i << 2, NATIVE);
    }

    /**
     * The smallest multiple of both c and L: a flat channels-last array repeats its channel
     * pattern with this period, which lets per-channel kernels vectorise for any channel count.
     */
    static int period(int c) {
        int a = c, b = L;
        while (b != 0) { int t = a % b; a = b; b = t; }
        return c / a * L;
    }

    /** values[c] repeated to fill one period of length {@code period(c)}. */
    static float[] tile(float[] values, int c) {
        int p = period(c);
        float[] out = new float[p];
        for (int i = 0; i < p; i++) out[i] = values[i % c];
        return out;
    }
}
