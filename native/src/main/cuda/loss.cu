// loss.cu: mean softmax cross-entropy with label smoothing and its gradient, and the count of
// correct top-1 predictions (training accuracy without a copy of the logits to the host).
//
// One warp per row computes the row's max, log-sum-exp, loss and gradient in double, as the CPU
// backend does; the row losses go to the workspace and one block adds them in a fixed order.
// Warp sums use an xor butterfly: each step adds a + b on one lane and b + a on its partner,
// which are equal in IEEE arithmetic, so every lane ends with the same bits, run after run.
#include <math.h>

#include "common.cuh"

using namespace bnnas;

namespace {

constexpr int kWarp = 32;
constexpr int kRowsPerBlock = kThreads / kWarp;
constexpr unsigned kFullMask = 0xffffffffu;

__device__ __forceinline__ double warp_sum(double v) {
    for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(kFullMask, v, o);
    return v;
}

__device__ __forceinline__ double warp_max(double v) {
    for (int o = kWarp / 2; o > 0; o /= 2) v = fmax(v, __shfl_xor_sync(kFullMask, v, o));
    return v;
}

// off: smoothing / K (in float, as Java's float / int); on: 1 - smoothing + off.
__global__ void cross_entropy_rows_kernel(const float* logits, const int* labels, int n, int k, double off,
                                          double on, float* dlogits, double* rowLoss) {
    int lane = threadIdx.x % kWarp;
    int r = blockIdx.x * kRowsPerBlock + threadIdx.x / kWarp;
    if (r >= n) return;  // a whole warp at once: no warp operation is left half-joined
    const float* z = logits + static_cast<long long>(r) * k;
    double m = -INFINITY;
    for (int j = lane; j < k; j += kWarp) m = fmax(m, static_cast<double>(z[j]));
    m = warp_max(m);
    double sumExp = 0.0;
    for (int j = lane; j < k; j += kWarp) sumExp += exp(z[j] - m);
    double logSum = log(warp_sum(sumExp)) + m;
    int label = labels[r];
    double loss = 0.0;
    for (int j = lane; j < k; j += kWarp) {
        double target = j == label ? on : off;
        double logP = z[j] - logSum;
        loss -= target * logP;
        if (dlogits != nullptr) {
            dlogits[static_cast<long long>(r) * k + j] = static_cast<float>((exp(logP) - target) / n);
        }
    }
    loss = warp_sum(loss);
    if (lane == 0) rowLoss[r] = loss;
}

// *out = (sum of the n row losses) / n: strided sums per thread, then a fixed tree.
__global__ void mean_kernel(const double* rowLoss, int n, float* out) {
    __shared__ double s[kThreads];
    double acc = 0.0;
    for (int i = threadIdx.x; i < n; i += kThreads) acc += rowLoss[i];
    s[threadIdx.x] = acc;
    block_tree_sum(s);
    if (threadIdx.x == 0) *out = static_cast<float>(s[0] / n);
}

// *count = rows whose first largest logit is at the label: one block, a row per thread at a
// time, integer counts added in a fixed tree (exact, so any order would do).
__global__ void count_correct_kernel(const float* logits, const int* labels, int n, int k, float* count) {
    __shared__ int s[kThreads];
    int hits = 0;
    for (int r = threadIdx.x; r < n; r += kThreads) {
        const float* z = logits + static_cast<long long>(r) * k;
        int best = 0;
        for (int j = 1; j < k; ++j) {
            if (z[j] > z[best]) best = j;
        }
        if (best == labels[r]) ++hits;
    }
    s[threadIdx.x] = hits;
    for (int half = kThreads / 2; half > 0; half /= 2) {
        __syncthreads();
        if (static_cast<int>(threadIdx.x) < half) s[threadIdx.x] += s[threadIdx.x + half];
    }
    if (threadIdx.x == 0) *count = static_cast<float>(s[0]);
}

}  // namespace

extern "C" {

long long bnnas_cross_entropy_work_bytes(int N) {
    return N > 0 ? static_cast<long long>(N) * static_cast<long long>(sizeof(double)) : 0;
}

int bnnas_cross_entropy(const float* logits, const int* labels, int N, int K, float smoothing, float* dlogits,
                        float* loss_out, void* work, void* stream) {
    if (N < 0 || K < 0) return kInvalid;
    cudaStream_t st = as_stream(stream);
    double* rowLoss = static_cast<double*>(work);
    double off = static_cast<double>(smoothing / static_cast<float>(K));
    double on = 1.0 - static_cast<double>(smoothing) + off;
    if (N > 0) {
        unsigned blocks = static_cast<unsigned>((N + kRowsPerBlock - 1) / kRowsPerBlock);
        cross_entropy_rows_kernel<<<blocks, kThreads, 0, st>>>(logits, labels, N, K, off, on, dlogits, rowLoss);
        int err = last_error();
        if (err != 0) return err;
    }
    mean_kernel<<<1, kThreads, 0, st>>>(rowLoss, N, loss_out);
    return last_error();
}

int bnnas_count_correct(const float* logits, const int* labels, int N, int K, float* count, void* stream) {
    if (N < 0 || K < 1) return kInvalid;
    count_correct_kernel<<<1, kThreads, 0, as_stream(stream)>>>(logits, labels, N, K, count);
    return last_error();
}

}  // extern "C"
