// ExportCommand: `bnnas export`: a standalone network, or one path of a supernet, as an ONNX model
// for ONNX Runtime and other inference engines.
package org.bnnas.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.bnnas.data.BatchLoader;
import org.bnnas.data.Datasets;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.export.OnnxExport;
import org.bnnas.experiment.Stages;
import org.bnnas.score.AccuracyEvaluator;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.StandaloneNet;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Export a standalone network, or a supernet's path (--arch), as an ONNX model (opset " + OnnxExport.OPSET + "):",
                "input \"images\" (batch, C, H, W), output \"logits\" (batch, classes); BN kept as nodes, on its running statistics."})
final class ExportCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "A standalone or supernet checkpoint (.safetensors).")
    Path checkpoint;

    @Option(names = "--arch", paramLabel = "A", description = "The architecture: required for a supernet and for a standalone file without bnnas metadata.")
    String arch;

    @Option(names = "--format", paramLabel = "onnx", description = "The format (default: ${DEFAULT-VALUE}; the only one).")
    String format = "onnx";

    @Option(names = "--recalibrate", paramLabel = "N", description = "Re-estimate the path's BN statistics over N training batches first "
            + "(a supernet path's statistics are those of all paths mixed; default: as stored).")
    Integer recalibrate;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The .onnx file to write.")
    Path output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        common.apply();
        if (!format.equals("onnx")) throw new CliException("--format: '" + format + "' is not a format bnnas exports to (onnx)");
        if (recalibrate != null && recalibrate < 1) throw new CliException("--recalibrate must be at least 1, got " + recalibrate);
        SearchSpace space = common.loadSpace();
        Checkpoint.Info info = CheckpointOption.read(checkpoint, space);
        int[] a = CheckpointOption.architecture(checkpoint, info, arch == null ? List.of() : List.of(RetrainCommand.parseArch(arch, space)), space);
        Datasets.Splits data = recalibrate != null ? common.loadData() : null;
        int size = info.inputSize() != 0 ? info.inputSize() : data != null ? data.train().size() : space.inputSize;
        try (StandaloneNet net = network(info, space, a)) {
            if (data != null) {
                try (BatchLoader calibration = AccuracyEvaluator.calibrationLoader(data.train(), Stages.EVAL_BATCH, common.seed)) {
                    AccuracyEvaluator.recalibrate(net, recalibrate, calibration);
                }
            }
            net.eval();
            OnnxExport.write(net, info.inChannels(), size, output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("exported %s (%s, %dx%dx%d input) to %s%n", Architecture.format(a), space.name, info.inChannels(), size, size, output);
        return 0;
    }

    /** The standalone network of the checkpoint, or of the supernet's path {@code a}. */
    private StandaloneNet network(Checkpoint.Info info, SearchSpace space, int[] a) throws IOException {
        if (info.kind() == Checkpoint.Kind.STANDALONE) {
            StandaloneNet net = new StandaloneNet(space, a, info.inChannels(), new Rng(0));
            try {
                Checkpoint.loadModel(checkpoint, net);
            } catch (IOException | RuntimeException e) {
                net.close();
                throw e;
            }
            return net;
        }
        try (Supernet supernet = new Supernet(space, info.inChannels(), new Rng(0))) {
            Checkpoint.loadModel(checkpoint, supernet);
            return StandaloneNet.fromSupernet(supernet, a, info.inChannels());
        }
    }
}
