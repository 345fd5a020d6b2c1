// pooling_linear.cu: global average pooling and its backward, and the linear layer's bias: the
// broadcast add of the forward and the column sums of its gradient (the GEMMs are cuBLAS's).
//
// The pooling and column sums give each output to one thread that adds its inputs in the CPU
// backend's order and precision, so they match it bit for bit. Their inputs are small (a final
// feature map, a batch of logits): one thread per output is enough there.
#include "common.cuh"

using namespace bnnas;

namespace {

// y[img][ch] = (sum over pixels, in order, in float) * (1 / hw), as the CPU backend.
__global__ void global_avg_pool_kernel(const float* x, int n, int hw, int c, float* y) {
    float inv = 1.f / hw;
    BNNAS_GRID_STRIDE(long long, i, static_cast<long long>(n) * c) {
        long long img = i / c;
        int ch = static_cast<int>(i % c);
        const float* p = x + img * hw * c + ch;
        float s = 0.f;
        for (int q = 0; q < hw; ++q) s += p[static_cast<long long>(q) * c];
        y[i] = s * inv;
    }
}

template <typename I>
__global__ void global_avg_pool_backward_kernel(const float* dy, I total, int hw, int c, float* dx) {
    float inv = 1.f / hw;
    I perImage = static_cast<I>(hw) * c;
    BNNAS_GRID_STRIDE(I, i, total) {
        I img = i / perImage;
        int ch = static_cast<int>(i % c);
        dx[i] = dy[img * c + ch] * inv;
    }
}

template <typename I>
__global__ void bias_add_kernel(float* y, const float* b, I total, int out) {
    BNNAS_GRID_STRIDE(I, i, total) y[i] += b[i % out];
}

// db[j] = (float) sum over rows, in order, in double: one thread per column, coalesced across j.
__global__ void column_sums_kernel(const float* dy, int n, int out, float* db) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= out) return;
    double s = 0.0;
    for (int r = 0; r < n; ++r) s += dy[static_cast<long long>(r) * out + j];
    db[j] = static_cast<float>(s);
}

}  // namespace

extern "C" {

int bnnas_global_avg_pool(const float* x, int N, int HW, int C, float* y, void* stream) {
    if (N < 0 || HW < 0 || C < 0) return kInvalid;
    long long outputs = static_cast<long long>(N) * C;
    if (outputs == 0) return 0;
    global_avg_pool_kernel<<<grid_for(outputs), kThreads, 0, as_stream(stream)>>>(x, N, HW, C, y);
    return last_error();
}

int bnnas_global_avg_pool_backward(const float* dy, int N, int HW, int C, float* dx, void* stream) {
    if (N < 0 || HW < 0 || C < 0) return kInvalid;
    long long total = static_cast<long long>(N) * HW * C;
    if (total == 0) return 0;
    unsigned grid = grid_for(total);
    cudaStream_t st = as_stream(stream);
    if (fits_int(total, grid)) {
        global_avg_pool_backward_kernel<int><<<grid, kThreads, 0, st>>>(dy, static_cast<int>(total), HW, C, dx);
    } else {
        global_avg_pool_backward_kernel<long long><<<grid, kThreads, 0, st>>>(dy, total, HW, C, dx);
    }
    return last_error();
}

int bnnas_linear_bias_add(float* y, const float* b, int N, int out, void* stream) {
    if (N < 0 || out < 0) return kInvalid;
    long long total = static_cast<long long>(N) * out;
    if (total == 0) return 0;
    unsigned grid = grid_for(total);
    cudaStream_t st = as_stream(stream);
    if (fits_int(total, grid)) {
        bias_add_kernel<int><<<grid, kThreads, 0, st>>>(y, b, static_cast<int>(total), out);
    } else {
        bias_add_kernel<long long><<<grid, kThreads, 0, st>>>(y, b, total, out);
    }
    return last_error();
}

int bnnas_column_sums(const float* dy, int N, int out, float* db, void* stream) {
    if (N < 0 || out < 0) return kInvalid;
    if (out == 0) return 0;
    column_sums_kernel<<<(out + kThreads - 1) / kThreads, kThreads, 0, as_stream(stream)>>>(dy, N, out, db);
    return last_error();
}

}  // extern "C"
