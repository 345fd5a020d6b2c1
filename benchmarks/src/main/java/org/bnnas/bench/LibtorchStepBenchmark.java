// LibtorchStepBenchmark: SupernetStepBenchmark's steps done by libtorch 2.10 in this JVM (the
// second peer, beside Debian's PyTorch in Python), under the same JMH rules, on the official
// network exported as TorchScript, after its logits were checked against ours.
//
// Run: benchmarks/compare-pytorch.sh bnnas-small   (ours, PyTorch's and libtorch's, side by side)
//  or: java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar LibtorchStepBenchmark -p space=bnnas-small
package org.bnnas.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bytedeco.pytorch.global.torch;
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
 * The same spaces, batches, modes, paths, warm-up and measurement as SupernetStepBenchmark; the
 * parameters below it adds are libtorch's settings, so that compare-pytorch.sh can run libtorch
 * at its best (their defaults are libtorch as it comes). Setup fails, and the fork with it, when
 * libtorch's eval logits differ from ours (LibtorchWorkload.TOLERANCE).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
@State(Scope.Benchmark)
public class LibtorchStepBenchmark {
    @Param({"bnnas-small", "bnnas-imagenet"})
    public String space;

    /** full, bnonly, eval, standalone: as SupernetStepBenchmark. */
    @Param({"full", "bnonly", "eval", "standalone"})
    public String mode;

    /** torch::set_num_threads; 0: the machine's cores, as ours. */
    @Param({"0"})
    public int threads;

    /** torch::jit::setGraphExecutorOptimize: the graph executor's optimisation passes (autodiff subgraphs, fusion, ...) on or off. */
    @Param({"true"})
    public boolean optimize;

    /** profiling: TorchScript's default executor (profiles the first runs, then specialises); legacy: the older one (specialises on argument shapes and types); torch::jit::getExecutorMode. */
    @Param({"profiling"})
    public String executor;

    /** contiguous, or channelsLast: the 4-d weights and the input in channels-last (NHWC) memory format. */
    @Param({"contiguous"})
    public String memoryFormat;

    /** eval only: none, freeze (torch::jit::freeze: weights folded in as constants, BN folded into convs) or optimize (optimize_for_inference). */
    @Param({"none"})
    public String inference;

    /** eval only: false, a no-grad guard; true, c10::InferenceMode. */
    @Param({"false"})
    public boolean inferenceMode;

    /** Folder of the TorchScript files (pytorch_peer.py --export-torchscript); empty: exported into a temporary folder at setup. */
    @Param({""})
    public String torchscript;

    private LibtorchWorkload work;
    private Path exported;
    private float last;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        int batch = space.equals("bnnas-imagenet") ? 16 : 128;
        Path dir;
        if (torchscript.isEmpty()) {
            exported = Files.createTempDirectory("bnnas-torchscript");
            TorchScriptExport.export(space, exported);
            dir = exported;
        } else {
            dir = Path.of(torchscript);
        }
        if (!memoryFormat.equals("contiguous") && !memoryFormat.equals("channelsLast")) {
            throw new IllegalArgumentException("memoryFormat: contiguous or channelsLast, got " + memoryFormat);
        }
        LibtorchWorkload.Settings settings = new LibtorchWorkload.Settings(threads, optimize, LibtorchWorkload.Executor.of(executor),
                memoryFormat.equals("channelsLast"), LibtorchWorkload.Inference.of(inference), inferenceMode);
        // Ours is built only to hand over its weights, input and labels and to be compared with.
        try (SupernetWorkload ours = new SupernetWorkload(space, batch, SupernetWorkload.Mode.of(mode))) {
            if (SupernetWorkload.benchArchs().size() != SupernetStepBenchmark.PATHS) throw new IllegalStateException("bench-archs.json holds " + SupernetWorkload.benchArchs().size() + " paths");
            work = new LibtorchWorkload(ours, dir, settings);
        }
        // What libtorch runs with (its threads, OpenMP, oneDNN), for the record of each fork.
        System.out.println("libtorch " + settings + "\n" + torch.get_parallel_info().getString());
    }

    /** One cycle through the eight paths, counted as eight steps, as SupernetStepBenchmark.step. */
    @Benchmark
    @OperationsPerInvocation(SupernetStepBenchmark.PATHS)
    public float step() {
        for (int i = 0; i < SupernetStepBenchmark.PATHS; i++) last = work.step();
        return last;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (work != null) work.close();
        if (exported != null) {
            try (Stream<Path> files = Files.walk(exported)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
        if (!Float.isFinite(last) || last == 0f) throw new IllegalStateException("step produced " + last);
    }
}
