// MemoryProbe: the memory one kind of step needs: resident memory before the first step and at its
// peak, and the most bytes the tensors held at once, in a JVM that runs nothing else.
//
// Run: java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar org.bnnas.bench.MemoryProbe bnnas-imagenet 64 bnonly 5
package org.bnnas.bench;

import java.util.Locale;
import org.bnnas.engine.tensor.NativeMemory;
import org.bnnas.engine.tensor.ProcessMemory;

/**
 * Arguments: space, batch, mode (full, bnonly, eval, standalone, as SupernetStepBenchmark), steps.
 * Prints one JSON line; compare-pytorch.sh runs it once per mode, each in a fresh JVM, as the
 * PyTorch peer's --memory runs.
 */
public final class MemoryProbe {
    private MemoryProbe() {}

    public static void main(String[] args) {
        if (args.length != 4) {
            System.err.println("usage: MemoryProbe SPACE BATCH full|bnonly|eval|standalone STEPS");
            System.exit(2);
        }
        String space = args[0], mode = args[2];
        int batch = Integer.parseInt(args[1]), steps = Integer.parseInt(args[3]);
        try (SupernetWorkload work = new SupernetWorkload(space, batch, SupernetWorkload.Mode.of(mode))) {
            long before = ProcessMemory.residentBytes();
            float last = 0f;
            for (int i = 0; i < steps; i++) last = work.step();
            Runtime jvm = Runtime.getRuntime();
            if (!Float.isFinite(last)) throw new IllegalStateException("step produced " + last);
            System.out.printf(Locale.ROOT, "{\"space\": \"%s\", \"batch\": %d, \"mode\": \"%s\", \"steps\": %d, \"rss_before_mb\": %.1f, \"peak_rss_mb\": %.1f, "
                            + "\"peak_tensor_mb\": %.1f, \"native_reserved_mb\": %.1f, \"heap_committed_mb\": %.1f}%n", space, batch, mode, steps,
                    before / 1048576.0, ProcessMemory.peakResidentBytes() / 1048576.0, NativeMemory.peakInUseBytes() / 1048576.0,
                    NativeMemory.reservedBytes() / 1048576.0, jvm.totalMemory() / 1048576.0);
        }
    }
}
