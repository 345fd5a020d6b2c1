// kernels_check: runs every launcher of libbnnas_kernels on random inputs and compares it with a
// plain host version of the CPU backend's formulas (Backend.java, CpuBackend, PerChannel,
// CpuConv). Where the kernels use the CPU backend's own operations in its own order (elementwise
// ops, affine maps, depthwise forward, pooling, column sums, SGD) it asks for the same bits;
// reductions whose order differs get a tolerance. Every output buffer starts as NaN (poisoned), so
// an element a kernel fails to write fails its comparison. Exits 1 on any mismatch.
//
// On a GPU: cmake -DBNNAS_KERNELS_CHECK=ON, then run bnnas_kernels_check. Without one:
// run_emulated.sh builds it with the CPU emulation in emulation/.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bnnas_kernels.h"

namespace {

int failures = 0;
std::mt19937 rng(12345);

std::vector<float> random_floats(size_t n, float lo = -2.f, float hi = 2.f) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

template <class T>
T* to_device(const std::vector<T>& h) {
    void* p = nullptr;
    cudaMalloc(&p, h.size() * sizeof(T) + 16);
    if (!h.empty()) cudaMemcpy(p, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice);
    return static_cast<T*>(p);
}

template <class T>
std::vector<T> to_host(const T* d, size_t n) {
    cudaDeviceSynchronize();
    std::vector<T> h(n);
    if (n) cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost);
    return h;
}

// A device buffer of n NaNs: an output element a kernel fails to write stays NaN and fails its comparison.
float* poisoned(size_t n) { return to_device(std::vector<float>(n, NAN)); }

void* workspace(long long bytes) {
    void* p = nullptr;
    cudaMalloc(&p, static_cast<size_t>(bytes) + 16);
    return p;
}

void check_rc(const std::string& what, int rc) {
    if (rc != 0) {
        std::printf("FAIL %s: returned %d\n", what.c_str(), rc);
        ++failures;
    }
}

// |got - want| <= tol * max(1, |want|) everywhere; tol 0: the same floats (NaN == NaN, -0 == 0).
template <class T>
void compare(const std::string& what, const std::vector<T>& got, const std::vector<T>& want, double tol) {
    double worst = 0.0;
    size_t at = 0;
    bool bad = got.size() != want.size();
    for (size_t i = 0; !bad && i < got.size(); ++i) {
        double g = got[i], w = want[i];
        if (std::isnan(g) && std::isnan(w)) continue;
        double err = std::fabs(g - w) / std::fmax(1.0, std::fabs(w));
        if (std::isnan(err) || err > tol) bad = true;
        if (std::isnan(err) || err > worst) {
            worst = err;
            at = i;
        }
    }
    if (bad) {
        std::printf("FAIL %s: worst error %.3g at %zu (got %.9g, want %.9g)\n", what.c_str(), worst, at,
                    at < got.size() ? static_cast<double>(got[at]) : 0.0,
                    at < want.size() ? static_cast<double>(want[at]) : 0.0);
        ++failures;
    } else {
        std::printf("ok   %s (worst %.3g)\n", what.c_str(), worst);
    }
}

float relu_cap(float v, float cap) { return std::fmin(std::fmax(v, 0.f), cap); }
float act(float v, float cap) { return cap == 0.f ? v : relu_cap(v, cap); }

