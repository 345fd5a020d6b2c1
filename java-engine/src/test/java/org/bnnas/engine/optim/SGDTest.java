// SGDTest: the SGD update against hand-computed values (momentum, weight decay, Nesterov, groups)
// and the supernet rule that a parameter without a gradient is not touched.
package org.bnnas.engine.optim;

import static org.bnnas.engine.optim.OptimTestSupport.assertValues;
import static org.bnnas.engine.optim.OptimTestSupport.param;
import static org.bnnas.engine.optim.OptimTestSupport.setGrad;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.bnnas.engine.autograd.Autograd;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

class SGDTest {
    private static final double TOL = 1e-6;

    @Test
    void momentumAndWeightDecayOverTwoSteps() {
        try (Parameter p = param(1f, -2f);
             SGD sgd = new SGD(ParamGroup.of(List.of(p), 0.1).momentum(0.9).weightDecay(1e-4))) {
            // Step 1: g = grad + 1e-4 * p = [0.5 + 0.0001, 0.25 - 0.0002] = [0.5001, 0.2498];
            // first step: buf = g; p = p - 0.1 * buf = [0.94999, -2.02498].
            setGrad(p, 0.5f, 0.25f);
            sgd.step();
            assertValues(new double[] {0.94999, -2.02498}, p.data(), TOL);
            assertValues(new double[] {0.5001, 0.2498}, sgd.momentumBuffer(p), TOL);

            // Step 2: g = [-0.1 + 1e-4 * 0.94999, 0.3 + 1e-4 * -2.02498] = [-0.099905001, 0.299797502];
            // buf = 0.9 * [0.5001, 0.2498] + g = [0.350184999, 0.524617502];
            // p = [0.94999, -2.02498] - 0.1 * buf = [0.9149715001, -2.0774417502].
            setGrad(p, -0.1f, 0.3f);
            sgd.step();
            assertValues(new double[] {0.350184999, 0.524617502}, sgd.momentumBuffer(p), TOL);
            assertValues(new double[] {0.9149715001, -2.0774417502}, p.data(), TOL);
            assertEquals(2, sgd.steps(p));
        }
    }

    @Test
    void plainSgdKeepsNoBuffer() {
        try (Parameter p = param(1f, 2f); SGD sgd = new SGD(ParamGroup.of(List.of(p), 0.5))) {
            setGrad(p, 0.2f, -0.4f);
            sgd.step();
            assertValues(new double[] {0.9, 2.2}, p.data(), TOL); // p - 0.5 * grad
            assertNull(sgd.momentumBuffer(p));
        }
    }

    @Test
    void nesterov() {
        try (Parameter p = param(1f);
             SGD sgd = new SGD(ParamGroup.of(List.of(p), 0.1).momentum(0.9).nesterov(true))) {
            // Step 1: g = 0.5, buf = 0.5, update = g + 0.9 * buf = 0.95, p = 1 - 0.095 = 0.905.
            setGrad(p, 0.5f);
            sgd.step();
            assertValues(new double[] {0.905}, p.data(), TOL);
            // Step 2: g = 0.5, buf = 0.9 * 0.5 + 0.5 = 0.95, update = 0.5 + 0.9 * 0.95 = 1.355, p = 0.905 - 0.1355.
            setGrad(p, 0.5f);
            sgd.step();
            assertValues(new double[] {0.7695}, p.data(), TOL);
            assertValues(new double[] {0.95}, sgd.momentumBuffer(p), TOL);
        }
    }

    @Test
    void nesterovNeedsMomentum() {
        try (Parameter p = param(1f)) {
            assertThrows(IllegalArgumentException.class, () -> ParamGroup.of(List.of(p), 0.1).nesterov(true));
        }
    }

