// Supernet: the weight-sharing network of a search space: every candidate op of every choice
// layer with its own weights; a forward runs one single path.
package org.bnnas.supernet;

import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.nn.Conv2d;
import org.bnnas.engine.nn.Linear;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.nn.ReLU6;
import org.bnnas.engine.nn.Sequential;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.space.SearchSpace;

/**
 * The supernet with the official code's state-dict names: conv_bn.{0,1}, MBConv_ratio_1.conv.*,
 * features.{layer}._ops.{op}.conv.*, conv_1x1_bn.{0,1}, classifier.0. As in the official code,
 * the fixed identity layers hold ops too, initialised like the others but never on a path, so
 * never trained or scored; they are part of the state dict, so checkpoints move both ways with
 * strict loading. {@link #select} chooses the path that {@link #forward} runs.
 */
public final class Supernet extends Module {
    public final SearchSpace space;
    private final Sequential stem, head, classifier;
    private final StemBlock stemBlock;
    private final MBConv[][] ops; // [layer][op], the fixed identity layers' included (never on a path)
    private int[] arch;

    /** The supernet for inputs of {@code inChannels} x size x size (the data set decides). */
    public Supernet(SearchSpace space, int inChannels, Rng rng) {
        this.space = space;
        stem = addModule("conv_bn", stem(space, inChannels, rng));
        stemBlock = addModule("MBConv_ratio_1", new StemBlock(space, rng));
        Module features = addModule("features", new Container());
        ops = new MBConv[space.numLayers()][space.ops.size()];
        for (SearchSpace.Layer l : space.layers) {
            Module layer = features.addModule(Integer.toString(l.index()), new Container());
            Module layerOps = layer.addModule("_ops", new Container());
            for (int o = 0; o < space.ops.size(); o++) {
                SearchSpace.Op op = space.ops.get(o);
                ops[l.index()][o] = layerOps.addModule(Integer.toString(o), new MBConv(l.in(), l.out(), op.kernel(), op.expand(), l.stride(), rng));
            }
        }
        head = addModule("conv_1x1_bn", head(space, rng));
        classifier = addModule("classifier", new Sequential(new Linear(space.headChannels, space.classes, rng)));
    }

    /** conv_bn: 3x3 conv, BN, ReLU6 (shared with the standalone network). */
    static Sequential stem(SearchSpace space, int inChannels, Rng rng) {
        int c1 = space.stemChannels;
        return new Sequential(new Conv2d(inChannels, c1, 3, space.stemStride, 1, 1, rng), new BatchNorm2d(c1), new ReLU6());
    }

    /** conv_1x1_bn: 1x1 conv to the head width, BN, ReLU6. */
    static Sequential head(SearchSpace space, Rng rng) {
        int last = space.layers.get(space.numLayers() - 1).out();
        return new Sequential(new Conv2d(last, space.headChannels, 1, 1, 0, 1, rng), new BatchNorm2d(space.headChannels), new ReLU6());
    }

    /** Chooses the single path for the following forwards (op index per layer, -1 identity). */
    public Supernet select(int[] arch) {
        space.validate(arch);
        this.arch = arch.clone();
        return this;
    }

    /** Every op's last BN, [layer][op], whose gammas the BN indicator scores; null rows for fixed identity layers. */
    public BatchNorm2d[][] lastBns() {
        BatchNorm2d[][] out = new BatchNorm2d[ops.length][];
        for (SearchSpace.Layer l : space.layers) {
            if (l.fixedIdentity()) continue;
            out[l.index()] = new BatchNorm2d[ops[l.index()].length];
            for (int o = 0; o < ops[l.index()].length; o++) out[l.index()][o] = ops[l.index()][o].lastBn();
        }
        return out;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (arch == null) throw new IllegalStateException("Supernet: select(arch) before forward");
        x = stemBlock.forward(stem.forward(x));
        for (int l = 0; l < arch.length; l++) {
            if (arch[l] >= 0) x = ops[l][arch[l]].forward(x);
        }
        return classifier.forward(Ops.globalAvgPool(head.forward(x)));
    }

    /** A module that only groups named children (ModuleList in PyTorch). */
    static final class Container extends Module {
        @Override public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("a container has no forward of its own");
        }
    }
}
