// Reproduction: the experiment behind `bnnas reproduce`: a ground-truth ranking of K architectures,
// BN-NAS and SPOS supernets scored against it as they train, op-ranking stability, search and
// retraining of each method's winner, and BN-only against full training of one network. Every
// piece is stored as it finishes, so a killed run continues where it stopped.
package org.bnnas.experiment;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bnnas.data.Dataset;
import org.bnnas.data.Datasets;
import org.bnnas.engine.optim.LrSchedule;
import org.bnnas.engine.optim.ParamGroup;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.report.RankCorrelation;
import org.bnnas.score.AccuracyEvaluator;
import org.bnnas.score.BnScore;
import org.bnnas.search.Search;
import org.bnnas.space.Architecture;
import org.bnnas.space.Cost;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.StandaloneNet;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.BatchLog;
import org.bnnas.train.Checkpoint;
import org.bnnas.train.Metrics;
import org.bnnas.train.ParamGroups;
import org.bnnas.train.Retrainer;
import org.bnnas.train.SupernetTrainer;
import org.bnnas.train.TrainingLoop;

/**
 * Results go to JSON-lines files of the run directory, one object per finished piece:
 * ground_truth.jsonl (arch, seed, val_top1), bn_nas.jsonl and spos.jsonl (one line per
 * evaluation of the K architectures during supernet training), search.jsonl, retrain.jsonl and
 * convergence.jsonl. On a rerun with the same directory every piece already there is kept.
 */
public final class Reproduction {
    /**
     * The sizes of the experiment: K architectures, ground-truth epochs, training images (0: the
     * whole training part), BN-NAS and SPOS supernet epochs, SPOS scored every n epochs, BN
     * recalibration batches and validation images of the SPOS evaluator (0: all), the search's
     * population and generations, retraining and convergence epochs, and the batch size.
     */
    public record Preset(String name, int archs, int groundTruthEpochs, int trainImages, int bnEpochs, int sposEpochs, int sposEvalEvery,
                         int calibrationBatches, int sposValImages, int population, int generations, int retrainEpochs, int convergenceEpochs,
                         int batchSize) {
        /**
         * The preset behind the README's reproduction figures; the ground truth (6 architectures x
         * 2 seeds x 6 epochs of the whole training part) takes about half of its time. The README
         * gives its duration and how the seeds' agreement grew with the spacing and the epochs.
         */
        public static final Preset DEFAULT = new Preset("default", 6, 6, 0, 2, 20, 2, 20, 2000, 50, 20, 4, 2, 128);
        /** Every stage on a 10,000-image training subset: for checking the setup, not for ranking. */
        public static final Preset QUICK = new Preset("quick", 8, 1, 10_000, 1, 10, 2, 10, 2000, 10, 3, 1, 1, 128);
    }

    private final RunDir run;
    private final SearchSpace space;
    private final Datasets.Splits data;
    private final Dataset train, sposVal;
    private final Preset preset;
    private final long seed;
    private final PrintWriter out;
    private final int inC, size;
    private List<int[]> archs;
    private double[] groundTruth;

    public Reproduction(RunDir run, SearchSpace space, Datasets.Splits data, Preset preset, long seed, PrintWriter out) {
        this.run = run;
        this.space = space;
        this.data = data;
        this.preset = preset;
        this.seed = seed;
        this.out = out;
        this.inC = data.train().channels();
        this.size = data.train().size();
        this.train = preset.trainImages() > 0 && preset.trainImages() < data.train().count() ? data.train().first(preset.trainImages()) : data.train();
        this.sposVal = preset.sposValImages() > 0 && preset.sposValImages() < data.validation().count()
                ? data.validation().first(preset.sposValImages()) : data.validation();
    }

    List<int[]> archs() {
        return archs;
    }

    Preset preset() {
        return preset;
    }

    String spaceName() {
        return space.name;
    }

    int validationCount() {
        return data.validation().count();
    }

    double[] groundTruthAccuracy() {
        return groundTruth;
    }

    Dataset trainingImages() {
        return train;
    }

    Dataset sposValidation() {
        return sposVal;
    }

