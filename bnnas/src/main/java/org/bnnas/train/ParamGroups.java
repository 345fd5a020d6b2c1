// ParamGroups: the optimizer's parameter groups under the training rules: BN-NAS's (only the last
// BN of each block is trained), its ablation (every BN trained) and full training's (every
// parameter, weight decay on weights).
package org.bnnas.train;

import java.util.ArrayList;
import java.util.List;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.optim.ParamGroup;
import org.bnnas.supernet.MBConv;

/** Each rule sets which parameters require gradients and returns the groups, in the module's parameter order. */
public final class ParamGroups {
    private ParamGroups() {}

    /**
     * BN-NAS: every parameter of {@code net} frozen except gamma and beta of each block's last BN
     * ({@link MBConv#trainOnlyLastBns}), in one group without weight decay.
     */
    public static List<ParamGroup> lastBnOnly(Module net, double lr, double momentum) {
        return List.of(ParamGroup.of(MBConv.trainOnlyLastBns(net), lr).momentum(momentum));
    }

    /**
     * The ablation of BN-NAS's rule: every parameter frozen except gamma and beta of every BN of
     * {@code net} (stem, blocks and head), in one group without weight decay.
     */
    public static List<ParamGroup> allBnsOnly(Module net, double lr, double momentum) {
        net.requiresGrad(false);
        List<Parameter> trainable = new ArrayList<>();
        collectBns(net, trainable);
        return List.of(ParamGroup.of(trainable, lr).momentum(momentum));
    }

    private static void collectBns(Module m, List<Parameter> out) {
        if (m instanceof BatchNorm2d bn) {
            out.add(bn.weight().requiresGrad(true));
            out.add(bn.bias().requiresGrad(true));
            return;
        }
        m.children().values().forEach(c -> collectBns(c, out));
    }

    /**
     * SPOS and retraining: every parameter of {@code net} trained; weight decay on convolution and
     * linear weights (rank above 1) only, not on BN parameters or biases.
     */
    public static List<ParamGroup> allWithWeightDecay(Module net, double lr, double momentum, double weightDecay) {
        net.requiresGrad(true);
        List<Parameter> decayed = new ArrayList<>(), plain = new ArrayList<>();
        net.namedParameters().forEach((name, p) -> (p.data().rank() > 1 ? decayed : plain).add(p));
        return List.of(
                ParamGroup.of(decayed, lr).momentum(momentum).weightDecay(weightDecay),
                ParamGroup.of(plain, lr).momentum(momentum));
    }
}
