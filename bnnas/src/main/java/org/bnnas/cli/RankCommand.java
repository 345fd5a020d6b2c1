// RankCommand: `bnnas rank`: how well each predictor ranks the architectures of a ground-truth
// table, with bootstrap intervals, a permutation p-value, the difference from FLOPs, agreement at
// equal FLOPs and given FLOPs, top-k precision and the regret of the best pick; first, whether the
// truth itself carries signal: split-half tau, reliability, FLOPs' share and the noise ceiling.
package org.bnnas.cli;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.experiment.GroundTruth;
import org.bnnas.experiment.SupernetScoring;
import org.bnnas.report.RankStatistics;
import org.bnnas.report.Reliability;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "rank", mixinStandardHelpOptions = true,
        description = {"Rank correlation of each predictor with a ground-truth table (the mean validation top-1 of each architecture's seeds),",
                "with 95%% bootstrap intervals over architectures. flops, params and random come from the table; other predictors from",
                "--scores files (bnnas score's scores.jsonl)."})
final class RankCommand implements Callable<Integer> {
    @Option(names = "--space", paramLabel = "NAME|FILE", description = "The table's search space (default: ${DEFAULT-VALUE}).")
    String space = "bnnas-small";

    @Option(names = "--ground-truth", required = true, paramLabel = "FILE", description = "The table bnnas bench writes.")
    Path groundTruth;

    @Option(names = "--scores", split = ",", paramLabel = "FILE", description = "Score files (JSON lines with arch, evaluator, score), comma-separated; "
            + "a supernet's (train-supernet --score-archs) are named evaluator/s<seed>@<epochs>, the BN indicator of a fully trained supernet "
            + "bn(full)/s<seed>@<epochs>, of one with every BN trained bn(all-bns)/s<seed>@<epochs>.")
    List<Path> scores = new ArrayList<>();

    @Option(names = "--epochs", paramLabel = "N", description = "The rows to use when the table holds several epoch budgets.")
    Integer epochs;

    @Option(names = "--epochs-as-predictor", paramLabel = "N", description = "Also rank the table's own results at N epochs against the truth "
            + "(the check that a shorter training budget orders the architectures as a longer one does).")
    Integer epochsAsPredictor;

    @Option(names = "--flops-limit", paramLabel = "FLOPS", description = "The equal-FLOPs bin: architectures within 5%% of this (default: the space's).")
    String flopsLimit;

    @Option(names = "--resamples", paramLabel = "N", description = "Bootstrap resamples, permutations and simulations (default: ${DEFAULT-VALUE}).")
    int resamples = 2000;

    @Option(names = "--top-k", paramLabel = "K", description = "k of the top-k precision (default: ${DEFAULT-VALUE}).")
    int topK = 5;

    @Option(names = "--seed", description = "Seed of the resampling and of the random baseline (default: ${DEFAULT-VALUE}).")
    long seed = 0;

    @Option(names = "--json", description = "One JSON object per predictor instead of a table.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        SearchSpace s;
        try {
            s = SearchSpace.load(space);
        } catch (IllegalArgumentException e) {
            throw new CliException("--space " + e.getMessage());
        }
        if (resamples < 100) throw new CliException("--resamples must be at least 100, got " + resamples);
        if (topK < 1) throw new CliException("--top-k must be at least 1, got " + topK);
        List<GroundTruth.Row> rows;
        try {
            rows = GroundTruth.read(groundTruth, s);
        } catch (IllegalArgumentException e) {
            throw new CliException("--ground-truth " + e.getMessage());
        }
        TreeSet<Integer> budgets = new TreeSet<>();
        rows.forEach(r -> budgets.add(r.epochs()));
        if (budgets.isEmpty()) throw new CliException("--ground-truth " + groundTruth + ": no rows");
        if (epochs == null && budgets.size() > 1) throw new CliException("--ground-truth " + groundTruth + " holds rows of " + budgets + " epochs: choose with --epochs");
        int budget = epochs != null ? epochs : budgets.first();
        Map<String, List<GroundTruth.Row>> byArch = new LinkedHashMap<>();
        for (GroundTruth.Row r : rows) if (r.epochs() == budget) byArch.computeIfAbsent(Architecture.format(r.arch()), k -> new ArrayList<>()).add(r);
        if (byArch.size() < 4) throw new CliException("--ground-truth " + groundTruth + ": " + byArch.size() + " architectures at " + budget + " epochs, too few to rank");
        List<String> archs = new ArrayList<>(byArch.keySet());
        int n = archs.size();
        double[] truth = new double[n], flops = new double[n], params = new double[n];
        double[][] perArch = new double[n][];
        for (int i = 0; i < n; i++) {
            List<GroundTruth.Row> rs = new ArrayList<>(byArch.get(archs.get(i)));
            rs.sort(java.util.Comparator.comparingLong(GroundTruth.Row::seed)); // split-half pairs each architecture's first two seeds
            perArch[i] = rs.stream().mapToDouble(GroundTruth.Row::valTop1).toArray();
            truth[i] = java.util.Arrays.stream(perArch[i]).average().orElseThrow();
            flops[i] = rs.get(0).flops();
            params[i] = rs.get(0).params();
        }
        double seedSd = RankStatistics.seedNoise(perArch);
        double limit = flopsLimit == null ? s.flopsLimit : SearchCommand.SearchOptions.parseFlops(flopsLimit, "--flops-limit");

        Map<String, Map<String, Double>> predictors = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            predictors.computeIfAbsent("flops", k -> new LinkedHashMap<>()).put(archs.get(i), flops[i]);
            predictors.computeIfAbsent("params", k -> new LinkedHashMap<>()).put(archs.get(i), params[i]);
            predictors.computeIfAbsent("random", k -> new LinkedHashMap<>()).put(archs.get(i), new Rng(seed ^ archs.get(i).hashCode()).nextDouble());
        }
        if (epochsAsPredictor != null) {
            Map<String, double[]> sums = new LinkedHashMap<>();
            for (GroundTruth.Row r : rows) {
                if (r.epochs() != epochsAsPredictor) continue;
                double[] acc = sums.computeIfAbsent(Architecture.format(r.arch()), k -> new double[2]);
                acc[0] += r.valTop1();
                acc[1]++;
            }
            if (sums.isEmpty()) throw new CliException("--epochs-as-predictor " + epochsAsPredictor + ": the table has no rows of " + epochsAsPredictor + " epochs");
            Map<String, Double> shorter = new LinkedHashMap<>();
            sums.forEach((arch, acc) -> shorter.put(arch, acc[0] / acc[1]));
            predictors.put("top1@" + epochsAsPredictor, shorter);
        }
        for (Path f : scores) readScores(f, s, predictors);

