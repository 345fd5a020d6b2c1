// TrainingLoopTest: what the training loop reports: each batch's loss and top-1 hits from its
// BatchLog, and the epoch's figures made of them.
package org.bnnas.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bnnas.data.BatchLoader;
import org.bnnas.data.Dataset;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.optim.LrSchedule;
import org.bnnas.engine.optim.ParamGroup;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.MBConv;
import org.bnnas.supernet.Supernet;
import org.junit.jupiter.api.Test;

class TrainingLoopTest {
    private static final SearchSpace SPACE = SearchSpace.load("bnnas-small");

    @Test
    void theLogHoldsEachBatchsLossAndHitsAndTheEpochIsMadeOfThem() {
        Dataset data = org.bnnas.data.TestFiles.randomImages(40, 5); // batches of 16, 16 and 8
        int batch = 16;
        long seed = 3;
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0))) {
            int[] arch = Architecture.sample(SPACE, new Rng(9));
            net.select(arch);
            // lr 0: the weights never move, so every batch's loss is that of the untrained network (BN in training mode)
            List<ParamGroup> groups = List.of(ParamGroup.of(MBConv.trainOnlyLastBns(net), 0.0));
            TrainingLoop.Settings s = new TrainingLoop.Settings(1, batch, 0.1f, 0f, seed, total -> LrSchedule.linear(total, 1.0));
            List<float[]> logged = new ArrayList<>(); // per batch: loss, hits, images
            List<TrainingLoop.EpochStats> stats = TrainingLoop.run(net, data, groups, s, Map.of(), () -> {}, null, new TrainingLoop.Listener() {
                @Override
                public void batchDone(int epoch, int b, BatchLog log) {
                    assertEquals(b + 1, log.batches());
                    logged.add(new float[] {log.loss(b), log.correct(b), log.images(b)});
                }
            });

            float[][] want = recompute(net, data, batch, seed);
            assertEquals(want.length, logged.size());
            double lossSum = 0, hits = 0;
            for (int b = 0; b < want.length; b++) {
                assertEquals(want[b][0], logged.get(b)[0], "loss of batch " + b);
                assertEquals(want[b][1], logged.get(b)[1], "hits of batch " + b);
                assertEquals(want[b][2], logged.get(b)[2], "images of batch " + b);
                lossSum += (double) want[b][0] * want[b][2];
                hits += want[b][1];
            }
            assertEquals(lossSum / 40, stats.get(0).loss(), 0.0, "the epoch's loss is the mean over its images");
            assertEquals(hits / 40, stats.get(0).top1(), 0.0);
        }
    }

    /** Loss, top-1 hits (counted here on the host) and size of each batch, the network unchanged. */
    private static float[][] recompute(Supernet net, Dataset data, int batch, long seed) {
        List<float[]> out = new ArrayList<>();
        net.train();
        try (GradMode.Guard g = GradMode.noGrad(); BatchLoader loader = new BatchLoader(data, BatchLoader.Options.training(data, batch, seed))) {
            loader.startEpoch(0);
            while (loader.hasNext()) {
                try (MemoryScope scope = MemoryScope.open(); BatchLoader.Batch b = loader.next()) {
                    Tensor logits = net.forward(b.images());
                    float loss = Ops.crossEntropy(logits, b.labels(), 0.1f).item();
                    float[] z = logits.toArray();
                    int k = logits.dim(1), hits = 0;
                    for (int r = 0; r < b.size(); r++) {
                        int best = 0;
                        for (int j = 1; j < k; j++) if (z[r * k + j] > z[r * k + best]) best = j;
                        if (best == b.labels()[r]) hits++;
                    }
                    out.add(new float[] {loss, hits, b.size()});
                }
            }
        }
        return out.toArray(new float[0][]);
    }

    @Test
    void aParameterThatIsNoLongerFiniteStopsTrainingBeforeTheCheckpoint(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        Dataset data = org.bnnas.data.TestFiles.randomImages(32, 5);
        java.nio.file.Path file = dir.resolve("supernet.safetensors");
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0))) {
            net.select(Architecture.sample(SPACE, new Rng(9)));
            List<ParamGroup> groups = List.of(ParamGroup.of(MBConv.trainOnlyLastBns(net), 0.1));
            TrainingLoop.Settings s = new TrainingLoop.Settings(1, 16, 0.1f, 0f, 3, total -> LrSchedule.linear(total, 1.0));
            TrainingLoop.Checkpointing ckpt = new TrainingLoop.Checkpointing(file, Checkpoint.Info.supernet(SPACE.name, 1, 28), false, "test");
            String poisoned = "features.0._ops.0.conv.7.weight";
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> TrainingLoop.run(net, data, groups, s, Map.of(), () -> {},
                    ckpt, new TrainingLoop.Listener() {
                        @Override
                        public void batchDone(int epoch, int b, BatchLog log) { // after the last step: the loss was finite, the weight is not
                            if (b == 1) net.namedParameters().get(poisoned).data().copyFrom(new float[] {Float.NaN, 1, 1, 1, 1, 1, 1, 1});
                        }
                    }));
            assertEquals("training diverged: parameter " + poisoned + " is not finite after epoch 1, learning rate 0.1000; try a lower learning rate."
                    + " No checkpoint was written.", e.getMessage());
            assertFalse(java.nio.file.Files.exists(file));
        }
    }

    @Test
    void aBatchOutsideTheLogIsAnError() {
        try (BatchLog log = new BatchLog(2); Tensor loss = Tensor.fromArray(new float[] {1.5f}, 1); Tensor hits = Tensor.fromArray(new float[] {3}, 1)) {
            log.record(loss, hits, 4);
            assertEquals(1.5f, log.loss(0));
            assertEquals(3, log.correct(0));
            assertThrows(IndexOutOfBoundsException.class, () -> log.loss(1));
            log.record(loss, hits, 4);
            assertThrows(IllegalStateException.class, () -> log.record(loss, hits, 4));
            log.clear();
            assertEquals(0, log.batches());
        }
    }
}
