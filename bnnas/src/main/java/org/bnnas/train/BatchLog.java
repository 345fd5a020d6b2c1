// BatchLog: the loss and the number of correct top-1 predictions of every batch of an epoch,
// written on the device by the training steps and read by the host only when something asks.
package org.bnnas.train;

import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Tensor;

/**
 * On a GPU a read waits for every step launched before it, so the training loop never reads
 * during an epoch: its steps queue up on the device while the host prepares the next ones. A
 * listener that shows the loss (a progress bar, a few times a second) reads when it draws; the
 * first read after new batches copies the whole log to the host once, later reads of those
 * batches come from that copy. On the CPU a read is a plain copy.
 */
public final class BatchLog implements AutoCloseable {
    private final Tensor losses, correct; // one slot per batch of the epoch
    private final int[] sizes;
    private float[] lossValues = new float[0], correctValues = new float[0];
    private int written, copied;

    BatchLog(int batches) {
        losses = MemoryScope.detach(Tensor.empty(batches));
        correct = MemoryScope.detach(Tensor.empty(batches));
        sizes = new int[batches];
    }

    /** Empties the log for a new epoch. */
    void clear() {
        written = 0;
        copied = 0;
    }

    /** Stores the next batch's loss and correct count (one-element tensors, on the device) and its number of images. */
    void record(Tensor loss, Tensor correctCount, int images) {
        if (written == sizes.length) throw new IllegalStateException("BatchLog: more than " + sizes.length + " batches in an epoch");
        losses.copyFrom(loss, written);
        correct.copyFrom(correctCount, written);
        sizes[written++] = images;
    }

    /** How many batches the log holds. */
    public int batches() {
        return written;
    }

    /** The mean loss over batch {@code b}'s images, as the loss op computed it. */
    public float loss(int b) {
        copyToHost(b);
        return lossValues[b];
    }

    /** How many of batch {@code b}'s images the network classified correctly (top-1). */
    public int correct(int b) {
        copyToHost(b);
        return (int) correctValues[b];
    }

    /** The number of images in batch {@code b}. */
    public int images(int b) {
        check(b);
        return sizes[b];
    }

    private void copyToHost(int b) {
        check(b);
        if (b < copied) return;
        lossValues = losses.toStorageArray();
        correctValues = correct.toStorageArray();
        copied = written;
    }

    private void check(int b) {
        if (b < 0 || b >= written) throw new IndexOutOfBoundsException("BatchLog: batch " + b + " of " + written);
    }

    @Override
    public void close() {
        losses.close();
        correct.close();
    }
}
