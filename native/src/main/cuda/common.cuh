// common.cuh: what the kernel files share (internal, not part of the C interface): launch
// geometry, the activation helpers that mirror the CPU backend's Java semantics, and the split
// float/double accumulator of the reductions.
#pragma once

#include <cuda_runtime.h>

#include <climits>

// The launchers are the library's interface: their declarations get default visibility, while
// the build hides everything else (-fvisibility=hidden), kernel stubs included.
#pragma GCC visibility push(default)
#include "bnnas_kernels.h"
#pragma GCC visibility pop

namespace bnnas {

constexpr int kThreads = 256;

// Grid-stride kernels need no more blocks than keep the GPU busy: 2^16 blocks of 256 threads
// cover 16M elements per sweep, far more than any GPU runs at once.
constexpr long long kMaxBlocks = 65536;

// Reductions across blocks aim at about this many blocks (a shape-only rule: the split, and so
// the rounding, must not depend on the GPU model).
constexpr int kTargetBlocks = 1024;

// The float partial of a SplitSum is flushed into its double every kFlush terms.
constexpr int kFlush = 64;

inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

inline unsigned grid_for(long long n, int threads = kThreads) {
    long long b = (n + threads - 1) / threads;
    return static_cast<unsigned>(b < 1 ? 1 : (b > kMaxBlocks ? kMaxBlocks : b));
}

// True when a grid-stride loop over [0, n) with this grid may use 32-bit indices: its last
// i + stride must not overflow. Kernels with a division per element (the channel of a flat
// index) use int then, since 64-bit division is several times slower.
inline bool fits_int(long long n, unsigned grid, int threads = kThreads) {
    return n + static_cast<long long>(grid) * threads <= INT_MAX;
}

inline int last_error() { return static_cast<int>(cudaGetLastError()); }

constexpr int kInvalid = static_cast<int>(cudaErrorInvalidValue);

// Java's Math.min(Math.max(v, 0f), cap): NaN stays NaN (fmaxf would turn it into 0) and -0
// becomes +0.
__device__ __forceinline__ float relu_cap(float v, float cap) {
    float r = (v > 0.f || v != v) ? v : 0.f;
    return r > cap ? cap : r;
}

// act as in Backend: cap 0 means no activation.
__device__ __forceinline__ float act(float v, float cap) { return cap == 0.f ? v : relu_cap(v, cap); }

// Two running sums, s0 += g and s1 += g * w, kept as float partials (cheap on GPUs with slow
// double units) added into doubles every kFlush terms: the CPU backend's scheme of float partials
// summed in double, so both round alike to float precision.
struct SplitSum2 {
    float f0 = 0.f, f1 = 0.f;
    double d0 = 0.0, d1 = 0.0;
    int k = 0;

    __device__ __forceinline__ void add(float g, float w) {
        f0 += g;
        f1 = fmaf(g, w, f1);
        if (++k == kFlush) {
            d0 += f0;
            d1 += f1;
            f0 = f1 = 0.f;
            k = 0;
        }
    }

    __device__ __forceinline__ double sum0() const { return d0 + f0; }
    __device__ __forceinline__ double sum1() const { return d1 + f1; }
};

// Sum of a block's kThreads doubles in shared memory, in a fixed tree order; the result is in
// s[0]. Every thread of the block must call it.
__device__ __forceinline__ void block_tree_sum(double* s) {
    for (int half = kThreads / 2; half > 0; half /= 2) {
        __syncthreads();
        if (static_cast<int>(threadIdx.x) < half) s[threadIdx.x] += s[threadIdx.x + half];
    }
    __syncthreads();
}

// Per-channel reductions over the rows of a (rows, C) matrix run 1-D blocks of kThreads threads
// as a (lanes x width) grid: width = min(C, 32) consecutive channels (a warp reads contiguous
// floats even when C < 32), lanes = kThreads / width rows at a time.
struct ChannelTile {
    int width, lanes, tiles;

    static ChannelTile of(int c) {
        ChannelTile t;
        t.width = c < 32 ? (c < 1 ? 1 : c) : 32;
        t.lanes = kThreads / t.width;
        t.tiles = (c + t.width - 1) / t.width;
        return t;
    }
};

// How many parts the rows (or pixels) of a reduction are split into: at least minPerPart rows a
// part, and no more parts than bring the grid (tiles x groups x parts) to about kTargetBlocks.
inline int reduction_parts(long long rows, long long tiles, long long minPerPart) {
    long long byRows = (rows + minPerPart - 1) / minPerPart;
    long long cap = kTargetBlocks / (tiles < 1 ? 1 : tiles);
    long long p = byRows < cap ? byRows : cap;
    return static_cast<int>(p < 1 ? 1 : p);
}

}  // namespace bnnas

// Grid-stride loop over [0, n) with index type I.
#define BNNAS_GRID_STRIDE(I, i, n)                                                         \
    for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x); \
         i < (n); i += static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x))
