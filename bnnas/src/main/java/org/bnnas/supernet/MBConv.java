// MBConv: the inverted-residual block of the space: 1x1 expand, BN, ReLU6, k x k depthwise, BN,
// ReLU6, 1x1 project, BN, with a residual where stride is 1 and channels match.
package org.bnnas.supernet;

import java.util.ArrayList;
import java.util.List;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.nn.ActivationProbe;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.nn.Conv2d;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.nn.ReLU6;
import org.bnnas.engine.nn.Sequential;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;

/** Children named as the official code's: conv.{0,1,3,4,6,7} hold the weights. */
public final class MBConv extends Module implements ResidualBlock {
    private final Sequential conv;
    private final boolean residual;

    public MBConv(int in, int out, int kernel, int expand, int stride, Rng rng) {
        int mid = in * expand;
        conv = addModule("conv", new Sequential(
                new Conv2d(in, mid, 1, 1, 0, 1, rng), new BatchNorm2d(mid), new ReLU6(),
                new Conv2d(mid, mid, kernel, stride, kernel / 2, mid, rng), new BatchNorm2d(mid), new ReLU6(),
                new Conv2d(mid, out, 1, 1, 0, 1, rng), new BatchNorm2d(out)));
        residual = stride == 1 && in == out;
    }

    @Override
    public boolean hasResidual() {
        return residual;
    }

    @Override
    public Sequential layers() {
        return conv;
    }

    /** The block's last BN, whose gamma BN-NAS trains and scores. */
    public BatchNorm2d lastBn() {
        return (BatchNorm2d) conv.get(7);
    }

    /**
     * BN-NAS's rule: freezes every parameter of {@code root} and returns gamma and beta of the last
     * BN of each block in it, made trainable, in module order (a supernet's: layer by layer, op by op).
     */
    public static List<Parameter> trainOnlyLastBns(Module root) {
        root.requiresGrad(false);
        List<Parameter> trainable = new ArrayList<>();
        collectLastBns(root, trainable);
        return trainable;
    }

    private static void collectLastBns(Module m, List<Parameter> out) {
        if (m instanceof MBConv block) {
            out.add(block.lastBn().weight().requiresGrad(true));
            out.add(block.lastBn().bias().requiresGrad(true));
            return;
        }
        m.children().values().forEach(c -> collectLastBns(c, out));
    }

    @Override
    public Tensor forward(Tensor x) {
        // The fused inference op hides both activations: with a probe open the layers run as in training.
        if (!training && !GradMode.isEnabled() && !ActivationProbe.active()) return inference(x);
        Tensor y = layers(x);
        return residual ? Ops.add(x, y) : y;
    }

    /**
     * conv.forward(x), with the first BN, its ReLU6 and the depthwise conv run as one op so that
     * the block's largest activation is never written out.
     */
    private Tensor layers(Tensor x) {
        Tensor t = ((BatchNorm2d) conv.get(1)).forwardIntoDepthwise(conv.get(0).forward(x), 6f, (Conv2d) conv.get(3));
        t = ((BatchNorm2d) conv.get(4)).forward(t, 6f);
        return conv.get(7).forward(conv.get(6).forward(t));
    }

    /**
     * The same block for evaluation without gradients, as one op with each BN as its affine map:
     * the expanded activations, the block's largest, are never written out (see
     * Ops.invertedResidualInference).
     */
    private Tensor inference(Tensor x) {
        Conv2d expand = (Conv2d) conv.get(0), depthwise = (Conv2d) conv.get(3), project = (Conv2d) conv.get(6);
        Tensor[] first = ((BatchNorm2d) conv.get(1)).evalAffine(), second = ((BatchNorm2d) conv.get(4)).evalAffine();
        Tensor[] last = lastBn().evalAffine();
        return Ops.invertedResidualInference(x, expand.weight().data(), first[0], first[1], depthwise.weight().data(), depthwise.stride,
                second[0], second[1], project.weight().data(), last[0], last[1], 6f, residual);
    }
}
