// LrScheduleTest: every schedule at chosen steps, endpoints and beyond, warm-up, and apply().
package org.bnnas.engine.optim;

import static org.bnnas.engine.optim.OptimTestSupport.param;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.bnnas.engine.nn.Parameter;
import org.junit.jupiter.api.Test;

class LrScheduleTest {
    private static final double TOL = 1e-12;

    @Test
    void linearDecayToAFractionOfTheStart() {
        LrSchedule s = LrSchedule.linear(100, 5e-4); // the paper: down to 5e-4 of the start
        assertEquals(1.0, s.factor(0), TOL);
        assertEquals(1.0 - (1.0 - 5e-4) * 0.25, s.factor(25), TOL);
        assertEquals(0.50025, s.factor(50), TOL); // halfway between 1 and 5e-4
        assertEquals(5e-4, s.factor(100), TOL);
        assertEquals(5e-4, s.factor(1000), TOL); // stays at the end value
    }

    @Test
    void cosineToAMinimum() {
        LrSchedule s = LrSchedule.cosine(100, 0.01);
        assertEquals(1.0, s.factor(0), TOL);
        assertEquals(0.01 + 0.99 * 0.5 * (1 + Math.sqrt(0.5)), s.factor(25), TOL); // cos(pi/4) = sqrt(1/2)
        assertEquals(0.505, s.factor(50), TOL);
        assertEquals(0.01, s.factor(100), TOL);
        assertEquals(0.01, s.factor(150), TOL);
    }

    @Test
    void stepDecay() {
        LrSchedule s = LrSchedule.stepDecay(30, 0.1);
        assertEquals(1.0, s.factor(0), TOL);
        assertEquals(1.0, s.factor(29), TOL);
        assertEquals(0.1, s.factor(30), TOL);
        assertEquals(0.1, s.factor(59), TOL);
        assertEquals(0.01, s.factor(60), TOL);
    }

    @Test
    void warmupInFrontOfLinearDecay() {
        LrSchedule s = LrSchedule.linear(100, 0.0).withWarmup(5, 0.1);
        assertEquals(0.1, s.factor(0), TOL);
        assertEquals(0.1 + 0.9 * 2 / 5.0, s.factor(2), TOL);
        assertEquals(0.1 + 0.9 * 4 / 5.0, s.factor(4), TOL);
        assertEquals(1.0, s.factor(5), TOL);   // warm-up done: the decay starts from its own step 0
        assertEquals(0.5, s.factor(55), TOL);  // decay step 50 of 100
        assertEquals(0.0, s.factor(105), TOL);
        assertEquals(0.0, s.factor(500), TOL);
    }

    @Test
    void warmupInFrontOfCosineAndStepDecay() {
        LrSchedule cos = LrSchedule.warmup(10, 0.0, LrSchedule.cosine(20, 0.0));
        assertEquals(0.0, cos.factor(0), TOL);
        assertEquals(0.5, cos.factor(5), TOL);
        assertEquals(1.0, cos.factor(10), TOL);
        assertEquals(0.5, cos.factor(20), TOL);
        assertEquals(0.0, cos.factor(30), TOL);

        LrSchedule step = LrSchedule.stepDecay(3, 0.5).withWarmup(2, 0.5);
        assertEquals(0.5, step.factor(0), TOL);
        assertEquals(0.75, step.factor(1), TOL);
        assertEquals(1.0, step.factor(2), TOL);
        assertEquals(1.0, step.factor(4), TOL);
        assertEquals(0.5, step.factor(5), TOL);

        LrSchedule none = LrSchedule.linear(10, 0.5).withWarmup(0, 0.1); // no warm-up: the schedule itself
        assertEquals(1.0, none.factor(0), TOL);
        assertEquals(0.5, none.factor(10), TOL);
    }

    @Test
    void constant() {
        assertEquals(1.0, LrSchedule.constant().factor(0), TOL);
        assertEquals(1.0, LrSchedule.constant().factor(1_000_000), TOL);
    }

    @Test
    void applySetsEachGroupFromItsInitialLr() {
        try (Parameter a = param(1f); Parameter b = param(1f);
             SGD sgd = new SGD(ParamGroup.of(List.of(a), 0.1), ParamGroup.of(List.of(b), 0.02))) {
            LrSchedule s = LrSchedule.linear(100, 0.0);
            s.apply(sgd, 50);
            assertEquals(0.05, sgd.groups().get(0).lr(), TOL);
            assertEquals(0.01, sgd.groups().get(1).lr(), TOL);
            s.apply(sgd, 75); // from the initial lr again, not compounded
            assertEquals(0.025, sgd.groups().get(0).lr(), TOL);
            assertEquals(0.1, sgd.groups().get(0).initialLr(), TOL);
            s.apply(sgd, 0);
            assertEquals(0.02, sgd.groups().get(1).lr(), TOL);
        }
    }

    @Test
    void invalidArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(0, 0.1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(10, -0.1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.stepDecay(0, 0.1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant().withWarmup(-1, 0.1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(10, 0.1).factor(-1));
    }
}
