// SupernetTrainerTest: what each training mode may change, on a small generated data set.
package org.bnnas.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bnnas.data.Dataset;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.Supernet;
import org.junit.jupiter.api.Test;

class SupernetTrainerTest {
    private static Dataset tiny() {
        return org.bnnas.data.TestFiles.randomImages(64, 3);
    }

    private static SupernetTrainer.Config config(SupernetTrainer.Mode mode) {
        return SupernetTrainer.Config.defaults(mode, 1, 16, 7);
    }

    @Test
    void bnModeTrainsOnlyTheLastBnOfEachOp() {
        try (Supernet net = new Supernet(SearchSpace.load("bnnas-small"), 1, new Rng(0))) {
            Map<String, TensorData> before = net.stateDict();
            List<TrainingLoop.EpochStats> stats = SupernetTrainer.train(net, tiny(), config(SupernetTrainer.Mode.BN), null);
            assertEquals(1, stats.size());
            assertTrue(Double.isFinite(stats.get(0).loss()));
            Map<String, TensorData> after = net.stateDict();
            boolean someLastBnMoved = false;
            for (String k : before.keySet()) {
                boolean lastBnAffine = k.matches("features\\.\\d+\\._ops\\.\\d\\.conv\\.7\\.(weight|bias)");
                boolean runningStat = k.contains("running_") || k.endsWith("num_batches_tracked");
                boolean changed = !before.get(k).equals(after.get(k));
                if (!lastBnAffine && !runningStat) assertFalse(changed, k + " is frozen in BN mode");
                someLastBnMoved |= lastBnAffine && changed;
            }
            assertTrue(someLastBnMoved, "the sampled ops' last BN gamma and beta were trained");
            assertFalse(Arrays.equals(before.get("conv_bn.1.running_mean").floats(), after.get("conv_bn.1.running_mean").floats()),
                    "running statistics still update");
        }
    }

    @Test
    void fullModeTrainsTheWeightsAndIsReproducible() {
        Map<String, TensorData> first;
        try (Supernet net = new Supernet(SearchSpace.load("bnnas-small"), 1, new Rng(0))) {
            Map<String, TensorData> before = net.stateDict();
            SupernetTrainer.train(net, tiny(), config(SupernetTrainer.Mode.FULL), null);
            first = net.stateDict();
            assertFalse(before.get("conv_bn.0.weight").equals(first.get("conv_bn.0.weight")), "the stem conv is trained");
            assertFalse(before.get("classifier.0.weight").equals(first.get("classifier.0.weight")), "the classifier is trained");
        }
        try (Supernet net = new Supernet(SearchSpace.load("bnnas-small"), 1, new Rng(0))) {
            SupernetTrainer.train(net, tiny(), config(SupernetTrainer.Mode.FULL), null);
            Map<String, TensorData> second = net.stateDict();
            for (String k : first.keySet()) assertEquals(first.get(k), second.get(k), k + ": same seed, same weights");
        }
    }
}
