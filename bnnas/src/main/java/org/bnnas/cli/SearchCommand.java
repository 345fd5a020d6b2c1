// SearchCommand: `bnnas search`: evolutionary or random search over a trained supernet with the BN
// indicator (BN-NAS) or the accuracy evaluator (SPOS), under a FLOPs limit.
package org.bnnas.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bnnas.data.Datasets;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.experiment.RunDir;
import org.bnnas.experiment.SearchSettings;
import org.bnnas.experiment.Stages;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "search", mixinStandardHelpOptions = true,
        description = "Search a trained supernet for the best architecture within a FLOPs limit; prints the top 10.")
final class SearchCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "Supernet checkpoint (train-supernet's supernet.safetensors).")
    Path checkpoint;

    @Mixin
    SearchOptions search;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        common.apply();
        SearchSpace space = common.loadSpace();
        Checkpoint.Info info = SearchOptions.readSupernetInfo(checkpoint, space);
        SearchSettings settings = search.settings(space);
        Datasets.Splits data = settings.evaluator() == SearchSettings.Evaluator.ACCURACY ? common.loadData() : null;
        // A file written by PyTorch does not say its input size: the data's, or else the space's, is the one FLOPs are counted at.
        int size = info.inputSize() != 0 ? info.inputSize() : data != null ? data.train().size() : space.inputSize;
        if (data != null && (data.train().channels() != info.inChannels() || data.train().size() != size)) {
            throw new CliException("--checkpoint " + checkpoint + " was trained on " + info.inChannels() + "x" + size + "x" + size
                    + " images, --data " + common.data + " has " + data.train().channels() + "x" + data.train().size() + "x" + data.train().size());
        }
        RunDir run = common.runDir("search");
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> config = common.baseConfig("search");
        config.put("checkpoint", checkpoint.toString());
        config.put("search", settings.describe());
        run.writeJson("config.json", config);
        try (Supernet net = new Supernet(space, info.inChannels(), new Rng(common.seed))) {
            Checkpoint.loadModel(checkpoint, net);
            Stages.SearchOutcome found = Stages.search(run, space, net, data, info.inChannels(), size, settings, common.seed, out);
            Stages.printTop(out, found.result().top());
            Map<String, Object> results = new LinkedHashMap<>();
            results.put("evaluator", settings.evaluator().toString());
            results.put("method", settings.method().toString());
            results.put("flops_limit", settings.flopsLimit());
            results.put("evaluated", found.result().evaluated().size());
            results.put("seconds_per_evaluation", found.secondsPerEvaluation());
            results.put("top", Stages.describe(found.result().top()));
            run.writeJson("results.json", results);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return 0;
    }

    /** Search options, shared with `bnnas run`. */
    static final class SearchOptions {
        @Option(names = "--evaluator", paramLabel = "bn|accuracy", description = "bn: the BN indicator (default); accuracy: SPOS's "
                + "validation top-1 after BN recalibration.")
        String evaluator = "bn";

        @Option(names = "--method", paramLabel = "evolution|random", description = "Evolutionary search as in the paper (default), or random "
                + "search with the same budget.")
        String method = "evolution";

        @Option(names = "--flops-limit", paramLabel = "FLOPS", description = "Largest FLOPs of a candidate, e.g. 475M or 4.2e6 (default: the "
                + "space's limit, none for bnnas-small); 0 for none.")
        String flopsLimit;

        @Option(names = "--calibration-batches", paramLabel = "N", description = "Training batches that recalibrate BN statistics for the "
                + "accuracy evaluator (default: ${DEFAULT-VALUE}).")
        int calibrationBatches = 20;

        @Option(names = "--population", paramLabel = "N", description = "Population of each generation (default: ${DEFAULT-VALUE}).")
        int population = 50;

        @Option(names = "--generations", paramLabel = "N", description = "Generations (default: ${DEFAULT-VALUE}).")
        int generations = 20;

        /** The checked settings; the FLOPs limit defaults to the space's. */
        SearchSettings settings(SearchSpace space) {
            SearchSettings.Evaluator e = switch (evaluator) {
                case "bn" -> SearchSettings.Evaluator.BN;
                case "accuracy" -> SearchSettings.Evaluator.ACCURACY;
                default -> throw new CliException("--evaluator: '" + evaluator + "' is neither bn nor accuracy");
            };
            SearchSettings.Method m = switch (method) {
                case "evolution" -> SearchSettings.Method.EVOLUTION;
                case "random" -> SearchSettings.Method.RANDOM;
                default -> throw new CliException("--method: '" + method + "' is neither evolution nor random");
            };
            if (calibrationBatches < 1) throw new CliException("--calibration-batches must be at least 1, got " + calibrationBatches);
            if (population < 2) throw new CliException("--population must be at least 2, got " + population);
            if (generations < 1) throw new CliException("--generations must be at least 1, got " + generations);
            return new SearchSettings(e, m, flopsLimit(space), calibrationBatches, population, generations);
        }

        /** The limit in FLOPs, 0 for none. */
        private double flopsLimit(SearchSpace space) {
            if (flopsLimit == null) return space.flopsLimit;
            String t = flopsLimit.trim();
            double scale = 1;
            char last = t.isEmpty() ? ' ' : Character.toUpperCase(t.charAt(t.length() - 1));
            if (last == 'K' || last == 'M' || last == 'G') {
                scale = last == 'K' ? 1e3 : last == 'M' ? 1e6 : 1e9;
                t = t.substring(0, t.length() - 1);
            }
            try {
                double v = Double.parseDouble(t) * scale;
                if (v < 0 || Double.isNaN(v) || Double.isInfinite(v)) throw new NumberFormatException();
                return v;
            } catch (NumberFormatException e) {
                throw new CliException("--flops-limit: '" + flopsLimit + "' is not a FLOPs count such as 475M, 4.2e6 or 0");
            }
        }

        /** The description of a supernet checkpoint, checked against the space. */
        static Checkpoint.Info readSupernetInfo(Path checkpoint, SearchSpace space) {
            try {
                Checkpoint.Info info = Checkpoint.readInfo(checkpoint, space.name);
                if (info.kind() != Checkpoint.Kind.SUPERNET) throw new CliException("--checkpoint " + checkpoint + " is a standalone network, not a supernet");
                if (!info.space().equals(space.name)) {
                    throw new CliException("--checkpoint " + checkpoint + " belongs to space " + info.space() + ", not " + space.name);
                }
                return info;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
