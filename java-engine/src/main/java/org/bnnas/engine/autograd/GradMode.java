// GradMode: the switch that turns graph recording off for evaluation (PyTorch's no_grad).
package org.bnnas.engine.autograd;

/** Per-thread switch: while disabled, ops record no graph and their outputs require no grad. */
public final class GradMode {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {}

    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Disables recording until the returned guard is closed: {@code try (var g = GradMode.noGrad()) {...}}. */
    public static Guard noGrad() {
        boolean[] flag = ENABLED.get();
        boolean before = flag[0];
        flag[0] = false;
        return () -> flag[0] = before;
    }

    /** Restores the previous mode when closed. */
    public interface Guard extends AutoCloseable {
        @Override void close();
    }
}