void check_elementwise() {
    const long long n = 100003;
    auto a = random_floats(n, -8.f, 8.f), b = random_floats(n);
    float *da = to_device(a), *db = to_device(b), *dout = poisoned(n);
    std::vector<float> want(n);

    check_rc("add", bnnas_add(da, db, dout, n, nullptr));
    for (long long i = 0; i < n; ++i) want[i] = a[i] + b[i];
    compare("add", to_host(dout, n), want, 0);

    check_rc("mul", bnnas_mul(da, db, dout, n, nullptr));
    for (long long i = 0; i < n; ++i) want[i] = a[i] * b[i];
    compare("mul", to_host(dout, n), want, 0);

    check_rc("clamp_relu", bnnas_clamp_relu(da, 6.f, dout, n, nullptr));
    for (long long i = 0; i < n; ++i) want[i] = relu_cap(a[i], 6.f);
    compare("clamp_relu 6", to_host(dout, n), want, 0);
    check_rc("clamp_relu", bnnas_clamp_relu(da, INFINITY, dout, n, nullptr));
    for (long long i = 0; i < n; ++i) want[i] = relu_cap(a[i], INFINITY);
    compare("clamp_relu inf", to_host(dout, n), want, 0);

    auto y = want;  // ReLU output
    float* dy = to_device(y);
    check_rc("clamp_relu_backward", bnnas_clamp_relu_backward(dy, db, 6.f, dout, n, nullptr));
    for (long long i = 0; i < n; ++i) want[i] = y[i] > 0.f && y[i] < 6.f ? b[i] : 0.f;
    compare("clamp_relu_backward", to_host(dout, n), want, 0);

    check_rc("copy", bnnas_copy(dout, da, n, nullptr));
    check_rc("add_in_place", bnnas_add_in_place(dout, db, n, nullptr));
    check_rc("clamp_in_place", bnnas_clamp_in_place(dout, 1.5f, n, nullptr));
    for (long long i = 0; i < n; ++i) want[i] = std::fmax(-1.5f, std::fmin(1.5f, a[i] + b[i]));
    compare("copy, add_in_place, clamp_in_place", to_host(dout, n), want, 0);

    float *dfactor = to_device(std::vector<float>{-0.37f}), *dscaled = poisoned(n);
    check_rc("scale_by", bnnas_scale_by(da, dfactor, dscaled, n, nullptr));
    for (long long i = 0; i < n; ++i) want[i] = a[i] * -0.37f;
    compare("scale_by", to_host(dscaled, n), want, 0);
    cudaFree(dfactor);
    cudaFree(dscaled);

    check_rc("fill", bnnas_fill(dout, -3.25f, n, nullptr));
    compare("fill", to_host(dout, n), std::vector<float>(n, -3.25f), 0);
    cudaFree(da);
    cudaFree(db);
    cudaFree(dout);
    cudaFree(dy);
}

