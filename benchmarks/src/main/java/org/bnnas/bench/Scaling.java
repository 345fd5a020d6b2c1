// Scaling: how a step's time grows with the batch size and the thread count: measures ours, and
// draws ours and the PyTorch peer's figures (collected by benchmarks/scaling.sh) as PNG charts.
//
// Run: benchmarks/scaling.sh   (both spaces, both sides, the charts and tables for benchmarks/README.md)
package org.bnnas.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.bnnas.engine.backend.cpu.Parallel;
import org.bnnas.report.Plot;

/**
 * {@code measure SPACE MODE BATCHES THREADS CYCLES}: one JSON line per batch size and thread count,
 * the median over CYCLES cycles through the eight bench paths of the mean step time of MODE
 * (bnonly, eval, full, standalone), after one unmeasured cycle; BATCHES and THREADS comma-separated. {@code plot RESULTS DIR}: for each space and mode in the
 * JSON lines of RESULTS (ours and the peer's), a chart DIR/scaling-SPACE-MODE.png of step time
 * against batch size, one line per side and thread count, and a Markdown table on stdout.
 */
public final class Scaling {
    private Scaling() {}

    public static void main(String[] args) throws IOException {
        if (args.length == 6 && args[0].equals("measure")) { // SPACE MODE BATCHES THREADS CYCLES
            measure(args[1], args[2], ints(args[3]), ints(args[4]), Integer.parseInt(args[5]));
        } else if (args.length == 3 && args[0].equals("plot")) {
            plot(Path.of(args[1]), Path.of(args[2]));
        } else {
            System.err.println("usage: Scaling measure SPACE MODE BATCHES THREADS CYCLES | Scaling plot RESULTS DIR");
            System.exit(2);
        }
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    }

    private static void measure(String space, String mode, int[] batches, int[] threads, int cycles) {
        SupernetWorkload.Mode m = SupernetWorkload.Mode.of(mode);
        int paths = SupernetWorkload.benchArchs().size();
        for (int t : threads) {
            Parallel.setThreads(t);
            for (int batch : batches) {
                try (SupernetWorkload work = new SupernetWorkload(space, batch, m)) {
                    for (int i = 0; i < paths; i++) work.step(); // a cycle unmeasured: the JIT and the memory pool settle
                    double[] ms = new double[cycles];
                    for (int c = 0; c < cycles; c++) {
                        long start = System.nanoTime();
                        for (int i = 0; i < paths; i++) work.step();
                        ms[c] = (System.nanoTime() - start) / 1e6 / paths;
                    }
                    Arrays.sort(ms);
                    System.out.printf(Locale.ROOT, "{\"side\": \"ours\", \"space\": \"%s\", \"mode\": \"%s\", \"batch\": %d, \"threads\": %d, \"ms\": %.2f}%n",
                            space, mode, batch, t, ms[cycles / 2]);
                }
            }
        }
    }

    /** One measured point. */
    record Point(String side, String space, String mode, int batch, int threads, double ms) {}

    private static void plot(Path results, Path dir) throws IOException {
        List<Point> points = new ArrayList<>();
        for (String line : Files.readAllLines(results)) {
            if (line.isBlank()) continue;
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            points.add(new Point(o.get("side").getAsString(), o.get("space").getAsString(), o.get("mode").getAsString(), o.get("batch").getAsInt(),
                    o.get("threads").getAsInt(), o.get("ms").getAsDouble()));
        }
        Map<String, List<Point>> charts = new TreeMap<>();
        for (Point p : points) charts.computeIfAbsent(p.space() + "-" + p.mode(), k -> new ArrayList<>()).add(p);
        for (Map.Entry<String, List<Point>> chart : charts.entrySet()) {
            List<Point> ps = chart.getValue();
            Point first = ps.get(0);
            Plot plot = Plot.lines(first.space() + ": " + label(first.mode()) + " against batch size", "batch size", "ms per step");
            Map<String, TreeMap<Integer, Double>> lines = new TreeMap<>();
            for (Point p : ps) lines.computeIfAbsent(p.side() + ", " + p.threads() + (p.threads() == 1 ? " thread" : " threads"), k -> new TreeMap<>()).put(p.batch(), p.ms());
            TreeSet<Integer> batches = new TreeSet<>();
            lines.values().forEach(l -> batches.addAll(l.keySet()));
            for (Map.Entry<String, TreeMap<Integer, Double>> line : lines.entrySet()) {
                plot.add(line.getKey(), line.getValue().keySet().stream().mapToDouble(Integer::doubleValue).toArray(),
                        line.getValue().values().stream().mapToDouble(Double::doubleValue).toArray());
            }
            Path png = dir.resolve("scaling-" + chart.getKey() + ".png");
            plot.write(png);
            System.out.printf("%n%s, %s (ms per step; %s)%n%n", first.space(), label(first.mode()), png.getFileName());
            StringBuilder head = new StringBuilder("| batch |"), rule = new StringBuilder("| --- |");
            for (String name : lines.keySet()) {
                head.append(' ').append(name).append(" |");
                rule.append(" --- |");
            }
            System.out.println(head);
            System.out.println(rule);
            for (int b : batches) {
                StringBuilder row = new StringBuilder("| " + b + " |");
                for (TreeMap<Integer, Double> line : lines.values()) {
                    Double v = line.get(b);
                    row.append(v == null ? " |" : String.format(Locale.ROOT, " %.1f |", v));
                }
                System.out.println(row);
            }
        }
    }

    private static String label(String mode) {
        return switch (mode) {
            case "bnonly" -> "BN-only step";
            case "eval" -> "eval forward";
            case "full" -> "full step";
            case "standalone" -> "standalone training step";
            default -> mode;
        };
    }
}
