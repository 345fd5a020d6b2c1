// LatencyMeasurement: measures a space's latency table with our engine on this machine (every op
// of every choice layer as a block of its own, the fixed parts apart) and the end-to-end forward
// of whole networks, the table's check.
package org.bnnas.experiment;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.backend.cpu.Parallel;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.space.LatencyTable;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.MBConv;
import org.bnnas.supernet.StandaloneNet;

/**
 * Every time is the median of {@code repeats} timings after {@code warmup} untimed ones, in
 * evaluation mode without gradients, on one fixed random batch; a timing is the mean of
 * {@link #CALLS_PER_TIMING} forwards, the last followed by the host reading one output value, so
 * that a GPU's queued work is inside the time.
 */
public final class LatencyMeasurement {
    private final SearchSpace space;
    private final int inChannels, inputSize, batch, warmup, repeats;

    public LatencyMeasurement(SearchSpace space, int inChannels, int inputSize, int batch, int warmup, int repeats) {
        if (batch < 1) throw new IllegalArgumentException("latency: batch must be at least 1, got " + batch);
        if (warmup < 0) throw new IllegalArgumentException("latency: warm-up runs must be >= 0, got " + warmup);
        if (repeats < 1) throw new IllegalArgumentException("latency: timed runs must be at least 1, got " + repeats);
        this.space = space;
        this.inChannels = inChannels;
        this.inputSize = inputSize;
        this.batch = batch;
        this.warmup = warmup;
        this.repeats = repeats;
    }

    /** The table: each op of each choice layer on an input of that layer's shape, and the fixed parts (stem, stem block, head and classifier). */
    public LatencyTable table() {
        warmUp();
        Progress progress = Progress.start("latency", ops(), "ops");
        Rng rng = new Rng(0);
        try (StandaloneNet fixed = new StandaloneNet(space, cheapest(), inChannels, rng.split())) {
            return table(fixed, rng, progress);
        }
    }

    private LatencyTable table(StandaloneNet fixed, Rng rng, Progress progress) {
        fixed.eval();
        Module stemBlock = (Module) fixed.blocks().get(0);
        int size = (inputSize + 2 - 3) / space.stemStride + 1;
        double stemMs = time(inChannels, inputSize, x -> stemBlock.forward(fixed.stem().forward(x)));
        double[][] opMs = new double[space.numLayers()][];
        long done = 0;
        for (SearchSpace.Layer l : space.layers) {
            int outSize = (size + 2 * 1 - 3) / l.stride() + 1; // the depthwise conv pads k / 2, so every kernel gives this size
            if (!l.fixedIdentity()) {
                opMs[l.index()] = new double[space.ops.size()];
                for (int o = 0; o < space.ops.size(); o++) {
                    SearchSpace.Op op = space.ops.get(o);
                    try (MBConv block = new MBConv(l.in(), l.out(), op.kernel(), op.expand(), l.stride(), rng.split())) {
                        block.eval();
                        opMs[l.index()][o] = time(l.in(), size, block::forward);
                    }
                    progress.update(++done, () -> "layer " + l.index() + " " + op.name());
                }
            }
            size = outSize;
        }
        int last = space.layers.get(space.numLayers() - 1).out();
        double headMs = time(last, size, x -> fixed.classifierLinear().forward(Ops.globalAvgPool(fixed.head().forward(x))));
        progress.finish(done + " ops timed");
        return new LatencyTable(space.name, Backends.current().name(), batch, inChannels, inputSize, stemMs + headMs, opMs, machine());
    }

    /** A measurement that times as {@code table} was timed: its batch and input, its warm-up and repeats (10 and 31 where it does not say). */
    public static LatencyMeasurement like(SearchSpace space, LatencyTable table) {
        return new LatencyMeasurement(space, table.inChannels(), table.inputSize(), table.batch(), count(table, "warmup", 10), count(table, "repeats", 31));
    }

    private static int count(LatencyTable table, String key, int otherwise) {
        Object v = table.machine().get(key);
        return v == null ? otherwise : (int) Double.parseDouble(String.valueOf(v));
    }

