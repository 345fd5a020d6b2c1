// GradClipTest: clipping by value and by global norm, and that parameters without a gradient are skipped.
package org.bnnas.engine.optim;

import static org.bnnas.engine.optim.OptimTestSupport.assertValues;
import static org.bnnas.engine.optim.OptimTestSupport.param;
import static org.bnnas.engine.optim.OptimTestSupport.setGrad;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void clipByNormScalesAllGradientsTogether() {
        try (Parameter a = param(0f, 0f); Parameter b = param(new float[] {0f}, 1, 1, 1, 1); Parameter noGrad = param(9f)) {
            setGrad(a, 3f, 0f);
            setGrad(b, 4f);
            double total = GradClip.clipByNorm(List.of(a, b, noGrad), 1.0);
            assertEquals(5.0, total, 1e-9); // sqrt(3^2 + 4^2), noGrad skipped
            double scale = 1.0 / (5.0 + 1e-6);
            assertValues(new double[] {3 * scale, 0}, a.grad(), 1e-7);
            assertValues(new double[] {4 * scale}, b.grad(), 1e-7);
            assertNull(noGrad.grad());
            // The clipped gradients now have norm just under 1.
            assertEquals(1.0, GradClip.clipByNorm(List.of(a, b), 1.0), 1e-6);
        }
    }

    @Test
    void clipByNormLeavesSmallGradientsAlone() {
        try (Parameter a = param(0f, 0f); Parameter b = param(0f)) {
            setGrad(a, 3f, 0f);
            setGrad(b, 4f);
            assertEquals(5.0, GradClip.clipByNorm(List.of(a, b), 10.0), 1e-9);
            assertArrayEquals(new float[] {3f, 0f}, a.grad().toArray());
            assertArrayEquals(new float[] {4f}, b.grad().toArray());
            assertEquals(0.0, GradClip.clipByNorm(List.of(), 1.0));
        }
    }

    @Test
    void clipByNormReportsNonFiniteNormWithoutTouchingGradients() {
        try (Parameter a = param(0f, 0f)) {
            setGrad(a, Float.NaN, 1f);
            assertTrue(Double.isNaN(GradClip.clipByNorm(List.of(a), 1.0)));
            assertEquals(1f, a.grad().toArray()[1]);
        }
    }

    @Test
    void negativeLimitsAreRefused() {
        try (Parameter a = param(0f)) {
            assertThrows(IllegalArgumentException.class, () -> GradClip.clipByValue(List.of(a), -1f));
            assertThrows(IllegalArgumentException.class, () -> GradClip.clipByNorm(List.of(a), -1.0));
        }
    }
}
