// ModuleTest: names, modes, freezing, initialisation and the state-dict layout of modules.
package org.bnnas.engine.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bnnas.engine.autograd.Autograd;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

class ModuleTest {

    /** Sequential(Conv2d 3->8 3x3, BN(8), ReLU6, Conv2d 8->16 1x1, BN(16), ReLU6), PyTorch's index names. */
    private static Sequential convBnStack(long seed) {
        Rng rng = new Rng(seed);
        return new Sequential(
                new Conv2d(3, 8, 3, 1, 1, 1, rng),
                new BatchNorm2d(8),
                new ReLU6(),
                new Conv2d(8, 16, 1, 1, 0, 1, rng),
                new BatchNorm2d(16),
                new ReLU6());
    }

    /** A module with named children, some of them nested, to check dotted paths. */
    private static final class Net extends Module {
        final Sequential features;
        final Linear classifier;

        Net(long seed) {
            features = addModule("features", convBnStack(seed));
            classifier = addModule("classifier", new Linear(16, 10, new Rng(seed + 1)));
        }

        @Override
        public Tensor forward(Tensor x) {
            return classifier.forward(Ops.globalAvgPool(features.forward(x)));
        }
    }

    @Test
    void namedParametersUseDottedNamesInRegistrationOrder() {
        try (Sequential s = convBnStack(1)) {
            assertEquals(List.of("0.weight", "1.weight", "1.bias", "3.weight", "4.weight", "4.bias"),
                    List.copyOf(s.namedParameters().keySet()));
            assertEquals(List.of("1.running_mean", "1.running_var", "4.running_mean", "4.running_var"),
                    List.copyOf(s.namedBuffers().keySet()));
            assertEquals(List.of("0", "1", "2", "3", "4", "5"), List.copyOf(s.children().keySet()));
            assertEquals(6, s.size());

            // parameters() is the same list in the same order, and the names point at the layers' own tensors.
            assertEquals(new ArrayList<>(s.namedParameters().values()), s.parameters());
            assertSame(((Conv2d) s.get(0)).weight(), s.namedParameters().get("0.weight"));
            assertSame(((BatchNorm2d) s.get(1)).weight(), s.namedParameters().get("1.weight"));
            assertSame(((BatchNorm2d) s.get(1)).bias(), s.namedParameters().get("1.bias"));
            assertSame(((BatchNorm2d) s.get(4)).runningVar(), s.namedBuffers().get("4.running_var"));

            assertEquals(List.of("0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
                            "3.weight", "4.weight", "4.bias", "4.running_mean", "4.running_var", "4.num_batches_tracked"),
                    List.copyOf(s.stateDict().keySet()), "state dict: parameters, buffers, extra state, then children, as PyTorch");
        }
    }

    @Test
    void nestedModulesJoinNamesWithDots() {
        try (Net net = new Net(2)) {
            assertEquals(List.of("features.0.weight", "features.1.weight", "features.1.bias", "features.3.weight",
                            "features.4.weight", "features.4.bias", "classifier.weight", "classifier.bias"),
                    List.copyOf(net.namedParameters().keySet()));
            assertTrue(net.stateDict().containsKey("features.4.num_batches_tracked"));
            assertArrayEquals(new int[] {10, 16}, net.stateDict().get("classifier.weight").shape(), "Linear weight is (out, in)");
        }
    }

    @Test
    void modulesOfFindsEveryDescendantOfATypeDepthFirst() {
        try (Net net = new Net(2)) {
            List<BatchNorm2d> bns = net.modulesOf(BatchNorm2d.class);
            assertEquals(List.of(8, 16), bns.stream().map(bn -> bn.numFeatures).toList());
            assertEquals(List.of(net), net.modulesOf(Net.class), "the module itself counts");
            assertEquals(List.of(net.classifier), net.modulesOf(Linear.class));
        }
    }