    /** Every stage, each skipping what the run directory already holds. */
    public void runAll() {
        chooseArchitectures();
        trainGroundTruth();
        supernet(SupernetTrainer.Mode.BN);
        supernet(SupernetTrainer.Mode.FULL);
        searchAndRetrain();
        convergence();
    }

    /** Writes report.md and its plots from the results files; {@code command} is how the report says it was made. */
    public void writeReport(String command) {
        new ReproductionReport(run, this, command).write();
    }

    // ---- 1. the architectures and their ground truth -----------------------------------------

    /**
     * K architectures spread over the FLOPs range, denser at the cheap end, rather than drawn
     * uniformly: uniform paths crowd around the middle, and architectures that differ little in
     * accuracy are ranked by seed noise. On Fashion-MNIST after 6 epochs, accuracy climbs a point
     * from the cheapest architecture (2.3M FLOPs) to 3.2M and under half a point more up to the
     * dearest (6.7M), so evenly spaced targets leave five of six architectures within seed noise
     * of each other. The k-th of K targets (k = 0 .. K-1) is therefore lo + (hi - lo) (k / (K-1))^2,
     * from the cheapest architecture of the space (lo) to the dearest (hi). A pool of 4,000
     * seeded paths is drawn with a size bias q, uniform in [0, 1] per path: each layer takes the
     * op at about q of the way from its cheapest to its dearest; each target takes the nearest
     * path of the pool not yet taken.
     */
    void chooseArchitectures() {
        int[][] byFlops = Cost.opsByFlops(space, inC, size);
        Rng rng = new Rng(seed ^ 0xA5C4L);
        List<int[]> pool = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        int[] cheapest = new int[space.numLayers()], dearest = new int[space.numLayers()];
        for (int l = 0; l < byFlops.length; l++) {
            cheapest[l] = byFlops[l] == null ? -1 : byFlops[l][0];
            dearest[l] = byFlops[l] == null ? -1 : byFlops[l][byFlops[l].length - 1];
        }
        for (int[] a : List.of(cheapest, dearest)) if (seen.add(Architecture.key(a))) pool.add(a);
        for (int i = 0; i < 4000; i++) {
            double q = rng.nextDouble();
            int[] a = new int[space.numLayers()];
            for (int l = 0; l < a.length; l++) {
                if (byFlops[l] == null) {
                    a[l] = -1;
                    continue;
                }
                int n = byFlops[l].length;
                int pos = (int) Math.round(q * (n - 1) + rng.nextGaussian());
                a[l] = byFlops[l][Math.max(0, Math.min(n - 1, pos))];
            }
            if (seen.add(Architecture.key(a))) pool.add(a);
        }
        double lo = flops(cheapest), hi = flops(dearest);
        archs = new ArrayList<>();
        boolean[] taken = new boolean[pool.size()];
        for (int k = 0; k < preset.archs(); k++) {
            double fraction = (double) k / Math.max(1, preset.archs() - 1);
            double target = lo + (hi - lo) * fraction * fraction;
            int best = -1;
            for (int i = 0; i < pool.size(); i++) {
                if (!taken[i] && (best < 0 || Math.abs(flops(pool.get(i)) - target) < Math.abs(flops(pool.get(best)) - target))) best = i;
            }
            taken[best] = true;
            archs.add(pool.get(best));
        }
    }

    double flops(int[] arch) {
        return Cost.of(space, arch, inC, size).flops();
    }

    double params(int[] arch) {
        return Cost.of(space, arch, inC, size).params();
    }

