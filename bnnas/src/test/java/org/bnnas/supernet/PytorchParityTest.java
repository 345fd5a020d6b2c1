// PytorchParityTest: our supernet and standalone networks compute the logits of the official
// network in PyTorch (src/test/python/official_net.py), with the weights going both ways through
// safetensors files: ours (with bnnas metadata) into PyTorch, PyTorch's (without) into ours.
package org.bnnas.supernet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.score.Synflow;
import org.bnnas.score.ZeroCost;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.train.Checkpoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PytorchParityTest {
    private static final Path SCRIPT = OfficialNet.SCRIPT;
    private static final double TOLERANCE = 1e-4;
    private static final SearchSpace SMALL = SearchSpace.load("bnnas-small"), IMAGENET = SearchSpace.load("bnnas-imagenet");
    /** A bnnas-small path with every op; its stem block has the residual (8 -> 8 channels), bnnas-imagenet's has none (40 -> 24). */
    private static final int[] SMALL_ARCH = {0, -1, 1, 2, 3, -1, -1, 4, 5, -1, 0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1};
    private static String python;

    @TempDir
    Path dir;

    @BeforeAll
    static void findPython() throws InterruptedException {
        python = OfficialNet.python();
    }

    @Test
    void ourSupernetRunsInPytorch() throws Exception {
        try (Supernet net = new Supernet(SMALL, 1, new Rng(3))) {
            List<int[]> paths = paths(SMALL, 4);
            calibrate(net, paths, 1, 28);
            Path file = dir.resolve("ours.safetensors");
            Checkpoint.saveModel(file, net, Checkpoint.Info.supernet(SMALL.name, 1, 28));
            Tensor x = batch(4, 1, 28, 5);
            assertClose(supernetLogits(net, paths, x), pytorch("supernet", SMALL, paths, file, x), "our supernet in PyTorch");
        }
    }

    @Test
    void pytorchsSupernetRunsHere() throws Exception {
        List<int[]> paths = paths(SMALL, 4);
        Path file = pytorchInit("supernet", SMALL, paths, 1, 28);
        try (Supernet net = new Supernet(SMALL, 1, new Rng(0))) {
            Checkpoint.loadModel(file, net);
            Tensor x = batch(4, 1, 28, 6);
            assertClose(pytorch("supernet", SMALL, paths, file, x), supernetLogits(net, paths, x), "PyTorch's supernet here");
        }
    }

    @Test
    void standaloneNetworksBothWays() throws Exception {
        int[] imagenetArch = Architecture.sample(IMAGENET, new Rng(9));
        for (Object[] c : new Object[][] {{SMALL, SMALL_ARCH, 1, 28}, {IMAGENET, imagenetArch, 3, 64}}) {
            SearchSpace space = (SearchSpace) c[0];
            int[] arch = (int[]) c[1];
            int channels = (int) c[2], size = (int) c[3];
            Tensor x = batch(3, channels, size, 7);
            try (StandaloneNet net = new StandaloneNet(space, arch, channels, new Rng(11))) {
                calibrate(net, List.of(arch), channels, size);
                Path file = dir.resolve("ours-" + space.name + ".safetensors");
                Checkpoint.saveModel(file, net, Checkpoint.Info.standalone(space.name, channels, size, arch));
                assertClose(logits(net, x), pytorch("standalone", space, List.of(arch), file, x), "our " + space.name + " network in PyTorch");
            }
            Path theirs = pytorchInit("standalone", space, List.of(arch), channels, size);
            try (StandaloneNet net = new StandaloneNet(space, arch, channels, new Rng(0))) {
                Checkpoint.loadModel(theirs, net);
                assertClose(pytorch("standalone", space, List.of(arch), theirs, x), logits(net, x), "PyTorch's " + space.name + " network here");
            }
        }
    }

    /** The training-free predictors of a PyTorch-written network: ours against the script's PyTorch implementation of each definition. */
    @Test
    void theTrainingFreePredictorsAgreeWithPytorchs() throws Exception {
        int[] imagenetArch = Architecture.sample(IMAGENET, new Rng(9));
        for (Object[] c : new Object[][] {{SMALL, SMALL_ARCH, 1, 28}, {IMAGENET, imagenetArch, 3, 64}}) {
            SearchSpace space = (SearchSpace) c[0];
            int[] arch = (int[]) c[1];
            int channels = (int) c[2], size = (int) c[3];
            Path file = pytorchInit("standalone", space, List.of(arch), channels, size);
            Tensor x = batch(8, channels, size, 17);
            int[] labels = {0, 3, 9, 1, 1, 7, 4, 2};
            JsonObject theirs = pytorchProxies(space, arch, file, x, labels);
            Map<String, Double> ours = new LinkedHashMap<>();
            for (String p : List.of("grad_norm", "snip", "jacob_cov", "naswot", "synflow")) {
                try (StandaloneNet net = new StandaloneNet(space, arch, channels, new Rng(0))) { // the same weights and statistics for each
                    Checkpoint.loadModel(file, net);
                    ours.put(p, switch (p) {
                        case "grad_norm" -> ZeroCost.gradNorm(net, x, labels);
                        case "snip" -> ZeroCost.snip(net, x, labels);
                        case "jacob_cov" -> ZeroCost.jacobCov(net, x);
                        case "naswot" -> ZeroCost.naswot(net, x);
                        default -> Synflow.logScore(net, channels, size);
                    });
                }
            }
            for (Map.Entry<String, Double> e : ours.entrySet()) {
                double expected = theirs.get(e.getKey()).getAsDouble();
                assertTrue(Math.abs(e.getValue() - expected) <= 1e-3 * Math.abs(expected),
                        space.name + " " + e.getKey() + ": PyTorch " + expected + ", ours " + e.getValue());
            }
        }
    }

    @Test
    void theStemBlockAddsItsInputWhereTheOfficialBlockDoes() {
        try (Supernet small = new Supernet(SMALL, 1, new Rng(0)); Supernet imagenet = new Supernet(IMAGENET, 3, new Rng(0))) {
            assertTrue(((StemBlock) small.children().get("MBConv_ratio_1")).hasResidual(), "8 -> 8 channels, stride 1");
            assertTrue(!((StemBlock) imagenet.children().get("MBConv_ratio_1")).hasResidual(), "40 -> 24 channels");
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static List<int[]> paths(SearchSpace space, int n) {
        List<int[]> out = new ArrayList<>(List.of(SMALL_ARCH));
        Rng rng = new Rng(21);
        while (out.size() < n) out.add(Architecture.sample(space, rng));
        return out;
    }

    /**
     * Random gammas and betas, then BN statistics estimated on random images over {@code paths}
     * (a fresh BN's mean 0 and variance 1 would let the activations blow up until every input
     * gave the same logits, and the comparison would show nothing).
     */
    private static void calibrate(Module net, List<int[]> paths, int channels, int size) {
        List<BatchNorm2d> bns = net.modulesOf(BatchNorm2d.class);
        Rng rng = new Rng(12);
        for (BatchNorm2d bn : bns) {
            bn.weight().data().copyFrom(values(bn.numFeatures, rng, 0.7, 1.3));
            bn.bias().data().copyFrom(values(bn.numFeatures, rng, -0.2, 0.2));
            bn.resetRunningStats();
            bn.setMomentum(null);
        }
        net.train();
        try (GradMode.Guard g = GradMode.noGrad()) {
            for (int[] p : paths) {
                if (net instanceof Supernet s) s.select(p);
                try (Tensor x = batch(8, channels, size, 13)) {
                    net.forward(x);
                }
            }
        }
        for (BatchNorm2d bn : bns) bn.setMomentum(0.1);
    }


    private static float[] values(int n, Rng rng, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return v;
    }

    private static Tensor batch(int n, int c, int size, long seed) {
        Rng rng = new Rng(seed);
        float[] v = new float[n * c * size * size];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextGaussian();
        return Tensor.fromArray(v, n, c, size, size);
    }

    private static float[] supernetLogits(Supernet net, List<int[]> paths, Tensor x) {
        List<float[]> all = new ArrayList<>();
        for (int[] p : paths) all.add(logits(net.select(p), x));
        return concat(all);
    }

    private static float[] logits(Module net, Tensor x) {
        net.eval();
        try (GradMode.Guard g = GradMode.noGrad()) {
            return net.forward(x).toArray();
        }
    }

    private static float[] concat(List<float[]> parts) {
        float[] out = new float[parts.stream().mapToInt(p -> p.length).sum()];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** Equal within the tolerance, and logits that depend on the image (else a wrong block could go unseen). */
    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": number of logits");
        double worst = 0, largest = 0, imagesApart = 0;
        int classes = 10;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
            largest = Math.max(largest, Math.abs(expected[i]));
            if (i < classes) imagesApart = Math.max(imagesApart, Math.abs(expected[i] - expected[i + classes]));
        }
        assertTrue(imagesApart > 0.05, what + ": the first two images get nearly the same logits (" + imagesApart + "): nothing to compare");
        assertTrue(worst <= TOLERANCE, what + ": max |difference| " + worst + " > " + TOLERANCE + " (largest logit " + largest + ")");
    }

    private Path pytorchInit(String kind, SearchSpace space, List<int[]> paths, int channels, int size) throws Exception {
        return OfficialNet.init(dir, kind, space, paths, channels, size);
    }

    /** The PyTorch network's eval-mode logits for each path, with the weights of {@code weights}. */
    private float[] pytorch(String kind, SearchSpace space, List<int[]> paths, Path weights, Tensor x) throws Exception {
        Path in = writeBatch(x), out = dir.resolve("logits.bin");
        String shape = shape(x);
        run(List.of(python, SCRIPT.toString(), "forward", "--space", spaceFile(space).toString(), "--kind", kind,
                "--archs", paths.stream().map(Architecture::format).collect(Collectors.joining(";")), "--weights", weights.toString(),
                "--input", in.toString(), "--shape", shape, "--out", out.toString()));
        ByteBuffer r = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        float[] logits = new float[r.remaining() / 4];
        r.asFloatBuffer().get(logits);
        return logits;
    }

    private JsonObject pytorchProxies(SearchSpace space, int[] arch, Path weights, Tensor x, int[] labels) throws Exception {
        Path in = writeBatch(x), out = dir.resolve("proxies.json");
        run(List.of(python, SCRIPT.toString(), "proxies", "--space", spaceFile(space).toString(), "--kind", "standalone", "--archs", Architecture.format(arch),
                "--weights", weights.toString(), "--input", in.toString(), "--shape", shape(x), "--labels",
                java.util.Arrays.stream(labels).mapToObj(Integer::toString).collect(Collectors.joining(",")), "--out", out.toString()));
        return JsonParser.parseString(Files.readString(out)).getAsJsonObject();
    }

    private Path writeBatch(Tensor x) throws IOException {
        Path in = dir.resolve("x.bin");
        float[] v = x.toArray();
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        Files.write(in, b.array());
        return in;
    }

    private static String shape(Tensor x) {
        return java.util.Arrays.stream(x.shape().dims()).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    private Path spaceFile(SearchSpace space) throws IOException {
        return OfficialNet.spaceFile(dir, space);
    }

    private static void run(List<String> cmd) throws IOException, InterruptedException {
        OfficialNet.run(cmd);
    }
}
