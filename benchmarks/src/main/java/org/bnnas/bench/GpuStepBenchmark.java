// GpuStepBenchmark: the GPU figures of scripts/gpu-check.sh: a full training step (SPOS), a BN-only
// training step (BN-NAS) and an eval forward on bnnas-imagenet (224x224, batch 64) and bnnas-small
// (batch 512), cycling the fixed paths of spaces/bench-archs.json, on the CUDA backend; then a
// table of ours against the PyTorch peer's figures when their JSON lines are given.
//
// Run: java --add-modules jdk.incubator.vector -cp benchmarks.jar org.bnnas.bench.GpuStepBenchmark [PEER_JSONL]
package org.bnnas.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bnnas.engine.backend.Backends;

/**
 * Each timed step ends with the host reading its result (the loss, or one logit), which waits for
 * the GPU, so a step's wall time is its GPU time plus launch overhead, the same as the peer's
 * timing with torch.cuda.synchronize(): the median of {@link #STEPS} steps after {@link #WARMUP}
 * (the first pass over the eight paths also picks cuDNN's algorithms for each shape). Beside it,
 * the same steps back to back, reading only after the last one, as a training loop runs them
 * (its BatchLog reads once an epoch): there the host queues the next step while the GPU works.
 *
 * <p>A case that fails is reported and leaves a gap in the table; so does a case not started
 * because the time budget ({@code -Dbnnas.bench.budget-s}, 220 s by default) ran out: the table
 * always comes. The exit status is 1 when a case failed, 2 when CUDA cannot run here.
 */
public final class GpuStepBenchmark {
    static final int WARMUP = 10, STEPS = 20;

    record Config(String space, int batch) {}

    static final List<Config> CONFIGS = List.of(new Config("bnnas-imagenet", 64), new Config("bnnas-small", 512));

    /** One case's figures: the median step and the back-to-back step, in ms; NaN where it did not run. */
    record Figures(double median, double backToBack) {
        static final Figures NONE = new Figures(Double.NaN, Double.NaN);
    }

    public static void main(String[] args) throws IOException {
        System.setProperty("bnnas.cuda.tf32", "false"); // as the peer, which turns TF32 off for cuDNN and cuBLAS
        try {
            Backends.select("cuda");
        } catch (IllegalArgumentException e) {
            System.err.println("GpuStepBenchmark: " + e.getMessage());
            System.exit(2);
        }
        long deadline = System.nanoTime() + (long) (Double.parseDouble(System.getProperty("bnnas.bench.budget-s", "220")) * 1e9);
        Map<Config, Figures[]> ours = new LinkedHashMap<>();
        boolean failed = false;
        for (Config c : CONFIGS) {
            Figures[] figures = new Figures[SupernetWorkload.Mode.values().length];
            for (SupernetWorkload.Mode mode : SupernetWorkload.Mode.values()) {
                figures[mode.ordinal()] = Figures.NONE;
                if (System.nanoTime() > deadline) {
                    System.out.printf("ours  %-15s batch %4d  %-8s not run: the time budget is spent%n", c.space, c.batch, mode);
                    continue;
                }
                try {
                    figures[mode.ordinal()] = measure(c, mode);
                    System.out.printf("ours  %-15s batch %4d  %-8s median %8.2f ms, back to back %8.2f ms a step%n", c.space, c.batch, mode,
                            figures[mode.ordinal()].median(), figures[mode.ordinal()].backToBack());
                } catch (RuntimeException e) {
                    failed = true;
                    System.out.printf("ours  %-15s batch %4d  %-8s FAILED: %s%n", c.space, c.batch, mode, e);
                    e.printStackTrace(System.out);
                }
            }
            ours.put(c, figures);
        }
        printTable(ours, args.length > 0 ? Path.of(args[0]) : null);
        if (failed) System.exit(1);
    }

    private static Figures measure(Config c, SupernetWorkload.Mode mode) {
        try (SupernetWorkload w = new SupernetWorkload(c.space, c.batch, mode)) {
            for (int i = 0; i < WARMUP; i++) w.step();
            double[] t = new double[STEPS];
            for (int i = 0; i < STEPS; i++) {
                long start = System.nanoTime();
                float v = w.step();
                t[i] = (System.nanoTime() - start) / 1e6;
                if (!Float.isFinite(v)) throw new IllegalStateException(c + " " + mode + ": step produced " + v);
            }
            Arrays.sort(t);
            long start = System.nanoTime();
            for (int i = 0; i < STEPS - 1; i++) w.queueStep();
            float v = w.step();
            double backToBack = (System.nanoTime() - start) / 1e6 / STEPS;
            if (!Float.isFinite(v)) throw new IllegalStateException(c + " " + mode + ": step produced " + v);
            return new Figures(t[STEPS / 2], backToBack);
        }
    }

    private static void printTable(Map<Config, Figures[]> ours, Path peerFile) throws IOException {
        List<JsonObject> peer = new ArrayList<>();
        if (peerFile != null && Files.isRegularFile(peerFile)) {
            for (String line : Files.readAllLines(peerFile)) {
                if (line.startsWith("{")) peer.add(JsonParser.parseString(line).getAsJsonObject());
            }
        }
        System.out.println();
        System.out.println("| space | batch | step | ours (ms) | PyTorch (ms) | ours / PyTorch | ours back to back (ms a step) |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- |");
        String[] peerKeys = {"full_step_ms", "bnonly_step_ms", "eval_fwd_ms"};
        String[] names = {"full (SPOS)", "BN-only (BN-NAS)", "eval forward"};
        for (Map.Entry<Config, Figures[]> e : ours.entrySet()) {
            Config c = e.getKey();
            JsonObject p = peer.stream().filter(o -> o.has("space") && o.get("space").getAsString().equals(c.space)
                    && o.get("batch").getAsInt() == c.batch).findFirst().orElse(null);
            for (int m = 0; m < peerKeys.length; m++) {
                Figures mine = e.getValue()[m];
                double theirs = p == null || !p.has(peerKeys[m]) ? Double.NaN : p.get(peerKeys[m]).getAsDouble();
                System.out.printf("| %s | %d | %s | %s | %s | %s | %s |%n", c.space, c.batch, names[m], cell(mine.median()), cell(theirs),
                        cell(mine.median() / theirs), cell(mine.backToBack()));
            }
        }
        if (peer.isEmpty()) System.out.println("(no PyTorch figures: PyTorch with CUDA was not found, or no peer path was given)");
    }

    /** A figure with two decimals, or "-" where there is none. */
    private static String cell(double v) {
        return Double.isNaN(v) ? "-" : String.format("%.2f", v);
    }
}
