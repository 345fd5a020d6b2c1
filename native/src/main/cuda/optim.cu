// optim.cu: the optimizer's kernels: the SGD step on one tensor, and the fused SGD step over many
// tensors in one launch.
//
// The SGD update uses the CPU backend's fused multiply-adds in the same places, so parameters
// and momentum buffers match it bit for bit.
#include "common.cuh"

using namespace bnnas;

namespace {

// One element of the SGD step (PyTorch's formula, CpuBackend.sgdStep's rounding).
__device__ __forceinline__ void sgd_element(float* p, const float* g, float* m, long long i, bool first, float lr,
                                            float momentum, float wd, bool nesterov) {
    float pv = p[i];
    float d = fmaf(pv, wd, g[i]);
    if (m != nullptr) {
        float mb = first ? d : fmaf(m[i], momentum, d);
        m[i] = mb;
        d = nesterov ? fmaf(mb, momentum, d) : mb;
    }
    p[i] = fmaf(d, -lr, pv);
}

__global__ void sgd_kernel(float* p, const float* g, float* m, long long n, bool first, float lr, float momentum,
                           float wd, bool nesterov) {
    BNNAS_GRID_STRIDE(long long, i, n) sgd_element(p, g, m, i, first, lr, momentum, wd, nesterov);
}

// blockIdx.y strides over the tensors, blockIdx.x over each tensor's elements.
__global__ void sgd_flat_kernel(float* const* params, const float* const* grads, float* const* bufs, const int* sizes,
                                int count, bool first, float lr, float momentum, float wd, bool nesterov) {
    for (int t = blockIdx.y; t < count; t += gridDim.y) {
        float* p = params[t];
        const float* g = grads[t];
        float* m = bufs != nullptr ? bufs[t] : nullptr;
        long long n = sizes[t];
        for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
             i += static_cast<long long>(gridDim.x) * blockDim.x) {
            sgd_element(p, g, m, i, first, lr, momentum, wd, nesterov);
        }
    }
}

}  // namespace

extern "C" {

int bnnas_sgd_step(float* param, const float* grad, float* buf, long long n, int first_step, float lr,
                   float momentum, float weight_decay, int nesterov, void* stream) {
    if (n < 0) return kInvalid;
    if (n == 0) return 0;
    sgd_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(param, grad, buf, n, first_step != 0, lr, momentum,
                                                                weight_decay, nesterov != 0);
    return last_error();
}

int bnnas_sgd_step_flat(float* const* params, const float* const* grads, float* const* bufs, const int* sizes,
                        int count, int max_size, int first_step, float lr, float momentum, float weight_decay,
                        int nesterov, void* stream) {
    if (count < 0) return kInvalid;
    if (count == 0) return 0;
    unsigned gy = static_cast<unsigned>(count < 65535 ? count : 65535);
    // max_size only sets the blocks per tensor: the loops cover every size whatever it is
    long long gx = max_size > kThreads ? (static_cast<long long>(max_size) + kThreads - 1) / kThreads : 1;
    long long gxCap = kMaxBlocks / gy > 0 ? kMaxBlocks / gy : 1;
    dim3 grid(static_cast<unsigned>(gx < gxCap ? gx : gxCap), gy);
    sgd_flat_kernel<<<grid, kThreads, 0, as_stream(stream)>>>(params, grads, bufs, sizes, count, first_step != 0, lr,
                                                              momentum, weight_decay, nesterov != 0);
    return last_error();
}

}  // extern "C"
