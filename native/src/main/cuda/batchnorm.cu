// batchnorm.cu: batch norm over the rows of a channels-last (rows, C) matrix: per-channel
// statistics, their fold into a per-channel affine map and the running statistics' update, the
// affine map with its clamped ReLU, and the backward pass.
//
// The per-channel sums run in two launches: blocks of (lanes x width) threads each sum a part
// of the rows for `width` channels and write one double per channel and part; a second kernel
// adds the parts in order. Both splits depend on the shapes only, so results are deterministic.
#include "common.cuh"

using namespace bnnas;

namespace {

// Each thread of a partial-sums block sums at least this many rows.
constexpr int kMinRowsPerThread = 8;

struct Split {
    ChannelTile tile;
    int parts, rowsPerPart;

    static Split of(int rows, int c) {
        Split s;
        s.tile = ChannelTile::of(c);
        s.parts = reduction_parts(rows, s.tile.tiles, static_cast<long long>(s.tile.lanes) * kMinRowsPerThread);
        s.rowsPerPart = static_cast<int>((static_cast<long long>(rows) + s.parts - 1) / s.parts);
        return s;
    }

    // parts x C doubles for each of the two sums
    long long partial_doubles(int c) const { return 2LL * parts * c; }
};

// Per part and channel: kGrad false: s0 = sum(v), s1 = sum(v * v), v = x - x[row 0] (the first
// row's values as a shift keep the one-pass variance accurate, as on the CPU); kGrad true:
// s0 = sum(g), s1 = sum(g * (x - mean)), g = dy, or dy through the activation's mask when cap != 0.
// part: s0 at [p][c], s1 at [parts + p][c].
template <bool kGrad>
__global__ void partial_sums_kernel(const float* x, const float* dy, int rows, int c, int width, int lanes,
                                    int rowsPerPart, const float* mean, const float* scale, const float* shift,
                                    float cap, double* part) {
    __shared__ double s0[kThreads], s1[kThreads];
    int t = threadIdx.x, tx = t % width, ty = t / width;
    int ch = blockIdx.x * width + tx;
    long long r0 = static_cast<long long>(blockIdx.y) * rowsPerPart;
    long long r1 = r0 + rowsPerPart < rows ? r0 + rowsPerPart : rows;
    SplitSum2 acc;
    if (ty < lanes && ch < c && r0 < r1) {
        if (kGrad) {
            float m = mean[ch];
            float a = cap != 0.f ? scale[ch] : 0.f, b = cap != 0.f ? shift[ch] : 0.f;
            for (long long r = r0 + ty; r < r1; r += lanes) {
                long long i = r * c + ch;
                float xv = x[i], g = dy[i];
                if (cap != 0.f) {
                    float z = fmaf(xv, a, b);  // the forward's own fused multiply-add: the same mask
                    g = z > 0.f && z < cap ? g : 0.f;
                }
                acc.add(g, xv - m);
            }
        } else {
            float shiftValue = x[ch];
            for (long long r = r0 + ty; r < r1; r += lanes) {
                float v = x[r * c + ch] - shiftValue;
                acc.add(v, v);
            }
        }
    }
    s0[t] = acc.sum0();
    s1[t] = acc.sum1();
    __syncthreads();
    if (ty == 0 && ch < c) {  // lanes in order
        double a0 = 0.0, a1 = 0.0;
        for (int l = 0; l < lanes; ++l) {
            a0 += s0[l * width + tx];
            a1 += s1[l * width + tx];
        }
        part[static_cast<long long>(blockIdx.y) * c + ch] = a0;
        part[(static_cast<long long>(gridDim.y) + blockIdx.y) * c + ch] = a1;
    }
}

__device__ __forceinline__ void add_parts(const double* part, int parts, int c, int ch, double& t0, double& t1) {
    t0 = 0.0;
    t1 = 0.0;
    for (int p = 0; p < parts; ++p) {
        t0 += part[static_cast<long long>(p) * c + ch];
        t1 += part[static_cast<long long>(parts + p) * c + ch];
    }
}

__global__ void stats_finish_kernel(const float* x, int rows, int c, const double* part, int parts, float* mean,
                                    float* var) {
    int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double t0, t1;
    add_parts(part, parts, c, ch, t0, t1);
    double mu = t0 / rows;
    double v = t1 / rows - mu * mu;
    mean[ch] = static_cast<float>(mu + (rows > 0 ? x[ch] : 0.f));
    var[ch] = static_cast<float>(v > 0.0 || v != v ? v : 0.0);  // Math.max(0.0, v)
}

// dgamma, dbeta, and the coefficients of dx = g * scale + x * k + c0 with batch statistics
// (coef: k at [c], c0 at [C + c]); the same double expressions as the CPU backend.
__global__ void backward_finish_kernel(int rows, int c, const double* part, int parts, const float* scale,
                                       const float* mean, const float* invStd, float* dgamma, float* dbeta,
                                       float* coef) {
    int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    double t0, t1;
    add_parts(part, parts, c, ch, t0, t1);
    if (dgamma != nullptr) dgamma[ch] = static_cast<float>(t1 * invStd[ch]);
    if (dbeta != nullptr) dbeta[ch] = static_cast<float>(t0);
    if (coef != nullptr) {
        double is = invStd[ch], a = scale[ch];
        double meanDy = t0 / rows;
        double meanDyXhat = t1 * is / rows;
        double k = -a * meanDyXhat * is;
        coef[ch] = static_cast<float>(k);
        coef[c + ch] = static_cast<float>(-a * meanDy - k * mean[ch]);
    }
}

// dx = g * scale + (x * k + c0), g = dy through the mask; k = c0 = 0 without coefficients (the
// statistics are constants), the same arithmetic as the CPU backend's, so both give the same bits.
template <typename I>
__global__ void backward_dx_kernel(const float* x, const float* dy, I n, int c, const float* scale,
                                   const float* shift, float cap, const float* coef, float* dx) {
    BNNAS_GRID_STRIDE(I, i, n) {
        int ch = static_cast<int>(i % c);
        float xv = x[i], g = dy[i], a = scale[ch];
        if (cap != 0.f) {
            float z = fmaf(xv, a, shift[ch]);
            g = z > 0.f && z < cap ? g : 0.f;
        }
        float k = 0.f, c0 = 0.f;
        if (coef != nullptr) {
            k = coef[ch];
            c0 = coef[c + ch];
        }
        dx[i] = fmaf(g, a, fmaf(xv, k, c0));
    }
}

// invStd = (float) (1 / sqrt(var + eps)) in double, scale = gamma * invStd, shift = beta - mean *
// scale in float (two roundings, as in Java: --fmad=false keeps them apart).
__device__ __forceinline__ void scale_shift(const float* gamma, const float* beta, const float* mean, float inv, int ch,
                                            float* scale, float* shift) {
    float s = gamma[ch] * inv;
    scale[ch] = s;
    shift[ch] = beta[ch] - mean[ch] * s;
}

__global__ void fold_kernel(const float* gamma, const float* beta, const float* mean, const float* var, float eps, int c,
                            float* scale, float* shift, float* invStd) {
    int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    float inv = static_cast<float>(1.0 / sqrt(static_cast<double>(var[ch]) + static_cast<double>(eps)));
    invStd[ch] = inv;
    scale_shift(gamma, beta, mean, inv, ch, scale, shift);
}

__global__ void scale_shift_kernel(const float* gamma, const float* beta, const float* mean, const float* invStd, int c,
                                   float* scale, float* shift) {
    int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    scale_shift(gamma, beta, mean, invStd[ch], ch, scale, shift);
}

__global__ void running_stat_kernel(float* running, const float* batch, double m, double correction, int c) {
    int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c) return;
    running[ch] = static_cast<float>((1.0 - m) * running[ch] + m * batch[ch] * correction);
}

