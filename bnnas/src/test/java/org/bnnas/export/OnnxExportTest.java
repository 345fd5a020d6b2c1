// OnnxExportTest: an exported network runs in ONNX Runtime and gives our logits (within 1e-4),
// for bnnas-small and bnnas-imagenet paths, with BN statistics estimated on data; the model says
// its space and architecture; on request, a retrained network predicts all 10,000 test images as here.
package org.bnnas.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import org.bnnas.data.BatchLoader;
import org.bnnas.data.Dataset;
import org.bnnas.data.Datasets;
import org.bnnas.engine.autograd.GradMode;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.StandaloneNet;
import org.bnnas.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxExportTest {
    @TempDir
    Path dir;

    @Test
    void bnnasSmallRunsInOnnxRuntimeAsHere() throws Exception {
        int[] arch = {0, -1, 1, 2, 3, -1, -1, 4, 5, -1, 0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1}; // every op, and the stem block's residual
        check(SearchSpace.load("bnnas-small"), arch, 1, 28, 5);
    }

    @Test
    void bnnasImagenetRunsInOnnxRuntimeAsHere() throws Exception {
        SearchSpace space = SearchSpace.load("bnnas-imagenet");
        check(space, Architecture.sample(space, new Rng(3)), 3, 224, 2);
    }

    /**
     * The check after `bin/bnnas run` (README): with -Dbnnas.onnx.checkpoint=RUN/standalone.safetensors
     * (a retrained bnnas-small network), its export must predict every Fashion-MNIST test image as
     * we do. Skipped without the property.
     */
    @Test
    void aRetrainedNetworkPredictsEveryTestImageAsHere() throws Exception {
        String given = System.getProperty("bnnas.onnx.checkpoint");
        assumeTrue(given != null && !given.isEmpty(), "no -Dbnnas.onnx.checkpoint given");
        Path checkpoint = Path.of(given);
        Checkpoint.Info info = Checkpoint.readInfo(checkpoint);
        SearchSpace space = SearchSpace.load(info.space());
        Dataset test = Datasets.load("fashion-mnist").test();
        Path file = dir.resolve("retrained.onnx");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int same = 0, correctHere = 0, correctThere = 0;
        try (StandaloneNet net = new StandaloneNet(space, info.arch(), info.inChannels(), new Rng(0))) {
            Checkpoint.loadModel(checkpoint, net);
            OnnxExport.write(net, test.channels(), test.size(), file);
            net.eval();
            try (OrtSession session = env.createSession(file.toString(), new OrtSession.SessionOptions());
                 GradMode.Guard g = GradMode.noGrad(); BatchLoader loader = new BatchLoader(test, BatchLoader.Options.evaluation(500))) {
                while (loader.hasNext()) {
                    try (MemoryScope scope = MemoryScope.open(); BatchLoader.Batch b = loader.next()) {
                        float[] x = b.images().toArray(), ours = net.forward(b.images()).toArray();
                        try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {b.size(), test.channels(), test.size(), test.size()});
                             OrtSession.Result result = session.run(Map.of("images", input))) {
                            float[][] theirs = (float[][]) result.get(0).getValue();
                            for (int n = 0; n < b.size(); n++) {
                                int here = argmax(ours, n * theirs[n].length, theirs[n].length), there = argmax(theirs[n], 0, theirs[n].length);
                                if (here == there) same++;
                                if (here == b.labels()[n]) correctHere++;
                                if (there == b.labels()[n]) correctThere++;
                            }
                        }
                    }
                }
            }
        }
        System.out.printf("ONNX Runtime and bnnas agree on %d of %d test images (top-1 %.4f and %.4f)%n", same, test.count(),
                correctThere / (double) test.count(), correctHere / (double) test.count());
        assertEquals(test.count(), same, "predictions that differ");
    }

    private static int argmax(float[] v, int from, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (v[from + i] > v[from + best]) best = i;
        return best;
    }

    private void check(SearchSpace space, int[] arch, int channels, int size, int batch) throws Exception {
        Path file = dir.resolve(space.name + ".onnx");
        float[] x = new float[batch * channels * size * size];
        Rng rng = new Rng(8);
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
        float[] ours;
        try (StandaloneNet net = new StandaloneNet(space, arch, channels, new Rng(4))) {
            estimateStatistics(net, channels, size);
            net.eval();
            try (GradMode.Guard g = GradMode.noGrad(); Tensor in = Tensor.fromArray(x, batch, channels, size, size)) {
                ours = net.forward(in).toArray();
            }
            OnnxExport.write(net, channels, size, file);
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(file.toString(), new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {batch, channels, size, size});
             OrtSession.Result result = session.run(Map.of("images", input))) {
            float[][] theirs = (float[][]) result.get(0).getValue();
            double worst = 0, apart = 0;
            for (int n = 0; n < batch; n++) {
                for (int k = 0; k < theirs[n].length; k++) {
                    worst = Math.max(worst, Math.abs(theirs[n][k] - ours[n * theirs[n].length + k]));
                    apart = Math.max(apart, Math.abs(theirs[n][k] - theirs[0][k]));
                }
            }
            assertTrue(apart > 1e-3, "the images get different logits, so the comparison shows something: " + apart);
            assertTrue(worst <= 1e-4, space.name + ": max |ONNX Runtime - ours| = " + worst);
            Map<String, String> meta = session.getMetadata().getCustomMetadata();
            assertEquals(space.name, meta.get("space"));
            assertEquals(Architecture.format(arch), meta.get("arch"));
            assertEquals("images", session.getInputNames().iterator().next());
            assertEquals("logits", session.getOutputNames().iterator().next());
        }
    }

    /** Random gammas and betas, then BN statistics as a training-mode pass over random images leaves them (not the 1/0 of a fresh BN). */
    static void estimateStatistics(StandaloneNet net, int channels, int size) {
        Rng rng = new Rng(12);
        java.util.List<BatchNorm2d> bns = net.modulesOf(BatchNorm2d.class);
        for (BatchNorm2d bn : bns) {
            float[] g = new float[bn.numFeatures], b = new float[bn.numFeatures];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) (0.7 + 0.6 * rng.nextDouble());
                b[i] = (float) (0.4 * rng.nextDouble() - 0.2);
            }
            bn.weight().data().copyFrom(g);
            bn.bias().data().copyFrom(b);
            bn.resetRunningStats();
            bn.setMomentum(null);
        }
        net.train();
        float[] x = new float[8 * channels * size * size];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
        try (GradMode.Guard g = GradMode.noGrad(); Tensor in = Tensor.fromArray(x, 8, channels, size, size)) {
            net.forward(in);
        }
        for (BatchNorm2d bn : bns) bn.setMomentum(0.1);
    }

}
