// ReproductionReportTest: the stability of the BN op rankings between consecutive scorings.
package org.bnnas.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReproductionReportTest {
    private static JsonObject scoring(double epoch, String table) {
        return JsonParser.parseString("{\"epoch\": " + epoch + ", \"bn_table\": " + table + "}").getAsJsonObject();
    }

    @Test
    void stabilityComparesEachScoringWithThePreviousOneLayerByLayer() {
        // Two choice layers of three ops and a fixed identity layer (null). Between 0.5 and 1.0 the
        // first layer keeps its order and the second reverses it; then nothing changes.
        List<JsonObject> lines = List.of(
                scoring(0.5, "[[1, 2, 3], null, [3, 2, 1]]"),
                scoring(1.0, "[[1.1, 2.1, 3.1], null, [1, 2, 3]]"),
                scoring(1.5, "[[1.1, 2.1, 3.1], null, [1, 2, 3]]"));
        double[][] s = ReproductionReport.stability(lines);
        assertArrayEquals(new double[] {1.0, 1.5}, s[0], "one row per scoring after the first");
        assertArrayEquals(new double[] {(1 + -1) / 2.0, 1.0}, s[1], 1e-12, "mean Kendall tau over the two choice layers");
        assertArrayEquals(new double[] {0.5, 0.0}, s[2], 1e-12, "the share of layers whose best op changed");
    }
}
