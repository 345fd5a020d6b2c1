// LatencyTableTest: a latency table predicts the fixed part plus each chosen op, survives a write
// and a read, and a file of another space, with an op missing or extra, or broken, is refused by name.
package org.bnnas.space;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LatencyTableTest {
    private static final SearchSpace SMALL = SearchSpace.load("bnnas-small");

    @TempDir
    Path dir;

    /** Op o of layer l takes (o + 1) + 10 * l microseconds; the fixed parts 2 ms. */
    private static LatencyTable table() {
        double[][] ms = new double[SMALL.numLayers()][];
        for (SearchSpace.Layer l : SMALL.layers) {
            if (l.fixedIdentity()) continue;
            ms[l.index()] = new double[SMALL.ops.size()];
            for (int o = 0; o < SMALL.ops.size(); o++) ms[l.index()][o] = ((o + 1) + 10 * l.index()) / 1000.0;
        }
        return new LatencyTable(SMALL.name, "cpu", 1, 1, 28, 2.0, ms, Map.of("cpu", "test", "cores", 2));
    }

    @Test
    void predictionIsTheFixedPartPlusEachChosenOp() {
        int[] arch = new int[SMALL.numLayers()];
        double expected = 2.0;
        for (SearchSpace.Layer l : SMALL.layers) {
            arch[l.index()] = l.fixedIdentity() ? -1 : l.index() % SMALL.ops.size();
            if (!l.fixedIdentity()) expected += ((arch[l.index()] + 1) + 10 * l.index()) / 1000.0;
        }
        assertEquals(expected, table().predictMs(arch), 1e-12);
    }

    @Test
    void writeThenReadGivesTheSameTable() {
        Path file = dir.resolve("latency.json");
        LatencyTable t = table();
        t.write(file, SMALL);
        LatencyTable back = LatencyTable.read(file, SMALL);
        assertEquals(t.fixedMs(), back.fixedMs());
        assertEquals(t.device(), back.device());
        assertEquals(t.batch(), back.batch());
        assertEquals(28, back.inputSize());
        for (int l = 0; l < SMALL.numLayers(); l++) assertArrayEquals(t.opMs()[l], back.opMs()[l]);
        assertEquals("test", back.machine().get("cpu"));
    }

    @Test
    void aTableOfAnotherSpaceOrWithoutAnOpIsRefusedByName() throws IOException {
        Path file = dir.resolve("latency.json");
        table().write(file, SMALL);
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> LatencyTable.read(file, SearchSpace.load("bnnas-imagenet")));
        assertEquals(file + ": a latency table of space bnnas-small, not bnnas-imagenet", other.getMessage());

        String text = Files.readString(file);
        Files.writeString(file, text.replaceFirst("\"k7e6\"", "\"k9e6\""));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> LatencyTable.read(file, SMALL));
        assertEquals(file + ": layer 0 has no time for op k7e6", missing.getMessage());

        Files.writeString(file, text.replaceFirst("\"fixed_ms\"", "\"fixed\""));
        assertEquals(file + ": the latency table has no \"fixed_ms\"", assertThrows(IllegalArgumentException.class, () -> LatencyTable.read(file, SMALL)).getMessage());

        Files.writeString(file, "{\"space\": ");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LatencyTable.read(file, SMALL)).getMessage().startsWith(file + ": not a latency table"));

        Path none = dir.resolve("none.json");
        assertTrue(assertThrows(UncheckedIOException.class, () -> LatencyTable.read(none, SMALL)).getMessage().contains(none + ": cannot read the latency table"));
    }

    @Test
    void negativeOrNonFiniteTimesAreRefused() {
        double[][] ms = table().opMs();
        ms[0][0] = -1;
        assertThrows(IllegalArgumentException.class, () -> new LatencyTable(SMALL.name, "cpu", 1, 1, 28, 2.0, ms, Map.of()));
        ms[0][0] = Double.NaN;
        assertThrows(IllegalArgumentException.class, () -> new LatencyTable(SMALL.name, "cpu", 1, 1, 28, 2.0, ms, Map.of()));
    }
}
