// BnScoreTest: the BN indicator is the sum over layers of the mean |gamma| of the chosen op's last BN.
package org.bnnas.score;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.Supernet;
import org.junit.jupiter.api.Test;

class BnScoreTest {
    @Test
    void sumsTheMeanAbsoluteGammaOfTheChosenOps() {
        try (Supernet net = new Supernet(SearchSpace.load("bnnas-small"), 1, new Rng(0))) {
            BatchNorm2d[][] bns = net.lastBns();
            // gamma of op o in layer l: alternating signs, magnitude (l + 1) * 0.01 + o
            for (int l = 0; l < bns.length; l++) {
                if (bns[l] == null) continue;
                for (int o = 0; o < bns[l].length; o++) {
                    float[] g = new float[bns[l][o].numFeatures];
                    for (int i = 0; i < g.length; i++) g[i] = (float) ((i % 2 == 0 ? 1 : -1) * ((l + 1) * 0.01 + o));
                    bns[l][o].weight().data().copyFrom(g);
                }
            }
            BnScore score = BnScore.of(net);
            assertEquals(0.01 * 3 + 2, score.entry(2, 2), 1e-6);
            int[] arch = {3, -1, 5, 4, 2, -1, -1, 1, 5, -1, 0, 3, 3, 4, 0, 2, 2, 2, 3, 0, 1};
            double expected = 0;
            for (int l = 0; l < arch.length; l++) if (arch[l] >= 0) expected += (l + 1) * 0.01 + arch[l];
            assertEquals(expected, score.score(arch), 1e-5);
        }
    }

    @Test
    void atInitialisationEveryOpScoresOne() {
        try (Supernet net = new Supernet(SearchSpace.load("bnnas-small"), 1, new Rng(0))) {
            int[] arch = {3, -1, 5, 4, 2, -1, -1, 1, 5, -1, 0, 3, 3, 4, 0, 2, 2, 2, 3, 0, 1};
            assertEquals(17.0, BnScore.of(net).score(arch), 1e-9, "17 choice layers, gamma 1, identity layers add 0");
        }
    }
}
