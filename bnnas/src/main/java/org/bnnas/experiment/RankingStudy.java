// RankingStudy: the ranking study's report: how each predictor ranks the ground truth's
// architectures (with intervals, against FLOPs, params, random and the noise ceiling), how the
// supernet predictors' ranking grows with training time, the speed of training and scoring, and
// a verdict on each of the paper's claims that follows from those numbers and says no more.
package org.bnnas.experiment;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.report.Plot;
import org.bnnas.report.RankCorrelation;
import org.bnnas.report.RankStatistics;
import org.bnnas.report.Reliability;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.train.SupernetTrainer;

/**
 * Reads the table and a directory of score files named as the study writes them: bn-seed{s}.jsonl
 * and spos-seed{s}.jsonl (a supernet's scores as it trains; a SPOS supernet's bn lines are the BN
 * indicator read from a fully trained supernet, the ablation), bn-all-seed{s}.jsonl (a BN-only
 * supernet with every BN trained), bn-paper-seed{s}.jsonl (a BN-NAS
 * supernet trained for the paper's number of updates per op), bn-table-seed{s}.jsonl (its gamma
 * table and loss), zero-cost.jsonl (bnnas score's lines), winners.json (each search method's
 * winner under the FLOPs limit: {"method": "arch"}) with retrained.jsonl (their retraining by
 * bnnas bench --arch, a table of the ground truth's form), spos-rescoring-{N}.jsonl and
 * spos-rescoring-{N}-c{B}.jsonl (bnnas score --evaluator accuracy lines of a few subnets, each
 * scored with several --seed, that is several calibration draws, on N validation images after 20
 * or B recalibration batches). Writes report.md and its plots. Every
 * verdict is computed by a rule stated beside it.
 */
public final class RankingStudy {
    /** A predictor's scores at one point of one run: arch -> score. */
    record Point(double epoch, double trainSeconds, Map<String, Double> scores, double secondsPerScore) {}

    /** One supernet run: its kind, seed and points in training order. */
    record Run(String kind, long seed, List<Point> points) {
        Point last() {
            return points.get(points.size() - 1);
        }

        /** The point at the method's own budget: BN-NAS's default epochs (a tenth of SPOS's, as in the paper) when the run reached them, else its last. */
        Point budget() {
            if (kind.equals("BN-NAS") || kind.equals(ALL_BNS)) {
                for (Point p : points) if (p.epoch() == SupernetTrainer.Config.DEFAULT_BN_EPOCHS) return p;
            }
            return last();
        }

        String name(Point p) {
            return kind + " seed " + seed + " (" + fmt(p.epoch()) + " epochs)";
        }
    }

    /** A BN-NAS run as long as the paper's in updates of each op's BN: shown beside the others, not part of the verdicts, which take BN-NAS at its own budget. */
    static final String PAPER_STEPS = "BN-NAS, the paper's updates per op";
    /** The ablation of BN-only training: the BN indicator read from a fully trained (SPOS) supernet, which the paper first observes it on. */
    static final String INDICATOR_FULL = "BN indicator, fully trained supernet";
    /** The ablation of the last-BN rule: a BN-only supernet with every BN trained. */
    static final String ALL_BNS = "BN-NAS, every BN trained";
    /** The margin of Kendall tau by which BN-only training may fall short of the fully trained supernet's indicator and still count as enough, chosen before any result. */
    static final double ENOUGH_MARGIN = 0.1;
    /** spos-rescoring-{N}.jsonl, or spos-rescoring-{N}-c{B}.jsonl for B recalibration batches instead of bnnas score's default. */
    static final Pattern RESCORING = Pattern.compile("spos-rescoring-(\\d+)(?:-c(\\d+))?\\.jsonl");
    /** bnnas score's recalibration batches when a re-scoring file's name gives none. */
    static final int DEFAULT_CALIBRATION_BATCHES = 20;

    private final SearchSpace space;
    private final List<String> archs = new ArrayList<>();
    private final double[] truth, flops, params;
    /** Each architecture's validation top-1, seed by seed in seed order, at the main budget. */
    private final double[][] seeds;
    private final int epochs, rowCount;
    private final List<Run> runs = new ArrayList<>();
    private final Map<String, Map<String, Double>> zeroCost = new LinkedHashMap<>();
    private final Map<String, Double> zeroCostSeconds = new LinkedHashMap<>();
    private final Map<Long, List<JsonObject>> tables = new TreeMap<>();
    private final Map<String, String> winners = new LinkedHashMap<>();
    private final List<GroundTruth.Row> retrained = new ArrayList<>();
    /** SPOS re-scorings: (validation images, recalibration batches) -> arch -> score per calibration draw. */
    private final Map<List<Integer>, Map<String, List<Double>>> rescoring = new TreeMap<>(Comparator.<List<Integer>>comparingInt(k -> k.get(0))
            .thenComparingInt(k -> k.get(1)));
    /** Rows at budgets other than the main one (the check of the choice of epochs): epochs -> arch -> validation top-1 of its seeds. */
    private final Map<Integer, Map<String, List<Double>>> otherBudgets = new TreeMap<>();
    /** The main budget's validation top-1 of each architecture, seed by seed. */
    private final Map<String, List<Double>> mainBySeed = new LinkedHashMap<>();
    private final double flopsLimit;
    private final int resamples;

