// Plot: a small, dependency-free line and scatter chart written as an 800x500 PNG, for the
// curves and point clouds of a run directory.
package org.bnnas.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import javax.imageio.ImageIO;

/**
 * A chart of one or more named series, and of shaded bands (a range of y at each x, such as the
 * spread over seeds). Points that are NaN or infinite are left out (a line is broken there rather
 * than drawn across the gap); degenerate data gets a padded range, so that rendering never fails
 * whatever the data. A band is drawn translucent, under the series, in the palette colour it is
 * given (that of the series it belongs to, say).
 */
public final class Plot {
    /** One named series of (x, y) points. */
    public record Series(String name, double[] x, double[] y) {}

    /** One named band: y from lo to hi at each x, in palette colour {@code colour}. */
    public record Band(String name, int colour, double[] x, double[] lo, double[] hi) {}

    static final int WIDTH = 800, HEIGHT = 500;
    /** A band's opacity (of 255): light enough for the lines over it to read. */
    static final int BAND_ALPHA = 60;
    /** Tableau's ten, less the two that are hard to tell from grey and olive on white. */
    static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf),
    };
    private static final int LEFT = 80, RIGHT = 30, TOP = 50, BOTTOM = 60;
    private static final Color GRID = new Color(0xe6e6e6), AXIS = new Color(0x333333);

    private final boolean joined;
    private final String title, xLabel, yLabel;
    private final List<Series> series = new ArrayList<>();
    private final List<Band> bands = new ArrayList<>();

    private Plot(boolean joined, String title, String xLabel, String yLabel) {
        this.joined = joined;
        this.title = title == null ? "" : title;
        this.xLabel = xLabel == null ? "" : xLabel;
        this.yLabel = yLabel == null ? "" : yLabel;
    }

    /** A line chart: each series' points joined in the given order, with small markers. */
    public static Plot lines(String title, String xLabel, String yLabel) {
        return new Plot(true, title, xLabel, yLabel);
    }

    /** A scatter chart: markers only. */
    public static Plot scatter(String title, String xLabel, String yLabel) {
        return new Plot(false, title, xLabel, yLabel);
    }

    public Plot add(Series s) {
        if (s == null || s.x() == null || s.y() == null)
            throw new IllegalArgumentException("a series needs x and y arrays");
        if (s.x().length != s.y().length)
            throw new IllegalArgumentException("series '" + s.name() + "': " + s.x().length + " x values but " + s.y().length + " y values");
        // Copied so that a caller reusing its arrays does not change a chart rendered later.
        series.add(new Series(s.name() == null ? "" : s.name(), s.x().clone(), s.y().clone()));
        return this;
    }

    public Plot add(String name, double[] x, double[] y) {
        return add(new Series(name, x, y));
    }

    /** Adds a band, shaded from lo to hi in palette colour {@code colour} (the i-th series' is i); x in the order the band is drawn along. */
    public Plot addBand(String name, int colour, double[] x, double[] lo, double[] hi) {
        if (colour < 0) throw new IllegalArgumentException("band '" + name + "': palette colour " + colour + " is negative");
        if (x == null || lo == null || hi == null) throw new IllegalArgumentException("a band needs x, lo and hi arrays");
        if (lo.length != x.length || hi.length != x.length)
            throw new IllegalArgumentException("band '" + name + "': " + x.length + " x values but " + lo.length + " lo and " + hi.length + " hi values");
        bands.add(new Band(name == null ? "" : name, colour, x.clone(), lo.clone(), hi.clone()));
        return this;
    }

    private Color bandColour(int j) {
        return PALETTE[bands.get(j).colour() % PALETTE.length];
    }

    /** Writes the chart as a PNG; a reader never sees a half-written file. */
    public void write(Path png) throws IOException {
        BufferedImage image = render();
        Path dir = png.toAbsolutePath().getParent();
        // Not Files.createTempFile: its owner-only permissions would carry over to the chart.
        Path tmp = dir.resolve(png.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))) {
                if (!ImageIO.write(image, "png", out)) throw new IOException("no PNG writer available");
            }
            try {
                Files.move(tmp, png, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) { // the system's message ("No space left on device") does not say which file
            throw new IOException(png + ": cannot write (" + e.getMessage() + "), so it was left as it was", e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public BufferedImage render() {
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            draw(g);
        } finally {
            g.dispose();
        }
        return image;
    }

    private void draw(Graphics2D g) {
        double[] xr = range(true), yr = range(false);
        Frame f = new Frame(xr[0], xr[1], yr[0], yr[1]);
        Font plain = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

        g.setFont(plain);
        drawXAxis(g, f);
        drawYAxis(g, f);
        g.setColor(AXIS);
        g.setStroke(new BasicStroke(1f));
        g.drawRect(LEFT, TOP, f.w, f.h);

        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        centred(g, title, WIDTH / 2.0, TOP / 2.0);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        centred(g, xLabel, LEFT + f.w / 2.0, HEIGHT - 18);
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2, 18, TOP + f.h / 2.0);
        centred(g, yLabel, 18, TOP + f.h / 2.0);
        g.setTransform(saved);

        if (!hasPoints()) {
            g.setColor(Color.GRAY);
            g.setFont(new Font(Font.SANS_SERIF, Font.ITALIC, 14));
            centred(g, "no data", LEFT + f.w / 2.0, TOP + f.h / 2.0);
            return;
        }
        Shape clip = g.getClip();
        g.clipRect(LEFT - 4, TOP - 4, f.w + 9, f.h + 9); // markers at the range's edge stay whole
        for (int j = 0; j < bands.size(); j++) drawBand(g, f, bands.get(j), bandColour(j));
        for (int i = 0; i < series.size(); i++) drawSeries(g, f, series.get(i), PALETTE[i % PALETTE.length]);
        g.setClip(clip);
        g.setFont(plain);
        drawLegend(g, f);
    }

    private void drawXAxis(Graphics2D g, Frame f) {
        double[] ticks = ticks(f.x0, f.x1);
        FontMetrics fm = g.getFontMetrics();
        for (double t : ticks) {
            double px = f.px(t);
            g.setColor(GRID);
            g.draw(new Line2D.Double(px, TOP, px, TOP + f.h));
            g.setColor(AXIS);
            g.draw(new Line2D.Double(px, TOP + f.h, px, TOP + f.h + 5));
            String s = label(t, step(ticks));
            g.drawString(s, (float) (px - fm.stringWidth(s) / 2.0), TOP + f.h + 8 + fm.getAscent());
        }
    }

    private void drawYAxis(Graphics2D g, Frame f) {
        double[] ticks = ticks(f.y0, f.y1);
        FontMetrics fm = g.getFontMetrics();
        for (double t : ticks) {
            double py = f.py(t);
            g.setColor(GRID);
            g.draw(new Line2D.Double(LEFT, py, LEFT + f.w, py));
            g.setColor(AXIS);
            g.draw(new Line2D.Double(LEFT - 5, py, LEFT, py));
            String s = label(t, step(ticks));
            g.drawString(s, (float) (LEFT - 8 - fm.stringWidth(s)), (float) (py + fm.getAscent() / 2.0 - 1));
        }
    }

    private void drawSeries(Graphics2D g, Frame f, Series s, Color c) {
        g.setColor(c);
        if (joined) {
            g.setStroke(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            Path2D.Double path = new Path2D.Double();
            boolean open = false;
            for (int i = 0; i < s.x().length; i++) {
                if (!finite(s.x()[i], s.y()[i])) {
                    open = false;
                    continue;
                }
                double px = f.px(s.x()[i]), py = f.py(s.y()[i]);
                if (open) path.lineTo(px, py);
                else path.moveTo(px, py);
                open = true;
            }
            g.draw(path);
        }
        double r = joined ? 3 : 3.5;
        for (int i = 0; i < s.x().length; i++)
            if (finite(s.x()[i], s.y()[i])) g.fill(new Ellipse2D.Double(f.px(s.x()[i]) - r, f.py(s.y()[i]) - r, 2 * r, 2 * r));
    }

    /** The band's finite points as one translucent polygon: along hi, then back along lo. */
    private void drawBand(Graphics2D g, Frame f, Band b, Color c) {
        Path2D.Double path = new Path2D.Double();
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < b.x().length; i++) if (finite(b.x()[i], b.lo()[i]) && Double.isFinite(b.hi()[i])) kept.add(i);
        if (kept.isEmpty()) return;
        for (int k = 0; k < kept.size(); k++) {
            int i = kept.get(k);
            if (k == 0) path.moveTo(f.px(b.x()[i]), f.py(b.hi()[i]));
            else path.lineTo(f.px(b.x()[i]), f.py(b.hi()[i]));
        }
        for (int k = kept.size() - 1; k >= 0; k--) path.lineTo(f.px(b.x()[kept.get(k)]), f.py(b.lo()[kept.get(k)]));
        path.closePath();
        g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), BAND_ALPHA));
        g.fill(path);
        g.setStroke(new BasicStroke(1f));
        g.draw(path); // a band of zero height still shows
    }

    private void drawLegend(Graphics2D g, Frame f) {
        if (series.size() == 1 && series.get(0).name().isEmpty() && bands.isEmpty()) return;
        FontMetrics fm = g.getFontMetrics();
        int row = fm.getHeight() + 2, textW = 0;
        for (Series s : series) textW = Math.max(textW, fm.stringWidth(s.name()));
        for (Band b : bands) textW = Math.max(textW, fm.stringWidth(b.name()));
        int w = textW + 34, h = (series.size() + bands.size()) * row + 10;
        int x = LEFT + f.w - w - 10;
        int top = TOP + 10, bottom = TOP + f.h - h - 10;
        // Put the box where it hides fewer points.
        int y = pointsIn(f, x, bottom, w, h) < pointsIn(f, x, top, w, h) ? bottom : top;
        g.setColor(new Color(255, 255, 255, 220));
        g.fillRect(x, y, w, h);
        g.setColor(Color.LIGHT_GRAY);
        g.setStroke(new BasicStroke(1f));
        g.drawRect(x, y, w, h);
        for (int i = 0; i < series.size(); i++) {
            int cy = y + 5 + i * row + row / 2;
            g.setColor(PALETTE[i % PALETTE.length]);
            if (joined) {
                g.setStroke(new BasicStroke(2f));
                g.draw(new Line2D.Double(x + 6, cy, x + 24, cy));
            }
            g.fill(new Ellipse2D.Double(x + 15 - 3.5, cy - 3.5, 7, 7));
            g.setColor(AXIS);
            g.drawString(series.get(i).name(), x + 30, cy + fm.getAscent() / 2 - 1);
        }
        for (int j = 0; j < bands.size(); j++) {
            int cy = y + 5 + (series.size() + j) * row + row / 2;
            Color c = bandColour(j);
            g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), BAND_ALPHA));
            g.fillRect(x + 6, cy - 5, 18, 10);
            g.setColor(AXIS);
            g.drawString(bands.get(j).name(), x + 30, cy + fm.getAscent() / 2 - 1);
        }
    }

    private int pointsIn(Frame f, int x, int y, int w, int h) {
        int n = 0;
        for (Series s : series)
            for (int i = 0; i < s.x().length; i++) {
                if (!finite(s.x()[i], s.y()[i])) continue;
                double px = f.px(s.x()[i]), py = f.py(s.y()[i]);
                if (px >= x && px <= x + w && py >= y && py <= y + h) n++;
            }
        return n;
    }

    private boolean hasPoints() {
        for (Series s : series)
            for (int i = 0; i < s.x().length; i++) if (finite(s.x()[i], s.y()[i])) return true;
        for (Band b : bands)
            for (int i = 0; i < b.x().length; i++) if (finite(b.x()[i], b.lo()[i]) && Double.isFinite(b.hi()[i])) return true;
        return false;
    }

    /** The data's range on one axis with 5% padding; [0, 1] when there are no points. */
    private double[] range(boolean xAxis) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Series s : series)
            for (int i = 0; i < s.x().length; i++) {
                if (!finite(s.x()[i], s.y()[i])) continue;
                double v = xAxis ? s.x()[i] : s.y()[i];
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        for (Band b : bands)
            for (int i = 0; i < b.x().length; i++) {
                if (!finite(b.x()[i], b.lo()[i]) || !Double.isFinite(b.hi()[i])) continue;
                lo = Math.min(lo, xAxis ? b.x()[i] : Math.min(b.lo()[i], b.hi()[i]));
                hi = Math.max(hi, xAxis ? b.x()[i] : Math.max(b.lo()[i], b.hi()[i]));
            }
        if (lo > hi) return new double[] {0, 1};
        // Halves throughout, so that data spanning most of the double range cannot overflow.
        double pad = hi > lo ? (hi / 2 - lo / 2) * 0.1 : (lo != 0 ? Math.abs(lo) * 0.1 : 1);
        double a = Math.max(lo - pad, -Double.MAX_VALUE), b = Math.min(hi + pad, Double.MAX_VALUE);
        // Padding alone should not push an axis of non-negative data (losses, accuracies) below 0.
        if (lo >= 0 && a < 0) a = 0;
        if (hi <= 0 && b > 0) b = 0;
        if (!(b > a)) { // a range so narrow that the padding vanished in rounding
            a = Math.nextDown(lo);
            b = Math.nextUp(hi);
        }
        return new double[] {a, b};
    }

    /** Tick values inside [lo, hi], a 1, 2 or 5 x 10^k step apart, as close to five of them as that allows. */
    static double[] ticks(double lo, double hi) {
        if (!(hi > lo) || !Double.isFinite(lo) || !Double.isFinite(hi)) return new double[0];
        double halfSpan = hi / 2 - lo / 2;
        int k = (int) Math.floor(Math.log10(halfSpan / 2)); // about span / 4
        double[] best = new double[0];
        for (int e = k - 1; e <= k + 1; e++)
            for (int m : new int[] {1, 2, 5}) {
                double step = m * Math.pow(10, e);
                if (!(step > 0) || !Double.isFinite(step)) continue;
                double first = Math.ceil(lo / step - 1e-9), last = Math.floor(hi / step + 1e-9);
                double n = last - first + 1;
                if (!(n >= 1 && n <= 50)) continue;
                if (best.length == 0 || Math.abs(n - 5) < Math.abs(best.length - 5)) {
                    best = new double[(int) n];
                    for (int i = 0; i < best.length; i++) best[i] = (first + i) * step;
                }
            }
        return best;
    }

    private static double step(double[] ticks) {
        return ticks.length > 1 ? ticks[1] - ticks[0] : Math.abs(ticks[0]);
    }

    /**
     * A compact tick label: k, M and G suffixes for large values, an exponent for tiny ones, and
     * just as many decimals as the step between ticks needs ("0.5", "12", "2k", "1.5M", "3e-5").
     */
    static String label(double v, double step) {
        double a = Math.abs(v);
        if (a == 0 || a < Math.abs(step) * 1e-6) return "0";
        if (a >= 1e12 || a < 1e-3) {
            int exp = (int) Math.floor(Math.log10(a));
            double scale = Math.pow(10, exp);
            return fixed(v / scale, step / scale) + "e" + exp;
        }
        if (a >= 1e9) return fixed(v / 1e9, step / 1e9) + "G";
        if (a >= 1e6) return fixed(v / 1e6, step / 1e6) + "M";
        if (a >= 1e4 || (a >= 1e3 && Math.abs(step) >= 100)) return fixed(v / 1e3, step / 1e3) + "k";
        return fixed(v, step);
    }

    private static String fixed(double v, double step) {
        double s = Math.abs(step);
        int decimals = s > 0 && Double.isFinite(s) ? (int) Math.max(0, Math.min(6, Math.ceil(-Math.log10(s) - 1e-9))) : 3;
        String out = String.format(Locale.ROOT, "%." + decimals + "f", v);
        if (out.contains(".")) out = out.replaceAll("0+$", "").replaceAll("\\.$", "");
        return out.equals("-0") ? "0" : out;
    }

    private static void centred(Graphics2D g, String s, double cx, double cy) {
        if (s.isEmpty()) return;
        FontMetrics fm = g.getFontMetrics();
        g.drawString(s, (float) (cx - fm.stringWidth(s) / 2.0), (float) (cy + (fm.getAscent() - fm.getDescent()) / 2.0));
    }

    private static boolean finite(double x, double y) {
        return Double.isFinite(x) && Double.isFinite(y);
    }

    /** Maps data coordinates to pixels inside the plot area. */
    private static final class Frame {
        final double x0, x1, y0, y1;
        final int w = WIDTH - LEFT - RIGHT, h = HEIGHT - TOP - BOTTOM;

        Frame(double x0, double x1, double y0, double y1) {
            this.x0 = x0;
            this.x1 = x1;
            this.y0 = y0;
            this.y1 = y1;
        }

        double px(double x) {
            return LEFT + (x / 2 - x0 / 2) / (x1 / 2 - x0 / 2) * w;
        }

        double py(double y) {
            return TOP + h - (y / 2 - y0 / 2) / (y1 / 2 - y0 / 2) * h;
        }
    }
}
