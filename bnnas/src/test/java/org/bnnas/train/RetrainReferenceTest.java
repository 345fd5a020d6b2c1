// RetrainReferenceTest: what a ground-truth row is made of, pinned. A two-epoch retraining of the
// first bench path of bnnas-small on fixed random images gives the losses, training top-1 and
// final weights recorded below. A kernel or fusion change that moves them by more than float
// rounding changes what every row of a ground-truth table means, and must fail here first.
package org.bnnas.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.bnnas.data.Dataset;
import org.bnnas.data.TestFiles;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.StandaloneNet;
import org.junit.jupiter.api.Test;

class RetrainReferenceTest {
    /** The first path of spaces/bench-archs.json. */
    static final String ARCH = "3,-1,5,4,2,-1,-1,1,5,-1,0,3,3,4,0,2,2,2,3,0,1";

    @Test
    void aRetrainingGivesTheRecordedLossesAndWeights() {
        SearchSpace space = SearchSpace.load("bnnas-small");
        Dataset data = TestFiles.randomImages(256, 3);
        StandaloneNet net = new StandaloneNet(space, Architecture.parse(ARCH, space), 1, new Rng(0));
        List<TrainingLoop.EpochStats> epochs = Retrainer.train(net, data, Retrainer.Config.defaults(2, 64, 0), null, false, null);
        double weights = 0;
        for (Parameter p : net.parameters()) for (float v : p.data().toArray()) weights += Math.abs(v);
        assertEquals(LOSSES[0], epochs.get(0).loss(), 1e-4 * LOSSES[0]);
        assertEquals(LOSSES[1], epochs.get(1).loss(), 1e-4 * LOSSES[1]);
        // rounding may flip a near tie among 256 predictions; more than one means other arithmetic
        assertEquals(TOP1[0], epochs.get(0).top1(), 1.0 / 256 + 1e-9);
        assertEquals(TOP1[1], epochs.get(1).top1(), 1.0 / 256 + 1e-9);
        assertEquals(WEIGHT_SUM, weights, 1e-4 * WEIGHT_SUM);
    }

    /** Recorded at commit 2797714 (the same with one thread and with two). */
    static final double[] LOSSES = {2.3222659, 2.3007168}, TOP1 = {31 / 256.0, 31 / 256.0};
    static final double WEIGHT_SUM = 36852.2506101;
}
