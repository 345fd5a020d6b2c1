// Stages: the steps of BN-NAS and SPOS as the commands run them (supernet training, search,
// retraining), each writing its checkpoint, metrics lines and plots into the run directory.
package org.bnnas.experiment;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleSupplier;
import java.util.function.ToDoubleFunction;
import org.bnnas.data.Datasets;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.report.Plot;
import org.bnnas.score.Predictor;
import org.bnnas.score.Scorers;
import org.bnnas.search.Candidate;
import org.bnnas.search.Search;
import org.bnnas.space.Architecture;
import org.bnnas.space.Cost;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.StandaloneNet;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.BatchLog;
import org.bnnas.train.Metrics;
import org.bnnas.train.Retrainer;
import org.bnnas.train.SupernetTrainer;
import org.bnnas.train.TrainingLoop;

public final class Stages {
    public static final String SUPERNET_FILE = "supernet.safetensors", STANDALONE_FILE = "standalone.safetensors";
    /** The batch size of every evaluation (validation and test top-1, SPOS's accuracy evaluator). */
    public static final int EVAL_BATCH = 256;

    private Stages() {}

    /** Trains the supernet into run/supernet.safetensors (resuming from it when asked); returns the per-epoch figures of this call. */
    public static List<TrainingLoop.EpochStats> trainSupernet(RunDir run, Supernet net, Datasets.Splits data, SupernetTrainer.Config cfg,
                                                              boolean resume, PrintWriter out) {
        return trainSupernet(run, net, data, cfg, resume, null, out);
    }

    /** As above, with {@code scoring} (may be null) scoring architectures as the supernet trains. */
    public static List<TrainingLoop.EpochStats> trainSupernet(RunDir run, Supernet net, Datasets.Splits data, SupernetTrainer.Config cfg,
                                                              boolean resume, SupernetScoring scoring, PrintWriter out) {
        String stage = "supernet";
        long[] numbers = SupernetTrainer.trainedNumbers(net, cfg);
        out.printf("supernet: %s training, %d epochs, batch %d, lr %.4g, on %d images: %,d of its %,d parameters trained (%s)%n",
                cfg.mode() == SupernetTrainer.Mode.BN ? "BN-only (BN-NAS)" : "full (SPOS)", cfg.epochs(), cfg.batchSize(), cfg.lr(), data.train().count(),
                numbers[0], numbers[1], cfg.mode() == SupernetTrainer.Mode.FULL ? "every one" : cfg.bnScope() == SupernetTrainer.BnScope.ALL
                        ? "gamma and beta of every BN" : "gamma and beta of each op's last BN");
        out.flush();
        List<TrainingLoop.EpochStats> stats = SupernetTrainer.train(net, data.train(), cfg, run.file(SUPERNET_FILE), resume,
                TrainingLoop.Listener.all(new EpochReporter(run, stage, cfg.epochs(), out, null), scoring));
        plotTraining(run, stage);
        return stats;
    }

    /** What {@link #search} found: the search's result, its best {@code topK} candidates (best first) and the time per evaluation. */
    public record SearchOutcome(Search.Result result, List<Candidate> top, double secondsPerEvaluation) {}

