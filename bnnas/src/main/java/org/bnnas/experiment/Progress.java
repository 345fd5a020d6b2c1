// Progress: a progress line for long loops: a bar redrawn in place on a terminal, plain periodic
// lines otherwise (log files, CI, tests).
package org.bnnas.experiment;

import java.io.PrintStream;
import java.util.function.Supplier;

/**
 * Shows {@code done / total} with throughput and time left. On a terminal the line is redrawn at
 * most five times a second; otherwise a plain line is printed every {@code interval} seconds, so
 * a log stays short. {@link #finish} always prints one closing line.
 */
final class Progress {
    private static final int BAR_WIDTH = 28;

    private final String label, unit;
    private final long total;
    private final PrintStream out;
    private final boolean terminal;
    private final long intervalNanos;
    private final long start = System.nanoTime();
    private long lastPrint = start;
    private boolean drewBar;

    Progress(String label, long total, String unit, PrintStream out, boolean terminal, double intervalSeconds) {
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.out = out;
        this.terminal = terminal;
        this.intervalNanos = (long) (intervalSeconds * 1e9);
    }

    /**
     * Progress on standard output (standard error is kept for the one-line errors): a bar on a
     * terminal, a line every 30 seconds otherwise.
     */
    static Progress start(String label, long total, String unit) {
        return new Progress(label, total, unit, System.out, System.console() != null, 30);
    }

    /**
     * {@code done} items finished; {@code extra} (may give "") is shown after the figures, e.g. the
     * loss. It is called only when the line is drawn, so reading the loss from a GPU costs a wait
     * a few times a second at most, not one every step.
     */
    void update(long done, Supplier<String> extra) {
        long now = System.nanoTime();
        long wait = terminal ? 200_000_000L : intervalNanos;
        if (now - lastPrint < wait && done < total) return;
        lastPrint = now;
        String line = line(done, extra.get(), now);
        if (terminal) {
            out.print("\r" + line + "\u001b[K");
            drewBar = true;
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** Ends the bar with a final line. */
    void finish(String summary) {
        if (drewBar) out.print("\r\u001b[K");
        double seconds = (System.nanoTime() - start) / 1e9;
        out.println(label + ": " + summary + String.format(" (%s)", duration(seconds)));
        out.flush();
    }

    private String line(long done, String extra, long now) {
        double seconds = (now - start) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        double left = rate > 0 ? (total - done) / rate : Double.NaN;
        StringBuilder b = new StringBuilder(label).append(' ');
        if (terminal) {
            int filled = total > 0 ? (int) (BAR_WIDTH * Math.min(1.0, done / (double) total)) : 0;
            b.append('[').append("#".repeat(filled)).append(".".repeat(BAR_WIDTH - filled)).append("] ");
        }
        b.append(done).append('/').append(total).append(' ').append(unit);
        b.append(String.format(", %.1f %s/s, %s left", rate, unit, Double.isNaN(left) ? "?" : duration(left)));
        if (!extra.isEmpty()) b.append(", ").append(extra);
        return b.toString();
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return s + " s";
        if (s < 3600) return String.format("%d min %02d s", s / 60, s % 60);
        return String.format("%d h %02d min", s / 3600, (s % 3600) / 60);
    }
}
