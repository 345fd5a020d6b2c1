// DataReadersTest: IDX and CIFAR-10 reading, good files and every kind of bad one.
package org.bnnas.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataReadersTest {
    @TempDir Path dir;

    /** The failure must be one line naming the file and containing {@code what}. */
    private static void assertRefused(Path file, String what, Runnable r) {
        DataException e = assertThrows(DataException.class, r::run);
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(what), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void idxRawAndGzipReadTheSame() throws IOException {
        for (boolean gz : new boolean[] {false, true}) {
            Path img = TestFiles.write(dir.resolve("img" + gz), TestFiles.idxImages(3, 4, 5), gz);
            Path lab = TestFiles.write(dir.resolve("lab" + gz), TestFiles.idxLabels(7, 0, 9), gz);
            IdxReader.Images im = IdxReader.readImages(img);
            assertEquals(3, im.count());
            assertEquals(4, im.rows());
            assertEquals(5, im.cols());
            assertEquals(TestFiles.pixel(2, 13), im.pixels()[2 * 20 + 13] & 0xff);
            assertArrayEquals(new int[] {7, 0, 9}, IdxReader.readLabels(lab));
        }
    }

    @Test
    void mnistRoundTripWithNormalisation() throws IOException {
        Datasets.Pair p = Datasets.load("mnist", TestFiles.idxDir(dir, 12, 5));
        assertEquals(12, p.train().count());
        assertEquals(5, p.test().count());
        assertEquals(1, p.train().channels());
        assertEquals(28, p.train().size());
        assertArrayEquals(TestFiles.labels(12), p.train().labels());
        int v = TestFiles.pixel(3, 5 * 28 + 6);
        assertEquals(v, ((MemoryDataset) p.train()).pixel(3, 0, 5, 6));
        assertEquals((v / 255f - 0.1307f) / 0.3081f, ((MemoryDataset) p.train()).normalised(v, 0), 1e-6f);
        assertTrue(!p.train().flip(), "MNIST is not flipped");
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("absent.gz");
        assertRefused(f, "missing file", () -> IdxReader.readImages(f));
        assertRefused(dir.resolve("train-images-idx3-ubyte.gz"), "missing file", () -> Datasets.load("fashion-mnist", dir));
    }

    @Test
    void wrongMagic() throws IOException {
        Path f = TestFiles.write(dir.resolve("labels-as-images.gz"), TestFiles.idxLabels(1, 2), true);
        assertRefused(f, "wrong magic number 0x00000801", () -> IdxReader.readImages(f));
        Path g = TestFiles.write(dir.resolve("images-as-labels"), TestFiles.idxImages(1, 2, 2), false);
        assertRefused(g, "wrong magic number 0x00000803", () -> IdxReader.readLabels(g));
    }

    @Test
    void truncatedFiles() throws IOException {
        byte[] full = TestFiles.idxImages(4, 28, 28);
        Path raw = TestFiles.write(dir.resolve("short-raw"), Arrays.copyOf(full, full.length - 10), false);
        assertRefused(raw, "truncated file", () -> IdxReader.readImages(raw));
        Path header = TestFiles.write(dir.resolve("short-header"), Arrays.copyOf(full, 9), false);
        assertRefused(header, "truncated file", () -> IdxReader.readImages(header));
        // A gzip stream cut short: the compressed bytes stop mid-way.
        Path gz = TestFiles.write(dir.resolve("whole.gz"), full, true);
        byte[] packed = Files.readAllBytes(gz);
        Path cut = TestFiles.write(dir.resolve("cut.gz"), Arrays.copyOf(packed, packed.length / 2), false);
        assertRefused(cut, "truncated file", () -> IdxReader.readImages(cut));
    }

    @Test
    void labelOutOfRange() throws IOException {
        TestFiles.idxDir(dir, 3, 3);
        Path lab = TestFiles.write(dir.resolve("train-labels-idx1-ubyte.gz"), TestFiles.idxLabels(1, 10, 2), true);
        assertRefused(lab, "label 10 at index 1 out of range", () -> Datasets.load("mnist", dir));
    }

    @Test
    void countMismatch() throws IOException {
        TestFiles.idxDir(dir, 3, 3);
        Path lab = TestFiles.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), TestFiles.idxLabels(1, 2), true);
        assertRefused(lab, "2 labels but", () -> Datasets.load("fashion-mnist", dir));
    }

    @Test
    void unequalImageSizes() throws IOException {
        TestFiles.idxDir(dir, 3, 3);
        Path img = TestFiles.write(dir.resolve("t10k-images-idx3-ubyte.gz"), TestFiles.idxImages(3, 28, 27), true);
        assertRefused(img, "images are 28x27, expected 28x28", () -> Datasets.load("fashion-mnist", dir));
    }

    @Test
    void cifarRoundTrip() throws IOException {
        Datasets.Pair p = Datasets.load("cifar10", TestFiles.cifarDir(dir, 4));
        MemoryDataset tr = (MemoryDataset) p.train();
        assertEquals(20, tr.count());
        assertEquals(4, p.test().count());
        assertEquals(3, tr.channels());
        assertEquals(32, tr.size());
        assertEquals(7 % 10, tr.labels()[7]);
        // Image 7, green plane (channel 1), row 3, column 9 is byte 1024 + 3 * 32 + 9 of its record.
        int v = TestFiles.pixel(7, 1024 + 3 * 32 + 9);
        assertEquals(v, tr.pixel(7, 1, 3, 9));
        assertEquals((v / 255f - 0.4822f) / 0.2435f, tr.normalised(v, 1), 1e-6f);
        assertTrue(tr.flip());
        assertEquals(4, tr.cropPadding());
    }

    @Test
    void cifarBadFiles() throws IOException {
        Path shortFile = TestFiles.write(dir.resolve("data_batch_1.bin"), Arrays.copyOf(TestFiles.cifar(0, 2), 3073 + 100), false);
        assertRefused(shortFile, "not a whole number of 3073-byte records", () -> CifarReader.read(List.of(shortFile)));
        byte[] b = TestFiles.cifar(0, 2);
        b[3073] = 10;
        Path badLabel = TestFiles.write(dir.resolve("test_batch.bin"), b, false);
        assertRefused(badLabel, "label 10 of record 1 out of range", () -> CifarReader.read(List.of(badLabel)));
        Path absent = dir.resolve("data_batch_9.bin");
        assertRefused(absent, "missing file", () -> CifarReader.read(List.of(absent)));
    }
}