void check_batch_norm(int rows, int c, float cap) {
    std::string tag = " rows " + std::to_string(rows) + " C " + std::to_string(c) + " cap " + std::to_string(cap);
    auto x = random_floats(static_cast<size_t>(rows) * c, 1.f, 3.f);  // an offset mean: the shift matters
    auto dyv = random_floats(x.size());
    float *dx_in = to_device(x), *ddy = to_device(dyv);
    float *dmean = poisoned(c), *dvar = poisoned(c);
    void* work = workspace(std::max(bnnas_batch_norm_stats_work_bytes(rows, c), bnnas_batch_norm_backward_work_bytes(rows, c)));

    check_rc("batch_norm_stats", bnnas_batch_norm_stats(dx_in, rows, c, dmean, dvar, work, nullptr));
    std::vector<float> mean(c), var(c);
    for (int ch = 0; ch < c; ++ch) {
        double s = 0, q = 0;
        for (int r = 0; r < rows; ++r) s += x[static_cast<size_t>(r) * c + ch];
        double mu = s / rows;
        for (int r = 0; r < rows; ++r) q += (x[static_cast<size_t>(r) * c + ch] - mu) * (x[static_cast<size_t>(r) * c + ch] - mu);
        mean[ch] = static_cast<float>(mu);
        var[ch] = static_cast<float>(q / rows);
    }
    compare("batch_norm_stats mean" + tag, to_host(dmean, c), mean, 2e-6);
    compare("batch_norm_stats var" + tag, to_host(dvar, c), var, 2e-5);

    // scale = gamma * invStd, shift = beta - mean * scale, as the BN op computes them
    auto gamma = random_floats(c, 0.5f, 1.5f), beta = random_floats(c, -0.5f, 0.5f);
    std::vector<float> invStd(c), scale(c), shift(c);
    for (int ch = 0; ch < c; ++ch) {
        invStd[ch] = 1.f / std::sqrt(var[ch] + 1e-5f);
        scale[ch] = gamma[ch] * invStd[ch];
        shift[ch] = beta[ch] - mean[ch] * scale[ch];
    }
    float *dscale = to_device(scale), *dshift = to_device(shift), *dinv = to_device(invStd), *dm = to_device(mean);
    {  // the fold and the running statistics, as CpuBackend computes them
        float *dgam = to_device(gamma), *dbet = to_device(beta), *dvar2 = to_device(var);
        float *fs = poisoned(c), *fsh = poisoned(c), *finv = poisoned(c);
        check_rc("batch_norm_fold", bnnas_batch_norm_fold(dgam, dbet, dm, dvar2, 1e-5f, c, fs, fsh, finv, nullptr));
        std::vector<float> wantInv(c), wantScale(c), wantShift(c), running = random_floats(c), wantRunning(c);
        for (int ch = 0; ch < c; ++ch) {
            wantInv[ch] = static_cast<float>(1.0 / std::sqrt(var[ch] + static_cast<double>(1e-5f)));
            wantScale[ch] = gamma[ch] * wantInv[ch];
            wantShift[ch] = beta[ch] - mean[ch] * wantScale[ch];
            wantRunning[ch] = static_cast<float>((1 - 0.1) * running[ch] + 0.1 * var[ch] * (rows / (rows - 1.0)));
        }
        compare("batch_norm_fold inv_std" + tag, to_host(finv, c), wantInv, 0);
        compare("batch_norm_fold scale" + tag, to_host(fs, c), wantScale, 0);
        compare("batch_norm_fold shift" + tag, to_host(fsh, c), wantShift, 0);
        float *ss = poisoned(c), *ssh = poisoned(c);  // from inv_std, as after cuDNN's forward: the fold's bits
        check_rc("batch_norm_scale_shift", bnnas_batch_norm_scale_shift(dgam, dbet, dm, finv, c, ss, ssh, nullptr));
        compare("batch_norm_scale_shift scale" + tag, to_host(ss, c), wantScale, 0);
        compare("batch_norm_scale_shift shift" + tag, to_host(ssh, c), wantShift, 0);
        cudaFree(ss);
        cudaFree(ssh);
        float* drun = to_device(running);
        check_rc("update_running_stat", bnnas_update_running_stat(drun, dvar2, 0.1, rows / (rows - 1.0), c, nullptr));
        compare("update_running_stat" + tag, to_host(drun, c), wantRunning, 0);
        for (float* p : {dgam, dbet, dvar2, fs, fsh, finv, drun}) cudaFree(p);
    }
    float* dyout = poisoned(x.size());
    check_rc("channel_affine", bnnas_channel_affine(dx_in, rows, c, dscale, dshift, cap, dyout, nullptr));
    std::vector<float> want(x.size());
    for (size_t i = 0; i < x.size(); ++i) want[i] = act(std::fma(x[i], scale[i % c], shift[i % c]), cap);
    compare("channel_affine" + tag, to_host(dyout, x.size()), want, 0);

    float *ddx = poisoned(x.size()), *ddg = poisoned(c),
          *ddb = poisoned(c);
    for (int batchStats = 0; batchStats < 2; ++batchStats) {
        check_rc("batch_norm_backward", bnnas_batch_norm_backward(dx_in, ddy, rows, c, dscale, dshift, cap, dm, dinv,
                                                                  batchStats, ddx, ddg, ddb, work, nullptr));
        std::vector<double> s0(c, 0.0), s1(c, 0.0);
        std::vector<float> g(x.size());
        for (size_t i = 0; i < x.size(); ++i) {
            int ch = static_cast<int>(i % c);
            float z = std::fma(x[i], scale[ch], shift[ch]);
            g[i] = cap == 0.f || (z > 0.f && z < cap) ? dyv[i] : 0.f;
            s0[ch] += g[i];
            s1[ch] += static_cast<double>(g[i]) * (x[i] - mean[ch]);
        }
        std::vector<float> wantDg(c), wantDb(c), wantDx(x.size());
        for (int ch = 0; ch < c; ++ch) {
            wantDg[ch] = static_cast<float>(s1[ch] * invStd[ch]);
            wantDb[ch] = static_cast<float>(s0[ch]);
        }
        double gScale = 0;
        for (size_t i = 0; i < x.size(); ++i) {
            int ch = static_cast<int>(i % c);
            double d = static_cast<double>(g[i]) * scale[ch];
            if (batchStats) {
                double xhat = (x[i] - mean[ch]) * static_cast<double>(invStd[ch]);
                d = scale[ch] * (g[i] - s0[ch] / rows - xhat * (s1[ch] * invStd[ch] / rows));
            }
            wantDx[i] = static_cast<float>(d);
            gScale = std::fmax(gScale, std::fabs(static_cast<double>(g[i]) * scale[ch]));
        }
        std::string t = tag + (batchStats ? " batch" : " running");
        compare("batch_norm_backward dgamma" + t, to_host(ddg, c), wantDg, 1e-4);
        compare("batch_norm_backward dbeta" + t, to_host(ddb, c), wantDb, 1e-4);
        // dx with batch statistics is a difference of terms of size |g * scale|: relative to that
        auto got = to_host(ddx, x.size());
        for (size_t i = 0; i < got.size(); ++i) {
            got[i] = static_cast<float>(got[i] / std::fmax(1.0, gScale));
            wantDx[i] = static_cast<float>(wantDx[i] / std::fmax(1.0, gScale));
        }
        compare("batch_norm_backward dx" + t, got, wantDx, 1e-5);
    }
    // NULL outputs: only dbeta, then only dx without batch statistics (mean, invStd unused)
    check_rc("batch_norm_backward dbeta only",
             bnnas_batch_norm_backward(dx_in, ddy, rows, c, dscale, dshift, cap, dm, dinv, 1, nullptr, nullptr, ddb, work, nullptr));
    check_rc("batch_norm_backward dx only",
             bnnas_batch_norm_backward(dx_in, ddy, rows, c, dscale, dshift, cap, nullptr, nullptr, 0, ddx, nullptr, nullptr, work, nullptr));
    for (void* p : {static_cast<void*>(dx_in), static_cast<void*>(ddy), static_cast<void*>(dmean), static_cast<void*>(dvar),
                    work, static_cast<void*>(dscale), static_cast<void*>(dshift), static_cast<void*>(dinv),
                    static_cast<void*>(dm), static_cast<void*>(dyout), static_cast<void*>(ddx), static_cast<void*>(ddg),
                    static_cast<void*>(ddb)})
        cudaFree(p);
}

