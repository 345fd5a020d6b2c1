// SupernetTrainer: one-shot training of the weight-sharing supernet with uniform single-path
// sampling: BN-NAS (only each op's last BN trained) or SPOS (every parameter trained).
package org.bnnas.train;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bnnas.data.Dataset;
import org.bnnas.engine.optim.LrSchedule;
import org.bnnas.engine.optim.ParamGroup;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.space.Architecture;
import org.bnnas.supernet.Supernet;

/**
 * Each batch trains one path drawn uniformly from the seeded generator. SGD with momentum 0.9,
 * the learning rate decayed linearly to 5e-4 of its start over all steps, label smoothing 0.1,
 * gradients clipped by value at 5. BN mode trains gamma and beta of each op's last BN with no
 * weight decay, everything else stays at its initialisation (BN running statistics still
 * update), or with {@link BnScope#ALL} every BN's gamma and beta; full mode trains every parameter with weight decay on convolution and classifier
 * weights only. Ops that a step did not sample get no gradient and the optimizer leaves them alone.
 */
public final class SupernetTrainer {
    public enum Mode { BN, FULL }

    /**
     * Which BNs BN-only training trains: each op's last, as the official code does (the default),
     * or every BN of the supernet, the stem's and the head's included (an ablation).
     */
    public enum BnScope { LAST, ALL }

    /** Training settings; {@link #defaults} gives the paper's, with the learning rate scaled to the batch. */
    public record Config(Mode mode, int epochs, int batchSize, double lr, double momentum, double weightDecay,
                         float labelSmoothing, float clipValue, double endFactor, long seed, BnScope bnScope) {
        public static final int DEFAULT_BATCH = 128, DEFAULT_BN_EPOCHS = 2, DEFAULT_FULL_EPOCHS = 20;

        /** The paper's learning rate, 0.25 at batch 512, scaled linearly with the batch size. */
        public static double paperLr(int batchSize) {
            return 0.25 * batchSize / 512.0;
        }

        /** The default learning rate of a mode at a batch size; see the class comment for why it differs from the paper's. */
        public static double defaultLr(Mode mode, int batchSize) {
            return mode == Mode.BN ? 8.0 * batchSize / 128 : paperLr(batchSize);
        }

        public static int defaultEpochs(Mode mode) {
            return mode == Mode.BN ? DEFAULT_BN_EPOCHS : DEFAULT_FULL_EPOCHS;
        }

        public static Config defaults(Mode mode, int epochs, int batchSize, long seed) {
            return new Config(mode, epochs, batchSize, defaultLr(mode, batchSize), 0.9, mode == Mode.FULL ? 4e-5 : 0.0, 0.1f, 5f, 5e-4, seed,
                    BnScope.LAST);
        }

        public Config withLr(double newLr) {
            return new Config(mode, epochs, batchSize, newLr, momentum, weightDecay, labelSmoothing, clipValue, endFactor, seed, bnScope);
        }

        public Config withBnScope(BnScope scope) {
            return new Config(mode, epochs, batchSize, lr, momentum, weightDecay, labelSmoothing, clipValue, endFactor, seed, scope);
        }
    }

    private SupernetTrainer() {}

    /** The optimizer's groups under the mode's rule (which also sets which parameters require gradients). */
    private static List<ParamGroup> groups(Supernet net, Config cfg) {
        return cfg.mode() == Mode.FULL ? ParamGroups.allWithWeightDecay(net, cfg.lr(), cfg.momentum(), cfg.weightDecay())
                : cfg.bnScope() == BnScope.ALL ? ParamGroups.allBnsOnly(net, cfg.lr(), cfg.momentum())
                : ParamGroups.lastBnOnly(net, cfg.lr(), cfg.momentum());
    }

    /** How many numbers {@code cfg} trains in {@code net}, and how many the supernet holds: {trained, all}. */
    public static long[] trainedNumbers(Supernet net, Config cfg) {
        long trained = groups(net, cfg).stream().flatMap(g -> g.params().stream()).mapToLong(p -> p.data().shape().numel()).sum();
        long all = net.parameters().stream().mapToLong(p -> p.data().shape().numel()).sum();
        return new long[] {trained, all};
    }

    /** The configuration as one line of text, stored in checkpoints so that a resume can check it. */
    public static String describe(Config cfg) {
        return "supernet mode=" + cfg.mode() + " epochs=" + cfg.epochs() + " batch=" + cfg.batchSize() + " lr=" + cfg.lr()
                + " momentum=" + cfg.momentum() + " wd=" + cfg.weightDecay() + " smoothing=" + cfg.labelSmoothing()
                + " clip=" + cfg.clipValue() + " end=" + cfg.endFactor() + " seed=" + cfg.seed()
                + (cfg.bnScope() == BnScope.ALL ? " train_bn=all" : ""); // the default is left out, so that older checkpoints resume
    }

    /** Trains {@code net} on {@code data} without checkpoints; returns the per-epoch statistics. */
    public static List<TrainingLoop.EpochStats> train(Supernet net, Dataset data, Config cfg, TrainingLoop.Listener listener) {
        return train(net, data, cfg, null, listener);
    }

    /**
     * Trains {@code net} on {@code data}, writing a checkpoint after every epoch when
     * {@code checkpoint} is given (and starting from it when it asks to resume).
     */
    public static List<TrainingLoop.EpochStats> train(Supernet net, Dataset data, Config cfg, Path checkpoint, boolean resume,
                                                      TrainingLoop.Listener listener) {
        return train(net, data, cfg, checkpoint == null ? null
                : new TrainingLoop.Checkpointing(checkpoint, Checkpoint.Info.supernet(net.space.name, data.channels(), data.size()), resume,
                describe(cfg)), listener);
    }

    private static List<TrainingLoop.EpochStats> train(Supernet net, Dataset data, Config cfg, TrainingLoop.Checkpointing ckpt,
                                                       TrainingLoop.Listener listener) {
        List<ParamGroup> groups = groups(net, cfg);
        Rng paths = new Rng(cfg.seed() ^ 0x5EEDL);
        TrainingLoop.Settings settings = new TrainingLoop.Settings(cfg.epochs(), cfg.batchSize(), cfg.labelSmoothing(), cfg.clipValue(),
                cfg.seed(), total -> LrSchedule.linear(total, cfg.endFactor()));
        return TrainingLoop.run(net, data, groups, settings, Map.of("paths", paths),
                () -> net.select(Architecture.sample(net.space, paths)), ckpt, listener);
    }
}
