/*
 * bnnas_kernels.h: the C interface of libbnnas_kernels, the hand-written CUDA kernels of the
 * engine's CUDA backend (every op but convolutions and GEMMs, which go to cuDNN and cuBLAS).
 * Each function launches its kernels on the given stream and returns at once; it never waits
 * for the device. Plain C, no CUDA header: the Java side binds it through JavaCPP.
 *
 * Conventions
 *  - Every pointer is a device pointer unless it says otherwise; float32 throughout, except the
 *    double results of bn_indicator_table.
 *  - 4-D tensors (N, C, H, W) are stored channels-last: element (n, c, h, w) at
 *    ((n*H + h)*W + w)*C + c. A per-channel op sees such a tensor as a (rows, C) row-major
 *    matrix, rows = N*H*W. Depthwise weights (C, 1, k, k) are stored c*k*k + ky*k + kx.
 *  - The semantics are those of org.bnnas.engine.backend.Backend, with the CPU backend as the
 *    reference: the same fused multiply-adds where it uses them (so elementwise results match
 *    it bit for bit), reductions in double or in float partials added in double.
 *  - cap: 0 means no activation, else y = min(max(v, 0), cap) (cap may be +infinity: ReLU).
 *  - Reductions are deterministic: their split into blocks depends on the shapes only and
 *    partial sums are added in a fixed order (no float atomics), so a result is the same on
 *    every run and every GPU model.
 *  - Ops that reduce across blocks take a device scratch buffer `work` of at least the bytes
 *    the matching *_work_bytes function returns (a host function, no CUDA call), 16-byte
 *    aligned (cudaMalloc's are); it is free again once the op's kernels have run on the
 *    stream, so one buffer can serve every op of a stream.
 *  - stream is a cudaStream_t (NULL: the legacy default stream).
 *  - Return value: the cudaError_t from cudaGetLastError() after the launches, 0 on success;
 *    1 (cudaErrorInvalidValue) for invalid sizes, checked before anything is launched.
 *    Element counts n are long long, dimensions int.
 */
#ifndef BNNAS_KERNELS_H
#define BNNAS_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/* ---- elementwise (elementwise.cu) ---- */

/* out = a + b. */
int bnnas_add(const float* a, const float* b, float* out, long long n, void* stream);
/* acc += x. */
int bnnas_add_in_place(float* acc, const float* x, long long n, void* stream);
/* out = a * b. */
int bnnas_mul(const float* a, const float* b, float* out, long long n, void* stream);
/* y = min(max(x, 0), cap). */
int bnnas_clamp_relu(const float* x, float cap, float* y, long long n, void* stream);
/* dx = dy where 0 < y < cap, else 0 (y: the forward's output). */
int bnnas_clamp_relu_backward(const float* y, const float* dy, float cap, float* dx, long long n, void* stream);
/* out = x * s[0]: a factor that stays on the device (s: one float). */
int bnnas_scale_by(const float* x, const float* s, float* out, long long n, void* stream);
/* x = clamp(x, -limit, limit). */
int bnnas_clamp_in_place(float* x, float limit, long long n, void* stream);
/* x = value everywhere. */
int bnnas_fill(float* x, float value, long long n, void* stream);
/* dst = src (cudaMemcpyAsync, device to device). */
int bnnas_copy(float* dst, const float* src, long long n, void* stream);

/* ---- batch norm over the rows of a (rows, C) channels-last matrix (batchnorm.cu) ---- */

long long bnnas_batch_norm_stats_work_bytes(int rows, int C);
/* mean[c], var[c]: per-channel mean and biased variance over the rows. */
int bnnas_batch_norm_stats(const float* x, int rows, int C, float* mean, float* var, void* work, void* stream);

/*
 * Batch norm as an affine map, per channel c < C: inv_std = (float) (1 / sqrt(var + eps)) in
 * double, scale = gamma * inv_std, shift = beta - mean * scale (float, two roundings).
 */
int bnnas_batch_norm_fold(const float* gamma, const float* beta, const float* mean, const float* var, float eps, int C,
                          float* scale, float* shift, float* inv_std, void* stream);

/*
 * The second half of batch_norm_fold, for statistics that come with inv_std already (cuDNN's):
 * scale = gamma * inv_std, shift = beta - mean * scale, rounded as there.
 */
int bnnas_batch_norm_scale_shift(const float* gamma, const float* beta, const float* mean, const float* inv_std, int C,
                                 float* scale, float* shift, void* stream);

/* running[c] = (float) ((1 - m) * running[c] + m * batch[c] * correction), in double. */
int bnnas_update_running_stat(float* running, const float* batch, double m, double correction, int C, void* stream);

/* y = act(x * scale[c] + shift[c]), one fused multiply-add; cap as above. */
int bnnas_channel_affine(const float* x, int rows, int C, const float* scale, const float* shift, float cap,
                         float* y, void* stream);

