// TensorData: a named array as it appears in a checkpoint: dtype, shape and values in row-major
// (PyTorch) order, independent of the engine's memory format.
package org.bnnas.engine.io;

import java.util.Arrays;
import org.bnnas.engine.tensor.Tensor;

/** One entry of a state dict: F32 values or I64 values, with a shape, in logical row-major order. */
public final class TensorData {
    public enum DType { F32, I64 }

    private final DType dtype;
    private final int[] shape;
    private final float[] f32;
    private final long[] i64;

    private TensorData(DType dtype, int[] shape, float[] f32, long[] i64) {
        long n = 1;
        for (int d : shape) n *= d;
        long len = dtype == DType.F32 ? f32.length : i64.length;
        if (n != len) throw new IllegalArgumentException("TensorData: " + len + " values for shape " + Arrays.toString(shape));
        this.dtype = dtype;
        this.shape = shape.clone();
        this.f32 = f32;
        this.i64 = i64;
    }

    public static TensorData f32(int[] shape, float[] values) {
        return new TensorData(DType.F32, shape, values, null);
    }

    public static TensorData i64(int[] shape, long[] values) {
        return new TensorData(DType.I64, shape, null, values);
    }

    public static TensorData i64Scalar(long v) {
        return i64(new int[0], new long[] {v});
    }

    /** The contents of a tensor, in logical order (conv weights come out OIHW). */
    public static TensorData of(Tensor t) {
        return f32(t.shape().dims(), t.toArray());
    }

    public DType dtype() { return dtype; }

    public int[] shape() { return shape.clone(); }

    public float[] floats() {
        if (dtype != DType.F32) throw new IllegalStateException("TensorData: " + dtype + " entry read as F32");
        return f32;
    }

    public long[] longs() {
        if (dtype != DType.I64) throw new IllegalStateException("TensorData: " + dtype + " entry read as I64");
        return i64;
    }

    /** The single value of a scalar I64 entry named {@code name}. */
    public long longValue(String name) {
        if (dtype != DType.I64 || i64.length != 1) {
            throw new IllegalArgumentException(name + ": expected an I64 scalar, got " + dtype + " " + Arrays.toString(shape));
        }
        return i64[0];
    }

    /** Copies the values into {@code target}, which must have the same shape. */
    public void copyInto(String name, Tensor target) {
        if (!Arrays.equals(shape, target.shape().dims())) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " does not match " + target.shape());
        }
        target.copyFrom(floats());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData d && dtype == d.dtype && Arrays.equals(shape, d.shape)
                && Arrays.equals(f32, d.f32) && Arrays.equals(i64, d.i64);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(shape) * 31 + dtype.hashCode();
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}
