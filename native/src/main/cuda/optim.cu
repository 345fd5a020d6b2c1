// optim.cu: the optimizer's kernels: the sum of squares of a tensor (for gradient-norm
// clipping), the SGD step on one tensor, and the fused SGD step over many tensors in one launch.
//
// The SGD update uses the CPU backend's fused multiply-adds in the same places, so parameters
// and momentum buffers match it bit for bit.
#include "common.cuh"

using namespace bnnas;

namespace {

// Each block of the sum of squares covers at least this many elements.
constexpr long long kMinPerPart = 16LL * kThreads;

struct SquaresSplit {
    int parts;
    long long perPart;

    static SquaresSplit of(long long n) {
        SquaresSplit s;
        s.parts = reduction_parts(n, 1, kMinPerPart);
        s.perPart = (n + s.parts - 1) / s.parts;
        return s;
    }
};

// part[blockIdx.x] = sum of x[i]^2 over the block's contiguous range: float partials of kFlush
// terms per thread, added in double, then a fixed tree over the block.
__global__ void squares_partial_kernel(const float* x, long long n, long long perPart, double* part) {
    __shared__ double s[kThreads];
    long long from = static_cast<long long>(blockIdx.x) * perPart;
    long long to = n - from > perPart ? from + perPart : n;
    float f = 0.f;
    double d = 0.0;
    int count = 0;
    for (long long i = from + threadIdx.x; i < to; i += kThreads) {
        float v = x[i];
        f = fmaf(v, v, f);
        if (++count == kFlush) {
            d += f;
            f = 0.f;
            count = 0;
        }
    }
    s[threadIdx.x] = d + f;
    block_tree_sum(s);
    if (threadIdx.x == 0) part[blockIdx.x] = s[0];
}

__global__ void squares_finish_kernel(const double* part, int parts, double* out) {
    __shared__ double s[kThreads];
    double acc = 0.0;
    for (int i = threadIdx.x; i < parts; i += kThreads) acc += part[i];
    s[threadIdx.x] = acc;
    block_tree_sum(s);
    if (threadIdx.x == 0) *out = s[0];
}

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

long long bnnas_sum_of_squares_work_bytes(long long n) {
    if (n < 0) return 0;
    return static_cast<long long>(SquaresSplit::of(n).parts) * static_cast<long long>(sizeof(double));
}

int bnnas_sum_of_squares(const float* x, long long n, double* out, void* work, void* stream) {
    if (n < 0) return kInvalid;
    SquaresSplit s = SquaresSplit::of(n);
    cudaStream_t st = as_stream(stream);
    double* part = static_cast<double*>(work);
    squares_partial_kernel<<<s.parts, kThreads, 0, st>>>(x, n, s.perPart, part);
    int err = last_error();
    if (err != 0) return err;
    squares_finish_kernel<<<1, kThreads, 0, st>>>(part, s.parts, out);
    return last_error();
}

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
