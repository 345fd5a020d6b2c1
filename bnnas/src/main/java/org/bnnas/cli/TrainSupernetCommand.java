// TrainSupernetCommand: `bnnas train-supernet`: BN-only (BN-NAS) or full (SPOS) training of the
// weight-sharing supernet, checkpointed every epoch and resumable.
package org.bnnas.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bnnas.data.Datasets;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.experiment.RunDir;
import org.bnnas.experiment.Stages;
import org.bnnas.experiment.SupernetScoring;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.SupernetTrainer;
import org.bnnas.train.TrainingLoop;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "train-supernet", mixinStandardHelpOptions = true,
        description = "Train the supernet: --mode bn (BN-NAS: only each op's last BN) or --mode full (SPOS: every weight).")
final class TrainSupernetCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    RunDirOption runDir;

    @Mixin
    SupernetOptions supernet;

    @Option(names = "--resume", description = "Continue the run in --out from its last checkpoint (same options as the first call).")
    boolean resume;

    @Option(names = "--score-archs", paramLabel = "FILE", description = "Architectures to score with the supernet's predictor as it trains (bn for "
            + "--mode bn, accuracy for full), into scores.jsonl: a file as bnnas score's --arch-file takes, a bnnas bench table included.")
    Path scoreArchs;

    @Option(names = "--score-every", paramLabel = "EPOCHS", description = "How often to score them (default: 0.25 epochs for bn, 2 for full; and "
            + "always after the last epoch).")
    Double scoreEvery;

    @Option(names = "--calibration-batches", paramLabel = "N", description = "Training batches that recalibrate BN statistics when scoring by "
            + "accuracy (default: ${DEFAULT-VALUE}).")
    int calibrationBatches = 20;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        common.apply();
        runDir.check(resume);
        SupernetTrainer.Config cfg = supernet.config(common.seed);
        SearchSpace space = common.loadSpace();
        Datasets.Splits data = common.loadData();
        RunDir run = runDir.create("train-supernet", resume);
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> config = common.baseConfig("train-supernet");
        config.put("supernet", cfg);
        run.writeJson("config.json", config);
        List<int[]> toScore = scoreArchs == null ? null : ScoreCommand.readArchFile(scoreArchs, space);
        if (scoreEvery != null && !(scoreEvery > 0)) throw new CliException("--score-every must be positive, got " + scoreEvery);
        if (calibrationBatches < 1) throw new CliException("--calibration-batches must be at least 1, got " + calibrationBatches);
        double every = scoreEvery != null ? scoreEvery : cfg.mode() == SupernetTrainer.Mode.BN ? 0.25 : 2;
        if (toScore != null) {
            config.put("score_archs", scoreArchs.toString());
            config.put("score_every", every);
            run.writeJson("config.json", config);
        }
        try (Supernet net = new Supernet(space, data.train().channels(), new Rng(common.seed));
             SupernetScoring scoring = toScore == null ? null : new SupernetScoring(run, net, cfg, toScore, every, data, calibrationBatches, out)) {
            List<TrainingLoop.EpochStats> stats = Stages.trainSupernet(run, net, data, cfg, resume, scoring, out);
            Map<String, Object> results = new LinkedHashMap<>();
            results.put("checkpoint", run.file(Stages.SUPERNET_FILE).toString());
            results.put("mode", cfg.mode().name().toLowerCase());
            results.put("epochs", cfg.epochs());
            if (!stats.isEmpty()) {
                TrainingLoop.EpochStats last = stats.get(stats.size() - 1);
                results.put("final_loss", last.loss());
                results.put("final_train_top1", last.top1());
            }
            results.put("train_seconds_this_call", stats.stream().mapToDouble(TrainingLoop.EpochStats::seconds).sum());
            run.writeJson("results.json", results);
            out.printf("supernet checkpoint: %s%n", run.file(Stages.SUPERNET_FILE));
        }
        return 0;
    }

    /** The train-supernet command's training options. */
    static final class SupernetOptions {
        @Option(names = "--mode", paramLabel = "bn|full", description = "bn: BN-NAS (default); full: SPOS.")
        String mode = "bn";

        @Option(names = "--epochs", paramLabel = "N", description = "Epochs (default: " + SupernetTrainer.Config.DEFAULT_BN_EPOCHS
                + " for bn, " + SupernetTrainer.Config.DEFAULT_FULL_EPOCHS + " for full).")
        Integer epochs;

        @Option(names = "--batch-size", paramLabel = "N", description = "Batch size (default: ${DEFAULT-VALUE}).")
        int batchSize = SupernetTrainer.Config.DEFAULT_BATCH;

        @Option(names = "--lr", paramLabel = "LR", description = "Initial learning rate (default: depends on the mode, scaled with the batch size).")
        Double lr;

        @Option(names = "--train-bn", paramLabel = "last|all", description = "With --mode bn: train each op's last BN (default, as the official "
                + "code does) or every BN of the supernet, stem and head included (an ablation).")
        String trainBn = "last";

        SupernetTrainer.Config config(long seed) {
            return build(mode, epochs, batchSize, lr, trainBn, seed, "--");
        }

        /** A checked configuration; {@code prefix} is how the options are spelled ("--" or "--supernet-"), for messages. */
        static SupernetTrainer.Config build(String mode, Integer epochs, int batchSize, Double lr, String trainBn, long seed, String prefix) {
            SupernetTrainer.Mode m = switch (mode) {
                case "bn" -> SupernetTrainer.Mode.BN;
                case "full" -> SupernetTrainer.Mode.FULL;
                default -> throw new CliException("--mode: '" + mode + "' is neither bn nor full");
            };
            if (batchSize < 1) throw new CliException(prefix + "batch-size must be at least 1, got " + batchSize);
            if (epochs != null && epochs < 1) throw new CliException(prefix + "epochs must be at least 1, got " + epochs);
            if (lr != null && !(lr > 0)) throw new CliException(prefix + "lr must be positive, got " + lr);
            SupernetTrainer.Config d = SupernetTrainer.Config.defaults(m, epochs != null ? epochs : SupernetTrainer.Config.defaultEpochs(m),
                    batchSize, seed);
            SupernetTrainer.BnScope scope = switch (trainBn) {
                case "last" -> SupernetTrainer.BnScope.LAST;
                case "all" -> SupernetTrainer.BnScope.ALL;
                default -> throw new CliException(prefix + "train-bn: '" + trainBn + "' is neither last nor all");
            };
            if (scope == SupernetTrainer.BnScope.ALL && m == SupernetTrainer.Mode.FULL) {
                throw new CliException(prefix + "train-bn all goes with --mode bn: full training trains every parameter");
            }
            return (lr == null ? d : d.withLr(lr)).withBnScope(scope);
        }
    }
}
