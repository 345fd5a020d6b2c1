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
 * features.{layer}._ops.{op}.conv.*, conv_1x1_bn.{0,1}, classifier.0. Fixed identity layers hold
 * no ops. {@link #select} chooses the path that {@link #forward} runs.
 */
public final class Supernet extends Module {
    public final SearchSpace space;
    private final Sequential stem, stemBlock, head, classifier; // stemBlock is MBConv_ratio_1.conv
    private final MBConv[][] choices; // [layer][op], null rows for fixed identity layers
    private int[] arch;

    /** The supernet for inputs of {@code inChannels} x size x size (the data set decides). */
    public Supernet(SearchSpace space, int inChannels, Rng rng) {
        this.space = space;
        stem = addModule("conv_bn", stem(space, inChannels, rng));
        stemBlock = stemBlock(space, rng);
        addModule("MBConv_ratio_1", new Container()).addModule("conv", stemBlock);
        Module features = addModule("features", new Container());
        choices = new MBConv[space.numLayers()][];
        for (SearchSpace.Layer l : space.layers) {
            if (l.fixedIdentity()) continue;
            Module layer = features.addModule(Integer.toString(l.index()), new Container());
            Module ops = layer.addModule("_ops", new Container());
            choices[l.index()] = new MBConv[space.ops.size()];
            for (int o = 0; o < space.ops.size(); o++) {
                SearchSpace.Op op = space.ops.get(o);
                choices[l.index()][o] = ops.addModule(Integer.toString(o), new MBConv(l.in(), l.out(), op.kernel(), op.expand(), l.stride(), rng));
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

    /** MBConv_ratio_1.conv: k x k depthwise, BN, ReLU6, 1x1 conv, BN. */
    static Sequential stemBlock(SearchSpace space, Rng rng) {
        int c1 = space.stemChannels, k = space.stemBlockKernel;
        return new Sequential(
                new Conv2d(c1, c1, k, 1, k / 2, c1, rng), new BatchNorm2d(c1), new ReLU6(),
                new Conv2d(c1, space.stemBlockOut, 1, 1, 0, 1, rng), new BatchNorm2d(space.stemBlockOut));
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

    public MBConv op(int layer, int op) {
        return choices[layer][op];
    }

    /** Every op's last BN, [layer][op]; null rows for fixed identity layers. */
    public BatchNorm2d[][] lastBns() {
        BatchNorm2d[][] out = new BatchNorm2d[choices.length][];
        for (int l = 0; l < choices.length; l++) {
            if (choices[l] == null) continue;
            out[l] = new BatchNorm2d[choices[l].length];
            for (int o = 0; o < choices[l].length; o++) out[l][o] = choices[l][o].lastBn();
        }
        return out;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (arch == null) throw new IllegalStateException("Supernet: select(arch) before forward");
        x = stemBlock.forward(stem.forward(x));
        for (int l = 0; l < arch.length; l++) {
            if (arch[l] >= 0) x = choices[l][arch[l]].forward(x);
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
