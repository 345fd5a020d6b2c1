// SupernetTrainer: one-shot training of the weight-sharing supernet with uniform single-path
// sampling: BN-NAS (only each op's last BN trained) or SPOS (every parameter trained).
package org.bnnas.train;

import java.util.ArrayList;
import java.util.List;
import org.bnnas.data.BatchLoader;
import org.bnnas.data.Dataset;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.optim.GradClip;
import org.bnnas.engine.optim.LrSchedule;
import org.bnnas.engine.optim.ParamGroup;
import org.bnnas.engine.optim.SGD;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.space.Architecture;
import org.bnnas.supernet.Supernet;

/**
 * Each batch trains one path drawn uniformly from the seeded generator. SGD with momentum 0.9,
 * the learning rate decayed linearly to 5e-4 of its start over all steps, label smoothing 0.1,
 * gradients clipped by value at 5. BN mode trains gamma and beta of each op's last BN with no
 * weight decay, everything else stays at its initialisation (BN running statistics still
 * update); full mode trains every parameter with weight decay on convolution and classifier
 * weights only. Ops that a step did not sample get no gradient and the optimizer leaves them alone.
 */
public final class SupernetTrainer {
    public enum Mode { BN, FULL }

    /** Training settings; {@link #defaults} gives the paper's, with the learning rate scaled to the batch. */
    public record Config(Mode mode, int epochs, int batchSize, double lr, double momentum, double weightDecay,
                         float labelSmoothing, float clipValue, double endFactor, long seed) {
        /** The paper's learning rate, 0.25 at batch 512, scaled linearly with the batch size. */
        public static double paperLr(int batchSize) {
            return 0.25 * batchSize / 512.0;
        }

        public static Config defaults(Mode mode, int epochs, int batchSize, long seed) {
            return new Config(mode, epochs, batchSize, paperLr(batchSize), 0.9, mode == Mode.FULL ? 4e-5 : 0.0, 0.1f, 5f, 5e-4, seed);
        }
    }

    /** One epoch's figures. */
    public record EpochStats(int epoch, double loss, double top1, double seconds, double lr) {}

    /** Called after every epoch (for metrics files, checkpoints, plots). */
    public interface Listener {
        void epochDone(EpochStats stats);
    }

    private SupernetTrainer() {}

    /** Trains {@code net} on {@code data}; returns the per-epoch statistics. */
    public static List<EpochStats> train(Supernet net, Dataset data, Config cfg, Listener listener) {
        List<ParamGroup> groups = new ArrayList<>();
        if (cfg.mode() == Mode.BN) {
            groups.add(ParamGroup.of(net.trainOnlyLastBn(), cfg.lr()).momentum(cfg.momentum()));
        } else {
            net.requiresGrad(true);
            List<Parameter> decayed = new ArrayList<>(), plain = new ArrayList<>();
            net.namedParameters().forEach((name, p) -> (p.data().rank() > 1 ? decayed : plain).add(p));
            groups.add(ParamGroup.of(decayed, cfg.lr()).momentum(cfg.momentum()).weightDecay(cfg.weightDecay()));
            groups.add(ParamGroup.of(plain, cfg.lr()).momentum(cfg.momentum()));
        }
        List<Parameter> trainable = new ArrayList<>();
        groups.forEach(g -> trainable.addAll(g.params()));
        Rng paths = new Rng(cfg.seed() ^ 0x5EEDL);
        List<EpochStats> out = new ArrayList<>();
        try (SGD sgd = new SGD(groups); BatchLoader loader = new BatchLoader(data, BatchLoader.Options.training(data, cfg.batchSize(), cfg.seed()))) {
            long total = (long) cfg.epochs() * loader.batchesPerEpoch(), step = 0;
            LrSchedule schedule = LrSchedule.linear(total, cfg.endFactor());
            net.train();
            for (int epoch = 0; epoch < cfg.epochs(); epoch++) {
                long start = System.nanoTime();
                loader.startEpoch(epoch);
                double lossSum = 0;
                long correct = 0, seen = 0;
                while (loader.hasNext()) {
                    schedule.apply(sgd, step++);
                    try (MemoryScope s = MemoryScope.open(); BatchLoader.Batch b = loader.next()) {
                        net.select(Architecture.sample(net.space, paths));
                        Tensor logits = net.forward(b.images());
                        Tensor loss = Ops.crossEntropy(logits, b.labels(), cfg.labelSmoothing());
                        loss.backward();
                        GradClip.clipByValue(trainable, cfg.clipValue());
                        sgd.step();
                        sgd.zeroGrad();
                        lossSum += loss.item() * b.size();
                        correct += Metrics.correct(logits, b.labels());
                        seen += b.size();
                    }
                }
                EpochStats st = new EpochStats(epoch, lossSum / seen, correct / (double) seen, (System.nanoTime() - start) / 1e9,
                        sgd.groups().get(0).lr());
                out.add(st);
                if (listener != null) listener.epochDone(st);
            }
        }
        return out;
    }
}
