// TensorMemoryTest: fill and copy go to the memory that holds the tensor, and count as in-place changes.
package org.bnnas.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TensorMemoryTest {
    @Test
    void thePeakCountsTheMostBytesHeldAtOnceAndRestartsFromWhatIsHeld() {
        try (Tensor held = Tensor.empty(1000)) {
            NativeMemory.trim(); // no idle blocks, so each tensor gets a block of its own size class
            NativeMemory.resetPeak();
            long base = NativeMemory.inUseBytes();
            assertEquals(base, NativeMemory.peakInUseBytes());
            try (Tensor a = Tensor.empty(4000)) {
                try (Tensor b = Tensor.empty(2000)) {
                    assertEquals(base + NativeMemory.sizeClass(16000) + NativeMemory.sizeClass(8000), NativeMemory.peakInUseBytes());
                }
            }
            assertEquals(base, NativeMemory.inUseBytes());
            assertEquals(base + NativeMemory.sizeClass(16000) + NativeMemory.sizeClass(8000), NativeMemory.peakInUseBytes(), "the peak stays");
            NativeMemory.resetPeak();
            assertEquals(base, NativeMemory.peakInUseBytes());
            long resident = ProcessMemory.residentBytes();
            assertTrue(resident > 0 && ProcessMemory.peakResidentBytes() >= resident, resident + " resident, peak " + ProcessMemory.peakResidentBytes());
        }
    }

    @Test
    void anIdleBlockUpToFourTimesTheRequestsClassServesIt() {
        NativeMemory.trim();
        Tensor.empty(4000).close(); // leaves an idle block of class 16,384 bytes
        long mallocs = NativeMemory.mallocCalls();
        try (Tensor t = Tensor.empty(1000)) { // class 4,096: the idle block is four times that
            assertEquals(mallocs, NativeMemory.mallocCalls());
        }
        NativeMemory.trim();
        Tensor.empty(5000).close(); // class 20,480: more than four times
        mallocs = NativeMemory.mallocCalls();
        try (Tensor t = Tensor.empty(1000)) {
            assertEquals(mallocs + 1, NativeMemory.mallocCalls());
        }
    }

    @Test
    void fillSetsEveryElementAndBumpsTheVersion() {
        try (Tensor t = Tensor.empty(3, 5)) {
            long before = t.version();
            t.fill(2.5f);
            assertArrayEquals(new float[] {2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f}, t.toArray());
            t.fill(0f);
            assertArrayEquals(new float[15], t.toArray());
            assertEquals(before + 2, t.version());
        }
    }

    @Test
    void copyFromWritesAtTheOffsetAndLeavesTheRest() {
        try (Tensor slots = Tensor.zeros(6); Tensor two = Tensor.fromArray(new float[] {7f, 8f}, 2)) {
            slots.copyFrom(two, 3);
            assertArrayEquals(new float[] {0f, 0f, 0f, 7f, 8f, 0f}, slots.toArray());
            assertEquals("Tensor.copyFrom: [2] at offset 5 does not fit into [6]",
                    assertThrows(IllegalArgumentException.class, () -> slots.copyFrom(two, 5)).getMessage());
        }
    }

    @Test
    void copyFromRefusesATensorInOtherMemory() {
        NativeMemory.Source other = new NativeMemory.Source() { // host memory under another name, as a device's would be
            @Override public long allocate(long bytes) { return NativeMemory.HOST.allocate(bytes); }
            @Override public void free(long address) { NativeMemory.HOST.free(address); }
            @Override public String name() { return "other memory"; }
            @Override public void fill(long address, long count, float value) { NativeMemory.HOST.fill(address, count, value); }
            @Override public void copy(long src, long dst, long count) { NativeMemory.HOST.copy(src, dst, count); }
        };
        Tensor elsewhere;
        NativeMemory.use(other);
        try {
            elsewhere = Tensor.zeros(2);
        } finally {
            NativeMemory.use(NativeMemory.HOST);
        }
        try (Tensor here = Tensor.zeros(2); Tensor there = elsewhere) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> here.copyFrom(there));
            assertTrue(e.getMessage().startsWith("Tensor.copyFrom: [2] in other memory into [2] in host"), e.getMessage());
        }
    }
}
