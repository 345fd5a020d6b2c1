// Check: the one native boundary of the CUDA backend. Every status from the CUDA runtime, cuDNN,
// cuBLAS and our kernels goes through here and becomes a CudaException carrying the library's
// own error string and the call that failed.
package org.bnnas.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLAS_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cublas.cublasGetStatusString;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaGetLastError;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;
import static org.bytedeco.cuda.global.cudnn.CUDNN_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cudnn.cudnnGetErrorString;

final class Check {
    private Check() {}

    /** A failed CUDA, cuDNN or cuBLAS call. */
    static final class CudaException extends RuntimeException {
        CudaException(String message) {
            super(message);
        }
    }

    /** A CUDA runtime call. */
    static void cuda(int status, String call) {
        if (status != cudaSuccess) throw failure(status, call);
    }

    /** One of our kernel launchers (they return the cudaError_t of the launch). */
    static void kernel(int status, String kernel) {
        if (status != cudaSuccess) throw failure(status, "kernel " + kernel);
    }

    /**
     * A failed runtime call also sets the runtime's last error, which our launchers read after
     * each launch (cudaGetLastError); it is cleared here so that the next launch is not blamed for
     * it. (An error that corrupts the context stays whatever is read.)
     */
    static void clearLastError() {
        cudaGetLastError();
    }

    private static CudaException failure(int status, String call) {
        clearLastError();
        return new CudaException(call + ": " + cudaGetErrorString(status).getString() + " (cudaError " + status + ")");
    }

    static void cudnn(int status, String call) {
        if (status != CUDNN_STATUS_SUCCESS) throw new CudaException(call + ": " + cudnnGetErrorString(status).getString() + " (cudnnStatus " + status + ")");
    }

    static void cublas(int status, String call) {
        if (status != CUBLAS_STATUS_SUCCESS) throw new CudaException(call + ": " + cublasGetStatusString(status).getString() + " (cublasStatus " + status + ")");
    }
}
