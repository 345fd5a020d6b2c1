// BatchLoaderTest: batch shapes and counts, seeded determinism, augmentation, and the background thread's end.
package org.bnnas.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.bnnas.engine.tensor.MemoryScope;
import org.junit.jupiter.api.Test;

class BatchLoaderTest {
    /** The in-memory data set a test built, to read its pixels. */
    static MemoryDataset mem(Dataset d) {
        return (MemoryDataset) d;
    }


    /** A data set whose pixels differ across rows, columns and images, so flips and crops show. */
    static MemoryDataset varied(int count, int channels, int size) {
        int img = channels * size * size;
        byte[] px = new byte[count * img];
        for (int i = 0; i < count; i++) for (int p = 0; p < img; p++) px[i * img + p] = (byte) TestFiles.pixel(i, p);
        float[] mean = new float[channels], std = new float[channels];
        java.util.Arrays.fill(mean, 0.5f);
        java.util.Arrays.fill(std, 0.25f);
        return new MemoryDataset("test", px, TestFiles.labels(count), channels, size, 10, mean, std, size == 28 ? 2 : 4, true);
    }

    /** Every batch of one epoch as (images, labels) arrays. */
    private static List<float[]> epoch(BatchLoader l, int e, List<int[]> labels) {
        List<float[]> out = new ArrayList<>();
        l.startEpoch(e);
        try (MemoryScope scope = MemoryScope.open()) {
            while (l.hasNext()) {
                BatchLoader.Batch b = l.next();
                out.add(b.images().toArray());
                if (labels != null) labels.add(b.labels());
            }
        }
        return out;
    }

    @Test
    void shapesAndBatchCountKeepTheLastPartialBatch() {
        Dataset d = varied(23, 3, 32);
        try (BatchLoader l = new BatchLoader(d, BatchLoader.Options.training(d, 10, 1));
             MemoryScope scope = MemoryScope.open()) {
            assertEquals(3, l.batchesPerEpoch());
            int[] sizes = new int[3];
            for (int b = 0; b < 3; b++) {
                BatchLoader.Batch batch = l.next();
                assertEquals(4, batch.images().rank());
                assertEquals(3, batch.images().dim(1));
                assertEquals(32, batch.images().dim(2));
                assertEquals(32, batch.images().dim(3));
                assertEquals(batch.labels().length, batch.images().dim(0));
                sizes[b] = batch.size();
            }
            assertArrayEquals(new int[] {10, 10, 3}, sizes);
            assertFalse(l.hasNext());
        }
    }

    @Test
    void evaluationBatchesAreTheNormalisedImagesInOrder() {
        Dataset d = varied(5, 1, 28);
        try (BatchLoader l = new BatchLoader(d, BatchLoader.Options.evaluation(2))) {
            List<int[]> labels = new ArrayList<>();
            List<float[]> batches = epoch(l, 0, labels);
            assertEquals(3, batches.size());
            // Image 3 is the second of batch 1; pixel (y 4, x 7).
            assertEquals(mem(d).normalised(mem(d).pixel(3, 0, 4, 7), 0), batches.get(1)[784 + 4 * 28 + 7], 0f);
            assertArrayEquals(new int[] {2, 3}, labels.get(1));
        }
    }

    @Test
    void sameSeedSameBatchesAndEpochsDiffer() {
        Dataset d = varied(30, 1, 28);
        try (BatchLoader a = new BatchLoader(d, BatchLoader.Options.training(d, 8, 7));
             BatchLoader b = new BatchLoader(d, BatchLoader.Options.training(d, 8, 7))) {
            List<int[]> la = new ArrayList<>(), lb = new ArrayList<>();
            List<float[]> ea = epoch(a, 1, la), eb = epoch(b, 1, lb);
            for (int i = 0; i < ea.size(); i++) {
                assertArrayEquals(ea.get(i), eb.get(i));
                assertArrayEquals(la.get(i), lb.get(i));
            }
            // Epoch 1 again after epoch 2 gives the same batches: they depend on (seed, epoch) only.
            epoch(a, 2, null);
            List<float[]> again = epoch(a, 1, null);
            for (int i = 0; i < ea.size(); i++) assertArrayEquals(ea.get(i), again.get(i));
            List<float[]> other = epoch(a, 2, null);
            assertFalse(java.util.Arrays.equals(ea.get(0), other.get(0)), "another epoch, another order");
        }
    }

    @Test
    void cropKeepsShapeAndPadsWithNormalisedBlack() {
        Dataset d = varied(16, 3, 32);
        try (BatchLoader l = new BatchLoader(d, new BatchLoader.Options(16, false, true, false, 3))) {
            float[] x = epoch(l, 0, null).get(0);
            assertEquals(16 * 3 * 32 * 32, x.length);
            float black = mem(d).normalised(0, 0);
            int padded = 0;
            for (int i = 0; i < 16; i++) if (x[i * 3072] == black) padded++; // top-left corner of channel 0
            assertTrue(padded > 0, "some crops move the image down or right and show the padding");
        }
    }

    @Test
    void flipOnlyMirrorsImages() {
        Dataset d = varied(20, 3, 32);
        try (BatchLoader l = new BatchLoader(d, new BatchLoader.Options(20, false, false, true, 5))) {
            float[] x = epoch(l, 0, null).get(0);
            int flipped = 0, kept = 0;
            for (int i = 0; i < 20; i++) {
                boolean same = true, mirrored = true;
                for (int c = 0; c < 3; c++) for (int y = 0; y < 32; y++) for (int xx = 0; xx < 32; xx++) {
                    float v = x[((i * 3 + c) * 32 + y) * 32 + xx];
                    same &= v == mem(d).normalised(mem(d).pixel(i, c, y, xx), c);
                    mirrored &= v == mem(d).normalised(mem(d).pixel(i, c, y, 31 - xx), c);
                }
                assertTrue(same || mirrored, "image " + i + " is neither itself nor its mirror");
                if (mirrored) flipped++;
                if (same) kept++;
            }
            assertTrue(flipped > 0 && kept > 0, "flipped " + flipped + ", kept " + kept);
        }
    }

    @Test
    void closeEndsTheBackgroundThread() {
        Dataset d = varied(8, 1, 28);
        BatchLoader l = new BatchLoader(d, BatchLoader.Options.training(d, 4, 0));
        try (MemoryScope scope = MemoryScope.open()) {
            l.next();
        }
        assertTrue(l.workerAlive());
        l.close();
        assertFalse(l.workerAlive());
    }
}
