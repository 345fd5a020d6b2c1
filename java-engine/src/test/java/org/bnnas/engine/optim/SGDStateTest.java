// SGDStateTest: the optimizer state survives a stateDict / loadStateDict round trip, so that a
// resumed run takes exactly the steps the uninterrupted one would.
package org.bnnas.engine.optim;

import static org.bnnas.engine.optim.OptimTestSupport.param;
import static org.bnnas.engine.optim.OptimTestSupport.setGrad;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.nn.Parameter;
import org.junit.jupiter.api.Test;

class SGDStateTest {
    private static final float[] CONV = {1f, -1f, 2f, 0.5f}; // (1, 2, 1, 2): stored channels-last

    /** Parameters named as a module would name them. */
    private static Map<String, Parameter> params() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put("conv.weight", param(CONV.clone(), 1, 2, 1, 2));
        m.put("fc.bias", param(0.5f, -0.5f));
        m.put("unsampled.weight", param(3f));
        return m;
    }

    private static SGD optimizer(Map<String, Parameter> p) {
        return new SGD(ParamGroup.of(List.copyOf(p.values()), 0.1).momentum(0.9).weightDecay(1e-2));
    }

    @Test
    void roundTripResumesExactly() {
        Map<String, Parameter> run = params();
        Map<String, Parameter> resumed = params();
        try (SGD sgd = optimizer(run); SGD sgd2 = optimizer(resumed)) {
            // Two steps for the conv, one for the bias, none for the unsampled op.
            setGrad(run.get("conv.weight"), 0.1f, 0.2f, 0.3f, 0.4f);
            setGrad(run.get("fc.bias"), 1f, 2f);
            sgd.step();
            sgd.zeroGrad();
            setGrad(run.get("conv.weight"), -0.4f, 0.3f, -0.2f, 0.1f);
            sgd.step();
            sgd.zeroGrad();

            Map<String, TensorData> state = sgd.stateDict(SGD.namesOf(run));
            assertEquals(Set.of("conv.weight.steps", "conv.weight.momentum_buffer", "fc.bias.steps", "fc.bias.momentum_buffer"),
                    state.keySet());
            assertEquals(2, state.get("conv.weight.steps").longValue("steps"));
            assertEquals(1, state.get("fc.bias.steps").longValue("steps"));
            assertArrayEquals(new int[] {1, 2, 1, 2}, state.get("conv.weight.momentum_buffer").shape());
            // Logical (PyTorch) order, whatever the memory format.
            assertArrayEquals(sgd.momentumBuffer(run.get("conv.weight")).toArray(), state.get("conv.weight.momentum_buffer").floats());

            // Resume: copy the weights (as the model checkpoint would) and the optimizer state.
            for (String k : run.keySet()) resumed.get(k).data().copyFrom(run.get(k).data().toArray());
            sgd2.loadStateDict(state, SGD.namesOf(resumed));
            assertEquals(2, sgd2.steps(resumed.get("conv.weight")));
            assertNull(sgd2.momentumBuffer(resumed.get("unsampled.weight")));

            // The next step, now including the unsampled op's first gradient, is identical in both.
            float[][] grads = {{0.3f, 0.3f, -0.3f, 0.3f}, {-1f, 0.5f}, {2f}};
            int i = 0;
            for (String k : run.keySet()) {
                setGrad(run.get(k), grads[i]);
                setGrad(resumed.get(k), grads[i]);
                i++;
            }
            sgd.step();
            sgd2.step();
            for (String k : run.keySet()) {
                assertArrayEquals(run.get(k).data().toArray(), resumed.get(k).data().toArray(), k);
                assertArrayEquals(sgd.momentumBuffer(run.get(k)).toArray(), sgd2.momentumBuffer(resumed.get(k)).toArray(), k);
            }
        } finally {
            run.values().forEach(Parameter::close);
            resumed.values().forEach(Parameter::close);
        }
    }

    @Test
    void badStateIsRefusedAndChangesNothing() {
        Map<String, Parameter> p = params();
        try (SGD sgd = optimizer(p)) {
            setGrad(p.get("fc.bias"), 1f, 2f);
            sgd.step();
            Map<Parameter, String> names = SGD.namesOf(p);
            Map<String, TensorData> good = sgd.stateDict(names);
            float[] buf = sgd.momentumBuffer(p.get("fc.bias")).toArray();

            Map<String, TensorData> unexpected = new HashMap<>(good);
            unexpected.put("other.weight.steps", TensorData.i64Scalar(1));
            assertThrows(IllegalArgumentException.class, () -> sgd.loadStateDict(unexpected, names));

            Map<String, TensorData> wrongShape = new HashMap<>(good);
            wrongShape.put("fc.bias.momentum_buffer", TensorData.f32(new int[] {3}, new float[3]));
            assertThrows(IllegalArgumentException.class, () -> sgd.loadStateDict(wrongShape, names));

            Map<String, TensorData> bufferWithoutSteps = new HashMap<>(good);
            bufferWithoutSteps.remove("fc.bias.steps");
            assertThrows(IllegalArgumentException.class, () -> sgd.loadStateDict(bufferWithoutSteps, names));

            assertArrayEquals(buf, sgd.momentumBuffer(p.get("fc.bias")).toArray());
            assertEquals(1, sgd.steps(p.get("fc.bias")));

            // A parameter the optimizer holds must have a name.
            Map<Parameter, String> missing = new HashMap<>(names);
            missing.remove(p.get("unsampled.weight"));
            assertThrows(IllegalArgumentException.class, () -> sgd.stateDict(missing));

            // An empty state is "never stepped".
            sgd.loadStateDict(Map.of(), names);
            assertNull(sgd.momentumBuffer(p.get("fc.bias")));
            assertEquals(0, sgd.steps(p.get("fc.bias")));
        } finally {
            p.values().forEach(Parameter::close);
        }
    }
}
