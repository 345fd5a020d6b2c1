// CpuBackend: the reference backend. Off-heap float32, channels-last 4-D tensors, Vector API
// kernels and OpenBLAS GEMMs, split over a fixed thread team with thread-count-independent results.
package org.bnnas.engine.backend.cpu;

import static org.bnnas.engine.backend.cpu.Vec.F;
import static org.bnnas.engine.backend.cpu.Vec.L;

import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import org.bnnas.engine.backend.Backend;
import org.bnnas.engine.backend.BatchNormState;
import org.bnnas.engine.backend.ConvSpec;
import org.bnnas.engine.tensor.Tensor;

/**
 * The CPU backend. Work is split into items decided by the shapes alone (see {@link Parallel});
 * reductions keep one partial per item and add them in item order, in double.
 */
public final class CpuBackend implements Backend {
    /** Floats per work item of a flat elementwise kernel: 64 KiB, a comfortable L2 slice. */
    static final int CHUNK = 16384;

    @Override
    public String name() {
        return "cpu";
    }

    // ---- elementwise ---------------------------------------------------------------------------

    /** Runs body(from, to) over [0, n) in chunks of about CHUNK floats, rounded to a multiple of unit. */
    static void chunks(int n, int unit, RangeBody body) {
        int chunk = Math.max(1, CHUNK / unit) * unit;
        int items = (n + chunk - 1) / chunk;
        Parallel.forEach(items, i -> body.run(i * chunk, Math.min(n, (i + 1) * chunk)));
    }

