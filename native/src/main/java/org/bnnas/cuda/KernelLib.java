// KernelLib: the JavaCPP binding of libbnnas_kernels (src/main/cuda/bnnas_kernels.h, built by
// ../cmake). build-kernels.sh has JavaCPP's Builder generate and compile its JNI glue after javac.
package org.bnnas.cuda;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * One Java method per launcher of bnnas_kernels.h, same name and argument order. Every pointer
 * argument is a device address wrapped in a Pointer; {@code stream} is a cudaStream_t (null: the
 * default stream). Each returns the launch's cudaError_t (0: success); callers pass it to
 * {@link Check#kernel}. Load the CUDA runtime first (CudaBackend does): the kernel library links
 * against the same libcudart as the JavaCPP cuda presets.
 */
@Platform(include = "bnnas_kernels.h", link = "bnnas_kernels")
public final class KernelLib {
    private KernelLib() {}

    /** Loads the JNI glue and the kernel library from the jar; throws UnsatisfiedLinkError when they were not built. */
    static void load() {
        Loader.load(KernelLib.class);
    }

    // ---- elementwise ----
    public static native int bnnas_add(@Cast("const float*") Pointer a, @Cast("const float*") Pointer b, @Cast("float*") Pointer out, long n, Pointer stream);

    public static native int bnnas_add_in_place(@Cast("float*") Pointer acc, @Cast("const float*") Pointer x, long n, Pointer stream);

    public static native int bnnas_mul(@Cast("const float*") Pointer a, @Cast("const float*") Pointer b, @Cast("float*") Pointer out, long n, Pointer stream);

    public static native int bnnas_clamp_relu(@Cast("const float*") Pointer x, float cap, @Cast("float*") Pointer y, long n, Pointer stream);

    public static native int bnnas_clamp_relu_backward(@Cast("const float*") Pointer y, @Cast("const float*") Pointer dy, float cap,
                                                       @Cast("float*") Pointer dx, long n, Pointer stream);

    public static native int bnnas_scale_by(@Cast("const float*") Pointer x, @Cast("const float*") Pointer s, @Cast("float*") Pointer out, long n,
                                            Pointer stream);

    public static native int bnnas_clamp_in_place(@Cast("float*") Pointer x, float limit, long n, Pointer stream);

    public static native int bnnas_fill(@Cast("float*") Pointer x, float value, long n, Pointer stream);

    public static native int bnnas_copy(@Cast("float*") Pointer dst, @Cast("const float*") Pointer src, long n, Pointer stream);

    // ---- batch norm ----
    public static native long bnnas_batch_norm_stats_work_bytes(int rows, int c);

    public static native int bnnas_batch_norm_stats(@Cast("const float*") Pointer x, int rows, int c, @Cast("float*") Pointer mean,
                                                    @Cast("float*") Pointer var, Pointer work, Pointer stream);

    public static native int bnnas_batch_norm_fold(@Cast("const float*") Pointer gamma, @Cast("const float*") Pointer beta,
                                                   @Cast("const float*") Pointer mean, @Cast("const float*") Pointer var, float eps, int c,
                                                   @Cast("float*") Pointer scale, @Cast("float*") Pointer shift, @Cast("float*") Pointer invStd,
                                                   Pointer stream);

    public static native int bnnas_batch_norm_scale_shift(@Cast("const float*") Pointer gamma, @Cast("const float*") Pointer beta,
                                                          @Cast("const float*") Pointer mean, @Cast("const float*") Pointer invStd, int c,
                                                          @Cast("float*") Pointer scale, @Cast("float*") Pointer shift, Pointer stream);

    public static native int bnnas_update_running_stat(@Cast("float*") Pointer running, @Cast("const float*") Pointer batch, double m,
                                                       double correction, int c, Pointer stream);

    public static native int bnnas_channel_affine(@Cast("const float*") Pointer x, int rows, int c, @Cast("const float*") Pointer scale,
                                                  @Cast("const float*") Pointer shift, float cap, @Cast("float*") Pointer y, Pointer stream);

    public static native long bnnas_batch_norm_backward_work_bytes(int rows, int c);

    public static native int bnnas_batch_norm_backward(@Cast("const float*") Pointer x, @Cast("const float*") Pointer dy, int rows, int c,
                                                       @Cast("const float*") Pointer scale, @Cast("const float*") Pointer shift, float cap,
                                                       @Cast("const float*") Pointer mean, @Cast("const float*") Pointer invStd, int batchStats,
                                                       @Cast("float*") Pointer dx, @Cast("float*") Pointer dgamma, @Cast("float*") Pointer dbeta,
                                                       Pointer work, Pointer stream);

    // ---- depthwise convolution with fused per-channel maps ----
    public static native int bnnas_depthwise_affine(@Cast("const float*") Pointer x, int n, int h, int w, int c,
                                                    @Cast("const float*") Pointer inScale, @Cast("const float*") Pointer inShift, float inCap,
                                                    @Cast("const float*") Pointer weight, int k, int stride, int pad,
                                                    @Cast("const float*") Pointer outScale, @Cast("const float*") Pointer outShift, float outCap,
                                                    int oh, int ow, @Cast("float*") Pointer y, Pointer stream);

    public static native long bnnas_depthwise_affine_backward_weight_work_bytes(int n, int c, int k, int oh, int ow);

    public static native int bnnas_depthwise_affine_backward_weight(@Cast("const float*") Pointer dy, @Cast("const float*") Pointer x,
                                                                    int n, int h, int w, int c, @Cast("const float*") Pointer inScale,
                                                                    @Cast("const float*") Pointer inShift, float inCap, @Cast("float*") Pointer dw,
                                                                    int k, int stride, int pad, int oh, int ow, Pointer work, Pointer stream);

    // ---- pooling and the linear layer's extras ----
    public static native int bnnas_global_avg_pool(@Cast("const float*") Pointer x, int n, int hw, int c, @Cast("float*") Pointer y, Pointer stream);

    public static native int bnnas_global_avg_pool_backward(@Cast("const float*") Pointer dy, int n, int hw, int c, @Cast("float*") Pointer dx,
                                                            Pointer stream);

    public static native int bnnas_linear_bias_add(@Cast("float*") Pointer y, @Cast("const float*") Pointer b, int n, int out, Pointer stream);

    public static native int bnnas_column_sums(@Cast("const float*") Pointer dy, int n, int out, @Cast("float*") Pointer db, Pointer stream);

    // ---- loss ----
    public static native long bnnas_cross_entropy_work_bytes(int n);

    public static native int bnnas_cross_entropy(@Cast("const float*") Pointer logits, @Cast("const int*") Pointer labels, int n, int k,
                                                 float smoothing, @Cast("float*") Pointer dlogits, @Cast("float*") Pointer lossOut,
                                                 Pointer work, Pointer stream);

    public static native int bnnas_count_correct(@Cast("const float*") Pointer logits, @Cast("const int*") Pointer labels, int n, int k,
                                                 @Cast("float*") Pointer count, Pointer stream);

    // ---- reductions and updates ----
    public static native int bnnas_sgd_step(@Cast("float*") Pointer param, @Cast("const float*") Pointer grad, @Cast("float*") Pointer buf, long n,
                                            int firstStep, float lr, float momentum, float weightDecay, int nesterov, Pointer stream);

    public static native int bnnas_sgd_step_flat(@Cast("float* const*") Pointer params, @Cast("const float* const*") Pointer grads,
                                                 @Cast("float* const*") Pointer bufs, @Cast("const int*") Pointer sizes, int count, int maxSize,
                                                 int firstStep, float lr, float momentum, float weightDecay, int nesterov, Pointer stream);

    // ---- BN indicator ----
    public static native int bnnas_bn_indicator_table(@Cast("const float* const*") Pointer gammas, @Cast("const int*") Pointer sizes, int count,
                                                      @Cast("double*") Pointer out, Pointer stream);
}
