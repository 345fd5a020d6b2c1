// LrSchedule: learning-rate schedules as factors of each group's initial learning rate: linear
// decay (the BN-NAS paper's), cosine, step decay, and a linear warm-up in front of any of them.
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
     * This schedule with a linear warm-up in front: the factor rises from {@code startFactor} at
     * step 0 to 1 at step {@code warmupSteps}; from there on this schedule runs, shifted so that
     * its own step 0 falls on step {@code warmupSteps} (like PyTorch's SequentialLR). A run of
     * T steps in all should therefore give this schedule T - warmupSteps steps.
     */
    default LrSchedule withWarmup(long warmupSteps, double startFactor) {
        return warmup(warmupSteps, startFactor, this);
    }

    /** The factor 1 at every step. */
    static LrSchedule constant() {
        return step -> {
            checkStep(step);
            return 1.0;
        };
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

    /** Multiplies by {@code gamma} every {@code stepSize} steps: gamma^floor(step / stepSize) (StepLR). */
    static LrSchedule stepDecay(long stepSize, double gamma) {
        checkPositive("stepSize", stepSize);
        checkFactor("gamma", gamma);
        return step -> {
            checkStep(step);
            return Math.pow(gamma, step / stepSize);
        };
    }

    /**
     * Linear warm-up from {@code startFactor} to 1 over {@code warmupSteps}, then {@code after}
     * shifted by warmupSteps (see {@link #withWarmup}). With warmupSteps 0 it is {@code after}.
     */
    static LrSchedule warmup(long warmupSteps, double startFactor, LrSchedule after) {
        if (warmupSteps < 0) throw new IllegalArgumentException("LrSchedule: warmupSteps must be >= 0, got " + warmupSteps);
        checkFactor("startFactor", startFactor);
        java.util.Objects.requireNonNull(after, "after");
        return step -> {
            checkStep(step);
            if (step >= warmupSteps) return after.factor(step - warmupSteps);
            return startFactor + (1.0 - startFactor) * step / (double) warmupSteps;
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
