// StagingRingTest: the staging ring of Uploads hands out stretches in order, reuses one only after
// the copies that used it have finished, and waits only for those. No GPU needed: the copies here
// are numbers, and a copy finishes when the test says the device got that far.
package org.bnnas.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StagingRingTest {
    /** Copies run in order on one stream: the device has finished every copy up to {@code done}. */
    private static final class Device implements StagingRing.Markers<Integer> {
        int done = -1;
        final List<Integer> awaited = new ArrayList<>(), recycled = new ArrayList<>();

        @Override public boolean reached(Integer copy) {
            return copy <= done;
        }

        @Override public void await(Integer copy) {
            awaited.add(copy);
            done = Math.max(done, copy);
        }

        @Override public void recycle(Integer copy) {
            recycled.add(copy);
        }
    }

    private final Device device = new Device();
    private final StagingRing<Integer> ring = new StagingRing<>(device);
    private int copies;

    /** Reserves a stretch for {@code bytes} and queues its copy; returns the stretch's offset. */
    private long upload(long bytes) {
        long at = ring.reserve(bytes);
        ring.inUse(at, bytes, copies++);
        return at;
    }

    @Test
    void stretchesFollowEachOtherAlignedTo64Bytes() {
        ring.resize(1024);
        assertEquals(0, upload(100));
        assertEquals(128, upload(64));
        assertEquals(192, upload(1));
        assertEquals(256, upload(0), "an empty upload still takes a stretch: it never shares one");
        assertEquals(0, ring.waits());
    }

    @Test
    void aStretchIsReusedOnlyAfterItsCopyAndOnlyThoseCopiesAreAwaited() {
        ring.resize(1000);
        assertEquals(0, upload(300)); // copy 0: [0, 320)
        assertEquals(320, upload(300)); // copy 1: [320, 640)
        assertEquals(640, upload(300)); // copy 2: [640, 960)
        assertEquals(0, upload(300), "the end is reached: back to the start"); // copy 3 over copy 0
        assertEquals(List.of(0), device.awaited, "only the copy whose stretch is taken");
        device.done = 1; // the device has caught up with copy 1 by itself
        assertEquals(320, upload(300)); // copy 4 over copy 1: no wait
        assertEquals(List.of(0), device.awaited);
        assertEquals(1, ring.waits());
        assertEquals(List.of(0, 1), device.recycled, "each finished copy gives its marker back once");
    }

    @Test
    void aLargeUploadWaitsOnceForTheNewestCopyItOverlaps() {
        ring.resize(1024);
        upload(100); // copy 0: [0, 128)
        upload(100); // copy 1: [128, 256)
        upload(600); // copy 2: [256, 896)
        assertEquals(0, upload(300)); // [0, 320): copies 0, 1 and 2
        assertEquals(List.of(2), device.awaited, "copies finish in order: once copy 2 has, so have 0 and 1");
        assertEquals(1, ring.waits());
        assertEquals(List.of(0, 1, 2), device.recycled);
    }

    @Test
    void afterAWrapThatSkippedTheEndANewerCopyAtTheStartIsStillAwaited() {
        // A batch of images (448 bytes) and a varying number of small uploads per step, in a ring of two batches.
        ring.resize(896);
        upload(448); // step 1: copy 0 [0, 448)
        upload(64); // copy 1 [448, 512)
        upload(64); // copy 2 [512, 576)
        upload(64); // copy 3 [576, 640)
        assertEquals(0, upload(448)); // step 2: wraps, copy 4 [0, 448) over copy 0
        assertEquals(448, upload(64)); // copy 5 over copy 1
        device.awaited.clear();
        // step 3: wraps again, leaving copies 2 and 3 at the end, which overlap nothing; copy 4 at the start is overlapped
        assertEquals(0, upload(448));
        assertEquals(List.of(4), device.awaited, "the images of step 2 are not overwritten before their copy");
    }

    @Test
    void sharedWithTheSmallUploadsARingOfTwoBatchesMakesTheHostWait() {
        // Why Uploads keeps the small uploads apart: in one ring the labels of a step can land on the images of the step before.
        ring.resize(2 * 448 + 64);
        upload(448); // step 0: images [0, 448) and labels [448, 512)
        upload(64);
        device.done = 1; // the GPU has finished step 0: the host is two steps ahead from here
        upload(448); // step 1: images [512, 960)
        upload(64); // step 1's labels wrap to [0, 64)
        upload(64); // and an address table [64, 128)
        upload(448); // step 2's images at [128, 576) would overwrite step 1's, so they wait
        assertEquals(1, ring.waits());
    }

    @Test
    void batchesAndSmallUploadsInRingsOfTheirOwnLetTheHostRunTwoStepsAheadWithoutWaiting() {
        StagingRing<Integer> batches = new StagingRing<>(device), small = new StagingRing<>(device);
        batches.resize(2 * 6400); // Uploads: two of the largest upload
        small.resize(1024); // and a ring far larger than two steps' small uploads
        java.util.Random random = new java.util.Random(3);
        List<Integer> lastCopyOfStep = new ArrayList<>();
        for (int step = 0; step < 200; step++) {
            if (step >= 2) device.done = lastCopyOfStep.get(step - 2); // the GPU has finished the step before the previous one
            batches.inUse(batches.reserve(6400), 6400, copies++);
            for (int i = random.nextInt(4); i > 0; i--) {
                long bytes = 1 + random.nextInt(100);
                small.inUse(small.reserve(bytes), bytes, copies++);
            }
            lastCopyOfStep.add(copies - 1);
        }
        assertEquals(0, batches.waits() + small.waits());
    }

    @Test
    void noStretchIsHandedOutWhileACopyStillReadsAnyOfIt() {
        java.util.Random random = new java.util.Random(7);
        ring.resize(4096);
        List<long[]> queued = new ArrayList<>(); // start, end, copy
        for (int i = 0; i < 5000; i++) {
            long bytes = random.nextInt(4) == 0 ? 1000 + random.nextInt(1000) : random.nextInt(300);
            if (random.nextInt(3) == 0) device.done = Math.max(device.done, copies - 1 - random.nextInt(4)); // the device lags 0-3 copies
            long at = ring.reserve(bytes);
            long end = at + StagingRing.stretch(bytes);
            for (long[] q : queued) {
                if (q[0] < end && q[1] > at) assertTrue(q[2] <= device.done, "copy " + copies + " at [" + at + ", " + end + ") over unfinished copy " + q[2]);
            }
            queued.add(new long[] {at, end, copies});
            ring.inUse(at, bytes, copies++);
        }
        assertEquals(copies - ring.inUseCount(), device.recycled.size(), "every freed marker is given back once");
        assertEquals(device.recycled.size(), new java.util.HashSet<>(device.recycled).size());
    }

    @Test
    void resizingWaitsForEverythingAndStartsAnEmptyRing() {
        ring.resize(256);
        upload(100);
        upload(100);
        assertFalse(ring.fits(300));
        ring.resize(1024);
        assertEquals(List.of(1), device.awaited, "the old memory may be freed only after its copies (the last one finishes last)");
        assertEquals(List.of(0, 1), device.recycled);
        assertEquals(0, upload(300));
        assertThrows(IllegalStateException.class, () -> ring.reserve(2000));
    }
}
