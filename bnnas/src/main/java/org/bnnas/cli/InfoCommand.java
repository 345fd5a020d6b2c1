// InfoCommand: `bnnas info`: a search space's layers, ops, size and FLOPs range, or one
// architecture's FLOPs and parameters.
package org.bnnas.cli;

import java.io.PrintWriter;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bnnas.experiment.RunDir;
import org.bnnas.space.Architecture;
import org.bnnas.space.Cost;
import org.bnnas.space.Reach;
import org.bnnas.space.SearchSpace;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Describe a search space (layers, their map sizes and what each kernel size reaches, ops, number of architectures, FLOPs range), "
                + "or one architecture's FLOPs and parameters.")
final class InfoCommand implements Callable<Integer> {
    @Option(names = "--space", paramLabel = "NAME|FILE", description = "bnnas-small, bnnas-28, bnnas-imagenet or a JSON file (default: ${DEFAULT-VALUE}).")
    String space = "bnnas-small";

    @Option(names = "--arch", paramLabel = "A", description = "An architecture: op index per layer, -1 for identity.")
    String arch;

    @Option(names = "--input", paramLabel = "CxS", description = "Input channels and size, e.g. 3x32 (default: the space's own input).")
    String input;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

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
        int[] in = parseInput(input, s);
        int inC = in[0], size = in[1];
        Map<String, Object> m = arch != null ? architecture(s, RetrainCommand.parseArch(arch, s), inC, size) : space(s, inC, size);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(RunDir.JSON.toJson(m));
        } else if (arch != null) {
            out.printf("arch %s on %dx%dx%d: %.3fM FLOPs, %d parameters (%.3fM)%n", m.get("arch"), inC, size, size,
                    (double) m.get("flops") / 1e6, (long) m.get("params"), (long) m.get("params") / 1e6);
        } else {
            printSpace(out, s, m);
        }
        out.flush();
        return 0;
    }

    /** --input CxS as {channels, size}; the space's own input when null. */
    static int[] parseInput(String input, SearchSpace s) {
        if (input == null) return new int[] {s.inputChannels, s.inputSize};
        String[] parts = input.toLowerCase().split("x");
        try {
            if (parts.length != 2) throw new NumberFormatException();
            int inC = Integer.parseInt(parts[0].trim()), size = Integer.parseInt(parts[1].trim());
            if (inC < 1 || size < 1) throw new NumberFormatException();
            return new int[] {inC, size};
        } catch (NumberFormatException e) {
            throw new CliException("--input: '" + input + "' is not CHANNELSxSIZE such as 1x28 or 3x32");
        }
    }

    private static Map<String, Object> architecture(SearchSpace s, int[] a, int inC, int size) {
        Cost c = Cost.of(s, a, inC, size);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("space", s.name);
        m.put("arch", Architecture.format(a));
        m.put("input", List.of(inC, size, size));
        m.put("flops", c.flops());
        m.put("params", c.params());
        return m;
    }

    /** The space's description; the FLOPs range runs from the cheapest to the dearest op in every layer. */
    private static Map<String, Object> space(SearchSpace s, int inC, int size) {
        int choiceLayers = (int) s.layers.stream().filter(l -> !l.fixedIdentity()).count();
        int[][] extremes = Cost.cheapestAndDearest(s, inC, size);
        int[] cheapest = extremes[0], dearest = extremes[1];
        List<Map<String, Object>> layers = new ArrayList<>();
        int[] maps = Reach.inputMaps(s, size);
        int kernelMatters = 0;
        for (SearchSpace.Layer l : s.layers) {
            Map<String, Object> lm = new LinkedHashMap<>();
            lm.put("index", l.index());
            lm.put("in", l.in());
            lm.put("out", l.out());
            lm.put("stride", l.stride());
            lm.put("fixed_identity", l.fixedIdentity());
            lm.put("map", maps[l.index()]);
            Map<String, Object> reach = new LinkedHashMap<>();
            for (int k : Reach.kernels(s)) reach.put(String.valueOf(k), Reach.share(maps[l.index()], k, l.stride()));
            lm.put("kernel_reach", reach);
            lm.put("kernel_matters", Reach.kernelMatters(s, l, maps[l.index()]));
            if (Reach.kernelMatters(s, l, maps[l.index()])) kernelMatters++;
            layers.add(lm);
        }
        List<Map<String, Object>> ops = new ArrayList<>();
        for (int o = 0; o < s.ops.size(); o++) {
            SearchSpace.Op op = s.ops.get(o);
            Map<String, Object> om = new LinkedHashMap<>();
            om.put("index", o);
            om.put("name", op.name());
            om.put("kernel", op.kernel());
            om.put("expand", op.expand());
            ops.add(om);
        }
        Cost min = Cost.of(s, cheapest, inC, size), max = Cost.of(s, dearest, inC, size);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("space", s.name);
        m.put("input", List.of(inC, size, size));
        m.put("classes", s.classes);
        m.put("choice_layers", choiceLayers);
        m.put("architectures", BigInteger.valueOf(s.ops.size()).pow(choiceLayers).toString());
        m.put("flops_min", min.flops());
        m.put("flops_max", max.flops());
        m.put("arch_min_flops", Architecture.format(cheapest));
        m.put("arch_max_flops", Architecture.format(dearest));
        m.put("flops_limit", s.flopsLimit > 0 ? s.flopsLimit : null);
        m.put("layers_where_kernel_matters", kernelMatters);
        m.put("ops", ops);
        m.put("layers", layers);
        return m;
    }

    @SuppressWarnings("unchecked")
    private static void printSpace(PrintWriter out, SearchSpace s, Map<String, Object> m) {
        List<Integer> in = (List<Integer>) m.get("input");
        out.printf("space %s: input %dx%dx%d, %d classes%n", s.name, in.get(0), in.get(1), in.get(2), s.classes);
        out.printf("%d choice layers of %d ops: %s architectures%n", (int) m.get("choice_layers"), s.ops.size(), m.get("architectures"));
        out.printf("FLOPs from %.3fM (%s) to %.3fM (%s)%n", (double) m.get("flops_min") / 1e6, m.get("arch_min_flops"),
                (double) m.get("flops_max") / 1e6, m.get("arch_max_flops"));
        out.println(s.flopsLimit > 0 ? String.format("FLOPs limit of the space: %.3fM", s.flopsLimit / 1e6) : "no FLOPs limit in the space");
        out.print("ops:");
        for (int o = 0; o < s.ops.size(); o++) out.printf(" %d=%s", o, s.ops.get(o).name());
        out.println();
        List<Map<String, Object>> layers = (List<Map<String, Object>>) m.get("layers");
        java.util.TreeSet<Integer> kernels = Reach.kernels(s);
        out.printf("kernel size changes what a choice layer sees (even the %dx%d misses part of its input map) in %d of %d choice layers%n",
                kernels.last(), kernels.last(), (int) m.get("layers_where_kernel_matters"), (int) m.get("choice_layers"));
        StringBuilder reachHeader = new StringBuilder();
        for (int k : kernels) reachHeader.append(String.format("  %5s", k + "x" + k));
        out.printf("%5s  %4s  %4s  %6s  %5s%s   (the mean share of the map a window reaches)%n", "layer", "in", "out", "stride", "map", reachHeader);
        for (Map<String, Object> l : layers) {
            StringBuilder reach = new StringBuilder();
            for (Object v : ((Map<String, Object>) l.get("kernel_reach")).values()) reach.append(String.format("  %4.0f%%", 100 * (double) v));
            out.printf("%5d  %4d  %4d  %6d  %5s%s%s%n", (int) l.get("index"), (int) l.get("in"), (int) l.get("out"), (int) l.get("stride"),
                    l.get("map") + "x" + l.get("map"), (boolean) l.get("fixed_identity") ? "" : reach,
                    (boolean) l.get("fixed_identity") ? "  fixed identity" : (boolean) l.get("kernel_matters") ? ""
                            : Reach.missesPart((int) l.get("map"), kernels.first(), (int) l.get("stride"))
                            ? String.format("  the %dx%d sees the whole map", kernels.last(), kernels.last()) : "  every kernel sees the whole map");
        }
    }
}
