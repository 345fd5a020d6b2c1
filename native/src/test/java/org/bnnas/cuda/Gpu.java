// Gpu: for the CUDA tests: a JUnit extension that skips a test class, with the reason, where the
// CUDA backend cannot run, and otherwise selects that backend for the class and the CPU after it.
package org.bnnas.cuda;

import org.bnnas.engine.backend.Backends;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Use as {@code @ExtendWith(Gpu.class)} on a test class; {@link #backend} is the backend its tests run on. */
public final class Gpu implements ExecutionCondition, BeforeAllCallback, AfterAllCallback {
    private static CudaBackend backend;

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String why = new CudaProvider().unavailableReason();
        return why == null ? ConditionEvaluationResult.enabled("the CUDA backend can run here")
                : ConditionEvaluationResult.disabled("no CUDA backend here: " + why);
    }

    /** A new CUDA backend, TF32 off, so results compare with the CPU's at float32 precision. */
    @Override
    public void beforeAll(ExtensionContext context) {
        backend = new CudaBackend(false);
        Backends.use(backend);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Backends.use(Backends.cpu());
        backend = null;
    }

    /** The CUDA backend of the running test class. */
    public static CudaBackend backend() {
        return backend;
    }
}
