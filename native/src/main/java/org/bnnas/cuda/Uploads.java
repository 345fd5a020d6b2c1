// Uploads: host data sent to the GPU without making the host wait: each copy goes through pinned
// staging memory and runs asynchronously on the kernels' stream (the default one), so it is
// ordered after the work launched before it and before the work launched after it.
package org.bnnas.cuda;

import static org.bytedeco.cuda.global.cudart.cudaErrorNotReady;
import static org.bytedeco.cuda.global.cudart.cudaEventCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaEventDisableTiming;
import static org.bytedeco.cuda.global.cudart.cudaEventQuery;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaEventSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaMallocHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;

import java.util.ArrayDeque;
import java.util.function.LongConsumer;
import org.bnnas.engine.tensor.Tensor;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * A cudaMemcpy from pageable memory waits for the device to finish everything queued before it;
 * a cudaMemcpyAsync from pinned memory does not. The staging memory is two rings ({@link
 * StagingRing}): each upload takes the next free stretch of one and records an event after its
 * copy; a stretch is written again only once the events of the copies that used it have
 * completed. Batches of images go to a ring of two batches, so that one batch alternates with
 * the next; the small uploads between them (labels, address tables, up to 64 KiB) go to a ring
 * of 1 MiB of their own, where they cannot push a batch off its place. So the host waits here
 * only when it runs two batches ahead of the GPU. The large ring grows during the first steps
 * and then stays.
 */
final class Uploads {
    /** The largest upload that goes to the small ring, and that ring's size. */
    private static final long SMALL_LIMIT = 64 << 10, SMALL_RING = 1 << 20;

    private final ArrayDeque<CUevent_st> spareEvents = new ArrayDeque<>();
    private final StagingRing.Markers<CUevent_st> events = new StagingRing.Markers<>() {
        @Override public boolean reached(CUevent_st e) {
            int status = cudaEventQuery(e);
            if (status == cudaErrorNotReady) {
                Check.clearLastError(); // "not ready" is also left as the runtime's last error, which the next launch would report
                return false;
            }
            Check.cuda(status, "cudaEventQuery (upload)");
            return true;
        }

        @Override public void await(CUevent_st e) {
            Check.cuda(cudaEventSynchronize(e), "cudaEventSynchronize (upload)");
        }

        @Override public void recycle(CUevent_st e) {
            spareEvents.push(e);
        }
    };
    /** The small ring has a fixed size; the large one holds two of the largest upload it has seen. */
    private final PinnedRing small = new PinnedRing(SMALL_RING), large = new PinnedRing(0);

    /** A ring's bookkeeping and its pinned host memory. */
    private final class PinnedRing {
        final StagingRing<CUevent_st> ring = new StagingRing<>(events);
        final long fixedSize; // 0: grows to twice the upload that does not fit
        long pinned;

        PinnedRing(long fixedSize) {
            this.fixedSize = fixedSize;
        }

        /** The host address of a free stretch for {@code bytes}, the ring grown first where it is too small. */
        long stage(long bytes) {
            if (!ring.fits(bytes)) {
                long size = fixedSize > 0 ? fixedSize : 2 * StagingRing.stretch(bytes);
                ring.resize(size); // waits for the copies from the old memory
                if (pinned != 0) Check.cuda(cudaFreeHost(new Tensor.AddressPointer(pinned)), "cudaFreeHost (upload ring)");
                pinned = 0;
                try (PointerPointer<?> out = new PointerPointer<>(1)) {
                    Check.cuda(cudaMallocHost(out, size), "cudaMallocHost (upload ring, " + size + " bytes)");
                    pinned = out.get(0).address();
                }
            }
            return pinned + ring.reserve(bytes);
        }
    }

    /** Copies {@code src} to device memory at {@code dst}. */
    void floats(float[] src, long dst) {
        upload(4L * src.length, dst, at -> {
            try (FloatPointer staged = new FloatPointer(new Tensor.AddressPointer(at))) {
                staged.capacity(src.length).put(src, 0, src.length);
            }
        });
    }

    /** Copies {@code src} to device memory at {@code dst}. */
    void ints(int[] src, long dst) {
        upload(4L * src.length, dst, at -> {
            try (IntPointer staged = new IntPointer(new Tensor.AddressPointer(at))) {
                staged.capacity(src.length).put(src, 0, src.length);
            }
        });
    }

    /** Copies {@code src} to device memory at {@code dst}. */
    void longs(long[] src, long dst) {
        upload(8L * src.length, dst, at -> {
            try (LongPointer staged = new LongPointer(new Tensor.AddressPointer(at))) {
                staged.capacity(src.length).put(src, 0, src.length);
            }
        });
    }

    /** How many times an upload had to wait for an earlier copy, still running, to free its stretch of a ring. */
    long waits() {
        return small.ring.waits() + large.ring.waits();
    }

    /** Stages {@code bytes} in their ring ({@code fill} writes them at the host address it is given) and queues their copy to {@code dst}. */
    private void upload(long bytes, long dst, LongConsumer fill) {
        PinnedRing r = bytes <= SMALL_LIMIT ? small : large;
        long staged = r.stage(bytes);
        fill.accept(staged);
        if (bytes == 0) return;
        Check.cuda(cudaMemcpyAsync(new Tensor.AddressPointer(dst), new Tensor.AddressPointer(staged), bytes, cudaMemcpyHostToDevice),
                "cudaMemcpyAsync (upload of " + bytes + " bytes)");
        CUevent_st copied = spareEvents.isEmpty() ? newEvent() : spareEvents.pop();
        Check.cuda(cudaEventRecord(copied), "cudaEventRecord (upload)");
        r.ring.inUse(staged - r.pinned, bytes, copied);
    }

    private static CUevent_st newEvent() {
        CUevent_st e = new CUevent_st();
        Check.cuda(cudaEventCreateWithFlags(e, cudaEventDisableTiming), "cudaEventCreateWithFlags");
        return e;
    }
}