void check_depthwise(int n, int h, int w, int c, int k, int stride, int pad, bool inMap, bool outMap) {
    int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
    std::string tag = " N" + std::to_string(n) + " " + std::to_string(h) + "x" + std::to_string(w) + " C" +
                      std::to_string(c) + " k" + std::to_string(k) + " s" + std::to_string(stride) + " p" +
                      std::to_string(pad) + (inMap ? " in-map" : "") + (outMap ? " out-map" : "");
    auto x = random_floats(static_cast<size_t>(n) * h * w * c), wt = random_floats(static_cast<size_t>(c) * k * k);
    auto is = random_floats(c, 0.5f, 2.f), ish = random_floats(c, -1.f, 1.f);
    auto os = random_floats(c, 0.5f, 2.f), osh = random_floats(c, -1.f, 1.f);
    float inCap = 6.f, outCap = 6.f;
    size_t outSize = static_cast<size_t>(n) * oh * ow * c;
    float *dx = to_device(x), *dw = to_device(wt), *dis = to_device(is), *dish = to_device(ish), *dos = to_device(os),
          *dosh = to_device(osh), *dy = poisoned(outSize);
    auto inValue = [&](int img, int iy, int ix, int ch) {
        float v = x[((static_cast<size_t>(img) * h + iy) * w + ix) * c + ch];
        return inMap ? act(std::fma(v, is[ch], ish[ch]), inCap) : v;
    };
    check_rc("depthwise_affine", bnnas_depthwise_affine(dx, n, h, w, c, inMap ? dis : nullptr, inMap ? dish : nullptr, inCap,
                                                         dw, k, stride, pad, outMap ? dos : nullptr, outMap ? dosh : nullptr,
                                                         outCap, oh, ow, dy, nullptr));
    std::vector<float> want(outSize);
    for (int img = 0; img < n; ++img)
        for (int oy = 0; oy < oh; ++oy)
            for (int ox = 0; ox < ow; ++ox)
                for (int ch = 0; ch < c; ++ch) {
                    float acc = 0.f;
                    for (int ky = 0; ky < k; ++ky)
                        for (int kx = 0; kx < k; ++kx) {
                            int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                            float v = iy >= 0 && iy < h && ix >= 0 && ix < w ? inValue(img, iy, ix, ch) : 0.f;
                            acc = std::fma(v, wt[(static_cast<size_t>(ch) * k + ky) * k + kx], acc);
                        }
                    if (outMap) acc = act(std::fma(acc, os[ch], osh[ch]), outCap);
                    want[((static_cast<size_t>(img) * oh + oy) * ow + ox) * c + ch] = acc;
                }
    compare("depthwise_affine" + tag, to_host(dy, outSize), want, 0);

    if (outMap) return;  // the weight gradient has no output map
    auto g = random_floats(outSize);
    float *dg = to_device(g), *ddw = poisoned(wt.size());
    void* work = workspace(bnnas_depthwise_affine_backward_weight_work_bytes(n, c, k, oh, ow));
    check_rc("depthwise_affine_backward_weight",
             bnnas_depthwise_affine_backward_weight(dg, dx, n, h, w, c, inMap ? dis : nullptr, inMap ? dish : nullptr, inCap,
                                                    ddw, k, stride, pad, oh, ow, work, nullptr));
    std::vector<double> acc(wt.size(), 0.0);
    for (int img = 0; img < n; ++img)
        for (int oy = 0; oy < oh; ++oy)
            for (int ox = 0; ox < ow; ++ox)
                for (int ch = 0; ch < c; ++ch)
                    for (int ky = 0; ky < k; ++ky)
                        for (int kx = 0; kx < k; ++kx) {
                            int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            acc[(static_cast<size_t>(ch) * k + ky) * k + kx] +=
                                static_cast<double>(g[((static_cast<size_t>(img) * oh + oy) * ow + ox) * c + ch]) *
                                inValue(img, iy, ix, ch);
                        }
    std::vector<float> wantDw(acc.begin(), acc.end());
    compare("depthwise_affine_backward_weight" + tag, to_host(ddw, wt.size()), wantDw, 1e-5);
    for (void* p : {static_cast<void*>(dx), static_cast<void*>(dw), static_cast<void*>(dis), static_cast<void*>(dish),
                    static_cast<void*>(dos), static_cast<void*>(dosh), static_cast<void*>(dy), static_cast<void*>(dg),
                    static_cast<void*>(ddw), work})
        cudaFree(p);
}

