// TrainingTest: end-to-end training loops on the CPU backend: a small CNN memorises a batch, a
// network learns through its BN affine parameters alone, native memory stays flat over a long
// loop, and results are bit-identical whatever the thread count.
package org.bnnas.engine.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bnnas.engine.autograd.Autograd;
import org.bnnas.engine.backend.cpu.Parallel;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.nn.Conv2d;
import org.bnnas.engine.nn.Linear;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.nn.ReLU6;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.optim.ParamGroup;
import org.bnnas.engine.optim.SGD;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.NativeMemory;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

class TrainingTest {

    /** Conv 1->c1 3x3, BN, ReLU6, Conv c1->c2 3x3 stride 2, BN, ReLU6, global average pool, Linear c2->classes. */
    static final class SmallCnn extends Module {
        final Conv2d conv1, conv2;
        final BatchNorm2d bn1, bn2;
        final ReLU6 relu6 = new ReLU6();
        final Linear fc;

        SmallCnn(int in, int c1, int c2, int classes, Rng rng) {
            conv1 = addModule("conv1", new Conv2d(in, c1, 3, 1, 1, 1, rng));
            bn1 = addModule("bn1", new BatchNorm2d(c1));
            conv2 = addModule("conv2", new Conv2d(c1, c2, 3, 2, 1, 1, rng));
            bn2 = addModule("bn2", new BatchNorm2d(c2));
            fc = addModule("fc", new Linear(c2, classes, rng));
        }

        @Override
        public Tensor forward(Tensor x) {
            Tensor h = relu6.forward(bn1.forward(conv1.forward(x)));
            h = relu6.forward(bn2.forward(conv2.forward(h)));
            return fc.forward(Ops.globalAvgPool(h));
        }
    }

    /**
     * A MobileNetV2-style network: stem conv 3x3, BN, ReLU6, then an inverted residual block
     * (pointwise expand, BN, ReLU6, depthwise 3x3, BN, ReLU6, pointwise project, BN) added to
     * its input, global average pool, Linear.
     */
    static final class MobileNetLike extends Module {
        final Conv2d stem, expand, depthwise, project;
        final BatchNorm2d bnStem, bnExpand, bnDepthwise, bnProject;
        final ReLU6 relu6 = new ReLU6();
        final Linear fc;

        MobileNetLike(int in, int c, int expanded, int classes, Rng rng) {
            stem = addModule("stem", new Conv2d(in, c, 3, 1, 1, 1, rng));
            bnStem = addModule("bn_stem", new BatchNorm2d(c));
            expand = addModule("expand", new Conv2d(c, expanded, 1, 1, 0, 1, rng));
            bnExpand = addModule("bn_expand", new BatchNorm2d(expanded));
            depthwise = addModule("depthwise", new Conv2d(expanded, expanded, 3, 1, 1, expanded, rng));
            bnDepthwise = addModule("bn_depthwise", new BatchNorm2d(expanded));
            project = addModule("project", new Conv2d(expanded, c, 1, 1, 0, 1, rng));
            bnProject = addModule("bn_project", new BatchNorm2d(c));
            fc = addModule("fc", new Linear(c, classes, rng));
        }

        @Override
        public Tensor forward(Tensor x) {
            Tensor h = relu6.forward(bnStem.forward(stem.forward(x)));
            Tensor b = relu6.forward(bnExpand.forward(expand.forward(h)));
            b = relu6.forward(bnDepthwise.forward(depthwise.forward(b)));
            b = bnProject.forward(project.forward(b));
            return fc.forward(Ops.globalAvgPool(Ops.add(h, b)));
        }
    }

    /** A fixed batch: Gaussian images and uniform random labels, all from one seed. Owned by the caller. */
    private static final class Batch implements AutoCloseable {
        final Tensor images;
        final int[] labels;

        Batch(long seed, int n, int c, int h, int w, int classes) {
            Rng rng = new Rng(seed);
            float[] v = new float[n * c * h * w];
            for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextGaussian();
            images = Tensor.fromArray(v, n, c, h, w);
            labels = new int[n];
            for (int i = 0; i < n; i++) labels[i] = rng.nextInt(classes);
        }

