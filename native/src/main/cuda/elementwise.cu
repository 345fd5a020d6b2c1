// elementwise.cu: flat elementwise kernels (add, mul, clamped ReLU and its backward, in-place
// clamp, scale by a device scalar, fill, copy). Memory bound: one grid-stride pass, 64-bit
// indices (no division).
#include "common.cuh"

using namespace bnnas;

namespace {

__global__ void add_kernel(const float* a, const float* b, float* out, long long n) {
    BNNAS_GRID_STRIDE(long long, i, n) out[i] = a[i] + b[i];
}

__global__ void mul_kernel(const float* a, const float* b, float* out, long long n) {
    BNNAS_GRID_STRIDE(long long, i, n) out[i] = a[i] * b[i];
}

__global__ void clamp_relu_kernel(const float* x, float cap, float* y, long long n) {
    BNNAS_GRID_STRIDE(long long, i, n) y[i] = relu_cap(x[i], cap);
}

__global__ void clamp_relu_backward_kernel(const float* y, const float* dy, float cap, float* dx, long long n) {
    BNNAS_GRID_STRIDE(long long, i, n) {
        float v = y[i];
        dx[i] = v > 0.f && v < cap ? dy[i] : 0.f;
    }
}

__global__ void scale_by_kernel(const float* x, const float* s, float* out, long long n) {
    float f = *s;
    BNNAS_GRID_STRIDE(long long, i, n) out[i] = x[i] * f;
}

// Math.max(-limit, Math.min(limit, v)): NaN stays NaN.
__global__ void clamp_kernel(float* x, float limit, long long n) {
    BNNAS_GRID_STRIDE(long long, i, n) {
        float v = x[i];
        x[i] = v > limit ? limit : (v < -limit ? -limit : v);
    }
}

__global__ void fill_kernel(float* x, float value, long long n) {
    BNNAS_GRID_STRIDE(long long, i, n) x[i] = value;
}

}  // namespace

extern "C" {

int bnnas_add(const float* a, const float* b, float* out, long long n, void* stream) {
    if (n < 0) return kInvalid;
    if (n == 0) return 0;
    add_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(a, b, out, n);
    return last_error();
}

int bnnas_add_in_place(float* acc, const float* x, long long n, void* stream) {
    return bnnas_add(acc, x, acc, n, stream);
}

int bnnas_mul(const float* a, const float* b, float* out, long long n, void* stream) {
    if (n < 0) return kInvalid;
    if (n == 0) return 0;
    mul_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(a, b, out, n);
    return last_error();
}

int bnnas_clamp_relu(const float* x, float cap, float* y, long long n, void* stream) {
    if (n < 0) return kInvalid;
    if (n == 0) return 0;
    clamp_relu_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(x, cap, y, n);
    return last_error();
}

int bnnas_clamp_relu_backward(const float* y, const float* dy, float cap, float* dx, long long n, void* stream) {
    if (n < 0) return kInvalid;
    if (n == 0) return 0;
    clamp_relu_backward_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(y, dy, cap, dx, n);
    return last_error();
}

int bnnas_scale_by(const float* x, const float* s, float* out, long long n, void* stream) {
    if (n < 0) return kInvalid;
    if (n == 0) return 0;
    scale_by_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(x, s, out, n);
    return last_error();
}

int bnnas_clamp_in_place(float* x, float limit, long long n, void* stream) {
    if (n < 0) return kInvalid;
    if (n == 0) return 0;
    clamp_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(x, limit, n);
    return last_error();
}

int bnnas_fill(float* x, float value, long long n, void* stream) {
    if (n < 0) return kInvalid;
    if (n == 0) return 0;
    fill_kernel<<<grid_for(n), kThreads, 0, as_stream(stream)>>>(x, value, n);
    return last_error();
}

int bnnas_copy(float* dst, const float* src, long long n, void* stream) {
    if (n < 0) return kInvalid;
    if (n == 0) return 0;
    return static_cast<int>(cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * sizeof(float), cudaMemcpyDeviceToDevice, as_stream(stream)));
}

}  // extern "C"