    public RankingStudy(SearchSpace space, List<GroundTruth.Row> rows, Path scoresDir, double flopsLimit, int resamples) {
        this.space = space;
        this.flopsLimit = flopsLimit;
        this.resamples = resamples;
        Map<Integer, Integer> perBudget = new TreeMap<>();
        rows.forEach(r -> perBudget.merge(r.epochs(), 1, Integer::sum));
        if (perBudget.isEmpty()) throw new IllegalArgumentException("the ground truth has no rows");
        epochs = perBudget.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey(); // the main budget
        Map<String, List<GroundTruth.Row>> byArch = new LinkedHashMap<>();
        int count = 0;
        for (GroundTruth.Row r : rows) {
            if (r.epochs() != epochs) {
                otherBudgets.computeIfAbsent(r.epochs(), k -> new LinkedHashMap<>()).computeIfAbsent(Architecture.format(r.arch()), k -> new ArrayList<>()).add(r.valTop1());
                continue;
            }
            mainBySeed.computeIfAbsent(Architecture.format(r.arch()), k -> new ArrayList<>()).add(r.valTop1());
            byArch.computeIfAbsent(Architecture.format(r.arch()), k -> new ArrayList<>()).add(r);
            count++;
        }
        rowCount = count;
        archs.addAll(byArch.keySet());
        int n = archs.size();
        truth = new double[n];
        flops = new double[n];
        params = new double[n];
        seeds = new double[n][];
        for (int i = 0; i < n; i++) {
            List<GroundTruth.Row> rs = new ArrayList<>(byArch.get(archs.get(i)));
            rs.sort(Comparator.comparingLong(GroundTruth.Row::seed));
            seeds[i] = rs.stream().mapToDouble(GroundTruth.Row::valTop1).toArray();
            truth[i] = Arrays.stream(seeds[i]).average().orElseThrow();
            flops[i] = rs.get(0).flops();
            params[i] = rs.get(0).params();
        }
        if (scoresDir != null) readScores(scoresDir);
    }

    private void readScores(Path dir) {
        RunDir d = new RunDir(dir);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                String name = f.getFileName().toString();
                Matcher rescored = RESCORING.matcher(name);
                if (name.matches("bn-seed\\d+\\.jsonl")) runs.add(run("BN-NAS", evaluator(d.metricsFile(name), "bn")));
                else if (name.matches("spos-seed\\d+\\.jsonl")) {
                    List<JsonObject> lines = d.metricsFile(name);
                    runs.add(run("SPOS", evaluator(lines, "accuracy")));
                    if (!evaluator(lines, "bn").isEmpty()) runs.add(run(INDICATOR_FULL, evaluator(lines, "bn")));
                }
                else if (name.matches("bn-all-seed\\d+\\.jsonl")) runs.add(run(ALL_BNS, evaluator(d.metricsFile(name), "bn")));
                else if (name.matches("bn-paper-seed\\d+\\.jsonl")) runs.add(run(PAPER_STEPS, d.metricsFile(name)));
                else if (name.matches("bn-table-seed\\d+\\.jsonl")) tables.put(Long.parseLong(name.replaceAll("\\D", "")), d.metricsFile(name));
                else if (name.equals("winners.json")) winners.putAll(readWinners(f, space));
                else if (name.equals("retrained.jsonl")) retrained.addAll(GroundTruth.read(f, space));
                else if (rescored.matches()) {
                    List<Integer> key = List.of(Integer.parseInt(rescored.group(1)),
                            rescored.group(2) == null ? DEFAULT_CALIBRATION_BATCHES : Integer.parseInt(rescored.group(2)));
                    Map<String, List<Double>> byArch = rescoring.computeIfAbsent(key, k -> new LinkedHashMap<>());
                    for (JsonObject o : d.metricsFile(name)) byArch.computeIfAbsent(o.get("arch").getAsString(), k -> new ArrayList<>()).add(o.get("score").getAsDouble());
                }
                else if (name.equals("zero-cost.jsonl")) {
                    for (JsonObject o : d.metricsFile(name)) {
                        String p = o.get("evaluator").getAsString();
                        zeroCost.computeIfAbsent(p, k -> new LinkedHashMap<>()).put(o.get("arch").getAsString(), o.get("score").getAsDouble());
                        zeroCostSeconds.merge(p, o.get("seconds").getAsDouble(), Double::sum);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(dir + ": cannot list (" + e.getMessage() + ")", e));
        }
        zeroCostSeconds.replaceAll((p, total) -> total / zeroCost.get(p).size());
    }

