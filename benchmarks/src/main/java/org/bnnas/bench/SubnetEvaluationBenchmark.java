// SubnetEvaluationBenchmark: the evaluation of one subnet by the two evaluators of the search: the
// BN indicator (BN-NAS: a look-up in the table of mean |gamma|, cached, or rebuilt for every subnet) and
// the SPOS accuracy evaluator (BN recalibration over 20 batches of 256, then top-1 on 10,000
// validation images by default), on bnnas-small, cycling the eight paths of spaces/bench-archs.json. The paper: over 600,000x faster.
//
// Run: java --add-modules jdk.incubator.vector -jar benchmarks/target/benchmarks.jar SubnetEvaluationBenchmark
//  or, for the three figures in one unit, their ratios and a whole search (50 x 20 subnets):
//      java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar org.bnnas.bench.SubnetEvaluationBenchmark
//      (further arguments are JMH options, e.g. -f 1; `-p validationImages=2000` for bnnas reproduce's SPOS evaluator)
package org.bnnas.bench;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.bnnas.data.Dataset;
import org.bnnas.data.MemoryDataset;
import org.bnnas.data.Datasets;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.score.AccuracyEvaluator;
import org.bnnas.score.BnScore;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.Supernet;
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
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Average time per subnet of each evaluator with the CLI's defaults (Stages: a calibration batch
 * of 256, 20 calibration batches, the 10,000 images Datasets holds out of Fashion-MNIST's 60,000
 * for validation). The data are seeded random bytes and labels of Fashion-MNIST's shape: the time
 * does not depend on the values, and no data set needs to be installed. The supernet is freshly
 * initialised (every gamma is 1), which changes the scores, not the work.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
@State(Scope.Benchmark)
public class SubnetEvaluationBenchmark {
    static final String SPACE = "bnnas-small";
    static final int TRAIN_IMAGES = 60_000, CALIBRATION_BATCHES = 20, BATCH = 256, ARCHS = 8;
    static final int SEARCH_POPULATION = 50, SEARCH_GENERATIONS = 20;

    /** Validation images of the SPOS evaluator: the CLI's 10,000, or 2,000 as bnnas reproduce scores with. */
    @Param({"10000"})
    public int validationImages;