    /**
     * Searches with {@code scorer}, the predictor of {@code settings}; writes search metrics,
     * plots and every evaluated candidate (candidates.csv).
     */
    public static SearchOutcome search(RunDir run, SearchSpace space, Scorers.Scorer scorer, int inC, int size, SearchSettings settings, long seed,
                                       PrintWriter out) {
        Predictor evaluator = settings.evaluator();
        SearchSettings.Method method = settings.method();
        int population = settings.population(), generations = settings.generations();
        double flopsLimit = settings.flopsLimit();
        Search.Config paper = Search.Config.paper();
        Search.Config cfg = new Search.Config(population, generations, Math.min(paper.topK(), population), population / 2,
                paper.mutationProbability(), population / 2);
        int budget = population * generations; // each generation evaluates a full population of new candidates
        out.printf("search: %s search with the %s evaluator, %s%s, %d candidates%n", method, evaluator,
                flopsLimit > 0 ? String.format("FLOPs limit %.2fM", flopsLimit / 1e6) : "no FLOPs limit",
                settings.latencyLimitMs() > 0 ? String.format(", latency limit %.3g ms (%s, batch %d)", settings.latencyLimitMs(),
                        settings.latencyTable().device(), settings.latencyTable().batch()) : "", budget);
        out.flush();
        Progress progress = Progress.start("search", budget, "subnets");
        long[] done = {0};
        double[] evalSeconds = {0};
        ToDoubleFunction<int[]> score = arch -> {
            long t = System.nanoTime();
            double s = scorer.score(arch);
            evalSeconds[0] += (System.nanoTime() - t) / 1e9;
            progress.update(++done[0], () -> String.format("last %.4f", s));
            return s;
        };
        Search search = new Search(space, inC, size, flopsLimit, score, seed);
        if (settings.latencyTable() != null) search.withLatency(settings.latencyTable(), settings.latencyLimitMs());
        Search.Result result = method == SearchSettings.Method.RANDOM ? search.random(budget, paper.topK()) : search.evolve(cfg);
        progress.finish(done[0] + " subnets evaluated, best " + String.format("%.4f", result.top().get(0).score()));
        for (int g = 0; g < result.bestPerGeneration().size(); g++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(method == SearchSettings.Method.RANDOM ? "evaluation" : "generation", g);
            m.put("best_score", result.bestPerGeneration().get(g));
            run.appendMetrics("search", m);
        }
        plotSearch(run, result, method, evaluator);
        List<Candidate> top = result.best(settings.topK());
        List<Candidate> measured = List.of();
        if (settings.latencyLimitMs() > 0) {
            String elsewhere = LatencyMeasurement.elsewhere(settings.latencyTable());
            if (elsewhere == null) {
                measured = checkLatency(space, result, settings, out);
                top = measured.stream().filter(c -> c.measuredMs() <= settings.latencyLimitMs()).limit(settings.topK()).toList();
            } else {
                out.printf("latency: not measured here (%s): the winners keep to the limit by the table's sums only%n", elsewhere);
            }
        }
        run.writeText("candidates.csv", candidatesCsv(space, result.evaluated(), measured));
        return new SearchOutcome(result, top, done[0] == 0 ? 0 : evalSeconds[0] / done[0]);
    }

    /** Finalists measured at most: the best candidates by score are timed until --top-k of them keep to the limit or this many have been timed. */
    static final int MAX_MEASURED = 100;

    /**
     * A table's sum misjudges some networks, and a search under a limit climbs to exactly those the
     * table underestimates; so the best candidates by score are timed here as whole networks (as the
     * table was timed), in score order, until --top-k of them measure within the limit. Returns every
     * candidate timed, with its measured time.
     */
    static List<Candidate> checkLatency(SearchSpace space, Search.Result result, SearchSettings settings, PrintWriter out) {
        double limit = settings.latencyLimitMs();
        LatencyMeasurement timer = LatencyMeasurement.like(space, settings.latencyTable());
        timer.warmUp();
        List<Candidate> timed = new ArrayList<>();
        int within = 0;
        for (Candidate c : result.best(result.evaluated().size())) {
            if (within == settings.topK() || timed.size() == MAX_MEASURED) break;
            Candidate m = c.withMeasuredMs(timer.endToEndMs(c.arch()));
            timed.add(m);
            if (m.measuredMs() <= limit) within++;
        }
        double[] ratio = timed.stream().mapToDouble(c -> c.measuredMs() / c.latencyMs()).sorted().toArray();
        out.printf("latency: the best %d candidates timed here as whole networks: %d within %.3g ms, %d over it; measured / predicted from %.2f to %.2f "
                + "(median %.2f)%n", timed.size(), within, limit, timed.size() - within, ratio[0], ratio[ratio.length - 1], ratio[ratio.length / 2]);
        if (within == 0) {
            throw new IllegalArgumentException("--latency-limit " + limit + ": none of the best " + timed.size() + " candidates measures within it here "
                    + "(the table underestimates them by a median factor " + String.format("%.2f", ratio[ratio.length / 2]) + "); raise the limit or measure the table again");
        }
        return timed;
    }

