// PerChannel: kernels over channels-last data (rows x C) that apply or reduce per-channel values:
// batch-norm statistics, its affine transform and its backward.
package org.bnnas.engine.backend.cpu;

import static org.bnnas.engine.backend.cpu.Vec.F;
import static org.bnnas.engine.backend.cpu.Vec.L;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The flat array of rows x C floats repeats its channel pattern every P = lcm(C, L) floats, so
 * a per-channel constant becomes P/L fixed vectors (a "tile") and the kernels run at full vector
 * width for any C. Each work item is a whole number of periods; within it, each of the P/L vector
 * positions is swept over all periods with its constants in registers. Every cache line is still
 * read once, since a line belongs to exactly one vector position.
 */
final class PerChannel {
    private PerChannel() {}

    private static int chunkFloats(int p) {
        return Math.max(1, CpuBackend.CHUNK / p) * p;
    }

    /**
     * Per-channel sums s0 = sum(v) and s1 = sum(v * w) over all rows, where v = a - aShift
     * (aShift a tile or null) and w = v when {@code square}, else b - bShift. Partial sums are
     * kept per work item and added in item order in double.
     */
    static double[][] sums(ByteBuffer a, ByteBuffer b, int rows, int c, float[] aShift, float[] bShift, boolean square) {
        int n = rows * c, p = Vec.period(c), chunk = chunkFloats(p);
        int items = (n + chunk - 1) / chunk;
        float[][] part0 = new float[items][p], part1 = new float[items][p];
        Parallel.forEach(items, it -> {
            int from = it * chunk, to = Math.min(n, from + chunk);
            int full = from + (to - from) / p * p;
            float[] s0 = part0[it], s1 = part1[it];
            for (int j = 0; j < p; j += L) {
                FloatVector sa = aShift == null ? FloatVector.zero(F) : FloatVector.fromArray(F, aShift, j);
                FloatVector sb = bShift == null ? FloatVector.zero(F) : FloatVector.fromArray(F, bShift, j);
                FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
                if (square) {
                    for (int s = from + j; s < full; s += p) {
                        FloatVector v = Vec.load(a, s).sub(sa);
                        acc0 = acc0.add(v);
                        acc1 = v.fma(v, acc1);
                    }
                } else {
                    for (int s = from + j; s < full; s += p) {
                        FloatVector v = Vec.load(a, s);
                        acc0 = acc0.add(v);
                        acc1 = v.fma(Vec.load(b, s).sub(sb), acc1);
                    }
                }
                acc0.intoArray(s0, j);
                acc1.intoArray(s1, j);
            }
            for (int i = full; i < to; i++) { // a last, partial period
                int q = i - full;
                float v = a.getFloat(4 * i) - (aShift == null ? 0f : aShift[q]);
                float w = square ? v : b.getFloat(4 * i) - (bShift == null ? 0f : bShift[q]);
                s0[q] += v;
                s1[q] += v * w;
            }
        });
        return fold(part0, part1, items, p, c);
    }

    /** y = act(x * scale + shift), per channel (scale and shift are tiles; cap as in Backend). */
    static void affine(ByteBuffer x, ByteBuffer y, int rows, int c, float[] scale, float[] shift, float cap) {
        int n = rows * c, p = Vec.period(c), chunk = chunkFloats(p);
        int items = (n + chunk - 1) / chunk;
        FloatVector zero = FloatVector.zero(F), top = FloatVector.broadcast(F, cap);
        Parallel.forEach(items, it -> {
            int from = it * chunk, to = Math.min(n, from + chunk);
            int full = from + (to - from) / p * p;
            for (int j = 0; j < p; j += L) {
                FloatVector a = FloatVector.fromArray(F, scale, j), b = FloatVector.fromArray(F, shift, j);
                if (cap == 0f) {
                    for (int s = from + j; s < full; s += p) Vec.store(Vec.load(x, s).fma(a, b), y, s);
                } else {
                    for (int s = from + j; s < full; s += p) Vec.store(Vec.load(x, s).fma(a, b).max(zero).min(top), y, s);
                }
            }
            for (int i = full; i < to; i++) { // the same fused multiply-add as the vector lanes
                float v = Math.fma(x.getFloat(4 * i), scale[i - full], shift[i - full]);
                y.putFloat(4 * i, cap == 0f ? v : Math.min(Math.max(v, 0f), cap));
            }
        });
    }

    /**
     * The derivative of a clamped ReLU after an affine map: 1 where 0 < x * scale + shift < cap,
     * else 0. The pre-activation value is recomputed with the same fused multiply-add as the
     * forward ({@link #affine}), so the mask is bit-for-bit the forward's.
     */
    record Mask(float[] scale, float[] shift, float cap) {
        float apply(float g, float x, int q) {
            float z = Math.fma(x, scale[q], shift[q]);
            return z > 0f && z < cap ? g : 0f;
        }
    }