    private Supernet net;
    private AccuracyEvaluator evaluator;
    private BnScore table;
    private int[][] archs;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        SearchSpace space = SearchSpace.load(SPACE);
        Rng rng = new Rng(0);
        net = new Supernet(space, space.inputChannels, rng);
        Datasets.Split split = Datasets.split(randomFashionMnist(space, new Rng(1)), Datasets.DEFAULT_VALIDATION_SIZE, 0);
        if (split.train().count() != 50_000 || split.validation().count() != 10_000) {
            throw new IllegalStateException("split " + split.train().count() + " / " + split.validation().count());
        }
        int[] first = new int[validationImages];
        for (int i = 0; i < first.length; i++) first[i] = i;
        evaluator = new AccuracyEvaluator(net, split.train(), split.validation().subset(first), CALIBRATION_BATCHES, BATCH, 0);
        table = BnScore.of(net);
        archs = SupernetWorkload.benchArchs().toArray(new int[0][]); // the peer's --spos evaluates the same paths
        if (archs.length != ARCHS) throw new IllegalStateException("bench-archs.json holds " + archs.length + " paths, not " + ARCHS);
    }

    /** 60,000 random 1x28x28 images and labels, with Fashion-MNIST's normalisation and augmentation. */
    static Dataset randomFashionMnist(SearchSpace space, Rng rng) {
        int c = space.inputChannels, size = space.inputSize;
        byte[] images = new byte[TRAIN_IMAGES * c * size * size];
        for (int i = 0; i < images.length; i += 8) {
            long bits = rng.nextLong();
            for (int k = 0; k < 8 && i + k < images.length; k++) images[i + k] = (byte) (bits >>> (8 * k));
        }
        int[] labels = new int[TRAIN_IMAGES];
        for (int i = 0; i < labels.length; i++) labels[i] = rng.nextInt(space.classes);
        return new MemoryDataset("fashion-mnist (random)", images, labels, c, size, space.classes,
                new float[] {0.2860f}, new float[] {0.3530f}, 2, true);
    }

    private int[] nextArch() {
        return archs[next++ & (ARCHS - 1)];
    }

    private static double checkScore(double s) {
        // Every |gamma| mean is >= 0 and finite; anything else means the table is broken.
        if (!(s >= 0 && s < Double.POSITIVE_INFINITY)) throw new IllegalStateException("BN score " + s);
        return s;
    }

    /** BN-NAS as the search runs it: the table is built once, a subnet is a sum of look-ups. */
    @Benchmark
    public double bnIndicator() {
        return checkScore(table.score(nextArch()));
    }

    /** The BN indicator if the table were not cached: every op's last-BN gammas read per subnet. */
    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 6, time = 1) // still 60% slow after 3 warm-up seconds
    public double bnIndicatorWithTable() {
        return checkScore(BnScore.of(net).score(nextArch()));
    }

    /** SPOS: reset and recalibrate BN over 20 x 256 training images, then top-1 on the validation images. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public double sposAccuracy() {
        double acc = evaluator.evaluate(nextArch());
        if (!(acc >= 0 && acc <= 1)) throw new IllegalStateException("accuracy " + acc);
        return acc;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        evaluator.close();
        net.close();
    }

    /** Runs the three benchmarks and prints their times per subnet in one unit, the ratios and a whole search. */
    public static void main(String[] args) throws Exception {
        String self = SubnetEvaluationBenchmark.class.getName();
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .parent(new CommandLineOptions(args))
                .include("^" + Pattern.quote(self) + "\\.")
                .build()).run();
        Map<String, Result<?>> byName = new HashMap<>();
        for (RunResult r : results) {
            String b = r.getParams().getBenchmark();
            byName.put(b.substring(b.lastIndexOf('.') + 1), r.getPrimaryResult());
        }
        for (String name : new String[] {"bnIndicator", "bnIndicatorWithTable", "sposAccuracy"}) {
            if (!byName.containsKey(name)) throw new IllegalStateException("no result for " + name);
        }
        double bn = nanos(byName.get("bnIndicator")), bnTable = nanos(byName.get("bnIndicatorWithTable"));
        double spos = nanos(byName.get("sposAccuracy"));
        int subnets = SEARCH_POPULATION * SEARCH_GENERATIONS;

        System.out.println();
        System.out.printf("%s, one subnet per call, %d cores; JMH mean +- 99.9%% CI%n", SPACE, Runtime.getRuntime().availableProcessors());
        System.out.printf("| evaluator                                   |          per subnet (us) |   SPOS / this | %13s |%n", String.format("%,d subnets", subnets));
        System.out.println("|---------------------------------------------|--------------------------|---------------|---------------|");
        row("BN indicator, cached table (BN-NAS)", byName.get("bnIndicator"), spos / bn, subnets * bn);
        row("BN indicator, table rebuilt per subnet", byName.get("bnIndicatorWithTable"), spos / bnTable, subnets * bnTable);
        String val = results.iterator().next().getParams().getParam("validationImages");
        row(String.format("SPOS accuracy (%dx%d calib, %,d val)", CALIBRATION_BATCHES, BATCH, Integer.parseInt(val)), byName.get("sposAccuracy"), 1,
                subnets * spos);
        System.out.printf("whole search of %,d subnets (population %d x %d generations): BN-NAS (one table + %,d look-ups) %s, SPOS %s: %,.0fx%n",
                subnets, SEARCH_POPULATION, SEARCH_GENERATIONS, subnets, duration(bnTable + subnets * bn), duration(subnets * spos),
                subnets * spos / (bnTable + subnets * bn));
        System.out.printf("paper: BN-NAS evaluates subnets over 600,000x faster than SPOS; here %,.0fx (cached table), %,.0fx (table rebuilt)%n",
                spos / bn, spos / bnTable);
    }

    private static void row(String name, Result<?> r, double ratio, double searchNanos) {
        double scale = nanos(r) / r.getScore() / 1e3; // the result's unit in microseconds
        double us = r.getScore() * scale, err = r.getScoreError() * scale;
        String f = us < 1 ? "%,.4f" : us < 100 ? "%,.2f" : "%,.0f"; // about 3-4 significant digits, never 1e+07
        String time = String.format(f + " +- " + f, us, err);
        System.out.printf("| %-43s | %24s | %13s | %13s |%n", name, time, String.format("%,.0f", ratio), duration(searchNanos));
    }

    /** The mean of {@code r} in nanoseconds, from its unit ("ns/op", "us/op", "ms/op", "s/op"). */
    static double nanos(Result<?> r) {
        String unit = r.getScoreUnit();
        String per = unit.substring(0, unit.indexOf('/'));
        double scale = switch (per) {
            case "ns" -> 1;
            case "us" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            case "min" -> 60e9;
            default -> throw new IllegalStateException("unexpected unit " + unit);
        };
        return r.getScore() * scale;
    }

    static String duration(double nanos) {
        if (nanos < 1e3) return String.format("%.0f ns", nanos);
        if (nanos < 1e6) return String.format("%.1f us", nanos / 1e3);
        if (nanos < 1e9) return String.format("%.1f ms", nanos / 1e6);
        if (nanos < 120e9) return String.format("%.1f s", nanos / 1e9);
        if (nanos < 7200e9) return String.format("%.1f min", nanos / 60e9);
        return String.format("%.1f h", nanos / 3600e9);
    }
}
