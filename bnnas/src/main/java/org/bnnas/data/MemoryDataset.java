// MemoryDataset: a data set held in memory: images as unsigned bytes in CHW order, labels, and the
// normalisation and augmentation of its kind (random crop after zero padding, horizontal flip).
package org.bnnas.data;

import java.nio.FloatBuffer;
import org.bnnas.engine.tensor.Rng;

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
public record MemoryDataset(String name, byte[] images, int[] labels, int channels, int size, int classes,
                            float[] mean, float[] std, int cropPadding, boolean flip) implements Dataset {

    public MemoryDataset {
        if ((long) labels.length * channels * size * size != images.length) {
            throw new IllegalArgumentException("Dataset " + name + ": " + images.length + " bytes for "
                    + labels.length + " images of " + channels + "x" + size + "x" + size);
        }
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException("Dataset " + name + ": mean/std need one value per channel");
        }
    }

    @Override
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

    @Override
    public MemoryDataset subset(int[] indices) {
        int b = imageBytes();
        byte[] img = new byte[indices.length * b];
        int[] lab = new int[indices.length];
        for (int k = 0; k < indices.length; k++) {
            System.arraycopy(images, indices[k] * b, img, k * b, b);
            lab[k] = labels[indices[k]];
        }
        return new MemoryDataset(name, img, lab, channels, size, classes, mean, std, cropPadding, flip);
    }

    /**
     * The images {@code ids}, in order: each shifted by a random crop within the zero padding of
     * {@code cropPadding} (a padded pixel is byte 0, black, normalised, as torchvision pads before
     * Normalize) and flipped with probability 1/2, the draws taken in turn from one generator seeded
     * with {@code seed}.
     */
    @Override
    public void prepare(int[] ids, boolean crop, boolean flip, long seed, FloatBuffer out) {
        int c = channels, s = size, plane = s * s, img = c * plane;
        Rng rng = new Rng(seed);
        int pad = crop ? cropPadding : 0;
        // A table per channel gives exactly normalised()'s values.
        float[][] table = new float[c][256];
        for (int ch = 0; ch < c; ch++) for (int v = 0; v < 256; v++) table[ch][v] = normalised(v, ch);
        for (int k = 0; k < ids.length; k++) {
            // Crop offset in the padded image, minus the padding: the source pixel of (y, x) is (y + dy, x + dx).
            int dy = pad > 0 ? rng.nextInt(2 * pad + 1) - pad : 0;
            int dx = pad > 0 ? rng.nextInt(2 * pad + 1) - pad : 0;
            boolean flipped = flip && rng.nextInt(2) == 1;
            int src = ids[k] * img, dst = k * img;
            for (int ch = 0; ch < c; ch++) {
                float[] t = table[ch];
                for (int y = 0; y < s; y++) {
                    int sy = y + dy;
                    for (int x = 0; x < s; x++) {
                        int sx = (flipped ? s - 1 - x : x) + dx;
                        float v = (sy < 0 || sy >= s || sx < 0 || sx >= s) ? t[0] : t[images[src + ch * plane + sy * s + sx] & 0xff];
                        out.put(dst + (y * s + x) * c + ch, v);
                    }
                }
            }
        }
    }
}