    interface RangeBody {
        void run(int from, int to);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        ByteBuffer x = a.buffer(), y = b.buffer(), o = out.buffer();
        chunks(out.size(), L, (from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) Vec.store(Vec.load(x, i).add(Vec.load(y, i)), o, i);
            for (; i < to; i++) o.putFloat(4 * i, x.getFloat(4 * i) + y.getFloat(4 * i));
        });
    }

    @Override
    public void addInPlace(Tensor acc, Tensor x) {
        add(acc, x, acc);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        ByteBuffer x = a.buffer(), y = b.buffer(), o = out.buffer();
        chunks(out.size(), L, (from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) Vec.store(Vec.load(x, i).mul(Vec.load(y, i)), o, i);
            for (; i < to; i++) o.putFloat(4 * i, x.getFloat(4 * i) * y.getFloat(4 * i));
        });
    }

    @Override
    public void scaleBy(Tensor x, Tensor s, Tensor out) {
        float f = s.buffer().getFloat(0);
        ByteBuffer in = x.buffer(), o = out.buffer();
        chunks(out.size(), L, (from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) Vec.store(Vec.load(in, i).mul(f), o, i);
            for (; i < to; i++) o.putFloat(4 * i, in.getFloat(4 * i) * f);
        });
    }

    @Override
    public void clampRelu(Tensor x, float cap, Tensor y) {
        ByteBuffer in = x.buffer(), o = y.buffer();
        FloatVector zero = FloatVector.zero(F), top = FloatVector.broadcast(F, cap);
        chunks(y.size(), L, (from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) Vec.store(Vec.load(in, i).max(zero).min(top), o, i);
            for (; i < to; i++) o.putFloat(4 * i, Math.min(Math.max(in.getFloat(4 * i), 0f), cap));
        });
    }

    @Override
    public void clampReluBackward(Tensor y, Tensor dy, float cap, Tensor dx) {
        ByteBuffer out = y.buffer(), g = dy.buffer(), o = dx.buffer();
        FloatVector zero = FloatVector.zero(F), top = FloatVector.broadcast(F, cap);
        chunks(dx.size(), L, (from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector v = Vec.load(out, i);
                VectorMask<Float> pass = v.compare(jdk.incubator.vector.VectorOperators.GT, zero)
                        .and(v.compare(jdk.incubator.vector.VectorOperators.LT, top));
                Vec.store(zero.blend(Vec.load(g, i), pass), o, i);
            }
            for (; i < to; i++) {
                float v = out.getFloat(4 * i);
                o.putFloat(4 * i, v > 0f && v < cap ? g.getFloat(4 * i) : 0f);
            }
        });
    }

    // ---- convolution ---------------------------------------------------------------------------

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor y, ConvSpec spec) {
        CpuConv.forward(x, w, y, spec);
    }

    @Override
    public void conv2dBackwardData(Tensor dy, Tensor w, Tensor dx, ConvSpec spec) {
        CpuConv.backwardData(dy, w, dx, spec);
    }

    @Override
    public void conv2dBackwardWeight(Tensor dy, Tensor x, Tensor dw, ConvSpec spec) {
        CpuConv.backwardWeight(dy, x, dw, spec);
    }

    @Override
    public void depthwiseAffine(Tensor x, Tensor inScale, Tensor inShift, float inCap, Tensor w, ConvSpec spec,
                                Tensor outScale, Tensor outShift, float outCap, Tensor y) {
        int cp = CpuConv.roundUp(x.dim(1));
        CpuConv.Depthwise.run(x, CpuConv.Depthwise.transposeWeight(w, cp, false), y, spec.kernel(), spec.stride(), spec.padding(),
                CpuConv.Depthwise.Affine.of(inScale, inShift, inCap, cp), CpuConv.Depthwise.Affine.of(outScale, outShift, outCap, cp));
    }

    @Override
    public void invertedResidualInference(Tensor x, Tensor expand, Tensor scale1, Tensor shift1, Tensor depthwise, ConvSpec spec,
                                          Tensor scale2, Tensor shift2, Tensor project, Tensor scale3, Tensor shift3, float cap,
                                          boolean residual, Tensor y) {
        int cp = CpuConv.roundUp(expand.dim(0));
        CpuConv.InvertedResidual.run(x, expand, CpuConv.Depthwise.Affine.of(scale1, shift1, cap, cp), depthwise, spec,
                CpuConv.Depthwise.Affine.of(scale2, shift2, cap, cp), project, scale3.toStorageArray(), shift3.toStorageArray(), residual, y);
    }

    @Override
    public void depthwiseAffineBackwardWeight(Tensor dy, Tensor x, Tensor inScale, Tensor inShift, float inCap, Tensor dw, ConvSpec spec) {
        CpuConv.Depthwise.backwardWeight(dy, x, CpuConv.Depthwise.Affine.of(inScale, inShift, inCap, CpuConv.roundUp(x.dim(1))), dw, spec);
    }

    // ---- batch norm ----------------------------------------------------------------------------

    @Override
    public void batchNormStats(Tensor x, Tensor mean, Tensor var) {
        int c = x.dim(1);
        int rows = x.size() / c;
        ByteBuffer in = x.buffer();
        // Shift by the first pixel's values: sums of (x - shift) keep the one-pass variance accurate.
        float[] shift = new float[c];
        for (int ch = 0; ch < c; ch++) shift[ch] = in.getFloat(4 * ch);
        double[][] sums = PerChannel.sums(in, null, rows, c, Vec.tile(shift, c), null, true);
        float[] m = new float[c], v = new float[c];
        for (int ch = 0; ch < c; ch++) {
            double mu = sums[0][ch] / rows;
            m[ch] = (float) (mu + shift[ch]);
            v[ch] = (float) Math.max(0.0, sums[1][ch] / rows - mu * mu);
        }
        mean.copyFromStorage(m);
        var.copyFromStorage(v);
    }


    @Override
    public void batchNormFold(Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor scale, Tensor shift, Tensor invStd) {
        ByteBuffer g = gamma.buffer(), b = beta.buffer(), m = mean.buffer(), v = var.buffer();
        ByteBuffer sc = scale.buffer(), sh = shift.buffer(), is = invStd.buffer();
        for (int c = 0, n = mean.size(); c < n; c++) {
            float inv = (float) (1.0 / Math.sqrt(v.getFloat(4 * c) + (double) eps));
            float s = g.getFloat(4 * c) * inv;
            is.putFloat(4 * c, inv);
            sc.putFloat(4 * c, s);
            sh.putFloat(4 * c, b.getFloat(4 * c) - m.getFloat(4 * c) * s);
        }
    }

    @Override
    public void updateRunningStat(Tensor running, Tensor batch, double m, double correction) {
        ByteBuffer r = running.buffer(), x = batch.buffer();
        for (int c = 0, n = running.size(); c < n; c++) {
            r.putFloat(4 * c, (float) ((1 - m) * r.getFloat(4 * c) + m * x.getFloat(4 * c) * correction));
        }
    }
    @Override
    public void channelAffine(Tensor x, Tensor scale, Tensor shift, float cap, Tensor y) {
        int c = x.dim(1);
        PerChannel.affine(x.buffer(), y.buffer(), x.size() / c, c, Vec.tile(scale.toStorageArray(), c), Vec.tile(shift.toStorageArray(), c), cap);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, float cap, BatchNormState st, Tensor dx, Tensor dgamma, Tensor dbeta) {
        int c = x.dim(1);
        int rows = x.size() / c;
        boolean batchStats = st.batchStats();
        float[] mu = st.mean().toStorageArray(), is = st.invStd().toStorageArray(), a = st.scale().toStorageArray();
        // The activation's mask, where there is one, comes from x * scale + shift (see PerChannel).
        PerChannel.Mask mask = cap == 0f ? null : new PerChannel.Mask(Vec.tile(a, c), Vec.tile(st.shift().toStorageArray(), c), cap);
        double[][] sums = null;
        if (dgamma != null || dbeta != null || (dx != null && batchStats)) {
            // sum(dy') and sum(dy' * (x - mean)); the latter times invStd is sum(dy' * xhat)
            sums = PerChannel.gradientSums(dy.buffer(), x.buffer(), rows, c, Vec.tile(mu, c), mask);
        }
        if (dgamma != null) {
            float[] out = new float[c];
            for (int ch = 0; ch < c; ch++) out[ch] = (float) (sums[1][ch] * is[ch]);
            dgamma.copyFromStorage(out);
        }
        if (dbeta != null) {
            float[] out = new float[c];
            for (int ch = 0; ch < c; ch++) out[ch] = (float) sums[0][ch];
            dbeta.copyFromStorage(out);
        }
        if (dx == null) return;
        float[] k = new float[c], c0 = new float[c];
        if (batchStats) {
            for (int ch = 0; ch < c; ch++) {
                // dx = scale * (dy' - mean(dy') - xhat * mean(dy' * xhat)), xhat = (x - mu) * is
                double meanDy = sums[0][ch] / rows;
                double meanDyXhat = sums[1][ch] * is[ch] / rows;
                double kk = -(double) a[ch] * meanDyXhat * is[ch];
                k[ch] = (float) kk;
                c0[ch] = (float) (-(double) a[ch] * meanDy - kk * mu[ch]);
            }
        }
        PerChannel.linearCombination(dy.buffer(), x.buffer(), dx.buffer(), rows, c, Vec.tile(a, c), Vec.tile(k, c), Vec.tile(c0, c), mask);
    }

    // ---- pooling, linear, loss -----------------------------------------------------------------

    @Override
    public void globalAvgPool(Tensor x, Tensor y) {
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        java.nio.FloatBuffer in = x.buffer().asFloatBuffer(), out = y.buffer().asFloatBuffer();
        float inv = 1f / hw;
        Parallel.forEach(n, img -> {
            // Masked vector access to off-heap memory is not compiled on JDK 17: work on heap copies.
            float[] pixels = CpuConv.scratch(0, hw * c), sum = CpuConv.scratch(1, c);
            in.get(img * hw * c, pixels, 0, hw * c);
            java.util.Arrays.fill(sum, 0, c, 0f);
            for (int p = 0; p < hw; p++) {
                for (int ch = 0; ch < c; ch++) sum[ch] += pixels[p * c + ch];
            }
            for (int ch = 0; ch < c; ch++) sum[ch] *= inv;
            out.put(img * c, sum, 0, c);
        });
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        int n = dx.dim(0), c = dx.dim(1), hw = dx.dim(2) * dx.dim(3);
        java.nio.FloatBuffer g = dy.buffer().asFloatBuffer(), out = dx.buffer().asFloatBuffer();
        float inv = 1f / hw;
        Parallel.forEach(n, img -> {
            float[] grad = CpuConv.scratch(1, c), pixels = CpuConv.scratch(0, hw * c);
            g.get(img * c, grad, 0, c);
            for (int ch = 0; ch < c; ch++) grad[ch] *= inv;
            for (int p = 0; p < hw; p++) System.arraycopy(grad, 0, pixels, p * c, c);
            out.put(img * hw * c, pixels, 0, hw * c);
        });
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor b, Tensor y) {
        int n = x.dim(0), in = x.dim(1), out = w.dim(0);
        Blas.sgemm(false, true, n, out, in, 1f, x.address(), in, w.address(), in, 0f, y.address(), out);
        if (b != null) {
            ByteBuffer yb = y.buffer(), bb = b.buffer();
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < out; j++) yb.putFloat(4 * (r * out + j), yb.getFloat(4 * (r * out + j)) + bb.getFloat(4 * j));
            }
        }
    }

    @Override
    public void linearBackwardData(Tensor dy, Tensor w, Tensor dx) {
        if (dx == null) return; // not wanted, as the contract allows
        int n = dy.dim(0), out = w.dim(0), in = w.dim(1);
        Blas.sgemm(false, false, n, in, out, 1f, dy.address(), out, w.address(), in, 0f, dx.address(), in);
    }

    @Override
    public void linearBackwardParams(Tensor dy, Tensor x, Tensor dw, Tensor db) {
        int n = dy.dim(0), out = dy.dim(1), in = x.dim(1);
        if (dw != null) Blas.sgemm(true, false, out, in, n, 1f, dy.address(), out, x.address(), in, 0f, dw.address(), in);
        if (db != null) {
            ByteBuffer g = dy.buffer(), o = db.buffer();
            for (int j = 0; j < out; j++) {
                double s = 0;
                for (int r = 0; r < n; r++) s += g.getFloat(4 * (r * out + j));
                o.putFloat(4 * j, (float) s);
            }
        }
    }

    @Override
    public void crossEntropy(Tensor logits, int[] labels, float smoothing, Tensor loss, Tensor dlogits) {
        int n = logits.dim(0), k = logits.dim(1);
        ByteBuffer z = logits.buffer();
        ByteBuffer d = dlogits == null ? null : dlogits.buffer();
        double total = 0;
        double off = smoothing / k, on = 1.0 - smoothing + off;
        for (int r = 0; r < n; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) max = Math.max(max, z.getFloat(4 * (r * k + j)));
            double sumExp = 0;
            for (int j = 0; j < k; j++) sumExp += Math.exp(z.getFloat(4 * (r * k + j)) - max);
            double logSum = Math.log(sumExp) + max;
            for (int j = 0; j < k; j++) {
                double target = j == labels[r] ? on : off;
                double logP = z.getFloat(4 * (r * k + j)) - logSum;
                total -= target * logP;
                if (d != null) d.putFloat(4 * (r * k + j), (float) ((Math.exp(logP) - target) / n));
            }
        }
        loss.buffer().putFloat(0, (float) (total / n));
    }

    @Override
    public void countCorrect(Tensor logits, int[] labels, Tensor count) {
        int k = logits.dim(1);
        ByteBuffer z = logits.buffer();
        int hits = 0;
        for (int r = 0; r < labels.length; r++) {
            int best = 0;
            for (int j = 1; j < k; j++) if (z.getFloat(4 * (r * k + j)) > z.getFloat(4 * (r * k + best))) best = j;
            if (best == labels[r]) hits++;
        }
        count.buffer().putFloat(0, hits);
    }

    // ---- reductions and updates ----------------------------------------------------------------

    @Override
    public void clampInPlace(Tensor x, float limit) {
        ByteBuffer b = x.buffer();
        chunks(x.size(), L, (from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) Vec.store(Vec.load(b, i).max(-limit).min(limit), b, i);
            for (; i < to; i++) b.putFloat(4 * i, Math.max(-limit, Math.min(limit, b.getFloat(4 * i))));
        });
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor buf, boolean firstStep, float lr, float momentum,
                        float weightDecay, boolean nesterov) {
        ByteBuffer p = param.buffer(), g = grad.buffer(), m = buf == null ? null : buf.buffer();
        FloatVector wd = FloatVector.broadcast(F, weightDecay), mu = FloatVector.broadcast(F, momentum), step = FloatVector.broadcast(F, -lr);
        // Vector lanes and the scalar tail both use fused multiply-adds, so every element rounds alike.
        chunks(param.size(), L, (from, to) -> {
            int i = from;
            for (; i + L <= to; i += L) {
                FloatVector d = Vec.load(p, i).fma(wd, Vec.load(g, i));
                if (m != null) {
                    FloatVector mb = firstStep ? d : Vec.load(m, i).fma(mu, d);
                    Vec.store(mb, m, i);
                    d = nesterov ? mb.fma(mu, d) : mb;
                }
                Vec.store(d.fma(step, Vec.load(p, i)), p, i);
            }
            for (; i < to; i++) {
                float d = Math.fma(p.getFloat(4 * i), weightDecay, g.getFloat(4 * i));
                if (m != null) {
                    float mb = firstStep ? d : Math.fma(m.getFloat(4 * i), momentum, d);
                    m.putFloat(4 * i, mb);
                    d = nesterov ? Math.fma(mb, momentum, d) : mb;
                }
                p.putFloat(4 * i, Math.fma(d, -lr, p.getFloat(4 * i)));
            }
        });
    }
}
