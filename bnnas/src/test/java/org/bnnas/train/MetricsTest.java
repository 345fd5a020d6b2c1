// MetricsTest: top-1 over a data set, counted on the device and through a prediction sink alike:
// the largest logit wins, the first on a tie, every image once, in file order.
package org.bnnas.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.bnnas.data.Dataset;
import org.bnnas.data.MemoryDataset;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

class MetricsTest {
    /** The in-memory data set a test built, to read its pixels. */
    static MemoryDataset mem(Dataset d) {
        return (MemoryDataset) d;
    }

    /** Logit j of an image is its pixel (0, j) of row 0, so a test chooses each prediction through the bytes. */
    private static final class FirstRowLogits extends Module {
        @Override
        public Tensor forward(Tensor x) {
            float[] px = x.toArray();
            int n = x.dim(0), pixels = px.length / n;
            float[] z = new float[n * 10];
            for (int i = 0; i < n; i++) System.arraycopy(px, i * pixels, z, i * 10, 10);
            return Tensor.fromArray(z, n, 10);
        }
    }

    /** 23 images: random first rows (ties among the 256 byte values are frequent), the second image a tie of classes 3 and 7. */
    private static Dataset images() {
        Rng rng = new Rng(4);
        int count = 23;
        byte[] img = new byte[count * 784];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < 10; j++) img[i * 784 + j] = (byte) rng.nextInt(8);
            labels[i] = rng.nextInt(10);
        }
        for (int j = 0; j < 10; j++) img[784 + j] = 0;
        img[784 + 3] = 9;
        img[784 + 7] = 9;
        labels[1] = 3;
        return new MemoryDataset("test", img, labels, 1, 28, 10, new float[] {0.5f}, new float[] {0.3f}, 2, false);
    }

    private static int firstLargest(Dataset d, int i) {
        int best = 0;
        for (int j = 1; j < 10; j++) if (mem(d).pixel(i, 0, 0, j) > mem(d).pixel(i, 0, 0, best)) best = j;
        return best;
    }

    @Test
    void countsTheFirstLargestLogitOfEveryImageWithOrWithoutASink() {
        Dataset data = images();
        int want = 0;
        for (int i = 0; i < data.count(); i++) if (firstLargest(data, i) == data.labels()[i]) want++;
        try (FirstRowLogits net = new FirstRowLogits()) {
            List<int[]> seen = new ArrayList<>();
            for (int batch : new int[] {5, 23, 64}) { // a short last batch, one whole batch, a batch larger than the set
                assertEquals(want / 23.0, Metrics.top1(net, data, batch, null), 0.0, "on the device, batch " + batch);
                seen.clear();
                assertEquals(want / 23.0, Metrics.top1(net, data, batch, (index, label, predicted) -> seen.add(new int[] {index, label, predicted})),
                        0.0, "with a sink, batch " + batch);
                assertEquals(23, seen.size());
                for (int i = 0; i < 23; i++) {
                    assertEquals(i, seen.get(i)[0], "file order");
                    assertEquals(data.labels()[i], seen.get(i)[1]);
                    assertEquals(firstLargest(data, i), seen.get(i)[2], "prediction of image " + i);
                }
            }
            assertEquals(3, seen.get(1)[2], "a tie goes to the first class");
        }
    }
}
