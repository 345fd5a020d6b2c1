// Backends: finds the device backends at run time (ServiceLoader); the CPU backend is always there.
package org.bnnas.engine.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.bnnas.engine.backend.cpu.CpuBackend;
import org.bnnas.engine.tensor.NativeMemory;

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

    /** Makes the ops run on {@code b} (a device backend, or a wrapper that measures the CPU one), with b's memory. */
    public static void use(Backend b) {
        NativeMemory.use(b.memory());
        current = b;
    }

    /**
     * Chooses the device the ops run on, before any model is built: "cpu", the name of a provider
     * ("cuda"), or "auto" (the first provider that can run here, else the CPU). Returns a one-line
     * note when auto falls back to the CPU although a device backend is installed, else null.
     * An explicitly named device that cannot run here is an IllegalArgumentException with the reason.
     */
    public static String select(String device) {
        if (device.equals("cpu")) {
            use(CPU);
            return null;
        }
        List<BackendProvider> all = providers();
        if (device.equals("auto")) {
            List<String> reasons = new ArrayList<>();
            for (BackendProvider p : all) {
                String why = p.unavailableReason();
                if (why == null) {
                    use(p.create());
                    return null;
                }
                reasons.add(p.name() + ": " + why);
            }
            use(CPU);
            return reasons.isEmpty() ? null : "running on the CPU (" + String.join("; ", reasons) + ")";
        }
        for (BackendProvider p : all) {
            if (!p.name().equals(device)) continue;
            String why = p.unavailableReason();
            if (why != null) throw new IllegalArgumentException(device + " cannot run here: " + why);
            use(p.create());
            return null;
        }
        List<String> names = new ArrayList<>(List.of("cpu", "auto"));
        for (BackendProvider p : all) names.add(p.name());
        throw new IllegalArgumentException("'" + device + "' is not a device of this build (it has: " + String.join(", ", names) + ")");
    }
}
