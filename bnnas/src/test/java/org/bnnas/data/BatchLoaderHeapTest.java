// BatchLoaderHeapTest: prepared batches live outside the JVM's heap, so image batches larger than
// the heap can hold twice (the paper's 512 ImageNet images are 308 MB; bin/bnnas gives the heap
// 512 MB) load in a JVM whose heap is smaller than two of them.
package org.bnnas.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.bnnas.engine.tensor.MemoryScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchLoaderHeapTest {
    @TempDir
    Path dir;

    /** Three training batches of 64 images at 224x224 (38.5 MB each), one being prepared while the last is taken. */
    public static void main(String[] args) {
        var train = Datasets.imageFolder(Path.of(args[0]), 224, false).train();
        try (BatchLoader loader = new BatchLoader(train, BatchLoader.Options.training(train, 64, 0))) {
            for (int i = 0; i < 3; i++) {
                try (MemoryScope s = MemoryScope.open(); BatchLoader.Batch b = loader.next()) {
                    if (b.size() != 64) throw new IllegalStateException("batch of " + b.size());
                }
            }
        }
    }

    @Test
    void batchesTwiceTheHeapLoad() throws Exception {
        Path root = TestFiles.imageFolder(dir.resolve("images"), 2, 100);
        Path log = dir.resolve("log");
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--add-modules", "jdk.incubator.vector",
                "-Xmx64m", "-cp", System.getProperty("java.class.path"), BatchLoaderHeapTest.class.getName(), root.toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertEquals(0, p.waitFor(), Files.readString(log));
    }
}
