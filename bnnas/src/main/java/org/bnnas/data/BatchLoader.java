// BatchLoader: batches of a data set as normalised (N, C, H, W) tensors, shuffled and augmented from a seed,
// with the next batch prepared on a background thread.
package org.bnnas.data;

import java.lang.ref.Cleaner;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Iterates one epoch at a time: {@code startEpoch(e)}, then {@code next()} while {@code hasNext()}.
 * <p>
 * The last partial batch is kept (an epoch has ceil(count / batchSize) batches), so evaluation sees every
 * image; training code that wants equal batches can skip a batch smaller than the batch size.
 * <p>
 * Determinism: the order of epoch e comes from Rng(mix(seed, e)) and the augmentation of batch b from
 * Rng(mix(seed, e, b)), so the batches depend only on (seed, epoch), never on thread timing.
 * <p>
 * The background thread only fills memory outside the JVM's heap (a batch of 512 ImageNet images is
 * 308 MB, and two are in flight: the heap that bin/bnnas gives the JVM could not hold them); the
 * Tensor is made in {@link #next()} on the caller's thread, because a tensor belongs to the
 * MemoryScope of the thread that creates it.
 */
public final class BatchLoader implements AutoCloseable {

    /**
     * @param shuffle a new seeded order every epoch (else file order)
     * @param crop    random crop after zero padding of the data set's {@code cropPadding}
     * @param flip    random horizontal flip with probability 1/2
     */
    public record Options(int batchSize, boolean shuffle, boolean crop, boolean flip, long seed) {
        /** Training: shuffled, cropped, and flipped where the data set allows it (not MNIST). */
        public static Options training(Dataset d, int batchSize, long seed) {
            return new Options(batchSize, true, true, d.flip(), seed);
        }

        /** Evaluation: file order, no augmentation. */
        public static Options evaluation(int batchSize) {
            return new Options(batchSize, false, false, false, 0);
        }
    }

    /** One batch: images (N, C, H, W) float32 normalised, owned by the caller's current MemoryScope (or the caller). */
    public record Batch(Tensor images, int[] labels) implements AutoCloseable {
        public int size() { return labels.length; }

        @Override
        public void close() { images.close(); }
    }

    /**
     * Memory for one batch's images in storage order (N, H, W, C), malloc'd outside the JVM's heap
     * and kept for the next batches (fresh memory would cost a page fault per 4 KB every batch);
     * freed by free() or, for memory nobody gave back (the loader closed while filling it), once
     * its buffer is unreachable.
     */
    private static final class Staging {
        private static final Cleaner CLEANER = Cleaner.create();
        final FloatBuffer images;
        private final Cleaner.Cleanable free;

        Staging(int floats) {
            Pointer memory = Pointer.malloc(4L * floats);
            if (memory == null) throw new OutOfMemoryError("BatchLoader: no memory for a batch of " + 4L * floats + " bytes");
            images = new BytePointer(memory).capacity(4L * floats).asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
            // registered on the buffer, which the threads that fill and copy it hold, not on this holder
            free = CLEANER.register(images, () -> Pointer.free(memory));
        }

        void free() {
            free.clean();
        }
    }

    /** A batch as the background thread makes it. */
    private record Prepared(Staging staging, int[] labels) {}

    /** Staging memory given back by next(), kept for the batches after (two at most). */
    private final ArrayDeque<Staging> spare = new ArrayDeque<>();
    private final Dataset data;
    private final Options options;
    private final ExecutorService worker;
    private volatile Thread workerThread;
    private int[] order;
    private int epoch;
    private int nextBatch;
    private Future<Prepared> pending;

    public BatchLoader(Dataset data, Options options) {
        if (options.batchSize() <= 0) throw new IllegalArgumentException("batch size must be positive, got " + options.batchSize());
        this.data = data;
        this.options = options;
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "bnnas-batch-loader");
            t.setDaemon(true); // never keeps the JVM alive if a caller forgets close()
            workerThread = t;
            return t;
        });
        startEpoch(0);
    }

    public int batchesPerEpoch() {
        return (data.count() + options.batchSize() - 1) / options.batchSize();
    }

    /** Begins epoch {@code e} (its order and augmentation depend only on the seed and e). */
    public void startEpoch(int e) {
        if (pending != null) pending.cancel(true);
        epoch = e;
        nextBatch = 0;
        order = options.shuffle() ? Datasets.permutation(data.count(), new Rng(mix(options.seed(), e, -1)))
                : identity(data.count());
        pending = batchesPerEpoch() > 0 ? worker.submit(prepareTask(0)) : null;
    }

    public boolean hasNext() {
        return nextBatch < batchesPerEpoch();
    }

    /** The next batch of this epoch; the following one is already being prepared while the caller computes. */
    public Batch next() {
        if (!hasNext()) throw new java.util.NoSuchElementException("epoch " + epoch + " has no more batches");
        Prepared p;
        try {
            p = pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a batch", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("preparing batch " + nextBatch + " failed", e.getCause());
        }
        nextBatch++;
        pending = hasNext() ? worker.submit(prepareTask(nextBatch)) : null;
        try {
            Tensor images = Tensor.empty(p.labels().length, data.channels(), data.size(), data.size());
            images.copyFromStorage(p.staging().images);
            return new Batch(images, p.labels());
        } finally {
            giveBack(p.staging());
        }
    }

    /** Stops the background thread and waits for it to end. */
    @Override
    public void close() {
        worker.shutdownNow();
        try {
            worker.awaitTermination(10, TimeUnit.SECONDS);
            // The executor counts as terminated just before its thread exits; join so "closed" means gone.
            Thread t = workerThread;
            if (t != null) t.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (spare) {
            spare.forEach(Staging::free);
            spare.clear();
        }
    }

    /** Whether the background thread has been started and is still running (for tests). */
    boolean workerAlive() {
        Thread t = workerThread;
        return t != null && t.isAlive();
    }

    private java.util.concurrent.Callable<Prepared> prepareTask(int b) {
        int[] ord = order;
        int e = epoch;
        return () -> prepare(ord, e, b);
    }

    private Prepared prepare(int[] ord, int e, int b) {
        int from = b * options.batchSize();
        int n = Math.min(options.batchSize(), data.count() - from);
        int[] ids = java.util.Arrays.copyOfRange(ord, from, from + n), labels = new int[n];
        for (int k = 0; k < n; k++) labels[k] = data.labels()[ids[k]];
        // The batch is written in the tensor's storage order (channels-last), so the caller's thread only copies it (or uploads it to a GPU).
        Staging staging = staging(n * data.channels() * data.size() * data.size());
        try {
            data.prepare(ids, options.crop(), options.flip(), mix(options.seed(), e, b), staging.images);
        } catch (RuntimeException | Error failed) {
            giveBack(staging);
            throw failed;
        }
        return new Prepared(staging, labels);
    }

    private Staging staging(int floats) {
        synchronized (spare) {
            for (java.util.Iterator<Staging> it = spare.iterator(); it.hasNext(); ) {
                Staging s = it.next();
                if (s.images.capacity() == floats) {
                    it.remove();
                    return s;
                }
            }
        }
        return new Staging(floats);
    }

    private void giveBack(Staging s) {
        synchronized (spare) {
            if (spare.size() < 2) {
                spare.addLast(s);
                return;
            }
        }
        s.free();
    }

    private static int[] identity(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        return p;
    }

    /** A seed for (seed, epoch, batch) that differs well for neighbouring values (SplitMix64 finaliser). */
    private static long mix(long seed, int e, int b) {
        long z = seed ^ (0x9E3779B97F4A7C15L * (e + 1)) ^ (0xC2B2AE3D27D4EB4FL * (b + 2));
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