void check_pooling_linear() {
    int n = 5, hw = 49, c = 70, out = 37;
    auto x = random_floats(static_cast<size_t>(n) * hw * c);
    float *dx = to_device(x), *dy = poisoned(static_cast<size_t>(n) * c);
    check_rc("global_avg_pool", bnnas_global_avg_pool(dx, n, hw, c, dy, nullptr));
    std::vector<float> want(static_cast<size_t>(n) * c);
    float inv = 1.f / hw;
    for (int img = 0; img < n; ++img)
        for (int ch = 0; ch < c; ++ch) {
            float s = 0.f;
            for (int p = 0; p < hw; ++p) s += x[(static_cast<size_t>(img) * hw + p) * c + ch];
            want[static_cast<size_t>(img) * c + ch] = s * inv;
        }
    compare("global_avg_pool", to_host(dy, want.size()), want, 0);

    auto g = random_floats(static_cast<size_t>(n) * c);
    float* dg = to_device(g);
    check_rc("global_avg_pool_backward", bnnas_global_avg_pool_backward(dg, n, hw, c, dx, nullptr));
    std::vector<float> wantDx(x.size());
    for (size_t i = 0; i < x.size(); ++i) wantDx[i] = g[i / (static_cast<size_t>(hw) * c) * c + i % c] * inv;
    compare("global_avg_pool_backward", to_host(dx, x.size()), wantDx, 0);

    auto y = random_floats(static_cast<size_t>(n) * out), b = random_floats(out);
    float *dyl = to_device(y), *dbias = to_device(b), *ddb = poisoned(out);
    check_rc("linear_bias_add", bnnas_linear_bias_add(dyl, dbias, n, out, nullptr));
    std::vector<float> wantY(y.size());
    for (size_t i = 0; i < y.size(); ++i) wantY[i] = y[i] + b[i % out];
    compare("linear_bias_add", to_host(dyl, y.size()), wantY, 0);
    check_rc("column_sums", bnnas_column_sums(dyl, n, out, ddb, nullptr));
    std::vector<float> wantDb(out);
    for (int j = 0; j < out; ++j) {
        double s = 0;
        for (int r = 0; r < n; ++r) s += wantY[static_cast<size_t>(r) * out + j];
        wantDb[j] = static_cast<float>(s);
    }
    compare("column_sums", to_host(ddb, out), wantDb, 0);
    for (void* p : {static_cast<void*>(dx), static_cast<void*>(dy), static_cast<void*>(dg), static_cast<void*>(dyl),
                    static_cast<void*>(dbias), static_cast<void*>(ddb)})
        cudaFree(p);
}