template <typename I>
__global__ void channel_affine_kernel(const float* x, I n, int c, const float* scale, const float* shift, float cap,
                                      float* y) {
    BNNAS_GRID_STRIDE(I, i, n) {
        int ch = static_cast<int>(i % c);
        y[i] = act(fmaf(x[i], scale[ch], shift[ch]), cap);
    }
}

unsigned per_channel_grid(int c) { return static_cast<unsigned>((c + kThreads - 1) / kThreads); }

}  // namespace

extern "C" {

long long bnnas_batch_norm_stats_work_bytes(int rows, int C) {
    if (rows < 0 || C <= 0) return 0;
    return Split::of(rows, C).partial_doubles(C) * static_cast<long long>(sizeof(double));
}

int bnnas_batch_norm_stats(const float* x, int rows, int C, float* mean, float* var, void* work, void* stream) {
    if (rows < 0 || C < 0) return kInvalid;
    if (C == 0) return 0;
    Split s = Split::of(rows, C);
    cudaStream_t st = as_stream(stream);
    double* part = static_cast<double*>(work);
    dim3 grid(s.tile.tiles, s.parts);
    partial_sums_kernel<false><<<grid, kThreads, 0, st>>>(x, nullptr, rows, C, s.tile.width, s.tile.lanes,
                                                          s.rowsPerPart, nullptr, nullptr, nullptr, 0.f, part);
    int err = last_error();
    if (err != 0) return err;
    stats_finish_kernel<<<per_channel_grid(C), kThreads, 0, st>>>(x, rows, C, part, s.parts, mean, var);
    return last_error();
}

int bnnas_batch_norm_fold(const float* gamma, const float* beta, const float* mean, const float* var, float eps, int C,
                          float* scale, float* shift, float* inv_std, void* stream) {
    if (C < 0) return kInvalid;
    if (C == 0) return 0;
    fold_kernel<<<per_channel_grid(C), kThreads, 0, as_stream(stream)>>>(gamma, beta, mean, var, eps, C, scale, shift,
                                                                          inv_std);
    return last_error();
}

int bnnas_batch_norm_scale_shift(const float* gamma, const float* beta, const float* mean, const float* inv_std, int C,
                                 float* scale, float* shift, void* stream) {
    if (C < 0) return kInvalid;
    if (C == 0) return 0;
    scale_shift_kernel<<<per_channel_grid(C), kThreads, 0, as_stream(stream)>>>(gamma, beta, mean, inv_std, C, scale, shift);
    return last_error();
}

int bnnas_update_running_stat(float* running, const float* batch, double m, double correction, int C, void* stream) {
    if (C < 0) return kInvalid;
    if (C == 0) return 0;
    running_stat_kernel<<<per_channel_grid(C), kThreads, 0, as_stream(stream)>>>(running, batch, m, correction, C);
    return last_error();
}

int bnnas_channel_affine(const float* x, int rows, int C, const float* scale, const float* shift, float cap,
                         float* y, void* stream) {
    if (rows < 0 || C < 0) return kInvalid;
    long long n = static_cast<long long>(rows) * C;
    if (n == 0) return 0;
    unsigned grid = grid_for(n);
    cudaStream_t st = as_stream(stream);
    if (fits_int(n, grid)) {
        channel_affine_kernel<int><<<grid, kThreads, 0, st>>>(x, static_cast<int>(n), C, scale, shift, cap, y);
    } else {
        channel_affine_kernel<long long><<<grid, kThreads, 0, st>>>(x, n, C, scale, shift, cap, y);
    }
    return last_error();
}

long long bnnas_batch_norm_backward_work_bytes(int rows, int C) {
    if (rows < 0 || C <= 0) return 0;
    return Split::of(rows, C).partial_doubles(C) * static_cast<long long>(sizeof(double)) +
           2LL * C * static_cast<long long>(sizeof(float));
}

int bnnas_batch_norm_backward(const float* x, const float* dy, int rows, int C, const float* scale,
                              const float* shift, float cap, const float* mean, const float* inv_std,
                              int batch_stats, float* dx, float* dgamma, float* dbeta, void* work, void* stream) {
    if (rows < 0 || C < 0) return kInvalid;
    if (C == 0) return 0;
    cudaStream_t st = as_stream(stream);
    bool withCoef = dx != nullptr && batch_stats != 0;
    float* coef = nullptr;
    if (dgamma != nullptr || dbeta != nullptr || withCoef) {
        Split s = Split::of(rows, C);
        double* part = static_cast<double*>(work);
        dim3 grid(s.tile.tiles, s.parts);
        partial_sums_kernel<true><<<grid, kThreads, 0, st>>>(x, dy, rows, C, s.tile.width, s.tile.lanes,
                                                             s.rowsPerPart, mean, scale, shift, cap, part);
        int err = last_error();
        if (err != 0) return err;
        if (withCoef) coef = reinterpret_cast<float*>(part + s.partial_doubles(C));
        backward_finish_kernel<<<per_channel_grid(C), kThreads, 0, st>>>(rows, C, part, s.parts, scale, mean,
                                                                         inv_std, dgamma, dbeta, coef);
        err = last_error();
        if (err != 0) return err;
    }
    if (dx == nullptr) return 0;
    long long n = static_cast<long long>(rows) * C;
    if (n == 0) return 0;
    unsigned grid = grid_for(n);
    if (fits_int(n, grid)) {
        backward_dx_kernel<int><<<grid, kThreads, 0, st>>>(x, dy, static_cast<int>(n), C, scale, shift, cap, coef, dx);
    } else {
        backward_dx_kernel<long long><<<grid, kThreads, 0, st>>>(x, dy, n, C, scale, shift, cap, coef, dx);
    }
    return last_error();
}

}  // extern "C"
