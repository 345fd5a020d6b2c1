// GroundTruth: the ranking study's ground truth as data: which architectures to train (uniform
// single paths stratified by FLOPs, with a share near the search's FLOPs limit), one row per
// (architecture, seed) trained from scratch, and the table those rows are appended to.
package org.bnnas.experiment;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bnnas.data.Datasets;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.space.Architecture;
import org.bnnas.space.Cost;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.StandaloneNet;
import org.bnnas.train.Metrics;
import org.bnnas.train.Retrainer;

/**
 * The table is JSON lines, one object per trained (architecture, seed): arch (op index per
 * layer), ops (op names, identity for -1), flops, params, seed, epochs, val_top1, test_top1,
 * train_seconds, and where it was trained: machine, cores, jdk, commit, date. Rows are appended
 * as they finish (a killed run loses only the row in progress); merging the tables of several
 * machines is concatenating them; a table with two rows for one (arch, seed, epochs) is refused.
 */
public final class GroundTruth {
    /** Uniform paths drawn to stratify from: enough that every FLOPs bin and the band near the limit hold plenty. */
    static final int POOL = 20_000;
    /** FLOPs bins of the stratified sample, equal width between the pool's cheapest and dearest path. */
    static final int BINS = 10;
    /** "Near the limit": within this fraction of it. */
    static final double NEAR = 0.05;

    /** One architecture and seed of the plan, in the order the plan trains them. */
    public record Entry(int index, int[] arch, long seed) {}

    /** One row of the table. */
    public record Row(int[] arch, double flops, long params, long seed, int epochs, double valTop1, double testTop1, double trainSeconds,
                      String machine, int cores, String jdk, String commit, String date) {
        String key() {
            return Architecture.format(arch) + "@" + seed + "x" + epochs;
        }
    }

    private GroundTruth() {}

