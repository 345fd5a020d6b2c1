// Reproduction: the experiment behind `bnnas reproduce`: the ranking study measured on this
// machine against a ground-truth table (the committed one by default): two of its rows retrained
// here as a check, BN-NAS and SPOS supernets scored against it as they train, the training-free
// predictors, a search under the FLOPs limit by each method and the winners retrained, and the
// study's report over all of it. Every piece is stored as it finishes, so a killed run continues
// where it stopped.
package org.bnnas.experiment;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.bnnas.data.Dataset;
import org.bnnas.data.Datasets;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.report.RankCorrelation;
import org.bnnas.report.RankStatistics;
import org.bnnas.score.Predictor;
import org.bnnas.score.Scorers;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.Checkpoint;
import org.bnnas.train.Retrainer;
import org.bnnas.train.SupernetTrainer;

/**
 * The run directory holds check.jsonl (the table's rows retrained here, in the table's form), one
 * directory per supernet (bn-seed{s}/, spos-seed{s}/: checkpoint, metrics, scores as they train)
 * and per search (search-{method}/), and scores/ with the files {@link RankingStudy} reads, each
 * moved into place when its stage has finished: bn-seed{s}.jsonl, bn-table-seed{s}.jsonl,
 * spos-seed{s}.jsonl, zero-cost.jsonl, winners.json and retrained.jsonl. report.md and its plots
 * are the study's, with the check of the table on this machine added.
 */
public final class Reproduction {
    /**
     * The sizes of the experiment: BN-NAS supernets (seeds and epochs), SPOS supernets (seeds,
     * epochs, scored every {@code sposScoreEvery} epochs, on {@code sposValImages} validation images
     * after {@code calibrationBatches} batches of BN recalibration), the search's population and
     * generations, the winners' retraining (epochs, 0 for the table's own budget, and seeds), the
     * table rows retrained as a check, and the plan of a ground truth trained afresh (architectures,
     * second seeds, near the limit, epochs).
     */
    public record Preset(String name, int bnSeeds, int bnEpochs, int sposSeeds, int sposEpochs, double sposScoreEvery, int calibrationBatches,
                         int sposValImages, int population, int generations, int winnerEpochs, int winnerSeeds, int checkRows,
                         int planArchs, int planSecondSeeds, int planNearLimit, int planEpochs) {
        /** The paper's budgets (SPOS ten times BN-NAS's epochs, the search of 50 x 20): about 55 minutes on 2 cores with the committed table. */
        public static final Preset DEFAULT = new Preset("default", 3, SupernetTrainer.Config.DEFAULT_BN_EPOCHS, 1, SupernetTrainer.Config.DEFAULT_FULL_EPOCHS,
                5, 20, 2000, 50, 20, 0, 3, 2, 60, 15, 20, 4);
        /** Every stage, short: for checking the setup, not the claims. The check still retrains two rows at the table's budget. */
        public static final Preset QUICK = new Preset("quick", 1, 1, 1, 2, 2, 10, 500, 10, 3, 1, 1, 2, 8, 2, 3, 1);
    }

    /** The predictors scored without a supernet on the table's architectures, in the study's zero-cost.jsonl. */
    static final List<Predictor> TRAINING_FREE = List.of(Predictor.SYNFLOW, Predictor.SNIP, Predictor.GRAD_NORM, Predictor.JACOB_COV, Predictor.NASWOT);
    /** The gradient and activation predictors' batch: the first 64 training images, as bnnas score's default. */
    static final int PROXY_BATCH = 64;
    static final String SCORES = "scores";

    private final RunDir run, scores;
    private final SearchSpace space;
    private final String dataset;
    private final Datasets.Splits data;
    private final Preset preset;
    private final long seed;
    private final String commit;
    private final PrintWriter out;
    private final Path table;
    private final boolean trainTable;
    private final int inC, size;
    private List<GroundTruth.Row> rows;
    private int budget;
    private Map<String, List<GroundTruth.Row>> byArch;

