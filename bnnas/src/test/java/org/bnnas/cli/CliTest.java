// CliTest: the bnnas command line end to end on a tiny generated data set, and how it refuses bad input.
package org.bnnas.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.bnnas.data.TestFiles;
import org.bnnas.engine.backend.BackendProvider;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.io.SafeTensors;
import org.bnnas.space.Architecture;
import org.bnnas.space.LatencyTable;
import org.bnnas.space.SearchSpace;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CliTest {
    @TempDir
    static Path shared;
    static Path data, run;
    static Result pipeline;

    /** Exit code and what the command printed. */
    record Result(int code, String out, String err) {}

    static Result bnnas(Object... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] a = new String[args.length];
        for (int i = 0; i < args.length; i++) a[i] = args[i].toString();
        int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), a);
        return new Result(code, out.toString(), err.toString());
    }

    /** One small pipeline run that the tests below inspect: 300 training images (100 held out), 100 test images. */
    @BeforeAll
    static void runThePipelineOnATinySubset() throws IOException {
        data = TestFiles.idxDir(Files.createDirectories(shared.resolve("data")), 300, 100);
        run = shared.resolve("run");
        pipeline = bnnas("run", "--data-dir", data, "--validation-size", 100, "--supernet-epochs", 1, "--batch-size", 50,
                "--population", 6, "--generations", 2, "--retrain-epochs", 1, "--retrain-batch-size", 50, "--out", run, "--threads", 2);
    }

    private static JsonObject json(Path file) throws IOException {
        return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    }

    @Test
    void everyCommandsHelpPrintsWithoutAFormattingWarning() {
        // picocli formats descriptions with String.format and warns on System.err about a bare '%'
        PrintStream stderr = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(warnings, true));
            for (String command : new CommandLine(new Main()).getSubcommands().keySet()) {
                Result r = bnnas(command, "--help");
                assertEquals(0, r.code(), command + ": " + r.err());
            }
        } finally {
            System.setErr(stderr);
        }
        assertEquals("", warnings.toString());
    }

    @Test
    void runWritesItsArchitectureAsAFileThatEveryArchOptionReads() {
        String arch = json0(run.resolve("results.json")).get("arch").getAsString();
        Result r = bnnas("info", "--arch", "@" + run.resolve("arch.json"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("arch " + arch + " on"), r.out());
        assertOneLineError(bnnas("info", "--arch", "@" + shared.resolve("no-arch.json")), "no-arch.json");
        assertOneLineError(bnnas("info", "--arch", "k3e3,k9e9"), "'k9e9' at position 1 is neither an op index nor an op of bnnas-small");
    }

    @Test
    void runPrintsTheChosenArchitectureItsFlopsAndTestAccuracy() {
        assertEquals(0, pipeline.code(), pipeline.err());
        assertTrue(pipeline.out().contains("chosen architecture: "), pipeline.out());
        assertTrue(pipeline.out().contains("M FLOPs"), pipeline.out());
        assertTrue(pipeline.out().contains("test top-1: "), pipeline.out());
        assertTrue(pipeline.out().contains("memory: peak resident "), pipeline.out());
    }

    @Test
    void runWritesResultsConfigMetricsCheckpointsAndPlots() throws IOException {
        JsonObject results = json(run.resolve("results.json"));
        assertEquals(21, results.get("arch").getAsString().split(",").length);
        assertTrue(results.get("flops").getAsDouble() > 1e6);
        assertTrue(results.get("params").getAsLong() > 1000);
        for (String key : List.of("val_top1", "test_top1")) {
            double v = results.get(key).getAsDouble();
            assertTrue(v >= 0 && v <= 1, key + " is a fraction: " + v);
        }
        // the tensors of a training step are part of what the process holds at its peak
        double tensors = results.get("peak_tensor_mib").getAsDouble(), resident = results.get("peak_resident_mib").getAsDouble();
        assertTrue(tensors > 0 && resident > tensors, "peak tensors " + tensors + " MiB, peak resident " + resident + " MiB");
        JsonObject config = json(run.resolve("config.json"));
        assertEquals(0, config.get("seed").getAsLong());
        assertTrue(config.has("bnnas_version") && config.has("java_version") && config.getAsJsonObject("retrain").has("lr"));
        List<String> metrics = Files.readAllLines(run.resolve("metrics.jsonl"));
        for (String stage : List.of("supernet", "search", "retrain")) {
            assertTrue(metrics.stream().anyMatch(l -> l.contains("\"stage\":\"" + stage + "\"")), "metrics of stage " + stage);
        }
        for (String f : List.of("supernet.safetensors", "supernet.state.safetensors", "standalone.safetensors", "supernet-loss.png",
                "supernet-accuracy.png", "retrain-loss.png", "retrain-accuracy.png", "search-best.png", "search-score-vs-flops.png")) {
            assertTrue(Files.size(run.resolve(f)) > 0, f);
        }
    }

    @Test
    void evaluateWritesOnePredictionPerImage() throws IOException {
        Path csv = shared.resolve("predictions.csv");
        Result r = bnnas("evaluate", "--data-dir", data, "--validation-size", 100, "--checkpoint", run.resolve("standalone.safetensors"),
                "--split", "test", "--predictions", csv, "--out", shared.resolve("eval"));
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(csv);
        assertEquals("index,label,predicted", lines.get(0));
        assertEquals(101, lines.size());
        assertTrue(lines.get(1).matches("0,0,\\d"), lines.get(1));
        double top1 = json(shared.resolve("eval/results.json")).get("top1").getAsDouble();
        long hits = lines.stream().skip(1).map(l -> l.split(",")).filter(p -> p[1].equals(p[2])).count();
        assertEquals(hits / 100.0, top1, 1e-12, "the accuracy is that of the predictions written");
    }

    @Test
    void evaluateASupernetPathWithRecalibration() {
        String arch = json0(run.resolve("results.json")).get("arch").getAsString();
        Result r = bnnas("evaluate", "--data-dir", data, "--validation-size", 100, "--checkpoint", run.resolve("supernet.safetensors"),
                "--arch=" + arch, "--recalibrate", 2, "--out", shared.resolve("eval-supernet"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("validation top-1 of " + arch), r.out());
    }

    @Test
    void searchWithTheAccuracyEvaluatorPrintsTheTopCandidates() {
        Result r = bnnas("search", "--data-dir", data, "--validation-size", 100, "--checkpoint", run.resolve("supernet.safetensors"),
                "--evaluator", "accuracy", "--calibration-batches", 1, "--population", 4, "--generations", 1, "--flops-limit", "4M",
                "--validation-images", 40, "--out", shared.resolve("search"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("rank"), r.out());
        JsonObject results = json0(shared.resolve("search/results.json"));
        results.getAsJsonArray("top").forEach(c -> assertTrue(c.getAsJsonObject().get("flops").getAsDouble() <= 4e6));
        // scored on the first 40 validation images: every accuracy is a multiple of 1/40
        results.getAsJsonArray("top").forEach(c -> assertEquals(0, Math.IEEEremainder(c.getAsJsonObject().get("score").getAsDouble() * 40, 1), 1e-6));
        assertEquals("the first 40 images of the validation split",
                json0(shared.resolve("search/config.json")).getAsJsonObject("predictor_inputs").get("validation").getAsString());
        assertOneLineError(bnnas("search", "--data-dir", data, "--validation-size", 100, "--checkpoint", run.resolve("supernet.safetensors"),
                "--evaluator", "accuracy", "--validation-images", 101), "--validation-images 101 is more than the validation split's 100");
    }

    /** The run's checkpoint as PyTorch's safetensors.torch.save_file writes a state dict: same tensors, no metadata. */
    private static Path withoutMetadata(String name) throws IOException {
        Path copy = shared.resolve("pytorch-" + name);
        if (!Files.exists(copy)) SafeTensors.write(copy, SafeTensors.read(run.resolve(name)).tensors(), null);
        return copy;
    }

    @Test
    void evaluateAStandaloneNetworkWrittenByPytorchNeedsItsArchitecture() throws IOException {
        Path file = withoutMetadata("standalone.safetensors");
        String arch = json(run.resolve("results.json")).get("arch").getAsString();
        assertOneLineError(bnnas("evaluate", "--data-dir", data, "--validation-size", 100, "--checkpoint", file, "--split", "test"),
                "--arch is required with " + file + " (a standalone network written without bnnas metadata");
        Result ours = bnnas("evaluate", "--data-dir", data, "--validation-size", 100, "--checkpoint", run.resolve("standalone.safetensors"),
                "--split", "test", "--out", shared.resolve("eval-ours"));
        Result theirs = bnnas("evaluate", "--data-dir", data, "--validation-size", 100, "--checkpoint", file, "--arch=" + arch, "--split", "test",
                "--out", shared.resolve("eval-theirs"));
        assertEquals(0, theirs.code(), theirs.err());
        assertEquals(ours.out(), theirs.out(), "the same weights give the same accuracy");
        int[] other = org.bnnas.space.Architecture.parse(arch);
        other[0] = (other[0] + 1) % 6;
        assertOneLineError(bnnas("evaluate", "--data-dir", data, "--validation-size", 100, "--checkpoint", file,
                "--arch=" + org.bnnas.space.Architecture.format(other)), "does not fit the model");
    }

    @Test
    void searchASupernetWrittenByPytorch() throws IOException {
        Result r = bnnas("search", "--checkpoint", withoutMetadata("supernet.safetensors"), "--population", 4, "--generations", 1,
                "--out", shared.resolve("search-theirs"));
        assertEquals(0, r.code(), r.err());
        Result ours = bnnas("search", "--checkpoint", run.resolve("supernet.safetensors"), "--population", 4, "--generations", 1,
                "--out", shared.resolve("search-ours"));
        assertEquals(json(shared.resolve("search-ours/results.json")).get("top"), json(shared.resolve("search-theirs/results.json")).get("top"));
    }

    @Test
    void trainingStopsAtANonFiniteLossAndWritesNoCheckpoint() {
        Path out = shared.resolve("diverged");
        Result r = bnnas("train-supernet", "--data-dir", data, "--validation-size", 100, "--epochs", 1, "--batch-size", 100, "--lr", "1e30",
                "--mode", "full", "--out", out);
        assertOneLineError(r, "training diverged: the loss is ");
        assertTrue(r.err().matches("(?s).*at epoch 1, step \\d+ \\(batch \\d+ of 2\\), learning rate \\S+e\\+29; try a lower learning rate\\. "
                + "No checkpoint was written\\..*"), r.err());
        assertFalse(Files.exists(out.resolve("supernet.safetensors")));
    }

    @Test
    void aSpaceFileWithAMissingFieldNamesItAndTheFile() throws IOException {
        String small = new String(org.bnnas.space.SearchSpace.class.getResourceAsStream("/spaces/bnnas-small.json").readAllBytes());
        Path broken = shared.resolve("no-stride.json");
        Files.writeString(broken, small.replace("\"out\": 8, \"stride\": 1", "\"out\": 8"));
        assertOneLineError(bnnas("info", "--space", broken), broken + ": field stem.conv3x3.stride is missing");
        Files.writeString(broken, small.replace("\"kernel\": 5, \"expand\": 3", "\"kernel\": \"five\", \"expand\": 3"));
        assertOneLineError(bnnas("info", "--space", broken), broken + ": field ops[2].kernel must be an integer, got \"five\"");
    }

    /**
     * A disk that fills up while the checkpoint is written: the error names the file. Needs a small
     * tmpfs, which only a user allowed to mount (root in most containers) can make; skipped elsewhere.
     */
    @Test
    @org.junit.jupiter.api.Tag("reliability")
    void aFullDiskIsReportedWithTheFileBeingWritten() throws IOException, InterruptedException {
        Path disk = Files.createDirectories(shared.resolve("tiny-disk"));
        assumeTrue(new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", disk.toString()).start().waitFor() == 0,
                "cannot mount a small tmpfs here");
        try {
            Result r = bnnas("train-supernet", "--data-dir", data, "--validation-size", 100, "--epochs", 1, "--batch-size", 100, "--out", disk);
            assertOneLineError(r, disk.resolve("supernet.safetensors") + ": cannot write (No space left on device)");
        } finally {
            new ProcessBuilder("umount", disk.toString()).start().waitFor();
        }
    }

    private static final String ARCH_A = "0,-1,1,2,3,-1,-1,4,5,-1,0,1,2,3,4,5,5,4,3,2,1", ARCH_B = "5,-1,5,2,1,-1,-1,3,1,-1,3,3,4,2,5,5,3,0,5,2,3";

    @Test
    void scorePrintsEveryPredictorOfEveryArchitecture() throws IOException {
        Path file = shared.resolve("archs.txt");
        Files.writeString(file, "# two architectures\n" + ARCH_A + "\n\n" + ARCH_B + "  # the README's\n");
        Result r = bnnas("score", "--data-dir", data, "--validation-size", 100, "--evaluator", "synflow,snip,grad_norm,jacob_cov,naswot,flops,params,random",
                "--arch-file", file, "--batch-size", 8, "--json", "--out", shared.resolve("score"));
        assertEquals(0, r.code(), r.err());
        List<JsonObject> lines = r.out().lines().map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
        assertEquals(16, lines.size(), "8 predictors x 2 architectures");
        for (JsonObject line : lines) assertTrue(Double.isFinite(line.get("score").getAsDouble()), line.toString());
        JsonObject flopsA = lines.stream().filter(l -> l.get("evaluator").getAsString().equals("flops") && l.get("arch").getAsString().equals(ARCH_A))
                .findFirst().orElseThrow();
        Result info = bnnas("info", "--space", "bnnas-small", "--arch=" + ARCH_A, "--json");
        assertEquals(JsonParser.parseString(info.out()).getAsJsonObject().get("flops").getAsDouble(), flopsA.get("score").getAsDouble(),
                "FLOPs as bnnas info counts them");
        assertEquals(16, Files.readAllLines(shared.resolve("score/scores.jsonl")).size());
        Result again = bnnas("score", "--data-dir", data, "--validation-size", 100, "--evaluator", "naswot,random", "--arch=" + ARCH_A, "--batch-size", 8,
                "--json", "--out", shared.resolve("score-again"));
        assertEquals(0, again.code(), again.err());
        for (String l : again.out().lines().toList()) {
            JsonObject o = JsonParser.parseString(l).getAsJsonObject();
            double first = lines.stream().filter(x -> x.get("evaluator").equals(o.get("evaluator")) && x.get("arch").equals(o.get("arch")))
                    .findFirst().orElseThrow().get("score").getAsDouble();
            assertEquals(first, o.get("score").getAsDouble(), "the same seed and batch give the same " + o.get("evaluator"));
        }
    }

    @Test
    void scoreTakesTheBnIndicatorFromASupernetAndRefusesItWithoutOne() throws IOException {
        Path json = shared.resolve("archs.json");
        Files.writeString(json, "{\"archs\": [{\"arch\": \"" + ARCH_A + "\"}, {\"arch\": [" + ARCH_B + "]}]}");
        Result r = bnnas("score", "--evaluator", "bn", "--arch-file", json, "--checkpoint", run.resolve("supernet.safetensors"), "--out", shared.resolve("score-bn"));
        assertEquals(0, r.code(), r.err());
        assertEquals(3, r.out().lines().count(), "a header and one line per architecture: " + r.out());
        assertOneLineError(bnnas("score", "--evaluator", "bn", "--arch=" + ARCH_A), "--evaluator bn scores paths of a trained supernet: give its checkpoint");
        assertOneLineError(bnnas("score", "--evaluator", "syn_flow", "--arch=" + ARCH_A), "--evaluator: 'syn_flow' is not a predictor");
        assertOneLineError(bnnas("score", "--evaluator", "flops"), "no architecture to score");
        Files.writeString(json, "[\"1,2\"]");
        assertOneLineError(bnnas("score", "--evaluator", "flops", "--arch-file", json), "architecture 1 (1,2)");
    }

    @Test
    void searchByATrainingFreePredictorUnderAFlopsLimitWritesItsRunDirectory() throws IOException {
        Path out = shared.resolve("search-naswot");
        Result r = bnnas("search", "--data-dir", data, "--validation-size", 100, "--evaluator", "naswot", "--batch-size", 8, "--population", 4,
                "--generations", 2, "--flops-limit", "4M", "--out", out);
        assertEquals(0, r.code(), r.err());
        JsonObject results = json(out.resolve("results.json"));
        assertEquals("naswot", results.get("evaluator").getAsString());
        results.getAsJsonArray("top").forEach(c -> assertTrue(c.getAsJsonObject().get("flops").getAsDouble() <= 4e6));
        assertTrue(Files.size(out.resolve("search-best.png")) > 0 && Files.exists(out.resolve("config.json")) && Files.exists(out.resolve("metrics.jsonl")));
    }

    @Test
    void benchAppendsOneRowPerArchitectureAndSeedResumesAndShards() throws IOException {
        Path table = shared.resolve("gt.jsonl"), half = shared.resolve("gt-shards.jsonl");
        Object[] args = new Object[] {"bench", "--data-dir", data, "--validation-size", 100, "--table", table, "--archs", 3, "--second-seeds", 1, "--near-limit", 1,
                "--flops-limit", "3.06M", "--epochs", 1, "--batch-size", 100, "--out", shared.resolve("bench")};
        Result r = bnnas(args);
        assertEquals(0, r.code(), r.err());
        List<String> rows = Files.readAllLines(table);
        assertEquals(4, rows.size(), "3 architectures and one second seed");
        JsonObject row = JsonParser.parseString(rows.get(0)).getAsJsonObject();
        for (String key : List.of("arch", "ops", "flops", "params", "seed", "epochs", "val_top1", "test_top1", "train_seconds", "machine", "jdk", "commit")) {
            assertTrue(row.has(key), key + " in " + row);
        }
        assertOneLineError(bnnas(args), "--out " + shared.resolve("bench") + " holds a run already: --resume continues it, --overwrite replaces it");
        args = java.util.Arrays.copyOf(args, args.length + 1);
        args[args.length - 1] = "--resume";
        Result again = bnnas(args);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("0 of them still to train"), again.out());
        assertEquals(rows, Files.readAllLines(table), "nothing trained twice");
        for (String shard : List.of("1/2", "0/2")) {
            Object[] sharded = args.clone();
            sharded[6] = half;
            Object[] withShard = java.util.Arrays.copyOf(sharded, sharded.length + 2);
            withShard[sharded.length] = "--shard";
            withShard[sharded.length + 1] = shard;
            assertEquals(0, bnnas(withShard).code());
        }
        assertEquals(new java.util.HashSet<>(rows.stream().map(l -> JsonParser.parseString(l).getAsJsonObject().get("arch").getAsString() + "@"
                + JsonParser.parseString(l).getAsJsonObject().get("seed")).toList()),
                new java.util.HashSet<>(Files.readAllLines(half).stream().map(l -> JsonParser.parseString(l).getAsJsonObject().get("arch").getAsString() + "@"
                        + JsonParser.parseString(l).getAsJsonObject().get("seed")).toList()), "two shards train the whole plan");
        assertOneLineError(bnnas("bench", "--data-dir", data, "--table", table, "--shard", "2/2"), "--shard: '2/2' is not i/n");
        Path merged = shared.resolve("gt-merged.jsonl");
        Result m = bnnas("bench", "--table", merged, "--merge", half + "," + table);
        assertEquals(0, m.code(), m.err());
        assertTrue(m.out().contains("added 4 rows from 2 tables to " + merged + " (4 it held already); it holds 4 rows"), m.out());
        assertEquals(new java.util.HashSet<>(Files.readAllLines(half)), new java.util.HashSet<>(Files.readAllLines(merged)),
                "the first table's rows, as they were, and none of the second's again");
        assertOneLineError(bnnas("bench", "--table", merged, "--merge", half, "--epochs", 2), "--epochs trains rows, which --merge does not");
        assertOneLineError(bnnas("bench", "--table", merged, "--merge", shared.resolve("no-shard.jsonl")), "--merge " + shared.resolve("no-shard.jsonl")
                + ": no such file");
    }

    @Test
    void benchTrainsGivenArchitecturesWithEachSeedForASearchsWinners() throws IOException {
        Path table = shared.resolve("winners.jsonl");
        String arch = json0(run.resolve("results.json")).get("arch").getAsString();
        Object[] args = {"bench", "--data-dir", data, "--validation-size", 100, "--table", table, "--arch", "@" + run.resolve("arch.json"),
                "--arch", arch, "--seeds", "3,4", "--epochs", 1, "--batch-size", 100, "--out", shared.resolve("bench-winners")};
        Result r = bnnas(args);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("2 rows in the plan (1 architectures given, 2 seeds each)"), r.out());
        List<String> rows = Files.readAllLines(table);
        assertEquals(List.of(arch + "@3", arch + "@4"), rows.stream().map(l -> JsonParser.parseString(l).getAsJsonObject())
                .map(o -> o.get("arch").getAsString() + "@" + o.get("seed").getAsLong()).toList());
        assertTrue(bnnas(args).out().contains("0 of them still to train"));
        assertOneLineError(bnnas("bench", "--data-dir", data, "--table", table, "--arch", arch, "--archs", 5), "--archs shapes the plan, which --arch replaces");
        assertOneLineError(bnnas("bench", "--data-dir", data, "--table", table, "--seeds", "1,2"), "--seeds goes with --arch");
    }

    @Test
    void rankPrintsEveryPredictorWithItsIntervalsAndTheCeiling() throws IOException {
        org.bnnas.space.SearchSpace space = org.bnnas.space.SearchSpace.load("bnnas-small");
        Path table = shared.resolve("rank-gt.jsonl"), scores = shared.resolve("rank-scores.jsonl");
        org.bnnas.engine.tensor.Rng rng = new org.bnnas.engine.tensor.Rng(3);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            int[] arch = org.bnnas.space.Architecture.sample(space, rng);
            double flops = org.bnnas.space.Cost.of(space, arch, 1, 28).flops(), acc = 0.85 + flops / 1e8;
            for (long seed = 0; seed < (i < 4 ? 2 : 1); seed++) {
                org.bnnas.experiment.GroundTruth.append(table, new org.bnnas.experiment.GroundTruth.Row(arch, flops, 1000 + i, seed, 4,
                        acc + 0.002 * seed, acc, 100, "cpu", 2, "17", "abc", "2026-12-02"), space);
            }
            lines.append("{\"arch\":\"").append(org.bnnas.space.Architecture.format(arch)).append("\",\"evaluator\":\"naswot\",\"score\":")
                    .append(i % 3).append("}\n");
        }
        Files.writeString(scores, lines);
        Result r = bnnas("rank", "--ground-truth", table, "--scores", scores, "--flops-limit", "4M", "--resamples", 200);
        assertEquals(0, r.code(), r.err());
        for (String s : List.of("12 architectures at 4 epochs", "seed noise: sd 0.0014", "split-half: Kendall tau", "reliability of the truth",
                "FLOPs' share of the true variance", "noise ceiling", "the truth carries measurable signal", "flops ", "params ", "random ", "naswot ")) {
            assertTrue(r.out().contains(s), s + " in\n" + r.out());
        }
        Result j = bnnas("rank", "--ground-truth", table, "--scores", scores, "--resamples", 200, "--json");
        JsonObject truthLine = JsonParser.parseString(j.out().lines().findFirst().orElseThrow()).getAsJsonObject();
        assertEquals("measurable", truthLine.get("signal").getAsString(), truthLine.toString());
        assertTrue(truthLine.get("reliability").getAsDouble() > 0.85 && truthLine.get("flops_share").getAsDouble() > 0.9, "the truth is FLOPs: " + truthLine);
        assertTrue(truthLine.get("split_half_tau").isJsonNull() || truthLine.get("split_half_tau").getAsDouble() > 0.5, truthLine.toString());
        JsonObject flopsLine = j.out().lines().map(l -> JsonParser.parseString(l).getAsJsonObject())
                .filter(o -> o.has("predictor") && o.get("predictor").getAsString().equals("flops")).findFirst().orElseThrow();
        assertTrue(flopsLine.get("tau").getAsDouble() > 0.9 && flopsLine.get("p").getAsDouble() < 0.01, "the truth follows FLOPs here: " + flopsLine);
        assertTrue(flopsLine.get("partial_tau_given_flops").isJsonNull(), "undefined is null, as JSON has no NaN: " + flopsLine);
        org.bnnas.experiment.GroundTruth.read(table, space).stream().filter(row -> row.seed() == 0).limit(6).forEach(row -> org.bnnas.experiment.GroundTruth.append(table,
                new org.bnnas.experiment.GroundTruth.Row(row.arch(), row.flops(), row.params(), row.seed(), 12, row.valTop1() + 0.01, row.testTop1(), 300,
                        "cpu", 2, "17", "abc", "2026-12-02"), space));
        assertOneLineError(bnnas("rank", "--ground-truth", table), "holds rows of [4, 12] epochs: choose with --epochs");
        Result check = bnnas("rank", "--ground-truth", table, "--epochs", 12, "--epochs-as-predictor", 4, "--resamples", 200);
        assertEquals(0, check.code(), check.err());
        assertTrue(check.out().lines().anyMatch(l -> l.startsWith("top1@4") && l.contains(" 0.867 [")), "12 epochs order the six nearly as 4 do:\n" + check.out());
        Files.writeString(scores, lines + "{\"arch\":\"" + r.out().lines().toList().size() + "\",\"evaluator\":\"x\",\"score\":1}\n");
        assertOneLineError(bnnas("rank", "--ground-truth", table, "--epochs", 4, "--scores", scores), "--scores " + scores + ": line 13");
    }

    @Test
    void trainSupernetScoresTheTablesArchitecturesEveryQuarterEpoch() throws IOException {
        Path table = shared.resolve("score-during.jsonl"), out = shared.resolve("scored-supernet");
        Files.writeString(table, "{\"arch\":\"" + ARCH_A + "\",\"seed\":0}\n{\"arch\":\"" + ARCH_B + "\",\"seed\":0}\n{\"arch\":\"" + ARCH_A
                + "\",\"seed\":1}\n");
        Result r = bnnas("train-supernet", "--data-dir", data, "--validation-size", 100, "--epochs", 1, "--batch-size", 50, "--score-archs", table,
                "--out", out);
        assertEquals(0, r.code(), r.err());
        List<JsonObject> lines = Files.readAllLines(out.resolve("scores.jsonl")).stream().map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
        assertEquals(8, lines.size(), "2 architectures (the table lists one twice) at 0.25, 0.5, 0.75 and 1 epochs of 4 batches");
        assertEquals(List.of(0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 1.0, 1.0), lines.stream().map(o -> o.get("epoch").getAsDouble()).toList());
        for (JsonObject o : lines) assertEquals("bn", o.get("evaluator").getAsString());
        assertTrue(lines.get(7).get("train_seconds").getAsDouble() >= lines.get(0).get("train_seconds").getAsDouble());
    }

    @Test
    void aFullyTrainedSupernetIsScoredByTheIndicatorTooAndTheAblationTrainsEveryBn() throws IOException {
        org.bnnas.space.SearchSpace space = org.bnnas.space.SearchSpace.load("bnnas-small");
        org.bnnas.engine.tensor.Rng rng = new org.bnnas.engine.tensor.Rng(8);
        Path table = shared.resolve("score-ablation.jsonl"), full = shared.resolve("scored-full"), all = shared.resolve("scored-all-bns");
        for (int i = 0; i < 5; i++) { // a small table: five architectures, the truth rising with their index
            org.bnnas.experiment.GroundTruth.append(table, new org.bnnas.experiment.GroundTruth.Row(Architecture.sample(space, rng), 3e6 + i, 1, 0, 4,
                    0.8 + i / 100.0, 0.8, 1, "", 2, "", "", ""), space);
        }
        assertEquals(0, bnnas("train-supernet", "--data-dir", data, "--validation-size", 100, "--mode", "full", "--epochs", 1, "--batch-size", 50,
                "--score-archs", table, "--score-every", 1, "--calibration-batches", 1, "--out", full).code());
        List<JsonObject> lines = Files.readAllLines(full.resolve("scores.jsonl")).stream().map(l -> JsonParser.parseString(l).getAsJsonObject()).toList();
        assertEquals(10, lines.size(), "5 architectures, each by accuracy and by the BN indicator");
        assertEquals(List.of("accuracy", "bn"), lines.subList(0, 2).stream().map(o -> o.get("evaluator").getAsString()).toList());
        for (JsonObject o : lines) assertEquals("full", o.get("supernet").getAsString());
        assertEquals("full", JsonParser.parseString(Files.readAllLines(full.resolve("bn_table.jsonl")).get(0)).getAsJsonObject().get("supernet").getAsString());

        assertEquals(0, bnnas("train-supernet", "--data-dir", data, "--validation-size", 100, "--train-bn", "all", "--epochs", 1, "--batch-size", 50,
                "--score-archs", table, "--out", all).code());
        assertTrue(Files.readAllLines(all.resolve("scores.jsonl")).stream().allMatch(l -> l.contains("\"supernet\":\"all-bns\"")));
        assertOneLineError(bnnas("train-supernet", "--data-dir", data, "--mode", "full", "--train-bn", "all"), "--train-bn all goes with --mode bn");
        assertOneLineError(bnnas("train-supernet", "--data-dir", data, "--train-bn", "some"), "--train-bn: 'some' is neither last nor all");

        Result r = bnnas("rank", "--ground-truth", table, "--scores", full.resolve("scores.jsonl") + "," + all.resolve("scores.jsonl"), "--resamples", 100);
        assertEquals(0, r.code(), r.err());
        for (String name : List.of("accuracy/s0@1 ", "bn(full)/s0@1 ", "bn(all-bns)/s0@1 ", "bn(all-bns)/s0@0.25 ")) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(name)), name + " in\n" + r.out());
        }
    }

    @Test
    void convergenceTrainsBothSupernetsAndReadsTheirRankings() throws IOException {
        Path out = shared.resolve("convergence");
        Result r = bnnas("convergence", "--data-dir", data, "--validation-size", 100, "--batch-size", 50, "--every", 0.5, "--out", out);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("BN-only training: 8 steps") && r.out().contains("full training: 8 steps")
                && r.out().contains("At their ends, BN-only training's rankings agree with full training's at tau"), r.out());
        JsonObject c = json(out.resolve("convergence.json"));
        assertEquals(4, c.getAsJsonObject("BN-only training").getAsJsonArray("points").size(), "2 epochs of 4 batches, every half epoch");
        for (String png : List.of("convergence-vs-steps.png", "convergence-vs-seconds.png", "convergence-step-to-step.png", "convergence-against-other.png",
                "convergence-loss.png", "convergence-gammas.png")) {
            assertTrue(Files.size(out.resolve(png)) > 0, png);
        }
        assertOneLineError(bnnas("convergence", "--data-dir", data, "--every", 0), "--every must be positive, got 0.0");
        assertOneLineError(bnnas("convergence", "--data-dir", data, "--bn-lr", 0), "--bn-lr must be positive, got 0.0");
        assertOneLineError(bnnas("convergence", "--data-dir", data, "--bn-epochs", 0), "--bn-epochs must be at least 1, got 0");
        assertOneLineError(bnnas("convergence", "--data-dir", data, "--train-bn", "some"), "--train-bn: 'some' is neither last nor all");
    }

    @Test
    void exportWritesAnOnnxModelOfTheRetrainedNetworkOrASupernetPath() throws Exception {
        Path onnx = shared.resolve("net.onnx"), path = shared.resolve("path.onnx");
        Result r = bnnas("export", "--checkpoint", run.resolve("standalone.safetensors"), "--out", onnx);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("exported "), r.out());
        String arch = json(run.resolve("results.json")).get("arch").getAsString();
        ai.onnxruntime.OrtEnvironment env = ai.onnxruntime.OrtEnvironment.getEnvironment();
        try (ai.onnxruntime.OrtSession s = env.createSession(onnx.toString(), new ai.onnxruntime.OrtSession.SessionOptions())) {
            assertEquals(arch, s.getMetadata().getCustomMetadata().get("arch"));
        }
        Result p = bnnas("export", "--data-dir", data, "--validation-size", 100, "--checkpoint", run.resolve("supernet.safetensors"), "--arch=" + arch,
                "--recalibrate", 2, "--out", path);
        assertEquals(0, p.code(), p.err());
        assertTrue(Files.size(path) > 0);
        assertOneLineError(bnnas("export", "--checkpoint", run.resolve("supernet.safetensors"), "--out", path), "--arch is required with");
        assertOneLineError(bnnas("export", "--checkpoint", run.resolve("standalone.safetensors"), "--format", "tflite", "--out", path),
                "--format: 'tflite' is not a format");
        assertOneLineError(bnnas("export", "--checkpoint", shared.resolve("none.safetensors"), "--out", path), "none.safetensors");
        assertOneLineError(bnnas("export", "--space", "bnnas-imagenet", "--checkpoint", run.resolve("standalone.safetensors"), "--out", path),
                "belongs to space bnnas-small, not bnnas-imagenet");
    }

    @Test
    void trainSupernetResumesAFinishedRunWithoutRetraining() throws IOException {
        Path out = shared.resolve("supernet");
        Object[] args = {"train-supernet", "--data-dir", data, "--validation-size", 100, "--epochs", 1, "--batch-size", 100, "--out", out};
        assertEquals(0, bnnas(args).code());
        byte[] weights = Files.readAllBytes(out.resolve("supernet.safetensors"));
        Object[] resume = new Object[args.length + 1];
        System.arraycopy(args, 0, resume, 0, args.length);
        resume[args.length] = "--resume";
        Result r = bnnas(resume);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("resumed after epoch 1 of 1"), r.out());
        assertTrue(java.util.Arrays.equals(weights, Files.readAllBytes(out.resolve("supernet.safetensors"))));
    }

    @Test
    void cifar10GivesTheSupernetThreeChannelInputsOf32Pixels() throws IOException {
        Path cifar = TestFiles.cifarDir(Files.createDirectories(shared.resolve("cifar")), 20);
        Path out = shared.resolve("cifar-run");
        Result r = bnnas("train-supernet", "--data", "cifar10", "--data-dir", cifar, "--validation-size", 20, "--epochs", 1,
                "--batch-size", 40, "--out", out);
        assertEquals(0, r.code(), r.err());
        JsonObject config = json(out.resolve("config.json"));
        assertEquals("cifar10", config.get("data").getAsString());
        org.bnnas.train.Checkpoint.Info info = org.bnnas.train.Checkpoint.readInfo(out.resolve("supernet.safetensors"));
        assertEquals(3, info.inChannels());
        assertEquals(32, info.inputSize());
    }

    @Test
    void infoDescribesTheSpaceAndOneArchitecture() {
        Result space = bnnas("info", "--space", "bnnas-imagenet", "--json");
        assertEquals(0, space.code(), space.err());
        JsonObject s = JsonParser.parseString(space.out()).getAsJsonObject();
        assertTrue(s.get("flops_min").getAsDouble() < s.get("flops_max").getAsDouble());
        assertEquals(56, s.get("layers").getAsJsonArray().get(2).getAsJsonObject().get("map").getAsInt(), "224 after the stem's stride 2, then 112");
        Result small = bnnas("info", "--space", "bnnas-small");
        assertTrue(small.out().contains("in 6 of 17 choice layers"), small.out());
        assertTrue(small.out().lines().anyMatch(l -> l.matches(" +17 +64 +64 +1 +2x2 +100% +100% +100% +every kernel sees the whole map")), small.out());
        Result arch = bnnas("info", "--space", "bnnas-small", "--arch=0,-1,0,0,0,-1,-1,0,0,-1,0,0,0,0,0,0,0,0,0,0,0");
        assertEquals(0, arch.code(), arch.err());
        assertTrue(arch.out().contains("M FLOPs"), arch.out());
    }

    @Test
    @org.junit.jupiter.api.Tag("reliability")
    void badInputGetsOneLineAndExitCode2() throws IOException {
        assertOneLineError(bnnas("run", "--no-such-option"), "Unknown option: '--no-such-option'. Try 'bnnas run --help'.");
        assertOneLineError(bnnas("run", "--data-dir", shared.resolve("missing")), "missing");
        assertOneLineError(bnnas("retrain", "--data-dir", data, "--arch", "1,2,x"), "--arch");
        assertOneLineError(bnnas("train-supernet", "--data-dir", data, "--mode", "half"), "--mode");
        assertOneLineError(bnnas("train-supernet", "--resume"), "--resume needs --out");
        assertOneLineError(bnnas("info", "--space", shared.resolve("nope.json")), "nope.json");
        Path broken = shared.resolve("broken.safetensors");
        Files.write(broken, new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        assertOneLineError(bnnas("evaluate", "--data-dir", data, "--checkpoint", broken, "--arch=0"), "broken.safetensors");
        assertOneLineError(bnnas("search", "--checkpoint", run.resolve("standalone.safetensors")), "not a supernet");
        assertOneLineError(bnnas("train-supernet", "--data-dir", data, "--device", "tpu"), "'tpu' is not a device");
        assertOneLineError(bnnas("train-supernet", "--data-dir", data, "--validation-size", 300), "--validation-size: holding out 300 images leaves none");
        assertOneLineError(bnnas("search", "--checkpoint", run.resolve("supernet.safetensors"), "--flops-limit", "lots"), "--flops-limit: 'lots'");
        assertOneLineError(bnnas("reproduce", "--data-dir", data, "--ground-truth", shared.resolve("no-table.jsonl")), "--ground-truth " + shared.resolve("no-table.jsonl") + ": no such file");
        assertOneLineError(bnnas("reproduce", "--data", "mnist", "--data-dir", data), "no ground truth ships for bnnas-small on mnist: give one with --ground-truth FILE");
        assertOneLineError(bnnas("reproduce", "--data-dir", data, "--seed", 3), "the shipped ground truth was trained on the split of seed 0");
    }

    @Test
    void deviceCudaWithoutAGpuExitsWithTheReason() {
        BackendProvider cuda = Backends.providers().stream().filter(p -> p.name().equals("cuda")).findFirst().orElseThrow();
        String why = cuda.unavailableReason();
        assumeTrue(why != null, "this machine can run CUDA");
        assertOneLineError(bnnas("train-supernet", "--data-dir", data, "--device", "cuda"), "--device cuda cannot run here: " + why);
    }

    @Test
    void aRunReplaysFromItsConfigBitForBitAndOptionsBesideItOverride() throws IOException {
        Path a = shared.resolve("replay-a"), b = shared.resolve("replay-b"), c = shared.resolve("replay-c");
        Result first = bnnas("train-supernet", "--data-dir", data, "--validation-size", 100, "--epochs", 1, "--batch-size", 100, "--seed", 3, "--out", a);
        assertEquals(0, first.code(), first.err());
        Path config = a.resolve("config.json");
        Result again = bnnas("train-supernet", "--config", config, "--out", b);
        assertEquals(0, again.code(), again.err());
        assertArrayEquals(Files.readAllBytes(a.resolve("supernet.safetensors")), Files.readAllBytes(b.resolve("supernet.safetensors")));
        List<String> recorded = new java.util.ArrayList<>(), replayed = new java.util.ArrayList<>();
        json(config).getAsJsonArray("argv").forEach(e -> recorded.add(e.getAsString()));
        json(b.resolve("config.json")).getAsJsonArray("argv").forEach(e -> replayed.add(e.getAsString()));
        recorded.set(recorded.size() - 1, b.toString());
        assertEquals(recorded, replayed, "the replay records what it ran: the first run's arguments with its own --out");

        Result changed = bnnas("train-supernet", "--config=" + config, "--seed", 4, "--out", c);
        assertEquals(0, changed.code(), changed.err());
        assertEquals(4, json(c.resolve("config.json")).get("seed").getAsLong());
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a.resolve("supernet.safetensors")), Files.readAllBytes(c.resolve("supernet.safetensors"))));

        assertOneLineError(bnnas("search", "--config", config), "--config " + config + " is the configuration of bnnas train-supernet, not of bnnas search");
        assertOneLineError(bnnas("train-supernet", "--config", shared.resolve("none.json")), "none.json: cannot read it (no such file)");
        assertOneLineError(bnnas("train-supernet", "--config", a.resolve("results.json")), "not a run's config.json");
        assertOneLineError(bnnas("train-supernet", "--config"), "--config needs a run's config.json");
    }

    @Test
    void searchWritesEveryCandidateAndItsBestK() throws IOException {
        Path out = shared.resolve("search-params");
        Result r = bnnas("search", "--data-dir", data, "--validation-size", 100, "--evaluator", "params", "--population", 6, "--generations", 2,
                "--top-k", 4, "--out", out);
        assertEquals(0, r.code(), r.err());
        List<String> csv = Files.readAllLines(out.resolve("candidates.csv"));
        assertEquals("evaluation,score,flops,params,latency_ms,measured_ms,arch,ops", csv.get(0));
        assertEquals(1 + 12, csv.size(), "every evaluated candidate");
        double best = csv.stream().skip(1).mapToDouble(l -> Double.parseDouble(l.split(",")[1])).max().orElseThrow();
        var top = json(out.resolve("results.json")).getAsJsonArray("top");
        assertEquals(4, top.size());
        assertEquals(best, top.get(0).getAsJsonObject().get("score").getAsDouble());
        assertOneLineError(bnnas("search", "--data-dir", data, "--evaluator", "params", "--top-k", 0), "--top-k must be at least 1, got 0");
    }

    @Test
    void aMeasuredLatencyTableBoundsTheSearch() throws IOException {
        Path table = shared.resolve("latency.json");
        Result r = bnnas("latency-table", "--device", "cpu", "--warmup", 0, "--repeats", 1, "--check", 2, "--threads", 2, "--out", table);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("check: 2 networks"), r.out());
        LatencyTable t = LatencyTable.read(table, SearchSpace.load("bnnas-small"));
        org.bnnas.engine.tensor.Rng rng = new org.bnnas.engine.tensor.Rng(1);
        double[] ms = new double[21];
        for (int i = 0; i < ms.length; i++) ms[i] = t.predictMs(Architecture.sample(SearchSpace.load("bnnas-small"), rng));
        java.util.Arrays.sort(ms);
        double limit = ms[10];

        Path out = shared.resolve("search-latency");
        Result s = bnnas("search", "--data-dir", data, "--validation-size", 100, "--evaluator", "params", "--population", 6, "--generations", 2,
                "--latency-table", table, "--latency-limit", limit, "--threads", 3, "--out", out);
        assertEquals(0, s.code(), s.err());
        List<String> csv = Files.readAllLines(out.resolve("candidates.csv"));
        for (String line : csv.subList(1, csv.size())) assertTrue(Double.parseDouble(line.split(",")[4]) <= limit, line);
        assertTrue(s.out().contains("latency ms"), s.out());
        assertTrue(s.out().contains("latency: not measured here (the table was measured with 2 threads, this search has 3 (--threads))"), s.out());

        // On the table's machine the finalists are timed as whole networks, and only those within the limit are kept: a table that
        // overestimates tenfold keeps the best by score, one that underestimates a hundredfold keeps none.
        for (double scale : new double[] {10, 0.01}) {
            double[][] ops = new double[t.opMs().length][];
            for (int l = 0; l < ops.length; l++) if (t.opMs()[l] != null) ops[l] = java.util.Arrays.stream(t.opMs()[l]).map(v -> v * scale).toArray();
            Path scaled = shared.resolve("latency-x" + scale + ".json");
            new LatencyTable(t.space(), t.device(), t.batch(), t.inChannels(), t.inputSize(), t.fixedMs() * scale, ops, t.machine())
                    .write(scaled, SearchSpace.load("bnnas-small"));
            Path checked = shared.resolve("search-latency-x" + scale);
            Result c = bnnas("search", "--data-dir", data, "--validation-size", 100, "--evaluator", "params", "--population", 6, "--generations", 2,
                    "--latency-table", scaled, "--latency-limit", limit * scale, "--threads", 2, "--top-k", 3, "--out", checked);
            if (scale > 1) {
                assertEquals(0, c.code(), c.err());
                assertTrue(c.out().contains("latency: the best 3 candidates timed here as whole networks: 3 within"), c.out());
                var top = json(checked.resolve("results.json")).getAsJsonArray("top");
                assertEquals(3, top.size());
                top.forEach(e -> assertTrue(e.getAsJsonObject().get("measured_latency_ms").getAsDouble() <= limit * scale, e.toString()));
                assertEquals(3, Files.readAllLines(checked.resolve("candidates.csv")).stream().skip(1).filter(l -> !l.split(",")[5].isEmpty()).count());
            } else {
                assertOneLineError(c, "--latency-limit " + limit * scale + ": none of the best");
            }
        }
        Result winner = bnnas("latency-table", "--device", "cpu", "--warmup", 0, "--repeats", 1, "--table", table, "--check-arch", "@" + out.resolve("arch.json"));
        assertEquals(0, winner.code(), winner.err());
        assertTrue(winner.out().contains("check: 1 network,"), winner.out());

        assertOneLineError(bnnas("search", "--data-dir", data, "--evaluator", "params", "--latency-limit", 5), "--latency-limit needs --latency-table FILE");
        assertOneLineError(bnnas("search", "--data-dir", data, "--evaluator", "params", "--latency-table", table, "--latency-limit", -1),
                "--latency-limit must be a positive number of milliseconds, got -1.0");
        assertOneLineError(bnnas("search", "--space", "bnnas-imagenet", "--evaluator", "params", "--latency-table", table),
                table + ": a latency table of space bnnas-small, not bnnas-imagenet");
        assertOneLineError(bnnas("search", "--data-dir", data, "--evaluator", "params", "--latency-table", shared.resolve("none.json")),
                "--latency-table " + shared.resolve("none.json") + ": no such file");
        assertOneLineError(bnnas("latency-table", "--batch", 0, "--out", table), "--batch must be at least 1, got 0");
        assertOneLineError(bnnas("latency-table", "--out", shared.resolve("no/dir/t.json")), "does not exist");
        assertOneLineError(bnnas("latency-table"), "give --out FILE to measure a table, or --table FILE to check one");
        assertOneLineError(bnnas("latency-table", "--table", table, "--batch", 8), "was measured at batch 1, input 1x28; this call times batch 8, input 1x28");
    }

    private static JsonObject json0(Path file) {
        try {
            return json(file);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Exit 2 and one line of error on stderr (besides the line saying why auto runs on the CPU, where it does). */
    private static void assertOneLineError(Result r, String expected) {
        assertEquals(2, r.code(), r.out() + r.err());
        String err = r.err().lines().filter(l -> !l.startsWith(CommonOptions.DEVICE_NOTE + "running on the CPU")).collect(Collectors.joining("\n")).strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.startsWith("bnnas ") && err.contains(expected), err);
    }
}
