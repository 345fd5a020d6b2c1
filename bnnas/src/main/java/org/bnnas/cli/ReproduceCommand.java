// ReproduceCommand: `bnnas reproduce`: checks the paper's claims (supernet training over 10x
// faster, subnet evaluation over 600,000x faster, no loss of accuracy) on this machine and writes
// report.md with its plots; resumable.
package org.bnnas.cli;

import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bnnas.experiment.Reproduction;
import org.bnnas.experiment.RunDir;
import org.bnnas.space.SearchSpace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = {"Reproduce the paper's claims on this machine: ground-truth ranking, BN-NAS and SPOS supernets scored against it,",
                "op-ranking stability, search and retraining with each evaluator, BN-only against full training; writes report.md.",
                "Rerun with the same --out to continue a killed run."})
final class ReproduceCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    RunDirOption runDir;

    @Option(names = "--quick", description = "The quick preset (about 7 minutes on 2 cores) instead of the default (about 1 h 45 min).")
    boolean quick;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        common.apply();
        SearchSpace space = common.loadSpace();
        Reproduction.Preset preset = quick ? Reproduction.Preset.QUICK : Reproduction.Preset.DEFAULT;
        RunDir run = runDir.create("reproduce");
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> config = common.baseConfig("reproduce");
        config.put("preset", preset);
        run.writeJson("config.json", config);
        Reproduction r = new Reproduction(run, space, common.loadData(), preset, common.seed, out);
        r.runAll();
        String command = "bnnas reproduce" + (quick ? " --quick" : "") + (common.data.equals("fashion-mnist") ? "" : " --data " + common.data);
        r.writeReport(command);
        out.printf("report: %s%n", run.file("report.md"));
        return 0;
    }
}
