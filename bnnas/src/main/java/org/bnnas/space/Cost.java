// Cost: FLOPs and parameters of an architecture of a search space, counted as the BN-NAS paper
// counts them.
package org.bnnas.space;

/**
 * FLOPs are convolution multiply-accumulates, (Cin / groups) * k * k per output element, plus
 * (2 * in - 1) * out for the classifier; batch norm and activations are not counted (the paper's
 * convention, stated in spaces/bnnas-imagenet.json). Parameters are every weight of the network
 * the architecture selects: convolution weights, batch-norm gamma and beta, classifier weight and
 * bias.
 */
public record Cost(double flops, long params) {

    /** The cost of {@code arch} in {@code space} for inputs of the given channels and size. */
    public static Cost of(SearchSpace space, int[] arch, int inChannels, int inputSize) {
        space.validate(arch);
        Counter c = new Counter();
        int size = c.conv(inputSize, inChannels, space.stemChannels, 3, space.stemStride, 1);
        c.bn(space.stemChannels);
        size = c.conv(size, space.stemChannels, space.stemChannels, space.stemBlockKernel, 1, space.stemChannels);
        c.bn(space.stemChannels);
        size = c.conv(size, space.stemChannels, space.stemBlockOut, 1, 1, 1);
        c.bn(space.stemBlockOut);
        for (SearchSpace.Layer layer : space.layers) {
            int a = arch[layer.index()];
            if (a < 0) continue;
            SearchSpace.Op op = space.ops.get(a);
            int mid = layer.in() * op.expand();
            c.conv(size, layer.in(), mid, 1, 1, 1);
            c.bn(mid);
            size = c.conv(size, mid, mid, op.kernel(), layer.stride(), mid);
            c.bn(mid);
            c.conv(size, mid, layer.out(), 1, 1, 1);
            c.bn(layer.out());
        }
        int last = space.layers.get(space.numLayers() - 1).out();
        c.conv(size, last, space.headChannels, 1, 1, 1);
        c.bn(space.headChannels);
        c.flops += (2.0 * space.headChannels - 1) * space.classes;
        c.params += (long) space.headChannels * space.classes + space.classes;
        return new Cost(c.flops, c.params);
    }

    /**
     * For each layer, its op indices from the cheapest to the dearest in FLOPs (null for fixed
     * identity layers). A layer's cost does not depend on the ops of the other layers, so the
     * cheapest architecture takes the first op of every row and the dearest the last.
     */
    public static int[][] opsByFlops(SearchSpace space, int inChannels, int inputSize) {
        int[] base = new int[space.numLayers()];
        for (SearchSpace.Layer l : space.layers) base[l.index()] = l.fixedIdentity() ? -1 : 0;
        int[][] out = new int[space.numLayers()][];
        for (SearchSpace.Layer l : space.layers) {
            if (l.fixedIdentity()) continue;
            double[] cost = new double[space.ops.size()];
            Integer[] order = new Integer[cost.length];
            for (int o = 0; o < cost.length; o++) {
                int[] a = base.clone();
                a[l.index()] = o;
                cost[o] = of(space, a, inChannels, inputSize).flops();
                order[o] = o;
            }
            java.util.Arrays.sort(order, java.util.Comparator.comparingDouble(o -> cost[o]));
            out[l.index()] = java.util.Arrays.stream(order).mapToInt(Integer::intValue).toArray();
        }
        return out;
    }

    /** The cheapest architecture in FLOPs (the first op of every row of {@link #opsByFlops}) and the dearest (the last). */
    public static int[][] cheapestAndDearest(SearchSpace space, int inChannels, int inputSize) {
        int[][] byFlops = opsByFlops(space, inChannels, inputSize);
        int[] cheapest = new int[space.numLayers()], dearest = new int[space.numLayers()];
        for (SearchSpace.Layer l : space.layers) {
            int[] row = byFlops[l.index()];
            cheapest[l.index()] = row == null ? -1 : row[0];
            dearest[l.index()] = row == null ? -1 : row[row.length - 1];
        }
        return new int[][] {cheapest, dearest};
    }

    /** Accumulates the cost layer by layer. */
    private static final class Counter {
        double flops;
        long params;

        /** A k x k convolution with padding k / 2 on a size x size input; returns the output size. */
        int conv(int size, int in, int out, int k, int stride, int groups) {
            int outSize = (size + 2 * (k / 2) - k) / stride + 1;
            long weights = (long) out * (in / groups) * k * k;
            flops += (double) outSize * outSize * weights;
            params += weights;
            return outSize;
        }

        void bn(int channels) {
            params += 2L * channels;
        }
    }
}
