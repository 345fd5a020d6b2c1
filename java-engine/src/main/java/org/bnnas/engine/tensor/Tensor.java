// Tensor: float32, contiguous, rank 0-4, in off-heap memory; a vertex of the autograd graph (its gradFn, a Node).
package org.bnnas.engine.tensor;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A float32 tensor in off-heap memory owned by a {@link MemoryScope} or by its creator.
 *
 * <p>Memory format: tensors of rank 0-3 are row-major. A 4-D tensor has the logical shape
 * (N, C, H, W), as in PyTorch, and is stored channels-last, element (n, c, h, w) at
 * ((n*H + h)*W + w)*C + c. On a CPU this makes a 1x1 convolution a single GEMM over all pixels and
 * lets depthwise convolution and batch norm vectorise over channels. Conv weights (O, I, kH, kW)
 * are therefore stored (O, kH, kW, I). {@link #fromArray} and {@link #toArray} always use the
 * logical row-major order, so tests, checkpoints and users never see the difference.
 */
public final class Tensor implements AutoCloseable {
    private final Shape shape;
    private NativeMemory.Block block;
    private boolean requiresGrad;
    /** Gradient of the loss with respect to this tensor, filled by autograd's backward walk. */
    private Tensor grad;
    /** The op that produced this tensor, when it is part of a graph that needs gradients. */
    private Node gradFn;
    /**
     * Incremented by every in-place change of the contents. Autograd reads it: a node notes the
     * versions of the tensors its backward reads, and backward refuses to run once one has moved on.
     */
    private long version;
    MemoryScope owner;

    private Tensor(Shape shape) {
        this.shape = shape;
        this.block = NativeMemory.allocate(Math.max(4L, shape.numel() * 4L));
        MemoryScope s = MemoryScope.current();
        if (s != null) {
            owner = s;
            s.adopt(this);
        }
    }

    /** A tensor with undefined contents (every kernel that takes one writes all of it). */
    public static Tensor empty(Shape shape) {
        return new Tensor(shape);
    }

    public static Tensor empty(int... dims) {
        return new Tensor(Shape.of(dims));
    }

    public static Tensor zeros(int... dims) {
        return zeros(Shape.of(dims));
    }

    public static Tensor zeros(Shape shape) {
        Tensor t = new Tensor(shape);
        t.fill(0f);
        return t;
    }

    public static Tensor scalar(float v) {
        Tensor t = new Tensor(Shape.of());
        t.copyFromStorage(new float[] {v});
        return t;
    }

    /** A tensor holding {@code data} given in logical row-major order, e.g. (N, C, H, W) for 4-D. */
    public static Tensor fromArray(float[] data, int... dims) {
        Shape shape = Shape.of(dims);
        if (data.length != shape.numel()) {
            throw new IllegalArgumentException("Tensor.fromArray: " + data.length + " values for shape " + shape);
        }
        Tensor t = new Tensor(shape);
        t.copyFrom(data);
        return t;
    }

    public Shape shape() { return shape; }

    public int dim(int i) { return shape.dim(i); }

    public int rank() { return shape.rank(); }

    public int size() { return shape.size(); }

    /**
     * Direct buffer over the storage, native byte order; element i (storage order) at byte 4*i.
     * Only for tensors in host memory (the CPU backend's); others are read with toArray.
     */
    public ByteBuffer buffer() {
        checkOpen();
        if (block.buffer == null) {
            throw new IllegalStateException("Tensor " + shape + " is in " + block.source().name() + ": the host reads it with toArray()");
        }
        return block.buffer;
    }

    /** Address of the first element, for native libraries and device kernels. */
    public long address() {
        checkOpen();
        return block.address;
    }

    public long version() { return version; }

    /**
     * Marks an in-place modification. Tensor's own writes (copyFrom, copyFromStorage, fill) bump
     * the version themselves; whoever changes a tensor in place otherwise (through a backend
     * kernel, buffer() or address()) calls this after the write.
     */
    public void bumpVersion() { version++; }

    public boolean requiresGrad() { return requiresGrad; }

    public Tensor requiresGrad(boolean on) {
        if (gradFn != null && !on) throw new IllegalArgumentException("requiresGrad: cannot turn off on a non-leaf tensor");
        this.requiresGrad = on;
        return this;
    }

    public Tensor grad() { return grad; }

    public void setGrad(Tensor g) { this.grad = g; }

    public Node gradFn() { return gradFn; }

    public void setGradFn(Node n) {
        this.gradFn = n;
        this.requiresGrad = n != null || requiresGrad;
    }

    /** True for tensors created by the user (parameters, inputs) rather than by an op. */
    public boolean isLeaf() { return gradFn == null; }

    public boolean isClosed() { return block == null; }

    /** Returns the memory to the pool. Closing twice is harmless. */
    @Override
    public void close() {
        if (grad != null) { // a leaf's gradient lives outside any scope: it goes with its tensor
            grad.close();
            grad = null;
        }
        if (block != null) {
            NativeMemory.release(block);
            block = null;
        }
        gradFn = null;
    }

    private void checkOpen() {
        if (block == null) throw new IllegalStateException("Tensor " + shape + " used after close");
    }

    // ---- element access in logical order ---------------------------------------------------

    /** Storage index of logical row-major index {@code i}. */
    private int storageIndex(int i) {
        if (shape.rank() != 4) return i;
        int c = shape.dim(1), h = shape.dim(2), w = shape.dim(3);
        int x = i % w, y = (i / w) % h, ch = (i / (w * h)) % c, n = i / (w * h * c);
        return ((n * h + y) * w + x) * c + ch;
    }

    /** The element at a logical index, e.g. {@code get(n, c, h, w)}. */
    public float get(int... index) {
        if (index.length != shape.rank()) {
            throw new IllegalArgumentException("Tensor.get: " + index.length + " indices for shape " + shape);
        }
        int flat = 0;
        for (int d = 0; d < index.length; d++) {
            if (index[d] < 0 || index[d] >= shape.dim(d)) {
                throw new IllegalArgumentException("Tensor.get: index " + Arrays.toString(index) + " outside " + shape);
            }
            flat = flat * shape.dim(d) + index[d];
        }
        return storageElement(storageIndex(flat));
    }

    /** The value of a one-element tensor. */
    public float item() {
        if (shape.numel() != 1) throw new IllegalArgumentException("Tensor.item: shape " + shape + " has " + shape.numel() + " elements");
        return storageElement(0);
    }

    private float storageElement(int i) {
        checkOpen();
        if (block.buffer != null) return block.buffer.getFloat(4 * i);
        float[] one = new float[1];
        block.source().toHost(block.address + 4L * i, one);
        return one[0];
    }

    /** A copy of the contents in logical row-major order. */
    public float[] toArray() {
        float[] stored = toStorageArray();
        if (shape.rank() != 4) return stored;
        float[] out = new float[stored.length];
        int c = shape.dim(1), hw = shape.dim(2) * shape.dim(3);
        for (int s = 0; s < stored.length; s++) { // s walks storage order (n, h, w, c)
            int ch = s % c, pix = (s / c) % hw, img = s / (c * hw);
            out[(img * c + ch) * hw + pix] = stored[s];
        }
        return out;
    }

    /** The contents in storage order (channels-last for 4-D). */
    public float[] toStorageArray() {
        checkOpen();
        float[] out = new float[size()];
        if (block.buffer != null) {
            block.buffer.asFloatBuffer().get(0, out);
        } else {
            block.source().toHost(block.address, out);
        }
        return out;
    }

    /** Overwrites the contents from logical row-major order. */
    public void copyFrom(float[] data) {
        if (data.length != size()) throw new IllegalArgumentException("Tensor.copyFrom: " + data.length + " values for shape " + shape);
        if (shape.rank() != 4) {
            copyFromStorage(data);
            return;
        }
        float[] stored = new float[data.length];
        int c = shape.dim(1), hw = shape.dim(2) * shape.dim(3);
        for (int s = 0; s < data.length; s++) {
            int ch = s % c, pix = (s / c) % hw, img = s / (c * hw);
            stored[s] = data[(img * c + ch) * hw + pix];
        }
        copyFromStorage(stored);
    }

    /** Overwrites the contents from storage order. */
    public void copyFromStorage(float[] data) {
        if (data.length != size()) throw new IllegalArgumentException("Tensor.copyFromStorage: " + data.length + " values for shape " + shape);
        checkOpen();
        if (block.buffer != null) {
            block.buffer.asFloatBuffer().put(0, data);
        } else {
            block.source().fromHost(data, block.address);
        }
        version++;
    }

    /** Overwrites the contents from storage order: {@code data}'s remaining floats, which must be this tensor's size. */
    public void copyFromStorage(FloatBuffer data) {
        if (data.remaining() != size()) throw new IllegalArgumentException("Tensor.copyFromStorage: " + data.remaining() + " values for shape " + shape);
        checkOpen();
        if (block.buffer != null) {
            block.buffer.asFloatBuffer().put(0, data, data.position(), size());
        } else { // through the host in pieces, so that a large batch never needs a heap array of its size
            float[] piece = new float[Math.min(size(), HOST_PIECE)];
            for (int at = 0; at < size(); at += piece.length) {
                if (size() - at < piece.length) piece = new float[size() - at];
                data.get(data.position() + at, piece);
                block.source().fromHost(piece, block.address + 4L * at);
            }
        }
        version++;
    }

    /** The floats copyFromStorage(FloatBuffer) sends to a device at a time. */
    private static final int HOST_PIECE = 1 << 20;

    /** Copies another tensor of the same shape into this one (on the device that holds both). */
    public void copyFrom(Tensor src) {
        if (!src.shape.equals(shape)) throw new IllegalArgumentException("Tensor.copyFrom: shape " + src.shape + " into " + shape);
        copyFrom(src, 0);
    }

    /**
     * Overwrites elements [offset, offset + src.size()) of this tensor, in storage order, with
     * src's elements (on the device that holds both): a one-element result into its slot of a longer log.
     */
    public void copyFrom(Tensor src, int offset) {
        if (offset < 0 || offset > size() - src.size()) {
            throw new IllegalArgumentException("Tensor.copyFrom: " + src.shape + " at offset " + offset + " does not fit into " + shape);
        }
        checkOpen();
        src.checkOpen();
        if (src.block.source() != block.source()) {
            throw new IllegalArgumentException("Tensor.copyFrom: " + src.shape + " in " + src.block.source().name() + " into " + shape + " in "
                    + block.source().name() + " (copy through the host: toStorageArray, copyFromStorage)");
        }
        block.source().copy(src.block.address, block.address + 4L * offset, src.size());
        version++;
    }

    /** Sets every element to {@code v} (on the device that holds the tensor). */
    public void fill(float v) {
        checkOpen();
        block.source().fill(block.address, size(), v);
        version++;
    }

    /** A new tensor (in the current scope) with the same contents and no graph. */
    public Tensor copy() {
        Tensor t = new Tensor(shape);
        t.copyFrom(this);
        return t;
    }

    @Override
    public String toString() {
        return "Tensor" + shape + (requiresGrad ? " requiresGrad" : "");
    }

    /** A JavaCPP pointer at a raw address, for native calls; it owns nothing. */
    public static final class AddressPointer extends org.bytedeco.javacpp.Pointer {
        public AddressPointer(long address) {
            this.address = address;
        }
    }
}
