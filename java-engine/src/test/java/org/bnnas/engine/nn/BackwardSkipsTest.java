// BackwardSkipsTest: backward computes only what is needed. Frozen parameters get no gradient,
// and no node is recorded (so no backward kernel runs) below the first trainable parameter.
package org.bnnas.engine.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.bnnas.engine.autograd.Autograd;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Node;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.junit.jupiter.api.Test;

class BackwardSkipsTest {

    /** Conv2d -> BatchNorm2d -> ReLU6 -> Conv2d -> BatchNorm2d, every intermediate kept for inspection. */
    private static final class Net implements AutoCloseable {
        final Conv2d conv1;
        final BatchNorm2d bn1 = new BatchNorm2d(8);
        final Conv2d conv2;
        final BatchNorm2d bn2 = new BatchNorm2d(12);
        final Sequential all;
        Tensor y1, y2, y3, y4, y5;

        Net(long seed) {
            Rng rng = new Rng(seed);
            conv1 = new Conv2d(3, 8, 3, 1, 1, 1, rng);
            conv2 = new Conv2d(8, 12, 3, 2, 1, 1, rng);
            all = new Sequential(conv1, bn1, new ReLU6(), conv2, bn2);
        }

        Tensor forward(Tensor x) {
            y1 = conv1.forward(x);
            y2 = bn1.forward(y1);
            y3 = Ops.relu6(y2);
            y4 = conv2.forward(y3);
            y5 = bn2.forward(y4);
            return y5;
        }

        /** Mean cross-entropy over the 12 channels' global averages. */
        Tensor loss(Tensor x, int[] labels) {
            return Ops.crossEntropy(Ops.globalAvgPool(forward(x)), labels, 0f);
        }

        @Override
        public void close() {
            all.close();
        }
    }

    private static final int[] LABELS = {0, 3, 7, 11};

    private static Tensor input(long seed) {
        return ModuleTest.randomInput(new Rng(seed), 4, 3, 8, 8);
    }

    /** The names of the nodes reachable from {@code root} through inputs that have a grad function, each once. */
    private static List<String> recordedNodes(Tensor root) throws ReflectiveOperationException {
        Field inputsField = Node.class.getDeclaredField("inputs");
        inputsField.setAccessible(true);
        List<String> names = new ArrayList<>();
        Map<Tensor, Boolean> seen = new IdentityHashMap<>();
        ArrayDeque<Tensor> todo = new ArrayDeque<>();
        todo.add(root);
        while (!todo.isEmpty()) {
            Tensor t = todo.poll();
            Node n = t.gradFn();
            if (n == null || seen.put(t, Boolean.TRUE) != null) continue;
            names.add(n.name());
            for (Tensor in : (Tensor[]) inputsField.get(n)) if (in != null) todo.add(in);
        }
        return names;
    }

    @Test
    void frozenPrefixRecordsNoGraphAndGetsNoGradients() throws ReflectiveOperationException {
        try (Net net = new Net(1); MemoryScope s = MemoryScope.open()) {
            net.conv1.requiresGrad(false);
            net.conv2.requiresGrad(false);
            net.bn1.requiresGrad(false);
            Tensor x = input(2);
            assertFalse(x.requiresGrad(), "inputs do not require grad");

            Tensor loss = net.loss(x, LABELS);

            // Nothing below the last BN requires grad, so no node was recorded for it: no backward can run through it.
            for (Tensor t : new Tensor[] {net.y1, net.y2, net.y3, net.y4}) {
                assertFalse(t.requiresGrad(), "intermediate " + t + " must not require grad");
                assertNull(t.gradFn(), "no node recorded for " + t);
            }
            assertTrue(net.y5.requiresGrad(), "the last BN has trainable gamma and beta");
            assertEquals("batchNorm2d", net.y5.gradFn().name());
            assertTrue(loss.requiresGrad());
            // The whole recorded graph: the loss, the pooling and the last BN; no convolution, no ReLU6, no first BN.
            assertEquals(List.of("crossEntropy", "globalAvgPool", "batchNorm2d"), recordedNodes(loss));

            Autograd.backward(loss);

            assertNull(net.conv1.weight().grad(), "frozen first conv: no weight gradient");
            assertNull(net.conv2.weight().grad(), "frozen second conv: no weight gradient");
            assertNull(net.bn1.weight().grad(), "frozen first BN gamma: no gradient");
            assertNull(net.bn1.bias().grad(), "frozen first BN beta: no gradient");
            assertNotNull(net.bn2.weight().grad(), "last BN gamma is trained");
            assertNotNull(net.bn2.bias().grad(), "last BN beta is trained");
            assertNull(x.grad(), "the input gets no gradient");
            for (Tensor t : new Tensor[] {net.y1, net.y2, net.y3, net.y4, net.y5}) assertNull(t.grad(), "no gradient kept for " + t);
            assertGradientIsFinite(net.bn2.weight());
            assertGradientIsFinite(net.bn2.bias());
        }
    }

