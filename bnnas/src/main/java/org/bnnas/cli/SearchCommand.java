// SearchCommand: `bnnas search`: evolutionary or random search under a FLOPs limit with any
// predictor: the BN indicator (BN-NAS) or the accuracy evaluator (SPOS) over a trained supernet,
// a training-free proxy, or a baseline.
package org.bnnas.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bnnas.experiment.RunDir;
import org.bnnas.experiment.SearchSettings;
import org.bnnas.experiment.Stages;
import org.bnnas.score.Predictor;
import org.bnnas.score.Scorers;
import org.bnnas.space.Architecture;
import org.bnnas.space.LatencyTable;
import org.bnnas.space.SearchSpace;
import org.bnnas.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "search", mixinStandardHelpOptions = true,
        description = "Search for the best architecture within a FLOPs (and optionally latency) limit by a predictor (a trained supernet's "
                + "for bn and accuracy); prints the best --top-k and writes every candidate to candidates.csv.")
final class SearchCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    RunDirOption runDir;

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "Supernet checkpoint (train-supernet's supernet.safetensors): required by "
            + "bn and accuracy; the other network predictors then score its paths' weights instead of each architecture at initialisation.")
    Path checkpoint;

    @Option(names = "--split", paramLabel = "train|val|test", description = "Images of the gradient and activation predictors' batch (default: ${DEFAULT-VALUE}).")
    String split = "train";

    @Option(names = "--batch-size", paramLabel = "N", description = "Images in that batch: the first N of the split (default: ${DEFAULT-VALUE}).")
    int batchSize = 64;

    @Mixin
    SearchOptions search;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        common.apply();
        SearchSpace space = common.loadSpace();
        if (checkpoint != null) SearchOptions.readSupernetInfo(checkpoint, space);
        SearchSettings settings = search.settings(space);
        try (PredictorInputs in = PredictorInputs.load(common, space, List.of(settings.evaluator()), checkpoint, List.of(), split, batchSize,
                settings.calibrationBatches(), search.validationImages); Scorers.Scorer scorer = in.scorer(settings.evaluator())) {
            RunDir run = runDir.create("search");
            PrintWriter out = spec.commandLine().getOut();
            Map<String, Object> config = common.baseConfig("search");
            config.put("checkpoint", checkpoint == null ? null : checkpoint.toString());
            config.put("search", settings.describe());
            config.put("predictor_inputs", in.description);
            run.writeJson("config.json", config);
            Stages.SearchOutcome found = Stages.search(run, space, scorer, in.inChannels, in.inputSize, settings, common.seed, out);
            Stages.printTop(out, found.top());
            Map<String, Object> results = new LinkedHashMap<>();
            results.put("evaluator", settings.evaluator().toString());
            results.put("method", settings.method().toString());
            results.put("flops_limit", settings.flopsLimit());
            results.put("evaluated", found.result().evaluated().size());
            results.put("seconds_per_evaluation", found.secondsPerEvaluation());
            results.put("top", Stages.describe(found.top()));
            run.writeJson("results.json", results);
            Architecture.write(run.file("arch.json"), space, found.top().get(0).arch(), in.inChannels, in.inputSize);
        }
        return 0;
    }

    /** Search options, shared with `bnnas run`. */
    static final class SearchOptions {
        @Option(names = "--evaluator", paramLabel = "NAME", description = "bn: the BN indicator (default); accuracy: SPOS's validation top-1 "
                + "after BN recalibration; synflow, snip, grad_norm, jacob_cov, naswot: training-free proxies; flops, params, random: baselines.")
        String evaluator = "bn";

        @Option(names = "--method", paramLabel = "evolution|random", description = "Evolutionary search as in the paper (default), or random "
                + "search with the same budget.")
        String method = "evolution";

        @Option(names = "--flops-limit", paramLabel = "FLOPS", description = "Largest FLOPs of a candidate, e.g. 475M or 4.2e6 (default: the "
                + "space's limit: 3.06M for bnnas-small, 475M for bnnas-imagenet); 0 for none.")
        String flopsLimit;

        @Option(names = "--calibration-batches", paramLabel = "N", description = "Training batches that recalibrate BN statistics for the "
                + "accuracy evaluator (default: ${DEFAULT-VALUE}).")
        int calibrationBatches = 20;

        @Option(names = "--validation-images", paramLabel = "N", description = "Images the accuracy evaluator scores each candidate on: the first N "
                + "of the validation split (default: all of it).")
        int validationImages;

        @Option(names = "--population", paramLabel = "N", description = "Population of each generation (default: ${DEFAULT-VALUE}).")
        int population = 50;

        @Option(names = "--generations", paramLabel = "N", description = "Generations (default: ${DEFAULT-VALUE}).")
        int generations = 20;

        @Option(names = "--top-k", paramLabel = "K", description = "Best candidates printed and written to results.json (default: ${DEFAULT-VALUE}).")
        int topK = 10;

        @Option(names = "--latency-table", paramLabel = "FILE", description = "A latency table of this space (bnnas latency-table): each "
                + "candidate's predicted latency is recorded, and --latency-limit bounds it.")
        Path latencyTable;

        @Option(names = "--latency-limit", paramLabel = "MS", description = "Largest predicted latency of a candidate in milliseconds, by "
                + "--latency-table (default: none).")
        Double latencyLimit;

        /** The checked settings; the FLOPs limit defaults to the space's. */
        SearchSettings settings(SearchSpace space) {
            Predictor e;
            try {
                e = Predictor.parse(evaluator);
            } catch (IllegalArgumentException x) {
                throw new CliException("--evaluator: " + x.getMessage());
            }
            SearchSettings.Method m = switch (method) {
                case "evolution" -> SearchSettings.Method.EVOLUTION;
                case "random" -> SearchSettings.Method.RANDOM;
                default -> throw new CliException("--method: '" + method + "' is neither evolution nor random");
            };
            if (calibrationBatches < 1) throw new CliException("--calibration-batches must be at least 1, got " + calibrationBatches);
            if (population < 2) throw new CliException("--population must be at least 2, got " + population);
            if (generations < 1) throw new CliException("--generations must be at least 1, got " + generations);
            if (topK < 1) throw new CliException("--top-k must be at least 1, got " + topK);
            if (latencyLimit != null && latencyTable == null) throw new CliException("--latency-limit needs --latency-table FILE");
            if (latencyLimit != null && !(latencyLimit > 0 && latencyLimit < Double.POSITIVE_INFINITY)) {
                throw new CliException("--latency-limit must be a positive number of milliseconds, got " + latencyLimit);
            }
            LatencyTable table = null;
            if (latencyTable != null) {
                if (!Files.isRegularFile(latencyTable)) throw new CliException("--latency-table " + latencyTable + ": no such file");
                table = LatencyTable.read(latencyTable, space);
            }
            return new SearchSettings(e, m, flopsLimit(space), calibrationBatches, population, generations, topK, table,
                    latencyLimit == null ? 0 : latencyLimit);
        }

        /** The limit in FLOPs, 0 for none. */
        private double flopsLimit(SearchSpace space) {
            return flopsLimit == null ? space.flopsLimit : parseFlops(flopsLimit, "--flops-limit");
        }

        /** A FLOPs count such as 475M, 4.2e6 or 0 (K, M and G scale by 1e3, 1e6 and 1e9); {@code option} names it in the error. */
        static double parseFlops(String text, String option) {
            String t = text.trim();
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
                throw new CliException(option + ": '" + text + "' is not a FLOPs count such as 475M, 4.2e6 or 0");
            }
        }

        /** The description of a supernet checkpoint, checked against the space. */
        static Checkpoint.Info readSupernetInfo(Path checkpoint, SearchSpace space) {
            Checkpoint.Info info = CheckpointOption.read(checkpoint, space);
            if (info.kind() != Checkpoint.Kind.SUPERNET) throw new CliException("--checkpoint " + checkpoint + " is a standalone network, not a supernet");
            return info;
        }
    }
}