void check_cross_entropy(int n, int k, float smoothing) {
    std::string tag = " N " + std::to_string(n) + " K " + std::to_string(k);
    auto z = random_floats(static_cast<size_t>(n) * k, -10.f, 10.f);
    std::vector<int> labels(n);
    for (int r = 0; r < n; ++r) labels[r] = static_cast<int>(rng() % k);
    float *dz = to_device(z), *dd = poisoned(z.size()), *dloss = poisoned(1);
    int* dl = to_device(labels);
    void* work = workspace(bnnas_cross_entropy_work_bytes(n));
    check_rc("cross_entropy", bnnas_cross_entropy(dz, dl, n, k, smoothing, dd, dloss, work, nullptr));
    double total = 0, off = smoothing / k, on = 1.0 - smoothing + off;
    std::vector<float> want(z.size());
    for (int r = 0; r < n; ++r) {
        double mx = -INFINITY;
        for (int j = 0; j < k; ++j) mx = std::fmax(mx, z[static_cast<size_t>(r) * k + j]);
        double se = 0;
        for (int j = 0; j < k; ++j) se += std::exp(z[static_cast<size_t>(r) * k + j] - mx);
        double ls = std::log(se) + mx;
        for (int j = 0; j < k; ++j) {
            double t = j == labels[r] ? on : off, lp = z[static_cast<size_t>(r) * k + j] - ls;
            total -= t * lp;
            want[static_cast<size_t>(r) * k + j] = static_cast<float>((std::exp(lp) - t) / n);
        }
    }
    compare("cross_entropy loss" + tag, to_host(dloss, 1), std::vector<float>{static_cast<float>(total / n)}, 1e-6);
    compare("cross_entropy dlogits" + tag, to_host(dd, z.size()), want, 1e-6);
    check_rc("cross_entropy no dlogits", bnnas_cross_entropy(dz, dl, n, k, smoothing, nullptr, dloss, work, nullptr));
    compare("cross_entropy loss without dlogits" + tag, to_host(dloss, 1), std::vector<float>{static_cast<float>(total / n)}, 1e-6);
    for (void* p : {static_cast<void*>(dz), static_cast<void*>(dd), static_cast<void*>(dloss), static_cast<void*>(dl), work})
        cudaFree(p);
}

