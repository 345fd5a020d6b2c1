// DeviceMemory: GPU memory (cudaMalloc) as the source of the engine's tensor pool. The host reaches
// it only by copies on the default stream, which the kernels use too: a copy to the host waits
// for everything launched before it; a copy from the host is an upload that does not wait.
package org.bnnas.cuda;

import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemcpy;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import org.bnnas.engine.tensor.NativeMemory;
import org.bnnas.engine.tensor.Tensor;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The engine's pool ({@link NativeMemory}) keeps freed blocks per size class and hands them out
 * again, so this is the caching device allocator: after the first steps of a training loop no
 * cudaMalloc happens. A block goes back to the pool while kernels may still use it; that is safe
 * because every later use is a launch on the same stream, ordered after them.
 */
final class DeviceMemory implements NativeMemory.Source {
    private final Uploads uploads;
    private long reads;

    DeviceMemory(Uploads uploads) {
        this.uploads = uploads;
    }

    /** How many copies to the host there have been: each one waited for the GPU. */
    long reads() {
        return reads;
    }

    @Override
    public long allocate(long bytes) {
        try (PointerPointer<?> out = new PointerPointer<>(1)) {
            if (cudaMalloc(out, bytes) != cudaSuccess) { // NativeMemory reports the failed allocation
                Check.clearLastError();
                return 0;
            }
            return out.get(0).address();
        }
    }

    @Override
    public void free(long address) {
        Check.cuda(cudaFree(new Tensor.AddressPointer(address)), "cudaFree");
    }

    @Override
    public String name() {
        return "GPU memory";
    }

    @Override
    public boolean hostAccessible() {
        return false;
    }

    @Override
    public void toHost(long address, float[] dst) {
        try (FloatPointer host = new FloatPointer(dst.length)) {
            toHost(address, host, 4L * dst.length, "a tensor");
            host.get(dst);
        }
    }

    /** Copies {@code bytes} from device memory to {@code host}, after the work launched before: every read of the backend goes here. */
    void toHost(long address, Pointer host, long bytes, String what) {
        reads++;
        Check.cuda(cudaMemcpy(host, new Tensor.AddressPointer(address), bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (" + what + " to the host)");
    }

    @Override
    public void fromHost(float[] src, long address) {
        uploads.floats(src, address);
    }

    /** A kernel on the one stream, so it runs in order with every other launch. */
    @Override
    public void fill(long address, long count, float value) {
        Check.kernel(KernelLib.bnnas_fill(new Tensor.AddressPointer(address), value, count, CudaBackend.STREAM), "fill");
    }

    /** A kernel on the one stream, so it runs in order with every other launch. */
    @Override
    public void copy(long src, long dst, long count) {
        Check.kernel(KernelLib.bnnas_copy(new Tensor.AddressPointer(dst), new Tensor.AddressPointer(src), count, CudaBackend.STREAM), "copy");
    }
}