        PrintWriter out = spec.commandLine().getOut();
        if (!json) {
            out.printf("%d architectures at %d epochs from %s; the truth is the mean validation top-1 of each one's seeds%n", n, budget, groundTruth);
            if (Double.isNaN(seedSd)) out.println("seed noise: unknown (no architecture has two seeds): no reliability, no noise ceiling");
            else out.println("the truth itself, before any predictor:");
        }
        Rng rng = new Rng(seed);
        if (!Double.isNaN(seedSd)) {
            Reliability rel = Reliability.of(perArch, flops, resamples, rng);
            if (json) out.println(reliabilityJson(rel));
            else rel.lines().forEach(l -> out.println("  " + l));
        }
        int nameWidth = Math.max(10, predictors.keySet().stream().mapToInt(String::length).max().orElse(0));
        String nameColumn = "%-" + nameWidth + "s";
        if (!json) {
            out.printf(nameColumn + " %4s  %-24s %-24s %7s  %-25s %-16s %8s %6s %7s%n", "predictor", "n", "Kendall tau [95% CI]", "Spearman rho [95% CI]", "p",
                    "tau - tau(FLOPs) [95% CI]", "tau near limit", "partial", "top-" + topK, "regret");
        }
        for (Map.Entry<String, Map<String, Double>> e : predictors.entrySet()) {
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < n; i++) if (e.getValue().containsKey(archs.get(i))) idx.add(i);
            if (idx.size() < 4) continue;
            double[] sc = pick(e.getValue(), archs, idx), tr = pick(truth, idx), fl = pick(flops, idx);
            RankStatistics.Interval tau = RankStatistics.tau(sc, tr, resamples, rng), rho = RankStatistics.rho(sc, tr, resamples, rng);
            double p = RankStatistics.permutationP(sc, tr, resamples, rng);
            RankStatistics.Interval diff = RankStatistics.tauDifference(sc, fl, tr, resamples, rng);
            List<Integer> near = new ArrayList<>();
            for (int k = 0; k < idx.size(); k++) if (limit > 0 && Math.abs(fl[k] - limit) <= 0.05 * limit) near.add(k);
            double nearTau = near.size() >= 2 ? org.bnnas.report.RankCorrelation.kendallTau(pick(sc, near), pick(tr, near)) : Double.NaN;
            double partial = RankStatistics.partialTau(sc, tr, fl);
            int k = Math.min(topK, idx.size());
            double top = RankStatistics.topKPrecision(sc, tr, k), regret = RankStatistics.regret(sc, tr);
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("predictor", e.getKey());
                m.put("n", idx.size());
                m.put("tau", tau.estimate());
                m.put("tau_lo", tau.lo());
                m.put("tau_hi", tau.hi());
                m.put("rho", rho.estimate());
                m.put("rho_lo", rho.lo());
                m.put("rho_hi", rho.hi());
                m.put("p", p);
                m.put("tau_minus_flops", diff.estimate());
                m.put("tau_minus_flops_lo", diff.lo());
                m.put("tau_minus_flops_hi", diff.hi());
                m.put("tau_near_limit", nearTau);
                m.put("n_near_limit", near.size());
                m.put("partial_tau_given_flops", partial);
                m.put("top_k", k);
                m.put("top_k_precision", top);
                m.put("regret", regret);
                // Undefined (tau near the limit of one architecture, FLOPs given FLOPs) is written null, as JSON has no NaN;
                // a JsonObject's own writer keeps nulls, where Gson's would drop the key.
                JsonObject line = new JsonObject();
                m.forEach((key, v) -> line.add(key, v instanceof Double d && d.isNaN() ? JsonNull.INSTANCE
                        : v instanceof Number num ? new JsonPrimitive(num) : new JsonPrimitive(v.toString())));
                out.println(line);
            } else {
                out.printf(nameColumn + " %4d  %-24s %-24s %7.4f  %-25s %-16s %8.3f %6.2f %7.4f%n", e.getKey(), idx.size(), tau, rho, p, diff,
                        String.format("%.3f (n %d)", nearTau, near.size()), partial, top, regret);
            }
        }
        out.flush();
        return 0;
    }

    /** The reliability as one JSON object; an undefined value (NaN) is null. */
    private static JsonObject reliabilityJson(Reliability rel) {
        JsonObject o = new JsonObject();
        o.addProperty("architectures", rel.architectures());
        o.addProperty("two_seeds", rel.replicated());
        o.addProperty("signal", rel.signal().name().toLowerCase(java.util.Locale.ROOT));
        put(o, "seed_noise_sd", rel.seedNoise());
        put(o, "true_sd", rel.trueSd());
        put(o, "split_half_tau", rel.splitHalfTau());
        put(o, "true_variance", rel.trueVariance());
        put(o, "reliability", rel.reliability());
        put(o, "flops_share", rel.flopsShare());
        put(o, "noise_ceiling_tau", rel.noiseCeiling());
        return o;
    }

    private static void put(JsonObject o, String key, RankStatistics.Interval v) {
        put(o, key, v.estimate());
        put(o, key.replace("_tau", "") + "_lo", v.lo());
        put(o, key.replace("_tau", "") + "_hi", v.hi());
    }

    private static void put(JsonObject o, String key, double v) {
        o.add(key, Double.isNaN(v) ? JsonNull.INSTANCE : new JsonPrimitive(v));
    }

    private static double[] pick(Map<String, Double> values, List<String> archs, List<Integer> idx) {
        double[] out = new double[idx.size()];
        for (int k = 0; k < out.length; k++) out[k] = values.get(archs.get(idx.get(k)));
        return out;
    }

    private static double[] pick(double[] values, List<Integer> idx) {
        double[] out = new double[idx.size()];
        for (int k = 0; k < out.length; k++) out[k] = values[idx.get(k)];
        return out;
    }

    /** Adds each line's score to its predictor; a second, different score for one (predictor, arch) is an error. */
    static void readScores(Path file, SearchSpace space, Map<String, Map<String, Double>> into) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(file + ": cannot read (" + e.getMessage() + ")", e));
        }
        if (lines.stream().allMatch(String::isBlank)) throw new CliException("--scores " + file + ": holds no score lines");
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            try {
                JsonObject o = JsonParser.parseString(lines.get(i)).getAsJsonObject();
                String arch = Architecture.format(Architecture.parse(o.get("arch").getAsString(), space));
                String predictor = o.get("evaluator").getAsString(); // a supernet's scores carry what it trained, its seed and the training done
                if (predictor.equals("bn") && o.has("supernet") && !o.get("supernet").getAsString().equals(SupernetScoring.LAST_BN)) {
                    predictor += "(" + o.get("supernet").getAsString() + ")";
                }
                if (o.has("supernet_seed")) predictor += "/s" + o.get("supernet_seed").getAsLong();
                if (o.has("epoch")) predictor += "@" + org.bnnas.experiment.RankingStudy.fmt(o.get("epoch").getAsDouble());
                double score = o.get("score").getAsDouble();
                Double before = into.computeIfAbsent(predictor, k -> new LinkedHashMap<>()).put(arch, score);
                if (before != null && before != score && !predictor.equals("flops") && !predictor.equals("params")) {
                    throw new CliException("--scores " + file + ": line " + (i + 1) + " gives " + predictor + " of " + arch + " a second score (" + score
                            + ", before " + before + ")");
                }
            } catch (JsonParseException | IllegalStateException | NullPointerException | UnsupportedOperationException e) {
                throw new CliException("--scores " + file + ": line " + (i + 1) + " is not a score line (" + e.getMessage() + ")");
            } catch (IllegalArgumentException e) {
                throw new CliException("--scores " + file + ": line " + (i + 1) + ": " + e.getMessage());
            }
        }
    }
}
