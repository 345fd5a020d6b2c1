// ReliabilityTest: the truth's reliability statistics on synthetic tables whose true variance,
// seed noise and FLOPs share are known: the estimates recover them on average, the noise ceiling
// is what a perfect predictor really reaches, and the old ceiling (noise added to the observed
// means, as if they were the truth) is shown to overstate it.
package org.bnnas.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bnnas.engine.tensor.Rng;
import org.junit.jupiter.api.Test;

class ReliabilityTest {
    /** The shape of the ranking study's tables: 60 architectures, the first 30 with a second seed. */
    static final int ARCHS = 60, TWO_SEEDS = 30;

    /** One synthetic table: true values (known to the test), each architecture's seed results, its FLOPs. */
    record Table(double[] truth, double[][] seeds, double[] flops) {}

    /**
     * truth_i = flopsSd * z(log FLOPs_i) + residualSd * u_i, results truth_i + noiseSd * e_ij, with
     * log FLOPs uniform over a range (z its standardised value) and u, e standard Gaussians.
     */
    static Table table(double flopsSd, double residualSd, double noiseSd, Rng rng) {
        double[] truth = new double[ARCHS], flops = new double[ARCHS];
        double[][] seeds = new double[ARCHS][];
        for (int i = 0; i < ARCHS; i++) {
            double u = rng.nextDouble();
            flops[i] = 3e6 * Math.exp(u);
            truth[i] = 0.9 + flopsSd * (u - 0.5) * Math.sqrt(12) + residualSd * rng.nextGaussian();
            seeds[i] = new double[i < TWO_SEEDS ? 2 : 1];
            for (int s = 0; s < seeds[i].length; s++) seeds[i][s] = truth[i] + noiseSd * rng.nextGaussian();
        }
        return new Table(truth, seeds, flops);
    }

    static double[] means(double[][] seeds) {
        return java.util.Arrays.stream(seeds).mapToDouble(s -> java.util.Arrays.stream(s).average().orElseThrow()).toArray();
    }

    static Reliability.Moments moments(Table t) {
        int[] all = new int[ARCHS];
        for (int i = 0; i < ARCHS; i++) all[i] = i;
        return Reliability.moments(t.seeds(), java.util.Arrays.stream(t.flops()).map(Math::log).toArray(), all);
    }

    @Test
    void theTrueVarianceAndTheReliabilityAreRecoveredOnAverage() {
        Rng rng = new Rng(11);
        double trueSd = 0.006, noiseSd = 0.004, tables = 400;
        double trueVar = 0, rel = 0, seedVar = 0;
        for (int r = 0; r < tables; r++) {
            Reliability.Moments m = moments(table(0, trueSd, noiseSd, rng));
            trueVar += m.trueVariance() / tables;
            rel += m.reliability() / tables;
            seedVar += m.seedVariance() / tables;
        }
        assertEquals(trueSd * trueSd, trueVar, 0.05 * trueSd * trueSd, "the method of moments is unbiased");
        assertEquals(noiseSd * noiseSd, seedVar, 0.05 * noiseSd * noiseSd);
        // the means' noise variance: noiseSd^2 (30 / 2 + 30 / 1) / 60 = 0.75 noiseSd^2
        assertEquals(trueSd * trueSd / (trueSd * trueSd + 0.75 * noiseSd * noiseSd), rel, 0.03);
    }

    @Test
    void flopsShareIsThePartOfTheTrueVarianceALineInLogFlopsRemoves() {
        Rng rng = new Rng(12);
        double flopsSd = 0.004, residualSd = 0.004, tables = 400, share = 0;
        for (int r = 0; r < tables; r++) share += moments(table(flopsSd, residualSd, 0.003, rng)).flopsShare() / tables;
        assertEquals(0.5, share, 0.05, "half the true variance follows log FLOPs");
    }

    /** What a perfect predictor (one that scores each architecture by its true value) reaches against the observed means. */
    static double perfectTau(Table t) {
        return RankCorrelation.kendallTau(t.truth(), means(t.seeds()));
    }

    /** The old ceiling: seed noise added to the observed means, which stand for the truth. */
    static double observedMeansCeiling(Table t, double noiseSd, Rng rng) {
        double[] m = means(t.seeds()), noisy = new double[m.length];
        for (int i = 0; i < m.length; i++) noisy[i] = m[i] + noiseSd / Math.sqrt(t.seeds()[i].length) * rng.nextGaussian();
        return RankCorrelation.kendallTau(m, noisy);
    }

