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
 * a cudaMemcpyAsync from pinned memory does not. The staging memory is a ring ({@link
 * StagingRing}): each upload takes the next free stretch and records an event after its copy; a
 * stretch is written again only once the events of the copies that used it have completed. The
 * ring is twice the largest upload (a batch of images), so the host waits here only when it runs
 * two batches ahead of the GPU; it grows during the first steps and then stays.
 */
final class Uploads {
    private static final long MIN_CAPACITY = 1 << 20;

    private final ArrayDeque<CUevent_st> spareEvents = new ArrayDeque<>();
    private final StagingRing<CUevent_st> ring = new StagingRing<>(new StagingRing.Markers<>() {
        @Override public boolean reached(CUevent_st e) {
            return cudaEventQuery(e) == cudaSuccess; // not ready, or failed: await reports the failure
        }

        @Override public void await(CUevent_st e) {
            Check.cuda(cudaEventSynchronize(e), "cudaEventSynchronize (upload)");
        }

        @Override public void recycle(CUevent_st e) {
            spareEvents.push(e);
        }
    });
    private long pinned; // the ring's host memory

    /** Copies {@code src} to device memory at {@code dst}. */
    void floats(float[] src, long dst) {
        long at = stage(4L * src.length);
        try (FloatPointer staged = new FloatPointer(new Tensor.AddressPointer(at))) {
            staged.capacity(src.length).put(src, 0, src.length);
        }
        copy(at, dst, 4L * src.length);
    }

    /** Copies {@code src} to device memory at {@code dst}. */
    void ints(int[] src, long dst) {
        long at = stage(4L * src.length);
        try (IntPointer staged = new IntPointer(new Tensor.AddressPointer(at))) {
            staged.capacity(src.length).put(src, 0, src.length);
        }
        copy(at, dst, 4L * src.length);
    }

    /** Copies {@code src} to device memory at {@code dst}. */
    void longs(long[] src, long dst) {
        long at = stage(8L * src.length);
        try (LongPointer staged = new LongPointer(new Tensor.AddressPointer(at))) {
            staged.capacity(src.length).put(src, 0, src.length);
        }
        copy(at, dst, 8L * src.length);
    }

    /** How many times an upload had to wait for an earlier copy, still running, to free its stretch of the ring. */
    long waits() {
        return ring.waits();
    }

    /** The host address of a free stretch of the ring for {@code bytes}, the ring grown first where it is too small. */
    private long stage(long bytes) {
        if (!ring.fits(bytes)) {
            long grown = Math.max(MIN_CAPACITY, 2 * StagingRing.stretch(bytes));
            ring.resize(grown); // waits for the copies from the old memory
            if (pinned != 0) Check.cuda(cudaFreeHost(new Tensor.AddressPointer(pinned)), "cudaFreeHost (upload ring)");
            try (PointerPointer<?> out = new PointerPointer<>(1)) {
                Check.cuda(cudaMallocHost(out, grown), "cudaMallocHost (upload ring, " + grown + " bytes)");
                pinned = out.get(0).address();
            }
        }
        return pinned + ring.reserve(bytes);
    }

    private void copy(long staged, long dst, long bytes) {
        if (bytes == 0) return;
        Check.cuda(cudaMemcpyAsync(new Tensor.AddressPointer(dst), new Tensor.AddressPointer(staged), bytes, cudaMemcpyHostToDevice),
                "cudaMemcpyAsync (upload of " + bytes + " bytes)");
        CUevent_st copied = spareEvents.isEmpty() ? newEvent() : spareEvents.pop();
        Check.cuda(cudaEventRecord(copied), "cudaEventRecord (upload)");
        ring.inUse(staged - pinned, bytes, copied);
    }

    private static CUevent_st newEvent() {
        CUevent_st e = new CUevent_st();
        Check.cuda(cudaEventCreateWithFlags(e, cudaEventDisableTiming), "cudaEventCreateWithFlags");
        return e;
    }
}
