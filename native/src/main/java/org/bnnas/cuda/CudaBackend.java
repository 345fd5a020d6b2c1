// CudaBackend: the engine's Backend on an NVIDIA GPU. Convolutions go to cuDNN (NHWC, the
// engine's own layout, so no transposes), GEMMs to cuBLAS, everything else to our kernels
// (src/main/cuda). One stream (the default one); tensors live in GPU memory.
package org.bnnas.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLAS_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.cublasCreate_v2;
import static org.bytedeco.cuda.global.cublas.cublasSetMathMode;
import static org.bytedeco.cuda.global.cublas.cublasSgemm_v2;
import static org.bytedeco.cuda.global.cudart.cudaMemcpy;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionBackwardData;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionBackwardFilter;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionForward;
import static org.bytedeco.cuda.global.cudnn.cudnnCreate;

import java.util.List;
import org.bnnas.engine.backend.Backend;
import org.bnnas.engine.backend.ConvSpec;
import org.bnnas.engine.tensor.NativeMemory;
import org.bnnas.engine.tensor.Tensor;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Kernels are launched asynchronously; the host waits only when it copies a tensor in or out
 * (Tensor.toArray, a batch's images and labels) and when it reads the loss or a sum of squares.
 * Per-call scratch (cuDNN workspaces, reduction partials) comes from one growing buffer, so a
 * steady step allocates nothing.
 */
public final class CudaBackend implements Backend {
    private static final Pointer STREAM = null; // the default stream: one stream for every launch

    private final DeviceMemory memory = new DeviceMemory();
    private final cudnnContext cudnn = new cudnnContext();
    private final cublasContext cublas = new cublasContext();
    private final ConvPlans plans;
    private final Scratch scratch = new Scratch();
    private final PointerTables tables = new PointerTables();
    private final FloatPointer one = new FloatPointer(1f), zero = new FloatPointer(0f);
    private Tensor lossOut, sumOut;
    private IntPointer labelsHost;
    private long labelsDevice;
    private int labelsCapacity;

    /** @param tf32 whether convolutions may use TF32 tensor cores (PyTorch's default); off for comparisons with the CPU. */
    public CudaBackend(boolean tf32) {
        Check.cudnn(cudnnCreate(cudnn), "cudnnCreate");
        Check.cublas(cublasCreate_v2(cublas), "cublasCreate");
        Check.cublas(cublasSetMathMode(cublas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode"); // no TF32 in GEMMs, as PyTorch
        plans = new ConvPlans(cudnn, tf32, scratch);
    }

    @Override
    public String name() {
        return "cuda";
    }

    // ---- memory ------------------------------------------------------------------------------

    @Override
    public NativeMemory.Source memory() {
        return memory;
    }

    static Pointer ptr(Tensor t) {
        return t == null ? null : new Tensor.AddressPointer(t.address());
    }

    static Pointer ptr(long address) {
        return new Tensor.AddressPointer(address);
    }

    @Override
    public void fill(Tensor x, float value) {
        Check.kernel(KernelLib.bnnas_fill(ptr(x), value, x.size(), STREAM), "fill");
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        Check.kernel(KernelLib.bnnas_copy(ptr(dst), ptr(src), src.size(), STREAM), "copy");
    }

    // ---- elementwise -------------------------------------------------------------------------

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        Check.kernel(KernelLib.bnnas_add(ptr(a), ptr(b), ptr(out), out.size(), STREAM), "add");
    }

    @Override
    public void addInPlace(Tensor acc, Tensor x) {
        Check.kernel(KernelLib.bnnas_add_in_place(ptr(acc), ptr(x), acc.size(), STREAM), "add_in_place");
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        Check.kernel(KernelLib.bnnas_mul(ptr(a), ptr(b), ptr(out), out.size(), STREAM), "mul");
    }

    @Override
    public void clampRelu(Tensor x, float cap, Tensor y) {
        Check.kernel(KernelLib.bnnas_clamp_relu(ptr(x), cap, ptr(y), y.size(), STREAM), "clamp_relu");
    }

    @Override
    public void clampReluBackward(Tensor y, Tensor dy, float cap, Tensor dx) {
        Check.kernel(KernelLib.bnnas_clamp_relu_backward(ptr(y), ptr(dy), cap, ptr(dx), dx.size(), STREAM), "clamp_relu_backward");
    }

    // ---- convolution: cuDNN ------------------------------------------------------------------

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor y, ConvSpec spec) {
        ConvPlans.Plan p = plans.plan(x, w, y, spec);
        Check.cudnn(cudnnConvolutionForward(cudnn, one, p.x, ptr(x), p.w, ptr(w), p.conv, p.forwardAlgo,
                ptr(scratch.address()), scratch.bytes(), zero, p.y, ptr(y)), "cudnnConvolutionForward " + p);
    }

    @Override
    public void conv2dBackwardData(Tensor dy, Tensor w, Tensor dx, ConvSpec spec) {
        ConvPlans.Plan p = plans.plan(dx, w, dy, spec);
        Check.cudnn(cudnnConvolutionBackwardData(cudnn, one, p.w, ptr(w), p.y, ptr(dy), p.conv, p.backwardDataAlgo,
                ptr(scratch.address()), scratch.bytes(), zero, p.x, ptr(dx)), "cudnnConvolutionBackwardData " + p);
    }

    @Override
    public void conv2dBackwardWeight(Tensor dy, Tensor x, Tensor dw, ConvSpec spec) {
        ConvPlans.Plan p = plans.plan(x, dw, dy, spec);
        Check.cudnn(cudnnConvolutionBackwardFilter(cudnn, one, p.x, ptr(x), p.y, ptr(dy), p.conv, p.backwardFilterAlgo,
                ptr(scratch.address()), scratch.bytes(), zero, p.w, ptr(dw)), "cudnnConvolutionBackwardFilter " + p);
    }

    @Override
    public void depthwiseAffine(Tensor x, Tensor inScale, Tensor inShift, float inCap, Tensor w, ConvSpec spec,
                                Tensor outScale, Tensor outShift, float outCap, Tensor y) {
        Check.kernel(KernelLib.bnnas_depthwise_affine(ptr(x), x.dim(0), x.dim(2), x.dim(3), x.dim(1), ptr(inScale), ptr(inShift), inCap,
                ptr(w), spec.kernel(), spec.stride(), spec.padding(), ptr(outScale), ptr(outShift), outCap, y.dim(2), y.dim(3), ptr(y), STREAM),
                "depthwise_affine");
    }

    @Override
    public void depthwiseAffineBackwardWeight(Tensor dy, Tensor x, Tensor inScale, Tensor inShift, float inCap, Tensor dw, ConvSpec spec) {
        int n = x.dim(0), c = x.dim(1), oh = dy.dim(2), ow = dy.dim(3);
        long work = scratch.ensure(KernelLib.bnnas_depthwise_affine_backward_weight_work_bytes(n, c, spec.kernel(), oh, ow));
        Check.kernel(KernelLib.bnnas_depthwise_affine_backward_weight(ptr(dy), ptr(x), n, x.dim(2), x.dim(3), c, ptr(inScale), ptr(inShift),
                inCap, ptr(dw), spec.kernel(), spec.stride(), spec.padding(), oh, ow, ptr(work), STREAM), "depthwise_affine_backward_weight");
    }

    // ---- batch norm --------------------------------------------------------------------------

    @Override
    public void batchNormStats(Tensor x, Tensor mean, Tensor var) {
        int c = x.dim(1), rows = x.size() / c;
        long work = scratch.ensure(KernelLib.bnnas_batch_norm_stats_work_bytes(rows, c));
        Check.kernel(KernelLib.bnnas_batch_norm_stats(ptr(x), rows, c, ptr(mean), ptr(var), ptr(work), STREAM), "batch_norm_stats");
    }

    @Override
    public void batchNormFold(Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor scale, Tensor shift, Tensor invStd) {
        Check.kernel(KernelLib.bnnas_batch_norm_fold(ptr(gamma), ptr(beta), ptr(mean), ptr(var), eps, mean.size(), ptr(scale), ptr(shift),
                ptr(invStd), STREAM), "batch_norm_fold");
    }

    @Override
    public void updateRunningStat(Tensor running, Tensor batch, double m, double correction) {
        Check.kernel(KernelLib.bnnas_update_running_stat(ptr(running), ptr(batch), m, correction, running.size(), STREAM), "update_running_stat");
    }

    @Override
    public void channelAffine(Tensor x, Tensor scale, Tensor shift, float cap, Tensor y) {
        int c = x.dim(1);
        Check.kernel(KernelLib.bnnas_channel_affine(ptr(x), x.size() / c, c, ptr(scale), ptr(shift), cap, ptr(y), STREAM), "channel_affine");
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor scale, Tensor shift, float cap, Tensor mean, Tensor invStd,
                                  boolean batchStats, Tensor dx, Tensor dgamma, Tensor dbeta) {
        int c = x.dim(1), rows = x.size() / c;
        long work = scratch.ensure(KernelLib.bnnas_batch_norm_backward_work_bytes(rows, c));
        Check.kernel(KernelLib.bnnas_batch_norm_backward(ptr(x), ptr(dy), rows, c, ptr(scale), ptr(shift), cap, ptr(mean), ptr(invStd),
                batchStats ? 1 : 0, ptr(dx), ptr(dgamma), ptr(dbeta), ptr(work), STREAM), "batch_norm_backward");
    }

    // ---- pooling, linear, loss ---------------------------------------------------------------

    @Override
    public void globalAvgPool(Tensor x, Tensor y) {
        Check.kernel(KernelLib.bnnas_global_avg_pool(ptr(x), x.dim(0), x.dim(2) * x.dim(3), x.dim(1), ptr(y), STREAM), "global_avg_pool");
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        Check.kernel(KernelLib.bnnas_global_avg_pool_backward(ptr(dy), dx.dim(0), dx.dim(2) * dx.dim(3), dx.dim(1), ptr(dx), STREAM),
                "global_avg_pool_backward");
    }

    /*
     * cuBLAS is column-major; a row-major (r, c) matrix is the column-major (c, r) one, so each
     * product below is written for the transposes: y^T = w x^T, dx^T = w^T dy^T, dw^T = x^T dy.
     */

    @Override
    public void linear(Tensor x, Tensor w, Tensor b, Tensor y) {
        int n = x.dim(0), in = x.dim(1), out = w.dim(0);
        Check.cublas(cublasSgemm_v2(cublas, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, one, fp(w), in, fp(x), in, zero, fp(y), out), "cublasSgemm (linear)");
        if (b != null) Check.kernel(KernelLib.bnnas_linear_bias_add(ptr(y), ptr(b), n, out, STREAM), "linear_bias_add");
    }

    @Override
    public void linearBackwardData(Tensor dy, Tensor w, Tensor dx) {
        if (dx == null) return;
        int n = dy.dim(0), out = w.dim(0), in = w.dim(1);
        Check.cublas(cublasSgemm_v2(cublas, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, one, fp(w), in, fp(dy), out, zero, fp(dx), in),
                "cublasSgemm (linear backward data)");
    }

    @Override
    public void linearBackwardParams(Tensor dy, Tensor x, Tensor dw, Tensor db) {
        int n = dy.dim(0), out = dy.dim(1), in = x.dim(1);
        if (dw != null) {
            Check.cublas(cublasSgemm_v2(cublas, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, one, fp(x), in, fp(dy), out, zero, fp(dw), in),
                    "cublasSgemm (linear backward weight)");
        }
        if (db != null) Check.kernel(KernelLib.bnnas_column_sums(ptr(dy), n, out, ptr(db), STREAM), "column_sums");
    }

    private static FloatPointer fp(Tensor t) {
        return new FloatPointer(new Tensor.AddressPointer(t.address()));
    }

    @Override
    public float crossEntropy(Tensor logits, int[] labels, float smoothing, Tensor dlogits) {
        int n = logits.dim(0), k = logits.dim(1);
        uploadLabels(labels);
        if (lossOut == null) lossOut = detached(1);
        long work = scratch.ensure(KernelLib.bnnas_cross_entropy_work_bytes(n));
        Check.kernel(KernelLib.bnnas_cross_entropy(ptr(logits), ptr(labelsDevice), n, k, smoothing, ptr(dlogits), ptr(lossOut), ptr(work), STREAM),
                "cross_entropy");
        try (FloatPointer host = new FloatPointer(1)) { // reading the loss is the step's one wait
            Check.cuda(cudaMemcpy(host, ptr(lossOut), 4, cudaMemcpyDeviceToHost), "cudaMemcpy (loss)");
            return host.get(0);
        }
    }

    /** Labels go to a device buffer through a host staging buffer, both kept between steps. */
    private void uploadLabels(int[] labels) {
        if (labels.length > labelsCapacity) {
            if (labelsHost != null) labelsHost.close();
            labelsCapacity = Math.max(labels.length, 2 * labelsCapacity);
            labelsHost = new IntPointer(labelsCapacity);
            labelsDevice = scratch.dedicated(4L * labelsCapacity);
        }
        labelsHost.put(labels, 0, labels.length);
        Check.cuda(cudaMemcpy(ptr(labelsDevice), labelsHost, 4L * labels.length, cudaMemcpyHostToDevice), "cudaMemcpy (labels)");
    }

    /** A small tensor owned by this backend, outside any memory scope. */
    private static Tensor detached(int size) {
        return org.bnnas.engine.tensor.MemoryScope.detach(Tensor.empty(size));
    }

    // ---- channel ops -------------------------------------------------------------------------

    @Override
    public void concatChannels(Tensor[] xs, Tensor y) {
        int rows = y.size() / y.dim(1), offset = 0;
        for (Tensor x : xs) {
            Check.kernel(KernelLib.bnnas_concat_channels_part(ptr(x), rows, x.dim(1), ptr(y), y.dim(1), offset, STREAM), "concat_channels_part");
            offset += x.dim(1);
        }
    }

    @Override
    public void splitChannels(Tensor x, Tensor[] ys) {
        int rows = x.size() / x.dim(1), offset = 0;
        for (Tensor y : ys) {
            Check.kernel(KernelLib.bnnas_split_channels_part(ptr(x), rows, x.dim(1), ptr(y), y.dim(1), offset, STREAM), "split_channels_part");
            offset += y.dim(1);
        }
    }

    @Override
    public void channelShuffle(Tensor x, int groups, boolean inverse, Tensor y) {
        int c = x.dim(1);
        Check.kernel(KernelLib.bnnas_channel_shuffle(ptr(x), x.size() / c, c, groups, inverse ? 1 : 0, ptr(y), STREAM), "channel_shuffle");
    }

    // ---- reductions and updates --------------------------------------------------------------

    @Override
    public double sumOfSquares(Tensor x) {
        if (sumOut == null) sumOut = detached(2); // one double
        long work = scratch.ensure(KernelLib.bnnas_sum_of_squares_work_bytes(x.size()));
        Check.kernel(KernelLib.bnnas_sum_of_squares(ptr(x), x.size(), ptr(sumOut), ptr(work), STREAM), "sum_of_squares");
        try (DoublePointer host = new DoublePointer(1)) {
            Check.cuda(cudaMemcpy(host, ptr(sumOut), 8, cudaMemcpyDeviceToHost), "cudaMemcpy (sum of squares)");
            return host.get(0);
        }
    }

    /** One launch for the whole list; one copy back. */
    @Override
    public double[] meanAbsolute(List<Tensor> xs) {
        int n = xs.size();
        if (n == 0) return new double[0];
        long[] table = new long[n + (n + 1) / 2]; // the addresses, then the sizes as ints
        for (int i = 0; i < n; i++) {
            table[i] = xs.get(i).address();
            table[n + i / 2] |= (xs.get(i).size() & 0xFFFFFFFFL) << (32 * (i % 2));
        }
        long device = tables.upload(table);
        long out = scratch.ensure(8L * n);
        Check.kernel(KernelLib.bnnas_bn_indicator_table(ptr(device), ptr(device + 8L * n), n, ptr(out), STREAM), "bn_indicator_table");
        try (DoublePointer host = new DoublePointer(n)) {
            Check.cuda(cudaMemcpy(host, ptr(out), 8L * n, cudaMemcpyDeviceToHost), "cudaMemcpy (BN indicator table)");
            double[] result = new double[n];
            host.get(result);
            return result;
        }
    }

    @Override
    public void scaleInPlace(Tensor x, float s) {
        Check.kernel(KernelLib.bnnas_scale_in_place(ptr(x), s, x.size(), STREAM), "scale_in_place");
        x.bumpVersion();
    }

    @Override
    public void clampInPlace(Tensor x, float limit) {
        Check.kernel(KernelLib.bnnas_clamp_in_place(ptr(x), limit, x.size(), STREAM), "clamp_in_place");
        x.bumpVersion();
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor buf, boolean firstStep, float lr, float momentum, float weightDecay, boolean nesterov) {
        Check.kernel(KernelLib.bnnas_sgd_step(ptr(param), ptr(grad), ptr(buf), param.size(), firstStep ? 1 : 0, lr, momentum, weightDecay,
                nesterov ? 1 : 0, STREAM), "sgd_step");
        param.bumpVersion();
    }

    /** All tensors in one launch: their addresses and sizes go to the GPU in one asynchronous copy. */
    @Override
    public void sgdStepAll(List<Tensor> params, List<Tensor> grads, List<Tensor> bufs, float lr, float momentum, float weightDecay,
                           boolean nesterov) {
        int n = params.size(), maxSize = 1;
        long[] table = new long[3 * n + (n + 1) / 2]; // params, grads, bufs, then the sizes as ints
        for (int i = 0; i < n; i++) {
            table[i] = params.get(i).address();
            table[n + i] = grads.get(i).address();
            table[2 * n + i] = bufs == null ? 0 : bufs.get(i).address();
            int size = params.get(i).size();
            maxSize = Math.max(maxSize, size);
            table[3 * n + i / 2] |= (size & 0xFFFFFFFFL) << (32 * (i % 2)); // little-endian: int i at byte 4*(6n + i)
        }
        long device = tables.upload(table);
        Check.kernel(KernelLib.bnnas_sgd_step_flat(ptr(device), ptr(device + 8L * n), bufs == null ? null : ptr(device + 16L * n),
                ptr(device + 24L * n), n, maxSize, 0, lr, momentum, weightDecay, nesterov ? 1 : 0, STREAM), "sgd_step_flat");
        for (Tensor p : params) p.bumpVersion();
    }
}
