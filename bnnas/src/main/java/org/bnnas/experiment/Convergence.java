// Convergence: how the BN indicator's ranking of each choice layer's ops settles as a supernet
// trains, read from the gamma tables SupernetScoring records (bn_table.jsonl): each point's
// agreement with the run's final rankings, with the previous point's and with the other run's
// final ones, against steps and seconds; when the agreement with the final rankings first stays at
// or above 0.9; the loss and the gammas' growth beside it. BN-only and full training side by side.
package org.bnnas.experiment;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.bnnas.report.Plot;
import org.bnnas.report.RankCorrelation;

/**
 * The paper describes the indicator's convergence as each layer's ranking of its ops settling
 * after a few epochs. Agreement here is Kendall tau between two tables' rankings of a layer's ops
 * by mean |gamma|, averaged over the choice layers (a layer whose ops are all tied, as untouched
 * ops are at their initial gamma of 1, is left out of the mean).
 */
public final class Convergence {
    /** The agreement with the final rankings that counts as settled. */
    public static final double SETTLED = 0.9;

    /** One recorded point: training done, its agreements, the mean loss since the last point and the mean |gamma| over every op. */
    public record Point(double epoch, long step, double trainSeconds, double loss, double meanGamma, double withFinal, double withPrevious,
                        double withOther) {}

    /** One run: its name, its points, and the first point from which the agreement with its final rankings stays at or above 0.9. */
    public record Trajectory(String name, List<Point> points, Point settled) {
        Point last() {
            return points.get(points.size() - 1);
        }
    }

    private Convergence() {}