    /** A winners.json: each search method's winning architecture, in the file's order. */
    static Map<String, String> readWinners(Path f, SearchSpace space) {
        Map<String, String> winners = new LinkedHashMap<>();
        try {
            JsonObject o = JsonParser.parseString(Files.readString(f)).getAsJsonObject();
            for (String method : o.keySet()) winners.put(method, Architecture.format(Architecture.parse(o.get(method).getAsString(), space)));
            return winners;
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(f + ": cannot read (" + e.getMessage() + ")", e));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(f + ": not an object of method names and architectures (" + e.getMessage() + ")");
        }
    }

    /** The lines of one evaluator (a file without an evaluator field counts as all of them). */
    private static List<JsonObject> evaluator(List<JsonObject> lines, String name) {
        return lines.stream().filter(o -> !o.has("evaluator") || o.get("evaluator").getAsString().equals(name)).toList();
    }

    private static Run run(String kind, List<JsonObject> lines) {
        TreeMap<Double, Point> points = new TreeMap<>();
        long seed = 0;
        Map<Double, double[]> time = new TreeMap<>();
        for (JsonObject o : lines) {
            double epoch = o.get("epoch").getAsDouble();
            seed = o.get("supernet_seed").getAsLong();
            Point p = points.computeIfAbsent(epoch, e -> new Point(e, o.get("train_seconds").getAsDouble(), new LinkedHashMap<>(), 0));
            p.scores().put(o.get("arch").getAsString(), o.get("score").getAsDouble());
            time.computeIfAbsent(epoch, e -> new double[2]);
            time.get(epoch)[0] += o.has("seconds") ? o.get("seconds").getAsDouble() : Double.NaN;
            time.get(epoch)[1]++;
        }
        List<Point> out = new ArrayList<>();
        for (Point p : points.values()) out.add(new Point(p.epoch(), p.trainSeconds(), p.scores(), time.get(p.epoch())[0] / time.get(p.epoch())[1]));
        return new Run(kind, seed, out);
    }

    /** The ground truth's values of the architectures a scoring covers, and the scores, aligned. */
    private double[][] aligned(Map<String, Double> scores) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < archs.size(); i++) if (scores.containsKey(archs.get(i))) idx.add(i);
        double[][] out = new double[3][idx.size()]; // score, truth, flops
        for (int k = 0; k < idx.size(); k++) {
            out[0][k] = scores.get(archs.get(idx.get(k)));
            out[1][k] = truth[idx.get(k)];
            out[2][k] = flops[idx.get(k)];
        }
        return out;
    }

    private Map<String, Double> asMap(double[] values) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < archs.size(); i++) m.put(archs.get(i), values[i]);
        return m;
    }

    /** The final scorings to compare, by name: the baselines, each supernet run's last point, the zero-cost proxies. */
    Map<String, Map<String, Double>> finalPredictors() {
        Map<String, Map<String, Double>> out = new LinkedHashMap<>();
        out.put("flops", asMap(flops));
        out.put("params", asMap(params));
        Rng rng = new Rng(0);
        double[] random = new double[archs.size()];
        for (int i = 0; i < random.length; i++) random[i] = rng.nextDouble();
        out.put("random", asMap(random));
        for (Run r : runs) {
            if (r.budget() != r.last()) out.put(r.name(r.budget()), r.budget().scores());
            out.put(r.name(r.last()), r.last().scores());
        }
        out.putAll(zeroCost);
        return out;
    }

    /** Writes report.md and the plots into {@code dir}. */
    public void write(Path dir, String command) {
        write(dir, command, "", null, "");
    }

    /**
     * As above, with {@code preface} (markdown, may be empty) before the ground truth's section,
     * naming the table ({@code tableName}, or null to leave it to the command) and with
     * {@code afterGroundTruth} (markdown, may be empty) added after the ground truth's section.
     */
    public void write(Path dir, String command, String preface, String tableName, String afterGroundTruth) {
        RunDir out = new RunDir(dir);
        Rng rng = new Rng(1);
        StringBuilder md = new StringBuilder("# The ranking study\n\n");
        md.append("Made by `").append(command).append("`.\n\n");
        md.append(preface);
        md.append("## The ground truth\n\n");
        if (tableName != null) md.append("The table: ").append(tableName).append(". ");
        md.append(String.format("%d architectures of `%s` trained from scratch for %d epochs (%d rows: %d architectures have a second seed). ",
                archs.size(), space.name, epochs, rowCount, rowCount - archs.size()));
        md.append(String.format("FLOPs from %.2fM to %.2fM. The truth of an architecture is the mean validation top-1 of its seeds. ",
                Arrays.stream(flops).min().orElse(0) / 1e6, Arrays.stream(flops).max().orElse(0) / 1e6));
        md.append("\n\n");
        Reliability reliability = reliability(md, rng);
        RankStatistics.Interval ceiling = reliability == null ? null : reliability.noiseCeiling();
        budgetCheck(md, rng);
        md.append(afterGroundTruth);

        md.append("## How each predictor ranks them\n\n");
        md.append("Kendall tau and Spearman rho with 95% bootstrap intervals over architectures; p: the one-sided permutation p-value of tau; ")
                .append("tau - tau(FLOPs): the paired bootstrap interval; near limit: tau among the architectures within 5% of the FLOPs limit ")
                .append(String.format("(%.2fM); partial: tau given FLOPs; regret: the truth of the best architecture minus that of the predictor's pick.%n%n",
                        flopsLimit / 1e6));
        md.append("| predictor | n | tau [95% CI] | rho [95% CI] | p | tau - tau(FLOPs) [95% CI] | near limit | partial | top-5 | regret |\n");
        md.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        Map<String, RankStatistics.Interval> finalTau = new LinkedHashMap<>(), versusFlops = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, Double>> e : finalPredictors().entrySet()) {
            double[][] a = aligned(e.getValue());
            if (a[0].length < 4) continue;
            RankStatistics.Interval tau = RankStatistics.tau(a[0], a[1], resamples, rng), rho = RankStatistics.rho(a[0], a[1], resamples, rng);
            RankStatistics.Interval diff = RankStatistics.tauDifference(a[0], a[2], a[1], resamples, rng);
            finalTau.put(e.getKey(), tau);
            versusFlops.put(e.getKey(), diff);
            List<Integer> near = new ArrayList<>();
            for (int k = 0; k < a[2].length; k++) if (flopsLimit > 0 && Math.abs(a[2][k] - flopsLimit) <= 0.05 * flopsLimit) near.add(k);
            double nearTau = near.size() >= 2 ? RankCorrelation.kendallTau(pick(a[0], near), pick(a[1], near)) : Double.NaN;
            md.append(String.format("| %s | %d | %s | %s | %.4f | %s | %s (n %d) | %s | %.2f | %.4f |%n", e.getKey(), a[0].length, tau, rho,
                    RankStatistics.permutationP(a[0], a[1], resamples, rng), diff, fmt3(nearTau), near.size(), fmt3(RankStatistics.partialTau(a[0], a[1], a[2])),
                    RankStatistics.topKPrecision(a[0], a[1], Math.min(5, a[0].length)), RankStatistics.regret(a[0], a[1])));
            write(Plot.scatter(e.getKey() + " against the ground truth", e.getKey(), "validation top-1 (" + epochs + " epochs)").add("architectures", a[0], a[1]),
                    out, "predictor-" + e.getKey().replaceAll("[^A-Za-z0-9_]+", "-") + ".png");
        }
        md.append('\n');

        tauAgainstTime(md, out, finalTau, ceiling);
        rescoringNoise(md);
        nullDistribution(md, out, finalTau);
        convergence(md, out);
        searchWinners(md);
        verdicts(md, finalTau, versusFlops, reliability);
        out.writeText("report.md", md.toString());
    }

    /**
     * Whether the truth carries signal, before any predictor is judged by it; null when no
     * architecture has two seeds, which leaves the seed noise unknown.
     */
    private Reliability reliability(StringBuilder md, Rng rng) {
        md.append("### Does the truth carry signal?\n\n");
        if (Arrays.stream(seeds).noneMatch(s -> s.length >= 2) || seeds.length < 3) {
            md.append("No architecture has two seeds yet: the seed noise, and with it the truth's reliability and the noise ceiling, is unknown.\n\n");
            return null;
        }
        Reliability r = Reliability.of(seeds, flops, resamples, rng);
        md.append("Before any predictor: ").append(r.verdict()).append(".\n\n");
        md.append("| statistic | estimate [95% CI] | what it measures |\n| --- | --- | --- |\n");
        md.append(String.format("| seed noise | sd %.4f | one seed's validation top-1 about its architecture's mean, pooled over the %d architectures "
                + "with two seeds or more |%n", r.seedNoise(), r.replicated()));
        if (r.replicated() >= 4) {
            md.append(String.format("| split-half tau | %s | how well one seed's order of those %d architectures agrees with the other seed's |%n",
                    r.splitHalfTau(), r.replicated()));
        }
        md.append(String.format("| true variance between architectures | %s (sd %.4f) | the variance of the architectures' means less what seed "
                + "noise alone gives them |%n", Reliability.variance(r.trueVariance()), r.trueSd()));
        md.append(String.format("| reliability of the truth | %s | the share of the variance of the architectures' means that lies between "
                + "architectures |%n", r.reliability()));
        md.append(String.format("| FLOPs' share of the true variance | %s | what a line in log FLOPs explains of it |%n",
                Double.isNaN(r.flopsShare().estimate()) ? "none to explain" : r.flopsShare().toString()));
        md.append(String.format("| noise ceiling | %s | the expected tau of a perfect predictor against this truth |%n%n", r.noiseCeiling()));
        md.append("The model: one seed's result is the architecture's true value plus independent seed noise; the noise variance is pooled "
                + "within the architectures with several seeds, and the true variance is estimated by the method of moments (negative when the "
                + "means spread no wider than noise alone would make them). The noise ceiling draws true values with the estimated variance "
                + "(a random order where it is not above 0) and adds seed noise at each architecture's number of seeds. Intervals: a bootstrap "
                + "over architectures, each with all its seeds; the ceiling's also holds one simulated truth's luck.\n\n");
        return r;
    }

    /**
     * The check behind the choice of epochs: on the architectures also trained longer, how well the main budget's order
     * agrees with the longer one, beside how well two seeds at the main budget agree with each other on the same ones.
     */
    private void budgetCheck(StringBuilder md, Rng rng) {
        for (Map.Entry<Integer, Map<String, List<Double>>> e : otherBudgets.entrySet()) {
            List<String> common = e.getValue().keySet().stream().filter(mainBySeed::containsKey).toList();
            if (common.size() < 4) continue;
            int k = common.size();
            double[] mainMean = new double[k], longer = new double[k];
            List<Integer> twoSeeds = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                List<Double> m = mainBySeed.get(common.get(i));
                mainMean[i] = m.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
                longer[i] = e.getValue().get(common.get(i)).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
                if (m.size() >= 2) twoSeeds.add(i);
            }
            RankStatistics.Interval agreement = RankStatistics.tau(mainMean, longer, resamples, rng);
            md.append(String.format("## Why %d epochs%n%n%d of the architectures were also trained for %d epochs. Their order at %d epochs (the truth above) "
                    + "agrees with the order at %d at Kendall tau %s; validation top-1 rises from a mean %.4f to %.4f.",
                    epochs, k, e.getKey(), epochs, e.getKey(), agreement, Arrays.stream(mainMean).average().orElseThrow(), Arrays.stream(longer).average().orElseThrow()));
            if (twoSeeds.size() >= 4) {
                double[] first = new double[twoSeeds.size()], second = new double[twoSeeds.size()];
                for (int j = 0; j < first.length; j++) {
                    first[j] = mainBySeed.get(common.get(twoSeeds.get(j))).get(0);
                    second[j] = mainBySeed.get(common.get(twoSeeds.get(j))).get(1);
                }
                md.append(String.format(" For scale: on %d of the same architectures, two seeds at %d epochs agree with each other at tau %s.",
                        first.length, epochs, RankStatistics.tau(first, second, resamples, rng)));
            }
            md.append(String.format(" With %d architectures these intervals are wide; they say whether the longer budget reorders the architectures "
                    + "more than a second seed does, not that the orders are equal.%n%n", k));
        }
    }

    private void tauAgainstTime(StringBuilder md, RunDir out, Map<String, RankStatistics.Interval> finalTau, RankStatistics.Interval ceiling) {
        if (runs.isEmpty()) return;
        md.append("## Ranking against training time\n\nEach method's Kendall tau as its supernets train: the mean over its supernet seeds, "
                + "the range over them shaded; FLOPs' and params' tau, and the noise ceiling with 95% of its simulated values shaded.\n\n"
                + "![tau against training time](tau-vs-training-time.png)\n\n");
        Plot p = Plot.lines("Kendall tau against the ground truth as the supernets train", "training time (s)", "Kendall tau");
        double maxTime = 0;
        // One line per kind of run, the mean over its seeds point by point, and the range over the seeds as a band.
        Map<String, List<Run>> byKind = new LinkedHashMap<>();
        for (Run r : runs) byKind.computeIfAbsent(r.kind(), k -> new ArrayList<>()).add(r);
        int colour = 0;
        for (Map.Entry<String, List<Run>> e : byKind.entrySet()) {
            int points = e.getValue().stream().mapToInt(r -> r.points().size()).min().orElse(0);
            double[] x = new double[points], mean = new double[points], lo = new double[points], hi = new double[points];
            for (int i = 0; i < points; i++) {
                lo[i] = Double.POSITIVE_INFINITY;
                hi[i] = Double.NEGATIVE_INFINITY;
                for (Run r : e.getValue()) {
                    Point pt = r.points().get(i);
                    double[][] a = aligned(pt.scores());
                    double t = a[0].length >= 2 ? RankCorrelation.kendallTau(a[0], a[1]) : Double.NaN;
                    x[i] += pt.trainSeconds() / e.getValue().size();
                    mean[i] += t / e.getValue().size();
                    lo[i] = Math.min(lo[i], t);
                    hi[i] = Math.max(hi[i], t);
                }
                maxTime = Math.max(maxTime, x[i]);
            }
            int seeds = e.getValue().size();
            p.add(e.getKey() + (seeds > 1 ? ", mean of " + seeds + " seeds" : ", seed " + e.getValue().get(0).seed()), x, mean);
            if (seeds > 1) p.addBand(e.getKey() + ", range over the seeds", colour, x, lo, hi);
            colour++;
        }
        double[] span = {0, maxTime};
        for (String base : List.of("flops", "params")) {
            double t = finalTau.containsKey(base) ? finalTau.get(base).estimate() : Double.NaN;
            p.add(base, span, new double[] {t, t});
            colour++;
        }
        if (ceiling != null) {
            p.add("noise ceiling", span, new double[] {ceiling.estimate(), ceiling.estimate()});
            p.addBand("noise ceiling, 95% of simulated truths", colour, span, new double[] {ceiling.lo(), ceiling.lo()}, new double[] {ceiling.hi(), ceiling.hi()});
        }
        write(p, out, "tau-vs-training-time.png");
    }

    /**
     * Whether SPOS's scores are precise enough to rank: the sd of re-scoring one subnet with another
     * calibration draw, against the typical gap between neighbouring subnets in the last SPOS scoring.
     */
    private void rescoringNoise(StringBuilder md) {
        List<Run> spos = runs.stream().filter(r -> r.kind().equals("SPOS")).toList();
        if (rescoring.isEmpty() || spos.isEmpty()) return;
        double[] last = spos.get(0).last().scores().values().stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double[] gaps = new double[last.length - 1];
        for (int i = 0; i + 1 < last.length; i++) gaps[i] = last[i + 1] - last[i];
        Arrays.sort(gaps);
        double gap = gaps.length == 0 ? Double.NaN : gaps[gaps.length / 2];
        md.append(String.format("## How precisely SPOS scores a subnet%n%nSPOS's score is the validation top-1 after recalibrating BN on a few training "
                + "batches. Re-scoring a subnet with another bnnas score --seed draws other recalibration batches and another validation split (the "
                + "split follows --seed), and changes the score; the binomial sd of a top-1 measured on N images, sqrt(p (1 - p) / N) at the "
                + "re-scored subnets' mean p, is what the validation sample alone would give. The %d architectures' last SPOS "
                + "scores (seed %d, %s epochs) lie a median %.4f apart from their neighbours in rank, and %.4f from the lowest to the highest.%n%n",
                last.length, spos.get(0).seed(), fmt(spos.get(0).last().epoch()), gap, last[last.length - 1] - last[0]));
        md.append("| validation images | recalibration batches | subnets x draws | sd of one re-scoring | binomial sd | against the median neighbour gap |\n"
                + "| --- | --- | --- | --- | --- | --- |\n");
        for (Map.Entry<List<Integer>, Map<String, List<Double>>> e : rescoring.entrySet()) {
            double[][] perArch = e.getValue().values().stream().map(v -> v.stream().mapToDouble(Double::doubleValue).toArray()).toArray(double[][]::new);
            double sd = RankStatistics.seedNoise(perArch);
            int draws = perArch.length == 0 ? 0 : perArch[0].length;
            double p = Arrays.stream(perArch).flatMapToDouble(Arrays::stream).average().orElse(Double.NaN);
            double binomial = Math.sqrt(p * (1 - p) / e.getKey().get(0));
            md.append(String.format("| %d | %d | %d x %d | %.4f | %.4f | %s |%n", e.getKey().get(0), e.getKey().get(1), perArch.length, draws, sd, binomial,
                    sd < gap ? String.format("smaller (%.1fx)", gap / sd) : String.format("not smaller (%.1fx the gap)", sd / gap)));
        }
        md.append('\n');
    }

    /** Tau of random scores against this truth, by simulation, beside the observed values. */
    private void nullDistribution(StringBuilder md, RunDir out, Map<String, RankStatistics.Interval> finalTau) {
        int n = archs.size(), bins = 40;
        double[] counts = new double[bins], centres = new double[bins];
        Rng rng = new Rng(2);
        double[] random = new double[n];
        double[] sims = new double[resamples];
        for (int s = 0; s < resamples; s++) {
            for (int i = 0; i < n; i++) random[i] = rng.nextDouble();
            double t = RankCorrelation.kendallTau(random, truth);
            sims[s] = t;
            counts[Math.min(bins - 1, (int) ((t + 1) / 2 * bins))]++;
        }
        Arrays.sort(sims);
        double q975 = sims[(int) (0.975 * (resamples - 1))];
        for (int b = 0; b < bins; b++) {
            centres[b] = -1 + (b + 0.5) * 2.0 / bins;
            counts[b] /= resamples;
        }
        Plot p = Plot.lines("Kendall tau of random scores at K = " + n + ", and the predictors'", "Kendall tau", "share of random scorings");
        p.add("random scores (" + resamples + " draws)", centres, counts);
        for (Map.Entry<String, RankStatistics.Interval> e : finalTau.entrySet()) {
            p.add(e.getKey(), new double[] {e.getValue().estimate(), e.getValue().estimate()}, new double[] {0, Arrays.stream(counts).max().orElse(0)});
        }
        write(p, out, "tau-null-distribution.png");
        md.append(String.format("## What chance gives at this K\n\nWith %d architectures, random scores reach tau %.3f or more in 2.5%% of draws. ",
                n, q975));
        md.append("![null distribution](tau-null-distribution.png)\n\n");
    }

    /** The BN-only supernets' training loss with ln 10 beside it, and the mean |gamma| of a few ops, seed by seed. */
    private void convergence(StringBuilder md, RunDir out) {
        if (tables.isEmpty()) return;
        Plot loss = Plot.lines("BN-only supernet: training loss", "epochs", "loss (label smoothing 0.1)");
        double maxEpoch = 0;
        for (Map.Entry<Long, List<JsonObject>> e : tables.entrySet()) {
            List<JsonObject> lines = e.getValue();
            double[] x = new double[lines.size()], y = new double[lines.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = lines.get(i).get("epoch").getAsDouble();
                y[i] = lines.get(i).has("loss") ? lines.get(i).get("loss").getAsDouble() : Double.NaN;
                maxEpoch = Math.max(maxEpoch, x[i]);
            }
            loss.add("seed " + e.getKey(), x, y);
        }
        loss.add("ln 10 (a uniform prediction)", new double[] {0, maxEpoch}, new double[] {Math.log(10), Math.log(10)});
        write(loss, out, "bn-only-loss.png");
        List<JsonObject> first = tables.values().iterator().next();
        Plot gammas = Plot.lines("BN-only supernet: mean |gamma| of the first choice layer's ops", "epochs", "mean |gamma| of the op's last BN");
        int layer = space.layers.stream().filter(l -> !l.fixedIdentity()).findFirst().orElseThrow().index();
        for (int o = 0; o < space.ops.size(); o++) {
            double[] x = new double[first.size()], y = new double[first.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = first.get(i).get("epoch").getAsDouble();
                JsonArray row = first.get(i).getAsJsonArray("table").get(layer).getAsJsonArray();
                JsonElement v = row.get(o);
                y[i] = v.getAsDouble();
            }
            gammas.add(space.ops.get(o).name(), x, y);
        }
        write(gammas, out, "bn-only-gammas.png");
        StringBuilder losses = new StringBuilder();
        for (Map.Entry<Long, List<JsonObject>> e : tables.entrySet()) {
            List<JsonObject> lines = e.getValue();
            JsonObject last = lines.get(lines.size() - 1);
            if (!last.has("loss")) continue;
            losses.append(losses.length() == 0 ? "" : ", ").append(String.format("%.3f (seed %d, epoch %s)", last.get("loss").getAsDouble(), e.getKey(),
                    fmt(last.get("epoch").getAsDouble())));
        }
        md.append("## Why BN-only training is fast\n\nOnly gamma and beta of each op's last BN train; every weight stays at its random start, so a step ")
                .append("computes no weight gradient and updates a few hundred numbers. The supernet sees a random path per batch; its mean training loss ")
                .append(String.format("at the last point was %s, against ln 10 = %.3f for a uniform guess (with label smoothing, whatever the target). ",
                        losses.length() == 0 ? "not recorded" : losses, Math.log(10)))
                .append("What BN-NAS reads is each op's mean |gamma|, plotted below for the first choice layer.\n\n")
                .append("![loss](bn-only-loss.png)\n\n![gammas](bn-only-gammas.png)\n\n");
    }

    private void verdicts(StringBuilder md, Map<String, RankStatistics.Interval> finalTau, Map<String, RankStatistics.Interval> versusFlops,
                          Reliability reliability) {
        md.append("## The paper's claims\n\n| claim | measured | verdict |\n| --- | --- | --- |\n");
        List<Run> bn = runs.stream().filter(r -> r.kind().equals("BN-NAS")).toList(), spos = runs.stream().filter(r -> r.kind().equals("SPOS")).toList();
        if (!bn.isEmpty() && !spos.isEmpty()) {
            double bnTime = bn.stream().mapToDouble(r -> r.budget().trainSeconds()).average().orElseThrow();
            double sposTime = spos.stream().mapToDouble(r -> r.budget().trainSeconds()).average().orElseThrow();
            double bnEpochs = bn.get(0).budget().epoch(), sposEpochs = spos.get(0).budget().epoch();
            double ratio = sposTime / bnTime, epochRatio = sposEpochs / bnEpochs;
            md.append(String.format("| supernet training over 10x faster | SPOS %.0f s (%s epochs) / BN-NAS %.0f s (%s epochs) = %.1fx: %.1fx fewer epochs "
                    + "x %.2fx cheaper epoch | %s (rule: at least 10x; the epochs are the method's choice, whether they cost ranking is below) |%n",
                    sposTime, fmt(sposEpochs), bnTime, fmt(bnEpochs), ratio, epochRatio, ratio / epochRatio, ratio >= 10 ? "supported" : "not supported"));
            double sposEval = spos.stream().mapToDouble(r -> r.last().secondsPerScore()).average().orElseThrow();
            double bnEval = bn.stream().mapToDouble(r -> r.last().secondsPerScore()).average().orElseThrow();
            md.append(String.format("| subnet evaluation over 600,000x faster | SPOS %.3g s per subnet / BN-NAS %.3g s (a look-up, timed with the clock "
                    + "around it, so an upper bound) = %.3gx or more | %s (rule: at least 600,000x) |%n", sposEval, bnEval, sposEval / bnEval,
                    sposEval / bnEval >= 600_000 ? "supported" : "not supported"));
        } else {
            md.append("| supernet training over 10x faster | no BN-NAS and SPOS runs yet | not measured |\n");
            md.append("| subnet evaluation over 600,000x faster | no BN-NAS and SPOS runs yet | not measured |\n");
        }
        noLossOfAccuracy(md);
        boolean noSignal = reliability == null || reliability.signal() == Reliability.Signal.NONE;
        beyondFlops(md, "early ranking from BN-only training (beyond what FLOPs tells)", bn, finalTau, versusFlops, noSignal);
        List<Run> full = runs.stream().filter(r -> r.kind().equals(INDICATOR_FULL)).toList();
        String indicator = beyondFlops(md, "of which: the BN indicator ranks, read from a fully trained (SPOS) supernet (beyond what FLOPs tells)", full,
                finalTau, versusFlops, noSignal);
        enough(md, bn, full, noSignal, indicator);
        md.append('\n');
    }

    /**
     * A claim that a kind of run ranks beyond FLOPs, by the rule: not testable where the truth
     * carries no measurable signal; else supported if every seed's interval of tau minus FLOPs'
     * lies above 0, not supported if every one lies below, inconclusive otherwise. Returns the
     * verdict, or null when there is no such run.
     */
    private static String beyondFlops(StringBuilder md, String claim, List<Run> runs, Map<String, RankStatistics.Interval> finalTau,
                                      Map<String, RankStatistics.Interval> versusFlops, boolean noSignal) {
        if (runs.isEmpty()) {
            md.append("| ").append(claim).append(" | no such supernet scored | not measured |\n");
            return null;
        }
        StringBuilder measured = new StringBuilder();
        int above = 0, below = 0;
        for (Run r : runs) {
            String name = r.name(r.budget());
            RankStatistics.Interval d = versusFlops.get(name);
            if (d == null) continue;
            if (measured.length() > 0) measured.append("; ");
            measured.append(String.format("seed %d at %s epochs: tau %.3f, minus FLOPs' %s", r.seed(), fmt(r.budget().epoch()), finalTau.get(name).estimate(), d));
            if (d.lo() > 0) above++;
            if (d.hi() < 0) below++;
        }
        String verdict = noSignal ? "not testable on this truth" : above == runs.size() ? "supported" : below == runs.size() ? "not supported" : "inconclusive";
        md.append(String.format("| %s | %s | %s (rule: not testable where the truth carries no measurable signal; else supported if every seed's "
                + "interval of tau minus FLOPs' tau lies above 0, not supported if every one lies below, inconclusive otherwise) |%n", claim, measured, verdict));
        return verdict;
    }

    /**
     * Whether BN-only training is enough for the indicator: each BN-only seed's tau minus each
     * fully trained supernet's indicator tau (paired over architectures), against the margin.
     */
    private void enough(StringBuilder md, List<Run> bnOnly, List<Run> full, boolean noSignal, String indicator) {
        String claim = "of which: BN-only training is enough for the indicator (its tau within " + ENOUGH_MARGIN + " of a fully trained supernet's)";
        if (bnOnly.isEmpty() || full.isEmpty()) {
            md.append("| ").append(claim).append(" | needs BN-only and fully trained supernets scored by the indicator | not measured |\n");
            return;
        }
        StringBuilder measured = new StringBuilder();
        int above = 0, below = 0, pairs = 0;
        Rng rng = new Rng(5);
        for (Run b : bnOnly) {
            for (Run f : full) {
                Map<String, Double> bs = b.budget().scores(), fs = f.last().scores();
                List<Integer> idx = new ArrayList<>();
                for (int i = 0; i < archs.size(); i++) if (bs.containsKey(archs.get(i)) && fs.containsKey(archs.get(i))) idx.add(i);
                if (idx.size() < 4) continue;
                double[] x = new double[idx.size()], y = new double[idx.size()], t = new double[idx.size()];
                for (int k = 0; k < x.length; k++) {
                    x[k] = bs.get(archs.get(idx.get(k)));
                    y[k] = fs.get(archs.get(idx.get(k)));
                    t[k] = truth[idx.get(k)];
                }
                RankStatistics.Interval d = RankStatistics.tauDifference(x, y, t, resamples, rng);
                if (measured.length() > 0) measured.append("; ");
                measured.append(String.format("BN-only seed %d minus fully trained seed %d: %s", b.seed(), f.seed(), d));
                pairs++;
                if (d.lo() > -ENOUGH_MARGIN) above++;
                if (d.hi() < -ENOUGH_MARGIN) below++;
            }
        }
        String verdict = noSignal ? "not testable on this truth" : !"supported".equals(indicator) ? "not testable: the indicator is not shown to rank on a "
                + "fully trained supernet" : above == pairs ? "supported" : below == pairs ? "not supported" : "inconclusive";
        md.append(String.format("| %s | %s | %s (rule: testable once the indicator ranks on a fully trained supernet; then supported if every "
                + "paired interval of BN-only's tau minus the fully trained indicator's lies above -%s, not supported if every one lies below, "
                + "inconclusive otherwise; the margin was set before any result) |%n", claim, measured, verdict, ENOUGH_MARGIN, ENOUGH_MARGIN));
    }

    /** Each winner's retrained test top-1 over its seeds, at the retraining's main budget; empty for a winner not retrained. */
    private Map<String, double[]> winnerResults() {
        Map<Integer, Integer> perBudget = new TreeMap<>();
        retrained.forEach(r -> perBudget.merge(r.epochs(), 1, Integer::sum));
        Map<String, double[]> out = new LinkedHashMap<>();
        if (perBudget.isEmpty()) return out;
        int budget = perBudget.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        for (Map.Entry<String, String> w : winners.entrySet()) {
            out.put(w.getKey(), retrained.stream().filter(r -> r.epochs() == budget && Architecture.format(r.arch()).equals(w.getValue()))
                    .mapToDouble(GroundTruth.Row::testTop1).toArray());
        }
        return out;
    }

    private void searchWinners(StringBuilder md) {
        Map<String, double[]> results = winnerResults();
        if (results.isEmpty()) return;
        int budget = retrained.stream().mapToInt(GroundTruth.Row::epochs).max().orElseThrow();
        md.append(String.format("## Search under the FLOPs limit (%.2fM)%n%nEach method's winner, retrained from scratch for %d epochs with several seeds; "
                + "test top-1 as mean +- sd over the seeds, and each mean minus BN-NAS's with its 95%% Welch interval.%n%n", flopsLimit / 1e6, budget));
        md.append("| method | architecture | FLOPs | seeds | test top-1 | minus BN-NAS [95% CI] |\n| --- | --- | --- | --- | --- | --- |\n");
        double[] bn = results.getOrDefault("BN-NAS", new double[0]);
        for (Map.Entry<String, double[]> e : results.entrySet()) {
            double[] v = e.getValue();
            int[] arch = Architecture.parse(winners.get(e.getKey()), space);
            String flopsText = retrained.stream().filter(r -> Arrays.equals(r.arch(), arch)).findFirst().map(r -> String.format("%.3fM", r.flops() / 1e6))
                    .orElse("");
            String diff = e.getKey().equals("BN-NAS") || bn.length < 2 || v.length < 2 ? "" : RankStatistics.meanDifference(v, bn).toString();
            md.append(String.format("| %s | %s | %s | %d | %s | %s |%n", e.getKey(), GroundTruth.ops(space, arch), flopsText, v.length, meanSd(v), diff));
        }
        md.append('\n');
    }

    /** The rule: BN-NAS's winner loses no accuracy if the interval of its mean minus SPOS's lies above -0.5 points (a margin chosen before any winner was retrained). */
    static final double NO_LOSS_MARGIN = 0.005;

    private void noLossOfAccuracy(StringBuilder md) {
        Map<String, double[]> results = winnerResults();
        double[] bn = results.getOrDefault("BN-NAS", new double[0]), spos = results.getOrDefault("SPOS", new double[0]);
        if (bn.length < 2 || spos.length < 2) {
            md.append("| no loss of accuracy | BN-NAS's and SPOS's winners are not both retrained with two or more seeds | not measured |\n");
            return;
        }
        RankStatistics.Interval d = RankStatistics.meanDifference(bn, spos);
        String verdict = d.lo() > -NO_LOSS_MARGIN ? "supported" : d.hi() < -NO_LOSS_MARGIN ? "not supported" : "inconclusive";
        md.append(String.format("| no loss of accuracy | winners retrained: BN-NAS %s (%d seeds), SPOS %s (%d seeds); BN-NAS minus SPOS %s | %s (rule: "
                + "supported if the interval lies above -%.1f points, not supported if it lies below, inconclusive otherwise) |%n", meanSd(bn), bn.length,
                meanSd(spos), spos.length, d, verdict, NO_LOSS_MARGIN * 100));
    }

    private static String meanSd(double[] v) {
        if (v.length == 0) return "not retrained";
        double m = Arrays.stream(v).average().orElseThrow();
        double sd = v.length < 2 ? Double.NaN : Math.sqrt(Arrays.stream(v).map(x -> (x - m) * (x - m)).sum() / (v.length - 1));
        return v.length < 2 ? String.format("%.4f", m) : String.format("%.4f +- %.4f", m, sd);
    }

    private static double[] pick(double[] v, List<Integer> idx) {
        double[] out = new double[idx.size()];
        for (int k = 0; k < out.length; k++) out[k] = v[idx.get(k)];
        return out;
    }

    /** An epoch count as a label: at most two decimals (a quarter epoch of 391 batches is 0.2506), no trailing zeros. */
    public static String fmt(double epochs) {
        return new java.math.BigDecimal(Double.toString(epochs)).setScale(2, java.math.RoundingMode.HALF_EVEN).stripTrailingZeros().toPlainString();
    }

    private static String fmt3(double v) {
        return Double.isNaN(v) ? "n/a" : String.format("%.3f", v);
    }

    private static void write(Plot p, RunDir run, String name) {
        try {
            p.write(run.file(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
