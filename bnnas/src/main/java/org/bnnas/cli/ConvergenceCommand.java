// ConvergenceCommand: `bnnas convergence`: trains a BN-only and a fully trained supernet from the
// same seed, records every op's mean |gamma| every fraction of an epoch, and shows how each
// layer's ranking of its ops settles: plots, convergence.json and a paragraph that reads them.
package org.bnnas.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bnnas.data.Datasets;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.experiment.Convergence;
import org.bnnas.experiment.RunDir;
import org.bnnas.experiment.Stages;
import org.bnnas.experiment.SupernetScoring;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.SupernetTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "convergence", mixinStandardHelpOptions = true,
        description = {"Watch the BN indicator converge: a BN-only (BN-NAS) and a fully trained (SPOS) supernet from the same seed, each op's mean",
                "|gamma| recorded every --every epochs, and each layer's ranking of its ops compared with its final one, with the previous point's",
                "and with the other training's, against steps and seconds; plots, convergence.json and a paragraph reading them."})
final class ConvergenceCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    RunDirOption runDir;

    @Option(names = "--bn-epochs", paramLabel = "N", description = "Epochs of BN-only training (default: ${DEFAULT-VALUE}, BN-NAS's).")
    int bnEpochs = SupernetTrainer.Config.DEFAULT_BN_EPOCHS;

    @Option(names = "--full-epochs", paramLabel = "N", description = "Epochs of full training (default: ${DEFAULT-VALUE}; SPOS trains "
            + SupernetTrainer.Config.DEFAULT_FULL_EPOCHS + ").")
    int fullEpochs = SupernetTrainer.Config.DEFAULT_BN_EPOCHS;

    @Option(names = "--every", paramLabel = "EPOCHS", description = "How often to record the gammas (default: ${DEFAULT-VALUE}).")
    double every = 0.1;

    @Option(names = "--train-bn", paramLabel = "last|all", description = "What BN-only training trains: each op's last BN (default) or every BN.")
    String trainBn = "last";

    @Option(names = "--bn-lr", paramLabel = "LR", description = "Learning rate of BN-only training (default: BN-NAS's, 8.0 at batch 128, scaled "
            + "with the batch).")
    Double bnLr;

    @Option(names = "--batch-size", paramLabel = "N", description = "Batch size of both (default: ${DEFAULT-VALUE}).")
    int batchSize = SupernetTrainer.Config.DEFAULT_BATCH;

    @Option(names = "--resume", description = "Continue the runs in --out.")
    boolean resume;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        common.apply();
        runDir.check(resume);
        if (!(every > 0)) throw new CliException("--every must be positive, got " + every);
        // checked here under this command's own option names; the builder below would name them as train-supernet does
        if (bnEpochs < 1) throw new CliException("--bn-epochs must be at least 1, got " + bnEpochs);
        if (fullEpochs < 1) throw new CliException("--full-epochs must be at least 1, got " + fullEpochs);
        if (batchSize < 1) throw new CliException("--batch-size must be at least 1, got " + batchSize);
        if (bnLr != null && !(bnLr > 0)) throw new CliException("--bn-lr must be positive, got " + bnLr);
        if (!trainBn.equals("last") && !trainBn.equals("all")) throw new CliException("--train-bn: '" + trainBn + "' is neither last nor all");
        SupernetTrainer.Config bn = TrainSupernetCommand.SupernetOptions.build("bn", bnEpochs, batchSize, bnLr, trainBn, common.seed, "--");
        SupernetTrainer.Config full = TrainSupernetCommand.SupernetOptions.build("full", fullEpochs, batchSize, null, "last", common.seed, "--");
        SearchSpace space = common.loadSpace();
        Datasets.Splits data = common.loadData();
        RunDir run = runDir.create("convergence", resume);
        Map<String, Object> config = common.baseConfig("convergence");
        config.put("bn_only", bn);
        config.put("full", full);
        config.put("every", every);
        run.writeJson("config.json", config);
        PrintWriter out = spec.commandLine().getOut();
        RunDir bnRun = train(run, "bn-only", space, data, bn, out), fullRun = train(run, "full", space, data, full, out);
        int stepsPerEpoch = (data.train().count() + batchSize - 1) / batchSize;
        var bnLines = bnRun.metricsFile(SupernetScoring.TABLE_FILE);
        var fullLines = fullRun.metricsFile(SupernetScoring.TABLE_FILE);
        Convergence.Trajectory bnOnly = Convergence.of("BN-only training", bnLines, stepsPerEpoch, Convergence.finalTable(fullLines));
        Convergence.Trajectory trained = Convergence.of("full training", fullLines, stepsPerEpoch, Convergence.finalTable(bnLines));
        String reading = Convergence.report(run, bnOnly, trained);
        run.writeText("reading.txt", reading + "\n");
        out.println(reading);
        out.printf("plots and convergence.json: %s%n", run.dir);
        return 0;
    }

    /** One supernet, recording its gamma table every {@code every} epochs, in a directory of its own inside the run. */
    private RunDir train(RunDir run, String name, SearchSpace space, Datasets.Splits data, SupernetTrainer.Config cfg, PrintWriter out) {
        RunDir dir = new RunDir(run.file(name));
        try (Supernet net = new Supernet(space, data.train().channels(), new Rng(common.seed));
             SupernetScoring scoring = new SupernetScoring(dir, net, cfg, List.of(), every, data, 1, out)) {
            Stages.trainSupernet(dir, net, data, cfg, resume, scoring, out);
        }
        return dir;
    }
}
