// BatchNormPlans: cuDNN descriptors for the batch norms of each input shape, built once and cached:
// the input (NHWC, the engine's layout) and the per-channel scale, bias, mean and variance.
package org.bnnas.cuda;

import static org.bytedeco.cuda.global.cudnn.CUDNN_BATCHNORM_SPATIAL_PERSISTENT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DATA_FLOAT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_NHWC;
import static org.bytedeco.cuda.global.cudnn.cudnnCreateTensorDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnDeriveBNTensorDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnSetTensor4dDescriptor;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bnnas.engine.tensor.Tensor;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;

final class BatchNormPlans {
    /**
     * Training runs cuDNN's persistent spatial mode, its fast path for NHWC (PyTorch's choice for
     * channels-last training too); inference has only the plain spatial mode. The per-channel
     * descriptor is the same for both.
     */
    static final int TRAINING_MODE = CUDNN_BATCHNORM_SPATIAL_PERSISTENT;

    /** x (N, C, H, W) in NHWC, and the (1, C, 1, 1) descriptor of gamma, beta and the statistics. */
    record Plan(cudnnTensorStruct x, cudnnTensorStruct perChannel) {}

    private final Map<List<Integer>, Plan> plans = new HashMap<>();

    Plan plan(Tensor x) {
        List<Integer> key = List.of(x.dim(0), x.dim(1), x.dim(2), x.dim(3));
        Plan p = plans.get(key);
        if (p == null) {
            String shape = "batch norm of " + x.shape();
            cudnnTensorStruct xd = new cudnnTensorStruct(), cd = new cudnnTensorStruct();
            Check.cudnn(cudnnCreateTensorDescriptor(xd), "cudnnCreateTensorDescriptor " + shape);
            Check.cudnn(cudnnCreateTensorDescriptor(cd), "cudnnCreateTensorDescriptor " + shape);
            Check.cudnn(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, x.dim(0), x.dim(1), x.dim(2), x.dim(3)),
                    "cudnnSetTensor4dDescriptor " + shape);
            Check.cudnn(cudnnDeriveBNTensorDescriptor(cd, xd, TRAINING_MODE), "cudnnDeriveBNTensorDescriptor " + shape);
            p = new Plan(xd, cd);
            plans.put(key, p);
        }
        return p;
    }
}
