// ProgressTest: a redrawn bar on a terminal, plain lines in a log.
package org.bnnas.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aLogGetsPlainLinesWithThroughputAndTimeLeft() {
        Progress p = new Progress("epoch 1/2", 10, "batches", out, false, 0);
        for (int i = 1; i <= 10; i++) p.update(i, () -> "loss 0.5");
        p.finish("loss 0.5");
        String[] lines = text().split("\n");
        assertEquals(11, lines.length, "a line per update with a zero interval, and the closing line");
        assertTrue(lines[0].startsWith("epoch 1/2 1/10 batches, ") && lines[0].contains("batches/s") && lines[0].contains("left, loss 0.5"), lines[0]);
        assertFalse(text().contains("\r"), "no carriage returns in a log");
        assertTrue(lines[10].startsWith("epoch 1/2: loss 0.5 ("), lines[10]);
    }

    @Test
    void aLogIsNotFloodedWithinTheInterval() {
        Progress p = new Progress("search", 1000, "subnets", out, false, 3600);
        for (int i = 1; i < 1000; i++) p.update(i, () -> "");
        assertEquals("", text(), "nothing before the interval has passed");
        p.update(1000, () -> "");
        assertTrue(text().startsWith("search 1000/1000 subnets"), "the last item always shows");
    }

    @Test
    void theExtraTextIsComputedOnlyForALineThatIsDrawn() {
        Progress p = new Progress("epoch", 100, "batches", out, false, 3600);
        int[] calls = {0};
        for (int i = 1; i <= 100; i++) p.update(i, () -> "loss " + ++calls[0]);
        assertEquals(1, calls[0], "only the last update draws a line (reading the loss from a GPU waits for it)");
        assertTrue(text().endsWith(", loss 1\n"), text());
    }

    @Test
    void aTerminalGetsOneBarRedrawnInPlace() {
        Progress p = new Progress("epoch", 4, "batches", out, true, 30);
        p.update(4, () -> "");
        p.finish("done");
        String t = text();
        assertTrue(t.startsWith("\repoch [" + "#".repeat(28) + "] 4/4 batches"), t);
        assertTrue(t.contains("\r\u001b[Kepoch: done ("), "the bar is cleared before the closing line");
    }

    @Test
    void durationsReadNaturally() {
        assertEquals("42 s", Progress.duration(42.4));
        assertEquals("2 min 05 s", Progress.duration(125));
        assertEquals("1 h 01 min", Progress.duration(3671));
    }
}