    /**
     * Every evaluated candidate in the order evaluated: score, FLOPs, params, predicted latency
     * (empty without a table), measured latency (empty unless it was timed as a finalist), indices
     * and op names.
     */
    static String candidatesCsv(SearchSpace space, List<Candidate> evaluated, List<Candidate> measured) {
        Map<String, Double> measuredMs = new HashMap<>();
        for (Candidate c : measured) measuredMs.put(Architecture.format(c.arch()), c.measuredMs());
        StringBuilder b = new StringBuilder("evaluation,score,flops,params,latency_ms,measured_ms,arch,ops\n");
        for (int i = 0; i < evaluated.size(); i++) {
            Candidate c = evaluated.get(i);
            Double ms = measuredMs.get(Architecture.format(c.arch()));
            List<String> ops = new ArrayList<>();
            for (int a : c.arch()) ops.add(a < 0 ? Architecture.IDENTITY : space.ops.get(a).name());
            b.append(i + 1).append(',').append(c.score()).append(',').append((long) c.flops()).append(',').append(c.params()).append(',')
                    .append(Double.isNaN(c.latencyMs()) ? "" : Double.toString(c.latencyMs())).append(',').append(ms == null ? "" : Double.toString(ms))
                    .append(",\"").append(Architecture.format(c.arch()))
                    .append("\",\"").append(String.join(",", ops)).append("\"\n");
        }
        return b.toString();
    }

