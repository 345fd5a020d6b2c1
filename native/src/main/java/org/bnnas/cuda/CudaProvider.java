// CudaProvider: offers the CUDA backend to java-engine (ServiceLoader, see META-INF/services),
// after checking that the CUDA runtime, a GPU, cuDNN, cuBLAS and our kernel library are all there.
package org.bnnas.cuda;

import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import org.bnnas.engine.backend.Backend;
import org.bnnas.engine.backend.BackendProvider;
import org.bytedeco.javacpp.Loader;

public final class CudaProvider implements BackendProvider {
    private static String reason;
    private static boolean probed;

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public synchronized String unavailableReason() {
        if (!probed) {
            reason = probe();
            probed = true;
        }
        return reason;
    }

    /**
     * Null when everything the backend needs is present, else the first thing missing, in one
     * line. (A missing library shows up as JavaCPP failing to load its JNI glue, whose message
     * names the glue rather than the library, so the reasons here name the library instead.)
     */
    private static String probe() {
        try {
            Loader.load(org.bytedeco.cuda.global.cudart.class);
        } catch (Throwable e) {
            return "no CUDA 13 runtime (libcudart.so.13) on the library path";
        }
        int[] count = new int[1];
        int status = cudaGetDeviceCount(count);
        if (status != cudaSuccess) return "no usable GPU: " + cudaGetErrorString(status).getString();
        if (count[0] == 0) return "no GPU found";
        try {
            Loader.load(org.bytedeco.cuda.global.cudnn.class);
        } catch (Throwable e) {
            return "no cuDNN 9 (libcudnn.so.9) on the library path";
        }
        try {
            Loader.load(org.bytedeco.cuda.global.cublas.class);
        } catch (Throwable e) {
            return "no cuBLAS 13 (libcublas.so.13) on the library path";
        }
        try {
            KernelLib.load();
        } catch (Throwable e) {
            return "this build has no bnnas CUDA kernel library (built without nvcc, or by ./bnnas on a machine without a GPU): "
                    + firstLine(e);
        }
        return null;
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** Convolutions may use TF32 unless the system property bnnas.cuda.tf32 is false (PyTorch's default is on). */
    @Override
    public Backend create() {
        String why = unavailableReason();
        if (why != null) throw new IllegalStateException("CUDA backend unavailable: " + why);
        return new CudaBackend(!"false".equals(System.getProperty("bnnas.cuda.tf32")));
    }
}
