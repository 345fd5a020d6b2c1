// ActivationProbe: lets a caller see every ReLU6 output of a forward (the NASWOT predictor reads
// their signs), without changing what the network computes.
package org.bnnas.engine.nn;

import org.bnnas.engine.tensor.Tensor;

/**
 * While a probe is open on this thread, every ReLU6 activation a module computes is handed to its
 * listener: the output of {@link ReLU6}, and that of a batch norm fused with ReLU6. Where a fused
 * op would never write the activation out (batch norm, ReLU6 and depthwise convolution in one
 * pass), the module runs the same steps one at a time instead, so the activation exists to be
 * seen; the fused kernels themselves are untouched.
 */
public final class ActivationProbe {
    /** Receives each activation (N, C, H, W) right after it is computed; it must not keep or change it. */
    public interface Listener {
        void activation(Tensor relu6Output);
    }

    private static final ThreadLocal<Listener> LISTENER = new ThreadLocal<>();

    private ActivationProbe() {}

    /** Opens a probe until the returned guard closes: {@code try (var p = ActivationProbe.open(l)) {...}}. Probes do not nest. */
    public static Guard open(Listener listener) {
        if (LISTENER.get() != null) throw new IllegalStateException("ActivationProbe: a probe is already open on this thread");
        LISTENER.set(listener);
        return LISTENER::remove;
    }

    /** Whether a probe is open on this thread (then fused paths that hide an activation are not taken). */
    public static boolean active() {
        return LISTENER.get() != null;
    }

    static void report(Tensor activation) {
        Listener l = LISTENER.get();
        if (l != null) l.activation(activation);
    }

    /** Closes the probe. */
    public interface Guard extends AutoCloseable {
        @Override void close();
    }
}
