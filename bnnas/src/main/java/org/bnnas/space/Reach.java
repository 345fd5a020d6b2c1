// Reach: how much of its input map a layer's depthwise kernel sees from each output pixel. Where
// even a space's largest kernel sees the whole map from every pixel, its kernel sizes are one
// function class in several parameterisations rather than a choice of receptive field.
package org.bnnas.space;

import java.util.TreeSet;

/** Depthwise convolutions here pad k / 2 on each side, as the blocks of every space do. */
public final class Reach {
    private Reach() {}

    /** Each layer's input map size (square) for inputs of {@code inputSize}: after the stem's stride, then each layer's. */
    public static int[] inputMaps(SearchSpace s, int inputSize) {
        int[] maps = new int[s.numLayers()];
        int size = outputSize(inputSize, 3, s.stemStride);
        for (SearchSpace.Layer l : s.layers) {
            maps[l.index()] = size;
            size = outputSize(size, 3, l.stride());
        }
        return maps;
    }

    /** The output size of a k x k convolution with padding k / 2 (the same for every odd k). */
    static int outputSize(int size, int kernel, int stride) {
        return (size + 2 * (kernel / 2) - kernel) / stride + 1;
    }

    /** The mean share of a size x size map that a kernel x kernel window reaches, over the output pixels at {@code stride}. */
    public static double share(int size, int kernel, int stride) {
        int out = outputSize(size, kernel, stride), r = kernel / 2;
        double sum = 0;
        for (int p = 0; p < out; p++) sum += Math.min(size - 1, p * stride + r) - Math.max(0, p * stride - r) + 1;
        double perAxis = sum / out / size;
        return perAxis * perAxis;
    }

    /** Whether a kernel x kernel window misses part of the map from some output pixel. */
    public static boolean missesPart(int size, int kernel, int stride) {
        int out = outputSize(size, kernel, stride), r = kernel / 2;
        for (int p = 0; p < out; p++) if (p * stride - r > 0 || p * stride + r < size - 1) return true;
        return false;
    }

    /** The distinct kernel sizes of the space's ops, smallest first. */
    public static TreeSet<Integer> kernels(SearchSpace s) {
        TreeSet<Integer> k = new TreeSet<>();
        s.ops.forEach(o -> k.add(o.kernel()));
        return k;
    }

    /** Whether the choice of kernel changes what a choice layer on a map of {@code size} sees: even the largest kernel misses part of it. */
    public static boolean kernelMatters(SearchSpace s, SearchSpace.Layer l, int size) {
        return !l.fixedIdentity() && missesPart(size, kernels(s).last(), l.stride());
    }
}
