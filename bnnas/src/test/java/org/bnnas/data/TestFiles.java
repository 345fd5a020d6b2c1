// TestFiles: writes small IDX and CIFAR-10 files and image folders of JPEGs for the data tests.
package org.bnnas.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

public final class TestFiles {
    private TestFiles() {}

    /** Pixel value of image i at flat position p: varied, but predictable by the tests. */
    static int pixel(int i, int p) {
        return (i * 31 + p * 7) & 0xff;
    }

    static byte[] idxImages(int count, int rows, int cols) {
        ByteBuffer b = ByteBuffer.allocate(16 + count * rows * cols);
        b.putInt(0x00000803).putInt(count).putInt(rows).putInt(cols);
        for (int i = 0; i < count; i++) for (int p = 0; p < rows * cols; p++) b.put((byte) pixel(i, p));
        return b.array();
    }

    static byte[] idxLabels(int... labels) {
        ByteBuffer b = ByteBuffer.allocate(8 + labels.length);
        b.putInt(0x00000801).putInt(labels.length);
        for (int l : labels) b.put((byte) l);
        return b.array();
    }

    static int[] labels(int count) {
        int[] l = new int[count];
        for (int i = 0; i < count; i++) l[i] = i % 10;
        return l;
    }

    static Path write(Path file, byte[] content, boolean gzip) throws IOException {
        if (gzip) {
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            try (OutputStream gz = new GZIPOutputStream(bos)) { gz.write(content); }
            content = bos.toByteArray();
        }
        Files.write(file, content);
        return file;
    }

    /** An MNIST-style directory with the four standard file names (gzip-compressed). */
    public static Path idxDir(Path dir, int trainCount, int testCount) throws IOException {
        write(dir.resolve("train-images-idx3-ubyte.gz"), idxImages(trainCount, 28, 28), true);
        write(dir.resolve("train-labels-idx1-ubyte.gz"), idxLabels(labels(trainCount)), true);
        write(dir.resolve("t10k-images-idx3-ubyte.gz"), idxImages(testCount, 28, 28), true);
        write(dir.resolve("t10k-labels-idx1-ubyte.gz"), idxLabels(labels(testCount)), true);
        return dir;
    }

    /** CIFAR-10 records: label i % 10, pixel bytes pixel(i, p) in the file's R, G, B plane order. */
    static byte[] cifar(int firstImage, int count) {
        byte[] b = new byte[count * CifarReader.RECORD_BYTES];
        for (int r = 0; r < count; r++) {
            int i = firstImage + r;
            b[r * CifarReader.RECORD_BYTES] = (byte) (i % 10);
            for (int p = 0; p < CifarReader.IMAGE_BYTES; p++) b[r * CifarReader.RECORD_BYTES + 1 + p] = (byte) pixel(i, p);
        }
        return b;
    }

    public static Path cifarDir(Path dir, int perFile) throws IOException {
        for (int f = 1; f <= 5; f++) write(dir.resolve("data_batch_" + f + ".bin"), cifar((f - 1) * perFile, perFile), false);
        write(dir.resolve("test_batch.bin"), cifar(0, perFile), false);
        return dir;
    }

    /** {@code count} random 1x28x28 images with random labels of 10 classes, drawn from {@code seed}, for training tests. */
    public static Dataset randomImages(int count, long seed) {
        org.bnnas.engine.tensor.Rng rng = new org.bnnas.engine.tensor.Rng(seed);
        byte[] images = new byte[count * 784];
        int[] labels = new int[count];
        for (int i = 0; i < images.length; i++) images[i] = (byte) rng.nextInt(256);
        for (int i = 0; i < labels.length; i++) labels[i] = rng.nextInt(10);
        return new MemoryDataset("random", images, labels, 1, 28, 10, new float[] {0.5f}, new float[] {0.3f}, 2, true);
    }

    /** A w x h JPEG whose colours depend on {@code seed}. */
    public static void jpeg(Path file, int w, int h, int seed) throws IOException {
        BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) im.setRGB(x, y, ((x * 7 + seed * 31) & 0xff) << 16 | ((y * 5 + seed * 17) & 0xff) << 8 | (x * y + seed) & 0xff);
        Files.createDirectories(file.getParent());
        if (!ImageIO.write(im, "jpg", file.toFile())) throw new IOException("no JPEG writer");
    }

    /** DIR/train and DIR/val with {@code classes} classes of {@code perClass} images each (val: two per class). */
    public static Path imageFolder(Path root, int classes, int perClass) throws IOException {
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < perClass; i++) jpeg(root.resolve("train/class" + c + "/img" + i + ".JPEG"), 40 + 3 * i, 30 + 2 * c, c * 100 + i);
            for (int i = 0; i < 2; i++) jpeg(root.resolve("val/class" + c + "/v" + i + ".jpg"), 36, 44, c * 100 + 50 + i);
        }
        return root;
    }
}
