// CudaProviderTest: why the CUDA backend cannot run, in one line naming the library the dynamic
// linker did not find, from the errors JavaCPP throws (runs without a GPU).
package org.bnnas.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class CudaProviderTest {
    /** What Loader.load throws when the JNI glue is there but a library it links against is not. */
    private static UnsatisfiedLinkError javacppFailure(String glue, String missing) {
        UnsatisfiedLinkError cause = new UnsatisfiedLinkError("/root/.javacpp/cache/benchmarks.jar/org/bytedeco/cuda/linux-x86_64/lib" + glue
                + ".so: " + missing + ": cannot open shared object file: No such file or directory");
        UnsatisfiedLinkError e = new UnsatisfiedLinkError("no " + glue + " in java.library.path: /usr/java/packages/lib:/usr/lib");
        e.initCause(cause);
        return e;
    }

    @Test
    void aMachineWithTheToolkitButNoDriverIsToldItLacksTheDriver() {
        assertEquals("no NVIDIA driver (libcuda.so.1 is not on the library path)",
                CudaProvider.loadFailure("CUDA 13 runtime", "libcudart.so.13", javacppFailure("jnicudart", "libcuda.so.1")));
    }

    @Test
    void theMissingLibraryIsNamedEvenWhenItIsNotTheComponentsMainOne() {
        assertEquals("no CUDA 13 runtime (libcudart.so.13 is not on the library path)",
                CudaProvider.loadFailure("CUDA 13 runtime", "libcudart.so.13", javacppFailure("jnicudart", "libcudart.so.13")));
        assertEquals("no cuDNN 9 (libcudnn_graph.so.9 is not on the library path)",
                CudaProvider.loadFailure("cuDNN 9", "libcudnn.so.9", javacppFailure("jnicudnn", "libcudnn_graph.so.9")));
        assertEquals("no cuBLAS 13 (libcublasLt.so.13 is not on the library path)",
                CudaProvider.loadFailure("cuBLAS 13", "libcublas.so.13", javacppFailure("jnicublas", "libcublasLt.so.13")));
    }

    @Test
    void anErrorThatNamesNoLibraryFallsBackToTheComponentsLibrary() {
        assertNull(CudaProvider.missingLibrary(new UnsatisfiedLinkError("no jnicudnn in java.library.path")));
        assertEquals("no cuDNN 9 (libcudnn.so.9 is not on the library path)",
                CudaProvider.loadFailure("cuDNN 9", "libcudnn.so.9", new UnsatisfiedLinkError("no jnicudnn in java.library.path")));
    }

    @Test
    void theReasonOnThisMachineIsOneLine() {
        String why = new CudaProvider().unavailableReason();
        if (why != null) assertFalse(why.contains("\n"), why);
    }
}