    @Test
    void theCeilingIsWhatAPerfectPredictorReaches() {
        // a truth of moderate reliability (about 0.7 for the means), where the variances are estimated well enough to tell
        Rng rng = new Rng(13);
        int tables = 60;
        double perfect = 0, ceiling = 0;
        for (int r = 0; r < tables; r++) {
            Table t = table(0, 0.005, 0.004, rng);
            perfect += perfectTau(t) / tables;
            ceiling += Reliability.of(t.seeds(), t.flops(), 200, new Rng(r)).noiseCeiling().estimate() / tables;
        }
        assertEquals(perfect, ceiling, 0.03, "the simulated ceiling is a perfect predictor's tau");
    }

    @Test
    void theOldCeilingTreatedNoiseAsSignal() {
        // a weak truth, as in the first study (the true sd a third of the seed noise's): adding noise to the observed means and taking them
        // for the truth measured how well a second noisy copy agrees with the first, and gave about 0.47 where a perfect predictor reaches 0.26
        Rng rng = new Rng(17);
        double trueSd = 0.002, noiseSd = 0.0055;
        int tables = 100;
        double perfect = 0, old = 0, simulated = 0;
        int[] counts = new int[ARCHS];
        for (int i = 0; i < ARCHS; i++) counts[i] = i < TWO_SEEDS ? 2 : 1;
        for (int r = 0; r < tables; r++) {
            Table t = table(0, trueSd, noiseSd, rng);
            perfect += perfectTau(t) / tables;
            old += observedMeansCeiling(t, noiseSd, rng) / tables;
            simulated += Reliability.simulatedPerfectTau(trueSd * trueSd, noiseSd * noiseSd, counts, rng) / tables;
        }
        assertEquals(perfect, simulated, 0.03, "at the true variances the simulation is a perfect predictor's tau");
        assertTrue(old > perfect + 0.15, "treating the observed means as the truth overstates the ceiling: " + old + " against " + perfect);
    }

    @Test
    void theIntervalsHoldTheTruthInMostTables() {
        Rng rng = new Rng(16);
        double trueSd = 0.003, noiseSd = 0.004;
        int[] counts = new int[ARCHS];
        for (int i = 0; i < ARCHS; i++) counts[i] = i < TWO_SEEDS ? 2 : 1;
        double trueCeiling = 0;
        for (int s = 0; s < 2000; s++) trueCeiling += Reliability.simulatedPerfectTau(trueSd * trueSd, noiseSd * noiseSd, counts, rng) / 2000;
        int variances = 0, ceilings = 0, tables = 60;
        for (int r = 0; r < tables; r++) {
            Table t = table(0, trueSd, noiseSd, rng);
            Reliability rel = Reliability.of(t.seeds(), t.flops(), 300, new Rng(r));
            if (rel.trueVariance().lo() <= trueSd * trueSd && trueSd * trueSd <= rel.trueVariance().hi()) variances++;
            if (rel.noiseCeiling().lo() <= trueCeiling && trueCeiling <= rel.noiseCeiling().hi()) ceilings++;
        }
        assertTrue(variances >= 0.85 * tables, variances + " of " + tables + " intervals hold the true variance");
        assertTrue(ceilings >= 0.85 * tables, ceilings + " of " + tables + " intervals hold the true ceiling " + trueCeiling);
    }

    @Test
    void aTruthOfSeedNoiseAloneRarelyShowsMeasurableSignal() {
        Rng rng = new Rng(14);
        int measurable = 0, tables = 60;
        for (int r = 0; r < tables; r++) {
            Table t = table(0, 0, 0.0055, rng);
            if (Reliability.of(t.seeds(), t.flops(), 300, new Rng(r)).signal() == Reliability.Signal.MEASURABLE) measurable++;
        }
        assertTrue(measurable <= 0.1 * tables, measurable + " of " + tables + " tables of pure noise show measurable signal");
    }

    @Test
    void aStrongTruthIsMeasurableAndItsSeedsAgree() {
        Table t = table(0.004, 0.006, 0.002, new Rng(15));
        Reliability rel = Reliability.of(t.seeds(), t.flops(), 500, new Rng(1));
        assertEquals(Reliability.Signal.MEASURABLE, rel.signal());
        assertTrue(rel.splitHalfTau().estimate() > 0.6 && rel.splitHalfTau().lo() > 0.3, "seeds agree: " + rel.splitHalfTau());
        assertTrue(rel.reliability().estimate() > 0.85 && rel.reliability().lo() > 0.7, rel.reliability().toString());
        assertTrue(rel.noiseCeiling().estimate() > 0.75, rel.noiseCeiling().toString());
        assertEquals(TWO_SEEDS, rel.replicated());
        assertEquals(ARCHS, rel.architectures());
    }

    @Test
    void aTableWithoutASecondSeedCannotTellNoiseFromSignal() {
        assertThrows(IllegalArgumentException.class, () -> Reliability.of(new double[][] {{0.8}, {0.9}, {0.85}}, new double[] {1, 2, 3}, 100, new Rng(1)));
    }
}
