// BackendsTest: the CPU backend comes through ServiceLoader like any device backend, is always
// there, and is what "cpu" and a fallback select.
package org.bnnas.engine.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bnnas.engine.tensor.NativeMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BackendsTest {
    @AfterEach
    void backToTheCpu() {
        Backends.use(Backends.cpu());
    }

    @Test
    void theCpuBackendIsFoundAndIsNoDeviceProvider() {
        assertEquals("cpu", Backends.cpu().name());
        assertSame(NativeMemory.HOST, Backends.cpu().memory());
        assertTrue(Backends.providers().stream().noneMatch(p -> p.name().equals("cpu")), "providers() lists device backends only");
    }

    @Test
    void cpuSelectsItWithoutANote() {
        assertNull(Backends.select("cpu"));
        assertSame(Backends.cpu(), Backends.current());
    }

    @Test
    void anUnknownDeviceIsNamedWithTheDevicesThereAre() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.select("tpu"));
        assertTrue(e.getMessage().startsWith("'tpu' is not a device of this build (it has: cpu, auto"), e.getMessage());
    }
}
