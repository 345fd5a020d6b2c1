// Dataset: a labelled image set as the loaders read it: in memory (MemoryDataset: MNIST,
// Fashion-MNIST, CIFAR-10) or files on disk (ImageFolder), each with the augmentation of its kind.
package org.bnnas.data;

import java.nio.FloatBuffer;

/** The images the network sees are channels x size x size; labels are in 0 .. classes - 1. */
public interface Dataset {
    String name();

    int count();

    /** One label per image. */
    int[] labels();

    int channels();

    int size();

    int classes();

    /** Whether training flips images horizontally (not MNIST: digits are not symmetric). */
    boolean flip();

    /** The images at {@code indices}, in that order, as a data set of the same kind. */
    Dataset subset(int[] indices);

    /** The first {@code n} images (a split is shuffled already, so they are a random sample of it). */
    default Dataset first(int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        return subset(idx);
    }

    /**
     * Writes images {@code ids} (in order) into {@code out} as the network sees them: normalised
     * floats, image after image from index 0, each in storage order (size x size x channels), by
     * absolute puts (the buffer's position is not used); augmented for training when {@code crop}
     * (and flipped at random when {@code flip}), every random draw coming from {@code seed}, so that
     * a batch depends on nothing else.
     */
    void prepare(int[] ids, boolean crop, boolean flip, long seed, FloatBuffer out);
}
