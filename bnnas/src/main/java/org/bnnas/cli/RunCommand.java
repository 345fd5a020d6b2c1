// RunCommand: `bnnas run`: the whole pipeline with defaults: supernet training, search, and
// retraining of the winner, ending with its FLOPs and test accuracy.
package org.bnnas.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bnnas.data.Datasets;
import org.bnnas.engine.tensor.NativeMemory;
import org.bnnas.engine.tensor.ProcessMemory;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.experiment.GroundTruth;
import org.bnnas.experiment.RunDir;
import org.bnnas.experiment.SearchSettings;
import org.bnnas.experiment.Stages;
import org.bnnas.score.Scorers;
import org.bnnas.search.Candidate;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.Retrainer;
import org.bnnas.train.SupernetTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "The whole pipeline: train the supernet (BN-only by default), search, retrain the best architecture, report its test top-1.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    RunDirOption runDir;

    @Option(names = "--mode", paramLabel = "bn|full", description = "bn: BN-NAS (default); full: SPOS (then the default evaluator is accuracy).")
    String mode = "bn";

    @Option(names = "--supernet-epochs", paramLabel = "N", description = "Supernet epochs (default: " + SupernetTrainer.Config.DEFAULT_BN_EPOCHS
            + " for bn, " + SupernetTrainer.Config.DEFAULT_FULL_EPOCHS + " for full).")
    Integer supernetEpochs;

    @Option(names = "--batch-size", paramLabel = "N", description = "Supernet batch size (default: ${DEFAULT-VALUE}).")
    int batchSize = SupernetTrainer.Config.DEFAULT_BATCH;

    @Option(names = "--supernet-lr", paramLabel = "LR", description = "Supernet learning rate (default: depends on the mode).")
    Double supernetLr;

    @Mixin
    SearchCommand.SearchOptions search;

    @Option(names = "--retrain-epochs", paramLabel = "N", description = "Retraining epochs (default: ${DEFAULT-VALUE}).")
    int retrainEpochs = Retrainer.Config.DEFAULT_EPOCHS;

    @Option(names = "--retrain-batch-size", paramLabel = "N", description = "Retraining batch size (default: ${DEFAULT-VALUE}).")
    int retrainBatchSize = Retrainer.Config.DEFAULT_BATCH;

    @Option(names = "--retrain-lr", paramLabel = "LR", description = "Retraining learning rate (default: 0.1 at batch 128, scaled with the batch size).")
    Double retrainLr;

    @Option(names = "--schedule", paramLabel = "cosine|linear", description = "Retraining schedule (default: ${DEFAULT-VALUE}).")
    String schedule = "cosine";

    @Option(names = "--resume", description = "Continue the run in --out: finished stages are not redone, an interrupted training continues from its checkpoint.")
    boolean resume;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        common.apply();
        runDir.check(resume);
        SearchSpace space = common.loadSpace();
        SupernetTrainer.Config supernetCfg = TrainSupernetCommand.SupernetOptions.build(mode, supernetEpochs, batchSize, supernetLr, "last", common.seed,
                "--supernet-");
        if (!spec.commandLine().getParseResult().hasMatchedOption("--evaluator")) search.evaluator = mode.equals("full") ? "accuracy" : "bn";
        SearchSettings searchSettings = search.settings(space);
        if (!searchSettings.evaluator().needsSupernet()) {
            throw new CliException("--evaluator " + searchSettings.evaluator() + ": bnnas run searches the supernet it trains, with bn or accuracy; "
                    + "search with " + searchSettings.evaluator() + " by bnnas search");
        }
        Retrainer.Config retrainCfg = RetrainCommand.RetrainOptions.build(retrainEpochs, retrainBatchSize, retrainLr, schedule, common.seed, "--retrain-");
        Datasets.Splits data = common.loadData();
        RunDir run = runDir.create("run", resume);
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> config = common.baseConfig("run");
        config.put("supernet", supernetCfg);
        config.put("search", searchSettings.describe());
        config.put("retrain", retrainCfg);
        run.writeJson("config.json", config);
        long start = System.nanoTime();

        Map<String, Object> results = new LinkedHashMap<>();
        int[] best;
        try (Supernet net = new Supernet(space, data.train().channels(), new Rng(common.seed))) {
            Stages.trainSupernet(run, net, data, supernetCfg, resume, out);
            Stages.SearchOutcome found;
            try (Scorers.Scorer scorer = Scorers.create(searchSettings.evaluator(), new Scorers.Setup(space, data.train().channels(), data.train().size(),
                    common.seed, net, null, data.train(), PredictorInputs.validationSubset(data.validation(), search.validationImages), searchSettings.calibrationBatches(), Stages.EVAL_BATCH, null))) {
                found = Stages.search(run, space, scorer, data.train().channels(), data.train().size(), searchSettings, common.seed, out);
            }
            Stages.printTop(out, found.top());
            best = found.top().get(0).arch();
            Candidate winner = found.top().get(0);
            results.put("search_score", winner.score());
            results.put("search_seconds_per_evaluation", found.secondsPerEvaluation());
            results.put("search_top", Stages.describe(found.top()));
            results.put("supernet_checkpoint", run.file(Stages.SUPERNET_FILE).toString());
        }
        Stages.RetrainOutcome r = Stages.retrain(run, space, best, data, retrainCfg, resume, out);
        Map<String, Object> head = Stages.retrainResults(space, best, data, r);
        head.putAll(results);
        head.put("standalone_checkpoint", run.file(Stages.STANDALONE_FILE).toString());
        head.put("total_seconds", (System.nanoTime() - start) / 1e9);
        head.put("peak_resident_mib", ProcessMemory.peakResidentBytes() / 1048576.0);
        head.put("peak_tensor_mib", NativeMemory.peakInUseBytes() / 1048576.0);
        run.writeJson("results.json", head);
        Architecture.write(run.file("arch.json"), space, best, data.train().channels(), data.train().size());
        out.printf("%nchosen architecture: %s%n%.3fM FLOPs, %d parameters%ntest top-1: %.4f (validation %.4f)%n"
                        + "memory: peak resident %.0f MiB, tensors at most %.0f MiB at once%nrun directory: %s%n",
                Architecture.format(best), (double) head.get("flops") / 1e6, (long) head.get("params"), r.testTop1(), r.valTop1(),
                (double) head.get("peak_resident_mib"), (double) head.get("peak_tensor_mib"), run.dir);
        List<GroundTruth.Row> table = common.installedData() ? GroundTruth.shipped(space, common.data) : List.of();
        if (!table.isEmpty()) {
            for (String line : GroundTruth.placement(table, "docs/" + GroundTruth.shippedName(space, common.data), best, (double) head.get("flops"),
                    r.testTop1(), retrainCfg.epochs())) {
                out.println(line);
            }
        }
        out.flush();
        return 0;
    }
}
