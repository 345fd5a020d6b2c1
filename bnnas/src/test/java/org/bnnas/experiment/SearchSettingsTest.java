// SearchSettingsTest: a search's settings as config.json records them, and the values it refuses.
package org.bnnas.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bnnas.score.Predictor;
import org.junit.jupiter.api.Test;

class SearchSettingsTest {
    @Test
    void describesItselfWithTheCommandLinesWords() {
        SearchSettings s = new SearchSettings(Predictor.ACCURACY, SearchSettings.Method.RANDOM, 4.5e6, 20, 50, 20);
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("evaluator", "accuracy");
        expected.put("method", "random");
        expected.put("flops_limit", 4.5e6);
        expected.put("calibration_batches", 20);
        expected.put("population", 50);
        expected.put("generations", 20);
        expected.put("top_k", 10);
        assertEquals(expected, s.describe());
        assertEquals("bn", Predictor.BN.toString());
        assertEquals("evolution", SearchSettings.Method.EVOLUTION.toString());
    }

    @Test
    void refusesValuesNoSearchCanRunWith() {
        Predictor bn = Predictor.BN;
        SearchSettings.Method evolution = SearchSettings.Method.EVOLUTION;
        assertEquals("search: population must be at least 2, got 1",
                assertThrows(IllegalArgumentException.class, () -> new SearchSettings(bn, evolution, 0, 20, 1, 20)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SearchSettings(bn, evolution, -1, 20, 50, 20));
        assertThrows(IllegalArgumentException.class, () -> new SearchSettings(bn, evolution, Double.NaN, 20, 50, 20));
        assertThrows(IllegalArgumentException.class, () -> new SearchSettings(bn, evolution, 0, 0, 50, 20));
        assertThrows(IllegalArgumentException.class, () -> new SearchSettings(bn, evolution, 0, 20, 50, 0));
        assertThrows(IllegalArgumentException.class, () -> new SearchSettings(null, evolution, 0, 20, 50, 20));
        assertThrows(IllegalArgumentException.class, () -> new SearchSettings(bn, evolution, 0, 20, 50, 20, 0, null, 0));
        assertEquals("search: a latency limit needs a latency table",
                assertThrows(IllegalArgumentException.class, () -> new SearchSettings(bn, evolution, 0, 20, 50, 20, 10, null, 5)).getMessage());
    }
}
