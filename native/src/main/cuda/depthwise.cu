// depthwise.cu: depthwise convolution (groups = channels) on channels-last tensors, with a
// per-channel affine map and clamped ReLU fused on its input (a BN not written out in training)
// and optionally on its output (evaluation: BN, ReLU6, dwconv, BN, ReLU6 in one pass), and the
// weight gradient of the version without an output map. Its data gradient is cuDNN's.
//
// Both kernels accumulate the taps in (ky, kx) order with fused multiply-adds, as the CPU
// backend does, so the forward matches it bit for bit (up to the sign of a zero).
#include "common.cuh"

using namespace bnnas;

namespace {

// The input map of one input value: act(v * scale + shift), or v without a map.
__device__ __forceinline__ float input_map(float v, const float* scale, const float* shift, float cap, int ch) {
    if (scale == nullptr) return v;
    return act(fmaf(v, scale[ch], shift[ch]), cap);
}

// One thread per output element, channel fastest: a warp reads and writes consecutive channels
// of one pixel, and neighbouring pixels' windows overlap in L1.
template <typename I>
__global__ void depthwise_forward_kernel(const float* x, int h, int w, int c, const float* inScale,
                                         const float* inShift, float inCap, const float* wt, int k, int stride,
                                         int pad, const float* outScale, const float* outShift, float outCap,
                                         int oh, int ow, I n, float* y) {
    BNNAS_GRID_STRIDE(I, i, n) {
        int ch = static_cast<int>(i % c);
        I pix = i / c;
        int ox = static_cast<int>(pix % ow);
        I rest = pix / ow;
        int oy = static_cast<int>(rest % oh);
        I img = rest / oh;
        const float* wc = wt + static_cast<long long>(ch) * k * k;
        float acc = 0.f;
        for (int ky = 0; ky < k; ++ky) {
            int iy = oy * stride - pad + ky;
            if (iy < 0 || iy >= h) continue;
            const float* xrow = x + (static_cast<long long>(img) * h + iy) * w * c + ch;
            for (int kx = 0; kx < k; ++kx) {
                int ix = ox * stride - pad + kx;
                if (ix < 0 || ix >= w) continue;
                float v = input_map(xrow[static_cast<long long>(ix) * c], inScale, inShift, inCap, ch);
                acc = fmaf(v, wc[ky * k + kx], acc);
            }
        }
        if (outScale != nullptr) acc = act(fmaf(acc, outScale[ch], outShift[ch]), outCap);
        y[i] = acc;
    }
}

// The weight gradient's taps go in groups of up to kTapGroup consecutive kx of one kernel row,
// one group per blockIdx.z: each thread keeps that many accumulators in registers and reads its
// dy value once for all of them.
constexpr int kTapGroup = 8;

// Each thread of a partial block sums at least this many output pixels.
constexpr int kMinPixelsPerThread = 8;

struct WeightSplit {
    ChannelTile tile;
    int groupsPerRow, zGroups, parts, pixelsPerPart;

    static WeightSplit of(long long pixels, int c, int k) {
        WeightSplit s;
        s.tile = ChannelTile::of(c);
        s.groupsPerRow = (k + kTapGroup - 1) / kTapGroup;
        s.zGroups = k * s.groupsPerRow;
        s.parts = reduction_parts(pixels, static_cast<long long>(s.tile.tiles) * s.zGroups,
                                  static_cast<long long>(s.tile.lanes) * kMinPixelsPerThread);
        s.pixelsPerPart = static_cast<int>((pixels + s.parts - 1) / s.parts);
        return s;
    }
};

// part[p][ch * k*k + tap] = sum over the part's output pixels of dy * input_map(x at the tap).
__global__ void depthwise_weight_partial_kernel(const float* dy, const float* x, int h, int w, int c,
                                                const float* inScale, const float* inShift, float inCap, int k,
                                                int stride, int pad, int oh, int ow, int pixels, int width,
                                                int lanes, int groupsPerRow, int pixelsPerPart, double* part) {
    __shared__ double red[kTapGroup][kThreads];
    int t = threadIdx.x, tx = t % width, ty = t / width;
    int ch = blockIdx.x * width + tx;
    int ky = blockIdx.z / groupsPerRow, kx0 = (blockIdx.z % groupsPerRow) * kTapGroup;
    // int pixel indices (the launcher checks they cannot overflow): 64-bit division is slow
    int q0 = blockIdx.y * pixelsPerPart;
    int q1 = pixels - q0 > pixelsPerPart ? q0 + pixelsPerPart : pixels;

    float f[kTapGroup];
    double d[kTapGroup];
#pragma unroll
    for (int j = 0; j < kTapGroup; ++j) {
        f[j] = 0.f;
        d[j] = 0.0;
    }
    if (ty < lanes && ch < c) {
        int count = 0;
        for (int q = q0 + ty; q < q1; q += lanes) {
            int ox = q % ow, rest = q / ow;
            int oy = rest % oh, img = rest / oh;
            int iy = oy * stride - pad + ky;
            if (iy >= 0 && iy < h) {
                float g = dy[static_cast<long long>(q) * c + ch];
                const float* xrow = x + (static_cast<long long>(img) * h + iy) * w * c + ch;
#pragma unroll
                for (int j = 0; j < kTapGroup; ++j) {
                    int kx = kx0 + j, ix = ox * stride - pad + kx;
                    if (kx < k && ix >= 0 && ix < w) {
                        float v = input_map(xrow[static_cast<long long>(ix) * c], inScale, inShift, inCap, ch);
                        f[j] = fmaf(g, v, f[j]);
                    }
                }
            }
            if (++count == kFlush) {  // float partials into doubles, as in SplitSum2
#pragma unroll
                for (int j = 0; j < kTapGroup; ++j) {
                    d[j] += f[j];
                    f[j] = 0.f;
                }
                count = 0;
            }
        }
    }
#pragma unroll
    for (int j = 0; j < kTapGroup; ++j) red[j][t] = d[j] + f[j];
    __syncthreads();
    if (ty == 0 && ch < c) {  // lanes in order
        long long kk = static_cast<long long>(k) * k;
        double* out = part + static_cast<long long>(blockIdx.y) * c * kk + ch * kk + static_cast<long long>(ky) * k;
        for (int j = 0; j < kTapGroup && kx0 + j < k; ++j) {
            double s = 0.0;
            for (int l = 0; l < lanes; ++l) s += red[j][l * width + tx];
            out[kx0 + j] = s;
        }
    }
}

// dw[e] = sum over parts, in order, of part[p][e].
__global__ void depthwise_weight_finish_kernel(const double* part, int parts, long long len, float* dw) {
    BNNAS_GRID_STRIDE(long long, e, len) {
        double s = 0.0;
        for (int p = 0; p < parts; ++p) s += part[p * len + e];
        dw[e] = static_cast<float>(s);
    }
}

bool valid_geometry(int n, int h, int w, int c, int k, int stride, int pad, int oh, int ow) {
    return n >= 0 && h >= 0 && w >= 0 && c >= 0 && k >= 1 && stride >= 1 && pad >= 0 && oh >= 0 && ow >= 0;
}

}  // namespace

