// EvaluateCommand: `bnnas evaluate`: top-1 of one architecture with the weights of a supernet or
// standalone checkpoint, optionally after BN recalibration, optionally writing every prediction.
package org.bnnas.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bnnas.data.BatchLoader;
import org.bnnas.data.Dataset;
import org.bnnas.data.Datasets;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.experiment.RunDir;
import org.bnnas.experiment.Stages;
import org.bnnas.score.AccuracyEvaluator;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.StandaloneNet;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.Checkpoint;
import org.bnnas.train.Metrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Top-1 of an architecture with the weights of a supernet or standalone checkpoint.")
final class EvaluateCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    RunDirOption runDir;

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "A supernet or standalone checkpoint (.safetensors).")
    Path checkpoint;

    @Option(names = "--arch", paramLabel = "A", description = "The architecture (required for a supernet; a standalone checkpoint knows its own).")
    String arch;

    @Option(names = "--split", paramLabel = "val|test", description = "Which images (default: ${DEFAULT-VALUE}).")
    String split = "val";

    @Option(names = "--recalibrate", paramLabel = "N", description = "Re-estimate BN statistics over N training batches first "
            + "(default: use the statistics stored in the checkpoint).")
    Integer recalibrate;

    @Option(names = "--predictions", paramLabel = "FILE", description = "Write one CSV line per image: index,label,predicted.")
    Path predictions;

    @Option(names = "--batch-size", paramLabel = "N", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize = Stages.EVAL_BATCH;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        common.apply();
        if (!split.equals("val") && !split.equals("test")) throw new CliException("--split: '" + split + "' is neither val nor test");
        if (recalibrate != null && recalibrate < 1) throw new CliException("--recalibrate must be at least 1, got " + recalibrate);
        if (batchSize < 1) throw new CliException("--batch-size must be at least 1, got " + batchSize);
        SearchSpace space = common.loadSpace();
        Checkpoint.Info info = CheckpointOption.read(checkpoint, space);
        int[] a = CheckpointOption.architecture(checkpoint, info, arch == null ? List.of() : List.of(RetrainCommand.parseArch(arch, space)), space);
        Datasets.Splits data = common.loadData();
        if (data.train().channels() != info.inChannels() || (info.inputSize() != 0 && data.train().size() != info.inputSize())) {
            throw new CliException("--checkpoint " + checkpoint + " expects " + info.inChannels() + "x" + info.inputSize() + "x" + info.inputSize()
                    + " images, --data " + common.data + " has " + data.train().channels() + "x" + data.train().size() + "x" + data.train().size());
        }
        Dataset images = split.equals("val") ? data.validation() : data.test();
        PrintWriter out = spec.commandLine().getOut();
        RunDir run = runDir.create("evaluate");
        Map<String, Object> config = common.baseConfig("evaluate");
        config.put("checkpoint", checkpoint.toString());
        config.put("arch", Architecture.format(a));
        config.put("split", split);
        config.put("recalibrate", recalibrate);
        config.put("predictions", predictions == null ? null : predictions.toString());
        config.put("batch_size", batchSize);
        run.writeJson("config.json", config);
        try (Module net = info.kind() == Checkpoint.Kind.SUPERNET ? new Supernet(space, info.inChannels(), new Rng(0)).select(a)
                : new StandaloneNet(space, a, info.inChannels(), new Rng(0))) {
            Checkpoint.loadModel(checkpoint, net);
            if (recalibrate != null) {
                try (BatchLoader calibration = AccuracyEvaluator.calibrationLoader(data.train(), batchSize, common.seed)) {
                    AccuracyEvaluator.recalibrate(net, recalibrate, calibration);
                }
            }
            StringBuilder csv = predictions == null ? null : new StringBuilder("index,label,predicted\n");
            double top1 = Metrics.top1(net, images, batchSize, csv == null ? null
                    : (index, label, predicted) -> csv.append(index).append(',').append(label).append(',').append(predicted).append('\n'));
            if (csv != null) RunDir.writeAtomically(predictions, csv.toString().getBytes(StandardCharsets.UTF_8));
            out.printf("%s top-1 of %s: %.4f (%d images)%n", split.equals("val") ? "validation" : "test", Architecture.format(a), top1, images.count());
            Map<String, Object> results = new LinkedHashMap<>();
            results.put("checkpoint", checkpoint.toString());
            results.put("arch", Architecture.format(a));
            results.put("split", split);
            results.put("recalibration_batches", recalibrate);
            results.put("top1", top1);
            run.writeJson("results.json", results);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return 0;
    }
}