    @Test
    void eachGroupUsesItsOwnSettings() {
        try (Parameter a = param(1f, 2f); Parameter b = param(2f);
             SGD sgd = new SGD(ParamGroup.of(List.of(a), 0.1),
                               ParamGroup.of(List.of(b), 0.01).weightDecay(0.5))) {
            setGrad(a, 1f, 1f);
            setGrad(b, 1f);
            sgd.step();
            assertValues(new double[] {0.9, 1.9}, a.data(), TOL); // 1 - 0.1 * 1, 2 - 0.1 * 1: no decay in group 0
            assertValues(new double[] {1.98}, b.data(), TOL);     // g = 1 + 0.5 * 2 = 2; 2 - 0.01 * 2

            // The lr of one group changes alone; initialLr stays.
            sgd.groups().get(1).setLr(0.1);
            assertEquals(0.01, sgd.groups().get(1).initialLr());
            assertEquals(0.1, sgd.groups().get(0).lr());
            setGrad(a, 0f, 0f);
            setGrad(b, 0f);
            sgd.step();
            assertValues(new double[] {0.9, 1.9}, a.data(), TOL);
            assertValues(new double[] {1.98 - 0.1 * 0.5 * 1.98}, b.data(), TOL); // pure decay: g = 0.5 * 1.98
        }
    }

    @Test
    void parameterInTwoGroupsIsRefused() {
        try (Parameter p = param(1f)) {
            assertThrows(IllegalArgumentException.class,
                    () -> new SGD(ParamGroup.of(List.of(p), 0.1), ParamGroup.of(List.of(p), 0.2)));
        }
    }

    @Test
    void noGradientNoUpdate() {
        try (Parameter a = param(3f, -1f); Parameter b = param(1f); Parameter never = param(5f, 6f);
             SGD sgd = new SGD(ParamGroup.of(List.of(a, b, never), 0.1).momentum(0.9).weightDecay(0.1))) {
            // Step 1: a and b have gradients; b: g = 1 + 0.1 * 1 = 1.1, buf = 1.1, p = 1 - 0.11 = 0.89.
            setGrad(a, 1f, 1f);
            setGrad(b, 1f);
            sgd.step();
            sgd.zeroGrad();
            assertValues(new double[] {0.89}, b.data(), TOL);
            float[] bAfterStep1 = b.data().toArray();
            float[] bufAfterStep1 = sgd.momentumBuffer(b).toArray();
            long bufVersion = sgd.momentumBuffer(b).version();

            // Steps 2 and 3: only a has a gradient. b must not decay or coast on its momentum.
            for (int i = 0; i < 2; i++) {
                float[] aBefore = a.data().toArray();
                setGrad(a, 1f, 1f);
                sgd.step();
                sgd.zeroGrad();
                assertTrue(a.data().toArray()[0] != aBefore[0], "a moves");
                assertArrayEquals(bAfterStep1, b.data().toArray(), "b keeps its exact values");
                assertArrayEquals(bufAfterStep1, sgd.momentumBuffer(b).toArray(), "b's buffer is unchanged");
                assertEquals(bufVersion, sgd.momentumBuffer(b).version(), "b's buffer is not written");
            }
            assertArrayEquals(new float[] {5f, 6f}, never.data().toArray());
            assertNull(sgd.momentumBuffer(never), "no buffer for a parameter that never had a gradient");
            assertEquals(3, sgd.steps(a));
            assertEquals(1, sgd.steps(b));
            assertEquals(0, sgd.steps(never));

            // Step 4: b has a gradient again; its momentum continues from step 1 (not a first step):
            // g = 1 + 0.1 * 0.89 = 1.089, buf = 0.9 * 1.1 + 1.089 = 2.079, p = 0.89 - 0.2079 = 0.6821.
            setGrad(b, 1f);
            sgd.step();
            assertValues(new double[] {2.079}, sgd.momentumBuffer(b), TOL);
            assertValues(new double[] {0.6821}, b.data(), TOL);
        }
    }

    @Test
    void frozenParameterIsUntouched() {
        try (Parameter frozen = param(1f, 2f); Parameter live = param(1f);
             SGD sgd = new SGD(ParamGroup.of(List.of(frozen, live), 0.1).momentum(0.9).weightDecay(0.1))) {
            frozen.requiresGrad(false);
            setGrad(frozen, 1f, 1f); // even a stale gradient must not move it
            setGrad(live, 1f);
            sgd.step();
            assertArrayEquals(new float[] {1f, 2f}, frozen.data().toArray());
            assertNull(sgd.momentumBuffer(frozen));
            assertEquals(0, sgd.steps(frozen));
            assertValues(new double[] {1 - 0.1 * 1.1}, live.data(), TOL);
        }
    }

