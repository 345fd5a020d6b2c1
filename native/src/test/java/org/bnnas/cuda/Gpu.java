// Gpu: for the CUDA tests: a JUnit condition that skips them, with the reason, where the CUDA
// backend cannot run, and the selection of that backend.
package org.bnnas.cuda;

import org.bnnas.engine.backend.Backends;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Use as {@code @ExtendWith(Gpu.class)} on a test class. */
public final class Gpu implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String why = new CudaProvider().unavailableReason();
        return why == null ? ConditionEvaluationResult.enabled("the CUDA backend can run here")
                : ConditionEvaluationResult.disabled("no CUDA backend here: " + why);
    }

    /** Selects the CUDA backend, TF32 off, so results compare with the CPU's at float32 precision. */
    public static CudaBackend select() {
        CudaBackend b = new CudaBackend(false);
        Backends.use(b);
        return b;
    }

    public static void release() {
        Backends.use(Backends.cpu());
    }
}
