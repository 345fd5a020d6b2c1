// CpuConv: 2-D convolution on channels-last tensors: pointwise as one GEMM, depthwise as a direct
// vector kernel, everything else (stem, grouped) as im2col + GEMM.
package org.bnnas.engine.backend.cpu;

import static org.bnnas.engine.backend.cpu.Vec.F;
import static org.bnnas.engine.backend.cpu.Vec.L;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import jdk.incubator.vector.FloatVector;
import org.bnnas.engine.backend.ConvSpec;
import org.bnnas.engine.tensor.Tensor;

/**
 * x (N, Ci, H, W) is stored as rows of Ci floats, one row per pixel; w (Co, Ci/g, k, k) as
 * (Co, k, k, Ci/g). Work items are row blocks or image groups whose size depends on the shapes
 * only; weight gradients are summed over items in item order.
 */
final class CpuConv {
    private CpuConv() {}

    /** Rows per work item of a GEMM over {@code m} pixel rows: at most 8 items, at least 256 rows. */
    private static int rowBlock(int m) {
        int r = Math.max(256, (m + 7) / 8);
        return (r + 15) / 16 * 16;
    }

    private static boolean isDepthwise(Tensor x, Tensor w, ConvSpec s) {
        int ci = x.dim(1), co = w.dim(0);
        return s.groups() == ci && co == ci && w.dim(1) == 1;
    }

    // ---- forward -----------------------------------------------------------------------------

    /** C (m x n) = A (m x k) op(B), op(B) = B^T for a (n x k) B, else a (k x n) B; row blocks over the team. */
    private static void rowBlockGemm(int m, int n, int k, long a, boolean transB, long b, long c) {
        int rb = rowBlock(m);
        Parallel.forEach((m + rb - 1) / rb, it -> {
            int r0 = it * rb, rows = Math.min(rb, m - r0);
            Blas.sgemm(false, transB, rows, n, k, 1f, a + 4L * r0 * k, k, b, transB ? k : n, 0f, c + 4L * r0 * n, n);
        });
    }

    static void forward(Tensor x, Tensor w, Tensor y, ConvSpec s) {
        if (s.isPointwise()) { // y (pixels x Co) = x (pixels x Ci) w^T
            rowBlockGemm(x.size() / x.dim(1), w.dim(0), x.dim(1), x.address(), true, w.address(), y.address());
        } else if (isDepthwise(x, w, s)) {
            Depthwise.forward(x, w, y, s);
        } else {
            Im2col.forward(x, w, y, s);
        }
    }

    static void backwardData(Tensor dy, Tensor w, Tensor dx, ConvSpec s) {
        if (s.isPointwise()) { // dx (pixels x Ci) = dy (pixels x Co) w
            rowBlockGemm(dx.size() / dx.dim(1), dx.dim(1), w.dim(0), dy.address(), false, w.address(), dx.address());
        } else if (isDepthwise(dx, w, s)) {
            Depthwise.backwardData(dy, w, dx, s);
        } else {
            Im2col.backwardData(dy, w, dx, s);
        }
    }

    static void backwardWeight(Tensor dy, Tensor x, Tensor dw, ConvSpec s) {
        if (s.isPointwise()) {
            int m = x.size() / x.dim(1), ci = x.dim(1), co = dw.dim(0);
            int rb = rowBlock(m), items = (m + rb - 1) / rb;
            long ga = dy.address(), xa = x.address();
            try (Tensor partial = Tensor.empty(items, co * ci)) {
                long pa = partial.address();
                Parallel.forEach(items, it -> {
                    int r0 = it * rb, rows = Math.min(rb, m - r0);
                    Blas.sgemm(true, false, co, ci, rows, 1f, ga + 4L * r0 * co, co, xa + 4L * r0 * ci, ci, 0f, pa + 4L * it * co * ci, ci);
                });
                sumItems(partial.buffer(), items, co * ci, dw.buffer());
            }
        } else if (isDepthwise(x, dw, s)) {
            Depthwise.backwardWeight(dy, x, dw, s);
        } else {
            Im2col.backwardWeight(dy, x, dw, s);
        }
    }

    /** out[j] = sum over items i (in order) of parts[i * len + j]. */
    static void sumItems(ByteBuffer parts, int items, int len, ByteBuffer out) {
        CpuBackend.chunks(len, L, (from, to) -> {
            int j = from;
            for (; j + L <= to; j += L) {
                FloatVector acc = Vec.load(parts, j);
                for (int i = 1; i < items; i++) acc = acc.add(Vec.load(parts, i * len + j));
                Vec.store(acc, out, j);
            }
            for (; j < to; j++) {
                float acc = parts.getFloat(4 * j);
                for (int i = 1; i < items; i++) acc += parts.getFloat(4 * (i * len + j));
                out.putFloat(4 * j, acc);
            }
        });
    }