    /** Top candidates as JSON-ready maps. */
    public static List<Map<String, Object>> describe(List<Candidate> candidates) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Candidate c : candidates) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("arch", Architecture.format(c.arch()));
            m.put("score", c.score());
            m.put("flops", c.flops());
            m.put("params", c.params());
            if (!Double.isNaN(c.latencyMs())) m.put("latency_ms", c.latencyMs());
            if (!Double.isNaN(c.measuredMs())) m.put("measured_latency_ms", c.measuredMs());
            out.add(m);
        }
        return out;
    }

    public static void printTop(PrintWriter out, List<Candidate> top) {
        boolean latency = !top.isEmpty() && !Double.isNaN(top.get(0).latencyMs()), measured = !top.isEmpty() && !Double.isNaN(top.get(0).measuredMs());
        out.printf("%4s  %-10s  %9s  %8s  %s%s%s%n", "rank", "score", "MFLOPs", "params", latency ? String.format("%10s  ", "latency ms") : "",
                measured ? String.format("%11s  ", "measured ms") : "", "arch");
        for (int i = 0; i < top.size(); i++) {
            Candidate c = top.get(i);
            out.printf("%4d  %-10.5f  %9.2f  %8d  %s%s%s%n", i + 1, c.score(), c.flops() / 1e6, c.params(),
                    latency ? String.format("%10.3f  ", c.latencyMs()) : "", measured ? String.format("%11.3f  ", c.measuredMs()) : "",
                    Architecture.format(c.arch()));
        }
        out.flush();
    }

    /** Retraining's outcome. */
    public record RetrainOutcome(double valTop1, double testTop1, double trainSeconds) {}

    /** Retrains {@code arch} from scratch into run/standalone.safetensors; validation top-1 after every epoch, test top-1 at the end. */
    public static RetrainOutcome retrain(RunDir run, SearchSpace space, int[] arch, Datasets.Splits data, Retrainer.Config cfg, boolean resume,
                                         PrintWriter out) {
        int inC = data.train().channels(), size = data.train().size();
        Cost cost = Cost.of(space, arch, inC, size);
        out.printf("retrain: %s (%.2fM FLOPs, %d params), %d epochs, batch %d, lr %.4g, %s schedule%n", Architecture.format(arch),
                cost.flops() / 1e6, cost.params(), cfg.epochs(), cfg.batchSize(), cfg.lr(), cfg.schedule().name().toLowerCase());
        out.flush();
        try (StandaloneNet net = new StandaloneNet(space, arch, inC, new Rng(cfg.seed()))) {
            List<TrainingLoop.EpochStats> stats = Retrainer.train(net, data.train(), cfg, run.file(STANDALONE_FILE), resume,
                    new EpochReporter(run, "retrain", cfg.epochs(), out, () -> Metrics.top1(net, data.validation(), EVAL_BATCH, null)));
            double seconds = stats.stream().mapToDouble(TrainingLoop.EpochStats::seconds).sum();
            double val = Metrics.top1(net, data.validation(), EVAL_BATCH, null);
            double test = Metrics.top1(net, data.test(), EVAL_BATCH, null);
            plotTraining(run, "retrain");
            out.printf("retrain: validation top-1 %.4f, test top-1 %.4f%n", val, test);
            out.flush();
            return new RetrainOutcome(val, test, seconds);
        }
    }

    /** The fields every retraining result has: arch, flops, params, val_top1, test_top1, retrain_seconds. */
    public static Map<String, Object> retrainResults(SearchSpace space, int[] arch, Datasets.Splits data, RetrainOutcome r) {
        Cost cost = Cost.of(space, arch, data.train().channels(), data.train().size());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", Architecture.format(arch));
        m.put("flops", cost.flops());
        m.put("params", cost.params());
        m.put("val_top1", r.valTop1());
        m.put("test_top1", r.testTop1());
        m.put("retrain_seconds", r.trainSeconds());
        return m;
    }

    /** Progress per batch, and per epoch a metrics line and a printed summary. */
    static final class EpochReporter implements TrainingLoop.Listener {
        private final RunDir run;
        private final String stage;
        private final int epochs;
        private final PrintWriter out;
        private final DoubleSupplier validation;
        private Progress progress;

        EpochReporter(RunDir run, String stage, int epochs, PrintWriter out, DoubleSupplier validation) {
            this.run = run;
            this.stage = stage;
            this.epochs = epochs;
            this.out = out;
            this.validation = validation;
        }

        @Override
        public void resumed(int epochsDone) {
            out.printf("%s: resumed after epoch %d of %d%n", stage, epochsDone, epochs);
            out.flush();
        }

        @Override
        public void epochStarted(int epoch, int batchCount) {
            progress = Progress.start(String.format("%s epoch %d/%d", stage, epoch + 1, epochs), batchCount, "batches");
        }

        /** Shows the mean loss of the epoch's batches so far, read from the log only when the line is drawn. */
        @Override
        public void batchDone(int epoch, int batch, BatchLog log) {
            progress.update(batch + 1, () -> {
                double lossSum = 0;
                for (int b = 0; b <= batch; b++) lossSum += log.loss(b);
                return String.format("loss %.4f", lossSum / (batch + 1));
            });
        }

        @Override
        public void epochDone(TrainingLoop.EpochStats st) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", st.epoch() + 1);
            m.put("loss", st.loss());
            m.put("train_top1", st.top1());
            m.put("lr", st.lr());
            m.put("seconds", st.seconds());
            String val = "";
            if (validation != null) {
                double v = validation.getAsDouble();
                m.put("val_top1", v);
                val = String.format(", validation top-1 %.4f", v);
            }
            run.appendMetrics(stage, m);
            progress.finish(String.format("loss %.4f, train top-1 %.4f%s", st.loss(), st.top1(), val));
        }
    }

    /** Loss and accuracy per epoch of a training stage, from all its metrics lines (a resumed run included). */
    static void plotTraining(RunDir run, String stage) {
        List<JsonObject> lines = run.metrics(stage, "epoch");
        double[] epoch = new double[lines.size()], loss = new double[lines.size()], train = new double[lines.size()];
        double[] val = new double[lines.size()];
        boolean hasVal = false;
        for (int i = 0; i < lines.size(); i++) {
            JsonObject o = lines.get(i);
            epoch[i] = o.get("epoch").getAsDouble();
            loss[i] = o.get("loss").getAsDouble();
            train[i] = o.get("train_top1").getAsDouble();
            val[i] = o.has("val_top1") ? o.get("val_top1").getAsDouble() : Double.NaN;
            hasVal |= o.has("val_top1");
        }
        Plot accuracy = Plot.lines(stage + ": top-1 per epoch", "epoch", "top-1").add("train (augmented, while training)", epoch, train);
        if (hasVal) accuracy.add("validation", epoch, val);
        write(Plot.lines(stage + ": training loss per epoch", "epoch", "loss").add("loss", epoch, loss), run, stage + "-loss.png");
        write(accuracy, run, stage + "-accuracy.png");
    }

    static void plotSearch(RunDir run, Search.Result result, SearchSettings.Method method, Predictor evaluator) {
        List<Double> best = result.bestPerGeneration();
        double[] x = new double[best.size()], y = new double[best.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = i + 1;
            y[i] = best.get(i);
        }
        String xLabel = method == SearchSettings.Method.RANDOM ? "evaluations" : "generation";
        write(Plot.lines("search: best " + evaluator + " score", xLabel, "score").add("best so far", x, y), run, "search-best.png");
        List<Candidate> all = result.evaluated();
        double[] f = new double[all.size()], s = new double[all.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = all.get(i).flops() / 1e6;
            s[i] = all.get(i).score();
        }
        write(Plot.scatter("search: " + evaluator + " score of every evaluated subnet", "MFLOPs", "score").add("subnets", f, s), run,
                "search-score-vs-flops.png");
    }

    private static void write(Plot plot, RunDir run, String name) {
        try {
            plot.write(run.file(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
