// PointwiseGemmBenchmark: a GEMM-bound 1x1 convolution (N 64, 96 -> 576 channels, 14x14) against
// OpenBLAS sgemm of the same product, both on off-heap memory, in one JMH run.
//
// Run: java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar PointwiseGemmBenchmark
// The product is 2 * (64*14*14) * 576 * 96 = 1.387 GFLOP; GFLOP/s = 1.387 / (ms / 1000).
package org.bnnas.bench;

import java.util.concurrent.TimeUnit;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.backend.cpu.Parallel;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code conv1x1}: our Ops.conv2d (row blocks over the team, single-threaded OpenBLAS per block).
 * {@code sgemm}: the bare OpenBLAS sgemm, with OpenBLAS's own threading at the same thread count,
 * the machine's practical float32 ceiling.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@State(Scope.Benchmark)
public class PointwiseGemmBenchmark {
    static final int N = 64, CI = 96, CO = 576, HW = 14;
    static final int M = N * HW * HW;
    public static final double GFLOP = 2.0 * M * CO * CI / 1e9;

    private Tensor x, w, y;
    private boolean blasThreadsSet;
    private FloatPointer a, b, c;

    @Setup(Level.Trial)
    public void setUp() {
        Rng rng = new Rng(3);
        float[] xs = new float[N * CI * HW * HW], ws = new float[CO * CI];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) rng.nextGaussian();
        for (int i = 0; i < ws.length; i++) ws[i] = (float) rng.nextGaussian();
        x = Tensor.fromArray(xs, N, CI, HW, HW);
        w = Tensor.fromArray(ws, CO, CI, 1, 1);
        a = new FloatPointer(x.toStorageArray()); // pixel rows of channels, as the conv sees them
        b = new FloatPointer(ws);
        c = new FloatPointer((long) M * CO);
    }

    @Benchmark
    public float conv1x1() {
        try (MemoryScope s = MemoryScope.open(); GradMode.Guard g = GradMode.noGrad()) {
            y = Ops.conv2d(x, w, 1, 0, 1);
            return y.buffer().getFloat(4 * 12345);
        }
    }

    @Benchmark
    public float sgemm() {
        if (!blasThreadsSet) { // each benchmark runs in its own JVM fork: this never reaches conv1x1
            org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(Parallel.threads());
            blasThreadsSet = true;
        }
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans, openblas_nolapack.CblasTrans,
                M, CO, CI, 1f, a, CI, b, CI, 0f, c, CO);
        return c.get(12345);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        // Both must compute the same product: compare one output element.
        float fromBlas = c.get(12345);
        try (MemoryScope s = MemoryScope.open(); GradMode.Guard g = GradMode.noGrad()) {
            float ours = Ops.conv2d(x, w, 1, 0, 1).buffer().getFloat(4 * 12345);
            if (fromBlas != 0f && Math.abs(ours - fromBlas) > 1e-3f * Math.abs(fromBlas)) {
                throw new IllegalStateException("conv1x1 " + ours + " differs from sgemm " + fromBlas);
            }
        }
        x.close();
        w.close();
        a.close();
        b.close();
        c.close();
    }
}
