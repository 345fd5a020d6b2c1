// channels.cu: channel moves on channels-last (rows, C) matrices: one part of a concat or a
// split (a launch per part: the parts' pointers stay on the host, no pointer array to upload),
// and the ShuffleNet channel shuffle. One thread per element of the smaller side, writes and
// reads both contiguous within a row.
#include "common.cuh"

using namespace bnnas;

namespace {

// kConcat: y[r][offset + ch] = x[r][ch] over x's (rows, cx); else y[r][ch] = x[r][offset + ch]
// over y's (rows, cy).
template <bool kConcat, typename I>
__global__ void channel_block_kernel(const float* x, int cx, float* y, int cy, int offset, I total) {
    int part = kConcat ? cx : cy;
    BNNAS_GRID_STRIDE(I, i, total) {
        I r = i / part;
        int ch = static_cast<int>(i - r * part);
        if (kConcat) {
            y[r * cy + offset + ch] = x[i];
        } else {
            y[i] = x[r * cx + offset + ch];
        }
    }
}

// y[r][o] = x[r][source(o)]: without inverse output channel j*g + i takes input channel
// i*per + j (per = C/g); with inverse output channel i*per + j takes input channel j*g + i.
template <typename I>
__global__ void channel_shuffle_kernel(const float* x, int c, int groups, bool inverse, float* y, I total) {
    int per = c / groups;
    BNNAS_GRID_STRIDE(I, i, total) {
        I r = i / c;
        int o = static_cast<int>(i - r * c);
        int src = inverse ? (o % per) * groups + o / per : (o % groups) * per + o / groups;
        y[i] = x[r * c + src];
    }
}

template <bool kConcat>
int channel_block(const float* x, int rows, int cx, float* y, int cy, int offset, void* stream) {
    int part = kConcat ? cx : cy, whole = kConcat ? cy : cx;
    if (rows < 0 || part < 0 || offset < 0 || offset > whole - part) return kInvalid;
    long long total = static_cast<long long>(rows) * part;
    if (total == 0) return 0;
    unsigned grid = grid_for(total);
    cudaStream_t st = as_stream(stream);
    // the int version also needs every whole-matrix index to fit: rows * whole
    if (fits_int(static_cast<long long>(rows) * whole, grid)) {
        channel_block_kernel<kConcat, int><<<grid, kThreads, 0, st>>>(x, cx, y, cy, offset, static_cast<int>(total));
    } else {
        channel_block_kernel<kConcat, long long><<<grid, kThreads, 0, st>>>(x, cx, y, cy, offset, total);
    }
    return last_error();
}

}  // namespace

extern "C" {

int bnnas_concat_channels_part(const float* x, int rows, int Cx, float* y, int Cy, int offset, void* stream) {
    return channel_block<true>(x, rows, Cx, y, Cy, offset, stream);
}

int bnnas_split_channels_part(const float* x, int rows, int Cx, float* y, int Cy, int offset, void* stream) {
    return channel_block<false>(x, rows, Cx, y, Cy, offset, stream);
}

int bnnas_channel_shuffle(const float* x, int rows, int C, int groups, int inverse, float* y, void* stream) {
    if (rows < 0 || C < 0 || groups < 1 || C % groups != 0) return kInvalid;
    long long total = static_cast<long long>(rows) * C;
    if (total == 0) return 0;
    unsigned grid = grid_for(total);
    cudaStream_t st = as_stream(stream);
    if (fits_int(total, grid)) {
        channel_shuffle_kernel<int><<<grid, kThreads, 0, st>>>(x, C, groups, inverse != 0, y, static_cast<int>(total));
    } else {
        channel_shuffle_kernel<long long><<<grid, kThreads, 0, st>>>(x, C, groups, inverse != 0, y, total);
    }
    return last_error();
}

}  // extern "C"
