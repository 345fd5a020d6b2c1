// KernelTimer: times single kernels of the CPU backend in a plain loop, for development; the
// figures to report come from the JMH benchmarks.
package org.bnnas.bench;

import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;

public final class KernelTimer {
    interface Body { void run(); }

    static void time(String name, double flops, Body b) {
        for (int i = 0; i < 20; i++) b.run();
        int reps = 50;
        long t = System.nanoTime();
        for (int i = 0; i < reps; i++) b.run();
        double ms = (System.nanoTime() - t) / 1e6 / reps;
        System.out.printf("%-40s %8.3f ms  %6.1f GFLOP/s%n", name, ms, flops / ms / 1e6);
    }

    static Tensor rand(Rng r, int... dims) {
        Tensor t = Tensor.empty(dims);
        float[] v = new float[t.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        t.copyFrom(v);
        return MemoryScope.detach(t);
    }

    public static void main(String[] args) {
        Rng r = new Rng(1);
        int[][] cases = {{128, 24, 28, 28, 3, 2}, {128, 48, 14, 14, 7, 1}, {128, 96, 7, 7, 5, 1}, {128, 384, 2, 2, 7, 1}};
        try (GradMode.Guard g = GradMode.noGrad()) {
            for (int[] c : cases) {
                int n = c[0], ch = c[1], h = c[2], k = c[4], s = c[5];
                Tensor x = rand(r, n, ch, h, h), w = rand(r, ch, 1, k, k);
                int oh = (h + 2 * (k / 2) - k) / s + 1;
                double fl = 2.0 * n * ch * oh * oh * k * k;
                time("dw fwd " + ch + "x" + h + " k" + k + " s" + s, fl, () -> {
                    try (MemoryScope sc = MemoryScope.open()) { Ops.conv2d(x, w, s, k / 2, ch); }
                });
                Tensor dy = rand(r, n, ch, oh, oh);
                time("dw bwd-data " + ch + "x" + h + " k" + k + " s" + s, fl, () -> {
                    try (MemoryScope sc = MemoryScope.open()) {
                        Tensor dx = Tensor.empty(x.shape());
                        org.bnnas.engine.backend.Backends.cpu().conv2dBackwardData(dy, w, dx, new org.bnnas.engine.backend.ConvSpec(k, s, k / 2, ch));
                    }
                });
                time("dw bwd-weight " + ch + "x" + h + " k" + k + " s" + s, fl, () -> {
                    try (MemoryScope sc = MemoryScope.open()) {
                        Tensor dw = Tensor.empty(w.shape());
                        org.bnnas.engine.backend.Backends.cpu().conv2dBackwardWeight(dy, x, dw, new org.bnnas.engine.backend.ConvSpec(k, s, k / 2, ch));
                    }
                });
                Tensor gm = rand(r, ch), bt = rand(r, ch);
                time("bn train " + ch + "x" + h, 0, () -> {
                    try (MemoryScope sc = MemoryScope.open()) { Ops.batchNorm2d(x, gm, bt, null, null, true, 0.1, 1, 1e-5f); }
                });
                Tensor mean = rand(r, ch), inv = rand(r, ch), shift = rand(r, ch);
                var st = new org.bnnas.engine.backend.BatchNormState(gm, 1e-5f, true, mean, inv, gm, shift); // gm as the scale too
                var cpu = org.bnnas.engine.backend.Backends.cpu();
                time("bn+relu6 train " + ch + "x" + h, 0, () -> {
                    try (MemoryScope sc = MemoryScope.open()) { Ops.batchNorm2d(x, gm, bt, null, null, true, 0.1, 1, 1e-5f, 6f); }
                });
                time("bn backward " + ch + "x" + h, 0, () -> {
                    try (MemoryScope sc = MemoryScope.open()) {
                        Tensor dx = Tensor.empty(x.shape()), dg = Tensor.empty(ch), db = Tensor.empty(ch);
                        cpu.batchNormBackward(x, x, 0f, st, dx, dg, db);
                    }
                });
                time("bn+relu6 backward " + ch + "x" + h, 0, () -> {
                    try (MemoryScope sc = MemoryScope.open()) {
                        Tensor dx = Tensor.empty(x.shape()), dg = Tensor.empty(ch), db = Tensor.empty(ch);
                        cpu.batchNormBackward(x, x, 6f, st, dx, dg, db);
                    }
                });
                time("relu6 " + ch + "x" + h, 0, () -> {
                    try (MemoryScope sc = MemoryScope.open()) { Ops.relu6(x); }
                });
                Tensor wp = rand(r, ch * 2, ch, 1, 1);
                time("pw fwd " + ch + "->" + 2 * ch + " x" + h, 2.0 * n * h * h * ch * ch * 2, () -> {
                    try (MemoryScope sc = MemoryScope.open()) { Ops.conv2d(x, wp, 1, 0, 1); }
                });
            }
        }
    }
}
