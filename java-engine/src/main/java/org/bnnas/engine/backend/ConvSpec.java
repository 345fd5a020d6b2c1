// ConvSpec: the geometry of a 2-D convolution, shared by every backend.
package org.bnnas.engine.backend;

/**
 * Stride, padding and groups of a convolution with square kernel {@code k}; the derived output
 * size follows PyTorch: out = (in + 2*padding - k) / stride + 1.
 */
public record ConvSpec(int kernel, int stride, int padding, int groups) {
    public ConvSpec {
        if (kernel < 1 || stride < 1 || padding < 0 || groups < 1) {
            throw new IllegalArgumentException("conv2d: invalid kernel " + kernel + ", stride " + stride
                    + ", padding " + padding + ", groups " + groups);
        }
    }

    public int outSize(int in) {
        return (in + 2 * padding - kernel) / stride + 1;
    }

    /** True when this is a plain 1x1 convolution, which is one GEMM over all pixels. */
    public boolean isPointwise() {
        return kernel == 1 && stride == 1 && padding == 0 && groups == 1;
    }
}
