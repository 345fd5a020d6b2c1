// ConvPlans: cuDNN descriptors and algorithms for each convolution shape, built once and cached.
// The algorithms are the fastest deterministic ones that cudnnFind* measures on first use of a
// shape (PyTorch's cudnn.benchmark, as the peer sets it, restricted to deterministic algorithms:
// within a run a convolution always gives the same bits; another run may time the candidates
// differently, choose another algorithm and round differently).
package org.bnnas.cuda;

import static org.bytedeco.cuda.global.cudnn.CUDNN_CROSS_CORRELATION;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DATA_FLOAT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DETERMINISTIC;
import static org.bytedeco.cuda.global.cudnn.CUDNN_FMA_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_NHWC;
import static org.bytedeco.cuda.global.cudnn.cudnnCreateConvolutionDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnCreateFilterDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnCreateTensorDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnFindConvolutionBackwardDataAlgorithm;
import static org.bytedeco.cuda.global.cudnn.cudnnFindConvolutionBackwardFilterAlgorithm;
import static org.bytedeco.cuda.global.cudnn.cudnnFindConvolutionForwardAlgorithm;
import static org.bytedeco.cuda.global.cudnn.cudnnSetConvolution2dDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnSetConvolutionGroupCount;
import static org.bytedeco.cuda.global.cudnn.cudnnSetConvolutionMathType;
import static org.bytedeco.cuda.global.cudnn.cudnnSetFilter4dDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnSetTensor4dDescriptor;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bnnas.engine.backend.ConvSpec;
import org.bnnas.engine.tensor.Tensor;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.IntPointer;

final class ConvPlans {
    /** How many candidates cudnnFind* may return. */
    private static final int CANDIDATES = 16;

    /** Descriptors of x (N, Ci, H, W), w (Co, Ci/g, k, k) and y (N, Co, OH, OW), all NHWC, and the chosen algorithms. */
    static final class Plan {
        final String shape;
        final cudnnTensorStruct x = new cudnnTensorStruct(), y = new cudnnTensorStruct();
        final cudnnFilterStruct w = new cudnnFilterStruct();
        private final cudnnConvolutionStruct conv = new cudnnConvolutionStruct();
        int forwardAlgo = -1, backwardDataAlgo = -1, backwardFilterAlgo = -1;
        /** The math type cudnnFind* measured each algorithm with; the descriptor must carry it when the algorithm runs. */
        private int forwardMath, backwardDataMath, backwardFilterMath, descriptorMath = -1;

        Plan(String shape) {
            this.shape = shape;
        }

        /** The convolution descriptor set up for the forward algorithm. */
        cudnnConvolutionStruct forward() {
            return withMath(forwardMath);
        }

        /** The convolution descriptor set up for the backward-data algorithm. */
        cudnnConvolutionStruct backwardData() {
            return withMath(backwardDataMath);
        }

        /** The convolution descriptor set up for the backward-filter algorithm. */
        cudnnConvolutionStruct backwardFilter() {
            return withMath(backwardFilterMath);
        }

        private cudnnConvolutionStruct withMath(int math) {
            if (math != descriptorMath) { // a host-side setting: no GPU work, no wait
                Check.cudnn(cudnnSetConvolutionMathType(conv, math), "cudnnSetConvolutionMathType " + shape);
                descriptorMath = math;
            }
            return conv;
        }

        @Override
        public String toString() {
            return shape;
        }
    }

    private final cudnnContext cudnn;
    private final boolean tf32;
    private final Scratch scratch;
    private final Map<List<Integer>, Plan> plans = new HashMap<>();

    ConvPlans(cudnnContext cudnn, boolean tf32, Scratch scratch) {
        this.cudnn = cudnn;
        this.tf32 = tf32;
        this.scratch = scratch;
    }

