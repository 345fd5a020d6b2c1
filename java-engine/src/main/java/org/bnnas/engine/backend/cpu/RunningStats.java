// RunningStats: per-channel mean and variance assembled from the partial statistics of work items,
// so that a kernel can hand a following batch norm the statistics of the output it just wrote.
package org.bnnas.engine.backend.cpu;

import static org.bnnas.engine.backend.cpu.Vec.F;
import static org.bnnas.engine.backend.cpu.Vec.L;

import java.util.Map;
import java.util.TreeMap;
import jdk.incubator.vector.FloatVector;
import org.bnnas.engine.tensor.Tensor;

/**
 * Each work item reports (count, mean, M2) per channel for the rows it wrote; {@link #writeTo}
 * combines the items in item order with Chan's pairwise formula in double, so the result does not
 * depend on the thread count or on which thread finished first.
 */
final class RunningStats {
    private final int c;
    private final Map<Integer, double[][]> items = new TreeMap<>(); // item -> {count, mean[c], m2[c]}

    RunningStats(int channels) {
        this.c = channels;
    }

    /** The sums of one work item so far, shifted by its first pixel. */
    final class Partial {
        final float[] shift, s1, s2;
        int pixels;

        private Partial(float[] first, int from) {
            int cp = (c + L - 1) / L * L;
            shift = new float[cp];
            s1 = new float[cp];
            s2 = new float[cp];
            System.arraycopy(first, from, shift, 0, c);
        }

        /** Adds {@code count} pixels of {@code stride} floats from rows[from], channel j at offset j. */
        void add(float[] rows, int from, int count, int stride) {
            for (int j = 0; j < shift.length; j += L) accumulate(rows, from + j, count, stride, j, Math.min(L, c - j));
            pixels += count;
        }

        /** Sums of (v - shift) and its square for lanes j .. j+lanes-1 (one loop level; see CpuConv). */
        private void accumulate(float[] rows, int at, int count, int stride, int j, int lanes) {
            if (lanes == L && at + (count - 1) * stride + L <= rows.length) {
                FloatVector sh = FloatVector.fromArray(F, shift, j), a = FloatVector.fromArray(F, s1, j), b = FloatVector.fromArray(F, s2, j);
                for (int p = 0; p < count; p++) {
                    FloatVector v = FloatVector.fromArray(F, rows, at + p * stride).sub(sh);
                    a = a.add(v);
                    b = v.fma(v, b);
                }
                a.intoArray(s1, j);
                b.intoArray(s2, j);
                return;
            }
            for (int p = 0; p < count; p++) {
                for (int l = 0; l < lanes; l++) {
                    float v = rows[at + p * stride + l] - shift[j + l];
                    s1[j + l] += v;
                    s2[j + l] += v * v;
                }
            }
        }
    }

    /** A new partial for one work item, shifted by the pixel at rows[from]. */
    Partial start(float[] rows, int from) {
        return new Partial(rows, from);
    }

    /** Records the finished partial of item {@code item}. */
    void finish(int item, Partial p) {
        double[] mean = new double[c], m2 = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double m = (double) p.s1[ch] / p.pixels;
            mean[ch] = p.shift[ch] + m;
            m2[ch] = Math.max(0.0, p.s2[ch] - m * p.s1[ch]);
        }
        synchronized (items) {
            items.put(item, new double[][] {{p.pixels}, mean, m2});
        }
    }

    /** Combines the items in order and writes the mean and biased variance. */
    void writeTo(Tensor meanOut, Tensor varOut) {
        double n = 0;
        double[] mean = new double[c], m2 = new double[c];
        for (double[][] it : items.values()) {
            double nb = it[0][0], total = n + nb;
            for (int ch = 0; ch < c; ch++) {
                double delta = it[1][ch] - mean[ch];
                mean[ch] += delta * nb / total;
                m2[ch] += it[2][ch] + delta * delta * n * nb / total;
            }
            n = total;
        }
        float[] m = new float[c], v = new float[c];
        for (int ch = 0; ch < c; ch++) {
            m[ch] = (float) mean[ch];
            v[ch] = (float) (m2[ch] / n);
        }
        meanOut.copyFromStorage(m);
        varOut.copyFromStorage(v);
    }
}
