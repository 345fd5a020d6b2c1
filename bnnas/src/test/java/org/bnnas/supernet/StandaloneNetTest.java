// StandaloneNetTest: the retraining network's official names and a safetensors round trip.
package org.bnnas.supernet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.bnnas.engine.io.SafeTensors;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.space.SearchSpace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StandaloneNetTest {
    private static final int[] ARCH = {3, -1, 5, 4, 2, -1, -1, 1, 5, -1, 0, 3, 3, 4, 0, 2, 2, 2, 3, 0, 1};

    @Test
    void namesCountOnlyTheNonIdentityLayers() {
        try (StandaloneNet net = new StandaloneNet(SearchSpace.load("bnnas-small"), ARCH, 1, new Rng(0))) {
            Map<String, TensorData> sd = net.stateDict();
            assertArrayEquals(new int[] {48, 8, 1, 1}, sd.get("features.0.conv.0.weight").shape(), "layer 0 is k5e6 on 8 channels");
            assertArrayEquals(new int[] {112, 384, 1, 1}, sd.get("features.16.conv.6.weight").shape(), "17 blocks, numbered 0..16; the last is k3e6 on 64 channels");
            assertFalse(sd.containsKey("features.17.conv.0.weight"));
            assertArrayEquals(new int[] {10, 432}, sd.get("classifier.1.weight").shape(), "classifier.0 is the dropout");
            assertTrue(sd.containsKey("conv_bn.1.num_batches_tracked") && sd.containsKey("MBConv_ratio_1.conv.4.running_var"));
        }
    }

    @Test
    void roundTripsThroughSafetensors(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("net.safetensors");
        try (StandaloneNet a = new StandaloneNet(SearchSpace.load("bnnas-small"), ARCH, 1, new Rng(1));
             StandaloneNet b = new StandaloneNet(SearchSpace.load("bnnas-small"), ARCH, 1, new Rng(2));
             MemoryScope s = MemoryScope.open()) {
            a.forward(Tensor.zeros(2, 1, 28, 28)); // moves the BN running statistics
            SafeTensors.write(file, a.stateDict(), null);
            b.loadStateDict(SafeTensors.read(file).tensors(), true);
            assertEquals(a.stateDict(), b.stateDict());
            a.eval();
            b.eval();
            Tensor x = Tensor.zeros(1, 1, 28, 28);
            assertArrayEquals(a.forward(x).toArray(), b.forward(x).toArray());
        }
    }
}
