// CudaBackend: the engine's Backend on an NVIDIA GPU. Convolutions and the batch norms without an
// activation go to cuDNN (NHWC, the engine's own layout, so no transposes), GEMMs to cuBLAS,
// everything else to our kernels (src/main/cuda). One stream (the default one); tensors live in
// GPU memory.
package org.bnnas.cuda;

import static org.bytedeco.cuda.global.cublas.CUBLAS_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.cublasCreate_v2;
import static org.bytedeco.cuda.global.cublas.cublasSetMathMode;
import static org.bytedeco.cuda.global.cublas.cublasSgemm_v2;
import static org.bytedeco.cuda.global.cudnn.CUDNN_BATCHNORM_SPATIAL;
import static org.bytedeco.cuda.global.cudnn.CUDNN_BN_MIN_EPSILON;
import static org.bytedeco.cuda.global.cudnn.cudnnBatchNormalizationBackward;
import static org.bytedeco.cuda.global.cudnn.cudnnBatchNormalizationForwardInference;
import static org.bytedeco.cuda.global.cudnn.cudnnBatchNormalizationForwardTraining;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionBackwardData;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionBackwardFilter;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionForward;
import static org.bytedeco.cuda.global.cudnn.cudnnCreate;

import java.util.List;
import org.bnnas.engine.backend.Backend;
import org.bnnas.engine.backend.BatchNormState;
import org.bnnas.engine.backend.ConvSpec;
import org.bnnas.engine.tensor.NativeMemory;
import org.bnnas.engine.tensor.Tensor;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Kernels are launched asynchronously, and data from the host (a batch's images and labels, the
 * address tables of the multi-tensor kernels) goes up without waiting ({@link Uploads}); the
 * host waits only when it reads a tensor (Tensor.toArray, item: the loss when someone asks for
 * it) or the BN indicator table. So a training step queues its work and returns. Per-call
 * scratch (cuDNN workspaces, reduction partials) comes from one growing buffer, so a steady step
 * allocates nothing.
 */
public final class CudaBackend implements Backend {
    static final Pointer STREAM = null; // the default stream: one stream for every launch

    private final Uploads uploads = new Uploads();
    private final DeviceMemory memory = new DeviceMemory(uploads);
    private final cudnnContext cudnn = new cudnnContext();
    private final cublasContext cublas = new cublasContext();
    private final ConvPlans plans;
    private final BatchNormPlans batchNormPlans = new BatchNormPlans();
    private final Scratch scratch = new Scratch();
    /** Where uploaded labels and address tables go: one buffer each serves every call (see uploadLabels). */
    private final Scratch labels = new Scratch(), tables = new Scratch();
    private final FloatPointer one = new FloatPointer(1f), zero = new FloatPointer(0f);

