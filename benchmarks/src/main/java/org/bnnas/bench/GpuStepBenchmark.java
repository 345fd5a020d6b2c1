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
 */
public final class GpuStepBenchmark {
    static final int WARMUP = 10, STEPS = 20;

    record Config(String space, int batch) {}

    static final List<Config> CONFIGS = List.of(new Config("bnnas-imagenet", 64), new Config("bnnas-small", 512));

    public static void main(String[] args) throws IOException {
        System.setProperty("bnnas.cuda.tf32", "false"); // as the peer, which turns TF32 off for cuDNN and cuBLAS
        try {
            Backends.select("cuda");
        } catch (IllegalArgumentException e) {
            System.err.println("GpuStepBenchmark: " + e.getMessage());
            System.exit(2);
        }
        Map<Config, double[]> ours = new LinkedHashMap<>(), queued = new LinkedHashMap<>();
        for (Config c : CONFIGS) {
            double[] ms = new double[SupernetWorkload.Mode.values().length], backToBack = new double[ms.length];
            for (SupernetWorkload.Mode mode : SupernetWorkload.Mode.values()) {
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
                    ms[mode.ordinal()] = t[STEPS / 2];
                    long start = System.nanoTime();
                    for (int i = 0; i < STEPS - 1; i++) w.queueStep();
                    float v = w.step();
                    backToBack[mode.ordinal()] = (System.nanoTime() - start) / 1e6 / STEPS;
                    if (!Float.isFinite(v)) throw new IllegalStateException(c + " " + mode + ": step produced " + v);
                }
                System.out.printf("ours  %-15s batch %4d  %-8s median %8.2f ms, back to back %8.2f ms a step%n", c.space, c.batch, mode,
                        ms[mode.ordinal()], backToBack[mode.ordinal()]);
            }
            ours.put(c, ms);
            queued.put(c, backToBack);
        }
        List<JsonObject> peer = new ArrayList<>();
        if (args.length > 0 && Files.isRegularFile(Path.of(args[0]))) {
            for (String line : Files.readAllLines(Path.of(args[0]))) {
                if (line.startsWith("{")) peer.add(JsonParser.parseString(line).getAsJsonObject());
            }
        }
        System.out.println();
        System.out.println("| space | batch | step | ours (ms) | PyTorch (ms) | ours / PyTorch | ours back to back (ms a step) |");
        System.out.println("| --- | --- | --- | --- | --- | --- | --- |");
        String[] peerKeys = {"full_step_ms", "bnonly_step_ms", "eval_fwd_ms"};
        String[] names = {"full (SPOS)", "BN-only (BN-NAS)", "eval forward"};
        for (Map.Entry<Config, double[]> e : ours.entrySet()) {
            Config c = e.getKey();
            JsonObject p = peer.stream().filter(o -> o.has("space") && o.get("space").getAsString().equals(c.space)
                    && o.get("batch").getAsInt() == c.batch).findFirst().orElse(null);
            for (int m = 0; m < peerKeys.length; m++) {
                double mine = e.getValue()[m];
                String theirs = p == null ? "-" : String.format("%.2f", p.get(peerKeys[m]).getAsDouble());
                String ratio = p == null ? "-" : String.format("%.2f", mine / p.get(peerKeys[m]).getAsDouble());
                System.out.printf("| %s | %d | %s | %.2f | %s | %s | %.2f |%n", c.space, c.batch, names[m], mine, theirs, ratio, queued.get(c)[m]);
            }
        }
        if (peer.isEmpty()) System.out.println("(no PyTorch figures: PyTorch with CUDA was not found, or no peer path was given)");
    }
}