    /**
     * Per-channel s0 = sum(g) and s1 = sum(g * (x - xShift)), where g = dy, or dy through the
     * activation's mask when one is given.
     */
    static double[][] gradientSums(ByteBuffer dy, ByteBuffer x, int rows, int c, float[] xShift, Mask mask) {
        if (mask == null) return sums(dy, x, rows, c, null, xShift, false);
        int n = rows * c, p = Vec.period(c), chunk = chunkFloats(p);
        int items = (n + chunk - 1) / chunk;
        float[][] part0 = new float[items][p], part1 = new float[items][p];
        FloatVector zero = FloatVector.zero(F), top = FloatVector.broadcast(F, mask.cap());
        Parallel.forEach(items, it -> {
            int from = it * chunk, to = Math.min(n, from + chunk);
            int full = from + (to - from) / p * p;
            for (int j = 0; j < p; j += L) {
                FloatVector sx = FloatVector.fromArray(F, xShift, j);
                FloatVector a = FloatVector.fromArray(F, mask.scale(), j), b = FloatVector.fromArray(F, mask.shift(), j);
                FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
                for (int s = from + j; s < full; s += p) {
                    FloatVector xv = Vec.load(x, s), z = xv.fma(a, b);
                    FloatVector g = zero.blend(Vec.load(dy, s), z.compare(VectorOperators.GT, zero).and(z.compare(VectorOperators.LT, top)));
                    acc0 = acc0.add(g);
                    acc1 = g.fma(xv.sub(sx), acc1);
                }
                acc0.intoArray(part0[it], j);
                acc1.intoArray(part1[it], j);
            }
            for (int i = full; i < to; i++) {
                int q = i - full;
                float xv = x.getFloat(4 * i), g = mask.apply(dy.getFloat(4 * i), xv, q);
                part0[it][q] += g;
                part1[it][q] += g * (xv - xShift[q]);
            }
        });
        return fold(part0, part1, items, p, c);
    }

    /** Adds per-item, per-period-position partials into per-channel totals, in item order. */
    private static double[][] fold(float[][] part0, float[][] part1, int items, int p, int c) {
        double[][] out = new double[2][c];
        for (int it = 0; it < items; it++) {
            for (int q = 0; q < p; q++) {
                out[0][q % c] += part0[it][q];
                out[1][q % c] += part1[it][q];
            }
        }
        return out;
    }

    /**
     * out = g * ka + x * kb + k0, per channel (tiles), where g = dy, or dy through the activation's
     * mask when one is given.
     */
    static void linearCombination(ByteBuffer dy, ByteBuffer x, ByteBuffer out, int rows, int c, float[] ka, float[] kb, float[] k0, Mask mask) {
        int n = rows * c, p = Vec.period(c), chunk = chunkFloats(p);
        int items = (n + chunk - 1) / chunk;
        FloatVector zero = FloatVector.zero(F), top = FloatVector.broadcast(F, mask == null ? 0f : mask.cap());
        Parallel.forEach(items, it -> {
            int from = it * chunk, to = Math.min(n, from + chunk);
            int full = from + (to - from) / p * p;
            for (int j = 0; j < p; j += L) {
                FloatVector va = FloatVector.fromArray(F, ka, j), vb = FloatVector.fromArray(F, kb, j), v0 = FloatVector.fromArray(F, k0, j);
                if (mask == null) {
                    for (int s = from + j; s < full; s += p) Vec.store(Vec.load(dy, s).fma(va, Vec.load(x, s).fma(vb, v0)), out, s);
                } else {
                    FloatVector a = FloatVector.fromArray(F, mask.scale(), j), b = FloatVector.fromArray(F, mask.shift(), j);
                    for (int s = from + j; s < full; s += p) {
                        FloatVector xv = Vec.load(x, s), z = xv.fma(a, b);
                        FloatVector g = zero.blend(Vec.load(dy, s), z.compare(VectorOperators.GT, zero).and(z.compare(VectorOperators.LT, top)));
                        Vec.store(g.fma(va, xv.fma(vb, v0)), out, s);
                    }
                }
            }
            for (int i = full; i < to; i++) {
                int q = i - full;
                float xv = x.getFloat(4 * i), g = dy.getFloat(4 * i);
                if (mask != null) g = mask.apply(g, xv, q);
                out.putFloat(4 * i, Math.fma(g, ka[q], Math.fma(xv, kb[q], k0[q])));
            }
        });
    }
}
