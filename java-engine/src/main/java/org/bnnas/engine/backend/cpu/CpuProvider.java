// CpuProvider: offers the CPU backend through ServiceLoader, like any device backend; it can always run.
package org.bnnas.engine.backend.cpu;

import org.bnnas.engine.backend.Backend;
import org.bnnas.engine.backend.BackendProvider;

/** Listed in java-engine's META-INF/services; {@link org.bnnas.engine.backend.Backends} makes it the fallback. */
public final class CpuProvider implements BackendProvider {
    private static final CpuBackend CPU = new CpuBackend();

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String unavailableReason() {
        return null;
    }

    /** The one CPU backend (it holds no state of its own beyond its thread team). */
    @Override
    public Backend create() {
        return CPU;
    }
}