    /**
     * {@code table} is the ground truth: a file of bnnas bench's form, which {@code trainTable}
     * asks to fill first with this preset's plan (resuming); null for the table the project ships
     * for this space and data set.
     */
    public Reproduction(RunDir run, SearchSpace space, String dataset, Datasets.Splits data, Preset preset, long seed, Path table, boolean trainTable, String commit,
                        PrintWriter out) {
        if (trainTable && table == null) throw new IllegalArgumentException("a ground truth trained afresh needs its file");
        this.run = run;
        this.scores = new RunDir(run.file(SCORES));
        this.space = space;
        this.dataset = dataset;
        this.data = data;
        this.preset = preset;
        this.seed = seed;
        this.table = table;
        this.trainTable = trainTable;
        this.commit = commit;
        this.out = out;
        this.inC = data.train().channels();
        this.size = data.train().size();
    }

    /** Every stage, each skipping what the run directory already holds. */
    public void runAll() {
        groundTruth();
        check();
        for (long s = seed; s < seed + preset.bnSeeds(); s++) supernet(SupernetTrainer.Mode.BN, s);
        for (long s = seed; s < seed + preset.sposSeeds(); s++) supernet(SupernetTrainer.Mode.FULL, s);
        trainingFree();
        search();
        retrainWinners();
    }

    // ---- the ground truth and its check on this machine ----------------------------------------

    /** The table's rows; a fresh table is trained first from this preset's plan, resuming where it stopped. */
    List<GroundTruth.Row> groundTruth() {
        if (rows != null) return rows;
        if (trainTable) {
            List<GroundTruth.Entry> plan = GroundTruth.plan(space, inC, size, preset.planArchs(), preset.planSecondSeeds(), preset.planNearLimit(),
                    space.flopsLimit, seed, seed);
            Set<String> done = GroundTruth.done(GroundTruth.read(table, space));
            int index = 0;
            for (GroundTruth.Entry e : plan) {
                index++;
                if (done.contains(GroundTruth.key(e, preset.planEpochs()))) continue;
                out.printf("ground truth %d/%d: %s, seed %d, %d epochs%n", index, plan.size(), Architecture.format(e.arch()), e.seed(), preset.planEpochs());
                out.flush();
                GroundTruth.Row r = GroundTruth.train(space, e.arch(), e.seed(), preset.planEpochs(), Retrainer.Config.DEFAULT_BATCH, data, commit);
                GroundTruth.append(table, r, space);
                out.printf("  %.2fM FLOPs: validation top-1 %.4f (%.0f s)%n", r.flops() / 1e6, r.valTop1(), r.trainSeconds());
            }
        }
        rows = table != null ? GroundTruth.read(table, space) : GroundTruth.shipped(space, dataset);
        if (rows.isEmpty()) throw new IllegalArgumentException(table != null ? table + ": no rows" : "no ground truth ships for " + space.name + " on " + dataset);
        return rows;
    }

    /** The table's main budget: the epochs most of its rows were trained for. */
    int budget() {
        if (budget == 0) {
            Map<Integer, Integer> perBudget = new TreeMap<>();
            groundTruth().forEach(r -> perBudget.merge(r.epochs(), 1, Integer::sum));
            budget = perBudget.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        }
        return budget;
    }

    /** The table's rows at its main budget, by architecture (formatted), in table order. */
    Map<String, List<GroundTruth.Row>> byArch() {
        if (byArch == null) {
            byArch = new LinkedHashMap<>();
            for (GroundTruth.Row r : groundTruth()) if (r.epochs() == budget()) byArch.computeIfAbsent(Architecture.format(r.arch()), k -> new ArrayList<>()).add(r);
        }
        return byArch;
    }

    /** The rows retrained here: the first {@code checkRows} at the main budget of architectures the table has with two seeds (whose noise it knows). */
    List<GroundTruth.Row> checkedRows() {
        return byArch().values().stream().filter(rs -> rs.size() >= 2).map(rs -> rs.get(0)).limit(preset.checkRows()).toList();
    }

    /** Retrains the checked rows here with their own seed and epochs, into check.jsonl. */
    void check() {
        Set<String> done = GroundTruth.done(GroundTruth.read(run.file("check.jsonl"), space));
        for (GroundTruth.Row r : checkedRows()) {
            if (done.contains(r.key())) continue;
            out.printf("check: retraining the table's %s, seed %d, %d epochs (the table: validation top-1 %.4f)%n", Architecture.format(r.arch()),
                    r.seed(), r.epochs(), r.valTop1());
            out.flush();
            GroundTruth.Row mine = GroundTruth.train(space, r.arch(), r.seed(), r.epochs(), Retrainer.Config.DEFAULT_BATCH, data, commit);
            GroundTruth.append(run.file("check.jsonl"), mine, space);
            out.printf("  here: validation top-1 %.4f (%.0f s)%n", mine.valTop1(), mine.trainSeconds());
        }
    }

