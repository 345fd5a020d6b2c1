// StagingRing: the bookkeeping of the pinned staging memory that Uploads copies through, without
// any CUDA call (so it is tested on every machine): where in the ring the next upload goes, and
// which earlier copies, still reading that stretch, it has to wait for.
package org.bnnas.cuda;

import java.util.ArrayDeque;

/**
 * Stretches are handed out in order, 64-byte aligned, wrapping to the start when the end is
 * reached. Each stretch stays in use until the marker recorded after its copy is reached (a CUDA
 * event). Because the ring fills in order, the copies a new stretch overlaps are always the
 * oldest ones still in use, so they are found at the front of the queue.
 *
 * @param <M> the completion marker of a copy
 */
final class StagingRing<M> {
    static final long ALIGN = 64;

    /** The device side of the markers. */
    interface Markers<M> {
        /** Whether the copy behind this marker has finished. */
        boolean reached(M marker);

        /** Blocks until it has. */
        void await(M marker);

        /** The marker is free for another copy. */
        void recycle(M marker);
    }

    private record InUse<M>(long start, long end, M marker) {}

    private final Markers<M> markers;
    private final ArrayDeque<InUse<M>> inUse = new ArrayDeque<>();
    private long capacity, head, waits;

    StagingRing(Markers<M> markers) {
        this.markers = markers;
    }

    /** The bytes a stretch for {@code bytes} takes. */
    static long stretch(long bytes) {
        return Math.max(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN);
    }

    long capacity() {
        return capacity;
    }

    /** Whether an upload of {@code bytes} fits in the ring at all (else it must grow first: {@link #resize}). */
    boolean fits(long bytes) {
        return stretch(bytes) <= capacity;
    }

    /** Waits for every copy still in use and starts an empty ring of {@code bytes}; the caller swaps the memory. */
    void resize(long bytes) {
        while (!inUse.isEmpty()) retire(inUse.pollFirst());
        capacity = bytes;
        head = 0;
    }

    /**
     * The offset of a free stretch for {@code bytes} (which must fit), waiting first for the copies
     * that still use any of it. Mark it with {@link #inUse} once its copy is queued.
     */
    long reserve(long bytes) {
        long need = stretch(bytes);
        if (need > capacity) throw new IllegalStateException("StagingRing: " + bytes + " bytes do not fit in " + capacity);
        if (head + need > capacity) head = 0;
        while (!inUse.isEmpty() && inUse.peekFirst().start() < head + need && inUse.peekFirst().end() > head) retire(inUse.pollFirst());
        long at = head;
        head += need;
        return at;
    }

    /** The stretch at {@code offset} is in use until {@code marker} is reached. */
    void inUse(long offset, long bytes, M marker) {
        inUse.addLast(new InUse<>(offset, offset + stretch(bytes), marker));
    }

    /** How many times a reservation blocked on a copy that had not finished. */
    long waits() {
        return waits;
    }

    private void retire(InUse<M> u) {
        if (!markers.reached(u.marker())) {
            waits++;
            markers.await(u.marker());
        }
        markers.recycle(u.marker());
    }
}
