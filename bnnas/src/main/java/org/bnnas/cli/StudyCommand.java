// StudyCommand: `bnnas study`: writes the ranking study's report from the ground-truth table and
// the predictors' score files.
package org.bnnas.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.bnnas.experiment.GroundTruth;
import org.bnnas.experiment.RankingStudy;
import org.bnnas.space.SearchSpace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "study", mixinStandardHelpOptions = true,
        description = {"Write the ranking study's report (report.md and plots) from a ground-truth table and a directory of score files:",
                "bn-seed{s}.jsonl, bn-all-seed{s}.jsonl (--train-bn all), bn-paper-seed{s}.jsonl and spos-seed{s}.jsonl (train-supernet --score-archs;",
                "a SPOS supernet's are scored by accuracy and by the BN indicator), bn-table-seed{s}.jsonl,",
                "zero-cost.jsonl (bnnas score), spos-rescoring-{N}.jsonl (bnnas score --seed), winners.json and retrained.jsonl (bnnas bench --arch)."})
final class StudyCommand implements Callable<Integer> {
    @Option(names = "--space", paramLabel = "NAME|FILE", description = "The table's search space (default: ${DEFAULT-VALUE}).")
    String space = "bnnas-small";

    @Option(names = "--ground-truth", required = true, paramLabel = "FILE", description = "The table bnnas bench writes.")
    Path groundTruth;

    @Option(names = "--scores-dir", paramLabel = "DIR", description = "The score files (default: none: the ground truth and the baselines only).")
    Path scoresDir;

    @Option(names = "--flops-limit", paramLabel = "FLOPS", description = "The equal-FLOPs bin: architectures within 5%% of this (default: the space's).")
    String flopsLimit;

    @Option(names = "--resamples", paramLabel = "N", description = "Bootstrap resamples, permutations and simulations (default: ${DEFAULT-VALUE}).")
    int resamples = 2000;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where report.md and the plots go.")
    Path out;

    @Option(names = "--preface", paramLabel = "FILE", description = "Markdown put before the ground truth's section (what the table is, its history).")
    Path preface;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        SearchSpace s;
        try {
            s = SearchSpace.load(space);
        } catch (IllegalArgumentException e) {
            throw new CliException("--space " + e.getMessage());
        }
        if (resamples < 100) throw new CliException("--resamples must be at least 100, got " + resamples);
        if (scoresDir != null && !Files.isDirectory(scoresDir)) throw new CliException("--scores-dir " + scoresDir + ": no such directory");
        List<GroundTruth.Row> rows;
        try {
            rows = GroundTruth.read(groundTruth, s);
        } catch (IllegalArgumentException e) {
            throw new CliException("--ground-truth " + e.getMessage());
        }
        if (rows.size() < 4) throw new CliException("--ground-truth " + groundTruth + ": " + rows.size() + " rows, too few to rank");
        double limit = flopsLimit == null ? s.flopsLimit : SearchCommand.SearchOptions.parseFlops(flopsLimit, "--flops-limit");
        String command = "bnnas study --ground-truth " + groundTruth + (scoresDir == null ? "" : " --scores-dir " + scoresDir)
                + (flopsLimit == null ? "" : " --flops-limit " + flopsLimit);
        String prefaceText = "";
        if (preface != null) {
            try {
                prefaceText = Files.readString(preface).strip() + "\n\n";
            } catch (java.io.IOException e) {
                throw new CliException("--preface " + preface + ": cannot read (" + e.getMessage() + ")");
            }
            command += " --preface " + preface;
        }
        new RankingStudy(s, rows, scoresDir, limit, resamples).write(out, command, prefaceText, null, "");
        PrintWriter o = spec.commandLine().getOut();
        o.printf("report: %s%n", out.resolve("report.md"));
        return 0;
    }
}
