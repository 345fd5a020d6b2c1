// ParamGroup: a set of parameters trained with the same SGD settings (PyTorch's param_groups).
package org.bnnas.engine.optim;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import org.bnnas.engine.nn.Parameter;

/**
 * Parameters that share one learning rate, momentum, weight decay and Nesterov setting, as one
 * entry of PyTorch's {@code optimizer.param_groups}. Only the learning rate changes during
 * training (a schedule drives it); {@link #initialLr()} keeps the value the group was created
 * with, so that a schedule can always be applied as a factor of it.
 *
 * <pre>
 * ParamGroup g = ParamGroup.of(model.parameters(), 0.1).momentum(0.9).weightDecay(4e-5).nesterov(true);
 * </pre>
 * The {@code momentum}, {@code weightDecay} and {@code nesterov} methods return a new group (the
 * fixed settings are immutable, so a group handed to an optimizer cannot change under it).
 */
public final class ParamGroup {
    private final List<Parameter> params;
    private final double initialLr;
    private final double momentum;
    private final double weightDecay;
    private final boolean nesterov;
    private double lr;

    public ParamGroup(Collection<Parameter> params, double lr, double momentum, double weightDecay, boolean nesterov) {
        checkNonNegativeFinite("lr", lr);
        checkNonNegativeFinite("momentum", momentum);
        checkNonNegativeFinite("weightDecay", weightDecay);
        // PyTorch refuses the same combination: Nesterov's look-ahead is defined through the momentum buffer.
        if (nesterov && momentum <= 0) throw new IllegalArgumentException("ParamGroup: nesterov needs momentum > 0");
        for (Parameter p : params) if (p == null) throw new IllegalArgumentException("ParamGroup: null parameter");
        this.params = Collections.unmodifiableList(new ArrayList<>(params));
        this.initialLr = lr;
        this.lr = lr;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
    }

    /** Plain SGD at learning rate {@code lr}: no momentum, no weight decay. */
    public static ParamGroup of(Collection<Parameter> params, double lr) {
        return new ParamGroup(params, lr, 0, 0, false);
    }

    /** This group with another momentum. */
    public ParamGroup momentum(double m) {
        return new ParamGroup(params, initialLr, m, weightDecay, nesterov);
    }

    /** This group with another weight decay (L2 penalty added to the gradient). */
    public ParamGroup weightDecay(double wd) {
        return new ParamGroup(params, initialLr, momentum, wd, nesterov);
    }

    /** This group with Nesterov momentum on or off. */
    public ParamGroup nesterov(boolean on) {
        return new ParamGroup(params, initialLr, momentum, weightDecay, on);
    }

    /** The parameters, in the order given (the order of updates and of gradient-norm sums). */
    public List<Parameter> params() { return params; }

    /** The learning rate used by the next step. */
    public double lr() { return lr; }

    /** The learning rate the group was created with; schedules scale this one. */
    public double initialLr() { return initialLr; }

    public double momentum() { return momentum; }

    public double weightDecay() { return weightDecay; }

    public boolean nesterov() { return nesterov; }

    /** Sets the learning rate of the following steps (normally done by an {@link LrSchedule}). */
    public void setLr(double lr) {
        checkNonNegativeFinite("lr", lr);
        this.lr = lr;
    }

    private static void checkNonNegativeFinite(String what, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) throw new IllegalArgumentException("ParamGroup: " + what + " must be finite and >= 0, got " + v);
    }

    @Override
    public String toString() {
        return "ParamGroup(" + params.size() + " params, lr=" + lr + ", momentum=" + momentum
                + ", weightDecay=" + weightDecay + ", nesterov=" + nesterov + ")";
    }
}
