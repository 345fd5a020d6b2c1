// ConvPlans: cuDNN descriptors and algorithms for each convolution shape, built once and cached.
// Each direction's algorithm (forward, backward data, backward filter) is the fastest
// deterministic one that cudnnFind* measures when that direction first runs for the shape
// (PyTorch's cudnn.benchmark, as the peer sets it, restricted to deterministic algorithms: within
// a run a convolution always gives the same bits; another run may time the candidates
// differently, choose another algorithm and round differently). A direction that never runs is
// never measured: BN-only training has no backward filter, evaluation no backward at all.
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
import java.util.function.IntFunction;
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

    /** The three convolutions of a shape. */
    enum Direction { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    /** Descriptors of x (N, Ci, H, W), w (Co, Ci/g, k, k) and y (N, Co, OH, OW), all NHWC, and the algorithms chosen so far. */
    static final class Plan {
        final String shape;
        final cudnnTensorStruct x = new cudnnTensorStruct(), y = new cudnnTensorStruct();
        final cudnnFilterStruct w = new cudnnFilterStruct();
        final cudnnConvolutionStruct conv = new cudnnConvolutionStruct();
        /** Per direction: the algorithm (-1 until measured) and the math type cudnnFind* measured it with. */
        private final int[] algo = {-1, -1, -1}, math = new int[3];
        private int descriptorMath = -1;

        Plan(String shape) {
            this.shape = shape;
        }

        @Override
        public String toString() {
            return shape;
        }
    }

    /** One measured candidate of cudnnFind*. */
    private record Candidate(int status, int determinism, int math, int algo, long memory) {}

    private final cudnnContext cudnn;
    private final boolean tf32;
    private final Scratch scratch;
    private final Map<List<Integer>, Plan> plans = new HashMap<>();

    ConvPlans(cudnnContext cudnn, boolean tf32, Scratch scratch) {
        this.cudnn = cudnn;
        this.tf32 = tf32;
        this.scratch = scratch;
    }

    /** The plan for this geometry (descriptors only; algorithms come with {@link #algorithm}). */
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
     * The algorithm for direction {@code d} of {@code p}, measured on its first use (the workspace
     * is grown to fit it then), with p's descriptor set to the math type it was measured with:
     * cudnnFind* returns each candidate with that math type, which the descriptor must carry when
     * the algorithm runs (PyTorch's note "behavior of cudnnFind and cudnnGet"). Setting it is a
     * host-side change: no GPU work, no wait.
     */
    int algorithm(Plan p, Direction d) {
        int i = d.ordinal();
        if (p.algo[i] < 0) choose(p, d);
        setMath(p, p.math[i]);
        return p.algo[i];
    }

    /**
     * Whether a measured candidate may be chosen: it ran, it is deterministic, and without TF32 it
     * used FMA math only (default math permits TF32 on Ampere and later).
     */
    private boolean usable(Candidate c) {
        return c.status() == CUDNN_STATUS_SUCCESS && c.determinism() == CUDNN_DETERMINISTIC && (tf32 || c.math() == CUDNN_FMA_MATH);
    }

    private void choose(Plan p, Direction d) {
        // Measure with the math the backend allows: default math lets cuDNN try TF32 as PyTorch does, FMA math keeps
        // float32 exact enough to compare with the CPU.
        setMath(p, tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH);
        Candidate chosen = null;
        try (IntPointer found = new IntPointer(1)) {
            switch (d) {
                case FORWARD -> {
                    try (cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(CANDIDATES)) {
                        Check.cudnn(cudnnFindConvolutionForwardAlgorithm(cudnn, p.x, p.w, p.conv, p.y, CANDIDATES, found, perf),
                                "cudnnFindConvolutionForwardAlgorithm " + p);
                        chosen = fastestUsable(found.get(0), k -> {
                            perf.position(k);
                            return new Candidate(perf.status(), perf.determinism(), perf.mathType(), perf.algo(), perf.memory());
                        });
                    }
                }
                case BACKWARD_DATA -> {
                    try (cudnnConvolutionBwdDataAlgoPerf_t perf = new cudnnConvolutionBwdDataAlgoPerf_t(CANDIDATES)) {
                        Check.cudnn(cudnnFindConvolutionBackwardDataAlgorithm(cudnn, p.w, p.y, p.conv, p.x, CANDIDATES, found, perf),
                                "cudnnFindConvolutionBackwardDataAlgorithm " + p);
                        chosen = fastestUsable(found.get(0), k -> {
                            perf.position(k);
                            return new Candidate(perf.status(), perf.determinism(), perf.mathType(), perf.algo(), perf.memory());
                        });
                    }
                }
                case BACKWARD_FILTER -> {
                    try (cudnnConvolutionBwdFilterAlgoPerf_t perf = new cudnnConvolutionBwdFilterAlgoPerf_t(CANDIDATES)) {
                        Check.cudnn(cudnnFindConvolutionBackwardFilterAlgorithm(cudnn, p.x, p.y, p.conv, p.w, CANDIDATES, found, perf),
                                "cudnnFindConvolutionBackwardFilterAlgorithm " + p);
                        chosen = fastestUsable(found.get(0), k -> {
                            perf.position(k);
                            return new Candidate(perf.status(), perf.determinism(), perf.mathType(), perf.algo(), perf.memory());
                        });
                    }
                }
            }
        }
        // cudnnFind* may leave the error of an attempt that failed (out of memory for a candidate) as the runtime's last error.
        Check.clearLastError();
        if (chosen == null) throw new Check.CudaException("cuDNN offers no deterministic algorithm for the convolution " + d + " " + p);
        p.algo[d.ordinal()] = chosen.algo();
        p.math[d.ordinal()] = chosen.math();
        scratch.ensure(Math.max(1, chosen.memory()));
    }

    /** The first usable of {@code found} candidates (cudnnFind* sorts them fastest first), or null. */
    private Candidate fastestUsable(int found, IntFunction<Candidate> candidate) {
        for (int k = 0; k < found; k++) {
            Candidate c = candidate.apply(k);
            if (usable(c)) return c;
        }
        return null;
    }

    private void setMath(Plan p, int math) {
        if (math == p.descriptorMath) return;
        Check.cudnn(cudnnSetConvolutionMathType(p.conv, math), "cudnnSetConvolutionMathType " + p);
        p.descriptorMath = math;
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
        return p;
    }
}