    @Test
    void frozenFirstConvOnlyStillTrainsEverythingAboveIt() throws ReflectiveOperationException {
        try (Net net = new Net(3); MemoryScope s = MemoryScope.open()) {
            net.conv1.requiresGrad(false);
            Tensor x = input(4);
            Tensor loss = net.loss(x, LABELS);
            assertFalse(net.y1.requiresGrad(), "frozen first conv on a plain input: no node");
            assertNull(net.y1.gradFn());
            for (Tensor t : new Tensor[] {net.y2, net.y3, net.y4, net.y5}) assertTrue(t.requiresGrad(), t + " depends on trainable parameters");
            List<String> nodes = recordedNodes(loss);
            assertEquals(List.of("crossEntropy", "globalAvgPool", "batchNorm2d", "conv2d", "relu6", "batchNorm2d"), nodes);

            Autograd.backward(loss);
            assertNull(net.conv1.weight().grad(), "first conv frozen");
            for (Parameter p : List.of(net.bn1.weight(), net.bn1.bias(), net.conv2.weight(), net.bn2.weight(), net.bn2.bias())) {
                assertNotNull(p.grad());
                assertGradientIsFinite(p);
            }
        }
    }

    @Test
    void gradientsOfTrainedParametersDoNotDependOnWhatElseIsFrozen() {
        // Freezing parameters only removes work: the last BN's gradient is the same as with everything trainable.
        float[] gFrozen, bFrozen, gAll, bAll;
        try (Net net = new Net(5); MemoryScope s = MemoryScope.open()) {
            net.conv1.requiresGrad(false);
            net.conv2.requiresGrad(false);
            net.bn1.requiresGrad(false);
            Autograd.backward(net.loss(input(6), LABELS));
            gFrozen = net.bn2.weight().grad().toArray();
            bFrozen = net.bn2.bias().grad().toArray();
        }
        try (Net net = new Net(5); MemoryScope s = MemoryScope.open()) {
            Autograd.backward(net.loss(input(6), LABELS));
            gAll = net.bn2.weight().grad().toArray();
            bAll = net.bn2.bias().grad().toArray();
            assertNotNull(net.conv1.weight().grad());
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(gAll, gFrozen);
        org.junit.jupiter.api.Assertions.assertArrayEquals(bAll, bFrozen);
    }

    @Test
    void noGradModeRecordsNothing() throws ReflectiveOperationException {
        try (Net net = new Net(7); MemoryScope s = MemoryScope.open()) {
            Tensor x = input(8).requiresGrad(true);
            Tensor loss;
            try (GradMode.Guard g = GradMode.noGrad()) {
                assertFalse(GradMode.isEnabled());
                loss = net.loss(x, LABELS);
                for (Tensor t : new Tensor[] {net.y1, net.y2, net.y3, net.y4, net.y5, loss}) {
                    assertFalse(t.requiresGrad(), t + " under noGrad");
                    assertNull(t.gradFn());
                }
                try (GradMode.Guard inner = GradMode.noGrad()) {
                    assertFalse(GradMode.isEnabled());
                }
                assertFalse(GradMode.isEnabled(), "closing a nested guard restores the outer (disabled) mode");
            }
            assertTrue(GradMode.isEnabled(), "closing the guard turns recording back on");
            assertThrows(IllegalArgumentException.class, () -> Autograd.backward(loss), "nothing to differentiate");
            for (Parameter p : net.all.parameters()) assertNull(p.grad());

            Tensor again = net.loss(x, LABELS);
            assertTrue(again.requiresGrad(), "recording is back on after the guard");
            assertTrue(recordedNodes(again).contains("conv2d"));
        }
    }

    @Test
    void everythingFrozenHasNothingToTrain() {
        try (Net net = new Net(9); MemoryScope s = MemoryScope.open()) {
            net.all.requiresGrad(false);
            Tensor loss = net.loss(input(10), LABELS);
            assertFalse(loss.requiresGrad());
            assertThrows(IllegalArgumentException.class, () -> Autograd.backward(loss));
        }
    }

    private static void assertGradientIsFinite(Parameter p) {
        float[] g = p.grad().toArray();
        boolean nonZero = false;
        for (float v : g) {
            assertTrue(Float.isFinite(v), "finite gradient");
            nonZero |= v != 0f;
        }
        assertTrue(nonZero, "a non-zero gradient");
    }
}
