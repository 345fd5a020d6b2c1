// indicator.cu: the BN-NAS indicator table, the mean |gamma| of each candidate op's last batch
// norm, for every op of the supernet in one launch (one block per op).
//
// The table is double, as BnScore's: the search ranks ops by these values, and rounding them to
// float could turn a difference into a tie that the CPU backend does not have.
#include "common.cuh"

using namespace bnnas;

namespace {

__global__ void indicator_kernel(const float* const* gammas, const int* sizes, int count, double* out) {
    __shared__ double s[kThreads];
    for (int t = blockIdx.x; t < count; t += gridDim.x) {
        const float* g = gammas[t];
        int n = sizes[t];
        double acc = 0.0;
        for (int i = threadIdx.x; i < n; i += kThreads) acc += fabs(static_cast<double>(g[i]));
        s[threadIdx.x] = acc;
        // s[0] is read by thread 0 only, which alone rewrites it for the next op, and the tree
        // starts with a barrier: no other barrier is needed between ops
        block_tree_sum(s);
        if (threadIdx.x == 0) out[t] = s[0] / n;
    }
}

}  // namespace

extern "C" {

int bnnas_bn_indicator_table(const float* const* gammas, const int* sizes, int count, double* out, void* stream) {
    if (count < 0) return kInvalid;
    if (count == 0) return 0;
    unsigned blocks = static_cast<unsigned>(count < kMaxBlocks ? count : kMaxBlocks);
    indicator_kernel<<<blocks, kThreads, 0, as_stream(stream)>>>(gammas, sizes, count, out);
    return last_error();
}

}  // extern "C"
