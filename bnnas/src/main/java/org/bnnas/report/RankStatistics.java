// RankStatistics: how well a predictor ranks architectures against a ground truth, with its
// uncertainty: bootstrap intervals over architectures, a permutation p-value, the difference from
// FLOPs, the rank agreement at equal FLOPs and given FLOPs, top-k precision, the regret of the
// best pick, the seed noise of a table, and the interval of a difference of two means over a few
// seeds (Welch). Whether the truth itself carries signal is Reliability's.
package org.bnnas.report;

import java.util.Arrays;
import org.bnnas.engine.tensor.Rng;

/** Pure functions of score and truth arrays (index i is one architecture); every random draw comes from the caller's seeded Rng. */
public final class RankStatistics {
    private RankStatistics() {}

    /** A point estimate and its 95% interval. */
    public record Interval(double estimate, double lo, double hi) {
        @Override
        public String toString() {
            return String.format("%.3f [%.3f, %.3f]", estimate, lo, hi);
        }
    }

    /** Kendall's tau with the 2.5 and 97.5 percentiles of its bootstrap over architectures (resampled with replacement). */
    public static Interval tau(double[] score, double[] truth, int resamples, Rng rng) {
        return bootstrap(score, truth, resamples, rng, false);
    }

    /** Spearman's rho with its bootstrap interval, as {@link #tau}. */
    public static Interval rho(double[] score, double[] truth, int resamples, Rng rng) {
        return bootstrap(score, truth, resamples, rng, true);
    }

