// ConvergenceTest: the agreement of two gamma tables' rankings, layer by layer, and a trajectory's
// settling point, on tables whose answers are known.
package org.bnnas.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConvergenceTest {
    /** A two-choice-layer table (a fixed identity layer between them) with the given op scores. */
    static double[][] table(double[] first, double[] second) {
        return new double[][] {first, null, second};
    }

    static JsonObject line(double epoch, double seconds, double loss, double[][] table) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", epoch);
        m.put("loss", loss);
        m.put("train_seconds", seconds);
        m.put("supernet_seed", 0);
        m.put("table", table);
        return JsonParser.parseString(RunDir.LINE.toJson(m)).getAsJsonObject();
    }

    @Test
    void agreementIsKendallTauMeanOverTheLayersThatCanBeRanked() {
        double[] up = {1, 2, 3}, down = {3, 2, 1}, tied = {1, 1, 1};
        assertEquals(1.0, Convergence.agreement(table(up, up), table(up, up)), 1e-12);
        assertEquals(0.0, Convergence.agreement(table(up, up), table(up, down)), 1e-12, "one layer agrees, one is reversed");
        assertEquals(1.0, Convergence.agreement(table(tied, up), table(down, up)), 1e-12, "a layer of tied ops (untouched gammas) is left out");
        assertTrue(Double.isNaN(Convergence.agreement(table(tied, tied), table(up, up))));
    }

    @Test
    void aTrajectorySettlesWhereItsAgreementWithTheEndStaysAboveTheThreshold() {
        double[] a = {1, 2, 3, 4}, b = {2, 1, 3, 4}, c = {4, 3, 2, 1};
        // the rankings jump around, then hold: settled from the third point (epoch 1.5) on
        List<JsonObject> lines = new ArrayList<>(List.of(line(0.5, 10, 2.4, table(c, c)), line(1.0, 20, 2.35, table(b, a)), line(1.5, 30, 2.33, table(a, a)),
                line(2.0, 40, 2.31, table(a, a))));
        Convergence.Trajectory t = Convergence.of("run", lines, 100, table(b, b));
        assertEquals(4, t.points().size());
        assertEquals(150, t.settled().step());
        assertEquals(30.0, t.settled().trainSeconds());
        assertEquals(-1.0, t.points().get(0).withFinal(), 1e-12);
        assertTrue(Double.isNaN(t.points().get(0).withPrevious()));
        assertEquals((Convergence.agreement(table(b, a), table(c, c))), t.points().get(1).withPrevious(), 1e-12);
        assertEquals(Convergence.agreement(table(a, a), table(b, b)), t.points().get(3).withOther(), 1e-12);
        assertEquals(2.5, t.points().get(3).meanGamma(), 1e-12);
        String reading = Convergence.reading(t, t);
        assertTrue(reading.contains("from step 150 on (epoch 1.50, 30 s, 75% of the training)"), reading);
        assertTrue(reading.contains("the loss went from 2.400 to 2.310"), reading);

        lines.set(3, line(2.0, 40, 2.31, table(c, a))); // the last point differs from the one before: nothing settled earlier
        Convergence.Trajectory late = Convergence.of("run", lines, 100, null);
        assertEquals(late.points().get(3), late.settled(), "only the last point agrees with itself");
        assertNull(Convergence.of("run", List.of(line(1, 1, 2.3, table(new double[] {1, 1}, new double[] {1, 1}))), 10, null).settled(),
                "a table that ranks nothing never settles");
    }
}
