// StagingRingTest: the staging ring of Uploads hands out stretches in order, reuses one only after
// the copies that used it have finished, and waits only for those. No GPU needed: the copies here
// are numbers, and a copy finishes when the test says the device got that far.
package org.bnnas.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
    void aLargeUploadWaitsForEveryCopyItOverlaps() {
        ring.resize(1024);
        upload(100); // copy 0: [0, 128)
        upload(100); // copy 1: [128, 256)
        upload(600); // copy 2: [256, 896)
        assertEquals(0, upload(300)); // [0, 320): copies 0, 1 and 2
        assertEquals(List.of(0, 1, 2), device.awaited);
    }

    @Test
    void resizingWaitsForEverythingAndStartsAnEmptyRing() {
        ring.resize(256);
        upload(100);
        upload(100);
        assertFalse(ring.fits(300));
        ring.resize(1024);
        assertEquals(List.of(0, 1), device.awaited, "the old memory may be freed only after its copies");
        assertEquals(0, upload(300));
        assertThrows(IllegalStateException.class, () -> ring.reserve(2000));
    }
}
