// Uploads: host data sent to the GPU without making the host wait: each copy goes through pinned
// staging memory and runs asynchronously on the kernels' stream (the default one), so it is
// ordered after the work launched before it and before the work launched after it.
package org.bnnas.cuda;

import static org.bytedeco.cuda.global.cudart.cudaEventCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaEventDisableTiming;
import static org.bytedeco.cuda.global.cudart.cudaEventQuery;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaEventSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaMallocHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import java.util.ArrayDeque;
import org.bnnas.engine.tensor.Tensor;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * A cudaMemcpy from pageable memory waits for the device to finish everything queued before it;
 * a cudaMemcpyAsync from pinned memory does not. The staging memory is a ring: each upload takes
 * the next free stretch and records an event after its copy; a stretch is written again only
 * once the events of the copies that used it have completed. The ring is twice the largest
 * upload (a batch of images), so the host waits here only when it runs two batches ahead of the
 * GPU; it grows during the first steps and then stays.
 */
final class Uploads {
    private static final long ALIGN = 64, MIN_CAPACITY = 1 << 20;

    /** A stretch of the ring whose copy may still be running. */
    private record InFlight(long start, long end, CUevent_st copied) {}

    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
    private final ArrayDeque<CUevent_st> spareEvents = new ArrayDeque<>();
    private long ring; // pinned host memory
    private long capacity, head;
    private long waits;

    /** Copies {@code src} to device memory at {@code dst}. */
    void floats(float[] src, long dst) {
        long at = reserve(4L * src.length);
        try (FloatPointer staged = new FloatPointer(new Tensor.AddressPointer(at))) {
            staged.capacity(src.length).put(src, 0, src.length);
        }
        copy(at, dst, 4L * src.length);
    }

    /** Copies {@code src} to device memory at {@code dst}. */
    void ints(int[] src, long dst) {
        long at = reserve(4L * src.length);
        try (IntPointer staged = new IntPointer(new Tensor.AddressPointer(at))) {
            staged.capacity(src.length).put(src, 0, src.length);
        }
        copy(at, dst, 4L * src.length);
    }

    /** Copies {@code src} to device memory at {@code dst}. */
    void longs(long[] src, long dst) {
        long at = reserve(8L * src.length);
        try (LongPointer staged = new LongPointer(new Tensor.AddressPointer(at))) {
            staged.capacity(src.length).put(src, 0, src.length);
        }
        copy(at, dst, 8L * src.length);
    }

    /** How many times an upload had to wait for an earlier copy, still running, to free its stretch of the ring. */
    long waits() {
        return waits;
    }

    private void copy(long staged, long dst, long bytes) {
        if (bytes == 0) return;
        Check.cuda(cudaMemcpyAsync(new Tensor.AddressPointer(dst), new Tensor.AddressPointer(staged), bytes, cudaMemcpyHostToDevice),
                "cudaMemcpyAsync (upload of " + bytes + " bytes)");
        CUevent_st copied = spareEvents.isEmpty() ? newEvent() : spareEvents.pop();
        Check.cuda(cudaEventRecord(copied), "cudaEventRecord (upload)");
        inFlight.addLast(new InFlight(staged - ring, staged - ring + bytes, copied));
    }

    /** The address of a free stretch of {@code bytes} in the ring, waiting for old copies only where they still use it. */
    private long reserve(long bytes) {
        long need = Math.max(ALIGN, (bytes + ALIGN - 1) / ALIGN * ALIGN);
        if (need > capacity) grow(Math.max(MIN_CAPACITY, 2 * need));
        if (head + need > capacity) head = 0;
        // The oldest copies lie right after head (the ring is filled in order), so those to wait for come first in the queue.
        while (!inFlight.isEmpty() && inFlight.peekFirst().start() < head + need && inFlight.peekFirst().end() > head) {
            retire(inFlight.pollFirst());
        }
        long at = ring + head;
        head += need;
        return at;
    }

    private void retire(InFlight f) {
        if (cudaEventQuery(f.copied()) != cudaSuccess) { // not done yet (or failed: the synchronize reports it)
            waits++;
            Check.cuda(cudaEventSynchronize(f.copied()), "cudaEventSynchronize (upload)");
        }
        spareEvents.push(f.copied());
    }

    private void grow(long bytes) {
        while (!inFlight.isEmpty()) retire(inFlight.pollFirst());
        if (ring != 0) Check.cuda(cudaFreeHost(new Tensor.AddressPointer(ring)), "cudaFreeHost (upload ring)");
        try (PointerPointer<?> out = new PointerPointer<>(1)) {
            Check.cuda(cudaMallocHost(out, bytes), "cudaMallocHost (upload ring, " + bytes + " bytes)");
            ring = out.get(0).address();
        }
        capacity = bytes;
        head = 0;
    }

    private static CUevent_st newEvent() {
        CUevent_st e = new CUevent_st();
        Check.cuda(cudaEventCreateWithFlags(e, cudaEventDisableTiming), "cudaEventCreateWithFlags");
        return e;
    }
}