    /** The mean over choice layers of Kendall tau between the two tables' op scores; NaN where no layer can be ranked. */
    public static double agreement(double[][] a, double[][] b) {
        double sum = 0;
        int n = 0;
        for (int l = 0; l < a.length; l++) {
            if (a[l] == null || b[l] == null) continue;
            double t = RankCorrelation.kendallTau(a[l], b[l]);
            if (Double.isNaN(t)) continue;
            sum += t;
            n++;
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** A table's [layer][op] array from its JSON (null rows for fixed identity layers). */
    static double[][] table(JsonObject line) {
        JsonArray rows = line.getAsJsonArray("table");
        double[][] t = new double[rows.size()][];
        for (int l = 0; l < t.length; l++) {
            JsonElement row = rows.get(l);
            if (row.isJsonNull()) continue;
            JsonArray r = row.getAsJsonArray();
            t[l] = new double[r.size()];
            for (int o = 0; o < t[l].length; o++) t[l][o] = r.get(o).getAsDouble();
        }
        return t;
    }

    /** The last table of a run's bn_table.jsonl lines. */
    public static double[][] finalTable(List<JsonObject> lines) {
        if (lines.isEmpty()) throw new IllegalArgumentException("no gamma tables recorded");
        return table(lines.get(lines.size() - 1));
    }

    /**
     * A run's trajectory from its bn_table.jsonl lines, with {@code stepsPerEpoch} optimizer steps
     * to an epoch; {@code otherFinal} (may be null) is the other run's final table.
     */
    public static Trajectory of(String name, List<JsonObject> lines, int stepsPerEpoch, double[][] otherFinal) {
        double[][] last = finalTable(lines), previous = null;
        List<Point> points = new ArrayList<>();
        for (JsonObject o : lines) {
            double[][] t = table(o);
            double epoch = o.get("epoch").getAsDouble();
            double gammaSum = 0;
            int count = 0;
            for (double[] row : t) {
                if (row == null) continue;
                for (double g : row) gammaSum += g;
                count += row.length;
            }
            points.add(new Point(epoch, Math.round(epoch * stepsPerEpoch), o.get("train_seconds").getAsDouble(),
                    o.has("loss") && !o.get("loss").isJsonNull() ? o.get("loss").getAsDouble() : Double.NaN, gammaSum / count, agreement(t, last),
                    previous == null ? Double.NaN : agreement(t, previous), otherFinal == null ? Double.NaN : agreement(t, otherFinal)));
            previous = t;
        }
        Point settled = null;
        for (int i = points.size() - 1; i >= 0 && points.get(i).withFinal() >= SETTLED; i--) settled = points.get(i);
        return new Trajectory(name, points, settled);
    }

    /** Writes convergence.json and the plots into {@code run}; returns the reading, one paragraph. */
    public static String report(RunDir run, Trajectory bnOnly, Trajectory full) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("settled_at", SETTLED);
        for (Trajectory t : List.of(bnOnly, full)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("points", t.points());
            m.put("settled", t.settled());
            json.put(t.name(), m);
        }
        run.writeJson("convergence.json", json);
        plot(run, "convergence-vs-steps.png", "Each layer's ranking of its ops against its final one", "optimizer steps",
                "Kendall tau, mean over choice layers", Point::step, Point::withFinal, bnOnly, full);
        plot(run, "convergence-vs-seconds.png", "Each layer's ranking of its ops against its final one", "training time (s)",
                "Kendall tau, mean over choice layers", Point::trainSeconds, Point::withFinal, bnOnly, full);
        plot(run, "convergence-step-to-step.png", "Each layer's ranking against the previous point's", "optimizer steps",
                "Kendall tau, mean over choice layers", Point::step, Point::withPrevious, bnOnly, full);
        plot(run, "convergence-against-other.png", "Each layer's ranking against the other training's final one", "optimizer steps",
                "Kendall tau, mean over choice layers", Point::step, Point::withOther, bnOnly, full);
        plot(run, "convergence-loss.png", "Training loss (mean since the last point)", "optimizer steps", "loss (label smoothing 0.1)",
                Point::step, Point::loss, bnOnly, full);
        plot(run, "convergence-gammas.png", "Mean |gamma| of every op's last BN", "optimizer steps", "mean |gamma|", Point::step, Point::meanGamma,
                bnOnly, full);
        return reading(bnOnly, full);
    }

    private static void plot(RunDir run, String file, String title, String xLabel, String yLabel, ToDoubleFunction<Point> x, ToDoubleFunction<Point> y,
                             Trajectory... runs) {
        Plot p = Plot.lines(title, xLabel, yLabel);
        for (Trajectory t : runs) p.add(t.name(), t.points().stream().mapToDouble(x).toArray(), t.points().stream().mapToDouble(y).toArray());
        try {
            p.write(run.file(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What the trajectories show, in words that each follow from a number. */
    static String reading(Trajectory bnOnly, Trajectory full) {
        StringBuilder s = new StringBuilder();
        for (Trajectory t : List.of(bnOnly, full)) {
            Point last = t.last(), first = t.points().get(0);
            s.append(String.format("%s: %d steps, %.0f s of training; ", t.name(), last.step(), last.trainSeconds()));
            if (t.settled() != null && t.settled() != last) {
                s.append(String.format("the layers' rankings agree with their final ones at tau %.1f or more from step %d on (epoch %.2f, %.0f s, "
                        + "%.0f%% of the training)", SETTLED, t.settled().step(), t.settled().epoch(), t.settled().trainSeconds(),
                        100.0 * t.settled().step() / last.step()));
            } else {
                s.append(String.format("the layers' rankings had not settled before the last point (agreement with the final ones %.2f at the "
                        + "point before it)", t.points().size() > 1 ? t.points().get(t.points().size() - 2).withFinal() : Double.NaN));
            }
            s.append(String.format("; the loss went from %.3f to %.3f (a uniform guess scores ln 10 = %.3f), the mean |gamma| from %.3f to %.3f. ",
                    first.loss(), last.loss(), Math.log(10), first.meanGamma(), last.meanGamma()));
        }
        s.append(String.format("At their ends, BN-only training's rankings agree with full training's at tau %.2f.", bnOnly.last().withOther()));
        return s.toString();
    }
}
