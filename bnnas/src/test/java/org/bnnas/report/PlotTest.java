// PlotTest: charts are written atomically as 800x500 PNGs, show their data, and survive odd data.
package org.bnnas.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotTest {
    private static final double[] XS = {1, 2, 3, 4, 5};
    private static final double[] YS = {2.3, 1.7, 1.2, 0.9, 0.8};

    @Test
    void writesAReadable800x500PngAndNoTemporaryFile(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("loss.png");
        Plot.lines("loss", "epoch", "loss").add("train", XS, YS).write(png);
        Plot.lines("loss", "epoch", "loss").add("train", XS, YS).write(png); // replaces the first

        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image);
        assertEquals(800, image.getWidth());
        assertEquals(500, image.getHeight());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(png), files.toList());
        }
    }

    @Test
    void refusesASeriesWhoseXAndYLengthsDiffer() {
        Plot p = Plot.scatter("t", "x", "y");
        assertThrows(IllegalArgumentException.class, () -> p.add("s", new double[] {1, 2}, new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> p.add(new Plot.Series("s", new double[0], new double[] {1})));
    }

    @Test
    void rendersAWhiteImageWithTheDrawingOnIt() {
        BufferedImage image = Plot.scatter("score vs accuracy", "score", "accuracy").add("", XS, YS).render();
        assertEquals(BufferedImage.TYPE_INT_RGB, image.getType());
        assertEquals(0xffffff, image.getRGB(0, 0) & 0xffffff);
        assertTrue(countNotWhite(image) > 2000, "only " + countNotWhite(image) + " non-white pixels");
    }

    @Test
    void drawsTheFirstSeriesInTheFirstPaletteColour() {
        BufferedImage image = Plot.lines("t", "x", "y").add("", XS, YS).render();
        assertTrue(countColour(image, Plot.PALETTE[0].getRGB()) > 20);
        assertEquals(0, countColour(image, Plot.PALETTE[1].getRGB()));
    }

    @Test
    void givesEachSeriesItsOwnColour() {
        BufferedImage image = Plot.lines("t", "x", "y").add("a", XS, YS).add("b", XS, new double[] {3, 2, 1, 0, -1}).render();
        assertTrue(countColour(image, Plot.PALETTE[0].getRGB()) > 20);
        assertTrue(countColour(image, Plot.PALETTE[1].getRGB()) > 20);
    }

    @Test
    void shadesABandInItsColourAndWidensTheRangeToHoldIt() {
        double[] lo = {5, 5, 6, 6, 5}, hi = {10, 9, 10, 10, 9};
        BufferedImage image = Plot.lines("t", "x", "y").add("line", XS, new double[] {0, 1, 0, 1, 0}).addBand("spread", 1, XS, lo, hi).render();
        java.awt.Color c = Plot.PALETTE[1];
        int tint = 0;
        for (int y = 0; y < image.getHeight(); y++)
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                if (Math.abs(((rgb >> 16) & 0xff) - blend(c.getRed())) <= 2 && Math.abs(((rgb >> 8) & 0xff) - blend(c.getGreen())) <= 2
                        && Math.abs((rgb & 0xff) - blend(c.getBlue())) <= 2) tint++;
            }
        assertTrue(tint > 30_000, "the band, above the line's 0..1, fills about a third of the plot: " + tint + " pixels");
        assertThrows(IllegalArgumentException.class, () -> Plot.lines("t", "x", "y").addBand("b", 0, XS, lo, new double[] {1}));
    }

    /** A palette channel drawn at the band's alpha over white. */
    private static int blend(int channel) {
        return Math.round(255 + (channel - 255) * Plot.BAND_ALPHA / 255f);
    }

    @Test
    void rendersDegenerateDataWithoutFailing() {
        double nan = Double.NaN, inf = Double.POSITIVE_INFINITY;
        List<Plot> plots = List.of(
                Plot.lines("single point", "x", "y").add("p", new double[] {3}, new double[] {7}),
                Plot.lines("flat", "x", "y").add("p", XS, new double[] {2, 2, 2, 2, 2}),
                Plot.scatter("all zero", "x", "y").add("p", new double[] {0, 0}, new double[] {0, 0}),
                Plot.lines("gaps", "x", "y").add("p", new double[] {1, 2, nan, 4, 5}, new double[] {1, nan, 3, inf, 5}),
                Plot.lines("only NaN", "x", "y").add("p", new double[] {nan, nan}, new double[] {nan, -inf}),
                Plot.lines("empty", "x", "y"),
                Plot.scatter("empty series", null, null).add(null, new double[0], new double[0]),
                Plot.scatter("extremes", "x", "y").add("p", new double[] {-Double.MAX_VALUE, Double.MAX_VALUE},
                        new double[] {Double.MIN_VALUE, 1e-300}));
        for (Plot p : plots) {
            BufferedImage image = assertDoesNotThrow(p::render);
            assertTrue(countNotWhite(image) > 500); // axes, ticks and labels at least
        }
    }

    @Test
    void ticksAreAboutFiveRoundValues() {
        assertArrayEquals(new double[] {0, 0.2, 0.4, 0.6, 0.8, 1.0}, Plot.ticks(0, 1), 1e-12);
        assertArrayEquals(new double[] {0, 20, 40, 60, 80}, Plot.ticks(-3, 95), 1e-12);
        assertArrayEquals(new double[] {-1e6, 0, 1e6, 2e6}, Plot.ticks(-1.2e6, 2.4e6), 1e-6);
        assertEquals(0, Plot.ticks(1, 1).length);
    }

    @Test
    void tickLabelsAreCompact() {
        assertEquals("0.5", Plot.label(0.5, 0.1));
        assertEquals("12", Plot.label(12, 2));
        assertEquals("0", Plot.label(-1e-17, 0.2));
        assertEquals("2k", Plot.label(2000, 1000));
        assertEquals("1.5M", Plot.label(1.5e6, 5e5));
        assertEquals("-3G", Plot.label(-3e9, 1e9));
        assertEquals("1.5e-4", Plot.label(1.5e-4, 5e-5));
    }

    private static int countNotWhite(BufferedImage image) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++)
            for (int x = 0; x < image.getWidth(); x++) if ((image.getRGB(x, y) & 0xffffff) != 0xffffff) n++;
        return n;
    }

    private static int countColour(BufferedImage image, int argb) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++)
            for (int x = 0; x < image.getWidth(); x++) if ((image.getRGB(x, y) & 0xffffff) == (argb & 0xffffff)) n++;
        return n;
    }
}
