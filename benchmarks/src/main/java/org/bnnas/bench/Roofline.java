// Roofline: each step of SupernetStepBenchmark against the machine's two ceilings, measured in the
// same run: OpenBLAS's sgemm peak (GFLOP/s) and the memory bandwidth our own streaming kernel
// reaches (GB/s). Per step: its time (median over whole cycles of the eight bench paths, as JMH
// times them), its convolution and classifier FLOPs, the bytes its backend calls read and write,
// and the time the two ceilings allow (the larger of FLOPs / peak and bytes / bandwidth).
//   java --add-modules jdk.incubator.vector -cp benchmarks.jar org.bnnas.bench.Roofline [SPACE] [BATCH] [CYCLES]
package org.bnnas.bench;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.List;
import org.bnnas.engine.backend.Backend;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.backend.cpu.Parallel;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.space.Cost;
import org.bnnas.space.SearchSpace;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * FLOPs are two per multiply-accumulate of the convolutions and the classifier (Cost's count, as
 * the paper counts them, times two), times the batch, times the passes a step makes over them:
 * 1 for an eval forward, 2 for a BN-only step (forward and the input gradients: the frozen weights
 * get none), 3 for a full and a standalone step (and the weight gradients). Batch norms and
 * activations add no FLOPs here; they are bytes. Bytes are every tensor argument of every backend
 * call, once each (4 bytes a float): what the kernels touch, an upper bound of the traffic to
 * memory, since what a kernel finds in cache costs no bandwidth (bnnas-small's tensors mostly fit
 * in cache; bnnas-imagenet's do not).
 */
public final class Roofline {
    private Roofline() {}

    public static void main(String[] args) {
        String spaceName = args.length > 0 ? args[0] : "bnnas-small";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : spaceName.equals("bnnas-imagenet") ? 16 : 128;
        int cycles = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        double peak = sgemmPeak(), bandwidth = streamBandwidth();
        System.out.printf("%s, batch %d, %d threads; sgemm peak %.0f GFLOP/s (OpenBLAS, 2048^3, best of 5); streaming bandwidth %.1f GB/s "
                + "(our channel-affine kernel over 256 MB, read and write, best of 5)%n", spaceName, batch, Parallel.threads(), peak, bandwidth);
        System.out.println("| step | ms (median of " + cycles + " cycles) | GFLOP | GB touched | GFLOP/s | of the sgemm peak | GB/s | of the bandwidth | bound (ms) | measured / bound |");
        System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        SearchSpace space = SearchSpace.load(spaceName);
        for (SupernetWorkload.Mode mode : SupernetWorkload.Mode.values()) {
            try (SupernetWorkload w = new SupernetWorkload(spaceName, batch, mode)) {
                int paths = mode == SupernetWorkload.Mode.STANDALONE ? 1 : 8;
                double gflop = stepGflop(space, mode, batch, paths);
                for (int i = 0; i < 8; i++) w.step(); // warm-up, and the pool's first allocations
                double gb = countedBytes(w) / 1e9;
                double[] ms = new double[cycles];
                for (int c = 0; c < cycles; c++) {
                    long t = System.nanoTime();
                    for (int i = 0; i < 8; i++) w.step();
                    ms[c] = (System.nanoTime() - t) / 1e6 / 8;
                }
                Arrays.sort(ms);
                double step = ms[cycles / 2], bound = Math.max(gflop / peak, gb / bandwidth) * 1e3;
                System.out.printf("| %s | %.1f | %.2f | %.2f | %.1f | %.0f%% | %.1f | %.0f%% | %.1f | %.1f |%n", mode.key, step, gflop, gb,
                        gflop / step * 1e3, 100 * gflop / step * 1e3 / peak, gb / step * 1e3, 100 * gb / step * 1e3 / bandwidth, bound, step / bound);
            }
        }
    }

    /** The FLOPs of one step, averaged over the paths it cycles through. */
    static double stepGflop(SearchSpace space, SupernetWorkload.Mode mode, int batch, int paths) {
        List<int[]> archs = SupernetWorkload.benchArchs();
        double macs = 0;
        for (int p = 0; p < paths; p++) macs += Cost.of(space, archs.get(p), space.inputChannels, space.inputSize).flops();
        int passes = switch (mode) {
            case EVAL -> 1;
            case BN_ONLY -> 2;
            case FULL, STANDALONE -> 3;
        };
        return 2.0 * macs / paths * batch * passes / 1e9;
    }

    /** The bytes of the tensor arguments of every backend call in one cycle of eight steps, per step. */
    static double countedBytes(SupernetWorkload w) {
        Backend cpu = Backends.current();
        long[] bytes = {0};
        Backends.use((Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (p, m, a) -> {
            if (a != null) for (Object o : a) if (o instanceof Tensor t) bytes[0] += 4L * t.size();
            try {
                return m.invoke(cpu, a);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }));
        try {
            for (int i = 0; i < 8; i++) w.step();
        } finally {
            Backends.use(cpu);
        }
        return bytes[0] / 8.0;
    }

    /** OpenBLAS sgemm on 2048 x 2048 matrices at our thread count, the best of five, in GFLOP/s. */
    static double sgemmPeak() {
        int n = 2048;
        openblas_nolapack.blas_set_num_threads(Parallel.threads());
        try (FloatPointer a = new FloatPointer((long) n * n); FloatPointer b = new FloatPointer((long) n * n); FloatPointer c = new FloatPointer((long) n * n)) {
            for (long i = 0; i < (long) n * n; i++) {
                a.put(i, (i % 7) * 0.01f);
                b.put(i, (i % 5) * 0.01f);
            }
            double best = 0;
            for (int r = 0; r < 6; r++) {
                long t = System.nanoTime();
                openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans, openblas_nolapack.CblasNoTrans,
                        n, n, n, 1f, a, n, b, n, 0f, c, n);
                double s = (System.nanoTime() - t) / 1e9;
                if (r > 0) best = Math.max(best, 2.0 * n * n * n / s / 1e9); // the first call sets OpenBLAS's threads up
            }
            return best;
        }
    }

    /** y = x * scale + shift over 64M floats (256 MB read, 256 MB written) with our kernel and threads, the best of five, in GB/s. */
    static double streamBandwidth() {
        Backend cpu = Backends.cpu();
        int c = 64, rows = (1 << 26) / c;
        try (MemoryScope s = MemoryScope.open()) {
            Tensor x = Tensor.zeros(rows, c, 1, 1), y = Tensor.empty(rows, c, 1, 1);
            Tensor scale = Tensor.zeros(c), shift = Tensor.zeros(c);
            double best = 0;
            for (int r = 0; r < 6; r++) {
                long t = System.nanoTime();
                cpu.channelAffine(x, scale, shift, 0f, y);
                double sec = (System.nanoTime() - t) / 1e9;
                if (r > 0) best = Math.max(best, 2.0 * 4 * x.size() / sec / 1e9); // the first pass faults y's pages in
            }
            return best;
        }
    }
}
