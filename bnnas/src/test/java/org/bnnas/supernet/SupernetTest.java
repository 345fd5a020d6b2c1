// SupernetTest: the supernet's structure, names and single-path forward.
package org.bnnas.supernet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.space.SearchSpace;
import org.junit.jupiter.api.Test;

class SupernetTest {
    private static final int[] ARCH = {3, -1, 5, 4, 2, -1, -1, 1, 5, -1, 0, 3, 3, 4, 0, 2, 2, 2, 3, 0, 1};

    @Test
    void stateDictUsesTheOfficialNames() {
        try (Supernet net = new Supernet(SearchSpace.load("bnnas-small"), 1, new Rng(0))) {
            Map<String, TensorData> sd = net.stateDict();
            assertArrayEquals(new int[] {8, 1, 3, 3}, sd.get("conv_bn.0.weight").shape());
            assertTrue(sd.containsKey("conv_bn.1.running_var"));
            assertArrayEquals(new int[] {8, 1, 3, 3}, sd.get("MBConv_ratio_1.conv.0.weight").shape());
            assertTrue(sd.containsKey("MBConv_ratio_1.conv.4.num_batches_tracked"));
            // layer 0: 8 -> 8 channels, op 5 = k7e6: expand to 48
            assertArrayEquals(new int[] {48, 8, 1, 1}, sd.get("features.0._ops.5.conv.0.weight").shape());
            assertArrayEquals(new int[] {48, 1, 7, 7}, sd.get("features.0._ops.5.conv.3.weight").shape());
            assertArrayEquals(new int[] {8, 48, 1, 1}, sd.get("features.0._ops.5.conv.6.weight").shape());
            assertArrayEquals(new int[] {8}, sd.get("features.0._ops.5.conv.7.weight").shape());
            assertTrue(sd.containsKey("features.1._ops.0.conv.0.weight"), "the fixed identity layers hold ops too, as the official supernet's do");
            assertArrayEquals(new int[] {432, 112, 1, 1}, sd.get("conv_1x1_bn.0.weight").shape());
            assertArrayEquals(new int[] {10, 432}, sd.get("classifier.0.weight").shape());
        }
    }

    @Test
    void forwardRunsTheSelectedPath() {
        try (Supernet net = new Supernet(SearchSpace.load("bnnas-small"), 1, new Rng(0)); MemoryScope s = MemoryScope.open()) {
            Tensor logits = net.select(ARCH).forward(Tensor.zeros(2, 1, 28, 28));
            assertArrayEquals(new int[] {2, 10}, logits.shape().dims());
        }
    }

    @Test
    void fusedInferenceMatchesTheLayerByLayerForward() {
        try (Supernet net = new Supernet(SearchSpace.load("bnnas-small"), 1, new Rng(0)); MemoryScope s = MemoryScope.open()) {
            Rng rng = new Rng(5);
            float[] x = new float[4 * 28 * 28];
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
            Tensor input = Tensor.fromArray(x, 4, 1, 28, 28);
            net.select(ARCH).train();
            for (int i = 0; i < 3; i++) net.forward(input); // running statistics away from their initial values
            net.eval();
            float[] layered = net.forward(input).toArray(); // grad mode on: each BN a separate op (BN1 fused with the depthwise conv)
            float[] fused;
            try (org.bnnas.engine.autograd.GradMode.Guard g = org.bnnas.engine.autograd.GradMode.noGrad()) {
                fused = net.forward(input).toArray();
            }
            for (int i = 0; i < fused.length; i++) {
                assertEquals(layered[i], fused[i], 1e-4 * (1 + Math.abs(layered[i])), "logit " + i);
            }
        }
    }

    @Test
    void bnOnlyTrainsTheLastBnOfEveryOp() {
        try (Supernet net = new Supernet(SearchSpace.load("bnnas-small"), 1, new Rng(0))) {
            int trainable = MBConv.trainOnlyLastBns(net).size();
            assertEquals(21 * 6 * 2, trainable, "every op's, the fixed identity layers' included: no path runs those, so they get no gradient");
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                assertEquals(e.getKey().matches("features\\.\\d+\\._ops\\.\\d\\.conv\\.7\\.(weight|bias)"), e.getValue().requiresGrad(), e.getKey());
            }
        }
    }

    @Test
    void theLastBnsComeLayerByLayerOpByOpAndTheScoreTableHasThoseOfTheChoiceLayers() {
        try (Supernet net = new Supernet(SearchSpace.load("bnnas-small"), 1, new Rng(0))) {
            List<Parameter> trainable = MBConv.trainOnlyLastBns(net);
            List<Parameter> inModuleOrder = net.namedParameters().entrySet().stream()
                    .filter(e -> e.getKey().matches("features\\.\\d+\\._ops\\.\\d\\.conv\\.7\\.(weight|bias)")).map(Map.Entry::getValue).toList();
            assertEquals(inModuleOrder, trainable);
            List<Parameter> scored = new java.util.ArrayList<>();
            for (BatchNorm2d[] layer : net.lastBns()) {
                if (layer == null) continue;
                for (BatchNorm2d bn : layer) {
                    scored.add(bn.weight());
                    scored.add(bn.bias());
                }
            }
            List<Parameter> ofChoiceLayers = net.namedParameters().entrySet().stream()
                    .filter(e -> e.getKey().matches("features\\.(?!(1|5|6|9)\\.)\\d+\\._ops\\.\\d\\.conv\\.7\\.(weight|bias)")).map(Map.Entry::getValue).toList();
            assertEquals(ofChoiceLayers, scored, "the table has no row for the fixed identity layers 1, 5, 6 and 9");
        }
    }

    @Test
    void aStandaloneNetTrainsOneLastBnPerBlockAndNothingElse() {
        SearchSpace space = SearchSpace.load("bnnas-small");
        int[] arch = {0, -1, 5, 2, 2, -1, -1, 1, 2, -1, 4, 1, 0, 0, 5, 1, 3, 5, 3, 5, 2};
        try (StandaloneNet net = new StandaloneNet(space, arch, 1, new Rng(0))) {
            List<Parameter> trainable = MBConv.trainOnlyLastBns(net);
            assertEquals(2 * 17, trainable.size(), "gamma and beta of each of the 17 blocks");
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                assertEquals(e.getKey().matches("features\\.\\d+\\.conv\\.7\\.(weight|bias)"), e.getValue().requiresGrad(), e.getKey());
            }
        }
    }

    @Test
    void rejectsAnArchitectureOfTheWrongLength() {
        try (Supernet net = new Supernet(SearchSpace.load("bnnas-small"), 1, new Rng(0))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> net.select(new int[] {0, 1}));
            assertEquals("arch: 2 layers, the space bnnas-small has 21", e.getMessage());
        }
    }
}
