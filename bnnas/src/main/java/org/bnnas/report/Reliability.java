// Reliability: whether a ground truth carries information about the architectures, measured
// before any predictor is judged by it: how well two seeds' results agree (split-half tau), the
// share of the spread of the architectures' means that lies between architectures (a one-way
// random-effects estimate from the architectures trained with several seeds), how much of that
// true spread FLOPs explains, and the noise ceiling simulated from the estimated true variance.
package org.bnnas.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bnnas.engine.tensor.Rng;

/**
 * The model: one seed's result y_ij = mu + a_i + e_ij, the architectures' true effects a_i of
 * variance {@code trueVariance}, the seed noise e_ij of variance {@code seedNoise}^2, all
 * independent. A predictor is judged against each architecture's mean over its n_i seeds; over
 * the architectures those means vary by trueVariance + seedNoise^2 mean(1/n_i), and the
 * reliability of the truth is the first term's share of that. Method of moments: seedNoise^2 is
 * the pooled within-architecture variance; trueVariance is the variance of the means less
 * seedNoise^2 mean(1/n_i), unbiased for any mix of seed counts, and negative when the means
 * spread no wider than seed noise alone makes them. FLOPs' share is the part of trueVariance that
 * a least-squares line in log FLOPs removes (the same estimate on the line's residuals), kept
 * within [0, 1] where noise carries the estimate past either end. The
 * noise ceiling is the expected Kendall tau of a perfect predictor against such a truth: true
 * values drawn Gaussian with the estimated variance (a random order where it is not above zero),
 * the observed means those plus seed noise at each architecture's seed count. Intervals are the
 * 2.5 and 97.5 percentiles over a bootstrap of the architectures, each resampled with all its
 * seeds; the ceiling's interval takes one simulated truth per resample, so it holds both the
 * estimates' uncertainty and a single truth's luck.
 */
