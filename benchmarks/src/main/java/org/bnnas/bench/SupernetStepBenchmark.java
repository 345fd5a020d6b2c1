// SupernetStepBenchmark: one supernet training step (full: SPOS; BN-only: BN-NAS) and one eval
// forward, cycling the eight fixed paths of spaces/bench-archs.json, and the training step of the
// first path's standalone network (retraining), as the PyTorch peer does.
//
// Run: benchmarks/compare-pytorch.sh bnnas-small   (ours and PyTorch's, side by side)
//  or: java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar SupernetStepBenchmark -p space=bnnas-small
package org.bnnas.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Average time of one step on bnnas-small (batch 128, 1x28x28) or bnnas-imagenet (batch 16,
 * 3x224x224), with the thread count of the machine's cores, as the PyTorch peer runs. The peer
 * does the same work (see SupernetWorkload); compare-pytorch.sh runs both and prints their ratios.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
@State(Scope.Benchmark)
public class SupernetStepBenchmark {
    @Param({"bnnas-small", "bnnas-imagenet"})
    public String space;

    /**
     * full (every parameter trained), bnonly (each op's last BN gamma and beta), eval (no-grad
     * forward), standalone (the training step of the first path's standalone network, as retraining).
     */
    @Param({"full", "bnonly", "eval", "standalone"})
    public String mode;

    /** The paths of spaces/bench-archs.json, one cycle per invocation. */
    static final int PATHS = 8;

    private SupernetWorkload work;
    private float last;

    @Setup(Level.Trial)
    public void setUp() {
        if (SupernetWorkload.benchArchs().size() != PATHS) throw new IllegalStateException("bench-archs.json holds " + SupernetWorkload.benchArchs().size() + " paths, not " + PATHS);
        int batch = space.equals("bnnas-imagenet") ? 16 : 128;
        work = new SupernetWorkload(space, batch, SupernetWorkload.Mode.of(mode));
    }

    /**
     * One cycle through the eight paths, counted as eight steps: every iteration weighs each path
     * alike however few steps fit into it (a bnnas-imagenet full step takes about a second), as
     * the peer's cycles do.
     */
    @Benchmark
    @OperationsPerInvocation(PATHS)
    public float step() {
        for (int i = 0; i < PATHS; i++) last = work.step();
        return last;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        work.close();
        // A step that computed nothing (or diverged) is a failed benchmark, not a fast one.
        if (!Float.isFinite(last) || last == 0f) throw new IllegalStateException("step produced " + last);
    }
}
