// Backends: finds the device backends at run time (ServiceLoader); the CPU backend is always there.
package org.bnnas.engine.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.bnnas.engine.backend.cpu.CpuBackend;

/** The registry of backends: the built-in CPU one, and any provider found on the class path. */
public final class Backends {
    private static final CpuBackend CPU = new CpuBackend();

    private Backends() {}

    public static CpuBackend cpu() {
        return CPU;
    }

    /** Backends supplied by other modules (the CUDA backend in native/), in class-path order. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> out = new ArrayList<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) out.add(p);
        return out;
    }

    private static volatile Backend current = CPU;

    /** The backend the ops run on. */
    public static Backend current() {
        return current;
    }

    /** Makes the ops run on {@code b} (a device backend, or a wrapper that measures the CPU one). */
    public static void use(Backend b) {
        current = b;
    }
}