public record Reliability(int architectures, int replicated, double seedNoise, RankStatistics.Interval splitHalfTau,
                          RankStatistics.Interval trueVariance, RankStatistics.Interval reliability, RankStatistics.Interval flopsShare,
                          RankStatistics.Interval noiseCeiling) {

    /** How much the truth can tell predictors apart. */
    public enum Signal {
        /** The estimated true variance is zero or below: the truth is seed noise as far as it can tell. */
        NONE,
        /** Above zero, but its interval reaches zero. */
        UNCERTAIN,
        /** Its interval lies above zero. */
        MEASURABLE
    }

    /** The point estimates of one set of architectures. */
    record Moments(double seedVariance, double trueVariance, double meansVariance, double residualTrueVariance) {
        double reliability() {
            return trueVariance / meansVariance;
        }

        /** FLOPs' share of the true variance, kept within [0, 1]; NaN where there is none to explain. */
        double flopsShare() {
            return trueVariance > 0 ? Math.min(1, Math.max(0, (trueVariance - residualTrueVariance) / trueVariance)) : Double.NaN;
        }
    }

    public Signal signal() {
        if (!(trueVariance.estimate() > 0)) return Signal.NONE;
        return trueVariance.lo() > 0 ? Signal.MEASURABLE : Signal.UNCERTAIN;
    }

    /** The estimated sd of the architectures' true values (0 where the variance estimate is not above 0). */
    public double trueSd() {
        return Math.sqrt(Math.max(0, trueVariance.estimate()));
    }

    /** The statistics as lines of text (bnnas rank), the verdict last. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        out.add(String.format("seed noise: sd %.4f of one seed's validation top-1, pooled over the %d of %d architectures with two seeds or more",
                seedNoise, replicated, architectures));
        out.add(replicated < 4 ? "split-half: too few architectures with two seeds for a split-half tau"
                : String.format("split-half: Kendall tau %s between one seed's results and the other's on those %d", splitHalfTau, replicated));
        out.add(String.format("between architectures: true sd %.4f (variance %s); reliability of the truth %s, the share of the variance of the "
                + "architectures' means that lies between architectures", trueSd(), variance(trueVariance), reliability));
        out.add(Double.isNaN(flopsShare.estimate()) ? "FLOPs' share of the true variance: none to explain"
                : String.format("FLOPs' share of the true variance (a line in log FLOPs): %s", flopsShare));
        out.add(String.format("noise ceiling (the expected tau of a perfect predictor, the truth simulated with the estimated true variance): %s",
                noiseCeiling));
        out.add(verdict());
        return out;
    }

    /** One sentence on what the truth can judge. */
    public String verdict() {
        return switch (signal()) {
            case NONE -> String.format("the truth carries no measurable signal beyond seed noise: the architectures' means spread no wider than "
                    + "seed noise alone would spread them (true variance %.2e, at most %.2e by its interval), so a perfect predictor's expected tau "
                    + "against it is %.2f (95%% interval up to %.2f): on this truth a working predictor and a broken one are expected to score alike",
                    trueVariance.estimate(), trueVariance.hi(), noiseCeiling.estimate(), noiseCeiling.hi());
            case UNCERTAIN -> "the truth's signal cannot be told from none (the true variance's interval reaches 0): a predictor's tau against it "
                    + "says little";
            case MEASURABLE -> String.format("the truth carries measurable signal: a perfect predictor would reach tau %.2f against it, a broken one 0",
                    noiseCeiling.estimate());
        };
    }

    /** A variance and its interval, in the notation small variances need. */
    public static String variance(RankStatistics.Interval v) {
        return String.format("%.2e [%.2e, %.2e]", v.estimate(), v.lo(), v.hi());
    }

    /**
     * The statistics of a table: {@code seeds[i]} holds architecture i's results in seed order
     * (split-half tau pairs each architecture's first two), {@code flops[i]} its FLOPs. Needs at
     * least one architecture with two seeds and three architectures in all.
     */
    public static Reliability of(double[][] seeds, double[] flops, int resamples, Rng rng) {
        int k = seeds.length;
        if (k != flops.length) throw new IllegalArgumentException("reliability: " + k + " architectures and " + flops.length + " FLOPs counts");
        int[] all = new int[k];
        for (int i = 0; i < k; i++) all[i] = i;
        List<Integer> twoSeeds = new ArrayList<>();
        for (int i = 0; i < k; i++) if (seeds[i].length >= 2) twoSeeds.add(i);
        if (twoSeeds.isEmpty() || k < 3) {
            throw new IllegalArgumentException("reliability: needs 3 architectures, one of them with two seeds; got " + k + " and " + twoSeeds.size());
        }
        double[] logFlops = Arrays.stream(flops).map(Math::log).toArray();
        Moments point = moments(seeds, logFlops, all);

        RankStatistics.Interval splitHalf = new RankStatistics.Interval(Double.NaN, Double.NaN, Double.NaN);
        if (twoSeeds.size() >= 4) {
            double[] a = new double[twoSeeds.size()], b = new double[twoSeeds.size()];
            for (int j = 0; j < a.length; j++) {
                a[j] = seeds[twoSeeds.get(j)][0];
                b[j] = seeds[twoSeeds.get(j)][1];
            }
            splitHalf = RankStatistics.tau(a, b, resamples, rng);
        }

        int[] counts = Arrays.stream(seeds).mapToInt(s -> s.length).toArray();
        double ceilingSum = 0;
        int ceilingKept = 0;
        for (int s = 0; s < resamples; s++) {
            double t = simulatedPerfectTau(point.trueVariance(), point.seedVariance(), counts, rng);
            if (!Double.isNaN(t)) {
                ceilingSum += t;
                ceilingKept++;
            }
        }

        double[] trueVar = new double[resamples], rel = new double[resamples], share = new double[resamples], ceiling = new double[resamples];
        int nVar = 0, nRel = 0, nShare = 0, nCeiling = 0;
        int[] pick = new int[k], pickedCounts = new int[k];
        for (int r = 0; r < resamples; r++) {
            for (int i = 0; i < k; i++) {
                pick[i] = rng.nextInt(k);
                pickedCounts[i] = counts[pick[i]];
            }
            Moments m = moments(seeds, logFlops, pick);
            if (Double.isNaN(m.trueVariance())) continue; // no architecture with two seeds drawn: the noise is unknown
            trueVar[nVar++] = m.trueVariance();
            if (!Double.isNaN(m.reliability())) rel[nRel++] = m.reliability();
            if (!Double.isNaN(m.flopsShare())) share[nShare++] = m.flopsShare();
            double t = simulatedPerfectTau(m.trueVariance(), m.seedVariance(), pickedCounts, rng);
            if (!Double.isNaN(t)) ceiling[nCeiling++] = t;
        }
        return new Reliability(k, twoSeeds.size(), Math.sqrt(point.seedVariance()), splitHalf,
                interval(point.trueVariance(), trueVar, nVar), interval(point.reliability(), rel, nRel), interval(point.flopsShare(), share, nShare),
                interval(ceilingKept == 0 ? Double.NaN : ceilingSum / ceilingKept, ceiling, nCeiling));
    }

    private static RankStatistics.Interval interval(double estimate, double[] values, int n) {
        return new RankStatistics.Interval(estimate, RankStatistics.percentile(values, n, 0.025), RankStatistics.percentile(values, n, 0.975));
    }

    /** The method-of-moments estimates over the architectures {@code pick} (repeats allowed, as a bootstrap draws them). */
    static Moments moments(double[][] seeds, double[] logFlops, int[] pick) {
        int k = pick.length;
        double within = 0, inverseCounts = 0;
        int dof = 0;
        double[] means = new double[k], x = new double[k];
        for (int j = 0; j < k; j++) {
            double[] y = seeds[pick[j]];
            double m = Arrays.stream(y).average().orElseThrow();
            for (double v : y) within += (v - m) * (v - m);
            dof += y.length - 1;
            means[j] = m;
            x[j] = logFlops[pick[j]];
            inverseCounts += 1.0 / y.length / k;
        }
        double seedVariance = dof == 0 ? Double.NaN : within / dof;
        double noiseOfMeans = seedVariance * inverseCounts;
        double meansVariance = variance(means, k - 1);
        double trueVariance = meansVariance - noiseOfMeans;
        double residualTrueVariance = variance(residuals(means, x), k - 2) - noiseOfMeans;
        return new Moments(seedVariance, trueVariance, meansVariance, residualTrueVariance);
    }

    /** y less its least-squares line in x (NaN everywhere when x does not vary). */
    private static double[] residuals(double[] y, double[] x) {
        double mx = Arrays.stream(x).average().orElseThrow(), my = Arrays.stream(y).average().orElseThrow(), sxy = 0, sxx = 0;
        for (int i = 0; i < y.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
        }
        double slope = sxy / sxx;
        double[] out = new double[y.length];
        for (int i = 0; i < y.length; i++) out[i] = y[i] - my - slope * (x[i] - mx);
        return out;
    }

    /** Sum of squared deviations from the mean over {@code dof}. */
    private static double variance(double[] v, int dof) {
        if (dof < 1) return Double.NaN;
        double m = Arrays.stream(v).average().orElseThrow(), s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return s / dof;
    }

    /**
     * One simulated truth: each architecture's true value drawn with variance {@code trueVariance}
     * (a random order where that is not above zero: a perfect predictor then knows nothing to rank
     * by), its observed mean that plus seed noise of variance seedVariance / its seed count; the
     * Kendall tau of the true values against the observed means.
     */
    static double simulatedPerfectTau(double trueVariance, double seedVariance, int[] counts, Rng rng) {
        int k = counts.length;
        double[] truth = new double[k], observed = new double[k];
        double sd = trueVariance > 0 ? Math.sqrt(trueVariance) : 0;
        for (int i = 0; i < k; i++) {
            double z = rng.nextGaussian();
            truth[i] = sd > 0 ? sd * z : z;
            observed[i] = sd * z + Math.sqrt(seedVariance / counts[i]) * rng.nextGaussian();
        }
        return RankCorrelation.kendallTau(truth, observed);
    }
}