    /** Every architecture trained from scratch with two seeds; the ground truth is the mean validation top-1. */
    void trainGroundTruth() {
        Map<String, Double> done = new LinkedHashMap<>();
        for (JsonObject o : run.metricsFile("ground_truth.jsonl")) done.put(o.get("arch").getAsString() + "@" + o.get("seed").getAsLong(),
                o.get("val_top1").getAsDouble());
        int total = archs.size() * 2, index = 0;
        groundTruth = new double[archs.size()];
        for (int k = 0; k < archs.size(); k++) {
            int[] arch = archs.get(k);
            double sum = 0;
            for (long s : seeds()) {
                index++;
                String key = Architecture.format(arch) + "@" + s;
                Double top1 = done.get(key);
                if (top1 == null) {
                    out.printf("ground truth %d/%d: %s (%.2fM FLOPs), seed %d, %d epochs%n", index, total, Architecture.format(arch),
                            flops(arch) / 1e6, s, preset.groundTruthEpochs());
                    out.flush();
                    long start = System.nanoTime();
                    Retrainer.Config cfg = Retrainer.Config.defaults(preset.groundTruthEpochs(), preset.batchSize(), s);
                    try (StandaloneNet net = new StandaloneNet(space, arch, inC, new Rng(s))) {
                        Retrainer.train(net, train, cfg, null, false, null);
                        top1 = Metrics.top1(net, data.validation(), Stages.EVAL_BATCH, null);
                    }
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("arch", Architecture.format(arch));
                    m.put("seed", s);
                    m.put("flops", flops(arch));
                    m.put("val_top1", top1);
                    m.put("seconds", (System.nanoTime() - start) / 1e9);
                    run.appendLine("ground_truth.jsonl", m);
                    out.printf("  validation top-1 %.4f%n", top1);
                }
                sum += top1;
            }
            groundTruth[k] = sum / 2;
        }
        out.printf("ground truth: the two seeds' rankings agree at Kendall tau %.3f%n", seedAgreement()[0]);
        out.flush();
    }

    long[] seeds() {
        return new long[] {seed, seed + 1};
    }

    /**
     * Kendall tau and Spearman rho between the two seeds' accuracies: how noisy the truth is. Not a
     * bound on an evaluator's tau, which is measured against the (less noisy) mean of the seeds.
     */
    double[] seedAgreement() {
        double[][] bySeed = new double[2][archs.size()];
        for (JsonObject o : run.metricsFile("ground_truth.jsonl")) {
            int k = indexOf(o.get("arch").getAsString());
            if (k >= 0) bySeed[o.get("seed").getAsLong() == seed ? 0 : 1][k] = o.get("val_top1").getAsDouble();
        }
        return new double[] {RankCorrelation.kendallTau(bySeed[0], bySeed[1]), RankCorrelation.spearmanRho(bySeed[0], bySeed[1])};
    }

    private int indexOf(String arch) {
        for (int k = 0; k < archs.size(); k++) if (Architecture.format(archs.get(k)).equals(arch)) return k;
        return -1;
    }

    // ---- 2-4. supernets scored against the ground truth as they train ------------------------

    static String supernetFile(SupernetTrainer.Mode mode) {
        return mode == SupernetTrainer.Mode.BN ? "bn-supernet.safetensors" : "spos-supernet.safetensors";
    }

    static String scoresFile(SupernetTrainer.Mode mode) {
        return mode == SupernetTrainer.Mode.BN ? "bn_nas.jsonl" : "spos.jsonl";
    }

    SupernetTrainer.Config supernetConfig(SupernetTrainer.Mode mode) {
        int epochs = mode == SupernetTrainer.Mode.BN ? preset.bnEpochs() : preset.sposEpochs();
        return SupernetTrainer.Config.defaults(mode, epochs, preset.batchSize(), seed);
    }

