// ReproductionReport: report.md and its plots from the results files of `bnnas reproduce`: the
// paper's claims beside what this machine measured, and the rankings behind them.
package org.bnnas.experiment;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bnnas.report.Plot;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.report.RankCorrelation;
import org.bnnas.report.RankStatistics;
import org.bnnas.space.Architecture;
import org.bnnas.train.SupernetTrainer;

final class ReproductionReport {
    private final RunDir run;
    private final Reproduction r;
    private final String command;

    ReproductionReport(RunDir run, Reproduction r, String command) {
        this.run = run;
        this.r = r;
        this.command = command;
    }

    /** One method's scoring of the K architectures during supernet training. */
    private record Curve(double[] epoch, double[] trainSeconds, double[] evalSeconds, double[] tau, double[] rho, List<JsonObject> lines) {
        static Curve of(List<JsonObject> lines) {
            int n = lines.size();
            double[] e = new double[n], t = new double[n], ev = new double[n], tau = new double[n], rho = new double[n];
            for (int i = 0; i < n; i++) {
                JsonObject o = lines.get(i);
                e[i] = o.get("epoch").getAsDouble();
                t[i] = o.get("train_seconds").getAsDouble();
                ev[i] = o.get("eval_seconds").getAsDouble();
                tau[i] = o.get("tau").getAsDouble();
                rho[i] = o.get("rho").getAsDouble();
            }
            return new Curve(e, t, ev, tau, rho, lines);
        }

        int best() {
            int b = 0;
            for (int i = 1; i < tau.length; i++) if (tau[i] > tau[b]) b = i;
            return b;
        }

        double lastTrainSeconds() {
            return trainSeconds.length == 0 ? Double.NaN : trainSeconds[trainSeconds.length - 1];
        }
    }