    @Test
    void requiresGradFalseFreezesEveryParameterOfThatModuleOnly() {
        try (Net net = new Net(3)) {
            for (Parameter p : net.parameters()) assertTrue(p.requiresGrad(), "parameters are trainable by default");
            net.features.requiresGrad(false);
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                boolean expected = e.getKey().startsWith("classifier.");
                assertEquals(expected, e.getValue().requiresGrad(), e.getKey());
                assertEquals(expected, e.getValue().data().requiresGrad(), e.getKey() + " (its tensor)");
            }
            net.features.get(4).requiresGrad(true); // unfreeze one BN again
            assertTrue(net.namedParameters().get("features.4.weight").requiresGrad());
            assertTrue(net.namedParameters().get("features.4.bias").requiresGrad());
            assertFalse(net.namedParameters().get("features.1.weight").requiresGrad());
            assertFalse(net.namedParameters().get("features.0.weight").requiresGrad());
            net.requiresGrad(false);
            for (Parameter p : net.parameters()) assertFalse(p.requiresGrad());
        }
    }

    @Test
    void trainAndEvalPropagateToAllDescendants() {
        try (Net net = new Net(4)) {
            List<Module> all = new ArrayList<>(List.of(net, net.features, net.classifier));
            for (int i = 0; i < net.features.size(); i++) all.add(net.features.get(i));
            for (Module m : all) assertTrue(m.isTraining(), "modules start in training mode");
            assertSame(net, net.eval());
            for (Module m : all) assertFalse(m.isTraining(), "eval() reaches " + m.getClass().getSimpleName());
            net.features.train();
            assertFalse(net.isTraining(), "train() on a child leaves the parent alone");
            assertFalse(net.classifier.isTraining(), "and its siblings");
            for (int i = 0; i < net.features.size(); i++) assertTrue(net.features.get(i).isTraining());
            net.train(false);
            for (Module m : all) assertFalse(m.isTraining());
            net.train();
            for (Module m : all) assertTrue(m.isTraining());
        }
    }

    @Test
    void evalModeChangesBatchNormBehaviourThroughTheContainer() {
        try (Sequential s = convBnStack(5); MemoryScope scope = MemoryScope.open()) {
            BatchNorm2d bn = (BatchNorm2d) s.get(1);
            Tensor x = randomInput(new Rng(6), 2, 3, 5, 5);
            s.forward(x);
            assertEquals(1L, bn.numBatchesTracked());
            float[] rm = bn.runningMean().toArray();
            s.eval();
            s.forward(x);
            assertEquals(1L, bn.numBatchesTracked(), "a BN inside an eval()'d container does not update its statistics");
            assertArrayEquals(rm, bn.runningMean().toArray());
        }
    }

    @Test
    void zeroGradDropsTheGradients() {
        try (Net net = new Net(7); MemoryScope scope = MemoryScope.open()) {
            Tensor x = randomInput(new Rng(8), 4, 3, 6, 6);
            Autograd.backward(Ops.crossEntropy(net.forward(x), new int[] {0, 1, 2, 3}, 0f));
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) assertNotNull(e.getValue().grad(), e.getKey());
            float[] once = net.classifier.weight().grad().toArray();
            // Without zeroGrad gradients accumulate, as in PyTorch.
            Autograd.backward(Ops.crossEntropy(net.forward(x), new int[] {0, 1, 2, 3}, 0f));
            float[] twice = net.classifier.weight().grad().toArray();
            for (int i = 0; i < once.length; i++) assertEquals(2 * once[i], twice[i], 1e-5 + 1e-4 * Math.abs(once[i]), "accumulated grad " + i);
            net.zeroGrad();
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) assertNull(e.getValue().grad(), e.getKey());
        }
    }

    @Test
    void kaimingNormalFanOutHasTheRightStandardDeviation() {
        // A 256x64x3x3 weight: fan_out = 256 * 3 * 3, std = sqrt(2 / fan_out) (PyTorch's kaiming_normal_(mode="fan_out")).
        try (Conv2d conv = new Conv2d(64, 256, 3, 1, 1, 1, new Rng(11))) {
            float[] w = conv.weight().data().toArray();
            assertEquals(256 * 64 * 9, w.length);
            double expected = Math.sqrt(2.0 / (256 * 9));
            assertEquals(expected, sampleStd(w), 0.03 * expected, "sample std of a Kaiming fan-out weight");
            assertEquals(0.0, sampleMean(w), 0.03 * expected, "Kaiming normal is centred");
        }
        // Depthwise (groups = channels): weight (C, 1, k, k), fan_out = C * k * k as PyTorch computes it from the shape.
        try (Conv2d dw = new Conv2d(128, 128, 5, 1, 2, 128, new Rng(12))) {
            assertArrayEquals(new int[] {128, 1, 5, 5}, dw.weight().data().shape().dims());
            double expected = Math.sqrt(2.0 / (128 * 25));
            assertEquals(expected, sampleStd(dw.weight().data().toArray()), 0.03 * expected, "depthwise Kaiming fan-out std");
        }
        // Pointwise 1x1: fan_out = out channels.
        try (Conv2d pw = new Conv2d(96, 320, 1, 1, 0, 1, new Rng(13))) {
            double expected = Math.sqrt(2.0 / 320);
            assertEquals(expected, sampleStd(pw.weight().data().toArray()), 0.03 * expected, "pointwise Kaiming fan-out std");
        }
    }

    @Test
    void kaimingInitDrawsInLogicalOrder() {
        // Init fills the weight in PyTorch's (O, I, kH, kW) order from the Rng's Gaussian stream.
        int o = 5, i = 3, k = 3;
        try (Conv2d conv = new Conv2d(i, o, k, 1, 1, 1, new Rng(21))) {
            Rng rng = new Rng(21);
            double std = Math.sqrt(2.0 / (o * k * k));
            float[] expected = new float[o * i * k * k];
            for (int j = 0; j < expected.length; j++) expected[j] = (float) (rng.nextGaussian() * std);
            assertArrayEquals(expected, conv.weight().data().toArray());
        }
    }

    @Test
    void linearInitIsUniformWithinOneOverSqrtFanIn() {
        int in = 100, out = 50;
        try (Linear fc = new Linear(in, out, new Rng(31))) {
            double bound = 1.0 / Math.sqrt(in);
            float[] w = fc.weight().data().toArray(), b = fc.bias().data().toArray();
            assertArrayEquals(new int[] {out, in}, fc.weight().data().shape().dims());
            assertArrayEquals(new int[] {out}, fc.bias().data().shape().dims());
            for (float v : w) assertTrue(Math.abs(v) <= bound, "weight " + v + " outside [-" + bound + ", " + bound + "]");
            for (float v : b) assertTrue(Math.abs(v) <= bound, "bias " + v + " outside [-" + bound + ", " + bound + "]");
            // It really is spread over the interval: uniform std = bound / sqrt(3).
            assertEquals(bound / Math.sqrt(3), sampleStd(w), 0.05 * bound / Math.sqrt(3), "uniform weight std");
            assertTrue(Arrays.stream(box(w)).anyMatch(v -> v > 0.95 * bound) && Arrays.stream(box(w)).anyMatch(v -> v < -0.95 * bound),
                    "weights reach both ends of the interval");
            assertTrue(fc.weight().requiresGrad() && fc.bias().requiresGrad());
        }
    }

    @Test
    void theSameSeedGivesIdenticalWeights() {
        try (Net a = new Net(41); Net b = new Net(41); Net c = new Net(42)) {
            Map<String, TensorData> sa = a.stateDict(), sb = b.stateDict(), sc = c.stateDict();
            assertEquals(sa.keySet(), sb.keySet());
            for (String k : sa.keySet()) assertEquals(sa.get(k), sb.get(k), k + " with the same seed");
            assertFalse(Arrays.equals(sa.get("features.0.weight").floats(), sc.get("features.0.weight").floats()),
                    "another seed gives other weights");
            assertFalse(Arrays.equals(sa.get("classifier.weight").floats(), sc.get("classifier.weight").floats()));
        }
    }

    @Test
    void convWeightStateDictIsOIHW() {
        int o = 6, i = 4, k = 3;
        try (Conv2d conv = new Conv2d(i, o, k, 1, 1, 1, new Rng(51))) {
            Tensor w = conv.weight().data();
            Map<String, TensorData> sd = conv.stateDict();
            assertEquals(List.of("weight"), List.copyOf(sd.keySet()), "a Conv2d without bias has only its weight");
            TensorData d = sd.get("weight");
            assertArrayEquals(new int[] {o, i, k, k}, d.shape());
            float[] f = d.floats();
            assertArrayEquals(w.toArray(), f);
            for (int a = 0; a < o; a++) {
                for (int b = 0; b < i; b++) {
                    for (int kh = 0; kh < k; kh++) {
                        for (int kw = 0; kw < k; kw++) {
                            assertEquals(w.get(a, b, kh, kw), f[((a * i + b) * k + kh) * k + kw],
                                    "element (" + a + "," + b + "," + kh + "," + kw + ")");
                        }
                    }
                }
            }
            // Loading writes back in the same order: a state dict with value = OIHW index reads back by get(o, i, kh, kw).
            float[] ramp = new float[f.length];
            for (int j = 0; j < ramp.length; j++) ramp[j] = j;
            Map<String, TensorData> in = Map.of("weight", TensorData.f32(new int[] {o, i, k, k}, ramp));
            conv.loadStateDict(in, true);
            assertEquals(((2 * i + 3) * k + 1) * k + 2, w.get(2, 3, 1, 2));
            assertArrayEquals(ramp, conv.stateDict().get("weight").floats());
        }
    }

    @Test
    void loadStateDictChecksNamesAndShapes() {
        try (Net a = new Net(61); Net b = new Net(62)) {
            b.loadStateDict(a.stateDict(), true);
            Map<String, TensorData> sa = a.stateDict(), sb = b.stateDict();
            for (String key : sa.keySet()) assertEquals(sa.get(key), sb.get(key), key);

            Map<String, TensorData> missing = new java.util.LinkedHashMap<>(sa);
            missing.remove("features.1.running_var");
            assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(missing, true));
            Map<String, TensorData> extra = new java.util.LinkedHashMap<>(sa);
            extra.put("features.9.weight", TensorData.f32(new int[] {1}, new float[] {0}));
            assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(extra, true));
            b.loadStateDict(missing, false); // non-strict: what is there is loaded
            Map<String, TensorData> wrongShape = new java.util.LinkedHashMap<>(sa);
            wrongShape.put("classifier.bias", TensorData.f32(new int[] {11}, new float[11]));
            assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(wrongShape, false));
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    static Tensor randomInput(Rng rng, int... dims) {
        int n = 1;
        for (int d : dims) n *= d;
        float[] v = new float[n];
        for (int j = 0; j < n; j++) v[j] = (float) rng.nextGaussian();
        return Tensor.fromArray(v, dims);
    }

    private static double sampleMean(float[] v) {
        double s = 0;
        for (float x : v) s += x;
        return s / v.length;
    }

    private static double sampleStd(float[] v) {
        double m = sampleMean(v), s = 0;
        for (float x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / (v.length - 1));
    }

    private static double[] box(float[] v) {
        double[] out = new double[v.length];
        for (int j = 0; j < v.length; j++) out[j] = v[j];
        return out;
    }
}
