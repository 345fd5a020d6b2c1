// HostWaitTest: a steady training step or evaluation batch on the CUDA backend queues its work and
// returns: the host waits for the GPU only when it reads a value, and no step asks cudaMalloc for
// memory (the engine's pool is the caching allocator). Skipped, with the reason, where there is no GPU.
package org.bnnas.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.bnnas.engine.autograd.Autograd;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.nn.Conv2d;
import org.bnnas.engine.nn.Linear;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.nn.ReLU6;
import org.bnnas.engine.nn.Sequential;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.optim.GradClip;
import org.bnnas.engine.optim.ParamGroup;
import org.bnnas.engine.optim.SGD;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.NativeMemory;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(Gpu.class)
class HostWaitTest {
    /** An MBConv-like block (1x1, BN, ReLU6, depthwise, BN, ReLU6, 1x1, BN), pooling and a classifier. */
    private static final class Net extends Module {
        final Sequential body;
        final BatchNorm2d lastBn = new BatchNorm2d(16);
        final Linear classifier;

        Net(Rng rng) {
            body = addModule("body", new Sequential(new Conv2d(3, 48, 1, 1, 0, 1, rng), new BatchNorm2d(48), new ReLU6(),
                    new Conv2d(48, 48, 3, 1, 1, 48, rng), new BatchNorm2d(48), new ReLU6(), new Conv2d(48, 16, 1, 1, 0, 1, rng)));
            addModule("last_bn", lastBn);
            classifier = addModule("classifier", new Linear(16, 10, rng));
        }

        @Override
        public Tensor forward(Tensor x) {
            return classifier.forward(Ops.globalAvgPool(lastBn.forward(body.forward(x))));
        }
    }

    /** full: every parameter trains (SPOS); otherwise only the last BN's gamma and beta (BN-NAS). */
    @ParameterizedTest(name = "full training {0}")
    @ValueSource(booleans = {false, true})
    void aSteadyTrainingStepNeitherWaitsNorAllocates(boolean full) {
        Rng rng = new Rng(3);
        try (Net net = new Net(rng)) {
            List<Parameter> trainable = new ArrayList<>();
            if (full) {
                net.requiresGrad(true);
                trainable.addAll(net.parameters());
            } else {
                net.requiresGrad(false);
                trainable.add(net.lastBn.weight().requiresGrad(true));
                trainable.add(net.lastBn.bias().requiresGrad(true));
            }
            float[] images = new float[32 * 3 * 16 * 16];
            for (int i = 0; i < images.length; i++) images[i] = (float) rng.nextGaussian();
            int[] labels = new int[32];
            for (int i = 0; i < labels.length; i++) labels[i] = rng.nextInt(10);
            try (SGD sgd = new SGD(ParamGroup.of(trainable, 0.1).momentum(0.9))) {
                Tensor loss = null;
                for (int step = 0; step < 8; step++) {
                    if (step == 3) { // the first steps choose cuDNN's algorithms and grow the pools; from here on, steady steps
                        loss.item();
                        loss = null;
                    }
                    long before = Gpu.backend().hostWaits(), mallocs = NativeMemory.mallocCalls();
                    try (MemoryScope scope = MemoryScope.open()) {
                        Tensor x = Tensor.fromArray(images, 32, 3, 16, 16); // a new batch, as from the loader
                        Tensor logits = net.forward(x);
                        Tensor l = Ops.crossEntropy(logits, labels, 0.1f);
                        Autograd.backward(l);
                        GradClip.clipByValue(trainable, 5f);
                        sgd.step();
                        sgd.zeroGrad();
                        Ops.countCorrect(logits, labels).close();
                        if (loss != null) loss.close();
                        loss = MemoryScope.detach(l.copy());
                    }
                    if (step >= 3) {
                        assertEquals(before, Gpu.backend().hostWaits(), "step " + step + " waited for the GPU");
                        assertEquals(mallocs, NativeMemory.mallocCalls(), "step " + step + " allocated device memory");
                    }
                }
                long before = Gpu.backend().hostWaits();
                assertTrue(Float.isFinite(loss.item()));
                assertEquals(before + 1, Gpu.backend().hostWaits(), "reading the loss is one wait");
                loss.close();
            }
        }
    }

    /**
     * What Metrics.top1 and the SPOS evaluator do per batch and per candidate: an eval forward
     * whose hits go into a device slot, and saving and restoring BN statistics, wait for nothing.
     */
    @Test
    void aSteadyEvaluationBatchNeitherWaitsNorAllocates() {
        Rng rng = new Rng(4);
        try (Net net = new Net(rng); Tensor hits = MemoryScope.detach(Tensor.zeros(8));
             GradMode.Guard g = GradMode.noGrad()) {
            net.eval();
            float[] images = new float[32 * 3 * 16 * 16];
            for (int i = 0; i < images.length; i++) images[i] = (float) rng.nextGaussian();
            int[] labels = new int[32];
            for (int i = 0; i < labels.length; i++) labels[i] = rng.nextInt(10);
            for (int batch = 0; batch < 8; batch++) {
                long before = Gpu.backend().hostWaits(), mallocs = NativeMemory.mallocCalls();
                try (MemoryScope scope = MemoryScope.open(); BatchNorm2d.RunningStats saved = net.lastBn.saveRunningStats()) {
                    hits.copyFrom(Ops.countCorrect(net.forward(Tensor.fromArray(images, 32, 3, 16, 16)), labels), batch);
                    net.lastBn.restoreRunningStats(saved);
                }
                if (batch >= 3) {
                    assertEquals(before, Gpu.backend().hostWaits(), "batch " + batch + " waited for the GPU");
                    assertEquals(mallocs, NativeMemory.mallocCalls(), "batch " + batch + " allocated device memory");
                }
            }
            long before = Gpu.backend().hostWaits();
            float[] counted = hits.toStorageArray();
            assertEquals(before + 1, Gpu.backend().hostWaits(), "reading the counts is one wait");
            for (float c : counted) assertEquals(counted[0], c, "the same batch gives the same count every time");
        }
    }
}
