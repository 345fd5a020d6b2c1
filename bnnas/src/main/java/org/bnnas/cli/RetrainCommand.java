// RetrainCommand: `bnnas retrain`: trains one architecture from scratch as a standalone network
// and reports its validation and test top-1.
package org.bnnas.cli;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bnnas.data.Datasets;
import org.bnnas.experiment.RunDir;
import org.bnnas.experiment.Stages;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.train.Retrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "retrain", mixinStandardHelpOptions = true, description = "Train an architecture from scratch; report validation and test top-1.")
final class RetrainCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    RunDirOption runDir;

    @Option(names = "--arch", required = true, paramLabel = "A", description = "Op index per layer, -1 for identity: 3,-1,0,4,... "
            + "(write --arch=-1,... when it starts with -1).")
    String arch;

    @Mixin
    RetrainOptions retrain;

    @Option(names = "--resume", description = "Continue the run in --out from its last checkpoint (same options as the first call).")
    boolean resume;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        common.apply();
        runDir.check(resume);
        SearchSpace space = common.loadSpace();
        int[] a = parseArch(arch, space);
        Retrainer.Config cfg = retrain.config(common.seed);
        Datasets.Splits data = common.loadData();
        RunDir run = runDir.create("retrain", resume);
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> config = common.baseConfig("retrain");
        config.put("arch", Architecture.format(a));
        config.put("retrain", cfg);
        run.writeJson("config.json", config);
        Stages.RetrainOutcome r = Stages.retrain(run, space, a, data, cfg, resume, out);
        run.writeJson("results.json", Stages.retrainResults(space, a, data, r));
        return 0;
    }

    static int[] parseArch(String text, SearchSpace space) {
        try {
            return Architecture.parse(text, space);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage().startsWith("arch") ? "--" + e.getMessage() : "--arch: " + e.getMessage());
        }
    }

    /** The retrain command's training options. */
    static final class RetrainOptions {
        @Option(names = "--epochs", paramLabel = "N", description = "Epochs (default: ${DEFAULT-VALUE}).")
        int epochs = Retrainer.Config.DEFAULT_EPOCHS;

        @Option(names = "--batch-size", paramLabel = "N", description = "Batch size (default: ${DEFAULT-VALUE}).")
        int batchSize = Retrainer.Config.DEFAULT_BATCH;

        @Option(names = "--lr", paramLabel = "LR", description = "Initial learning rate (default: 0.1 at batch 128, scaled with the batch size).")
        Double lr;

        @Option(names = "--schedule", paramLabel = "cosine|linear", description = "Learning-rate schedule (default: ${DEFAULT-VALUE}).")
        String schedule = "cosine";

        Retrainer.Config config(long seed) {
            return build(epochs, batchSize, lr, schedule, seed, "--");
        }

        /** A checked configuration; {@code prefix} is how the options are spelled ("--" or "--retrain-"), for messages. */
        static Retrainer.Config build(int epochs, int batchSize, Double lr, String schedule, long seed, String prefix) {
            if (epochs < 1) throw new CliException(prefix + "epochs must be at least 1, got " + epochs);
            if (batchSize < 1) throw new CliException(prefix + "batch-size must be at least 1, got " + batchSize);
            if (lr != null && !(lr > 0)) throw new CliException(prefix + "lr must be positive, got " + lr);
            Retrainer.Schedule s = switch (schedule) {
                case "cosine" -> Retrainer.Schedule.COSINE;
                case "linear" -> Retrainer.Schedule.LINEAR;
                default -> throw new CliException("--schedule: '" + schedule + "' is neither cosine nor linear");
            };
            Retrainer.Config d = Retrainer.Config.defaults(epochs, batchSize, seed);
            return new Retrainer.Config(epochs, batchSize, lr != null ? lr : d.lr(), d.momentum(), d.weightDecay(), d.labelSmoothing(), s, seed);
        }
    }
}
