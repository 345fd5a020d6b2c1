// Scratch: device memory the CUDA backend uses for itself, growing to fit: the workspace shared by
// every op (cuDNN workspaces, reduction partials; safe because all work runs on one stream), and
// the buffers that uploaded labels and address tables go to. It grows during the first steps and
// then stays, so a steady step never calls cudaMalloc.
package org.bnnas.cuda;

import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;

import org.bnnas.engine.tensor.Tensor;
import org.bytedeco.javacpp.PointerPointer;

final class Scratch {
    private long address;
    private long bytes;

    /** The workspace, grown to at least {@code need} bytes; returns its address. */
    long ensure(long need) {
        if (need > bytes) {
            // cudaFree waits for the kernels still using the old buffer.
            if (address != 0) Check.cuda(cudaFree(new Tensor.AddressPointer(address)), "cudaFree (workspace)");
            long grown = Math.max(need, bytes + bytes / 2);
            address = malloc(grown, "workspace");
            bytes = grown;
        }
        return address;
    }

    long address() {
        return ensure(1);
    }

    long bytes() {
        return bytes;
    }

    private static long malloc(long n, String what) {
        try (PointerPointer<?> out = new PointerPointer<>(1)) {
            Check.cuda(cudaMalloc(out, n), "cudaMalloc (" + what + ", " + n + " bytes)");
            return out.get(0).address();
        }
    }
}