    /** Scratch arrays per thread, grown on demand (heap: loads from arrays are the fastest path on JDK 17). */
    static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[3][0]);

    static float[] scratch(int slot, int size) {
        float[][] s = SCRATCH.get();
        if (s[slot].length < size) s[slot] = new float[size];
        return s[slot];
    }

    /**
     * Copies image {@code img} of channels-last {@code src} (h x w x c) into {@code dst} as a
     * zero-padded (h + 2p) x (w + 2p) x cp array, cp = c rounded up to the vector length.
     */
    static void padImage(ByteBuffer src, int img, int h, int w, int c, int p, int cp, float[] dst) {
        int wp = w + 2 * p;
        java.util.Arrays.fill(dst, 0, (h + 2 * p) * wp * cp, 0f);
        FloatBuffer fb = src.asFloatBuffer();
        int base = img * h * w * c;
        if (cp == c) {
            for (int r = 0; r < h; r++) fb.get(base + r * w * c, dst, ((r + p) * wp + p) * cp, w * c);
        } else { // one bulk copy off-heap, then heap-to-heap copies per pixel (far cheaper than a buffer call each)
            float[] image = scratch(2, h * w * c);
            fb.get(base, image, 0, h * w * c);
            for (int r = 0; r < h; r++) {
                for (int q = 0; q < w; q++) System.arraycopy(image, (r * w + q) * c, dst, ((r + p) * wp + q + p) * cp, c);
            }
        }
    }

    static int roundUp(int c) {
        return (c + L - 1) / L * L;
    }

    /** Depthwise convolution (groups = Ci = Co), vectorised over channels. */
    static final class Depthwise {
        private Depthwise() {}

        /** w (C, 1, k, k), stored [c][kh][kw], as a [kh][kw][cp] array; flipped turns it by 180 degrees. */
        static float[] transposeWeight(Tensor w, int cp, boolean flipped) {
            int c = w.dim(0), kk = w.dim(2) * w.dim(3);
            float[] src = w.toStorageArray(), out = new float[kk * cp];
            for (int ch = 0; ch < c; ch++) {
                for (int t = 0; t < kk; t++) out[(flipped ? kk - 1 - t : t) * cp + ch] = src[ch * kk + t];
            }
            return out;
        }

        static void forward(Tensor x, Tensor w, Tensor y, ConvSpec s) {
            run(x, transposeWeight(w, roundUp(x.dim(1)), false), y, s.kernel(), s.stride(), s.padding(), null, null);
        }

        static void run(Tensor x, float[] wt, Tensor y, int k, int stride, int pad) {
            run(x, wt, y, k, stride, pad, null, null);
        }

        /**
         * y = depthwise correlation of x with wt ([kh][kw][cp]) at the given stride and padding;
         * when given, {@code before} is applied to each input pixel (not to the zero padding) and
         * {@code after} to each output pixel, in the heap copies the kernel works on anyway.
         */
        static void run(Tensor x, float[] wt, Tensor y, int k, int stride, int pad, Affine before, Affine after) {
            int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
            int oh = y.dim(2), ow = y.dim(3), cp = roundUp(c);
            int wp = wd + 2 * pad, hp = h + 2 * pad;
            int[] taps = tapOffsets(k, wp, cp);
            ByteBuffer in = x.buffer(), out = y.buffer();
            Parallel.forEach(n, img -> {
                float[] xp = scratch(0, hp * wp * cp);
                float[] row = scratch(1, ow * cp);
                padImage(in, img, h, wd, c, pad, cp, xp);
                if (before != null) {
                    for (int r = 0; r < h; r++) before.apply(xp, ((r + pad) * wp + pad) * cp, wd, cp);
                }
                for (int r = 0; r < oh; r++) {
                    for (int c0 = 0; c0 < cp; c0 += L) outputRow(xp, wt, taps, row, r * stride * wp * cp + c0, c0, stride * cp, cp, ow);
                    if (after != null) after.apply(row, 0, ow, cp);
                    storeRow(row, out, (img * oh + r) * ow, ow, c, cp);
                }
            });
        }

        /** Per-channel v = min(max(v * scale + shift, 0), cap) (cap 0: no clamp) on pixels of cp floats. */
        record Affine(float[] scale, float[] shift, float cap) {
            /** scale and shift padded with zeros to cp channels; null when scale is null (no transform). */
            static Affine of(Tensor scale, Tensor shift, float cap, int cp) {
                if (scale == null) return null;
                return new Affine(java.util.Arrays.copyOf(scale.toStorageArray(), cp), java.util.Arrays.copyOf(shift.toStorageArray(), cp), cap);
            }

            void apply(float[] a, int from, int pixels, int cp) {
                for (int p = 0; p < pixels; p++) {
                    for (int c0 = 0; c0 < cp; c0 += L) applyVector(a, from + p * cp + c0, c0);
                }
            }

            private void applyVector(float[] a, int at, int c0) {
                FloatVector v = FloatVector.fromArray(F, a, at).fma(FloatVector.fromArray(F, scale, c0), FloatVector.fromArray(F, shift, c0));
                if (cap != 0f) v = v.max(0f).min(cap);
                v.intoArray(a, at);
            }
        }

        /** Offset in the padded image of each tap (kh, kw), in (kh, kw) order. */
        static int[] tapOffsets(int k, int wp, int cp) {
            int[] off = new int[k * k];
            for (int kh = 0; kh < k; kh++) for (int kw = 0; kw < k; kw++) off[kh * k + kw] = (kh * wp + kw) * cp;
            return off;
        }

        /**
         * Channels c0 .. c0+L-1 of one output row into row[q * cp + c0]; {@code base} is where the
         * row's first window starts in xp, {@code step} how far each next window starts.
         * On JDK 17 the JIT keeps vector accumulators in registers only when a single loop level
         * carries them (nested loops box them, which costs more than the arithmetic), hence the
         * flat loop over the taps.
         */
        static void outputRow(float[] xp, float[] wt, int[] taps, float[] row, int base, int c0, int step, int cp, int ow) {
            int kk = taps.length, q = 0;
            for (; q + 8 <= ow; q += 8) { // eight outputs share each weight load and hide the FMA latency
                int at = base + q * step;
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
                FloatVector a4 = FloatVector.zero(F), a5 = FloatVector.zero(F), a6 = FloatVector.zero(F), a7 = FloatVector.zero(F);
                for (int t = 0; t < kk; t++) {
                    FloatVector wv = FloatVector.fromArray(F, wt, t * cp + c0);
                    int i0 = at + taps[t];
                    a0 = FloatVector.fromArray(F, xp, i0).fma(wv, a0);
                    a1 = FloatVector.fromArray(F, xp, i0 + step).fma(wv, a1);
                    a2 = FloatVector.fromArray(F, xp, i0 + 2 * step).fma(wv, a2);
                    a3 = FloatVector.fromArray(F, xp, i0 + 3 * step).fma(wv, a3);
                    a4 = FloatVector.fromArray(F, xp, i0 + 4 * step).fma(wv, a4);
                    a5 = FloatVector.fromArray(F, xp, i0 + 5 * step).fma(wv, a5);
                    a6 = FloatVector.fromArray(F, xp, i0 + 6 * step).fma(wv, a6);
                    a7 = FloatVector.fromArray(F, xp, i0 + 7 * step).fma(wv, a7);
                }
                int o = q * cp + c0;
                a0.intoArray(row, o);
                a1.intoArray(row, o + cp);
                a2.intoArray(row, o + 2 * cp);
                a3.intoArray(row, o + 3 * cp);
                a4.intoArray(row, o + 4 * cp);
                a5.intoArray(row, o + 5 * cp);
                a6.intoArray(row, o + 6 * cp);
                a7.intoArray(row, o + 7 * cp);
            }
            for (; q + 4 <= ow; q += 4) { // four outputs share each weight load
                int at = base + q * step;
                FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
                for (int t = 0; t < kk; t++) {
                    FloatVector wv = FloatVector.fromArray(F, wt, t * cp + c0);
                    int i0 = at + taps[t];
                    a0 = FloatVector.fromArray(F, xp, i0).fma(wv, a0);
                    a1 = FloatVector.fromArray(F, xp, i0 + step).fma(wv, a1);
                    a2 = FloatVector.fromArray(F, xp, i0 + 2 * step).fma(wv, a2);
                    a3 = FloatVector.fromArray(F, xp, i0 + 3 * step).fma(wv, a3);
                }
                a0.intoArray(row, q * cp + c0);
                a1.intoArray(row, (q + 1) * cp + c0);
                a2.intoArray(row, (q + 2) * cp + c0);
                a3.intoArray(row, (q + 3) * cp + c0);
            }
            for (; q < ow; q++) {
                int at = base + q * step;
                FloatVector a0 = FloatVector.zero(F);
                for (int t = 0; t < kk; t++) a0 = FloatVector.fromArray(F, xp, at + taps[t]).fma(FloatVector.fromArray(F, wt, t * cp + c0), a0);
                a0.intoArray(row, q * cp + c0);
            }
        }

        /** Copies a row of {@code pixels} pixels (cp floats each) to channels-last dst starting at pixel {@code at}. */
        static void storeRow(float[] row, ByteBuffer dst, int at, int pixels, int c, int cp) {
            storeRow(row, 0, dst, at, pixels, c, cp);
        }

        /** As storeRow, with the row starting at row[from]. */
        static void storeRow(float[] row, int from, ByteBuffer dst, int at, int pixels, int c, int cp) {
            FloatBuffer fb = dst.asFloatBuffer();
            if (cp == c) {
                fb.put(at * c, row, from, pixels * c);
            } else { // drop the padding lanes on the heap, then one bulk copy
                float[] packed = scratch(2, pixels * c);
                for (int q = 0; q < pixels; q++) System.arraycopy(row, from + q * cp, packed, q * c, c);
                fb.put(at * c, packed, 0, pixels * c);
            }
        }

        static void backwardData(Tensor dy, Tensor w, Tensor dx, ConvSpec s) {
            int k = s.kernel(), p = s.padding();
            int cp = roundUp(dx.dim(1));
            if (s.stride() == 1 && 2 * p == k - 1) {
                // With stride 1 and "same" padding the input gradient is the correlation of dy
                // with the kernel turned by 180 degrees.
                run(dy, transposeWeight(w, cp, true), dx, k, 1, p);
                return;
            }
            scatterBackwardData(dy, transposeWeight(w, cp, false), dx, k, s.stride(), p);
        }

        /** General stride and padding: each output scatters dy * w into a padded input gradient. */
        static void scatterBackwardData(Tensor dy, float[] wt, Tensor dx, int k, int stride, int pad) {
            int n = dx.dim(0), c = dx.dim(1), h = dx.dim(2), wd = dx.dim(3);
            int oh = dy.dim(2), ow = dy.dim(3), cp = roundUp(c);
            int wp = wd + 2 * pad, hp = h + 2 * pad;
            int[] taps = tapOffsets(k, wp, cp);
            ByteBuffer g = dy.buffer(), out = dx.buffer();
            Parallel.forEach(n, img -> {
                float[] gp = scratch(0, hp * wp * cp);
                float[] dyImg = scratch(1, oh * ow * cp);
                java.util.Arrays.fill(gp, 0, hp * wp * cp, 0f);
                padImage(g, img, oh, ow, c, 0, cp, dyImg);
                for (int r = 0; r < oh; r++) {
                    for (int q = 0; q < ow; q++) {
                        int at = (r * wp + q) * stride * cp;
                        for (int c0 = 0; c0 < cp; c0 += L) scatterOutput(dyImg, (r * ow + q) * cp + c0, wt, taps, gp, at + c0, c0, cp);
                    }
                }
                for (int r = 0; r < h; r++) storeRow(gp, ((r + pad) * wp + pad) * cp, out, (img * h + r) * wd, wd, c, cp);
            });
        }

        /** Adds dy * w of one output (channels c0..) into the padded input gradient for every tap. */
        private static void scatterOutput(float[] dyImg, int dyAt, float[] wt, int[] taps, float[] gp, int at, int c0, int cp) {
            FloatVector gv = FloatVector.fromArray(F, dyImg, dyAt);
            for (int t = 0; t < taps.length; t++) {
                int i = at + taps[t];
                gv.fma(FloatVector.fromArray(F, wt, t * cp + c0), FloatVector.fromArray(F, gp, i)).intoArray(gp, i);
            }
        }

        /** Images per work item of the weight gradient; partial sums per item, added in order. */
        private static final int IMAGES_PER_ITEM = 4;

        static void backwardWeight(Tensor dy, Tensor x, Tensor dw, ConvSpec s) {
            backwardWeight(dy, x, null, dw, s);
        }

        /** The weight gradient; {@code before}, when given, is applied to the input first (as in run). */
        static void backwardWeight(Tensor dy, Tensor x, Affine before, Tensor dw, ConvSpec s) {
            int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
            int k = s.kernel(), stride = s.stride(), pad = s.padding();
            int oh = dy.dim(2), ow = dy.dim(3), cp = roundUp(c), kk = k * k;
            int wp = wd + 2 * pad, hp = h + 2 * pad;
            int[] taps = tapOffsets(k, wp, cp);
            int[] windows = new int[oh * ow]; // where each output's window starts in the padded input
            for (int r = 0; r < oh; r++) for (int q = 0; q < ow; q++) windows[r * ow + q] = (r * wp + q) * stride * cp;
            int items = (n + IMAGES_PER_ITEM - 1) / IMAGES_PER_ITEM;
            int band = Math.max(1, BAND_FLOATS / (ow * cp)) * ow; // whole output rows
            float[][] partial = new float[items][kk * cp];
            ByteBuffer in = x.buffer(), g = dy.buffer();
            Parallel.forEach(items, it -> {
                float[] acc = partial[it];
                for (int img = it * IMAGES_PER_ITEM; img < Math.min(n, (it + 1) * IMAGES_PER_ITEM); img++) {
                    float[] xp = scratch(0, hp * wp * cp);
                    float[] gp = scratch(1, oh * ow * cp);
                    padImage(in, img, h, wd, c, pad, cp, xp);
                    if (before != null) {
                        for (int r = 0; r < h; r++) before.apply(xp, ((r + pad) * wp + pad) * cp, wd, cp);
                    }
                    padImage(g, img, oh, ow, c, 0, cp, gp);
                    // Bands of output rows whose inputs stay in L2 while every tap sweeps them.
                    for (int p0 = 0; p0 < oh * ow; p0 += band) {
                        int p1 = Math.min(oh * ow, p0 + band);
                        for (int t = 0; t < kk; t++) {
                            for (int c0 = 0; c0 < cp; c0 += L) weightTap(gp, xp, windows, p0, p1, acc, t * cp + c0, taps[t] + c0, c0, cp);
                        }
                    }
                }
            });
            float[] out = new float[c * kk];
            for (int ch = 0; ch < c; ch++) {
                for (int t = 0; t < kk; t++) {
                    float sum = 0f;
                    for (int it = 0; it < items; it++) sum += partial[it][t * cp + ch];
                    out[ch * kk + t] = sum;
                }
            }
            dw.copyFromStorage(out);
        }
    }

    /**
     * An inverted-residual block in evaluation (see Backend.invertedResidualInference), a few
     * images per work item. A large image's input rows are expanded a band at a time straight into
     * the padded image the depthwise kernel reads, each depthwise output row is computed as soon as
     * the rows under its window are there, and the rows are projected a band at a time into y; small
     * images go through each GEMM a group at a time instead, so that the GEMMs stay large. Either
     * way the expanded and filtered activations, the block's largest, stay in cache instead of
     * making a round trip to memory for the whole batch.
     */
    static final class InvertedResidual {
        private InvertedResidual() {}

        /** Pixels per expand or project GEMM: enough for OpenBLAS to run at speed, few enough to stay in L2. */
        private static final int BAND_PIXELS = 1024;
        /** Work items a batch is split into at least, when its images are grouped. */
        private static final int MIN_ITEMS = 16;

        private record Block(int n, int ci, int h, int wd, int mid, int co, int oh, int ow, int k, int stride, int pad, int cp, int wp, int hp,
                             float[] wt, int[] taps, Depthwise.Affine before, Depthwise.Affine after, float[] scaleTile, float[] shiftTile,
                             boolean residual, long xa, long ya, long ea, long pa, ByteBuffer in, ByteBuffer out) {}

        static void run(Tensor x, Tensor expand, Depthwise.Affine before, Tensor depthwise, ConvSpec s, Depthwise.Affine after,
                        Tensor project, float[] scale3, float[] shift3, boolean residual, Tensor y) {
            int mid = expand.dim(0), cp = roundUp(mid), pad = s.padding(), k = s.kernel();
            int wp = x.dim(3) + 2 * pad;
            Block b = new Block(x.dim(0), x.dim(1), x.dim(2), x.dim(3), mid, y.dim(1), y.dim(2), y.dim(3), k, s.stride(), pad, cp, wp,
                    x.dim(2) + 2 * pad, Depthwise.transposeWeight(depthwise, cp, false), Depthwise.tapOffsets(k, wp, cp), before, after,
                    Vec.tile(scale3, y.dim(1)), Vec.tile(shift3, y.dim(1)), residual, x.address(), y.address(), expand.address(),
                    project.address(), x.buffer(), y.buffer());
            int pixels = b.h * b.wd;
            int group = Math.max(1, Math.min(BAND_PIXELS / pixels, b.n / MIN_ITEMS));
            if (group > 1) {
                Parallel.forEach((b.n + group - 1) / group, it -> imageGroup(b, it * group, Math.min(b.n, (it + 1) * group)));
            } else {
                Parallel.forEach(b.n, img -> bandsOfRows(b, img));
            }
        }

        /** Images [from, to), each GEMM over all of them. */
        private static void imageGroup(Block b, int from, int to) {
            int count = to - from, in = b.h * b.wd, outPixels = b.oh * b.ow;
            float[] xp = scratch(0, b.hp * b.wp * b.cp), row = scratch(1, b.ow * b.cp);
            OffHeap expanded = OffHeap.get(0, count * in * b.cp), filtered = OffHeap.get(1, count * outPixels * b.cp);
            zeroBorder(xp, b.h, b.wd, b.pad, b.cp);
            Blas.sgemm(false, true, count * in, b.mid, b.ci, 1f, b.xa + 4L * from * in * b.ci, b.ci, b.ea, b.ci, 0f, expanded.address, b.cp);
            for (int i = 0; i < count; i++) {
                for (int r = 0; r < b.h; r++) {
                    int at = ((r + b.pad) * b.wp + b.pad) * b.cp;
                    expanded.floats.get((i * in + r * b.wd) * b.cp, xp, at, b.wd * b.cp);
                    b.before.apply(xp, at, b.wd, b.cp);
                }
                for (int r = 0; r < b.oh; r++) {
                    filterRow(b, xp, row, r);
                    filtered.floats.put((i * outPixels + r * b.ow) * b.cp, row, 0, b.ow * b.cp);
                }
            }
            project(b, filtered, from * outPixels, count * outPixels);
        }

        /** One image, a band of rows at a time. */
        private static void bandsOfRows(Block b, int img) {
            int inRows = Math.min(b.h, Math.max(1, BAND_PIXELS / b.wd)), outRows = Math.min(b.oh, Math.max(1, BAND_PIXELS / b.ow));
            float[] xp = scratch(0, b.hp * b.wp * b.cp), row = scratch(1, b.ow * b.cp);
            OffHeap expanded = OffHeap.get(0, inRows * b.wd * b.cp), filtered = OffHeap.get(1, outRows * b.ow * b.cp);
            zeroBorder(xp, b.h, b.wd, b.pad, b.cp);
            int next = 0, pending = 0; // the next output row to compute; rows computed but not yet projected
            for (int r0 = 0; r0 < b.h; r0 += inRows) {
                int r1 = Math.min(b.h, r0 + inRows);
                // expanded pixels land cp floats apart, as the depthwise kernel reads them
                Blas.sgemm(false, true, (r1 - r0) * b.wd, b.mid, b.ci, 1f, b.xa + 4L * (img * b.h + r0) * b.wd * b.ci, b.ci, b.ea, b.ci, 0f,
                        expanded.address, b.cp);
                for (int r = r0; r < r1; r++) {
                    int at = ((r + b.pad) * b.wp + b.pad) * b.cp;
                    expanded.floats.get((r - r0) * b.wd * b.cp, xp, at, b.wd * b.cp);
                    b.before.apply(xp, at, b.wd, b.cp);
                }
                // every output row whose window now lies on computed rows or the bottom padding
                while (next < b.oh && (r1 == b.h || next * b.stride - b.pad + b.k - 1 < r1)) {
                    filterRow(b, xp, row, next);
                    filtered.floats.put(pending * b.ow * b.cp, row, 0, b.ow * b.cp);
                    pending++;
                    next++;
                    if (pending == outRows || next == b.oh) {
                        project(b, filtered, (img * b.oh + next - pending) * b.ow, pending * b.ow);
                        pending = 0;
                    }
                }
            }
        }

        /** Output row r of the depthwise convolution of the padded image xp, its affine map and clamp applied, into row. */
        private static void filterRow(Block b, float[] xp, float[] row, int r) {
            for (int c0 = 0; c0 < b.cp; c0 += L) Depthwise.outputRow(xp, b.wt, b.taps, row, r * b.stride * b.wp * b.cp + c0, c0, b.stride * b.cp, b.cp, b.ow);
            b.after.apply(row, 0, b.ow, b.cp);
        }

        /** y's pixels [first, first + count) = the projection of the filtered pixels, the last BN and the residual applied. */
        private static void project(Block b, OffHeap filtered, int first, int count) {
            Blas.sgemm(false, true, count, b.co, b.mid, 1f, filtered.address, b.cp, b.pa, b.mid, 0f, b.ya + 4L * first * b.co, b.co);
            finish(b.out, b.in, b.residual, first * b.co, count * b.co, b.scaleTile, b.shiftTile);
        }

        /** Zeroes the padding of a (h + 2p) x (w + 2p) x cp image: the top and bottom rows and each row's ends. */
        private static void zeroBorder(float[] xp, int h, int w, int pad, int cp) {
            int wp = w + 2 * pad, hp = h + 2 * pad;
            java.util.Arrays.fill(xp, 0, pad * wp * cp, 0f);
            java.util.Arrays.fill(xp, (hp - pad) * wp * cp, hp * wp * cp, 0f);
            for (int r = pad; r < hp - pad; r++) {
                java.util.Arrays.fill(xp, r * wp * cp, (r * wp + pad) * cp, 0f);
                java.util.Arrays.fill(xp, ((r + 1) * wp - pad) * cp, (r + 1) * wp * cp, 0f);
            }
        }

        /**
         * y = y * scale + shift (the last BN, a fused multiply-add as channelAffine's), then + x
         * (as add's) when residual, over {@code count} floats from {@code from}, a pixel boundary.
         */
        private static void finish(ByteBuffer y, ByteBuffer x, boolean residual, int from, int count, float[] scale, float[] shift) {
            int p = scale.length, to = from + count, full = from + count / p * p;
            for (int j = 0; j < p; j += L) {
                FloatVector a = FloatVector.fromArray(F, scale, j), b = FloatVector.fromArray(F, shift, j);
                for (int i = from + j; i < full; i += p) {
                    FloatVector v = Vec.load(y, i).fma(a, b);
                    Vec.store(residual ? Vec.load(x, i).add(v) : v, y, i);
                }
            }
            for (int i = full; i < to; i++) {
                float v = Math.fma(y.getFloat(4 * i), scale[i - full], shift[i - full]);
                y.putFloat(4 * i, residual ? x.getFloat(4 * i) + v : v);
            }
        }
    }

    /** Zero-initialised off-heap scratch per thread, for GEMM operands that never leave the thread. */
    static final class OffHeap {
        private static final ThreadLocal<OffHeap[]> SLOTS = ThreadLocal.withInitial(() -> new OffHeap[2]);

        final ByteBuffer bytes;
        final FloatBuffer floats;
        final long address;

        private OffHeap(int size) {
            bytes = ByteBuffer.allocateDirect(4 * size).order(Vec.NATIVE);
            floats = bytes.asFloatBuffer();
            address = new org.bytedeco.javacpp.Pointer(bytes).address();
        }

        /** This thread's slot, at least {@code size} floats; a new one starts as zeros. */
        static OffHeap get(int slot, int size) {
            OffHeap[] s = SLOTS.get();
            if (s[slot] == null || s[slot].floats.capacity() < size) s[slot] = new OffHeap(size);
            return s[slot];
        }
    }

    /** Output-gradient floats per band of the depthwise weight gradient (64 KiB). */
    private static final int BAND_FLOATS = 16384;

    /** acc[at] += sum over outputs p in [from, n) of dy[p][c0..] * x[window(p) + tap][c0..] (one flat loop, see outputRow). */
    private static void weightTap(float[] gp, float[] xp, int[] windows, int from, int n, float[] acc, int at, int tap, int c0, int cp) {
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F);
        int p = from;
        for (; p + 2 <= n; p += 2) { // two accumulators hide the FMA latency
            a = FloatVector.fromArray(F, gp, p * cp + c0).fma(FloatVector.fromArray(F, xp, windows[p] + tap), a);
            b = FloatVector.fromArray(F, gp, (p + 1) * cp + c0).fma(FloatVector.fromArray(F, xp, windows[p + 1] + tap), b);
        }
        if (p < n) a = FloatVector.fromArray(F, gp, p * cp + c0).fma(FloatVector.fromArray(F, xp, windows[p] + tap), a);
        FloatVector.fromArray(F, acc, at).add(a.add(b)).intoArray(acc, at);
    }

    /**
     * Any convolution as im2col + GEMM, per group; used for the stem and general grouped convs.
     * Work items are images: each pads its image into a heap array, builds the column matrix
     * there, and hands it to OpenBLAS through its own slice of an off-heap buffer.
     */
    static final class Im2col {
        private Im2col() {}

        /** Geometry shared by the three passes. */
        private record Geometry(int n, int ci, int h, int wd, int co, int oh, int ow, int k, int stride, int pad,
                                int groups, int cig, int cog, int kg, int wp, int hp) {
            static Geometry of(Tensor x, int co, int oh, int ow, ConvSpec s) {
                int ci = x.dim(1), k = s.kernel();
                return new Geometry(x.dim(0), ci, x.dim(2), x.dim(3), co, oh, ow, k, s.stride(), s.padding(), s.groups(),
                        ci / s.groups(), co / s.groups(), k * k * (ci / s.groups()), x.dim(3) + 2 * s.padding(), x.dim(2) + 2 * s.padding());
            }

            int pixels() { return oh * ow; }
        }

        /** Column matrix of group g (pixels x kg, (kh, kw, channel) order) from the padded image xp. */
        private static void fill(float[] xp, Geometry q, int g, float[] col) {
            int k = q.k, cig = q.cig;
            for (int r = 0; r < q.oh; r++) {
                for (int c = 0; c < q.ow; c++) {
                    int dst = (r * q.ow + c) * q.kg;
                    for (int kh = 0; kh < k; kh++) {
                        int src = ((r * q.stride + kh) * q.wp + c * q.stride) * q.ci + g * cig;
                        for (int kw = 0; kw < k; kw++) {
                            if (cig == 1) col[dst++] = xp[src + kw * q.ci];
                            else { System.arraycopy(xp, src + kw * q.ci, col, dst, cig); dst += cig; }
                        }
                    }
                }
            }
        }

        static void forward(Tensor x, Tensor w, Tensor y, ConvSpec s) {
            Geometry q = Geometry.of(x, w.dim(0), y.dim(2), y.dim(3), s);
            int per = q.pixels();
            ByteBuffer in = x.buffer();
            long wa = w.address(), ya = y.address();
            try (Tensor cols = Tensor.empty(q.n, per * q.kg)) {
                FloatBuffer cb = cols.buffer().asFloatBuffer();
                long ca = cols.address();
                Parallel.forEach(q.n, img -> {
                    float[] xp = scratch(0, q.hp * q.wp * q.ci), col = scratch(1, per * q.kg);
                    padImage(in, img, q.h, q.wd, q.ci, q.pad, q.ci, xp);
                    for (int g = 0; g < q.groups; g++) {
                        fill(xp, q, g, col);
                        cb.put(img * per * q.kg, col, 0, per * q.kg);
                        Blas.sgemm(false, true, per, q.cog, q.kg, 1f, ca + 4L * img * per * q.kg, q.kg,
                                wa + 4L * g * q.cog * q.kg, q.kg, 0f, ya + 4L * (img * per * q.co + g * q.cog), q.co);
                    }
                });
            }
        }

        static void backwardData(Tensor dy, Tensor w, Tensor dx, ConvSpec s) {
            Geometry q = Geometry.of(dx, w.dim(0), dy.dim(2), dy.dim(3), s);
            int per = q.pixels();
            long ga = dy.address(), wa = w.address();
            ByteBuffer out = dx.buffer();
            try (Tensor dcols = Tensor.empty(q.n, per * q.kg)) {
                FloatBuffer db = dcols.buffer().asFloatBuffer();
                long da = dcols.address();
                Parallel.forEach(q.n, img -> {
                    float[] gp = scratch(0, q.hp * q.wp * q.ci), dcol = scratch(1, per * q.kg);
                    java.util.Arrays.fill(gp, 0, q.hp * q.wp * q.ci, 0f);
                    for (int g = 0; g < q.groups; g++) {
                        Blas.sgemm(false, false, per, q.kg, q.cog, 1f, ga + 4L * (img * per * q.co + g * q.cog), q.co,
                                wa + 4L * g * q.cog * q.kg, q.kg, 0f, da + 4L * img * per * q.kg, q.kg);
                        db.get(img * per * q.kg, dcol, 0, per * q.kg);
                        scatter(dcol, q, g, gp);
                    }
                    FloatBuffer of = out.asFloatBuffer();
                    for (int r = 0; r < q.h; r++) of.put((img * q.h + r) * q.wd * q.ci, gp, ((r + q.pad) * q.wp + q.pad) * q.ci, q.wd * q.ci);
                });
            }
        }

        /** The adjoint of fill: adds each column entry back onto the padded image gradient. */
        private static void scatter(float[] dcol, Geometry q, int g, float[] gp) {
            int k = q.k, cig = q.cig;
            for (int r = 0; r < q.oh; r++) {
                for (int c = 0; c < q.ow; c++) {
                    int src = (r * q.ow + c) * q.kg;
                    for (int kh = 0; kh < k; kh++) {
                        int dst = ((r * q.stride + kh) * q.wp + c * q.stride) * q.ci + g * cig;
                        for (int kw = 0; kw < k; kw++) {
                            int d = dst + kw * q.ci;
                            for (int j = 0; j < cig; j++) gp[d + j] += dcol[src++];
                        }
                    }
                }
            }
        }

        /** Images per work item of the weight gradient; one partial per item, added in item order. */
        private static final int IMAGES_PER_ITEM = 4;

        static void backwardWeight(Tensor dy, Tensor x, Tensor dw, ConvSpec s) {
            Geometry q = Geometry.of(x, dw.dim(0), dy.dim(2), dy.dim(3), s);
            int per = q.pixels(), items = (q.n + IMAGES_PER_ITEM - 1) / IMAGES_PER_ITEM;
            ByteBuffer in = x.buffer();
            long ga = dy.address();
            try (Tensor cols = Tensor.empty(q.n, per * q.kg); Tensor partial = Tensor.empty(items, q.co * q.kg)) {
                FloatBuffer cb = cols.buffer().asFloatBuffer();
                long ca = cols.address(), pa = partial.address();
                Parallel.forEach(items, it -> {
                    float[] xp = scratch(0, q.hp * q.wp * q.ci), col = scratch(1, per * q.kg);
                    for (int img = it * IMAGES_PER_ITEM; img < Math.min(q.n, (it + 1) * IMAGES_PER_ITEM); img++) {
                        padImage(in, img, q.h, q.wd, q.ci, q.pad, q.ci, xp);
                        for (int g = 0; g < q.groups; g++) {
                            fill(xp, q, g, col);
                            cb.put(img * per * q.kg, col, 0, per * q.kg);
                            // the first image of the item initialises the partial, the others add to it
                            float beta = img == it * IMAGES_PER_ITEM ? 0f : 1f;
                            Blas.sgemm(true, false, q.cog, q.kg, per, 1f, ga + 4L * (img * per * q.co + g * q.cog), q.co,
                                    ca + 4L * img * per * q.kg, q.kg, beta, pa + 4L * (it * q.co * q.kg + g * q.cog * q.kg), q.kg);
                        }
                    }
                });
                sumItems(partial.buffer(), items, q.co * q.kg, dw.buffer());
            }
        }
    }
}