long long bnnas_batch_norm_backward_work_bytes(int rows, int C);
/*
 * Backward of y = act(x * scale + shift) (scale = gamma * inv_std, shift = beta - mean * scale,
 * the forward's values; the activation's mask is recomputed from x). dy' = dy through the mask.
 * dgamma = sum(dy' * (x - mean)) * inv_std, dbeta = sum(dy');
 * batch_stats != 0: dx = scale * (dy' - mean(dy') - xhat * mean(dy' * xhat)), else dx = dy' * scale.
 * dx, dgamma, dbeta may each be NULL (not computed). shift is read only when cap != 0; mean and
 * inv_std only when dgamma, dbeta or dx with batch_stats is asked for (else they may be NULL).
 */
int bnnas_batch_norm_backward(const float* x, const float* dy, int rows, int C, const float* scale,
                              const float* shift, float cap, const float* mean, const float* inv_std,
                              int batch_stats, float* dx, float* dgamma, float* dbeta, void* work, void* stream);

/* ---- depthwise convolution with fused per-channel maps (depthwise.cu) ---- */

/*
 * y (N, C, OH, OW) = out_act(dwconv(in_act(x * in_scale + in_shift), w) * out_scale + out_shift),
 * x (N, C, H, W), w (C, 1, k, k), any stride and zero padding (the padding is not mapped).
 * in_scale NULL: no input map (in_shift, in_cap unused); out_scale NULL: no output map.
 */
int bnnas_depthwise_affine(const float* x, int N, int H, int W, int C, const float* in_scale,
                           const float* in_shift, float in_cap, const float* w, int k, int stride, int pad,
                           const float* out_scale, const float* out_shift, float out_cap, int OH, int OW,
                           float* y, void* stream);

long long bnnas_depthwise_affine_backward_weight_work_bytes(int N, int C, int k, int OH, int OW);
/* dw (C, 1, k, k) = dL/dw of depthwise_affine without an output map (overwritten). */
int bnnas_depthwise_affine_backward_weight(const float* dy, const float* x, int N, int H, int W, int C,
                                           const float* in_scale, const float* in_shift, float in_cap,
                                           float* dw, int k, int stride, int pad, int OH, int OW,
                                           void* work, void* stream);

/* ---- pooling and the linear layer's extras (pooling_linear.cu) ---- */

/* y (N, C) = mean of x (N, C, H, W) over its HW pixels. */
int bnnas_global_avg_pool(const float* x, int N, int HW, int C, float* y, void* stream);
/* dx (N, C, H, W) = dy (N, C) / HW at every pixel. */
int bnnas_global_avg_pool_backward(const float* dy, int N, int HW, int C, float* dx, void* stream);
/* y (N, out) += b (out) on every row. */
int bnnas_linear_bias_add(float* y, const float* b, int N, int out, void* stream);
/* db[j] = sum over rows of dy (N, out), in double. */
int bnnas_column_sums(const float* dy, int N, int out, float* db, void* stream);

/* ---- loss (loss.cu) ---- */

long long bnnas_cross_entropy_work_bytes(int N);
/*
 * *loss_out (one float on the device) = mean over rows of the softmax cross-entropy of logits
 * (N, K) against labels (N ints on the device), with label smoothing: target 1 - smoothing +
 * smoothing/K on the label, smoothing/K elsewhere. dlogits (may be NULL) = (softmax - target) / N.
 */
int bnnas_cross_entropy(const float* logits, const int* labels, int N, int K, float smoothing, float* dlogits,
                        float* loss_out, void* work, void* stream);
/*
 * *count (one float on the device) = how many rows of logits (N, K) have their largest value at
 * the label (labels: N ints on the device), the first largest on a tie; a NaN is never larger.
 */
int bnnas_count_correct(const float* logits, const int* labels, int N, int K, float* count, void* stream);

/* ---- reductions and updates (optim.cu) ---- */

/*
 * One SGD step in place, PyTorch's formula, the CPU backend's fused multiply-adds:
 * g = grad + wd * p; buf = momentum * buf + g (buf = g when first_step != 0);
 * p -= lr * (nesterov ? g + momentum * buf : buf). buf NULL: no momentum buffer (momentum 0).
 */
int bnnas_sgd_step(float* param, const float* grad, float* buf, long long n, int first_step, float lr,
                   float momentum, float weight_decay, int nesterov, void* stream);

/*
 * sgd_step on count tensors in one launch (meant for the many small BN parameters): params,
 * grads, bufs and sizes are device arrays of count entries. bufs may be NULL (no buffers) and
 * any entry of it NULL (none for that tensor). max_size: the largest size; it only sets how
 * many blocks work on each tensor (any value gives the right result).
 */
int bnnas_sgd_step_flat(float* const* params, const float* const* grads, float* const* bufs, const int* sizes,
                        int count, int max_size, int first_step, float lr, float momentum, float weight_decay,
                        int nesterov, void* stream);

/* ---- BN indicator (indicator.cu) ---- */

/*
 * out[i] (count doubles on the device) = mean of |gammas[i][j]| over j < sizes[i], in double
 * (as BnScore's table): gammas and sizes are device arrays of count entries.
 */
int bnnas_bn_indicator_table(const float* const* gammas, const int* sizes, int count, double* out, void* stream);

#ifdef __cplusplus
}
#endif

#endif /* BNNAS_KERNELS_H */
