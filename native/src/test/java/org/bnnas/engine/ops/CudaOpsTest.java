// CudaOpsTest: the engine's whole op test suite (forward against float64, backward against finite
// differences) run again with the CUDA backend selected; skipped, with the reason, without a GPU.
package org.bnnas.engine.ops;

import org.bnnas.cuda.Gpu;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(Gpu.class)
class CudaOpsTest extends OpsTest {
}
