// BenchCommand: `bnnas bench`: trains the ranking study's ground truth, one row per (architecture,
// seed) appended to a table, resumably and in shards.
package org.bnnas.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.bnnas.data.Datasets;
import org.bnnas.experiment.GroundTruth;
import org.bnnas.experiment.RunDir;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.train.Retrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Train the ground truth of the ranking study: architectures sampled as the search samples them (uniform single paths,",
                "stratified by FLOPs, some near the FLOPs limit), each from scratch, one row per (architecture, seed) appended to --table.",
                "Rerun to continue; rows already in the table are not trained again. --shard i/n trains machine i's share of n.",
                "With --arch, it trains the architectures given (a search's winners, say) with each of --seeds instead of the plan.",
                "With --merge, it trains nothing and joins the rows of other tables (shards, machines) into --table."})
final class BenchCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    RunDirOption runDir;

    @Option(names = "--table", required = true, paramLabel = "FILE", description = "The table (JSON lines) the rows are appended to.")
    Path table;

    @Option(names = "--archs", paramLabel = "N", description = "Architectures in the plan (default: ${DEFAULT-VALUE}).")
    int archs = 60;

    @Option(names = "--second-seeds", paramLabel = "N", description = "Of them, how many are trained with a second seed too (default: ${DEFAULT-VALUE}).")
    int secondSeeds = 15;

    @Option(names = "--near-limit", paramLabel = "N", description = "Of them, how many lie within 5%% of the space's FLOPs limit (default: ${DEFAULT-VALUE}).")
    int nearLimit = 20;

    @Option(names = "--flops-limit", paramLabel = "FLOPS", description = "The limit the near-limit architectures are drawn around, e.g. 3.06M "
            + "(default: the space's).")
    String flopsLimit;

    @Option(names = "--epochs", paramLabel = "N", description = "Training epochs per architecture (default: ${DEFAULT-VALUE}).")
    int epochs = 4;

    @Option(names = "--batch-size", paramLabel = "N", description = "Training batch size (default: ${DEFAULT-VALUE}).")
    int batchSize = Retrainer.Config.DEFAULT_BATCH;

    @Option(names = "--shard", paramLabel = "i/n", description = "Train only plan entries i, i + n, i + 2n, ... (i from 0; default 0/1: all).")
    String shard = "0/1";

    @Option(names = "--arch", paramLabel = "A", description = "Train this architecture instead of the plan (op indices, op names or @FILE); "
            + "may repeat.")
    List<String> givenArchs;

    @Option(names = "--seeds", split = ",", paramLabel = "S[,S...]", description = "With --arch: the training seeds (default: --seed).")
    List<Long> seeds;

    @Option(names = "--max-rows", paramLabel = "N", description = "Stop after training N rows in this call (default: the whole plan).")
    Integer maxRows;

    @Option(names = "--resume", description = "Continue in --out, the run directory of an earlier call (the table skips the rows it holds either way).")
    boolean resume;

    @Option(names = "--merge", split = ",", paramLabel = "FILE", description = "Train nothing: add to --table the rows of these tables (shards' or "
            + "other machines') that it does not hold yet.")
    List<Path> merge;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        common.apply();
        runDir.check(resume);
        SearchSpace space = common.loadSpace();
        if (merge != null) return merge(space);
        String[] parts = shard.split("/");
        int index, count;
        try {
            if (parts.length != 2) throw new NumberFormatException();
            index = Integer.parseInt(parts[0].strip());
            count = Integer.parseInt(parts[1].strip());
            if (count < 1 || index < 0 || index >= count) throw new NumberFormatException();
        } catch (NumberFormatException e) {
            throw new CliException("--shard: '" + shard + "' is not i/n with 0 <= i < n, such as 0/1 or 2/4");
        }
        if (epochs < 1) throw new CliException("--epochs must be at least 1, got " + epochs);
        if (batchSize < 1) throw new CliException("--batch-size must be at least 1, got " + batchSize);
        if (maxRows != null && maxRows < 1) throw new CliException("--max-rows must be at least 1, got " + maxRows);
        double limit = flopsLimit == null ? space.flopsLimit : SearchCommand.SearchOptions.parseFlops(flopsLimit, "--flops-limit");
        List<int[]> given = null;
        if (givenArchs != null) {
            for (String o : List.of("--archs", "--second-seeds", "--near-limit", "--flops-limit")) {
                if (spec.commandLine().getParseResult().hasMatchedOption(o)) throw new CliException(o + " shapes the plan, which --arch replaces");
            }
            given = givenArchs.stream().map(a -> RetrainCommand.parseArch(a, space)).toList();
        } else if (seeds != null) {
            throw new CliException("--seeds goes with --arch; the plan's seeds are --seed and --seed + 1");
        }
        Datasets.Splits data = common.loadData();
        List<GroundTruth.Entry> plan;
        if (givenArchs != null) {
            plan = GroundTruth.given(given, seeds == null ? List.of(common.seed) : seeds);
        } else {
            try {
                plan = GroundTruth.plan(space, data.train().channels(), data.train().size(), archs, secondSeeds, nearLimit, limit, common.seed, common.seed);
            } catch (IllegalArgumentException e) {
                throw new CliException("--archs, --second-seeds, --near-limit: " + e.getMessage());
            }
        }
        List<GroundTruth.Row> rows;
        try {
            rows = GroundTruth.read(table, space);
        } catch (IllegalArgumentException e) {
            throw new CliException("--table " + e.getMessage());
        }
        Set<String> done = GroundTruth.done(rows);
        List<GroundTruth.Entry> mine = plan.stream().filter(e -> GroundTruth.inShard(e.index(), index, count)).toList();
        long left = mine.stream().filter(e -> !done.contains(GroundTruth.key(e, epochs))).count();
        PrintWriter out = spec.commandLine().getOut();
        long distinct = plan.stream().map(e -> Architecture.format(e.arch())).distinct().count();
        String what = givenArchs != null ? String.format("%d architectures given, %d seeds each", distinct, plan.size() / distinct)
                : String.format("%d architectures, %d with a second seed", archs, secondSeeds);
        out.printf("bench: %d rows in the plan (%s), shard %d/%d holds %d, %d of them still to train, %d epochs each%n",
                plan.size(), what, index, count, mine.size(), left, epochs);
        out.flush();
        RunDir run = runDir.create("bench", resume);
        Map<String, Object> config = common.baseConfig("bench");
        config.put("table", table.toString());
        if (givenArchs != null) {
            config.put("arch", plan.stream().map(e -> Architecture.format(e.arch())).distinct().toList());
            config.put("seeds", plan.stream().map(GroundTruth.Entry::seed).distinct().toList());
        } else {
            config.put("archs", archs);
            config.put("second_seeds", secondSeeds);
            config.put("near_limit", nearLimit);
            config.put("flops_limit", limit);
        }
        config.put("epochs", epochs);
        config.put("batch_size", batchSize);
        config.put("shard", shard);
        run.writeJson("config.json", config);
        int trained = 0;
        for (GroundTruth.Entry e : mine) {
            if (done.contains(GroundTruth.key(e, epochs))) continue;
            if (maxRows != null && trained == maxRows) break;
            out.printf("bench %d/%d: entry %d, %s, seed %d%n", ++trained, left, e.index(), Architecture.format(e.arch()), e.seed());
            out.flush();
            GroundTruth.Row r = GroundTruth.train(space, e.arch(), e.seed(), epochs, batchSize, data, Main.commit());
            boolean added = GroundTruth.append(table, r, space);
            out.printf("  %.2fM FLOPs: validation top-1 %.4f, test top-1 %.4f (%.0f s)%s%n", r.flops() / 1e6, r.valTop1(), r.testTop1(), r.trainSeconds(),
                    added ? "" : "; another process added this row to the table meanwhile, so it is not added again");
            out.flush();
        }
        out.printf("bench: %s holds %d rows%n", table, GroundTruth.read(table, space).size());
        return 0;
    }

    /** Adds the rows of the --merge tables that --table lacks, each through the table's lock; every file is read whole first, so a broken one adds nothing. */
    private int merge(SearchSpace space) {
        for (String o : List.of("--arch", "--seeds", "--shard", "--archs", "--second-seeds", "--near-limit", "--epochs", "--max-rows")) {
            if (spec.commandLine().getParseResult().hasMatchedOption(o)) throw new CliException(o + " trains rows, which --merge does not");
        }
        List<List<GroundTruth.Row>> sources = new java.util.ArrayList<>();
        for (Path f : merge) {
            if (!java.nio.file.Files.isRegularFile(f)) throw new CliException("--merge " + f + ": no such file");
            try {
                sources.add(GroundTruth.read(f, space));
            } catch (IllegalArgumentException e) {
                throw new CliException("--merge " + e.getMessage());
            }
        }
        try {
            GroundTruth.read(table, space);
        } catch (IllegalArgumentException e) {
            throw new CliException("--table " + e.getMessage());
        }
        int added = 0, held = 0;
        for (List<GroundTruth.Row> rows : sources) {
            for (GroundTruth.Row r : rows) {
                if (GroundTruth.append(table, r, space)) added++;
                else held++;
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("bench: added %d rows from %d tables to %s (%d it held already); it holds %d rows%n", added, merge.size(), table, held,
                GroundTruth.read(table, space).size());
        return 0;
    }
}
