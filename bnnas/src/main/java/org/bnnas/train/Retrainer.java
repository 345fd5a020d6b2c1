// Retrainer: trains a chosen architecture from scratch as a standalone network (the last stage of
// BN-NAS and SPOS alike).
package org.bnnas.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bnnas.data.Dataset;
import org.bnnas.engine.optim.LrSchedule;
import org.bnnas.engine.optim.ParamGroup;
import org.bnnas.supernet.StandaloneNet;

/**
 * SGD with momentum 0.9, weight decay 4e-5 on convolution and classifier weights (not on BN or
 * biases), label smoothing 0.1, a cosine or linear schedule over all steps, dropout 0.2 before the
 * classifier (part of {@link StandaloneNet}). No gradient clipping: nothing is frozen here, so the
 * usual training of a small network from scratch is what we reproduce.
 */
public final class Retrainer {
    public enum Schedule { COSINE, LINEAR }

    public record Config(int epochs, int batchSize, double lr, double momentum, double weightDecay, float labelSmoothing,
                         Schedule schedule, long seed) {
        public static final int DEFAULT_EPOCHS = 16, DEFAULT_BATCH = 128;

        /** Learning rate 0.1 at batch 128, scaled linearly with the batch size. */
        public static double defaultLr(int batchSize) {
            return 0.1 * batchSize / 128.0;
        }

        public static Config defaults(int epochs, int batchSize, long seed) {
            return new Config(epochs, batchSize, defaultLr(batchSize), 0.9, 4e-5, 0.1f, Schedule.COSINE, seed);
        }
    }

    private Retrainer() {}

    /** The configuration as one line of text, stored in checkpoints so that a resume can check it. */
    public static String describe(Config cfg) {
        return "retrain epochs=" + cfg.epochs() + " batch=" + cfg.batchSize() + " lr=" + cfg.lr() + " momentum=" + cfg.momentum()
                + " wd=" + cfg.weightDecay() + " smoothing=" + cfg.labelSmoothing() + " schedule=" + cfg.schedule() + " seed=" + cfg.seed();
    }

    /**
     * Trains {@code net} on {@code data}; with {@code checkpoint} given, writes it after every
     * epoch and, when {@code resume}, continues from it.
     */
    public static List<TrainingLoop.EpochStats> train(StandaloneNet net, Dataset data, Config cfg, Path checkpoint, boolean resume,
                                                      TrainingLoop.Listener listener) {
        List<ParamGroup> groups = ParamGroups.allWithWeightDecay(net, cfg.lr(), cfg.momentum(), cfg.weightDecay());
        TrainingLoop.Settings settings = new TrainingLoop.Settings(cfg.epochs(), cfg.batchSize(), cfg.labelSmoothing(), 0f, cfg.seed(),
                total -> cfg.schedule() == Schedule.COSINE ? LrSchedule.cosine(total, 0.0) : LrSchedule.linear(total, 0.0));
        TrainingLoop.Checkpointing ckpt = checkpoint == null ? null : new TrainingLoop.Checkpointing(checkpoint,
                Checkpoint.Info.standalone(net.space.name, data.channels(), data.size(), net.arch), resume, describe(cfg));
        return TrainingLoop.run(net, data, groups, settings, Map.of("dropout", net.dropout().rng()), () -> {}, ckpt, listener);
    }
}