    void write() {
        Curve bn = Curve.of(run.metricsFile(Reproduction.scoresFile(SupernetTrainer.Mode.BN)));
        Curve spos = Curve.of(run.metricsFile(Reproduction.scoresFile(SupernetTrainer.Mode.FULL)));
        double[] agreement = r.seedAgreement();
        Map<String, JsonObject> search = new LinkedHashMap<>();
        for (JsonObject o : run.metricsFile("search.jsonl")) search.put(o.get("method").getAsString(), o);
        int k = r.archs().size();
        Reproduction.Preset p = preset();

        StringBuilder md = new StringBuilder();
        md.append("# BN-NAS against SPOS, reproduced on this machine\n\n");
        md.append(String.format("Command: `%s`, finished %s. Data: %s, %d training images, %d validation images for the ground truth "
                        + "(%d for the SPOS evaluator), space `%s`, batch %d, %d threads.%n%n", command, java.time.LocalDate.now(),
                r.trainingImages().name(), r.trainingImages().count(), r.validationCount(), r.sposValidation().count(), r.spaceName(),
                p.batchSize(), org.bnnas.engine.backend.cpu.Parallel.threads()));

        md.append("## The paper's claims and what we measured\n\n");
        md.append("| | BN-NAS | SPOS | SPOS / BN-NAS | paper |\n| --- | --- | --- | --- | --- |\n");
        double bnTrain = bn.lastTrainSeconds(), sposTrain = spos.lastTrainSeconds();
        md.append(String.format("| supernet training | %.0f s (%d epochs) | %.0f s (%d epochs) | %.1fx | over 10x |%n", bnTrain, p.bnEpochs(),
                sposTrain, p.sposEpochs(), sposTrain / bnTrain));
        double bnTable = last(bn.evalSeconds), sposEval = last(spos.evalSeconds) / k;
        JsonObject lastBn = bn.lines().isEmpty() ? null : bn.lines().get(bn.lines().size() - 1);
        double bnLookup = lastBn != null && lastBn.has("lookup_seconds") ? lastBn.get("lookup_seconds").getAsDouble() : Double.NaN;
        md.append(String.format("| evaluating one subnet | %s (the table of mean abs gamma: %s, once) | %s | %,.0fx | over 600,000x |%n",
                seconds(bnLookup), seconds(bnTable), seconds(sposEval), sposEval / bnLookup));
        JsonObject bs = search.get("bn-nas"), ss = search.get("spos");
        if (bs != null && ss != null) {
            md.append(String.format("| the whole search (%d and %d subnets) | %s | %s | %,.0fx | |%n", bs.get("evaluated").getAsInt(),
                    ss.get("evaluated").getAsInt(), seconds(bs.get("seconds").getAsDouble()), seconds(ss.get("seconds").getAsDouble()),
                    ss.get("seconds").getAsDouble() / bs.get("seconds").getAsDouble()));
        }
        int bb = bn.best(), sb = spos.best();
        md.append(String.format("| Kendall tau vs the ground truth, last scoring | %.3f | %.3f | | |%n", last(bn.tau), last(spos.tau)));
        md.append(String.format("| (the best of %d and %d scorings, biased upward) | %.3f after %.0f s | %.3f after %.0f s | | |%n", bn.tau.length,
                spos.tau.length, bn.tau[bb], bn.trainSeconds[bb], spos.tau[sb], spos.trainSeconds[sb]));
        Map<String, List<JsonObject>> retrained = new LinkedHashMap<>();
        for (JsonObject o : run.metricsFile("retrain.jsonl")) retrained.computeIfAbsent(o.get("method").getAsString(), x -> new ArrayList<>()).add(o);
        md.append(String.format("| retrained winner, test top-1 (two seeds) | %s | %s | | no loss of accuracy |%n%n", accuracies(retrained.get("bn-nas")),
                accuracies(retrained.get("spos"))));
        md.append("Times are wall-clock on this machine; training and evaluation are measured apart. SPOS's evaluation of one subnet is "
                + "its last scoring of the K architectures divided by K; BN-NAS's is a look-up in a table built once per supernet (timed "
                + "apart: the table build, and the mean of 100,000 look-ups). A search's time includes counting every candidate's FLOPs, "
                + "which for BN-NAS is most of it.\n\n");
        double[] gt = r.groundTruthAccuracy();
        double[] flops = new double[k], params = new double[k];
        for (int i = 0; i < k; i++) {
            flops[i] = r.flops(r.archs().get(i));
            params[i] = r.params(r.archs().get(i));
        }
        double flopsTau = RankCorrelation.kendallTau(flops, gt), paramsTau = RankCorrelation.kendallTau(params, gt);
        Rng rng = new Rng(0);
        md.append(String.format("**How much these taus can say.** With %d architectures there are %d pairs, and one swapped pair moves "
                        + "Kendall tau by %.3f. Under no relation at all, a tau at least BN-NAS's last (%.3f) comes with probability %.3f and one "
                        + "at least SPOS's last (%.3f) with probability %.3f (permutation test, 10,000 random orders). The baselines that need no "
                        + "training order these architectures at tau %.3f (FLOPs) and %.3f (parameters). Each method is one supernet seed.%n%n",
                k, k * (k - 1) / 2, 4.0 / (k * (k - 1)), last(bn.tau), nullP(bn, gt, rng), last(spos.tau), nullP(spos, gt, rng), flopsTau, paramsTau));

        md.append("## Ground truth\n\n");
        md.append(String.format("%d architectures spread over the FLOPs range, denser at the cheap end (targets lo + (hi - lo) (k/(K-1))^2), "
                + "each trained from scratch for %d epoch(s) with seeds %d and %d; their mean validation top-1 ranks them. The two seeds' "
                + "rankings agree at Kendall tau %.3f (Spearman rho %.3f): that measures the truth's noise, and is not a bound on an "
                + "evaluator's tau, which is taken against the mean of the two seeds.%n%n", k, p.groundTruthEpochs(), r.seeds()[0], r.seeds()[1],
                agreement[0], agreement[1]));
        md.append("| arch | MFLOPs | validation top-1 (mean of two seeds) |\n| --- | --- | --- |\n");
        for (int i = 0; i < k; i++) {
            md.append(String.format("| `%s` | %.2f | %.4f |%n", Architecture.format(r.archs().get(i)), r.flops(r.archs().get(i)) / 1e6, gt[i]));
        }
        md.append("\n![ground truth against FLOPs](ground-truth-vs-flops.png)\n\n");

        md.append("## Rankings as the supernets train\n\n");
        md.append("| method | epochs | training time | Kendall tau | Spearman rho |\n| --- | --- | --- | --- | --- |\n");
        appendRows(md, "BN-NAS", bn);
        appendRows(md, "SPOS", spos);
        md.append("\n![tau against training time](tau-vs-training-time.png)\n\n");
        md.append("![BN score against FLOPs](bn-score-vs-flops.png) ![SPOS score against FLOPs](spos-score-vs-flops.png)\n\n");

        double[][] stability = stability(bn.lines());
        md.append("## Stability of the BN op rankings\n\n");
        md.append("Per choice layer, the ops ranked by the mean |gamma| of their last BN; between consecutive scorings, the Kendall tau "
                + "of those rankings (averaged over layers) and the share of layers whose best op changed.\n\n");
        md.append("| epoch | mean tau with the previous | layers whose best op changed |\n| --- | --- | --- |\n");
        for (int i = 0; i < stability[0].length; i++) {
            md.append(String.format("| %.2f | %.3f | %.0f%% |%n", stability[0][i], stability[1][i], 100 * stability[2][i]));
        }
        md.append("\n![stability](stability.png)\n\n");

        md.append("## Search and retraining\n\n");
        md.append(String.format("Evolutionary search (population %d, %d generations) under the same FLOPs limit, %.2fM, with each method's "
                + "evaluator; each winner retrained from scratch for %d epochs with two seeds.%n%n", p.population(), p.generations(),
                r.flopsLimit() / 1e6, p.retrainEpochs()));
        md.append("| method | winner | MFLOPs | search time | test top-1 per seed |\n| --- | --- | --- | --- | --- |\n");
        for (JsonObject o : search.values()) {
            md.append(String.format("| %s | `%s` | %.2f | %s | %s |%n", o.get("method").getAsString(), o.get("arch").getAsString(),
                    o.get("flops").getAsDouble() / 1e6, seconds(o.get("seconds").getAsDouble()), accuracies(retrained.get(o.get("method").getAsString()))));
        }
        md.append("\n## BN-only against full training of one network\n\n");
        md.append(String.format("`%s` trained from the same initial weights: only each block's last BN, and every weight.%n%n",
                Architecture.format(r.convergenceArch())));
        md.append("![loss against time](convergence-loss.png) ![validation top-1 against time](convergence-accuracy.png)\n");

        plots(bn, spos, agreement, stability);
        run.writeText("report.md", md.toString());
    }