    /**
     * Why {@code table}'s timings do not hold in this process (another device, CPU model or
     * thread count), or null where they do, so that its networks can be timed here to check it.
     */
    public static String elsewhere(LatencyTable table) {
        String device = Backends.current().name(), cpu = GroundTruth.machine();
        Object tableCpu = table.machine().get("cpu"), threads = table.machine().get("threads");
        if (!table.device().equals(device)) return "the table was measured on " + table.device() + ", this search runs on " + device;
        if (tableCpu != null && !String.valueOf(tableCpu).equals(cpu)) return "the table was measured on " + tableCpu + ", this is " + cpu;
        if (threads != null && count(table, "threads", 0) != Parallel.threads()) {
            return "the table was measured with " + threads + " threads, this search has " + Parallel.threads() + " (--threads)";
        }
        return null;
    }

    /** The measured forward time of the whole standalone network of {@code arch}, in milliseconds. */
    public double endToEndMs(int[] arch) {
        try (StandaloneNet net = new StandaloneNet(space, arch, inChannels, new Rng(1))) {
            net.eval();
            return time(inChannels, inputSize, net::forward);
        }
    }

    /**
     * Runs forwards of the dearest network for {@link #WARM_UP_SECONDS} first, so that the JIT has
     * compiled the kernels before anything is timed: without it, whatever is timed first in a fresh
     * JVM (the stem, in a table) came out several times too slow.
     */
    public void warmUp() {
        int[] dearest = new int[space.numLayers()];
        for (SearchSpace.Layer l : space.layers) dearest[l.index()] = l.fixedIdentity() ? -1 : space.ops.size() - 1;
        long end = System.nanoTime() + (long) (WARM_UP_SECONDS * 1e9);
        try (StandaloneNet net = new StandaloneNet(space, dearest, inChannels, new Rng(3))) {
            net.eval();
            while (System.nanoTime() < end) time(inChannels, inputSize, net::forward);
        }
    }

    static final double WARM_UP_SECONDS = 3;

    /**
     * Forwards per timing, one read at the end: inside a network a block runs right after the
     * previous one, with no host read and no scope closed between them, so a block timed alone
     * must not pay those per call either (timed one call each, the table's sums came out about
     * 3.5 times a whole network's time on bnnas-small at batch 1).
     */
    static final int CALLS_PER_TIMING = 10;

    /** Choice-layer forwards the table needs: one per op of every choice layer. */
    public long ops() {
        return space.layers.stream().filter(l -> !l.fixedIdentity()).count() * space.ops.size();
    }

    private int[] cheapest() {
        int[] arch = new int[space.numLayers()];
        for (SearchSpace.Layer l : space.layers) arch[l.index()] = l.fixedIdentity() ? -1 : 0;
        return arch;
    }

    /** The median time of forward on a random batch of shape [batch, channels, size, size]; {@code owner} is the module timed. */
    private double time(int channels, int size, Function<Tensor, Tensor> forward) {
        Rng rng = new Rng(2);
        float[] data = new float[batch * channels * size * size];
        for (int i = 0; i < data.length; i++) data[i] = (float) rng.nextGaussian();
        double[] ms = new double[repeats];
        try (GradMode.Guard g = GradMode.noGrad(); Tensor x = Tensor.fromArray(data, batch, channels, size, size)) {
            for (int r = -warmup; r < repeats; r++) {
                try (MemoryScope s = MemoryScope.open()) {
                    long t0 = System.nanoTime();
                    Tensor y = null;
                    for (int i = 0; i < CALLS_PER_TIMING; i++) y = forward.apply(x);
                    y.get(new int[y.rank()]);
                    long t1 = System.nanoTime();
                    if (r >= 0) ms[r] = (t1 - t0) / 1e6 / CALLS_PER_TIMING;
                }
            }
        }
        Arrays.sort(ms);
        return repeats % 2 == 1 ? ms[repeats / 2] : (ms[repeats / 2 - 1] + ms[repeats / 2]) / 2;
    }

    private Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", GroundTruth.machine());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("threads", Parallel.threads());
        m.put("jdk", Runtime.version().toString());
        m.put("device", Backends.current().name());
        m.put("warmup", warmup);
        m.put("repeats", repeats);
        m.put("measured", java.time.OffsetDateTime.now().toString());
        return m;
    }
}
