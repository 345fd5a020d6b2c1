// StandaloneNet: one architecture of a space as a network of its own, for retraining, with the
// official code's state-dict names.
package org.bnnas.supernet;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bnnas.engine.io.TensorData;
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

    /**
     * The network of path {@code arch} with the weights and BN statistics the supernet holds for
     * that path: conv_bn, MBConv_ratio_1 and conv_1x1_bn as they are, features.{layer}._ops.{op}
     * as features.{i} (numbered over the path's blocks) and classifier.0 as classifier.1.
     */
    public static StandaloneNet fromSupernet(Supernet supernet, int[] arch, int inChannels) {
        SearchSpace space = supernet.space;
        StandaloneNet net = new StandaloneNet(space, arch, inChannels, new Rng(0));
        Map<String, TensorData> state = new LinkedHashMap<>();
        for (String shared : List.of("conv_bn", "MBConv_ratio_1", "conv_1x1_bn")) put(state, shared, supernet.children().get(shared));
        Map<String, Module> layers = supernet.children().get("features").children();
        int i = 0;
        for (SearchSpace.Layer l : space.layers) {
            if (arch[l.index()] < 0) continue;
            put(state, "features." + i++, layers.get(Integer.toString(l.index())).children().get("_ops").children().get(Integer.toString(arch[l.index()])));
        }
        put(state, "classifier.1", supernet.children().get("classifier").children().get("0"));
        net.loadStateDict(state, true);
        return net;
    }

    private static void put(Map<String, TensorData> state, String prefix, Module m) {
        m.stateDict().forEach((name, value) -> state.put(prefix + "." + name, value));
    }

    /** conv_bn: the stem's 3x3 convolution, BN and ReLU6. */
    public Sequential stem() {
        return stem;
    }

    /** The blocks in forward order: the stem block, then one per block of the path. */
    public List<ResidualBlock> blocks() {
        List<ResidualBlock> out = new ArrayList<>(List.of(stemBlock));
        out.addAll(blocks);
        return out;
    }

    /** conv_1x1_bn: the head's 1x1 convolution, BN and ReLU6. */
    public Sequential head() {
        return head;
    }

    /** The classifier's linear layer, classifier.1. */
    public Linear classifierLinear() {
        return (Linear) classifier.get(1);
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
