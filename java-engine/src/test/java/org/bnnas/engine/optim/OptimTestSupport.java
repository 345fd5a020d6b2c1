// OptimTestSupport: small helpers shared by the optimizer tests (parameters, hand-set gradients).
package org.bnnas.engine.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Tensor;

final class OptimTestSupport {
    private OptimTestSupport() {}

    static Parameter param(float[] values, int... dims) {
        return new Parameter(Tensor.fromArray(values, dims));
    }

    static Parameter param(float... values) {
        return param(values, values.length);
    }

    /** Replaces p's gradient by {@code values} (logical order), as a backward pass would leave it. */
    static void setGrad(Parameter p, float... values) {
        p.zeroGrad(); // frees the previous gradient
        p.data().setGrad(MemoryScope.detach(Tensor.fromArray(values, p.data().shape().dims())));
    }

    static void assertValues(double[] expected, Tensor t, double tol) {
        float[] actual = t.toArray();
        assertEquals(expected.length, actual.length, "element count");
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], tol, "element " + i);
    }
}
