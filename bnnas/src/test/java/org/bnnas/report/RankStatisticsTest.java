// RankStatisticsTest: the ranking statistics on cases whose answers are known.
package org.bnnas.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bnnas.engine.tensor.Rng;
import org.junit.jupiter.api.Test;

class RankStatisticsTest {
    static final double[] TRUTH = {0.80, 0.82, 0.85, 0.86, 0.88, 0.89, 0.90, 0.91, 0.915, 0.92};

    @Test
    void aPerfectPredictorHasTauOneAndASmallPValueAndNoRegret() {
        double[] perfect = TRUTH.clone();
        RankStatistics.Interval tau = RankStatistics.tau(perfect, TRUTH, 1000, new Rng(1));
        assertEquals(1.0, tau.estimate());
        assertEquals(1.0, tau.lo(), 1e-12, "every resample keeps the order");
        assertEquals(1.0 / 1001, RankStatistics.permutationP(perfect, TRUTH, 1000, new Rng(2)), 1e-3, "no permutation of 10 reaches tau 1 in 1,000 draws");
        assertEquals(0.0, RankStatistics.regret(perfect, TRUTH));
        assertEquals(1.0, RankStatistics.topKPrecision(perfect, TRUTH, 3));
    }

    @Test
    void aPredictorWithoutInformationIsInsideTheNoise() {
        Rng rng = new Rng(5);
        double[] truth = new double[60], noise = new double[60];
        for (int i = 0; i < 60; i++) {
            truth[i] = rng.nextGaussian();
            noise[i] = rng.nextGaussian();
        }
        RankStatistics.Interval tau = RankStatistics.tau(noise, truth, 2000, new Rng(6));
        assertTrue(tau.lo() < 0 && tau.hi() > 0, "the interval holds 0: " + tau);
        assertTrue(tau.hi() - tau.lo() > 0.2 && tau.hi() - tau.lo() < 0.5, "about +-0.17 at n 60: " + tau);
        double p = RankStatistics.permutationP(noise, truth, 2000, new Rng(7));
        assertTrue(p > 0.05, "p " + p);
    }

    @Test
    void theRegretAndTopKAreThoseOfThePick() {
        double[] score = {9, 1, 2, 3, 4, 5, 6, 7, 8, 0}; // picks architecture 0, the worst; its top 3 are 0, 8, 7
        assertEquals(0.92 - 0.80, RankStatistics.regret(score, TRUTH), 1e-12);
        assertEquals(2.0 / 3, RankStatistics.topKPrecision(score, TRUTH, 3), 1e-12, "8 and 7 are among the best three (9, 8, 7)");
    }

    @Test
    void partialTauRemovesWhatFlopsExplains() {
        double[] flops = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        double[] truthOfFlops = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10.5};
        double[] score = {2, 1, 4, 3, 6, 5, 8, 7, 10, 9};
        double expected = (RankCorrelation.kendallTau(score, truthOfFlops) - RankCorrelation.kendallTau(score, flops) * RankCorrelation.kendallTau(truthOfFlops, flops))
                / Math.sqrt((1 - Math.pow(RankCorrelation.kendallTau(score, flops), 2)) * (1 - Math.pow(RankCorrelation.kendallTau(truthOfFlops, flops), 2)));
        assertEquals(expected, RankStatistics.partialTau(score, truthOfFlops, flops), 1e-12);
        assertTrue(Double.isNaN(RankStatistics.partialTau(flops, truthOfFlops, flops)), "FLOPs given FLOPs says nothing");
    }

    @Test
    void seedNoiseIsThePooledStandardDeviation() {
        // deviations from the means: (+-0.01) twice and (+-0.02) once over 3 degrees of freedom: sqrt((4 * 1e-4 + 2 * 4e-4) / 3)
        double[][] results = {{0.80, 0.82}, {0.85, 0.87}, {0.90, 0.94}, {0.88}};
        assertEquals(Math.sqrt((4 * 1e-4 + 2 * 4e-4) / 3), RankStatistics.seedNoise(results), 1e-12);
        assertTrue(Double.isNaN(RankStatistics.seedNoise(new double[][] {{0.8}, {0.9}})));
    }

    @Test
    void theDifferenceOfTwoMeansHasWelchsInterval() {
        // R: t.test(c(1, 2, 3), c(4, 5, 6)) gives -5.266 to -0.734 (4 degrees of freedom)
        RankStatistics.Interval d = RankStatistics.meanDifference(new double[] {1, 2, 3}, new double[] {4, 5, 6});
        assertEquals(-3, d.estimate(), 1e-12);
        assertEquals(-3 - 2.776 * Math.sqrt(2.0 / 3), d.lo(), 1e-12);
        assertEquals(-0.734, d.hi(), 1e-3);
        // unequal variances: the degrees of freedom fall to just over 2 (rounded down to 2) and the interval widens
        RankStatistics.Interval u = RankStatistics.meanDifference(new double[] {0, 10, 20}, new double[] {5, 5.1, 5.2});
        assertEquals(10 - 5.1, u.estimate(), 1e-12);
        assertEquals(4.303 * Math.sqrt(100.0 / 3 + 0.01 / 3), u.hi() - u.estimate(), 1e-9);
        assertEquals(1.96 + 2.4 / 60, RankStatistics.studentT975(60), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> RankStatistics.meanDifference(new double[] {1}, new double[] {1, 2}));
    }
}
