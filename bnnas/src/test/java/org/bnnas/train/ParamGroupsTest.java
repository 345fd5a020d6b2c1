// ParamGroupsTest: which parameters each training rule trains, and where weight decay applies.
package org.bnnas.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.optim.ParamGroup;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.MBConv;
import org.bnnas.supernet.Supernet;
import org.junit.jupiter.api.Test;

class ParamGroupsTest {
    private static final SearchSpace SPACE = SearchSpace.load("bnnas-small");

    @Test
    void fullTrainingDecaysConvolutionAndClassifierWeightsOnly() {
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0))) {
            MBConv.trainOnlyLastBns(net); // a frozen start: the rule must unfreeze everything
            List<ParamGroup> groups = ParamGroups.allWithWeightDecay(net, 0.5, 0.9, 4e-5);
            assertEquals(2, groups.size());
            ParamGroup decayed = groups.get(0), plain = groups.get(1);
            assertEquals(4e-5, decayed.weightDecay());
            assertEquals(0.0, plain.weightDecay());
            for (ParamGroup g : groups) {
                assertEquals(0.5, g.lr());
                assertEquals(0.9, g.momentum());
            }
            assertEquals(net.parameters().size(), decayed.params().size() + plain.params().size(), "every parameter in one group");
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                String name = e.getKey();
                boolean weight = name.startsWith("classifier.") ? name.endsWith(".weight") : e.getValue().data().rank() == 4;
                assertTrue(e.getValue().requiresGrad(), name);
                assertEquals(weight, decayed.params().contains(e.getValue()), name + (weight ? " is decayed" : " is not decayed"));
            }
        }
    }

    @Test
    void bnOnlyTrainsTheLastBnsInOneGroupWithoutWeightDecay() {
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0))) {
            List<ParamGroup> groups = ParamGroups.lastBnOnly(net, 8.0, 0.9);
            assertEquals(1, groups.size());
            assertEquals(0.0, groups.get(0).weightDecay());
            assertEquals(8.0, groups.get(0).lr());
            assertEquals(0.9, groups.get(0).momentum());
            assertEquals(21 * 6 * 2, groups.get(0).params().size(), "gamma and beta of every op's last BN");
            long trainable = net.parameters().stream().filter(Parameter::requiresGrad).count();
            assertEquals(21 * 6 * 2, trainable, "nothing else requires a gradient");
        }
    }

    @Test
    void theAblationTrainsEveryBnAndNothingElse() {
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0))) {
            List<ParamGroup> groups = ParamGroups.allBnsOnly(net, 8.0, 0.9);
            assertEquals(1, groups.size());
            assertEquals(0.0, groups.get(0).weightDecay());
            // the stem's BN, the stem block's two, three in each of the 21 x 6 ops (the fixed identity layers' included, as the official
            // supernet holds them) and the head's
            int bns = 1 + 2 + 21 * 6 * 3 + 1;
            assertEquals(2 * bns, groups.get(0).params().size());
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                boolean bn = e.getValue().data().rank() == 1 && !e.getKey().startsWith("classifier.");
                assertEquals(bn, e.getValue().requiresGrad(), e.getKey());
            }
        }
    }
}