    /**
     * The architectures to train, drawn from {@code seed}: {@code nearLimit} uniform single paths
     * within 5% of {@code flopsLimit}, and {@code count - nearLimit} more stratified over 10 equal
     * FLOPs bins (taken from the bins in turn, so every prefix of the plan is spread over the
     * range); each once with seed {@code trainSeed}, then the first {@code secondSeeds} of them again
     * with {@code trainSeed + 1}. The near-limit and stratified picks alternate, so that a table cut
     * short still holds both.
     */
    public static List<Entry> plan(SearchSpace space, int inC, int size, int count, int secondSeeds, int nearLimit, double flopsLimit, long seed,
                                   long trainSeed) {
        if (nearLimit > 0 && !(flopsLimit > 0)) throw new IllegalArgumentException("architectures near the FLOPs limit need a limit, the space has none");
        if (nearLimit > count || secondSeeds > count) throw new IllegalArgumentException("plan: " + nearLimit + " near the limit and " + secondSeeds
                + " second seeds out of " + count + " architectures");
        Rng rng = new Rng(seed);
        List<int[]> pool = new ArrayList<>();
        List<Double> flops = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < POOL; i++) {
            int[] a = Architecture.sample(space, rng);
            if (!seen.add(Architecture.key(a))) continue;
            pool.add(a);
            flops.add(Cost.of(space, a, inC, size).flops());
        }
        double lo = flops.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        double hi = flops.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        List<int[]> near = new ArrayList<>();
        List<List<int[]>> bins = new ArrayList<>();
        for (int b = 0; b < BINS; b++) bins.add(new ArrayList<>());
        for (int i = 0; i < pool.size(); i++) {
            double f = flops.get(i);
            if (flopsLimit > 0 && Math.abs(f - flopsLimit) <= NEAR * flopsLimit) near.add(pool.get(i));
            else bins.get(Math.min(BINS - 1, (int) ((f - lo) / (hi - lo) * BINS))).add(pool.get(i));
        }
        if (near.size() < nearLimit) throw new IllegalArgumentException("plan: only " + near.size() + " of " + pool.size()
                + " uniform paths lie within 5% of the limit " + flopsLimit + ", " + nearLimit + " asked for");
        List<int[]> stratified = new ArrayList<>();
        int[] taken = new int[BINS];
        while (stratified.size() < count - nearLimit) {
            boolean any = false;
            for (int b = 0; b < BINS && stratified.size() < count - nearLimit; b++) {
                if (taken[b] < bins.get(b).size()) {
                    stratified.add(bins.get(b).get(taken[b]++));
                    any = true;
                }
            }
            if (!any) throw new IllegalArgumentException("plan: the pool has fewer than " + count + " distinct architectures");
        }
        List<int[]> archs = new ArrayList<>();
        for (int i = 0, n = 0, s = 0; archs.size() < count; i++) { // alternate the two kinds, in proportion
            boolean nearTurn = n < nearLimit && (s >= stratified.size() || (long) n * count <= (long) i * nearLimit);
            archs.add(nearTurn ? near.get(n++) : stratified.get(s++));
        }
        List<Entry> out = new ArrayList<>();
        for (int[] a : archs) out.add(new Entry(out.size(), a, trainSeed));
        for (int k = 0; k < secondSeeds; k++) out.add(new Entry(out.size(), archs.get(k), trainSeed + 1));
        return out;
    }

    /** A plan of given architectures, each with every one of {@code seeds}: seed by seed, so that a table cut short holds every architecture. */
    public static List<Entry> given(List<int[]> archs, List<Long> seeds) {
        Set<String> distinct = new HashSet<>();
        List<int[]> unique = archs.stream().filter(a -> distinct.add(Architecture.key(a))).toList();
        List<Entry> out = new ArrayList<>();
        for (long seed : new LinkedHashSet<>(seeds)) for (int[] a : unique) out.add(new Entry(out.size(), a, seed));
        return out;
    }

    /** Whether plan entry {@code index} is shard {@code shard}'s (0-based) of {@code shards}. */
    public static boolean inShard(int index, int shard, int shards) {
        return index % shards == shard;
    }

    /** Trains {@code arch} from scratch with the retraining recipe for {@code epochs} and measures it. */
    public static Row train(SearchSpace space, int[] arch, long seed, int epochs, int batchSize, Datasets.Splits data, String commit) {
        int inC = data.train().channels();
        Cost cost = Cost.of(space, arch, inC, data.train().size());
        long start = System.nanoTime();
        try (StandaloneNet net = new StandaloneNet(space, arch, inC, new Rng(seed))) {
            Retrainer.train(net, data.train(), Retrainer.Config.defaults(epochs, batchSize, seed), null, false, null);
            double seconds = (System.nanoTime() - start) / 1e9;
            double val = Metrics.top1(net, data.validation(), Stages.EVAL_BATCH, null);
            double test = Metrics.top1(net, data.test(), Stages.EVAL_BATCH, null);
            return new Row(arch.clone(), cost.flops(), cost.params(), seed, epochs, val, test, seconds, machine(), Runtime.getRuntime().availableProcessors(),
                    Runtime.version().toString(), commit, java.time.OffsetDateTime.now().toString());
        }
    }

    /** The CPU's model name from /proc/cpuinfo, or the OS architecture where there is none. */
    static String machine() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).strip();
            }
        } catch (IOException | UncheckedIOException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    /**
     * Appends one row, creating the table and its directory when missing, under an exclusive OS
     * lock on the table: several processes may append to one table (bench's shards), and none
     * interleaves with another or repeats a row the table holds for the same (arch, seed, epochs);
     * such a row is not appended and false is returned. A last line cut off by a kill is dropped
     * first, so that the new row starts a line of its own.
     */
    public static boolean append(Path table, Row r, SearchSpace space) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", Architecture.format(r.arch()));
        m.put("ops", ops(space, r.arch()));
        m.put("flops", r.flops());
        m.put("params", r.params());
        m.put("seed", r.seed());
        m.put("epochs", r.epochs());
        m.put("val_top1", r.valTop1());
        m.put("test_top1", r.testTop1());
        m.put("train_seconds", r.trainSeconds());
        m.put("machine", r.machine());
        m.put("cores", r.cores());
        m.put("jdk", r.jdk());
        m.put("commit", r.commit());
        m.put("date", r.date());
        byte[] line = (RunDir.LINE.toJson(m) + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            Path parent = table.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            try (FileChannel channel = FileChannel.open(table, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
                 FileLock lock = channel.lock()) {
                ByteBuffer held = ByteBuffer.allocate(Math.toIntExact(channel.size()));
                while (held.hasRemaining()) {
                    if (channel.read(held, held.position()) < 0) break;
                }
                byte[] bytes = held.array();
                if (done(parse(table.toString(), new String(bytes, StandardCharsets.UTF_8), space)).contains(r.key())) return false;
                int end = bytes.length; // after the last newline (a newline byte never occurs inside a UTF-8 character)
                while (end > 0 && bytes[end - 1] != '\n') end--;
                channel.truncate(end);
                channel.write(ByteBuffer.wrap(line), end);
                channel.force(false);
                return true;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(table + ": cannot append (" + e.getMessage() + ")", e));
        }
    }

    /** The op names of an architecture, "identity" for -1. */
    public static String ops(SearchSpace space, int[] arch) {
        List<String> names = new ArrayList<>();
        for (int a : arch) names.add(a < 0 ? "identity" : space.ops.get(a).name());
        return String.join(",", names);
    }

    /**
     * Every row of {@code table} (none if it does not exist). A line cut short by a kill (the last,
     * without its newline) is left out; any other unreadable line, or a second row for one (arch,
     * seed, epochs), is an IllegalArgumentException naming the file and the line.
     */
    public static List<Row> read(Path table, SearchSpace space) {
        if (!Files.exists(table)) return new ArrayList<>();
        try {
            return parse(table.toString(), Files.readString(table, StandardCharsets.UTF_8), space);
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(table + ": cannot read (" + e.getMessage() + ")", e));
        }
    }

    /**
     * The table the project ships for {@code space} and {@code dataset} (docs/ground-truth, packaged
     * in the jar as ground-truth/SPACE-DATASET.jsonl), or no rows when it has none.
     */
    public static List<Row> shipped(SearchSpace space, String dataset) {
        String name = shippedName(space, dataset);
        try (var in = GroundTruth.class.getResourceAsStream("/" + name)) {
            if (in == null) return List.of();
            return parse(name, new String(in.readAllBytes(), StandardCharsets.UTF_8), space);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The path of a shipped table inside the jar (under docs/ in the repository). */
    public static String shippedName(SearchSpace space, String dataset) {
        return "ground-truth/" + space.name + "-" + dataset + ".jsonl";
    }

    /**
     * Where an architecture stands among the table's architectures of similar FLOPs (within 5% of
     * its own), by test top-1, which does not depend on the validation split: lines for a run's
     * output. The rows used are those of the table's main budget (the epochs most rows have); a
     * rank is given only for an architecture in the table or one trained for that budget.
     */
    public static List<String> placement(List<Row> rows, String table, int[] arch, double flops, double testTop1, int epochs) {
        Map<Integer, Integer> perBudget = new HashMap<>();
        for (Row r : rows) perBudget.merge(r.epochs(), 1, Integer::sum);
        int budget = perBudget.entrySet().stream().max(Map.Entry.<Integer, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .orElseThrow(() -> new IllegalArgumentException(table + ": no rows")).getKey();
        Map<String, List<Row>> byArch = new LinkedHashMap<>();
        for (Row r : rows) if (r.epochs() == budget) byArch.computeIfAbsent(Architecture.format(r.arch()), k -> new ArrayList<>()).add(r);
        double pairSquares = 0;
        int pairs = 0;
        Map<String, Double> similar = new LinkedHashMap<>();
        for (var e : byArch.entrySet()) {
            List<Row> seeds = e.getValue();
            if (seeds.size() >= 2) {
                double d = seeds.get(0).testTop1() - seeds.get(1).testTop1();
                pairSquares += d * d;
                pairs++;
            }
            if (Math.abs(seeds.get(0).flops() - flops) <= NEAR * flops) similar.put(e.getKey(), seeds.stream().mapToDouble(Row::testTop1).average().orElseThrow());
        }
        List<String> lines = new ArrayList<>();
        lines.add(String.format("ground truth (%s, %d epochs each): %d of its %d architectures lie within 5%% of %.3fM FLOPs", table, budget,
                similar.size(), byArch.size(), flops / 1e6));
        if (similar.isEmpty()) return lines;
        double[] sorted = similar.values().stream().mapToDouble(Double::doubleValue).sorted().toArray();
        String best = similar.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        String noise = pairs == 0 ? "" : String.format("; one seed's test top-1 varies by sd %.4f", Math.sqrt(pairSquares / pairs / 2));
        lines.add(String.format("their test top-1: median %.4f, from %.4f to %.4f (best %s)%s", median(sorted), sorted[0], sorted[sorted.length - 1],
                best, noise));
        String key = Architecture.format(arch);
        if (similar.containsKey(key)) {
            double own = similar.get(key);
            lines.add(String.format("this architecture is one of them: test top-1 %.4f at %d epochs, rank %d of %d", own, budget, 1 + above(sorted, own),
                    sorted.length));
        } else if (epochs == budget) {
            lines.add(String.format("this run's test top-1 %.4f after %d epochs would rank %d of %d among them", testTop1, epochs, 1 + above(sorted, testTop1),
                    sorted.length + 1));
        } else {
            lines.add(String.format("this run trained it for %d epochs and the table for %d, so its %.4f is not comparable: retrain it for %d epochs "
                    + "(--retrain-epochs %d) to rank it among them", epochs, budget, testTop1, budget, budget));
        }
        return lines;
    }

    private static int above(double[] sorted, double value) {
        int n = 0;
        for (double v : sorted) if (v > value) n++;
        return n;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static List<Row> parse(String table, String text, SearchSpace space) {
        List<Row> rows = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        Map<String, Integer> firstLine = new HashMap<>();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank()) continue;
            boolean last = i == lines.length - 1; // no newline after it: written when the run was killed
            try {
                JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                Row r = new Row(Architecture.parse(o.get("arch").getAsString(), space), o.get("flops").getAsDouble(), o.get("params").getAsLong(),
                        o.get("seed").getAsLong(), o.get("epochs").getAsInt(), o.get("val_top1").getAsDouble(), o.get("test_top1").getAsDouble(),
                        o.get("train_seconds").getAsDouble(), string(o, "machine"), o.has("cores") ? o.get("cores").getAsInt() : 0, string(o, "jdk"),
                        string(o, "commit"), string(o, "date"));
                Integer before = firstLine.putIfAbsent(r.key(), i + 1);
                if (before != null) {
                    throw new IllegalArgumentException(table + ": line " + (i + 1) + " repeats line " + before + " (arch " + Architecture.format(r.arch())
                            + ", seed " + r.seed() + ", " + r.epochs() + " epochs)");
                }
                rows.add(r);
            } catch (JsonParseException | IllegalStateException | NullPointerException | UnsupportedOperationException | ClassCastException e) {
                if (last) break;
                throw new IllegalArgumentException(table + ": line " + (i + 1) + " is not a ground-truth row (" + e.getMessage() + ")");
            } catch (IllegalArgumentException e) {
                if (e.getMessage().startsWith(table)) throw e;
                throw new IllegalArgumentException(table + ": line " + (i + 1) + ": " + e.getMessage());
            }
        }
        return rows;
    }

    private static String string(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsString() : "";
    }

    /** The keys of the rows a table holds, to skip what is done. */
    public static Set<String> done(List<Row> rows) {
        Set<String> out = new HashSet<>();
        for (Row r : rows) out.add(r.key());
        return out;
    }

    /** The key a plan entry's row would have at {@code epochs}. */
    public static String key(Entry e, int epochs) {
        return Architecture.format(e.arch()) + "@" + e.seed() + "x" + epochs;
    }

}