// Logits with ties and NaNs: the first largest wins, a NaN never does (Metrics' argmax).
void check_count_correct(int n, int k) {
    std::string tag = " N " + std::to_string(n) + " K " + std::to_string(k);
    std::vector<float> z(static_cast<size_t>(n) * k);
    std::uniform_int_distribution<int> level(0, 3);  // few distinct values: many ties
    for (auto& v : z) v = static_cast<float>(level(rng));
    for (int r = 0; r < n; r += 7) z[static_cast<size_t>(r) * k + (r % k)] = NAN;
    std::vector<int> labels(n);
    int want = 0;
    for (int r = 0; r < n; ++r) {
        int best = 0;
        for (int j = 1; j < k; ++j)
            if (z[static_cast<size_t>(r) * k + j] > z[static_cast<size_t>(r) * k + best]) best = j;
        labels[r] = rng() % 2 ? best : static_cast<int>(rng() % k);
        if (labels[r] == best) ++want;
    }
    float *dz = to_device(z), *dcount = poisoned(1);
    int* dl = to_device(labels);
    check_rc("count_correct", bnnas_count_correct(dz, dl, n, k, dcount, nullptr));
    compare("count_correct" + tag, to_host(dcount, 1), std::vector<float>{static_cast<float>(want)}, 0);
    for (void* p : {static_cast<void*>(dz), static_cast<void*>(dcount), static_cast<void*>(dl)}) cudaFree(p);
}

void sgd_reference(std::vector<float>& p, const std::vector<float>& g, std::vector<float>* m, bool first, float lr,
                   float mu, float wd, bool nesterov) {
    for (size_t i = 0; i < p.size(); ++i) {
        float d = std::fma(p[i], wd, g[i]);
        if (m != nullptr) {
            float mb = first ? d : std::fma((*m)[i], mu, d);
            (*m)[i] = mb;
            d = nesterov ? std::fma(mb, mu, d) : mb;
        }
        p[i] = std::fma(d, -lr, p[i]);
    }
}

