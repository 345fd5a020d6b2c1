// GradClipTest: clipping by value, and that parameters without a gradient are skipped.
package org.bnnas.engine.optim;

import static org.bnnas.engine.optim.OptimTestSupport.param;
import static org.bnnas.engine.optim.OptimTestSupport.setGrad;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.bnnas.engine.nn.Parameter;
import org.junit.jupiter.api.Test;

class GradClipTest {
    @Test
    void clipByValueClampsEachElement() {
        try (Parameter a = param(0f, 0f, 0f); Parameter noGrad = param(1f)) {
            setGrad(a, -3f, 0.5f, 2f);
            GradClip.clipByValue(List.of(a, noGrad), 1f);
            assertArrayEquals(new float[] {-1f, 0.5f, 1f}, a.grad().toArray());
            assertNull(noGrad.grad(), "no gradient is created for a parameter that had none");
            assertArrayEquals(new float[] {0f, 0f, 0f}, a.data().toArray(), "values are not touched");
        }
    }

    @Test
    void aNegativeLimitIsRefused() {
        try (Parameter a = param(0f)) {
            assertThrows(IllegalArgumentException.class, () -> GradClip.clipByValue(List.of(a), -1f));
        }
    }
}
