// StagingRing: the bookkeeping of the pinned staging memory that Uploads copies through, without
// any CUDA call (so it is tested on every machine): where in the ring the next upload goes, and
// which earlier copies, still reading that stretch, it has to wait for.
package org.bnnas.cuda;

import java.util.ArrayDeque;

/**
 * Stretches are handed out in order, 64-byte aligned, wrapping to the start when the end is
 * reached. Each stretch stays in use until the marker recorded after its copy is reached (a CUDA
 * event). The copies a new stretch overlaps are not always the oldest ones still in use: after a
 * wrap that skipped the end of the ring, older copies there overlap nothing while newer ones at
 * the start do. So a reservation looks through the whole queue for the newest copy it overlaps,
 * waits for that one alone (the copies run in order on one stream, so every older one has
 * finished with it) and frees it and everything before it.
 *
 * @param <M> the completion marker of a copy
 */
final class StagingRing<M> {
    static final long ALIGN = 64;

    /** The device side of the markers. */
    interface Markers<M> {
        /** Whether the copy behind this marker has finished. Markers are reached in the order their copies were queued. */
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
        if (!inUse.isEmpty()) retireThrough(inUse.peekLast());
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
        InUse<M> newestOverlapped = null;
        for (InUse<M> u : inUse) if (u.start() < head + need && u.end() > head) newestOverlapped = u;
        if (newestOverlapped != null) retireThrough(newestOverlapped);
        long at = head;
        head += need;
        return at;
    }

    /** The stretch at {@code offset} is in use until {@code marker} is reached. */
    void inUse(long offset, long bytes, M marker) {
        inUse.addLast(new InUse<>(offset, offset + stretch(bytes), marker));
    }

    /** How many stretches are still in use (their markers not yet given back). */
    int inUseCount() {
        return inUse.size();
    }

    /** How many times a reservation blocked on a copy that had not finished. */
    long waits() {
        return waits;
    }

    /** Waits, if it must, for {@code last}'s copy, then frees it and every stretch queued before it. */
    private void retireThrough(InUse<M> last) {
        if (!markers.reached(last.marker())) {
            waits++;
            markers.await(last.marker());
        }
        InUse<M> u;
        do {
            u = inUse.pollFirst();
            markers.recycle(u.marker());
        } while (u != last);
    }
}
