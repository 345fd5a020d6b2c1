// Backends: finds the backends at run time (ServiceLoader): the CPU one, always there, and any
// device backend another module offers.
package org.bnnas.engine.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.bnnas.engine.tensor.NativeMemory;

/** The registry of backends: the CPU one (backend/cpu, the fallback) and any device provider found on the class path. */
public final class Backends {
    private static final String CPU_NAME = "cpu";
    private static final Backend CPU = cpuProvider().create();

    private Backends() {}

    private static BackendProvider cpuProvider() {
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) if (p.name().equals(CPU_NAME)) return p;
        throw new IllegalStateException("no CPU backend on the class path: java-engine's META-INF/services/" + BackendProvider.class.getName()
                + " is missing (a jar built without service files?)");
    }

    /** The CPU backend, the reference every other backend is checked against. */
    public static Backend cpu() {
        return CPU;
    }

    /** Backends supplied by other modules (the CUDA backend in native/), in class-path order; the CPU's is not among them. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> out = new ArrayList<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) if (!p.name().equals(CPU_NAME)) out.add(p);
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
        if (device.equals(CPU_NAME)) {
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
