// LoaderThroughput: images per second through the training input pipeline of an image folder:
// BatchLoader over ImageFolder's training set (decode, random-resized crop to 224, flip,
// normalise, batch into the engine's memory), as a training run reads it, with no training
// step; loader-throughput.sh puts torchvision's DataLoader beside it.
//   java -cp benchmarks.jar org.bnnas.bench.LoaderThroughput DIR WORKERS [BATCH] [BATCHES]
// Prints one JSON line: workers, batch, images per second over the timed batches (after two
// batches that let the JIT and the decoder warm up), and the median batch time.
package org.bnnas.bench;

import java.nio.file.Path;
import java.util.Arrays;
import org.bnnas.data.BatchLoader;
import org.bnnas.data.Datasets;
import org.bnnas.data.ImageFolder;
import org.bnnas.engine.tensor.MemoryScope;

public final class LoaderThroughput {
    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        int workers = Integer.parseInt(args[1]), batch = args.length > 2 ? Integer.parseInt(args[2]) : 64,
                batches = args.length > 3 ? Integer.parseInt(args[3]) : 20, warmup = args.length > 4 ? Integer.parseInt(args[4]) : 2;
        ImageFolder.setWorkers(workers);
        var train = Datasets.imageFolder(dir, 224, false).train();
        if (train.count() < (batches + warmup) * batch) throw new IllegalArgumentException(dir + ": " + train.count() + " training images, fewer than "
                + (batches + warmup) * batch + " for " + (batches + warmup) + " batches of " + batch);
        double[] seconds = new double[batches];
        try (BatchLoader loader = new BatchLoader(train, BatchLoader.Options.training(train, batch, 0))) {
            for (int i = 0; i < warmup; i++) {
                try (MemoryScope s = MemoryScope.open(); BatchLoader.Batch b = loader.next()) {
                    check(b);
                }
            }
            long start = System.nanoTime(), last = start;
            for (int i = 0; i < batches; i++) {
                try (MemoryScope s = MemoryScope.open(); BatchLoader.Batch b = loader.next()) {
                    check(b);
                }
                long now = System.nanoTime();
                seconds[i] = (now - last) / 1e9;
                last = now;
            }
            double total = (last - start) / 1e9;
            Arrays.sort(seconds);
            System.out.printf("{\"side\": \"bnnas\", \"workers\": %d, \"batch\": %d, \"images_per_second\": %.1f, \"median_batch_seconds\": %.4f}%n",
                    workers, batch, batches * batch / total, seconds[batches / 2]);
        }
    }

    /** A batch that is not what the pipeline should make fails the benchmark rather than being timed. */
    private static void check(BatchLoader.Batch b) {
        if (b.images().dim(1) != 3 || b.images().dim(2) != 224 || b.images().dim(3) != 224) throw new IllegalStateException("batch " + b.images());
    }
}
