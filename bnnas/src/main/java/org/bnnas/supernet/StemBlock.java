// StemBlock: MBConv_ratio_1, the official code's first block: an inverted residual with expand
// ratio 1 (k x k depthwise, BN, ReLU6, 1x1 project, BN) and, like every block of the official
// network, a residual where its stride is 1 and its input and output channels are equal.
package org.bnnas.supernet;

import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.nn.Conv2d;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.nn.ReLU6;
import org.bnnas.engine.nn.Sequential;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.space.SearchSpace;

/** Children named as the official code's: conv.{0,1,3,4} hold the weights. Its stride is always 1. */
public final class StemBlock extends Module implements ResidualBlock {
    private final Sequential conv;
    private final boolean residual;

    /** The stem block of {@code space}: from its stem channels to its stem block's output channels. */
    public StemBlock(SearchSpace space, Rng rng) {
        int in = space.stemChannels, out = space.stemBlockOut, k = space.stemBlockKernel;
        conv = addModule("conv", new Sequential(
                new Conv2d(in, in, k, 1, k / 2, in, rng), new BatchNorm2d(in), new ReLU6(),
                new Conv2d(in, out, 1, 1, 0, 1, rng), new BatchNorm2d(out)));
        residual = in == out;
    }

    /** Whether the block adds its input to its output (stride 1 and equal channels). */
    @Override
    public boolean hasResidual() {
        return residual;
    }

    @Override
    public Sequential layers() {
        return conv;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = conv.forward(x);
        return residual ? Ops.add(x, y) : y;
    }
}
