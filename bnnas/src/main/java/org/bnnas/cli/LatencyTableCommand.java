// LatencyTableCommand: `bnnas latency-table`: measures every op of every choice layer of a space on
// this machine into a latency table for `search --latency-limit`, and checks a table's sums
// against measured forwards of whole networks (random ones, or given ones).
package org.bnnas.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.backend.cpu.Parallel;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.experiment.LatencyMeasurement;
import org.bnnas.space.Architecture;
import org.bnnas.space.LatencyTable;
import org.bnnas.space.SearchSpace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "latency-table", mixinStandardHelpOptions = true,
        description = "Measure the forward time of every op of every choice layer on this machine (median after warm-up) into a latency "
                + "table for search --latency-limit; --check N and --check-arch A compare the table's sums with measured forwards of N random "
                + "networks and of A.")
final class LatencyTableCommand implements Callable<Integer> {
    @Option(names = "--space", paramLabel = "NAME|FILE", description = "bnnas-small, bnnas-28, bnnas-imagenet or a JSON file (default: ${DEFAULT-VALUE}).")
    String space = "bnnas-small";

    @Option(names = "--input", paramLabel = "CxS", description = "Input channels and size, e.g. 3x32 (default: the space's own input).")
    String input;

    @Option(names = "--batch", paramLabel = "N", description = "Images per forward (default: ${DEFAULT-VALUE}).")
    int batch = 1;

    @Option(names = "--device", paramLabel = "cpu|cuda|auto", description = "Where to measure (default: ${DEFAULT-VALUE}).")
    String device = "auto";

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = "--warmup", paramLabel = "N", description = "Untimed forwards before each measurement (default: ${DEFAULT-VALUE}).")
    int warmup = 10;

    @Option(names = "--repeats", paramLabel = "N", description = "Timed forwards per measurement; their median counts (default: ${DEFAULT-VALUE}).")
    int repeats = 31;

    @Option(names = "--check", paramLabel = "N", description = "Random networks whose measured forward is compared with the table's sum (default: ${DEFAULT-VALUE}).")
    int check = 0;

    @Option(names = "--seed", description = "Seed of the --check networks (default: ${DEFAULT-VALUE}).")
    long seed = 0;

    @Option(names = "--check-arch", paramLabel = "A", description = "An architecture (indices, op names or @FILE) whose measured forward "
            + "is compared with the table's sum; may be repeated.")
    List<String> checkArchs = new ArrayList<>();

    @Option(names = "--out", paramLabel = "FILE", description = "The latency table to write (JSON).")
    Path out;

    @Option(names = "--table", paramLabel = "FILE", description = "Check this table (written by an earlier call on this machine) instead of "
            + "measuring one.")
    Path table;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CommonOptions.selectCompute(threads, device, spec);
        if (batch < 1) throw new CliException("--batch must be at least 1, got " + batch);
        if (warmup < 0) throw new CliException("--warmup must be at least 0, got " + warmup);
        if (repeats < 1) throw new CliException("--repeats must be at least 1, got " + repeats);
        if (check < 0) throw new CliException("--check must be at least 0, got " + check);
        if ((out == null) == (table == null)) throw new CliException("give --out FILE to measure a table, or --table FILE to check one");
        if (out != null) {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) throw new CliException("--out " + out + ": directory " + parent + " does not exist");
        }
        if (table != null && !Files.isRegularFile(table)) throw new CliException("--table " + table + ": no such file");
        SearchSpace s;
        try {
            s = SearchSpace.load(space);
        } catch (IllegalArgumentException e) {
            throw new CliException("--space " + e.getMessage());
        }
        int[] in = InfoCommand.parseInput(input, s);
        List<int[]> archs = new ArrayList<>();
        for (String a : checkArchs) archs.add(RetrainCommand.parseArch(a, s));
        PrintWriter pw = spec.commandLine().getOut();
        LatencyMeasurement measure = new LatencyMeasurement(s, in[0], in[1], batch, warmup, repeats);
        LatencyTable t;
        if (table != null) {
            t = LatencyTable.read(table, s);
            if (t.inChannels() != in[0] || t.inputSize() != in[1] || t.batch() != batch) {
                throw new CliException("--table " + table + " was measured at batch " + t.batch() + ", input " + t.inChannels() + "x" + t.inputSize()
                        + "; this call times batch " + batch + ", input " + in[0] + "x" + in[1]);
            }
        } else {
            pw.printf("latency-table: %s at %dx%dx%d, batch %d, %s, %d threads; %d ops, median of %d after %d warm-up%n", s.name, in[0], in[1], in[1],
                    batch, Backends.current().name(), Parallel.threads(), measure.ops(), repeats, warmup);
            pw.flush();
            t = measure.table();
            t.write(out, s);
            pw.printf("fixed parts %.3f ms; table written to %s%n", t.fixedMs(), out);
        }
        Rng rng = new Rng(seed);
        for (int i = 0; i < check; i++) archs.add(Architecture.sample(s, rng));
        if (!archs.isEmpty()) {
            if (table != null) measure.warmUp();
            check(pw, measure, t, archs);
        }
        pw.flush();
        return 0;
    }

    /** Prints each network's predicted and measured time and the error's mean and largest absolute share. */
    private static void check(PrintWriter pw, LatencyMeasurement measure, LatencyTable table, List<int[]> archs) {
        double sumAbs = 0, maxAbs = 0, sumSigned = 0;
        pw.printf("%4s  %12s  %11s  %7s  %s%n", "path", "predicted ms", "measured ms", "error", "arch");
        for (int i = 0; i < archs.size(); i++) {
            int[] arch = archs.get(i);
            double predicted = table.predictMs(arch), measured = measure.endToEndMs(arch);
            double error = (predicted - measured) / measured;
            sumAbs += Math.abs(error);
            sumSigned += error;
            maxAbs = Math.max(maxAbs, Math.abs(error));
            pw.printf("%4d  %12.3f  %11.3f  %+6.1f%%  %s%n", i + 1, predicted, measured, 100 * error, Architecture.format(arch));
            pw.flush();
        }
        pw.printf("check: %d network%s, table sum against measured forward: mean |error| %.1f%%, mean error %+.1f%%, largest |error| %.1f%%%n",
                archs.size(), archs.size() == 1 ? "" : "s", 100 * sumAbs / archs.size(), 100 * sumSigned / archs.size(), 100 * maxAbs);
    }
}