    @Test
    void zeroGradDropsEveryGradient() {
        try (Parameter a = param(1f); Parameter b = param(2f);
             SGD sgd = new SGD(ParamGroup.of(List.of(a), 0.1), ParamGroup.of(List.of(b), 0.1))) {
            setGrad(a, 1f);
            setGrad(b, 1f);
            sgd.zeroGrad();
            assertNull(a.grad());
            assertNull(b.grad());
            sgd.step(); // nothing to do
            assertArrayEquals(new float[] {1f}, a.data().toArray());
        }
    }

    @Test
    void stepsWithRealAutogradAndBuffersOutliveTheScope() {
        // Linear layer w (2, 3), bias b; a third parameter is not part of the graph (an op not sampled).
        try (Parameter w = param(new float[] {0.1f, -0.2f, 0.3f, 0.0f, 0.5f, -0.1f}, 2, 3);
             Parameter b = param(0.05f, -0.05f);
             Parameter unused = param(7f);
             SGD sgd = new SGD(ParamGroup.of(List.of(w, b, unused), 0.5).momentum(0.9))) {
            float[] w0 = w.data().toArray();
            float[] expectedW = new float[w0.length];
            try (MemoryScope step = MemoryScope.open()) {
                Tensor x = Tensor.fromArray(new float[] {1f, 2f, -1f, 0.5f, 0f, 1f}, 2, 3);
                Tensor loss = Ops.crossEntropy(Ops.linear(x, w.data(), b.data()), new int[] {0, 1}, 0f);
                Autograd.backward(loss);
                assertNotNull(w.grad());
                assertNull(unused.grad());
                float[] gw = w.grad().toArray();
                for (int i = 0; i < w0.length; i++) expectedW[i] = w0[i] - 0.5f * gw[i]; // first step: buf = grad
                sgd.step();
                sgd.zeroGrad();
            }
            assertValues(toDouble(expectedW), w.data(), TOL);
            assertArrayEquals(new float[] {7f}, unused.data().toArray());
            // The buffer was created inside the scope but belongs to the optimizer.
            Tensor buf = sgd.momentumBuffer(w);
            assertTrue(!buf.isClosed());
            assertValues(toDouble(new float[] {
                    (w0[0] - expectedW[0]) / 0.5f, (w0[1] - expectedW[1]) / 0.5f, (w0[2] - expectedW[2]) / 0.5f,
                    (w0[3] - expectedW[3]) / 0.5f, (w0[4] - expectedW[4]) / 0.5f, (w0[5] - expectedW[5]) / 0.5f}), buf, 1e-5);
        }
    }

    @Test
    void closeFreesBuffers() {
        try (Parameter p = param(1f)) {
            SGD sgd = new SGD(ParamGroup.of(List.of(p), 0.1).momentum(0.9));
            setGrad(p, 1f);
            sgd.step();
            Tensor buf = sgd.momentumBuffer(p);
            sgd.close();
            assertTrue(buf.isClosed());
            assertTrue(!p.data().isClosed(), "parameters belong to their module");
            assertThrows(IllegalStateException.class, sgd::step);
            sgd.close(); // twice is harmless
        }
    }

    @Test
    void setLrFactorScalesInitialLr() {
        try (Parameter a = param(1f); Parameter b = param(1f);
             SGD sgd = new SGD(ParamGroup.of(List.of(a), 0.1), ParamGroup.of(List.of(b), 0.02))) {
            sgd.setLrFactor(0.5);
            sgd.setLrFactor(0.25); // a factor of the initial lr, not of the current one
            assertEquals(0.025, sgd.groups().get(0).lr(), 1e-12);
            assertEquals(0.005, sgd.groups().get(1).lr(), 1e-12);
            assertEquals(0.1, sgd.groups().get(0).initialLr());
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }
}
