// LibtorchParityTest: the libtorch peer computes what our engine computes: the same eval logits on
// the bench paths of bnnas-small under each of its settings; in training the same loss, trainable
// set and first path's gradients, and the same first SGD update, from the same weights and data.
package org.bnnas.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bnnas.engine.autograd.Autograd;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.supernet.Supernet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibtorchParityTest {
    private static final String SPACE = "bnnas-small";
    private static final int BATCH = 8;
    /** Largest allowed |libtorch - ours| of a gradient, as a share of the tensor's largest entry of ours. */
    private static final double GRADIENT_TOLERANCE = 1e-3;

    @TempDir
    static Path exported;

    /**
     * The export needs Debian's PyTorch: without it the test is skipped, except where
     * BNNAS_REQUIRE_TORCH is set (CI installs python3-torch and sets it), where it fails.
     */
    @BeforeAll
    static void export() {
        if (!TorchScriptExport.pythonHasTorch()) {
            if (System.getenv("BNNAS_REQUIRE_TORCH") != null) fail("BNNAS_REQUIRE_TORCH is set, but " + TorchScriptExport.PYTHON + " cannot import torch");
            assumeTrue(false, TorchScriptExport.PYTHON + " cannot import torch (apt-get install python3-torch)");
        }
        TorchScriptExport.export(SPACE, exported);
    }

    /** Every bench path's eval logits (the workload checks each and fails above the tolerance), under each setting of the eval forward. */
    @Test
    void evalLogitsMatchOursUnderEverySetting() {
        LibtorchWorkload.Settings base = LibtorchWorkload.Settings.defaults();
        for (LibtorchWorkload.Settings s : new LibtorchWorkload.Settings[] {base, base.withChannelsLast(true), base.with(LibtorchWorkload.Inference.FREEZE),
                base.with(LibtorchWorkload.Inference.OPTIMIZE), base.withInferenceMode(true),
                new LibtorchWorkload.Settings(1, false, LibtorchWorkload.Executor.LEGACY, false, LibtorchWorkload.Inference.NONE, false)}) {
            try (SupernetWorkload ours = new SupernetWorkload(SPACE, BATCH, SupernetWorkload.Mode.EVAL);
                 LibtorchWorkload theirs = new LibtorchWorkload(ours, exported, s)) {
                double[] diffs = theirs.checkDiffs();
                System.out.println(s + ": |libtorch - ours| / max |logit| per path " + Arrays.toString(diffs));
                assertEquals(SupernetStepBenchmark.PATHS, diffs.length);
                for (double d : diffs) assertTrue(d <= LibtorchWorkload.TOLERANCE, s + ": " + d);
                float first = theirs.step();
                assertTrue(Float.isFinite(first), s + ": eval step gave " + first);
            }
        }
    }

    /**
     * A full and a BN-only supernet step: both sides start from the same weights and take the same
     * paths, so their losses agree; the first step's loss checks the train-mode forward and the
     * loss, the second (on path 1, before its update) also the first SGD update, from path 0's
     * gradients. Later steps carry the ill-conditioned gradients of later paths (see the gradient
     * test) and drift apart by a few percent.
     */
    @Test
    void trainingLossesMatchOurs() {
        for (SupernetWorkload.Mode mode : new SupernetWorkload.Mode[] {SupernetWorkload.Mode.FULL, SupernetWorkload.Mode.BN_ONLY}) {
            try (SupernetWorkload ours = new SupernetWorkload(SPACE, BATCH, mode);
                 LibtorchWorkload theirs = new LibtorchWorkload(ours, exported, LibtorchWorkload.Settings.defaults())) {
                for (int step = 0; step < 2; step++) {
                    float mine = ours.step(), libtorch = theirs.step();
                    System.out.printf("%s step %d: loss ours %.6f, libtorch %.6f%n", mode.key, step, mine, libtorch);
                    assertTrue(Float.isFinite(mine) && Math.abs(mine - libtorch) <= 1e-3 * Math.abs(mine),
                            mode.key + " step " + step + ": ours " + mine + ", libtorch " + libtorch);
                }
            }
        }
    }

    /**
     * The gradients of a full and a BN-only supernet step, parameter by parameter, from the same
     * weights and batch on each side: the same parameters get a gradient on every bench path (in
     * BN-only: the same trainable set), and on the first path their values agree. On the other
     * paths they are printed, not asserted: at this batch a few layers' float32 gradients are
     * ill-conditioned, and depending on the path and the thread count either side lands up to a
     * few percent (PyTorch's, libtorch and Debian's 1.13 alike, up to 14%) of a tensor's largest
     * entry off a float64 computation (checked by hand; see benchmarks/README.md).
     */
    @Test
    void gradientsMatchOursParameterByParameter() {
        for (SupernetWorkload.Mode mode : new SupernetWorkload.Mode[] {SupernetWorkload.Mode.FULL, SupernetWorkload.Mode.BN_ONLY}) {
            try (SupernetWorkload ours = new SupernetWorkload(SPACE, BATCH, mode);
                 LibtorchWorkload theirs = new LibtorchWorkload(ours, exported, LibtorchWorkload.Settings.defaults())) {
                for (int path = 0; path < SupernetStepBenchmark.PATHS; path++) {
                    Map<String, float[]> libtorch = theirs.gradients(path);
                    Map<String, float[]> mine = ourGradients(ours, path);
                    assertEquals(mine.keySet(), libtorch.keySet(), mode.key + " path " + path + ": parameters with a gradient");
                    double largest = 0;
                    for (float[] a : mine.values()) for (float v : a) largest = Math.max(largest, Math.abs(v));
                    double worst = 0;
                    String worstName = null;
                    for (Map.Entry<String, float[]> e : mine.entrySet()) {
                        float[] a = e.getValue(), b = libtorch.get(e.getKey());
                        double scale = 0, diff = 0;
                        for (int i = 0; i < a.length; i++) {
                            scale = Math.max(scale, Math.abs(a[i]));
                            diff = Math.max(diff, Math.abs(a[i] - b[i]));
                        }
                        // Relative to the tensor's largest entry; the floor is for gradients that are
                        // zero in exact arithmetic and rounding noise on both sides (the bias of a BN
                        // whose output a train-mode BN further on normalises: a constant shift).
                        double share = diff / (GRADIENT_TOLERANCE * scale + 1e-6 * largest);
                        if (share > worst) {
                            worst = share;
                            worstName = e.getKey();
                        }
                    }
                    System.out.printf("%s path %d: %d gradients, the worst at %.3g of the tolerance (%s)%n", mode.key, path, mine.size(), worst, worstName);
                    if (path == 0) assertTrue(worst <= 1, mode.key + " path 0: " + worstName + " differs beyond the tolerance (" + worst + " of it)");
                }
            }
        }
    }

    /** Our gradients of one forward and backward pass on bench path {@code path}, by parameter name; cleared afterwards. */
    private static Map<String, float[]> ourGradients(SupernetWorkload ours, int path) {
        Module net = ours.net();
        if (net instanceof Supernet s) s.select(SupernetWorkload.benchArchs().get(path));
        Map<String, float[]> out = new LinkedHashMap<>();
        try (MemoryScope scope = MemoryScope.open()) {
            Autograd.backward(Ops.crossEntropy(net.forward(ours.input()), ours.labels(), 0.1f));
            net.namedParameters().forEach((name, p) -> {
                if (p.requiresGrad() && p.grad() != null) out.put(name, p.grad().toArray());
            });
            net.zeroGrad();
        }
        return out;
    }

    /** The standalone network: its eval logits (checked in the constructor), and training steps that run (dropout draws differ, so no loss comparison). */
    @Test
    void standaloneNetworkMatchesAndTrains() {
        try (SupernetWorkload ours = new SupernetWorkload(SPACE, BATCH, SupernetWorkload.Mode.STANDALONE);
             LibtorchWorkload theirs = new LibtorchWorkload(ours, exported, LibtorchWorkload.Settings.defaults().withChannelsLast(true))) {
            assertEquals(1, theirs.checkDiffs().length);
            assertTrue(theirs.checkDiffs()[0] <= LibtorchWorkload.TOLERANCE);
            for (int i = 0; i < 2; i++) assertTrue(Float.isFinite(theirs.step()));
        }
    }

    /** A setting that applies to the eval forward only is refused for a training step rather than ignored. */
    @Test
    void inferenceSettingsAreRefusedForTraining() {
        try (SupernetWorkload ours = new SupernetWorkload(SPACE, BATCH, SupernetWorkload.Mode.FULL)) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> new LibtorchWorkload(ours, exported, LibtorchWorkload.Settings.defaults().with(LibtorchWorkload.Inference.FREEZE)));
            assertTrue(e.getMessage().contains("eval only"), e.getMessage());
        }
    }
}
