// LrScheduleTest: both schedules at chosen steps, endpoints and beyond, and apply().
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
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(10, 0.1).factor(-1));
    }
}
