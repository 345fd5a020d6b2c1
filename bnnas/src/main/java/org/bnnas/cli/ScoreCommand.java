// ScoreCommand: `bnnas score`: scores architectures with one or more predictors (the BN indicator,
// SPOS accuracy, the training-free proxies, FLOPs, params, random), one line per architecture and
// predictor with the score and the time it took.
package org.bnnas.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.bnnas.experiment.RunDir;
import org.bnnas.score.Predictor;
import org.bnnas.score.Scorers;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Score architectures with predictors; higher is better for every one. One line per architecture and predictor:",
                "architecture, predictor, score, seconds. synflow is printed as the natural log of the sum."})
final class ScoreCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    RunDirOption runDir;

    @Option(names = "--evaluator", required = true, split = ",", paramLabel = "NAME", description = "Predictors, comma-separated: bn, accuracy (need a "
            + "supernet --checkpoint), synflow, snip, grad_norm, jacob_cov, naswot, flops, params, random.")
    List<String> evaluators;

    @Option(names = "--arch", paramLabel = "A", description = "An architecture (op index per layer, -1 for identity); may repeat.")
    List<String> archs = new ArrayList<>();

    @Option(names = "--arch-file", paramLabel = "FILE", description = "Architectures, one per line (# starts a comment), or JSON: a list of them, "
            + "of objects with an \"arch\" field, an object with an \"archs\" list, or JSON lines with an \"arch\" each (a bnnas bench table).")
    Path archFile;

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "A supernet checkpoint (bn, accuracy, and the weights of its paths for the "
            + "network predictors) or a standalone one (its weights); without it, each architecture at initialisation from --seed.")
    Path checkpoint;

    @Option(names = "--split", paramLabel = "train|val|test", description = "Images of the gradient and activation predictors' batch (default: ${DEFAULT-VALUE}).")
    String split = "train";

    @Option(names = "--batch-size", paramLabel = "N", description = "Images in that batch: the first N of the split (default: ${DEFAULT-VALUE}).")
    int batchSize = 64;

    @Option(names = "--calibration-batches", paramLabel = "N", description = "Training batches that recalibrate BN statistics for accuracy "
            + "(default: ${DEFAULT-VALUE}).")
    int calibrationBatches = 20;

    @Option(names = "--validation-images", paramLabel = "N", description = "Images accuracy scores each architecture on: the first N of the "
            + "validation split (default: all of it).")
    int validationImages;

    @Option(names = "--json", description = "One JSON object per line instead of text.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        common.apply();
        SearchSpace space = common.loadSpace();
        Set<Predictor> predictors = new LinkedHashSet<>();
        for (String e : evaluators) {
            try {
                predictors.add(Predictor.parse(e.trim()));
            } catch (IllegalArgumentException x) {
                throw new CliException("--evaluator: " + x.getMessage());
            }
        }
        List<int[]> toScore = new ArrayList<>();
        for (String a : archs) toScore.add(RetrainCommand.parseArch(a, space));
        if (archFile != null) toScore.addAll(readArchFile(archFile, space));
        if (toScore.isEmpty() && checkpoint != null) { // a standalone network that says its architecture is scored as itself
            Checkpoint.Info info = CheckpointOption.read(checkpoint, space);
            if (info.kind() == Checkpoint.Kind.STANDALONE) toScore.add(CheckpointOption.architecture(checkpoint, info, List.of(), space));
        }
        if (toScore.isEmpty()) throw new CliException("--arch or --arch-file: no architecture to score");
        if (calibrationBatches < 1) throw new CliException("--calibration-batches must be at least 1, got " + calibrationBatches);
        PrintWriter out = spec.commandLine().getOut();
        try (PredictorInputs in = PredictorInputs.load(common, space, predictors, checkpoint, toScore, split, batchSize, calibrationBatches,
                validationImages)) {
            RunDir run = runDir.create("score");
            Map<String, Object> config = common.baseConfig("score");
            config.put("evaluators", predictors.stream().map(Predictor::toString).toList());
            config.put("architectures", toScore.size());
            config.put("checkpoint", checkpoint == null ? null : checkpoint.toString());
            config.put("predictor_inputs", in.description);
            run.writeJson("config.json", config);
            List<Scorers.Scorer> scorers = new ArrayList<>();
            try {
                for (Predictor p : predictors) scorers.add(in.scorer(p));
                if (!json) out.printf("%-60s %-10s %16s %10s%n", "arch", "evaluator", "score", "seconds");
                int i = 0;
                for (Predictor p : predictors) {
                    Scorers.Scorer scorer = scorers.get(i++);
                    for (int[] arch : toScore) {
                        long start = System.nanoTime();
                        double score = scorer.score(arch);
                        double seconds = (System.nanoTime() - start) / 1e9;
                        Map<String, Object> line = new LinkedHashMap<>();
                        line.put("arch", Architecture.format(arch));
                        line.put("evaluator", p.toString());
                        line.put("score", score);
                        line.put("seconds", seconds);
                        run.appendLine("scores.jsonl", line);
                        if (json) out.println(RunDir.LINE.toJson(line));
                        else out.printf("%-60s %-10s %16.8g %10.4f%n", Architecture.format(arch), p, score, seconds);
                        out.flush();
                    }
                }
            } finally {
                scorers.forEach(Scorers.Scorer::close);
            }
        }
        return 0;
    }

    /**
     * Architectures from a text file (one per line) or a JSON file, in order, each once (a table
     * lists an architecture once per seed); every one is checked against the space.
     */
    static List<int[]> readArchFile(Path file, SearchSpace space) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(file + ": cannot read (" + e.getMessage() + ")", e));
        }
        List<String> found = new ArrayList<>();
        String trimmed = text.strip();
        if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
            try {
                List<JsonElement> entries = new ArrayList<>();
                List<String> lines = trimmed.lines().filter(l -> !l.isBlank()).toList();
                if (lines.size() > 1 && lines.stream().allMatch(l -> l.strip().startsWith("{") && l.strip().endsWith("}"))) { // JSON lines
                    for (String line : lines) entries.add(JsonParser.parseString(line));
                } else {
                    JsonElement root = JsonParser.parseString(trimmed);
                    JsonArray list = root.isJsonArray() ? root.getAsJsonArray() : root.getAsJsonObject().getAsJsonArray("archs");
                    if (list == null) throw new CliException("--arch-file " + file + ": a JSON object needs an \"archs\" list");
                    list.forEach(entries::add);
                }
                for (JsonElement e : entries) found.add(archText(e.isJsonObject() ? e.getAsJsonObject().get("arch") : e, file));
            } catch (JsonParseException | IllegalStateException e) {
                throw new CliException("--arch-file " + file + ": not valid JSON (" + e.getMessage() + ")");
            }
        } else {
            for (String line : text.split("\n")) {
                String l = line.contains("#") ? line.substring(0, line.indexOf('#')) : line;
                if (!l.isBlank()) found.add(l.strip());
            }
        }
        if (found.isEmpty()) throw new CliException("--arch-file " + file + ": holds no architecture");
        List<int[]> out = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < found.size(); i++) {
            int[] a;
            try {
                a = Architecture.parse(found.get(i), space);
            } catch (IllegalArgumentException e) {
                throw new CliException("--arch-file " + file + ": architecture " + (i + 1) + " (" + found.get(i) + "): " + e.getMessage());
            }
            if (seen.add(Architecture.key(a))) out.add(a);
        }
        return out;
    }

    /** An architecture as JSON: "3,-1,0,..." or [3, -1, 0, ...]. */
    private static String archText(JsonElement e, Path file) {
        if (e == null) throw new CliException("--arch-file " + file + ": an entry has no \"arch\"");
        if (e.isJsonPrimitive()) return e.getAsString();
        if (e.isJsonArray()) {
            List<String> ops = new ArrayList<>();
            e.getAsJsonArray().forEach(v -> ops.add(v.getAsString()));
            return String.join(",", ops);
        }
        throw new CliException("--arch-file " + file + ": an architecture must be a string or a list, got " + e);
    }
}
