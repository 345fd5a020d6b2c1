// ReproduceCommand: `bnnas reproduce`: the ranking study measured on this machine against the
// committed ground truth (or a given or freshly trained one), with a verdict on each of the paper's
// claims, in report.md with its plots; resumable.
package org.bnnas.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bnnas.data.Datasets;
import org.bnnas.experiment.GroundTruth;
import org.bnnas.experiment.Reproduction;
import org.bnnas.experiment.RunDir;
import org.bnnas.space.SearchSpace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = {"Reproduce the paper's claims on this machine against a ground truth of trained architectures (by default the table",
                "the project ships for the space and data set): two of its rows retrained here as a check, BN-NAS and SPOS supernets",
                "scored against it as they train, the training-free predictors, a search under the FLOPs limit by each method with the",
                "winners retrained, and the ranking study's report with a verdict per claim. --resume with the same --out continues it."})
final class ReproduceCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    RunDirOption runDir;

    @Option(names = "--quick", description = "Every stage short (about 7 minutes on 2 cores): checks the setup, not the claims.")
    boolean quick;

    @Option(names = "--ground-truth", paramLabel = "FILE", description = "The ground truth: a table of bnnas bench's form (default: the one the project ships).")
    Path groundTruth;

    @Option(names = "--train-ground-truth", description = "Train the ground truth afresh into --ground-truth (default: RUN/ground-truth.jsonl), "
            + "resuming: 60 architectures, 15 with a second seed, 20 near the FLOPs limit, 4 epochs each (hours; --quick: 8 of 1 epoch).")
    boolean trainGroundTruth;

    @Option(names = "--resamples", paramLabel = "N", description = "Bootstrap resamples, permutations and simulations of the report (default: ${DEFAULT-VALUE}).")
    int resamples = 2000;

    @Option(names = "--resume", description = "Continue the reproduction in --out: finished stages are kept, an interrupted one continues.")
    boolean resume;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        common.apply();
        runDir.check(resume);
        SearchSpace space = common.loadSpace();
        if (resamples < 100) throw new CliException("--resamples must be at least 100, got " + resamples);
        if (groundTruth != null && !trainGroundTruth && !Files.isRegularFile(groundTruth)) throw new CliException("--ground-truth " + groundTruth + ": no such file");
        if (groundTruth == null && !trainGroundTruth && GroundTruth.shipped(space, common.data).isEmpty()) {
            throw new CliException("no ground truth ships for " + space.name + " on " + common.data + ": give one with --ground-truth FILE or train it with --train-ground-truth");
        }
        if (groundTruth == null && !trainGroundTruth && (common.seed != 0 || common.validationSize != Datasets.DEFAULT_VALIDATION_SIZE)) {
            // The split decides what each architecture trains and is validated on: the table's results hold for its split only.
            throw new CliException("--seed and --validation-size: the shipped ground truth was trained on the split of seed 0 with "
                    + Datasets.DEFAULT_VALIDATION_SIZE + " validation images; keep them, or give another table with --ground-truth");
        }
        if (groundTruth != null && !trainGroundTruth) {
            try {
                GroundTruth.read(groundTruth, space);
            } catch (IllegalArgumentException e) {
                throw new CliException("--ground-truth " + e.getMessage());
            }
        }
        if (space.flopsLimit <= 0) throw new CliException("--space " + space.name + " has no FLOPs limit, which the search of every method keeps to");
        Reproduction.Preset preset = quick ? Reproduction.Preset.QUICK : Reproduction.Preset.DEFAULT;
        RunDir run = runDir.create("reproduce", resume);
        Path table = trainGroundTruth && groundTruth == null ? run.file("ground-truth.jsonl") : groundTruth;
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> config = common.baseConfig("reproduce");
        config.put("preset", preset);
        config.put("ground_truth", table == null ? GroundTruth.shippedName(space, common.data) : table.toString());
        config.put("train_ground_truth", trainGroundTruth);
        run.writeJson("config.json", config);
        Reproduction r = new Reproduction(run, space, common.data, common.loadData(), preset, common.seed, table, trainGroundTruth, Main.commit(), out);
        r.runAll();
        String command = "bnnas reproduce" + (quick ? " --quick" : "") + (common.data.equals("fashion-mnist") ? "" : " --data " + common.data)
                + (groundTruth == null ? "" : " --ground-truth " + groundTruth) + (trainGroundTruth ? " --train-ground-truth" : "");
        r.writeReport(command, resamples);
        out.printf("report: %s%n", run.file("report.md"));
        return 0;
    }
}
