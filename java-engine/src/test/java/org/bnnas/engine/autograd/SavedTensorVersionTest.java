// SavedTensorVersionTest: backward refuses to run when a tensor some op's backward reads was
// modified in place after the forward, names the op, the tensor and its versions, and changes no
// gradient; what an op does not save may change freely; every in-place write bumps the version.
package org.bnnas.engine.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.nn.Conv2d;
import org.bnnas.engine.nn.Linear;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.nn.ReLU6;
import org.bnnas.engine.nn.Sequential;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.optim.GradClip;
import org.bnnas.engine.optim.ParamGroup;
import org.bnnas.engine.optim.SGD;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

class SavedTensorVersionTest {
    private final Rng rng = new Rng(11);

    /** Uniform values in [-1, 1) in the current scope. */
    private Tensor random(int... dims) {
        Tensor t = Tensor.empty(dims);
        float[] v = new float[t.size()];
        for (int i = 0; i < v.length; i++) v[i] = rng.nextFloat() * 2 - 1;
        t.copyFrom(v);
        return t;
    }

    private static Tensor ones(Tensor like) {
        Tensor t = Tensor.empty(like.shape());
        t.fill(1f);
        return t;
    }

    private static IllegalStateException refused(Tensor root) {
        return assertThrows(IllegalStateException.class, () -> Autograd.backward(root, ones(root)));
    }

    private static String message(String op, int index, String role, String shape, long then) {
        return "backward of " + op + ": its saved tensor " + index + " (" + role + ", shape " + shape
                + ") was modified in place after the forward (version " + then + ", now " + (then + 1) + ")";
    }

    // ---- refusals -------------------------------------------------------------------------------