    /**
     * The check in the report's words: each retrained row against the table's, and the rule: the
     * difference of two seeds' results has sd sqrt(2) times one seed's, so a difference within
     * 1.96 sqrt(2) sd is what a second seed would give.
     */
    String checkSection() {
        List<GroundTruth.Row> mine = GroundTruth.read(run.file("check.jsonl"), space);
        if (mine.isEmpty()) return "";
        double sd = RankStatistics.seedNoise(byArch().values().stream().map(rs -> rs.stream().mapToDouble(GroundTruth.Row::valTop1).toArray())
                .toArray(double[][]::new));
        double allowed = 1.96 * Math.sqrt(2) * sd;
        Map<String, GroundTruth.Row> theirs = new LinkedHashMap<>();
        groundTruth().forEach(r -> theirs.put(r.key(), r));
        StringBuilder md = new StringBuilder("## The table on this machine\n\n");
        md.append(String.format("%d of the table's rows retrained here with their own seed and epochs. One seed's validation top-1 varies with sd %.4f "
                + "in the table, so two results of one architecture differ by less than 1.96 x sqrt(2) x sd = %.4f in 95%% of seed pairs: the rule.%n%n",
                mine.size(), sd, allowed));
        md.append("| architecture | seed | epochs | validation top-1 in the table | here | difference | machine of the table, here |\n");
        md.append("| --- | --- | --- | --- | --- | --- | --- |\n");
        boolean all = true;
        for (GroundTruth.Row r : mine) {
            GroundTruth.Row t = theirs.get(r.key());
            if (t == null) continue;
            double d = r.valTop1() - t.valTop1();
            all &= Math.abs(d) <= allowed;
            md.append(String.format("| `%s` | %d | %d | %.4f | %.4f | %+.4f | %s; %s |%n", Architecture.format(r.arch()), r.seed(), r.epochs(), t.valTop1(),
                    r.valTop1(), d, t.machine(), r.machine()));
        }
        md.append(String.format("%n%s%n%n", all ? "Every difference is within the rule: this machine reproduces the table within its seed noise."
                : "A difference exceeds the rule: this machine does not reproduce the table within its seed noise; read its verdicts with that in mind."));
        return md.toString();
    }

    // ---- the predictors on the table's architectures -----------------------------------------

    /** The table's architectures, each once, in table order. */
    List<int[]> archs() {
        return byArch().values().stream().map(rs -> rs.get(0).arch()).toList();
    }

    static String kind(SupernetTrainer.Mode mode) {
        return mode == SupernetTrainer.Mode.BN ? "bn" : "spos";
    }

    /** The validation images SPOS's accuracy is measured on. */
    private Datasets.Splits sposSplits() {
        Dataset v = preset.sposValImages() > 0 && preset.sposValImages() < data.validation().count() ? data.validation().first(preset.sposValImages())
                : data.validation();
        return new Datasets.Splits(data.train(), v, data.test());
    }

    /**
     * Trains one supernet in its own directory (resuming), scoring the table's architectures with
     * its own predictor as it trains (BN-NAS every quarter epoch, SPOS every {@code sposScoreEvery}
     * epochs); when it has finished, its score files move into scores/.
     */
    void supernet(SupernetTrainer.Mode mode, long s) {
        String name = kind(mode) + "-seed" + s;
        if (Files.exists(scores.file(name + ".jsonl"))) {
            out.printf("%s supernet seed %d: done earlier%n", mode == SupernetTrainer.Mode.BN ? "BN-NAS" : "SPOS", s);
            return;
        }
        RunDir dir = new RunDir(run.file(name));
        boolean bn = mode == SupernetTrainer.Mode.BN;
        SupernetTrainer.Config cfg = SupernetTrainer.Config.defaults(mode, bn ? preset.bnEpochs() : preset.sposEpochs(), SupernetTrainer.Config.DEFAULT_BATCH, s);
        try (Supernet net = new Supernet(space, inC, new Rng(s));
             SupernetScoring scoring = new SupernetScoring(dir, net, cfg, archs(), bn ? 0.25 : preset.sposScoreEvery(), bn ? data : sposSplits(),
                     preset.calibrationBatches(), out)) {
            Stages.trainSupernet(dir, net, data, cfg, true, scoring, out);
        }
        if (bn) copyInto(dir.file(SupernetScoring.TABLE_FILE), "bn-table-seed" + s + ".jsonl");
        copyInto(dir.file(SupernetScoring.FILE), name + ".jsonl");
    }

