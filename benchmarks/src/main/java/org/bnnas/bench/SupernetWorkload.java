// SupernetWorkload: the step workload every step benchmark shares: a supernet of a space, random
// data, and the fixed single paths of spaces/bench-archs.json taken in order; or the standalone
// network of the first of those paths, as retraining trains it.
package org.bnnas.bench;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.bnnas.engine.autograd.Autograd;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.optim.ParamGroup;
import org.bnnas.engine.optim.SGD;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.MBConv;
import org.bnnas.supernet.StandaloneNet;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.ParamGroups;
import org.bnnas.train.Retrainer;

/**
 * The same work as the PyTorch peer that compare-pytorch.sh runs: SGD with momentum 0.9 at
 * lr 0.1, label smoothing 0.1, a full step trains every parameter, a BN-only step only gamma and
 * beta of each op's last BN, an eval step is a no-grad forward in eval mode. A standalone step
 * trains the standalone network of the first bench path as Retrainer does: every parameter,
 * weight decay 4e-5 on the weights of rank above 1, dropout before the classifier.
 */
public final class SupernetWorkload implements AutoCloseable {
    /** The kinds of step, each with the name the benchmarks' parameters and the peer use. */
    public enum Mode {
        FULL("full"), BN_ONLY("bnonly"), EVAL("eval"), STANDALONE("standalone");

        public final String key;

        Mode(String key) {
            this.key = key;
        }

        /** The mode named {@code key}. */
        public static Mode of(String key) {
            for (Mode m : values()) if (m.key.equals(key)) return m;
            throw new IllegalArgumentException("mode: full, bnonly, eval or standalone, got " + key);
        }
    }

    private final Module net;
    private final List<int[]> archs;
    private final Tensor input;
    private final int[] labels;
    private final SGD sgd;
    private final Mode mode;
    private int next;

    public SupernetWorkload(String spaceName, int batch, Mode mode) {
        SearchSpace space = SearchSpace.load(spaceName);
        this.mode = mode;
        Rng rng = new Rng(0);
        archs = benchArchs();
        net = mode == Mode.STANDALONE ? new StandaloneNet(space, archs.get(0), space.inputChannels, rng) : new Supernet(space, space.inputChannels, rng);
        int size = space.inputSize;
        float[] x = new float[batch * space.inputChannels * size * size];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
        input = MemoryScope.detach(Tensor.fromArray(x, batch, space.inputChannels, size, size));
        labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = rng.nextInt(space.classes);
        if (mode == Mode.STANDALONE) {
            sgd = new SGD(ParamGroups.allWithWeightDecay(net, 0.1, 0.9, Retrainer.Config.defaults(1, batch, 0).weightDecay()));
        } else {
            List<Parameter> trainable;
            if (mode == Mode.BN_ONLY) {
                trainable = MBConv.trainOnlyLastBns(net);
            } else {
                net.requiresGrad(true);
                trainable = net.parameters();
            }
            sgd = new SGD(ParamGroup.of(trainable, 0.1).momentum(0.9));
        }
        if (mode == Mode.EVAL) net.eval(); else net.train();
    }

    /** Our network (a Supernet, or the StandaloneNet of the first path): LibtorchWorkload copies its weights. */
    Module net() {
        return net;
    }

    /** The batch every step takes, which LibtorchWorkload gives libtorch too. */
    Tensor input() {
        return input;
    }

    int[] labels() {
        return labels;
    }

    Mode mode() {
        return mode;
    }

    /** The eight paths of spaces/bench-archs.json. */
    public static List<int[]> benchArchs() {
        try (InputStream in = SearchSpace.class.getResourceAsStream("/spaces/bench-archs.json")) {
            List<int[]> out = new ArrayList<>();
            for (JsonElement a : JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject().getAsJsonArray("archs")) {
                int[] arch = new int[a.getAsJsonArray().size()];
                for (int i = 0; i < arch.length; i++) arch[i] = a.getAsJsonArray().get(i).getAsInt();
                out.add(arch);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("bench-archs.json: " + e.getMessage(), e);
        }
    }

    /** One step on the next path; returns the loss (training) or the first logit (eval), which on a GPU waits for the step to finish. */
    public float step() {
        return run(true);
    }

    /** One step on the next path, reading nothing: on a GPU it queues the step's work and returns. */
    public void queueStep() {
        run(false);
    }

    private float run(boolean read) {
        if (net instanceof Supernet supernet) supernet.select(archs.get(next++ % archs.size()));
        try (MemoryScope scope = MemoryScope.open()) {
            if (mode == Mode.EVAL) {
                try (GradMode.Guard g = GradMode.noGrad()) {
                    Tensor logits = net.forward(input);
                    return read ? logits.get(0, 0) : Float.NaN;
                }
            }
            Tensor loss = Ops.crossEntropy(net.forward(input), labels, 0.1f);
            Autograd.backward(loss);
            sgd.step();
            sgd.zeroGrad();
            return read ? loss.item() : Float.NaN;
        }
    }

    @Override
    public void close() {
        sgd.close();
        net.close();
        input.close();
    }
}
