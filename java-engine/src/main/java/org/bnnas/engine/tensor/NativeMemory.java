// NativeMemory: the off-heap allocator behind every CPU tensor, with a size-class pool so that a
// steady training loop stops calling malloc after its first steps.
package org.bnnas.engine.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Off-heap blocks from malloc, 64-byte aligned (one AVX-512 vector, one cache line), recycled
 * through per-size-class free lists. Size classes are 2^k * {4,5,6,7}/4 bytes, so a block wastes
 * at most 25% and the number of classes a training loop touches stays small.
 * Memory goes back to the pool only when its owner closes it, never through the garbage collector.
 */
public final class NativeMemory {
    /** One block: its address, its usable size in bytes, and a direct buffer over it (native order). */
    public static final class Block {
        final long rawAddress;
        final Pointer raw;
        public final long address;
        public final long capacityBytes;
        public final ByteBuffer buffer;

        private Block(Pointer raw, long address, long capacityBytes) {
            this.raw = raw;
            this.rawAddress = raw.address();
            this.address = address;
            this.capacityBytes = capacityBytes;
            BytePointer view = new BytePointer(new Tensor.AddressPointer(address));
            view.capacity(capacityBytes);
            this.buffer = view.asByteBuffer().order(ByteOrder.nativeOrder());
            if (view.address() != address || buffer.capacity() != capacityBytes) {
                throw new IllegalStateException("NativeMemory: buffer view does not cover the block");
            }
        }
    }

    private static final int ALIGN = 64;
    private static final Map<Long, ArrayDeque<Block>> FREE = new HashMap<>();
    private static long reservedBytes;
    private static long inUseBytes;
    private static long mallocCalls;

    private NativeMemory() {}

    /** The size class that holds {@code bytes}: 2^k * {1, 1.25, 1.5, 1.75}, at least 64 bytes. */
    static long sizeClass(long bytes) {
        if (bytes <= ALIGN) return ALIGN;
        long pow = Long.highestOneBit(bytes - 1); // largest power of two below bytes
        if (pow < 4 * ALIGN) return (bytes + ALIGN - 1) / ALIGN * ALIGN;
        long quarter = pow / 4;
        return (bytes + quarter - 1) / quarter * quarter;
    }

    /** A block of at least {@code bytes}, contents undefined. */
    public static synchronized Block allocate(long bytes) {
        long cls = sizeClass(Math.max(bytes, 1));
        ArrayDeque<Block> free = FREE.get(cls);
        Block b = free == null ? null : free.pollLast();
        if (b == null) {
            Pointer raw = Pointer.malloc(cls + ALIGN);
            if (raw == null || raw.isNull()) throw new OutOfMemoryError("NativeMemory: malloc of " + cls + " bytes failed");
            long aligned = (raw.address() + ALIGN - 1) & -ALIGN;
            b = new Block(raw, aligned, cls);
            reservedBytes += cls + ALIGN;
            mallocCalls++;
        }
        inUseBytes += b.capacityBytes;
        return b;
    }

    /** Returns a block to its free list; the memory stays reserved for the next request of its class. */
    public static synchronized void release(Block b) {
        inUseBytes -= b.capacityBytes;
        FREE.computeIfAbsent(b.capacityBytes, k -> new ArrayDeque<>()).addLast(b);
    }

    /** Frees every pooled block that is not in use back to the system. */
    public static synchronized void trim() {
        for (ArrayDeque<Block> q : FREE.values()) {
            for (Block b : q) {
                Pointer.free(b.raw);
                reservedBytes -= b.capacityBytes + ALIGN;
            }
        }
        FREE.clear();
    }

    /** Bytes obtained from malloc and not yet freed (in use plus pooled). */
    public static synchronized long reservedBytes() { return reservedBytes; }

    /** Bytes held by live tensors. */
    public static synchronized long inUseBytes() { return inUseBytes; }

    /** How many times the pool had to call malloc since start-up. */
    public static synchronized long mallocCalls() { return mallocCalls; }
}