    /**
     * Trains one supernet (resuming from its checkpoint) and scores the K architectures with its
     * evaluator: BN-NAS four times an epoch (the BN indicator costs microseconds), SPOS every
     * {@code sposEvalEvery} epochs and after the last. Training time and evaluation time are
     * measured apart.
     */
    void supernet(SupernetTrainer.Mode mode) {
        boolean bn = mode == SupernetTrainer.Mode.BN;
        SupernetTrainer.Config cfg = supernetConfig(mode);
        List<JsonObject> previous = run.metricsFile(scoresFile(mode));
        double[] trainSeconds = {previous.isEmpty() ? 0 : previous.get(previous.size() - 1).get("train_seconds").getAsDouble()};
        Set<String> recorded = new HashSet<>();
        previous.forEach(o -> recorded.add(o.get("epoch").getAsString()));
        if (recorded.contains(Double.toString(cfg.epochs()))) {
            out.printf("%s supernet: done earlier%n", bn ? "BN-NAS" : "SPOS");
            return;
        }
        out.printf("%s supernet: %d epochs on %d images%n", bn ? "BN-NAS" : "SPOS", cfg.epochs(), train.count());
        out.flush();
        try (Supernet net = new Supernet(space, inC, new Rng(seed));
             AccuracyEvaluator accuracy = bn ? null : new AccuracyEvaluator(net, train, sposVal, preset.calibrationBatches(), Stages.EVAL_BATCH, seed)) {
            final class Scorer implements TrainingLoop.Listener {
                long mark = System.nanoTime();
                int batches;

                @Override
                public void epochStarted(int epoch, int count) {
                    batches = count;
                    mark = System.nanoTime();
                }

                @Override
                public void batchDone(int epoch, int batch, BatchLog log) {
                    // quarter epochs: record where (batch + 1) / batches crosses 1/4, 2/4, 3/4 (the epoch's end comes in epochDone)
                    if (!bn || batch + 1 == batches || (batch + 1) * 4 / batches == batch * 4 / batches) return;
                    record(epoch + (batch + 1) / (double) batches);
                }

                @Override
                public void epochDone(TrainingLoop.EpochStats st) {
                    int done = st.epoch() + 1;
                    if (bn || done % preset.sposEvalEvery() == 0 || done == cfg.epochs()) record(done);
                    else tick();
                }

                void tick() {
                    long now = System.nanoTime();
                    trainSeconds[0] += (now - mark) / 1e9;
                    mark = now;
                }

                void record(double epoch) {
                    tick();
                    if (!recorded.add(Double.toString(epoch))) return;
                    long start = System.nanoTime();
                    double[] scores = new double[archs.size()];
                    BnScore table = bn ? BnScore.of(net) : null;
                    for (int k = 0; k < archs.size(); k++) scores[k] = bn ? table.score(archs.get(k)) : accuracy.evaluate(archs.get(k));
                    double evalSeconds = (System.nanoTime() - start) / 1e9;
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("epoch", epoch);
                    m.put("train_seconds", trainSeconds[0]);
                    m.put("eval_seconds", evalSeconds);
                    m.put("tau", RankCorrelation.kendallTau(scores, groundTruth));
                    m.put("rho", RankCorrelation.spearmanRho(scores, groundTruth));
                    m.put("scores", scores);
                    if (bn) {
                        m.put("bn_table", table.table());
                        m.put("lookup_seconds", lookupSeconds(table));
                    }
                    run.appendLine(scoresFile(mode), m);
                    out.printf("  %s after %.2f epochs (%.0f s of training): tau %.3f, rho %.3f (scoring the %d took %.3g s)%n",
                            bn ? "BN indicator" : "SPOS accuracy", epoch, trainSeconds[0], (double) m.get("tau"), (double) m.get("rho"),
                            archs.size(), evalSeconds);
                    out.flush();
                    mark = System.nanoTime(); // evaluation time is not training time
                }
            }
            Scorer scorer = new Scorer();
            SupernetTrainer.train(net, train, cfg, run.file(supernetFile(mode)), true, scorer);
            scorer.record(cfg.epochs()); // a no-op unless a kill fell between the last checkpoint and its scores

        }
    }

    /**
     * What scoring one subnet costs once the table exists: the mean of 100,000 look-ups cycling
     * the K architectures (one look-up is far below the clock's resolution).
     */
    private double lookupSeconds(BnScore table) {
        double sink = 0;
        long start = System.nanoTime();
        for (int i = 0; i < 100_000; i++) sink += table.score(archs.get(i % archs.size()));
        double seconds = (System.nanoTime() - start) / 1e9 / 100_000;
        if (Double.isNaN(sink)) throw new IllegalStateException("a BN score is NaN");
        return seconds;
    }

    // ---- 5. search with each evaluator, then retrain both winners ------------------------------

    /** The same FLOPs limit for both methods: the middle of the range the K architectures span. */
    double flopsLimit() {
        double lo = Double.MAX_VALUE, hi = 0;
        for (int[] a : archs) {
            lo = Math.min(lo, flops(a));
            hi = Math.max(hi, flops(a));
        }
        return (lo + hi) / 2;
    }

