// Shape: the dimensions of a tensor, rank 0 to 4. A 4-D shape is read as (N, C, H, W).
package org.bnnas.engine.tensor;

import java.util.Arrays;

/** Immutable tensor dimensions, rank 0 (a scalar) to 4 (N, C, H, W). */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        if (dims.length > 4) {
            throw new IllegalArgumentException("Shape: rank " + dims.length + " > 4 in " + Arrays.toString(dims));
        }
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("Shape: negative dimension in " + Arrays.toString(dims));
        }
        this.dims = dims.clone();
    }

    public static Shape of(int... dims) {
        return new Shape(dims);
    }

    public int rank() { return dims.length; }

    public int dim(int i) { return dims[i < 0 ? dims.length + i : i]; }

    public int[] dims() { return dims.clone(); }

    public long numel() {
        long n = 1;
        for (int d : dims) n *= d;
        return n;
    }

    /** Number of elements as an int: every tensor of this engine fits in 2^31 - 1 floats. */
    public int size() {
        long n = numel();
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("Shape: " + this + " has more than 2^31-1 elements");
        return (int) n;
    }

    @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }
    @Override public int hashCode() { return Arrays.hashCode(dims); }
    @Override public String toString() { return Arrays.toString(dims); }
}