    private void copyInto(Path from, String name) {
        try {
            RunDir.writeAtomically(scores.file(name), Files.readAllBytes(from));
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(from + ": cannot read (" + e.getMessage() + ")", e));
        }
    }

    /** The training-free predictors on the table's architectures at initialisation from the seed, into zero-cost.jsonl. */
    void trainingFree() {
        if (Files.exists(scores.file("zero-cost.jsonl"))) return;
        out.printf("training-free predictors: %s on %d architectures%n", TRAINING_FREE, archs().size());
        out.flush();
        StringBuilder lines = new StringBuilder();
        try (Scorers.Batch batch = Scorers.Batch.first(data.train(), PROXY_BATCH)) {
            Scorers.Setup setup = new Scorers.Setup(space, inC, size, seed, null, Scorers.fromSeed(space, inC, seed), data.train(), data.validation(),
                    preset.calibrationBatches(), Stages.EVAL_BATCH, batch);
            for (Predictor p : TRAINING_FREE) {
                try (Scorers.Scorer scorer = Scorers.create(p, setup)) {
                    for (int[] a : archs()) {
                        long start = System.nanoTime();
                        double score = scorer.score(a);
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("arch", Architecture.format(a));
                        m.put("evaluator", p.toString());
                        m.put("score", score);
                        m.put("seconds", (System.nanoTime() - start) / 1e9);
                        lines.append(RunDir.LINE.toJson(m)).append('\n');
                    }
                }
            }
        }
        RunDir.writeAtomically(scores.file("zero-cost.jsonl"), lines.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** The training-free predictor whose scores rank the table's architectures best (Kendall tau against the mean validation top-1). */
    Predictor bestTrainingFree() {
        Map<String, Double> truth = new LinkedHashMap<>();
        byArch().forEach((arch, rs) -> truth.put(arch, rs.stream().mapToDouble(GroundTruth.Row::valTop1).average().orElseThrow()));
        Map<String, Map<String, Double>> byPredictor = new LinkedHashMap<>();
        for (JsonObject o : scores.metricsFile("zero-cost.jsonl")) {
            byPredictor.computeIfAbsent(o.get("evaluator").getAsString(), k -> new LinkedHashMap<>()).put(o.get("arch").getAsString(), o.get("score").getAsDouble());
        }
        Predictor best = null;
        double bestTau = Double.NEGATIVE_INFINITY;
        for (Map.Entry<String, Map<String, Double>> e : byPredictor.entrySet()) {
            List<String> archs = e.getValue().keySet().stream().filter(truth::containsKey).toList();
            double[] sc = archs.stream().mapToDouble(e.getValue()::get).toArray();
            double[] tr = archs.stream().mapToDouble(truth::get).toArray();
            double tau = RankCorrelation.kendallTau(sc, tr);
            if (tau > bestTau) {
                bestTau = tau;
                best = Predictor.parse(e.getKey());
            }
        }
        return best;
    }

    // ---- search under the FLOPs limit and the winners' retraining ------------------------------

    /** One search of the comparison: its name in the report, its predictor and method, and the supernet it reads (null for none). */
    record Method(String name, Predictor predictor, SearchSettings.Method method, String supernet) {}

    List<Method> methods() {
        Predictor proxy = bestTrainingFree();
        return List.of(new Method("BN-NAS", Predictor.BN, SearchSettings.Method.EVOLUTION, "bn-seed" + seed),
                new Method("SPOS", Predictor.ACCURACY, SearchSettings.Method.EVOLUTION, "spos-seed" + seed),
                new Method(proxy.toString(), proxy, SearchSettings.Method.EVOLUTION, null),
                new Method("random", Predictor.RANDOM, SearchSettings.Method.RANDOM, null),
                new Method("largest under the limit", Predictor.FLOPS, SearchSettings.Method.EVOLUTION, null));
    }

    /** Each method's search under the space's FLOPs limit, each winner added to winners.json as it is found. */
    void search() {
        Map<String, String> winners = winners();
        for (Method m : methods()) {
            if (winners.containsKey(m.name())) continue;
            SearchSettings settings = new SearchSettings(m.predictor(), m.method(), space.flopsLimit, preset.calibrationBatches(), preset.population(),
                    preset.generations());
            RunDir dir = new RunDir(run.file("search-" + m.name().replaceAll("[^A-Za-z0-9]+", "-").toLowerCase()));
            dir.writeJson("config.json", settings.describe());
            boolean accuracy = m.predictor() == Predictor.ACCURACY;
            Datasets.Splits splits = accuracy ? sposSplits() : data;
            try (Supernet net = m.supernet() == null ? null : new Supernet(space, inC, new Rng(seed));
                 Scorers.Batch batch = m.predictor().needsBatch() ? Scorers.Batch.first(data.train(), PROXY_BATCH) : null) {
                if (net != null) Checkpoint.loadModel(run.file(m.supernet()).resolve(Stages.SUPERNET_FILE), net);
                Scorers.Setup setup = new Scorers.Setup(space, inC, size, seed, net, net != null ? Scorers.fromSupernet(net, inC) : Scorers.fromSeed(space, inC, seed),
                        splits.train(), splits.validation(), preset.calibrationBatches(), Stages.EVAL_BATCH, batch);
                out.printf("search for %s%n", m.name());
                try (Scorers.Scorer scorer = Scorers.create(m.predictor(), setup)) {
                    Stages.SearchOutcome found = Stages.search(dir, space, scorer, inC, size, settings, seed, out);
                    int[] winner = found.top().get(0).arch();
                    Architecture.write(dir.file("arch.json"), space, winner, inC, size);
                    winners.put(m.name(), Architecture.format(winner));
                    scores.writeJson("winners.json", winners);
                    out.printf("  winner %s (%.3fM FLOPs)%n", Architecture.format(winner), found.top().get(0).flops() / 1e6);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    Map<String, String> winners() {
        Path f = scores.file("winners.json");
        return Files.exists(f) ? RankingStudy.readWinners(f, space) : new LinkedHashMap<>();
    }

    /** Every winner retrained from scratch with {@code winnerSeeds} seeds at the table's budget (or the preset's epochs), into retrained.jsonl. */
    void retrainWinners() {
        int epochs = preset.winnerEpochs() > 0 ? preset.winnerEpochs() : budget();
        Path file = scores.file("retrained.jsonl");
        Set<String> done = GroundTruth.done(GroundTruth.read(file, space));
        Map<String, String> winners = winners();
        List<int[]> archs = winners.values().stream().distinct().map(a -> Architecture.parse(a, space)).toList();
        List<Long> seeds = new ArrayList<>();
        for (long s = seed; s < seed + preset.winnerSeeds(); s++) seeds.add(s);
        for (GroundTruth.Entry e : GroundTruth.given(archs, seeds)) {
            if (done.contains(GroundTruth.key(e, epochs))) continue;
            String methods = String.join(", ", winners.entrySet().stream().filter(w -> w.getValue().equals(Architecture.format(e.arch()))).map(Map.Entry::getKey).toList());
            out.printf("retrain %s's winner %s, seed %d, %d epochs%n", methods, Architecture.format(e.arch()), e.seed(), epochs);
            out.flush();
            GroundTruth.Row r = GroundTruth.train(space, e.arch(), e.seed(), epochs, Retrainer.Config.DEFAULT_BATCH, data, commit);
            GroundTruth.append(file, r, space);
            out.printf("  test top-1 %.4f%n", r.testTop1());
        }
    }

    // ---- the report --------------------------------------------------------------------------

    /** The study's report over this run's scores, with the check of the table; {@code command} is how the report says it was made. */
    public void writeReport(String command, int resamples) {
        // The verdicts' rules assume the paper's budgets, which only the default preset keeps.
        String preface = preset.equals(Preset.DEFAULT) ? "" : "**The " + preset.name() + " preset shortens every budget to check the setup: "
                + "its verdicts do not test the paper's claims; the default preset's do.**\n\n";
        new RankingStudy(space, groundTruth(), scores.dir, space.flopsLimit, resamples)
                .write(run.dir, command, preface, table == null ? "the ground truth the project ships (" + GroundTruth.shippedName(space, dataset) + ")"
                        : table.toString(), checkSection());
    }
}
