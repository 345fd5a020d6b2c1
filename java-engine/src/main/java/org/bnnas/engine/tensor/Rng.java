// Rng: the engine's seeded random generator (SplitMix64), whose whole state is one long so that
// checkpoints can save and restore it exactly.
package org.bnnas.engine.tensor;

/** Deterministic random numbers from a seed; the same seed gives the same sequence on every JVM. */
public final class Rng {
    private long state;

    public Rng(long seed) {
        this.state = seed;
    }

    public long state() { return state; }

    public void setState(long s) { this.state = s; }

    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1). */
    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /** Uniform in [0, 1). */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("nextInt: bound must be positive, got " + bound);
        return (int) Math.floorMod(nextLong() >>> 1, (long) bound);
    }

    /** Standard normal (Box-Muller; one draw per call, so the state stays a single long). */
    public double nextGaussian() {
        double u1 = 1.0 - nextDouble(); // in (0, 1]
        double u2 = nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }

    /** An independent generator derived from this one (advances this one by one step). */
    public Rng split() {
        return new Rng(nextLong());
    }
}
