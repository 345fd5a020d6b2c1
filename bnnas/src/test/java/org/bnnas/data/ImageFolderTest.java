// ImageFolderTest: an image folder is read as torchvision reads one (classes and files sorted,
// other files ignored), its batches are the same whatever the number of threads, evaluation's
// pixels are the official transform's, and bad folders and files are named.
package org.bnnas.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
    @TempDir
    Path dir;

    @Test
    void classesAndFilesComeInSortedOrderAndOtherFilesAreIgnored() throws IOException {
        TestFiles.jpeg(dir.resolve("b/2.jpg"), 8, 8, 1);
        TestFiles.jpeg(dir.resolve("b/nested/1.png.jpg"), 8, 8, 2);
        TestFiles.jpeg(dir.resolve("a/z.jpeg"), 8, 8, 3);
        Files.writeString(dir.resolve("a/notes.txt"), "not an image");
        ImageFolder f = ImageFolder.scan(dir, 16, false);
        assertEquals(List.of("a", "b"), f.classNames());
        assertArrayEquals(new int[] {0, 1, 1}, f.labels());
        assertEquals(List.of(dir.resolve("a/z.jpeg"), dir.resolve("b/2.jpg"), dir.resolve("b/nested/1.png.jpg")), List.of(f.file(0), f.file(1), f.file(2)));
        assertEquals(3, f.channels());
        assertEquals(16, f.size());
    }

    @Test
    void aBatchIsTheSameWhateverTheNumberOfThreads() throws IOException {
        ImageFolder f = (ImageFolder) Datasets.imageFolder(TestFiles.imageFolder(dir, 2, 5), 32, false).train();
        int[] ids = {3, 0, 9, 5, 7};
        float[] one = new float[ids.length * 32 * 32 * 3], three = one.clone();
        try {
            ImageFolder.setWorkers(1);
            f.prepare(ids, true, true, 42, FloatBuffer.wrap(one));
            ImageFolder.setWorkers(3);
            f.prepare(ids, true, true, 42, FloatBuffer.wrap(three));
        } finally {
            ImageFolder.setWorkers(Runtime.getRuntime().availableProcessors());
        }
        assertArrayEquals(one, three);
        float[] other = one.clone();
        f.prepare(ids, true, true, 43, FloatBuffer.wrap(other));
        assertTrue(!java.util.Arrays.equals(one, other), "another seed, other crops");
    }

    @Test
    void evaluationIsTheOfficialTransformNormalisedByImageNetsStatistics() throws IOException {
        ImageFolder f = (ImageFolder) Datasets.imageFolder(TestFiles.imageFolder(dir, 2, 3), 24, false).test();
        float[] out = new float[24 * 24 * 3];
        f.prepare(new int[] {1}, false, false, 0, FloatBuffer.wrap(out));
        ImageTransforms.Image expected = ImageTransforms.eval(ImageDecoder.decode(f.file(1)), 24);
        for (int p = 0; p < 24 * 24; p++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(((expected.rgb()[p * 3 + c] & 0xff) / 255f - ImageFolder.MEAN[c]) / ImageFolder.STD[c], out[p * 3 + c], 0f);
            }
        }
    }

    @Test
    void badFoldersAndFilesAreNamed() throws IOException {
        Path root = TestFiles.imageFolder(dir, 2, 3);
        Path bad = root.resolve("train/class1/img1.JPEG");
        Files.write(bad, new byte[] {(byte) 0xff, (byte) 0xd8, 1, 2, 3});
        ImageFolder f = (ImageFolder) Datasets.imageFolder(root, 16, false).train();
        float[] out = new float[16 * 16 * 3 * 2];
        DataException e = assertThrows(DataException.class, () -> f.prepare(new int[] {0, 4}, false, false, 0, FloatBuffer.wrap(out)));
        assertTrue(e.getMessage().startsWith(bad + ": ") && e.getMessage().endsWith("(--skip-bad-images skips such files)"), e.getMessage());
        ImageFolder skipping = (ImageFolder) Datasets.imageFolder(root, 16, true).train();
        int before = ImageFolder.skipped();
        skipping.prepare(new int[] {0, 4}, false, false, 0, FloatBuffer.wrap(out));
        skipping.prepare(new int[] {4}, false, false, 0, FloatBuffer.wrap(out));
        assertEquals(before + 1, ImageFolder.skipped(), "counted once, however often it comes up");
        float[] next = new float[16 * 16 * 3];
        skipping.prepare(new int[] {5}, false, false, 0, FloatBuffer.wrap(next));
        assertArrayEquals(next, java.util.Arrays.copyOfRange(out, 0, next.length), "its place taken by the next image");

        Files.createDirectories(root.resolve("train/class2"));
        assertTrue(assertThrows(DataException.class, () -> Datasets.imageFolder(root, 16, false)).getMessage()
                .startsWith(root.resolve("train/class2") + ": a class folder without images"));
        TestFiles.jpeg(root.resolve("train/class2/x.jpg"), 9, 9, 0);
        assertEquals(root + ": train/ and val/ have other classes (missing from val/: class2)",
                assertThrows(DataException.class, () -> Datasets.imageFolder(root, 16, false)).getMessage());
        assertTrue(assertThrows(DataException.class, () -> Datasets.imageFolder(dir.resolve("none"), 16, false)).getMessage()
                .startsWith(dir.resolve("none").resolve("train") + ": no such directory"));
    }
}
