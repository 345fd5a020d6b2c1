// ProcessMemory: the resident memory of this process (heap, off-heap tensors, native libraries and
// all), as Linux reports it, for the memory figures of the benchmarks and of bnnas run.
package org.bnnas.engine.tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads /proc/self/status; -1 where it is not there (not Linux). */
public final class ProcessMemory {
    private ProcessMemory() {}

    /** Resident bytes now (VmRSS). */
    public static long residentBytes() {
        return field("VmRSS:");
    }

    /** The most resident bytes since the process started (VmHWM, the high-water mark). */
    public static long peakResidentBytes() {
        return field("VmHWM:");
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(name)) return Long.parseLong(line.substring(name.length()).trim().split("\\s+")[0]) * 1024;
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
