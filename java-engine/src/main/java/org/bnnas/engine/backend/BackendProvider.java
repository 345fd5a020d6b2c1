// BackendProvider: the ServiceLoader entry point through which a device module offers its backend.
package org.bnnas.engine.backend;

/** Implemented by device modules and listed in META-INF/services. */
public interface BackendProvider {
    /** Short device name, e.g. "cuda". */
    String name();

    /** Null when the device can be used here, otherwise a one-line reason why not. */
    String unavailableReason();

    Backend create();
}