    /** @param tf32 whether convolutions may use TF32 tensor cores (PyTorch's default); off for comparisons with the CPU. */
    public CudaBackend(boolean tf32) {
        KernelLib.load(); // done by CudaProvider's probe already, but a backend may be made without one
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

    /** How many times the host has waited for the GPU: each copy to the host, and each upload that found its staging memory still in use. */
    public long hostWaits() {
        return memory.reads() + uploads.waits();
    }

    static Pointer ptr(Tensor t) {
        return t == null ? null : new Tensor.AddressPointer(t.address());
    }

    static Pointer ptr(long address) {
        return new Tensor.AddressPointer(address);
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
    public void scaleBy(Tensor x, Tensor s, Tensor out) {
        Check.kernel(KernelLib.bnnas_scale_by(ptr(x), ptr(s), ptr(out), out.size(), STREAM), "scale_by");
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
        int algo = plans.algorithm(p, ConvPlans.Direction.FORWARD); // first, as it may grow the workspace
        Check.cudnn(cudnnConvolutionForward(cudnn, one, p.x, ptr(x), p.w, ptr(w), p.conv, algo, ptr(scratch.address()), scratch.bytes(),
                zero, p.y, ptr(y)), "cudnnConvolutionForward " + p);
    }

    @Override
    public void conv2dBackwardData(Tensor dy, Tensor w, Tensor dx, ConvSpec spec) {
        ConvPlans.Plan p = plans.plan(dx, w, dy, spec);
        int algo = plans.algorithm(p, ConvPlans.Direction.BACKWARD_DATA); // first, as it may grow the workspace
        Check.cudnn(cudnnConvolutionBackwardData(cudnn, one, p.w, ptr(w), p.y, ptr(dy), p.conv, algo, ptr(scratch.address()), scratch.bytes(),
                zero, p.x, ptr(dx)), "cudnnConvolutionBackwardData " + p);
    }

    @Override
    public void conv2dBackwardWeight(Tensor dy, Tensor x, Tensor dw, ConvSpec spec) {
        ConvPlans.Plan p = plans.plan(x, dw, dy, spec);
        int algo = plans.algorithm(p, ConvPlans.Direction.BACKWARD_FILTER); // first, as it may grow the workspace
        Check.cudnn(cudnnConvolutionBackwardFilter(cudnn, one, p.x, ptr(x), p.y, ptr(dy), p.conv, algo, ptr(scratch.address()), scratch.bytes(),
                zero, p.w, ptr(dw)), "cudnnConvolutionBackwardFilter " + p);
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

    /**
     * cuDNN where there is no activation to fuse (it cannot clamp at 6): the last BN of each op,
     * the one BN-NAS trains. With batch statistics cuDNN's training forward writes y, the saved
     * mean and invStd and the running statistics in one call, and our kernel derives scale and
     * shift from them; with running statistics its inference forward writes y. Everything else is
     * the engine's sequence of our kernels.
     */
    @Override
    public void batchNorm(Tensor x, Tensor beta, Tensor runningMean, Tensor runningVar, double m, float cap, BatchNormState st, Tensor y) {
        if (cap != 0f || y == null || st.eps() < CUDNN_BN_MIN_EPSILON) {
            Backend.super.batchNorm(x, beta, runningMean, runningVar, m, cap, st, y);
            return;
        }
        BatchNormPlans.Plan p = batchNormPlans.plan(x);
        if (st.batchStats()) {
            Check.cudnn(cudnnBatchNormalizationForwardTraining(cudnn, BatchNormPlans.TRAINING_MODE, one, zero, p.x(), ptr(x), p.x(), ptr(y),
                    p.perChannel(), ptr(st.gamma()), ptr(beta), runningMean == null ? 0.0 : m, ptr(runningMean), ptr(runningVar), st.eps(),
                    ptr(st.mean()), ptr(st.invStd())), "cudnnBatchNormalizationForwardTraining " + x.shape());
            Check.kernel(KernelLib.bnnas_batch_norm_scale_shift(ptr(st.gamma()), ptr(beta), ptr(st.mean()), ptr(st.invStd()), x.dim(1),
                    ptr(st.scale()), ptr(st.shift()), STREAM), "batch_norm_scale_shift");
        } else {
            Check.cudnn(cudnnBatchNormalizationForwardInference(cudnn, CUDNN_BATCHNORM_SPATIAL, one, zero, p.x(), ptr(x), p.x(), ptr(y),
                    p.perChannel(), ptr(st.gamma()), ptr(beta), ptr(runningMean), ptr(runningVar), st.eps()),
                    "cudnnBatchNormalizationForwardInference " + x.shape());
            batchNormFold(st.gamma(), beta, runningMean, runningVar, st.eps(), st.scale(), st.shift(), st.invStd());
            st.mean().copyFrom(runningMean);
        }
    }

    /**
     * cuDNN's backward where it applies: no activation, batch statistics, and dx wanted (it always
     * computes dx; dgamma and dbeta nobody wants go to scratch). Otherwise our fused kernel, which
     * also handles the activation's mask and skips dx below the first trainable parameter.
     */
    @Override
    public void batchNormBackward(Tensor x, Tensor dy, float cap, BatchNormState st, Tensor dx, Tensor dgamma, Tensor dbeta) {
        int c = x.dim(1), rows = x.size() / c;
        if (cap == 0f && st.batchStats() && dx != null && st.eps() >= CUDNN_BN_MIN_EPSILON) {
            BatchNormPlans.Plan p = batchNormPlans.plan(x);
            long unwanted = dgamma == null || dbeta == null ? scratch.ensure(8L * c) : 0;
            Pointer dg = dgamma != null ? ptr(dgamma) : ptr(unwanted), db = dbeta != null ? ptr(dbeta) : ptr(unwanted + 4L * c);
            Check.cudnn(cudnnBatchNormalizationBackward(cudnn, BatchNormPlans.TRAINING_MODE, one, zero, one, zero, p.x(), ptr(x), p.x(), ptr(dy),
                    p.x(), ptr(dx), p.perChannel(), ptr(st.gamma()), dg, db, st.eps(), ptr(st.mean()), ptr(st.invStd())),
                    "cudnnBatchNormalizationBackward " + x.shape());
            return;
        }
        long work = scratch.ensure(KernelLib.bnnas_batch_norm_backward_work_bytes(rows, c));
        Check.kernel(KernelLib.bnnas_batch_norm_backward(ptr(x), ptr(dy), rows, c, ptr(st.scale()), ptr(st.shift()), cap, ptr(st.mean()),
                ptr(st.invStd()), st.batchStats() ? 1 : 0, ptr(dx), ptr(dgamma), ptr(dbeta), ptr(work), STREAM), "batch_norm_backward");
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
    public void crossEntropy(Tensor logits, int[] labels, float smoothing, Tensor loss, Tensor dlogits) {
        int n = logits.dim(0), k = logits.dim(1);
        long work = scratch.ensure(KernelLib.bnnas_cross_entropy_work_bytes(n));
        Check.kernel(KernelLib.bnnas_cross_entropy(ptr(logits), ptr(uploadLabels(labels)), n, k, smoothing, ptr(dlogits), ptr(loss), ptr(work),
                STREAM), "cross_entropy");
    }

    @Override
    public void countCorrect(Tensor logits, int[] labels, Tensor count) {
        Check.kernel(KernelLib.bnnas_count_correct(ptr(logits), ptr(uploadLabels(labels)), logits.dim(0), logits.dim(1), ptr(count), STREAM),
                "count_correct");
    }

    /**
     * The labels in device memory. One buffer serves every call: the upload is ordered after the
     * kernels that read the previous labels, on the one stream.
     */
    private long uploadLabels(int[] labels) {
        long device = this.labels.ensure(Math.max(4L, 4L * labels.length));
        uploads.ints(labels, device);
        return device;
    }

    // ---- reductions and updates --------------------------------------------------------------

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
        long device = uploadTable(table);
        long out = scratch.ensure(8L * n);
        Check.kernel(KernelLib.bnnas_bn_indicator_table(ptr(device), ptr(device + 8L * n), n, ptr(out), STREAM), "bn_indicator_table");
        try (DoublePointer host = new DoublePointer(n)) {
            memory.toHost(out, host, 8L * n, "the BN indicator table");
            double[] result = new double[n];
            host.get(result);
            return result;
        }
    }

    /** A multi-tensor kernel's table of addresses and sizes, in device memory (one buffer, as for the labels). */
    private long uploadTable(long[] table) {
        long device = tables.ensure(8L * table.length);
        uploads.longs(table, device);
        return device;
    }

    @Override
    public void clampInPlace(Tensor x, float limit) {
        Check.kernel(KernelLib.bnnas_clamp_in_place(ptr(x), limit, x.size(), STREAM), "clamp_in_place");
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor buf, boolean firstStep, float lr, float momentum, float weightDecay, boolean nesterov) {
        Check.kernel(KernelLib.bnnas_sgd_step(ptr(param), ptr(grad), ptr(buf), param.size(), firstStep ? 1 : 0, lr, momentum, weightDecay,
                nesterov ? 1 : 0, STREAM), "sgd_step");
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
        long device = uploadTable(table);
        Check.kernel(KernelLib.bnnas_sgd_step_flat(ptr(device), ptr(device + 8L * n), bufs == null ? null : ptr(device + 16L * n),
                ptr(device + 24L * n), n, maxSize, 0, lr, momentum, weightDecay, nesterov ? 1 : 0, STREAM), "sgd_step_flat");
    }
}
