// RankCorrelationTest: Kendall's tau-b and Spearman's rho on orders whose values are known by hand.
package org.bnnas.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RankCorrelationTest {
    @Test
    void identicalOrdersGiveOneAndReversedOrdersMinusOne() {
        double[] x = {1, 2, 3, 4, 5}, up = {10, 20, 30, 40, 50}, down = {5, 4, 3, 2, 1};
        assertEquals(1.0, RankCorrelation.kendallTau(x, up), 1e-12);
        assertEquals(1.0, RankCorrelation.spearmanRho(x, up), 1e-12);
        assertEquals(-1.0, RankCorrelation.kendallTau(x, down), 1e-12);
        assertEquals(-1.0, RankCorrelation.spearmanRho(x, down), 1e-12);
    }

    @Test
    void oneSwappedPairOfFour() {
        double[] x = {1, 2, 3, 4}, y = {1, 3, 2, 4};
        assertEquals((5 - 1) / 6.0, RankCorrelation.kendallTau(x, y), 1e-12, "5 concordant, 1 discordant of 6 pairs");
        assertEquals(1 - 6 * 2 / (4.0 * 15), RankCorrelation.spearmanRho(x, y), 1e-12, "1 - 6 sum d^2 / (n (n^2 - 1))");
    }

    @Test
    void tiesAreHandledAsTauBAndAverageRanks() {
        assertArrayEquals(new double[] {1.5, 1.5, 3, 4}, RankCorrelation.ranks(new double[] {7, 7, 8, 9}));
        double[] x = {1, 1, 2, 3}, y = {1, 2, 3, 4};
        // pairs 6, ties in x 1: tau-b = (5 - 0) / sqrt(5 * 6)
        assertEquals(5 / Math.sqrt(30), RankCorrelation.kendallTau(x, y), 1e-12);
        assertTrue(Double.isNaN(RankCorrelation.kendallTau(new double[] {2, 2, 2}, new double[] {1, 2, 3})), "a constant scoring ranks nothing");
    }

    @Test
    void lengthsMustAgree() {
        assertThrows(IllegalArgumentException.class, () -> RankCorrelation.kendallTau(new double[] {1, 2}, new double[] {1, 2, 3}));
        assertThrows(IllegalArgumentException.class, () -> RankCorrelation.spearmanRho(new double[] {1}, new double[] {1}));
    }
}
