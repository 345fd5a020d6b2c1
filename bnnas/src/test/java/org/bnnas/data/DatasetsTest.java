// DatasetsTest: the seeded validation split, and the real Fashion-MNIST files when this machine has them.
package org.bnnas.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    /** The in-memory data set a test built, to read its pixels. */
    static MemoryDataset mem(Dataset d) {
        return (MemoryDataset) d;
    }

    @TempDir Path dir;

    /** A data set whose image i has every pixel equal to i, so an image tells its index. */
    static MemoryDataset indexed(int count) {
        byte[] img = new byte[count * 784];
        for (int i = 0; i < count; i++) java.util.Arrays.fill(img, i * 784, (i + 1) * 784, (byte) i);
        return new MemoryDataset("fashion-mnist", img, TestFiles.labels(count), 1, 28, 10,
                new float[] {0.2860f}, new float[] {0.3530f}, 2, true);
    }

    private static Set<Integer> ids(Dataset d) {
        Set<Integer> s = new HashSet<>();
        for (int i = 0; i < d.count(); i++) s.add(mem(d).pixel(i, 0, 0, 0));
        return s;
    }

    @Test
    void splitIsDeterministicAndDisjoint() {
        Dataset d = indexed(200);
        Datasets.Split a = Datasets.split(d, 50, 42);
        Datasets.Split b = Datasets.split(d, 50, 42);
        assertEquals(150, a.train().count());
        assertEquals(50, a.validation().count());
        assertArrayEquals(mem(a.train()).images(), mem(b.train()).images());
        assertArrayEquals(mem(a.validation()).images(), mem(b.validation()).images());
        Set<Integer> tr = ids(a.train()), va = ids(a.validation());
        assertEquals(150, tr.size());
        assertEquals(50, va.size());
        tr.retainAll(va);
        assertTrue(tr.isEmpty(), "train and validation overlap");
        // Labels travel with their images.
        for (int i = 0; i < a.validation().count(); i++) {
            assertEquals(mem(a.validation()).pixel(i, 0, 0, 0) % 10, a.validation().labels()[i]);
        }
        assertFalse(ids(Datasets.split(d, 50, 43).validation()).equals(va), "another seed, another split");
    }

    @Test
    void fashionMnistFromGeneratedFiles() throws IOException {
        Datasets.Pair p = Datasets.load("fashion-mnist", TestFiles.idxDir(dir, 6, 2));
        int v = TestFiles.pixel(1, 0);
        assertEquals((v / 255f - 0.2860f) / 0.3530f, ((MemoryDataset) p.train()).normalised(((MemoryDataset) p.train()).pixel(1, 0, 0, 0), 0), 1e-6f);
        assertTrue(p.train().flip());
    }

    @Test
    void loadSplitsHoldsOutTheValidationPartAndKeepsTheTestSetWhole() throws IOException {
        Path files = TestFiles.idxDir(dir, 60, 20);
        Datasets.Splits s = Datasets.loadSplits("fashion-mnist", files, 15, 7);
        Datasets.Split expected = Datasets.split(Datasets.load("fashion-mnist", files).train(), 15, 7);
        assertEquals(45, s.train().count());
        assertArrayEquals(mem(expected.train()).images(), mem(s.train()).images(), "the seeded split of the training set");
        assertArrayEquals(mem(expected.validation()).images(), mem(s.validation()).images());
        assertEquals(20, s.test().count());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Datasets.loadSplits("fashion-mnist", files, 60, 7));
        assertEquals("holding out 60 images leaves none for training (the training set has 60)", e.getMessage());
    }

    @Test
    void realFashionMnist() {
        Assumptions.assumeTrue(Files.isDirectory(Datasets.FASHION_MNIST_DIR), "no " + Datasets.FASHION_MNIST_DIR);
        Datasets.Pair p = Datasets.load("fashion-mnist");
        assertEquals(60000, p.train().count());
        assertEquals(10000, p.test().count());
        for (Dataset d : new Dataset[] {p.train(), p.test()}) {
            int[] perClass = new int[10];
            for (int l : d.labels()) perClass[l]++; // an out-of-range label would throw here
            for (int c : perClass) assertEquals(d.count() / 10, c, "Fashion-MNIST is balanced");
        }
        Datasets.Split s = Datasets.split(p.train(), 1);
        assertEquals(50000, s.train().count());
        assertEquals(10000, s.validation().count());
    }
}