void check_optim() {
    const long long n = 300007;
    for (int nesterov = 0; nesterov < 2; ++nesterov) {
        auto p = random_floats(n), g = random_floats(n), m = random_floats(n);
        float *dp = to_device(p), *dg = to_device(g), *dm = to_device(m);
        for (int step = 0; step < 2; ++step) {
            check_rc("sgd_step", bnnas_sgd_step(dp, dg, dm, n, step == 0, 0.1f, 0.9f, 4e-5f, nesterov, nullptr));
            sgd_reference(p, g, &m, step == 0, 0.1f, 0.9f, 4e-5f, nesterov);
        }
        compare("sgd_step param" + std::string(nesterov ? " nesterov" : ""), to_host(dp, n), p, 0);
        compare("sgd_step buf" + std::string(nesterov ? " nesterov" : ""), to_host(dm, n), m, 0);
        check_rc("sgd_step no buf", bnnas_sgd_step(dp, dg, nullptr, n, 0, 0.1f, 0.f, 4e-5f, 0, nullptr));
        sgd_reference(p, g, nullptr, false, 0.1f, 0.f, 4e-5f, false);
        compare("sgd_step without buf", to_host(dp, n), p, 0);
        for (void* q : {static_cast<void*>(dp), static_cast<void*>(dg), static_cast<void*>(dm)}) cudaFree(q);
    }

    // the fused step over tensors of sizes 5, 300 and 1000, the second without a buffer
    std::vector<int> sizes{5, 300, 1000};
    std::vector<std::vector<float>> ps, gs, ms;
    std::vector<float*> dps, dgs, dms;
    for (size_t t = 0; t < sizes.size(); ++t) {
        ps.push_back(random_floats(sizes[t]));
        gs.push_back(random_floats(sizes[t]));
        ms.push_back(random_floats(sizes[t]));
        dps.push_back(to_device(ps[t]));
        dgs.push_back(to_device(gs[t]));
        dms.push_back(t == 1 ? nullptr : to_device(ms[t]));
    }
    float** dpp = to_device(dps);
    float** dgp = to_device(dgs);
    float** dmp = to_device(dms);
    int* dsz = to_device(sizes);
    for (int step = 0; step < 2; ++step) {
        check_rc("sgd_step_flat", bnnas_sgd_step_flat(dpp, const_cast<const float* const*>(dgp), dmp, dsz, 3, 1000, step == 0,
                                                      0.05f, 0.9f, 1e-4f, 1, nullptr));
        for (size_t t = 0; t < sizes.size(); ++t) sgd_reference(ps[t], gs[t], t == 1 ? nullptr : &ms[t], step == 0, 0.05f, 0.9f, 1e-4f, true);
    }
    for (size_t t = 0; t < sizes.size(); ++t) {
        compare("sgd_step_flat param " + std::to_string(t), to_host(dps[t], sizes[t]), ps[t], 0);
        if (t != 1) compare("sgd_step_flat buf " + std::to_string(t), to_host(dms[t], sizes[t]), ms[t], 0);
    }

    // the BN indicator table over the same tensors
    double* dtable = to_device(std::vector<double>(sizes.size(), NAN));
    check_rc("bn_indicator_table", bnnas_bn_indicator_table(const_cast<const float* const*>(dpp), dsz, 3, dtable, nullptr));
    std::vector<double> table(sizes.size());
    for (size_t t = 0; t < sizes.size(); ++t) {
        double a = 0;
        for (float v : ps[t]) a += std::fabs(v);
        table[t] = a / sizes[t];
    }
    compare("bn_indicator_table", to_host(dtable, sizes.size()), table, 1e-14);
}

}  // namespace

int main() {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        std::printf("no CUDA device\n");
        return 2;
    }
    check_elementwise();
    for (float cap : {0.f, 6.f, INFINITY}) check_batch_norm(2000, 40, cap);
    check_batch_norm(3001, 3, 6.f);
    check_batch_norm(97, 70, 0.f);
    check_batch_norm(1, 16, 0.f);
    check_depthwise(2, 9, 9, 40, 3, 1, 1, true, false);
    check_depthwise(2, 9, 9, 40, 3, 1, 1, true, true);
    check_depthwise(3, 11, 10, 16, 5, 2, 2, false, false);
    check_depthwise(2, 8, 8, 5, 9, 1, 4, true, false);
    check_depthwise(1, 7, 7, 33, 7, 2, 3, false, true);
    check_pooling_linear();
    check_cross_entropy(37, 10, 0.1f);
    check_cross_entropy(9, 100, 0.f);
    check_count_correct(600, 10);
    check_count_correct(5, 1000);
    check_count_correct(0, 10);
    check_optim();
    if (failures) {
        std::printf("%d check(s) failed\n", failures);
        return 1;
    }
    std::printf("all checks passed\n");
    return 0;
}
