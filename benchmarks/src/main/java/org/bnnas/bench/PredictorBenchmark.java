// PredictorBenchmark: the time of one score by each training-free predictor and baseline (synflow,
// snip, grad_norm, jacob_cov, naswot, flops, params, random), per architecture, on bnnas-small
// (1x28x28) and bnnas-imagenet (3x224x224), cycling the eight paths of spaces/bench-archs.json;
// the BN indicator's look-up and the SPOS evaluation are in SubnetEvaluationBenchmark.
//
// Run: java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar PredictorBenchmark
//      (-p space=bnnas-small to keep to the small space; -p predictor=naswot,synflow for some predictors)
package org.bnnas.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.score.Predictor;
import org.bnnas.score.Scorers;
import org.bnnas.space.SearchSpace;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One call scores the next path with the predictor's defaults: each architecture's network built
 * from the seed, a batch of 64 images (seeded Gaussian values of the space's input shape: the
 * time does not depend on them, and no data set is needed), training mode. The score is returned,
 * so the work cannot be dropped, and it is checked finite once per trial.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx16g"})
@State(Scope.Benchmark)
public class PredictorBenchmark {
    static final int BATCH = 64;

    @Param({"bnnas-small", "bnnas-imagenet"})
    public String space;

    @Param({"synflow", "snip", "grad_norm", "jacob_cov", "naswot", "flops", "params", "random"})
    public String predictor;

    private Scorers.Scorer scorer;
    private Scorers.Batch batch;
    private List<int[]> archs;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        SearchSpace s = SearchSpace.load(space);
        Rng rng = new Rng(0);
        float[] x = new float[BATCH * s.inputChannels * s.inputSize * s.inputSize];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
        int[] labels = new int[BATCH];
        for (int i = 0; i < BATCH; i++) labels[i] = rng.nextInt(s.classes);
        batch = new Scorers.Batch(MemoryScope.detach(Tensor.fromArray(x, BATCH, s.inputChannels, s.inputSize, s.inputSize)), labels);
        scorer = Scorers.create(Predictor.parse(predictor), new Scorers.Setup(s, s.inputChannels, s.inputSize, 0, null,
                Scorers.fromSeed(s, s.inputChannels, 0), null, null, 0, 0, batch));
        archs = SupernetWorkload.benchArchs();
        double first = scorer.score(archs.get(0));
        if (!Double.isFinite(first)) throw new IllegalStateException(predictor + " gave " + first + " on " + space);
    }

    @Benchmark
    public double score() {
        return scorer.score(archs.get(next++ % archs.size()));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scorer.close();
        batch.close();
    }
}
