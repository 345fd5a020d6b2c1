// RankCorrelation: Kendall's tau-b and Spearman's rho between two scorings of the same items,
// the measures by which a NAS evaluator's ranking is compared with the ground truth.
package org.bnnas.report;

import java.util.Arrays;
import java.util.Comparator;

/** Both measures handle ties (tau-b; rho on average ranks) and are 1 for identical orders, -1 for reversed ones. */
public final class RankCorrelation {
    private RankCorrelation() {}

    /** Kendall's tau-b: (concordant - discordant) / sqrt((n0 - ties in x) (n0 - ties in y)); NaN when either side is constant. */
    public static double kendallTau(double[] x, double[] y) {
        check(x, y);
        long concordant = 0, discordant = 0, tiesX = 0, tiesY = 0, pairs = 0;
        for (int i = 0; i < x.length; i++) {
            for (int j = i + 1; j < x.length; j++) {
                int sx = Double.compare(x[i], x[j]), sy = Double.compare(y[i], y[j]);
                pairs++;
                if (sx == 0) tiesX++;
                if (sy == 0) tiesY++;
                if (sx != 0 && sy != 0) {
                    if (sx == sy) concordant++;
                    else discordant++;
                }
            }
        }
        double denominator = Math.sqrt((double) (pairs - tiesX) * (pairs - tiesY));
        return denominator == 0 ? Double.NaN : (concordant - discordant) / denominator;
    }

    /** Spearman's rho: Pearson's correlation of the average ranks; NaN when either side is constant. */
    public static double spearmanRho(double[] x, double[] y) {
        check(x, y);
        return pearson(ranks(x), ranks(y));
    }

    /** Ranks from 1, ties sharing their average rank. */
    static double[] ranks(double[] v) {
        Integer[] order = new Integer[v.length];
        for (int i = 0; i < v.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble(i -> v[i]));
        double[] r = new double[v.length];
        for (int start = 0; start < v.length; ) {
            int end = start;
            while (end + 1 < v.length && v[order[end + 1]] == v[order[start]]) end++;
            double average = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++) r[order[k]] = average;
            start = end + 1;
        }
        return r;
    }

    private static double pearson(double[] a, double[] b) {
        double ma = Arrays.stream(a).average().orElse(0), mb = Arrays.stream(b).average().orElse(0);
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.length; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return saa == 0 || sbb == 0 ? Double.NaN : sab / Math.sqrt(saa * sbb);
    }

    private static void check(double[] x, double[] y) {
        if (x.length != y.length) throw new IllegalArgumentException("rank correlation of " + x.length + " against " + y.length + " scores");
        if (x.length < 2) throw new IllegalArgumentException("rank correlation needs at least 2 items, got " + x.length);
    }
}