    private static Interval bootstrap(double[] score, double[] truth, int resamples, Rng rng, boolean spearman) {
        int n = score.length;
        double[] stats = new double[resamples];
        double[] s = new double[n], t = new double[n];
        int kept = 0;
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < n; i++) {
                int k = rng.nextInt(n);
                s[i] = score[k];
                t[i] = truth[k];
            }
            double v = spearman ? RankCorrelation.spearmanRho(s, t) : RankCorrelation.kendallTau(s, t);
            if (!Double.isNaN(v)) stats[kept++] = v; // a resample of one repeated architecture says nothing
        }
        double estimate = spearman ? RankCorrelation.spearmanRho(score, truth) : RankCorrelation.kendallTau(score, truth);
        return new Interval(estimate, percentile(stats, kept, 0.025), percentile(stats, kept, 0.975));
    }

    /** The paired bootstrap of tau(a) - tau(b) against the same truth, the architectures resampled together. */
    public static Interval tauDifference(double[] a, double[] b, double[] truth, int resamples, Rng rng) {
        int n = truth.length;
        double[] stats = new double[resamples], ra = new double[n], rb = new double[n], rt = new double[n];
        int kept = 0;
        for (int r = 0; r < resamples; r++) {
            for (int i = 0; i < n; i++) {
                int k = rng.nextInt(n);
                ra[i] = a[k];
                rb[i] = b[k];
                rt[i] = truth[k];
            }
            double v = RankCorrelation.kendallTau(ra, rt) - RankCorrelation.kendallTau(rb, rt);
            if (!Double.isNaN(v)) stats[kept++] = v;
        }
        return new Interval(RankCorrelation.kendallTau(a, truth) - RankCorrelation.kendallTau(b, truth), percentile(stats, kept, 0.025),
                percentile(stats, kept, 0.975));
    }

    /** The one-sided permutation p-value of tau: (1 + #{permutations with tau at least the observed}) / (1 + permutations). */
    public static double permutationP(double[] score, double[] truth, int permutations, Rng rng) {
        double observed = RankCorrelation.kendallTau(score, truth);
        double[] shuffled = truth.clone();
        int atLeast = 0;
        for (int p = 0; p < permutations; p++) {
            for (int i = shuffled.length - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                double x = shuffled[i];
                shuffled[i] = shuffled[j];
                shuffled[j] = x;
            }
            if (RankCorrelation.kendallTau(score, shuffled) >= observed) atLeast++;
        }
        return (1.0 + atLeast) / (1.0 + permutations);
    }

    /** Kendall's partial tau of x and y given z: (t_xy - t_xz t_yz) / sqrt((1 - t_xz^2) (1 - t_yz^2)). */
    public static double partialTau(double[] x, double[] y, double[] z) {
        double xy = RankCorrelation.kendallTau(x, y), xz = RankCorrelation.kendallTau(x, z), yz = RankCorrelation.kendallTau(y, z);
        return (xy - xz * yz) / Math.sqrt((1 - xz * xz) * (1 - yz * yz));
    }

    /** The share of the predictor's k best architectures that are among the truth's k best. */
    public static double topKPrecision(double[] score, double[] truth, int k) {
        int[] byScore = descending(score), byTruth = descending(truth);
        boolean[] best = new boolean[truth.length];
        for (int i = 0; i < k; i++) best[byTruth[i]] = true;
        int hits = 0;
        for (int i = 0; i < k; i++) if (best[byScore[i]]) hits++;
        return hits / (double) k;
    }

    /** The truth of the best architecture minus the truth of the predictor's best pick (0: it picked the best). */
    public static double regret(double[] score, double[] truth) {
        return truth[descending(truth)[0]] - truth[descending(score)[0]];
    }

    /**
     * The standard deviation of one seed's result, pooled over the architectures with several
     * seeds: sqrt(sum of squared deviations from each architecture's mean / sum of (seeds - 1)).
     */
    public static double seedNoise(double[][] resultsPerArchitecture) {
        double squares = 0;
        int dof = 0;
        for (double[] r : resultsPerArchitecture) {
            if (r.length < 2) continue;
            double mean = Arrays.stream(r).average().orElseThrow();
            for (double v : r) squares += (v - mean) * (v - mean);
            dof += r.length - 1;
        }
        return dof == 0 ? Double.NaN : Math.sqrt(squares / dof);
    }

    /**
     * mean(a) - mean(b) with its 95% Welch interval (unequal variances; Student's t at the
     * Welch-Satterthwaite degrees of freedom, rounded down, which widens the interval slightly).
     * Each side needs at least two values.
     */
    public static Interval meanDifference(double[] a, double[] b) {
        if (a.length < 2 || b.length < 2) throw new IllegalArgumentException("a difference of means needs two or more values a side, got " + a.length
                + " and " + b.length);
        double ma = Arrays.stream(a).average().orElseThrow(), mb = Arrays.stream(b).average().orElseThrow();
        double va = variance(a, ma) / a.length, vb = variance(b, mb) / b.length;
        double se = Math.sqrt(va + vb);
        if (se == 0) return new Interval(ma - mb, ma - mb, ma - mb);
        double dof = (va + vb) * (va + vb) / (va * va / (a.length - 1) + vb * vb / (b.length - 1));
        double t = studentT975((int) Math.floor(dof));
        return new Interval(ma - mb, ma - mb - t * se, ma - mb + t * se);
    }

    private static double variance(double[] v, double mean) {
        double s = 0;
        for (double x : v) s += (x - mean) * (x - mean);
        return s / (v.length - 1);
    }

    /** Student's t 97.5% quantiles for 1..30 degrees of freedom (from the standard tables). */
    private static final double[] T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
            2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};

    /** The 97.5% quantile of Student's t with {@code dof} degrees of freedom; beyond 30, 1.96 + 2.4/dof (within 0.002 of the exact value). */
    static double studentT975(int dof) {
        if (dof < 1) throw new IllegalArgumentException("degrees of freedom must be at least 1, got " + dof);
        return dof <= T975.length ? T975[dof - 1] : 1.96 + 2.4 / dof;
    }

    private static int[] descending(double[] v) {
        Integer[] order = new Integer[v.length];
        for (int i = 0; i < v.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(v[b], v[a]));
        return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
    }

    /** The q-quantile of the first n values (sorted in place), by linear interpolation. */
    static double percentile(double[] values, int n, double q) {
        if (n == 0) return Double.NaN;
        Arrays.sort(values, 0, n);
        double at = q * (n - 1);
        int lo = (int) Math.floor(at), hi = Math.min(n - 1, lo + 1);
        return values[lo] + (at - lo) * (values[hi] - values[lo]);
    }
}
