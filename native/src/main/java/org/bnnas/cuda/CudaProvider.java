// CudaProvider: offers the CUDA backend to java-engine (ServiceLoader, see META-INF/services),
// after checking that the CUDA runtime, a GPU, cuDNN, cuBLAS and our kernel library are all there.
package org.bnnas.cuda;

import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
     * line. A missing library shows up as JavaCPP failing to load its JNI glue, whose message
     * names the glue; the reasons here name the library that the dynamic linker could not find
     * (on a machine with the CUDA toolkit but no GPU that is the driver's libcuda.so.1, not the
     * runtime).
     */
    private static String probe() {
        try {
            Loader.load(org.bytedeco.cuda.global.cudart.class);
        } catch (Throwable e) {
            return loadFailure("CUDA 13 runtime", "libcudart.so.13", e);
        }
        int[] count = new int[1];
        int status = cudaGetDeviceCount(count);
        if (status != cudaSuccess) return "no usable GPU: " + cudaGetErrorString(status).getString();
        if (count[0] == 0) return "no GPU found";
        try {
            Loader.load(org.bytedeco.cuda.global.cudnn.class);
        } catch (Throwable e) {
            return loadFailure("cuDNN 9", "libcudnn.so.9", e);
        }
        try {
            Loader.load(org.bytedeco.cuda.global.cublas.class);
        } catch (Throwable e) {
            return loadFailure("cuBLAS 13", "libcublas.so.13", e);
        }
        try {
            KernelLib.load();
        } catch (Throwable e) {
            return "this build has no bnnas CUDA kernel library (built without nvcc, or by bin/bnnas on a machine without a GPU): "
                    + firstLine(e);
        }
        return null;
    }

    /** "cannot open shared object file" is how the dynamic linker (glibc's dlopen) reports a library it did not find. */
    private static final Pattern NOT_FOUND = Pattern.compile("([^\\s:/]+\\.so[0-9.]*): cannot open shared object file");

    /**
     * Why loading {@code component} (whose main library is {@code library}) failed, in one line:
     * the missing library that the error names, else the component's own library.
     */
    static String loadFailure(String component, String library, Throwable e) {
        String missing = missingLibrary(e);
        if (missing == null) missing = library;
        if (missing.startsWith("libcuda.so")) return "no NVIDIA driver (" + missing + " is not on the library path)";
        return "no " + component + " (" + missing + " is not on the library path)";
    }

    /** The first library that {@code e} or one of its causes says could not be opened, or null. */
    static String missingLibrary(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            Matcher m = NOT_FOUND.matcher(String.valueOf(t.getMessage()));
            if (m.find()) return m.group(1);
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
