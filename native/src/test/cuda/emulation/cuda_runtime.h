// cuda_runtime.h (emulation): just enough of CUDA to run the kernels of native/src/main/cuda on
// the CPU, for checking their indexing and reductions on a machine without a GPU. Each launch
// runs one OS thread per CUDA thread of a block; the threads go through the grid's blocks one
// at a time, so a function-static array stands in for __shared__ memory. __syncthreads and the
// warp shuffles are barriers. Slow, and only a check of the logic: a GPU is still the test of
// record. run_emulated.sh rewrites the <<<...>>> launches into emu::launch calls.
#pragma once

#include <barrier>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
using uint3 = dim3;

enum cudaError_t { cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorMemoryAllocation = 2 };
enum cudaMemcpyKind { cudaMemcpyHostToHost, cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
typedef struct CUstream_st* cudaStream_t;

inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;

namespace emu {
inline std::barrier<>* blockBarrier;
inline std::vector<std::unique_ptr<std::barrier<>>> warpBarriers;
inline std::vector<double> warpSlots;

struct Cfg {
    dim3 grid, block;
    Cfg(dim3 g, dim3 b, std::size_t, cudaStream_t) : grid(g), block(b) {}
};

template <class F, class... A>
void launch(Cfg c, F kernel, A... args) {
    gridDim = c.grid;
    blockDim = c.block;
    unsigned threads = c.block.x * c.block.y * c.block.z;
    std::barrier<> syncBarrier(threads), endBarrier(threads);
    blockBarrier = &syncBarrier;
    warpBarriers.clear();
    for (unsigned w = 0; w < (threads + 31) / 32; ++w) {
        unsigned members = threads - 32 * w < 32 ? threads - 32 * w : 32;
        warpBarriers.push_back(std::make_unique<std::barrier<>>(members));
    }
    warpSlots.assign(threads, 0.0);
    std::vector<std::thread> team;
    for (unsigned t = 0; t < threads; ++t) {
        team.emplace_back([&, t] {
            threadIdx = dim3(t % c.block.x, t / c.block.x % c.block.y, t / (c.block.x * c.block.y));
            for (unsigned z = 0; z < c.grid.z; ++z)
                for (unsigned y = 0; y < c.grid.y; ++y)
                    for (unsigned x = 0; x < c.grid.x; ++x) {
                        blockIdx = dim3(x, y, z);
                        kernel(args...);
                        endBarrier.arrive_and_wait();
                    }
        });
    }
    for (auto& th : team) th.join();
}
}  // namespace emu

inline void __syncthreads() { emu::blockBarrier->arrive_and_wait(); }

// 1-D blocks only (as every kernel here uses).
inline double __shfl_xor_sync(unsigned, double v, int mask) {
    unsigned t = threadIdx.x, w = t / 32;
    emu::warpSlots[t] = v;
    emu::warpBarriers[w]->arrive_and_wait();
    double r = emu::warpSlots[w * 32 + ((t % 32) ^ static_cast<unsigned>(mask))];
    emu::warpBarriers[w]->arrive_and_wait();
    return r;
}

inline thread_local cudaError_t lastError = cudaSuccess;
inline cudaError_t cudaGetLastError() {
    cudaError_t e = lastError;
    lastError = cudaSuccess;
    return e;
}
inline cudaError_t cudaMemcpyAsync(void* d, const void* s, std::size_t n, cudaMemcpyKind, cudaStream_t) {
    std::memcpy(d, s, n);
    return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* d, const void* s, std::size_t n, cudaMemcpyKind) {
    std::memcpy(d, s, n);
    return cudaSuccess;
}
inline cudaError_t cudaMalloc(void** p, std::size_t n) {
    *p = std::malloc(n < 16 ? 16 : n);
    return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
inline cudaError_t cudaFree(void* p) {
    std::free(p);
    return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
inline cudaError_t cudaGetDeviceCount(int* n) {
    *n = 1;
    return cudaSuccess;
}
inline const char* cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "error"; }
