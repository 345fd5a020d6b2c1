// Blas: the one place that calls OpenBLAS (through the JavaCPP preset), on off-heap addresses.
package org.bnnas.engine.backend.cpu;

import org.bnnas.engine.tensor.Tensor.AddressPointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * Row-major single-precision GEMM on raw addresses. OpenBLAS runs single-threaded: the CPU
 * backend splits each product into row blocks itself ({@link Parallel}), which keeps small
 * products fast and makes results independent of the thread count.
 */
final class Blas {
    private static final int ROW_MAJOR = openblas_nolapack.CblasRowMajor;
    private static final int NO_TRANS = openblas_nolapack.CblasNoTrans;
    private static final int TRANS = openblas_nolapack.CblasTrans;

    static {
        Loader.load(openblas_nolapack.class);
        org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(1);
    }

    private Blas() {}

    private static FloatPointer at(long address) {
        return new FloatPointer(new AddressPointer(address));
    }

    /**
     * C (m x n, leading dimension ldc) = alpha * op(A) op(B) + beta * C, where op(A) is m x k and
     * op(B) is k x n; addresses in bytes, leading dimensions in floats.
     */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      long a, int lda, long b, int ldb, float beta, long c, int ldc) {
        if (m == 0 || n == 0) return;
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS,
                m, n, k, alpha, at(a), lda, at(b), ldb, beta, at(c), ldc);
    }
}