        @Override
        public void close() {
            images.close();
        }
    }

    /** One SGD step in its own memory scope; returns the loss before the step. */
    private static float step(Module model, SGD sgd, Batch batch) {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor loss = Ops.crossEntropy(model.forward(batch.images), batch.labels, 0f);
            float value = loss.item();
            Autograd.backward(loss);
            sgd.step();
            sgd.zeroGrad();
            return value;
        }
    }

    private static Map<String, float[]> snapshot(Module m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, p) -> out.put(k, p.data().toArray()));
        m.namedBuffers().forEach((k, b) -> out.put(k, b.toArray()));
        return out;
    }

    // ---- (a) memorising a batch ----------------------------------------------------------------

    @Test
    void smallCnnMemorisesAFixedBatch() {
        try (Batch batch = new Batch(100, 16, 1, 8, 8, 4);
             SmallCnn model = new SmallCnn(1, 8, 16, 4, new Rng(1));
             SGD sgd = new SGD(ParamGroup.of(model.parameters(), 0.1).momentum(0.9))) {
            float first = Float.NaN, loss = Float.NaN;
            int steps = 0;
            while (steps < 300) {
                loss = step(model, sgd, batch);
                if (steps == 0) first = loss;
                steps++;
                if (loss < 0.05f) break;
            }
            assertTrue(first > 1.0f, "random labels over 4 classes start near ln 4, got " + first);
            assertTrue(loss < 0.05f, "loss " + loss + " after " + steps + " steps (started at " + first + ")");
        }
    }

    // ---- (b) training the BN affine parameters alone ------------------------------------------

    @Test
    void trainingOnlyBatchNormAffineLowersTheLossAndLeavesFrozenWeightsUntouched() {
        try (Batch batch = new Batch(200, 16, 1, 8, 8, 4);
             SmallCnn model = new SmallCnn(1, 32, 64, 4, new Rng(2))) {
            model.conv1.requiresGrad(false);
            model.conv2.requiresGrad(false);
            model.fc.requiresGrad(false);
            List<String> frozen = List.of("conv1.weight", "conv2.weight", "fc.weight", "fc.bias");
            Map<String, float[]> before = snapshot(model);
            // Every parameter goes to the optimizer: the frozen ones must be skipped by it. The 192
            // BN parameters feed a frozen classifier with weights below 1/sqrt(64), so they need a
            // large learning rate to move the logits: over model seeds, lr 4 brings the loss clearly
            // under the bound below, lr 1 only to about it.
            try (SGD sgd = new SGD(ParamGroup.of(model.parameters(), 4.0).momentum(0.9))) {
                float initial = Float.NaN, loss = Float.NaN;
                for (int i = 0; i < 100; i++) {
                    loss = step(model, sgd, batch);
                    if (i == 0) initial = loss;
                }
                try (MemoryScope s = MemoryScope.open()) {
                    loss = Ops.crossEntropy(model.forward(batch.images), batch.labels, 0f).item();
                    // check the gradients of one more backward, then drop them
                    Autograd.backward(Ops.crossEntropy(model.forward(batch.images), batch.labels, 0f));
                    for (String k : frozen) assertNull(model.namedParameters().get(k).grad(), k + " is frozen: no gradient");
                    for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                        if (!frozen.contains(e.getKey())) assertNotNull(e.getValue().grad(), e.getKey() + " is trained");
                    }
                    sgd.zeroGrad();
                }
                assertTrue(loss < 0.7f * initial, "loss " + loss + " after 100 steps, initial " + initial);
                for (String k : frozen) assertEquals(0L, sgd.steps(model.namedParameters().get(k)), k + " never stepped");
            }
            Map<String, float[]> after = snapshot(model);
            for (String k : frozen) assertArrayEquals(before.get(k), after.get(k), k + " must be bit-identical after training");
            for (String k : List.of("bn1.weight", "bn1.bias", "bn2.weight", "bn2.bias")) {
                assertTrue(!java.util.Arrays.equals(before.get(k), after.get(k)), k + " was trained");
            }
        }
    }

    // ---- (c) native memory stays flat ----------------------------------------------------------

    @Test
    void nativeMemoryDoesNotGrowOverATrainingLoop() {
        try (Batch batch = new Batch(300, 8, 3, 10, 10, 5);
             MobileNetLike model = new MobileNetLike(3, 16, 32, 5, new Rng(3));
             SGD sgd = new SGD(ParamGroup.of(model.parameters(), 0.05).momentum(0.9).weightDecay(1e-4))) {
            for (int i = 0; i < 10; i++) step(model, sgd, batch); // warm-up: fills the pool and the momentum buffers
            long reserved = NativeMemory.reservedBytes(), mallocs = NativeMemory.mallocCalls(), inUse = NativeMemory.inUseBytes();
            for (int i = 0; i < 200; i++) {
                float loss = step(model, sgd, batch);
                assertTrue(Float.isFinite(loss), "finite loss at step " + i);
                assertEquals(inUse, NativeMemory.inUseBytes(), "bytes in use after step " + i + " are back to the level before");
            }
            assertEquals(mallocs, NativeMemory.mallocCalls(), "no malloc after the warm-up: every block comes from the pool");
            assertEquals(reserved, NativeMemory.reservedBytes(), "reserved native memory does not grow");
            for (Parameter p : model.parameters()) assertNull(p.grad());
        }
    }

    @Test
    void closingTheModelAndOptimizerReleasesTheirMemory() {
        long inUse = NativeMemory.inUseBytes();
        try (Batch batch = new Batch(400, 8, 3, 8, 8, 5)) {
            try (MobileNetLike model = new MobileNetLike(3, 16, 32, 5, new Rng(4));
                 SGD sgd = new SGD(ParamGroup.of(model.parameters(), 0.05).momentum(0.9))) {
                for (int i = 0; i < 3; i++) step(model, sgd, batch);
                assertTrue(NativeMemory.inUseBytes() > inUse);
            }
        }
        assertEquals(inUse, NativeMemory.inUseBytes(), "model parameters, buffers, momentum buffers and the batch all released");
    }

    // ---- (d) thread-count independence ---------------------------------------------------------

    /** Trains a fresh MobileNetLike for 20 steps on {@code threads} threads; returns its state and the losses. */
    private static Map<String, float[]> trainWithThreads(int threads, List<Float> losses) {
        int saved = Parallel.threads();
        Parallel.setThreads(threads);
        try (Batch batch = new Batch(500, 32, 3, 16, 16, 10);
             MobileNetLike model = new MobileNetLike(3, 16, 48, 10, new Rng(5));
             SGD sgd = new SGD(ParamGroup.of(model.parameters(), 0.05).momentum(0.9).weightDecay(4e-5).nesterov(true))) {
            for (int i = 0; i < 20; i++) losses.add(step(model, sgd, batch));
            Map<String, float[]> out = snapshot(model); // parameters and BN running statistics
            model.namedParameters().forEach((k, p) -> out.put(k + ".momentum_buffer", sgd.momentumBuffer(p).toArray()));
            return out;
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /**
     * Kernels choose their work items from the shapes alone and reduce partial results in item
     * order, so the thread count must not change a single bit. 32 images of 16x16 make every kernel
     * split: pointwise GEMMs into 8 row blocks of 1024 pixels, depthwise weight gradients into 8
     * groups of 4 images, batch-norm sums into 16-48 chunks; the stem runs through im2col.
     */
    @Test
    void oneAndTwoThreadsGiveBitIdenticalTraining() {
        int saved = Parallel.threads();
        List<Float> losses1 = new ArrayList<>(), losses2 = new ArrayList<>();
        Map<String, float[]> one = trainWithThreads(1, losses1);
        Map<String, float[]> two = trainWithThreads(2, losses2);
        assertEquals(saved, Parallel.threads(), "the thread count is restored");
        assertEquals(losses1, losses2, "the same loss at every step");
        assertTrue(losses1.get(19) < losses1.get(0), "the network trains: " + losses1);
        assertEquals(one.keySet(), two.keySet());
        for (String k : one.keySet()) assertArrayEquals(one.get(k), two.get(k), k + ": 1 thread vs 2 threads");
    }
}
