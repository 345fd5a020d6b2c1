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
