// CheckpointTest: checkpoints round-trip, refuse damaged or mismatched files, and a resumed run
// ends bit-identical to an uninterrupted one.
package org.bnnas.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.bnnas.data.Dataset;
import org.bnnas.engine.io.SafeTensors;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.StandaloneNet;
import org.bnnas.supernet.Supernet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    private static final SearchSpace SPACE = SearchSpace.load("bnnas-small");

    @TempDir
    Path dir;

    private static Dataset tiny() {
        return org.bnnas.data.TestFiles.randomImages(48, 11);
    }

    /** Thrown by a listener to stop training as a kill would, after the epoch's checkpoint is written. */
    private static final class Killed extends RuntimeException {}

    private static TrainingLoop.Listener killAfter(int epochs) {
        return new TrainingLoop.Listener() {
            @Override
            public void epochDone(TrainingLoop.EpochStats stats) {
                if (stats.epoch() + 1 == epochs) throw new Killed();
            }
        };
    }

    private static void assertSameState(Map<String, TensorData> expected, Map<String, TensorData> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String k : expected.keySet()) assertEquals(expected.get(k), actual.get(k), k + " differs after resume");
    }

    @Test
    void aSupernetCheckpointHasTheOfficialNamesAndSaysWhatItIs() throws IOException {
        Path file = dir.resolve("supernet.safetensors");
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0))) {
            Checkpoint.saveModel(file, net, Checkpoint.Info.supernet(SPACE.name, 1, 28));
            SafeTensors.Loaded loaded = SafeTensors.read(file);
            assertArrayEquals(new int[] {8, 1, 3, 3}, loaded.tensors().get("conv_bn.0.weight").shape(), "conv weights are OIHW");
            assertTrue(loaded.tensors().containsKey("features.20._ops.5.conv.7.running_var"));
            assertTrue(loaded.tensors().containsKey("conv_bn.1.num_batches_tracked"));
            assertArrayEquals(new int[] {10, 432}, loaded.tensors().get("classifier.0.weight").shape(), "Linear is [out, in]");
            Checkpoint.Info info = Checkpoint.readInfo(file);
            assertEquals(Checkpoint.Kind.SUPERNET, info.kind());
            assertEquals("bnnas-small", info.space());
            assertNull(info.arch());
            try (Supernet copy = new Supernet(SPACE, 1, new Rng(99))) {
                Checkpoint.loadModel(file, copy);
                assertSameState(net.stateDict(), copy.stateDict());
            }
        }
    }

    @Test
    void aStandaloneCheckpointKeepsItsArchitecture() throws IOException {
        int[] arch = Architecture.sample(SPACE, new Rng(4));
        Path file = dir.resolve("net.safetensors");
        try (StandaloneNet net = new StandaloneNet(SPACE, arch, 1, new Rng(0))) {
            Checkpoint.saveModel(file, net, Checkpoint.Info.standalone(SPACE.name, 1, 28, arch));
        }
        Checkpoint.Info info = Checkpoint.readInfo(file);
        assertEquals(Checkpoint.Kind.STANDALONE, info.kind());
        assertArrayEquals(arch, info.arch());
        assertTrue(SafeTensors.read(file).tensors().containsKey("classifier.1.weight"), "index 0 of the classifier is the dropout");
    }

    @Test
    void aDamagedCheckpointIsRefused() throws IOException {
        Path file = dir.resolve("supernet.safetensors");
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0))) {
            Checkpoint.saveModel(file, net, Checkpoint.Info.supernet(SPACE.name, 1, 28));
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            long at = ch.size() - 100;
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x40));
            b.rewind();
            ch.write(b, at);
        }
        IOException e = assertThrows(IOException.class, () -> Checkpoint.readInfo(file));
        assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("checksum"), e.getMessage());
        Files.write(file, new byte[] {1, 2, 3});
        assertThrows(IOException.class, () -> Checkpoint.readInfo(file), "a truncated file");
    }

    @Test
    void aCheckpointOfAnotherNetworkDoesNotLoad() throws IOException {
        Path file = dir.resolve("net.safetensors");
        int[] arch = Architecture.sample(SPACE, new Rng(4));
        try (StandaloneNet net = new StandaloneNet(SPACE, arch, 1, new Rng(0))) {
            Checkpoint.saveModel(file, net, Checkpoint.Info.standalone(SPACE.name, 1, 28, arch));
        }
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0))) {
            IOException e = assertThrows(IOException.class, () -> Checkpoint.loadModel(file, net));
            assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
        }
    }

    /** A state dict saved as PyTorch's safetensors.torch.save_file saves one: the tensors and no metadata. */
    private static Path writtenByPytorch(Path file, Map<String, TensorData> stateDict) throws IOException {
        SafeTensors.write(file, stateDict, null);
        return file;
    }

    @Test
    void aFileWithoutMetadataIsReadByItsTensorNames() throws IOException {
        int[] arch = Architecture.sample(SPACE, new Rng(4));
        Path supernet, standalone;
        Map<String, TensorData> supernetState, standaloneState;
        try (Supernet net = new Supernet(SPACE, 1, new Rng(1))) {
            supernetState = net.stateDict();
            supernet = writtenByPytorch(dir.resolve("supernet.safetensors"), supernetState);
        }
        try (StandaloneNet net = new StandaloneNet(SPACE, arch, 1, new Rng(2))) {
            standaloneState = net.stateDict();
            standalone = writtenByPytorch(dir.resolve("standalone.safetensors"), standaloneState);
        }
        Checkpoint.Info s = Checkpoint.readInfo(supernet, SPACE.name), n = Checkpoint.readInfo(standalone, SPACE.name);
        assertEquals(new Checkpoint.Info(Checkpoint.Kind.SUPERNET, SPACE.name, 1, 0, null, true).toString(), s.toString());
        assertEquals(Checkpoint.Kind.STANDALONE, n.kind());
        assertNull(n.arch(), "the file does not say its architecture");
        assertTrue(n.foreign());
        try (Supernet net = new Supernet(SPACE, 1, new Rng(9))) {
            Checkpoint.loadModel(supernet, net);
            assertSameState(supernetState, net.stateDict());
        }
        try (StandaloneNet net = new StandaloneNet(SPACE, arch, 1, new Rng(9))) {
            Checkpoint.loadModel(standalone, net);
            assertSameState(standaloneState, net.stateDict());
        }
        IOException e = assertThrows(IOException.class, () -> Checkpoint.readInfo(supernet), "the metadata-only reader refuses it");
        assertTrue(e.getMessage().contains("not a bnnas checkpoint"), e.getMessage());
    }

    @Test
    void aFileWithoutMetadataMustHoldEveryNameOfTheModelAndNoOther() throws IOException {
        int[] arch = Architecture.sample(SPACE, new Rng(4));
        Map<String, TensorData> state;
        try (StandaloneNet net = new StandaloneNet(SPACE, arch, 1, new Rng(2))) {
            state = net.stateDict();
        }
        Map<String, TensorData> extra = new java.util.LinkedHashMap<>(state);
        extra.put("features.99.conv.0.weight", TensorData.f32(new int[] {1}, new float[] {0f}));
        Map<String, TensorData> missing = new java.util.LinkedHashMap<>(state);
        missing.remove("conv_1x1_bn.1.running_var");
        Path withExtra = writtenByPytorch(dir.resolve("extra.safetensors"), extra), withoutOne = writtenByPytorch(dir.resolve("missing.safetensors"), missing);
        int[] other = arch.clone();
        other[0] = (arch[0] + 1) % SPACE.ops.size(); // another op in layer 0: other shapes
        try (StandaloneNet net = new StandaloneNet(SPACE, arch, 1, new Rng(9)); StandaloneNet wrong = new StandaloneNet(SPACE, other, 1, new Rng(9))) {
            IOException e = assertThrows(IOException.class, () -> Checkpoint.loadModel(withExtra, net));
            assertTrue(e.getMessage().contains("unexpected key features.99.conv.0.weight"), e.getMessage());
            e = assertThrows(IOException.class, () -> Checkpoint.loadModel(withoutOne, net));
            assertTrue(e.getMessage().contains("missing key conv_1x1_bn.1.running_var"), e.getMessage());
            Path right = writtenByPytorch(dir.resolve("right.safetensors"), state);
            e = assertThrows(IOException.class, () -> Checkpoint.loadModel(right, wrong), "an architecture that does not fit the tensors' shapes");
            assertTrue(e.getMessage().startsWith(right + ": does not fit the model"), e.getMessage());
        }
        Path neither = writtenByPytorch(dir.resolve("neither.safetensors"), Map.of("x", TensorData.f32(new int[] {1}, new float[] {1f})));
        IOException e = assertThrows(IOException.class, () -> Checkpoint.readInfo(neither, SPACE.name));
        assertTrue(e.getMessage().contains("neither a bnnas checkpoint nor a state dict"), e.getMessage());
    }

    @Test
    void aCheckpointOfTheNetworkBeforeTheStemResidualIsRefusedWithTheReason() throws IOException {
        Path file = dir.resolve("old.safetensors");
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0))) {
            Map<String, TensorData> tensors = net.stateDict();
            SafeTensors.write(file, tensors, Map.of("format", "bnnas-checkpoint-1", "crc32c", Checkpoint.crc(tensors)));
            IOException e = assertThrows(IOException.class, () -> Checkpoint.loadModel(file, net));
            assertTrue(e.getMessage().contains("older bnnas") && e.getMessage().contains("train it again"), e.getMessage());
        }
    }

    @Test
    void resumingSupernetTrainingEndsBitIdenticalToAnUninterruptedRun() throws IOException {
        Dataset data = tiny();
        SupernetTrainer.Config cfg = SupernetTrainer.Config.defaults(SupernetTrainer.Mode.FULL, 3, 16, 5);
        Map<String, TensorData> uninterrupted;
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0))) {
            SupernetTrainer.train(net, data, cfg, dir.resolve("a.safetensors"), false, null);
            uninterrupted = net.stateDict();
        }
        Path file = dir.resolve("b.safetensors");
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0))) {
            assertThrows(Killed.class, () -> SupernetTrainer.train(net, data, cfg, file, false, killAfter(2)));
        }
        try (Supernet net = new Supernet(SPACE, 1, new Rng(1))) { // other initial weights: the checkpoint must replace them all
            var stats = SupernetTrainer.train(net, data, cfg, file, true, null);
            assertEquals(1, stats.size(), "only the third epoch is left");
            assertSameState(uninterrupted, net.stateDict());
        }
        assertEquals(SafeTensors.read(Checkpoint.stateFileOf(dir.resolve("a.safetensors"))).tensors(),
                SafeTensors.read(Checkpoint.stateFileOf(file)).tensors(), "same optimizer state and generators");
    }

    @Test
    void resumingRetrainingEndsBitIdenticalToAnUninterruptedRun() {
        Dataset data = tiny();
        int[] arch = Architecture.sample(SPACE, new Rng(8));
        Retrainer.Config cfg = Retrainer.Config.defaults(2, 16, 3);
        Map<String, TensorData> uninterrupted;
        try (StandaloneNet net = new StandaloneNet(SPACE, arch, 1, new Rng(0))) {
            Retrainer.train(net, data, cfg, dir.resolve("a.safetensors"), false, null);
            uninterrupted = net.stateDict();
        }
        Path file = dir.resolve("b.safetensors");
        try (StandaloneNet net = new StandaloneNet(SPACE, arch, 1, new Rng(0))) {
            assertThrows(Killed.class, () -> Retrainer.train(net, data, cfg, file, false, killAfter(1)));
        }
        try (StandaloneNet net = new StandaloneNet(SPACE, arch, 1, new Rng(0))) {
            Retrainer.train(net, data, cfg, file, true, null);
            assertSameState(uninterrupted, net.stateDict());
        }
    }

    @Test
    void resumeRefusesAnotherConfiguration() {
        Dataset data = tiny();
        Path file = dir.resolve("s.safetensors");
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0))) {
            SupernetTrainer.train(net, data, SupernetTrainer.Config.defaults(SupernetTrainer.Mode.BN, 1, 16, 5), file, false, null);
        }
        try (Supernet net = new Supernet(SPACE, 1, new Rng(0))) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> SupernetTrainer.train(net, data,
                    SupernetTrainer.Config.defaults(SupernetTrainer.Mode.BN, 1, 16, 6), file, true, null));
            assertTrue(e.getCause().getMessage().contains("different configuration"), e.getCause().getMessage());
        }
    }
}
