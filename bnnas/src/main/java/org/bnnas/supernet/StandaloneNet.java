// StandaloneNet: one architecture of a space as a network of its own, for retraining, with the
// official code's state-dict names.
package org.bnnas.supernet;

import java.util.ArrayList;
import java.util.List;
import org.bnnas.engine.nn.Dropout;
import org.bnnas.engine.nn.Linear;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.nn.Sequential;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.space.SearchSpace;

/**
 * conv_bn.*, MBConv_ratio_1.conv.*, features.{i}.conv.* numbered over the non-identity layers
 * only, conv_1x1_bn.*, and classifier.{0: dropout, 1: linear}, as the official code names a
 * retrained network, so its checkpoints load there and the reverse.
 */
public final class StandaloneNet extends Module {
    public final SearchSpace space;
    public final int[] arch;
    private final Sequential stem, head, classifier;
    private final StemBlock stemBlock;
    private final List<MBConv> blocks = new ArrayList<>();
    private final Dropout dropout;

    public StandaloneNet(SearchSpace space, int[] arch, int inChannels, Rng rng) {
        space.validate(arch);
        this.space = space;
        this.arch = arch.clone();
        stem = addModule("conv_bn", Supernet.stem(space, inChannels, rng));
        stemBlock = addModule("MBConv_ratio_1", new StemBlock(space, rng));
        Module features = addModule("features", new Supernet.Container());
        for (SearchSpace.Layer l : space.layers) {
            if (arch[l.index()] < 0) continue;
            SearchSpace.Op op = space.ops.get(arch[l.index()]);
            blocks.add(features.addModule(Integer.toString(blocks.size()), new MBConv(l.in(), l.out(), op.kernel(), op.expand(), l.stride(), rng)));
        }
        head = addModule("conv_1x1_bn", Supernet.head(space, rng));
        dropout = new Dropout((float) space.dropoutRetrain, rng.split());
        classifier = addModule("classifier", new Sequential(dropout, new Linear(space.headChannels, space.classes, rng)));
    }

    /** The dropout before the classifier (its generator is part of a training checkpoint). */
    public Dropout dropout() {
        return dropout;
    }

    @Override
    public Tensor forward(Tensor x) {
        x = stemBlock.forward(stem.forward(x));
        for (MBConv b : blocks) x = b.forward(x);
        return classifier.forward(Ops.globalAvgPool(head.forward(x)));
    }
}