    /** The plan for this geometry, with all three algorithms chosen; the workspace is grown to fit them. */
    Plan plan(Tensor x, Tensor w, Tensor y, ConvSpec s) {
        List<Integer> key = List.of(x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), w.dim(1), s.kernel(), s.stride(), s.padding(), s.groups());
        Plan p = plans.get(key);
        if (p == null) {
            p = build(x, w, y, s);
            plans.put(key, p);
        }
        return p;
    }

    /**
     * Whether a measured candidate may be chosen: it ran, it is deterministic, and without TF32 it
     * used FMA math only (default math permits TF32 on Ampere and later). cudnnFind* returns
     * each candidate with the math type it ran with, which the descriptor must carry when the
     * algorithm is used (PyTorch's note "behavior of cudnnFind and cudnnGet").
     */
    private boolean usable(int status, int determinism, int math) {
        return status == CUDNN_STATUS_SUCCESS && determinism == CUDNN_DETERMINISTIC && (tf32 || math == CUDNN_FMA_MATH);
    }

    private Plan build(Tensor x, Tensor w, Tensor y, ConvSpec s) {
        Plan p = new Plan("x " + x.shape() + " w " + w.shape() + " y " + y.shape() + " stride " + s.stride() + " pad " + s.padding()
                + " groups " + s.groups());
        Check.cudnn(cudnnCreateTensorDescriptor(p.x), "cudnnCreateTensorDescriptor");
        Check.cudnn(cudnnCreateTensorDescriptor(p.y), "cudnnCreateTensorDescriptor");
        Check.cudnn(cudnnCreateFilterDescriptor(p.w), "cudnnCreateFilterDescriptor");
        Check.cudnn(cudnnCreateConvolutionDescriptor(p.conv), "cudnnCreateConvolutionDescriptor");
        Check.cudnn(cudnnSetTensor4dDescriptor(p.x, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, x.dim(0), x.dim(1), x.dim(2), x.dim(3)), "cudnnSetTensor4dDescriptor " + p);
        Check.cudnn(cudnnSetTensor4dDescriptor(p.y, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, y.dim(0), y.dim(1), y.dim(2), y.dim(3)), "cudnnSetTensor4dDescriptor " + p);
        // The engine stores a weight (O, I, kH, kW) as (O, kH, kW, I): cuDNN's NHWC filter layout.
        Check.cudnn(cudnnSetFilter4dDescriptor(p.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC, w.dim(0), w.dim(1), w.dim(2), w.dim(3)), "cudnnSetFilter4dDescriptor " + p);
        Check.cudnn(cudnnSetConvolution2dDescriptor(p.conv, s.padding(), s.padding(), s.stride(), s.stride(), 1, 1, CUDNN_CROSS_CORRELATION,
                CUDNN_DATA_FLOAT), "cudnnSetConvolution2dDescriptor " + p);
        Check.cudnn(cudnnSetConvolutionGroupCount(p.conv, s.groups()), "cudnnSetConvolutionGroupCount " + p);
        // FMA math keeps float32 exact enough to compare with the CPU; default math lets cuDNN use TF32 as PyTorch does.
        Check.cudnn(cudnnSetConvolutionMathType(p.conv, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH), "cudnnSetConvolutionMathType " + p);

        long workspace = 0;
        try (IntPointer found = new IntPointer(1)) {
            try (cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(CANDIDATES)) {
                Check.cudnn(cudnnFindConvolutionForwardAlgorithm(cudnn, p.x, p.w, p.conv, p.y, CANDIDATES, found, perf), "cudnnFindConvolutionForwardAlgorithm " + p);
                for (int i = 0; i < found.get(0) && p.forwardAlgo < 0; i++) {
                    perf.position(i);
                    if (usable(perf.status(), perf.determinism(), perf.mathType())) {
                        p.forwardAlgo = perf.algo();
                        p.forwardMath = perf.mathType();
                        workspace = Math.max(workspace, perf.memory());
                    }
                }
            }
            try (cudnnConvolutionBwdDataAlgoPerf_t perf = new cudnnConvolutionBwdDataAlgoPerf_t(CANDIDATES)) {
                Check.cudnn(cudnnFindConvolutionBackwardDataAlgorithm(cudnn, p.w, p.y, p.conv, p.x, CANDIDATES, found, perf),
                        "cudnnFindConvolutionBackwardDataAlgorithm " + p);
                for (int i = 0; i < found.get(0) && p.backwardDataAlgo < 0; i++) {
                    perf.position(i);
                    if (usable(perf.status(), perf.determinism(), perf.mathType())) {
                        p.backwardDataAlgo = perf.algo();
                        p.backwardDataMath = perf.mathType();
                        workspace = Math.max(workspace, perf.memory());
                    }
                }
            }
            try (cudnnConvolutionBwdFilterAlgoPerf_t perf = new cudnnConvolutionBwdFilterAlgoPerf_t(CANDIDATES)) {
                Check.cudnn(cudnnFindConvolutionBackwardFilterAlgorithm(cudnn, p.x, p.y, p.conv, p.w, CANDIDATES, found, perf),
                        "cudnnFindConvolutionBackwardFilterAlgorithm " + p);
                for (int i = 0; i < found.get(0) && p.backwardFilterAlgo < 0; i++) {
                    perf.position(i);
                    if (usable(perf.status(), perf.determinism(), perf.mathType())) {
                        p.backwardFilterAlgo = perf.algo();
                        p.backwardFilterMath = perf.mathType();
                        workspace = Math.max(workspace, perf.memory());
                    }
                }
            }
        }
        // cudnnFind* may leave the error of an attempt that failed (out of memory for a candidate) as the runtime's last error.
        Check.clearLastError();
        if (p.forwardAlgo < 0 || p.backwardDataAlgo < 0 || p.backwardFilterAlgo < 0) {
            throw new Check.CudaException("cuDNN offers no deterministic algorithm for the convolution " + p);
        }
        scratch.ensure(Math.max(1, workspace));
        return p;
    }
}