    void searchAndRetrain() {
        Map<String, JsonObject> searched = new LinkedHashMap<>();
        for (JsonObject o : run.metricsFile("search.jsonl")) searched.put(o.get("method").getAsString(), o);
        Search.Config cfg = new Search.Config(preset.population(), preset.generations(), Math.min(10, preset.population()),
                preset.population() / 2, 0.1, preset.population() / 2);
        for (SupernetTrainer.Mode mode : SupernetTrainer.Mode.values()) {
            String method = mode == SupernetTrainer.Mode.BN ? "bn-nas" : "spos";
            if (searched.containsKey(method)) continue;
            out.printf("search with %s's evaluator: population %d, %d generations, FLOPs limit %.2fM%n", method, preset.population(),
                    preset.generations(), flopsLimit() / 1e6);
            out.flush();
            try (Supernet net = new Supernet(space, inC, new Rng(seed))) {
                Checkpoint.loadModel(run.file(supernetFile(mode)), net);
                long start = System.nanoTime();
                Search.Result r;
                if (mode == SupernetTrainer.Mode.BN) {
                    BnScore table = BnScore.of(net);
                    r = new Search(space, inC, size, flopsLimit(), table::score, seed).evolve(cfg);
                } else {
                    try (AccuracyEvaluator ev = new AccuracyEvaluator(net, train, sposVal, preset.calibrationBatches(), Stages.EVAL_BATCH, seed)) {
                        Progress progress = Progress.start("SPOS search", (long) cfg.population() * cfg.generations(), "subnets");
                        long[] n = {0};
                        r = new Search(space, inC, size, flopsLimit(), a -> {
                            double s = ev.evaluate(a);
                            progress.update(++n[0], () -> "");
                            return s;
                        }, seed).evolve(cfg);
                        progress.finish(n[0] + " subnets");
                    }
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("method", method);
                m.put("arch", Architecture.format(r.top().get(0).arch()));
                m.put("score", r.top().get(0).score());
                m.put("flops", r.top().get(0).flops());
                m.put("params", r.top().get(0).params());
                m.put("evaluated", r.evaluated().size());
                m.put("seconds", seconds);
                run.appendLine("search.jsonl", m);
                Architecture.write(run.file("arch-" + method + ".json"), space, r.top().get(0).arch(), inC, size);
                out.printf("  winner %s (%.2fM FLOPs), %d subnets in %.3g s%n", m.get("arch"), r.top().get(0).flops() / 1e6, r.evaluated().size(), seconds);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        Set<String> retrained = new HashSet<>();
        for (JsonObject o : run.metricsFile("retrain.jsonl")) retrained.add(o.get("method").getAsString() + "@" + o.get("seed").getAsLong());
        for (JsonObject o : run.metricsFile("search.jsonl")) {
            String method = o.get("method").getAsString();
            int[] arch = Architecture.parse(o.get("arch").getAsString(), space);
            for (long s : seeds()) {
                if (retrained.contains(method + "@" + s)) continue;
                out.printf("retrain %s's winner %s, seed %d, %d epochs%n", method, Architecture.format(arch), s, preset.retrainEpochs());
                out.flush();
                Retrainer.Config d = Retrainer.Config.defaults(preset.retrainEpochs(), preset.batchSize(), s);
                long start = System.nanoTime();
                try (StandaloneNet net = new StandaloneNet(space, arch, inC, new Rng(s))) {
                    Retrainer.train(net, train, d, null, false, null);
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("method", method);
                    m.put("seed", s);
                    m.put("arch", Architecture.format(arch));
                    m.put("val_top1", Metrics.top1(net, data.validation(), Stages.EVAL_BATCH, null));
                    m.put("test_top1", Metrics.top1(net, data.test(), Stages.EVAL_BATCH, null));
                    m.put("seconds", (System.nanoTime() - start) / 1e9);
                    run.appendLine("retrain.jsonl", m);
                    out.printf("  test top-1 %.4f%n", (double) m.get("test_top1"));
                }
            }
        }
    }

    // ---- 6. BN-only against full training of one network, for teaching ------------------------

    /** The architecture of median FLOPs among the K. */
    int[] convergenceArch() {
        List<int[]> sorted = new ArrayList<>(archs);
        sorted.sort(Comparator.comparingDouble(this::flops));
        return sorted.get(sorted.size() / 2);
    }

    /**
     * One standalone network trained twice from the same initial weights: only each block's last
     * BN (BN-NAS's rule, at its learning rate) and every weight (SPOS's rate); loss and training
     * top-1 every 20 steps against wall-clock time, validation top-1 after every epoch.
     */
    void convergence() {
        Set<String> done = new HashSet<>();
        for (JsonObject o : run.metricsFile("convergence.jsonl")) if (o.has("final")) done.add(o.get("mode").getAsString());
        int[] arch = convergenceArch();
        for (SupernetTrainer.Mode mode : SupernetTrainer.Mode.values()) {
            String name = mode == SupernetTrainer.Mode.BN ? "bn-only" : "full";
            if (done.contains(name)) continue;
            out.printf("convergence: %s training of %s, %d epochs%n", name, Architecture.format(arch), preset.convergenceEpochs());
            out.flush();
            SupernetTrainer.Config sc = supernetConfig(mode);
            try (StandaloneNet net = new StandaloneNet(space, arch, inC, new Rng(seed))) {
                List<ParamGroup> groups = mode == SupernetTrainer.Mode.BN ? ParamGroups.lastBnOnly(net, sc.lr(), sc.momentum())
                        : ParamGroups.allWithWeightDecay(net, sc.lr(), sc.momentum(), sc.weightDecay()); // as SPOS trains
                TrainingLoop.Settings settings = new TrainingLoop.Settings(preset.convergenceEpochs(), preset.batchSize(), sc.labelSmoothing(),
                        sc.clipValue(), seed, total -> LrSchedule.linear(total, sc.endFactor()));
                long start = System.nanoTime();
                double[] window = new double[2]; // the sum and count of the losses since the last line
                int[] step = {0};
                double[] evalSeconds = {0};
                TrainingLoop.run(net, train, groups, settings, Map.of("dropout", net.dropout().rng()), () -> {}, null, new TrainingLoop.Listener() {
                    int batchesPerEpoch, unread; // unread: this epoch's first batch not yet in the window

                    @Override
                    public void epochStarted(int epoch, int batches) {
                        batchesPerEpoch = batches;
                        unread = 0;
                    }

                    /** A line every 20 steps; the log is read then (and at an epoch's end, for a window that spans two epochs). */
                    @Override
                    public void batchDone(int epoch, int batch, BatchLog log) {
                        boolean lineDue = ++step[0] % 20 == 0;
                        if (!lineDue && batch + 1 < batchesPerEpoch) return;
                        for (int b = unread; b <= batch; b++) {
                            window[0] += log.loss(b);
                            window[1]++;
                        }
                        unread = batch + 1;
                        if (!lineDue) return;
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("mode", name);
                        m.put("step", step[0]);
                        m.put("seconds", (System.nanoTime() - start) / 1e9 - evalSeconds[0]);
                        m.put("loss", window[0] / window[1]);
                        run.appendLine("convergence.jsonl", m);
                        window[0] = window[1] = 0;
                    }

                    @Override
                    public void epochDone(TrainingLoop.EpochStats st) {
                        long t = System.nanoTime();
                        double trainingSeconds = (t - start) / 1e9 - evalSeconds[0];
                        double val = Metrics.top1(net, data.validation(), Stages.EVAL_BATCH, null);
                        evalSeconds[0] += (System.nanoTime() - t) / 1e9;
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("mode", name);
                        m.put("step", step[0]);
                        m.put("seconds", trainingSeconds);
                        m.put("epoch", st.epoch() + 1);
                        m.put("train_top1", st.top1());
                        m.put("val_top1", val);
                        if (st.epoch() + 1 == preset.convergenceEpochs()) m.put("final", true);
                        run.appendLine("convergence.jsonl", m);
                        out.printf("  %s epoch %d: loss %.4f, train top-1 %.4f, validation top-1 %.4f%n", name, st.epoch() + 1, st.loss(), st.top1(), val);
                        out.flush();
                    }
                });
            }
        }
    }

    static double[] doubles(JsonArray a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = a.get(i).getAsDouble();
        return v;
    }
}
