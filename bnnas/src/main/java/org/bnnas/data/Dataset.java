// Dataset: images as unsigned bytes in CHW order, labels, and the normalisation and augmentation of its kind.
package org.bnnas.data;

/**
 * An image classification data set held as bytes (60000 x 784 bytes for Fashion-MNIST) so memory stays
 * small; {@link #normalised} turns a pixel into the float the network sees: (x / 255 - mean) / std.
 *
 * @param name          fashion-mnist, mnist or cifar10
 * @param images        count x channels x size x size bytes, each image in CHW order, rows row-major
 * @param labels        one per image, in 0 .. classes-1
 * @param cropPadding   zero padding for the training random crop (2 for 28x28, 4 for 32x32)
 * @param flip          whether training uses random horizontal flips (not for MNIST: digits are not symmetric)
 */
public record Dataset(String name, byte[] images, int[] labels, int channels, int size, int classes,
                      float[] mean, float[] std, int cropPadding, boolean flip) {

    public Dataset {
        if ((long) labels.length * channels * size * size != images.length) {
            throw new IllegalArgumentException("Dataset " + name + ": " + images.length + " bytes for "
                    + labels.length + " images of " + channels + "x" + size + "x" + size);
        }
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException("Dataset " + name + ": mean/std need one value per channel");
        }
    }

    public int count() { return labels.length; }

    public int imageBytes() { return channels * size * size; }

    /** Pixel (channel c, row y, column x) of image i, as the unsigned byte value 0..255. */
    public int pixel(int i, int c, int y, int x) {
        return images[i * imageBytes() + (c * size + y) * size + x] & 0xff;
    }

    /** The normalised value of byte value {@code v} in channel {@code c}. */
    public float normalised(int v, int c) {
        return (v / 255f - mean[c]) / std[c];
    }

    /** The first {@code n} images (a split is shuffled already, so they are a random sample of it). */
    public Dataset first(int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        return subset(idx);
    }

    /** The images at {@code indices}, in that order, as a new data set of the same kind. */
    public Dataset subset(int[] indices) {
        int b = imageBytes();
        byte[] img = new byte[indices.length * b];
        int[] lab = new int[indices.length];
        for (int k = 0; k < indices.length; k++) {
            System.arraycopy(images, indices[k] * b, img, k * b, b);
            lab[k] = labels[indices[k]];
        }
        return new Dataset(name, img, lab, channels, size, classes, mean, std, cropPadding, flip);
    }
}
