// NativeMemory: the allocator behind every tensor, with a size-class pool so that a steady
// training loop stops allocating after its first steps. Host memory by default; a device backend
// installs its own source of memory (CUDA: device memory, which the host reaches by copies).
package org.bnnas.engine.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Off-heap blocks from malloc, 64-byte aligned (one AVX-512 vector, one cache line), recycled
 * through per-size-class free lists. Size classes are 2^k * {4,5,6,7}/4 bytes, so a block wastes
 * at most 25% and the number of classes a training loop touches stays small.
 * Memory goes back to the pool only when its owner closes it, never through the garbage collector.
 */
public final class NativeMemory {
    /**
     * Where blocks come from, and the memory operations on them that need no kernel of a backend:
     * fill and copy, ordered with the device's work. Host memory is read through a direct buffer;
     * memory the host cannot address (a GPU's) through {@link #toHost} and {@link #fromHost}, which copy.
     */
    public interface Source {
        /** A block of {@code bytes}, or 0 when there is no memory left. */
        long allocate(long bytes);

        void free(long address);

        String name();

        /** Whether the host can read and write this memory in place. */
        default boolean hostAccessible() {
            return true;
        }

        /** Copies {@code dst.length} floats from {@code address} to the host, after the work that writes them. */
        default void toHost(long address, float[] dst) {
            throw new UnsupportedOperationException(name() + ": no copy to the host");
        }

        /** Copies {@code src} to {@code address}, ordered before the work launched after it. */
        default void fromHost(float[] src, long address) {
            throw new UnsupportedOperationException(name() + ": no copy from the host");
        }

        /** Sets {@code count} floats from {@code address} on to {@code value}. */
        void fill(long address, long count, float value);

        /** Copies {@code count} floats from {@code src} to {@code dst}, both blocks of this source (they do not overlap). */
        void copy(long src, long dst, long count);
    }

    /** Plain host memory from malloc. */
    public static final Source HOST = new Source() {
        @Override public long allocate(long bytes) {
            Pointer p = Pointer.malloc(bytes);
            return p == null ? 0 : p.address();
        }

        @Override public void free(long address) {
            Pointer.free(new Tensor.AddressPointer(address));
        }

        @Override public String name() {
            return "host";
        }

        @Override public void fill(long address, long count, float value) {
            if (value == 0f) {
                Pointer.memset(new Tensor.AddressPointer(address), 0, 4L * count);
                return;
            }
            BytePointer view = new BytePointer(new Tensor.AddressPointer(address));
            view.capacity(4L * count);
            ByteBuffer b = view.asByteBuffer().order(ByteOrder.nativeOrder());
            for (int i = 0; i < count; i++) b.putFloat(4 * i, value);
        }

        @Override public void copy(long src, long dst, long count) {
            Pointer.memcpy(new Tensor.AddressPointer(dst), new Tensor.AddressPointer(src), 4L * count);
        }
    };

    /** One block: its source, its address, its usable size in bytes, and a direct buffer over it (native order; null for memory the host cannot address). */
    public static final class Block {
        final Source source;
        final long rawAddress;
        public final long address;
        public final long capacityBytes;
        public final ByteBuffer buffer;

        private Block(Source source, long rawAddress, long address, long capacityBytes) {
            this.source = source;
            this.rawAddress = rawAddress;
            this.address = address;
            this.capacityBytes = capacityBytes;
            if (!source.hostAccessible()) {
                this.buffer = null;
                return;
            }
            BytePointer view = new BytePointer(new Tensor.AddressPointer(address));
            view.capacity(capacityBytes);
            this.buffer = view.asByteBuffer().order(ByteOrder.nativeOrder());
            if (view.address() != address || buffer.capacity() != capacityBytes) {
                throw new IllegalStateException("NativeMemory: buffer view does not cover the block");
            }
        }

        public Source source() {
            return source;
        }
    }

    private static final int ALIGN = 64;
    private static final TreeMap<Long, ArrayDeque<Block>> FREE = new TreeMap<>();
    /** How much larger than its size class an idle block may be and still serve a request. */
    private static final long LARGER_BY_AT_MOST = 4;
    private static Source source = HOST;
    private static long reservedBytes;
    private static long inUseBytes;
    private static long peakInUseBytes;
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
        Block b = idleBlock(cls);
        if (b == null) {
            long raw = source.allocate(cls + ALIGN);
            if (raw == 0) throw new OutOfMemoryError("NativeMemory: " + source.name() + " allocation of " + cls + " bytes failed");
            long aligned = (raw + ALIGN - 1) & -ALIGN;
            b = new Block(source, raw, aligned, cls);
            reservedBytes += cls + ALIGN;
            mallocCalls++;
        }
        inUseBytes += b.capacityBytes;
        peakInUseBytes = Math.max(peakInUseBytes, inUseBytes);
        return b;
    }

    /**
     * An idle block of class {@code cls} or, failing that, of the smallest larger class up to
     * LARGER_BY_AT_MOST times it: a training step's backward asks for other sizes than its forward
     * freed, and taking those blocks keeps the pool near the bytes in use (bnnas-imagenet's BN-only
     * step at batch 64 reserved 5.2 GB for a peak of 4.4 GB in use with exact classes only, 4.9 GB
     * with blocks up to twice the class, 4.85 GB up to four times).
     */
    private static Block idleBlock(long cls) {
        for (Map.Entry<Long, ArrayDeque<Block>> e = FREE.ceilingEntry(cls); e != null && e.getKey() <= LARGER_BY_AT_MOST * cls;
                e = FREE.higherEntry(e.getKey())) {
            Block b = e.getValue().pollLast();
            if (b != null) return b;
        }
        return null;
    }

    /** Returns a block to its free list; the memory stays reserved for the next request of its class. */
    public static synchronized void release(Block b) {
        inUseBytes -= b.capacityBytes;
        if (b.source != source) { // from before a change of source: it goes back where it came from
            b.source.free(b.rawAddress);
            reservedBytes -= b.capacityBytes + ALIGN;
            return;
        }
        FREE.computeIfAbsent(b.capacityBytes, k -> new ArrayDeque<>()).addLast(b);
    }

    /**
     * Makes new tensors take their memory from {@code s}. Pooled blocks of the old source are freed;
     * tensors that still hold one keep it until they close. Choose the device before creating a
     * model: a device backend cannot read plain host memory.
     */
    public static synchronized void use(Source s) {
        if (s == source) return;
        trim();
        source = s;
    }

    /** The source new tensors take their memory from. */
    public static synchronized Source source() {
        return source;
    }

    /** Frees every pooled block that is not in use back to the system. */
    public static synchronized void trim() {
        for (ArrayDeque<Block> q : FREE.values()) {
            for (Block b : q) {
                b.source.free(b.rawAddress);
                reservedBytes -= b.capacityBytes + ALIGN;
            }
        }
        FREE.clear();
    }

    /** Bytes obtained from malloc and not yet freed (in use plus pooled). */
    public static synchronized long reservedBytes() { return reservedBytes; }

    /** Bytes held by live tensors. */
    public static synchronized long inUseBytes() { return inUseBytes; }

    /** The most bytes live tensors held at once since start-up or the last {@link #resetPeak}. */
    public static synchronized long peakInUseBytes() { return peakInUseBytes; }

    /** Starts a new peak from the bytes in use now. */
    public static synchronized void resetPeak() { peakInUseBytes = inUseBytes; }

    /** How many times the pool had to ask its source for memory since start-up. */
    public static synchronized long mallocCalls() { return mallocCalls; }
}