    private Reproduction.Preset preset() {
        return r.preset();
    }

    private static void appendRows(StringBuilder md, String method, Curve c) {
        for (int i = 0; i < c.tau.length; i++) {
            md.append(String.format("| %s | %.2f | %.0f s | %.3f | %.3f |%n", method, c.epoch[i], c.trainSeconds[i], c.tau[i], c.rho[i]));
        }
    }

    private static String accuracies(List<JsonObject> lines) {
        if (lines == null || lines.isEmpty()) return "-";
        StringBuilder b = new StringBuilder();
        for (JsonObject o : lines) b.append(b.length() == 0 ? "" : ", ").append(String.format("%.4f", o.get("test_top1").getAsDouble()));
        return b.toString();
    }

    private static double last(double[] v) {
        return v.length == 0 ? Double.NaN : v[v.length - 1];
    }

    static String seconds(double s) {
        if (s < 1e-6) return String.format("%.3g ns", s * 1e9);
        if (s < 1e-3) return String.format("%.3g us", s * 1e6);
        if (s < 1) return String.format("%.3g ms", s * 1e3);
        return String.format("%.3g s", s);
    }

    /** [epoch, mean tau with the previous scoring, share of layers whose best op changed] per scoring after the first. */
    static double[][] stability(List<JsonObject> lines) {
        List<double[]> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            JsonArray a = lines.get(i - 1).getAsJsonArray("bn_table"), b = lines.get(i).getAsJsonArray("bn_table");
            double tauSum = 0, changed = 0;
            int layers = 0;
            for (int l = 0; l < b.size(); l++) {
                if (b.get(l).isJsonNull()) continue;
                double[] x = Reproduction.doubles(a.get(l).getAsJsonArray()), y = Reproduction.doubles(b.get(l).getAsJsonArray());
                double t = RankCorrelation.kendallTau(x, y);
                tauSum += Double.isNaN(t) ? 0 : t;
                if (argmax(x) != argmax(y)) changed++;
                layers++;
            }
            rows.add(new double[] {lines.get(i).get("epoch").getAsDouble(), tauSum / layers, changed / layers});
        }
        double[][] out = new double[3][rows.size()];
        for (int i = 0; i < rows.size(); i++) for (int j = 0; j < 3; j++) out[j][i] = rows.get(i)[j];
        return out;
    }

    /** The permutation p-value of the method's last scores against the ground truth (NaN before any scoring). */
    private static double nullP(Curve c, double[] truth, Rng rng) {
        if (c.lines().isEmpty()) return Double.NaN;
        double[] scores = Reproduction.doubles(c.lines().get(c.lines().size() - 1).getAsJsonArray("scores"));
        return RankStatistics.permutationP(scores, truth, 10_000, rng);
    }

    private static int argmax(double[] v) {
        int b = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[b]) b = i;
        return b;
    }

    private void plots(Curve bn, Curve spos, double[] agreement, double[][] stability) {
        double end = Math.max(bn.lastTrainSeconds(), spos.lastTrainSeconds());
        write(Plot.lines("Kendall tau against the ground truth", "supernet training time (s)", "Kendall tau")
                .add("BN-NAS (BN indicator)", bn.trainSeconds, bn.tau).add("SPOS (accuracy)", spos.trainSeconds, spos.tau)
                .add("seed against seed (the truth's noise)", new double[] {0, Double.isNaN(end) ? 1 : end}, new double[] {agreement[0], agreement[0]}),
                "tau-vs-training-time.png");
        int k = r.archs().size();
        double[] flops = new double[k];
        for (int i = 0; i < k; i++) flops[i] = r.flops(r.archs().get(i)) / 1e6;
        write(Plot.scatter("ground truth: validation top-1 (mean of two seeds)", "MFLOPs", "top-1").add("architectures", flops, r.groundTruthAccuracy()),
                "ground-truth-vs-flops.png");
        if (!bn.lines().isEmpty()) {
            write(Plot.scatter("BN indicator after BN-only training", "MFLOPs", "sum of mean |gamma|")
                    .add("architectures", flops, Reproduction.doubles(bn.lines().get(bn.lines().size() - 1).getAsJsonArray("scores"))), "bn-score-vs-flops.png");
        }
        if (!spos.lines().isEmpty()) {
            write(Plot.scatter("SPOS accuracy after full training", "MFLOPs", "validation top-1 (recalibrated)")
                    .add("architectures", flops, Reproduction.doubles(spos.lines().get(spos.lines().size() - 1).getAsJsonArray("scores"))), "spos-score-vs-flops.png");
        }
        write(Plot.lines("stability of the BN op rankings", "epoch", "mean Kendall tau with the previous scoring").add("mean over layers",
                stability[0], stability[1]), "stability.png");
        Plot loss = Plot.lines("one network: training loss against time", "training time (s)", "loss (mean of 20 steps)");
        Plot accuracy = Plot.lines("one network: validation top-1 against time", "training time (s)", "validation top-1");
        for (String mode : List.of("bn-only", "full")) {
            List<double[]> steps = new ArrayList<>(), epochs = new ArrayList<>();
            for (JsonObject o : run.metricsFile("convergence.jsonl")) {
                if (!o.get("mode").getAsString().equals(mode)) continue;
                if (o.has("loss")) steps.add(new double[] {o.get("seconds").getAsDouble(), o.get("loss").getAsDouble()});
                if (o.has("val_top1")) epochs.add(new double[] {o.get("seconds").getAsDouble(), o.get("val_top1").getAsDouble()});
            }
            loss.add(mode, column(steps, 0), column(steps, 1));
            accuracy.add(mode, column(epochs, 0), column(epochs, 1));
        }
        write(loss, "convergence-loss.png");
        write(accuracy, "convergence-accuracy.png");
    }

    private static double[] column(List<double[]> rows, int c) {
        double[] v = new double[rows.size()];
        for (int i = 0; i < v.length; i++) v[i] = rows.get(i)[c];
        return v;
    }

    private void write(Plot plot, String name) {
        try {
            plot.write(run.file(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
