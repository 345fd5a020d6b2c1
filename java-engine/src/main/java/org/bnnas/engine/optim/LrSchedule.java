// LrSchedule: learning-rate schedules as factors of each group's initial learning rate: linear
// decay (the BN-NAS paper's) and cosine.
package org.bnnas.engine.optim;

/**
 * A learning-rate schedule, expressed as a factor of the base learning rate: {@link #factor}
 * maps a step number (0 for the first optimizer step) to a multiplier, and {@link #apply} sets
 * every group's lr to {@code group.initialLr() * factor(step)}. Working in factors lets one
 * schedule drive groups with different base learning rates, as PyTorch's LambdaLR does.
 *
 * <p>Call {@code schedule.apply(sgd, step)} before {@code sgd.step()} of step {@code step}.
 * Steps past the end of a finite schedule keep its final factor. Steps may be iterations or
 * epochs, whichever the caller counts.
 */
@FunctionalInterface
public interface LrSchedule {
    /** The multiplier of the base learning rate at {@code step} (>= 0). */
    double factor(long step);

    /** Sets each group's learning rate to its initial learning rate times {@code factor(step)}. */
    default void apply(SGD sgd, long step) {
        sgd.setLrFactor(factor(step));
    }

    /**
     * Linear decay from 1 at step 0 to {@code endFactor} at {@code totalSteps}, then constant.
     * The BN-NAS paper decays the learning rate linearly to 5e-4 of its start: {@code linear(T, 5e-4)}.
     */
    static LrSchedule linear(long totalSteps, double endFactor) {
        checkPositive("totalSteps", totalSteps);
        checkFactor("endFactor", endFactor);
        return step -> {
            checkStep(step);
            double t = Math.min(step, totalSteps) / (double) totalSteps;
            return 1.0 + (endFactor - 1.0) * t;
        };
    }

    /** Half a cosine from 1 at step 0 to {@code minFactor} at {@code totalSteps}, then constant (CosineAnnealingLR). */
    static LrSchedule cosine(long totalSteps, double minFactor) {
        checkPositive("totalSteps", totalSteps);
        checkFactor("minFactor", minFactor);
        return step -> {
            checkStep(step);
            double t = Math.min(step, totalSteps) / (double) totalSteps;
            return minFactor + (1.0 - minFactor) * 0.5 * (1.0 + Math.cos(Math.PI * t));
        };
    }

    private static void checkStep(long step) {
        if (step < 0) throw new IllegalArgumentException("LrSchedule: step must be >= 0, got " + step);
    }

    private static void checkPositive(String what, long v) {
        if (v <= 0) throw new IllegalArgumentException("LrSchedule: " + what + " must be > 0, got " + v);
    }

    private static void checkFactor(String what, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) throw new IllegalArgumentException("LrSchedule: " + what + " must be finite and >= 0, got " + v);
    }
}