extern "C" {

int bnnas_depthwise_affine(const float* x, int N, int H, int W, int C, const float* in_scale,
                           const float* in_shift, float in_cap, const float* w, int k, int stride, int pad,
                           const float* out_scale, const float* out_shift, float out_cap, int OH, int OW,
                           float* y, void* stream) {
    if (!valid_geometry(N, H, W, C, k, stride, pad, OH, OW)) return kInvalid;
    long long n = static_cast<long long>(N) * OH * OW * C;
    if (n == 0) return 0;
    unsigned grid = grid_for(n);
    cudaStream_t st = as_stream(stream);
    if (fits_int(n, grid)) {
        depthwise_forward_kernel<int><<<grid, kThreads, 0, st>>>(x, H, W, C, in_scale, in_shift, in_cap, w, k, stride,
                                                                 pad, out_scale, out_shift, out_cap, OH, OW,
                                                                 static_cast<int>(n), y);
    } else {
        depthwise_forward_kernel<long long><<<grid, kThreads, 0, st>>>(x, H, W, C, in_scale, in_shift, in_cap, w, k,
                                                                       stride, pad, out_scale, out_shift, out_cap, OH,
                                                                       OW, n, y);
    }
    return last_error();
}

long long bnnas_depthwise_affine_backward_weight_work_bytes(int N, int C, int k, int OH, int OW) {
    if (N < 0 || C <= 0 || k < 1 || OH < 0 || OW < 0) return 0;
    WeightSplit s = WeightSplit::of(static_cast<long long>(N) * OH * OW, C, k);
    return static_cast<long long>(s.parts) * C * k * k * static_cast<long long>(sizeof(double));
}

int bnnas_depthwise_affine_backward_weight(const float* dy, const float* x, int N, int H, int W, int C,
                                           const float* in_scale, const float* in_shift, float in_cap,
                                           float* dw, int k, int stride, int pad, int OH, int OW,
                                           void* work, void* stream) {
    if (!valid_geometry(N, H, W, C, k, stride, pad, OH, OW)) return kInvalid;
    if (C == 0) return 0;
    long long pixels = static_cast<long long>(N) * OH * OW;
    if (pixels > INT_MAX - kThreads) return kInvalid;  // the partial kernel's int pixel loop
    WeightSplit s = WeightSplit::of(pixels, C, k);
    if (s.zGroups > 64) return kInvalid;  // gridDim.z is at most 64: kernels up to 21x21
    cudaStream_t st = as_stream(stream);
    double* part = static_cast<double*>(work);
    dim3 grid(s.tile.tiles, s.parts, s.zGroups);
    depthwise_weight_partial_kernel<<<grid, kThreads, 0, st>>>(dy, x, H, W, C, in_scale, in_shift, in_cap, k, stride,
                                                               pad, OH, OW, static_cast<int>(pixels), s.tile.width,
                                                               s.tile.lanes, s.groupsPerRow, s.pixelsPerPart, part);
    int err = last_error();
    if (err != 0) return err;
    long long len = static_cast<long long>(C) * k * k;
    depthwise_weight_finish_kernel<<<grid_for(len), kThreads, 0, st>>>(part, s.parts, len, dw);
    return last_error();
}

}  // extern "C"