    @Test
    void aWeightUpdatedBetweenTheForwardAndItsBackwardIsRefusedAndNoGradientChanges() {
        try (MemoryScope s = MemoryScope.open(); Conv2d conv = new Conv2d(4, 8, 3, 1, 1, 1, new Rng(1));
             SGD sgd = new SGD(ParamGroup.of(conv.parameters(), 0.1))) {
            Tensor x = random(2, 4, 5, 5), w = conv.weight().data();
            int[] labels = {3, 5};
            Autograd.backward(Ops.crossEntropy(Ops.globalAvgPool(conv.forward(x)), labels, 0f));
            Tensor loss = Ops.crossEntropy(Ops.globalAvgPool(conv.forward(x)), labels, 0f);
            long atForward = w.version();
            sgd.step(); // the previous step's update, made after this step's forward
            float[] grad = w.grad().toArray();

            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Autograd.backward(loss));
            assertEquals(message("conv2d", 1, "weight", "[8, 4, 3, 3]", atForward), e.getMessage());
            assertArrayEquals(grad, w.grad().toArray(), "refused before any node ran: the gradient is as it was");
        }
    }

    @Test
    void aConvInputModifiedInPlaceIsRefused() {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor x = random(1, 2, 4, 4), w = random(3, 2, 1, 1).requiresGrad(true);
            Tensor y = Ops.conv2d(x, w, 1, 0, 1);
            long atForward = x.version();
            x.fill(0f);
            assertEquals(message("conv2d", 0, "input", "[1, 2, 4, 4]", atForward), refused(y).getMessage());
            assertNull(w.grad());
        }
    }

    @Test
    void theOutputOfRelu6ModifiedInPlaceIsRefused() {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor x = random(2, 3).requiresGrad(true);
            Tensor y = Ops.relu6(x);
            long atForward = y.version();
            y.copyFrom(new float[] {1, 2, 3, 4, 5, 6});
            assertEquals(message("relu6", 0, "output", "[2, 3]", atForward), refused(y).getMessage());
            assertNull(x.grad());
        }
    }

    @Test
    void theInputAndWeightOfLinearAreSaved() {
        try (MemoryScope s = MemoryScope.open(); Linear fc = new Linear(9, 5, new Rng(2))) {
            Tensor x = random(4, 9).requiresGrad(true), w = fc.weight().data();
            Tensor y = fc.forward(x);
            long atForward = w.version();
            w.fill(0.5f);
            assertEquals(message("linear", 1, "weight", "[5, 9]", atForward), refused(y).getMessage());

            Tensor y2 = fc.forward(x);
            atForward = x.version();
            x.fill(0.5f);
            assertEquals(message("linear", 0, "input", "[4, 9]", atForward), refused(y2).getMessage());
        }
    }

    @Test
    void batchNormSavesItsInputAndGammaButNotTheRunningStatistics() {
        try (MemoryScope s = MemoryScope.open(); BatchNorm2d bn = new BatchNorm2d(3)) {
            Tensor x = random(2, 3, 4, 4).requiresGrad(true), gamma = bn.weight().data();
            Tensor y = bn.forward(x);
            long atForward = gamma.version();
            gamma.fill(2f);
            assertEquals(message("batchNorm2d", 1, "weight", "[3]", atForward), refused(y).getMessage());

            Tensor y2 = bn.forward(x);
            atForward = x.version();
            x.fill(1f);
            assertEquals(message("batchNorm2d", 0, "input", "[2, 3, 4, 4]", atForward), refused(y2).getMessage());

            // A second training forward moves the running statistics; the first backward still runs.
            Tensor first = bn.forward(random(2, 3, 4, 4));
            bn.forward(random(2, 3, 4, 4));
            Autograd.backward(first, ones(first));
            assertNotNull(gamma.grad());
        }
    }

    @Test
    void batchNormIntoDepthwiseSavesTheDepthwiseWeightToo() {
        try (MemoryScope s = MemoryScope.open(); BatchNorm2d bn = new BatchNorm2d(4); Conv2d dw = new Conv2d(4, 4, 3, 1, 1, 4, new Rng(3))) {
            Tensor x = random(2, 4, 5, 5), w = dw.weight().data();
            Tensor y = bn.forwardIntoDepthwise(x, 6f, dw);
            long atForward = w.version();
            w.fill(0f);
            assertEquals(message("batchNormDepthwise", 2, "depthwise weight", "[4, 1, 3, 3]", atForward), refused(y).getMessage());
        }
    }

    // ---- what is not saved may change -------------------------------------------------------------

    @Test
    void anInputOfAddModifiedInPlaceIsFineAsAddSavesNothing() {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor a = random(2, 3).requiresGrad(true), b = random(2, 3).requiresGrad(true);
            Tensor y = Ops.add(a, b);
            a.fill(7f);
            b.copyFrom(new float[] {1, 2, 3, 4, 5, 6});
            Autograd.backward(y, ones(y));
            assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1}, a.grad().toArray());
            assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1}, b.grad().toArray());
        }
    }

    @Test
    void poolingDropoutAndTheLossSaveNothingAnyoneCanModify() {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor x = random(2, 3, 4, 4).requiresGrad(true);
            Tensor pooled = Ops.globalAvgPool(x);
            Tensor logits = Ops.dropout(pooled, 0.5f, true, new Rng(4));
            Tensor loss = Ops.crossEntropy(logits, new int[] {0, 2}, 0.1f);
            x.fill(1f); // globalAvgPool's input
            pooled.fill(2f); // dropout's input
            logits.fill(3f); // crossEntropy's input
            Autograd.backward(loss);
            assertNotNull(x.grad());
        }
    }

    @Test
    void aTrainingLoopOfForwardBackwardAndStepRunsAndBumpsEachParameterOncePerStep() {
        try (Sequential net = new Sequential(new Conv2d(3, 8, 3, 1, 1, 1, new Rng(5)), new BatchNorm2d(8), new ReLU6(),
                     new Conv2d(8, 8, 3, 1, 1, 8, new Rng(6)), new BatchNorm2d(8), new ReLU6());
             Linear fc = new Linear(8, 4, new Rng(7));
             SGD sgd = new SGD(ParamGroup.of(net.parameters(), 0.05).momentum(0.9).weightDecay(1e-4), ParamGroup.of(fc.parameters(), 0.05))) {
            List<Parameter> params = new ArrayList<>(net.parameters());
            params.addAll(fc.parameters());
            long[] before = params.stream().mapToLong(p -> p.data().version()).toArray();
            int steps = 5;
            for (int step = 0; step < steps; step++) {
                try (MemoryScope s = MemoryScope.open()) {
                    Tensor logits = Ops.dropout(fc.forward(Ops.globalAvgPool(net.forward(random(4, 3, 6, 6)))), 0.2f, true, new Rng(step));
                    Autograd.backward(Ops.crossEntropy(logits, new int[] {0, 1, 2, 3}, 0.1f));
                    GradClip.clipByValue(params, 5f);
                    sgd.step();
                    sgd.zeroGrad();
                }
            }
            for (int i = 0; i < params.size(); i++) {
                assertEquals(before[i] + steps, params.get(i).data().version(), "parameter " + i + ": one bump per SGD step");
            }
        }
    }

    // ---- every in-place write bumps the version ---------------------------------------------------

    @Test
    void tensorWritesBumpTheVersion() {
        try (MemoryScope s = MemoryScope.open()) {
            Tensor t = Tensor.zeros(4), other = random(4), one = random(1);
            long v = t.version();
            t.fill(1f);
            assertEquals(++v, t.version(), "fill");
            t.copyFrom(new float[] {1, 2, 3, 4});
            assertEquals(++v, t.version(), "copyFrom(float[])");
            t.copyFromStorage(new float[] {1, 2, 3, 4});
            assertEquals(++v, t.version(), "copyFromStorage");
            t.copyFrom(other);
            assertEquals(++v, t.version(), "copyFrom(Tensor)");
            t.copyFrom(one, 3);
            assertEquals(++v, t.version(), "copyFrom(Tensor, offset)");
            long o = other.version();
            t.copy();
            Ops.add(t, other);
            assertEquals(v, t.version(), "reading is not writing");
            assertEquals(o, other.version());
        }
    }

    @Test
    void gradientAccumulationSgdAndClippingBumpWhatTheyChange() {
        try (Linear fc = new Linear(3, 2, new Rng(8)); SGD sgd = new SGD(ParamGroup.of(fc.parameters(), 0.1).momentum(0.9))) {
            Parameter w = fc.weight();
            try (MemoryScope s = MemoryScope.open()) {
                Tensor x = random(2, 3);
                Autograd.backward(Ops.crossEntropy(fc.forward(x), new int[] {0, 1}, 0f));
                long g = w.grad().version();
                Autograd.backward(Ops.crossEntropy(fc.forward(x), new int[] {0, 1}, 0f));
                assertEquals(g + 1, w.grad().version(), "a gradient accumulated into");
                GradClip.clipByValue(List.of(w), 0.01f);
                assertEquals(g + 2, w.grad().version(), "a clipped gradient");
            }
            long p = w.data().version();
            sgd.step();
            assertEquals(p + 1, w.data().version(), "a parameter stepped");
            long buf = sgd.momentumBuffer(w).version();
            sgd.step();
            assertEquals(p + 2, w.data().version());
            assertEquals(buf + 1, sgd.momentumBuffer(w).version(), "a momentum buffer stepped");
        }
    }

    @Test
    void runningStatisticsBumpWhenTrainingForwardsRestoresResetsAndLoadsWriteThem() {
        try (MemoryScope s = MemoryScope.open(); BatchNorm2d bn = new BatchNorm2d(3)) {
            Tensor mean = bn.runningMean(), var = bn.runningVar(), x = random(2, 3, 2, 2);
            long m = mean.version(), v = var.version();
            bn.forward(x);
            assertEquals(++m, mean.version(), "a training forward updates running_mean");
            assertEquals(++v, var.version(), "and running_var");
            bn.eval();
            bn.forward(x);
            assertEquals(m, mean.version(), "an evaluation forward only reads them");
            try (BatchNorm2d.RunningStats saved = bn.saveRunningStats()) {
                bn.resetRunningStats();
                assertEquals(++m, mean.version(), "reset");
                bn.restoreRunningStats(saved);
                assertEquals(++m, mean.version(), "restore");
            }
            Map<String, TensorData> state = bn.stateDict();
            long gamma = bn.weight().data().version();
            bn.loadStateDict(state, true);
            assertEquals(++m, mean.version(), "loadStateDict");
            assertEquals(gamma + 1, bn.weight().data().version());
        }
    }
}
