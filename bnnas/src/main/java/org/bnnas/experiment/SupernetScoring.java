// SupernetScoring: scores a list of architectures with a supernet's own predictor while it trains
// (the BN indicator for BN-only training, SPOS's accuracy for full training, and there the BN
// indicator too, the ablation that tells the indicator from BN-only training), every so many
// epochs, into the run directory's scores.jsonl, for bnnas rank and bnnas study.
package org.bnnas.experiment;

import com.google.gson.JsonObject;
import java.io.PrintWriter;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bnnas.data.Datasets;
import org.bnnas.score.AccuracyEvaluator;
import org.bnnas.score.BnScore;
import org.bnnas.space.Architecture;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.BatchLog;
import org.bnnas.train.SupernetTrainer;
import org.bnnas.train.TrainingLoop;

/**
 * A point is scored when training has done a multiple of {@code every} epochs (after the batch
 * that crosses it, so a quarter epoch is scored at the batch that completes it) and after the last
 * epoch. Each line: arch, evaluator (bn or accuracy), score, seconds (the time that score took),
 * epoch (the training done, in epochs), train_seconds (the training time so far, scoring left out),
 * supernet_seed and supernet (what was trained: {@value #LAST_BN}, {@value #ALL_BNS} or
 * {@value #FULL}). A fully trained supernet is scored by accuracy and by the BN indicator. Every
 * supernet also writes, per point, the whole table of mean |gamma| ([layer][op], null for fixed
 * identity layers) and the mean training loss of the batches since the last point to
 * bn_table.jsonl, from which the report draws the loss and the gammas' trajectories. A resumed run
 * keeps the points already in the files and continues its training time.
 */
public final class SupernetScoring implements TrainingLoop.Listener, AutoCloseable {
    public static final String FILE = "scores.jsonl", TABLE_FILE = "bn_table.jsonl";
    /** What a supernet's score lines say was trained. */
    public static final String LAST_BN = "last-bn", ALL_BNS = "all-bns", FULL = "full";
    private final RunDir run;
    private final Supernet net;
    private final boolean bn;
    private final String trained;
    private final List<int[]> archs;
    private final double every;
    private final int epochs;
    private final long seed;
    private final PrintWriter out;
    private final AccuracyEvaluator accuracy;
    private final Set<String> recorded = new HashSet<>();
    private double trainSeconds, lastPoint;
    private long mark = System.nanoTime();
    private int batches;
    private BatchLog log;
    private int counted; // batches of the current epoch whose loss is in lossSum
    private double lossSum;
    private int lossCount;

    public SupernetScoring(RunDir run, Supernet net, SupernetTrainer.Config cfg, List<int[]> archs, double every, Datasets.Splits data,
                           int calibrationBatches, PrintWriter out) {
        if (!(every > 0)) throw new IllegalArgumentException("score every " + every + " epochs: must be positive");
        this.run = run;
        this.net = net;
        this.bn = cfg.mode() == SupernetTrainer.Mode.BN;
        this.trained = !bn ? FULL : cfg.bnScope() == SupernetTrainer.BnScope.ALL ? ALL_BNS : LAST_BN;
        this.archs = archs;
        this.every = every;
        this.epochs = cfg.epochs();
        this.seed = cfg.seed();
        this.out = out;
        this.accuracy = bn ? null : new AccuracyEvaluator(net, data.train(), data.validation(), calibrationBatches, Stages.EVAL_BATCH, cfg.seed());
        for (JsonObject o : run.metricsFile(FILE)) {
            if (o.get("supernet_seed").getAsLong() != seed) continue;
            recorded.add(o.get("epoch").getAsString());
            trainSeconds = Math.max(trainSeconds, o.get("train_seconds").getAsDouble());
            lastPoint = Math.max(lastPoint, o.get("epoch").getAsDouble());
        }
    }

    @Override
    public void epochStarted(int epoch, int count) {
        batches = count;
        counted = 0;
        mark = System.nanoTime();
    }

    @Override
    public void batchDone(int epoch, int batch, BatchLog log) {
        this.log = log;
        double done = epoch + (batch + 1) / (double) batches;
        if (batch + 1 < batches && Math.floor(done / every + 1e-9) > Math.floor(lastPoint / every + 1e-9)) score(done);
    }

    @Override
    public void epochDone(TrainingLoop.EpochStats st) {
        double done = st.epoch() + 1;
        if (Math.floor(done / every + 1e-9) > Math.floor(lastPoint / every + 1e-9) || st.epoch() + 1 == epochs) score(done);
        else tick();
    }

    private void tick() {
        long now = System.nanoTime();
        trainSeconds += (now - mark) / 1e9;
        mark = now;
    }

    private void score(double epoch) {
        tick();
        lastPoint = epoch;
        String key = Double.toString(epoch);
        if (!recorded.add(key)) return;
        long start = System.nanoTime();
        BnScore table = BnScore.of(net);
        if (log != null) { // read once per point: on a GPU a read waits for the device
            for (int b = counted; b < log.batches(); b++) {
                lossSum += log.loss(b);
                lossCount++;
            }
            counted = log.batches();
        }
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("epoch", epoch);
        t.put("loss", lossCount == 0 ? Double.NaN : lossSum / lossCount);
        lossSum = 0;
        lossCount = 0;
        t.put("train_seconds", trainSeconds);
        t.put("supernet_seed", seed);
        t.put("supernet", trained);
        t.put("table", table.table());
        run.appendLine(TABLE_FILE, t);
        for (int[] a : archs) {
            if (!bn) {
                long one = System.nanoTime();
                line(a, "accuracy", accuracy.evaluate(a), (System.nanoTime() - one) / 1e9, epoch);
            }
            long one = System.nanoTime();
            line(a, "bn", table.score(a), (System.nanoTime() - one) / 1e9, epoch);
        }
        if (!archs.isEmpty()) {
            out.printf("  scored %d architectures after %.2f epochs (%.0f s of training) in %.3g s%n", archs.size(), epoch, trainSeconds,
                    (System.nanoTime() - start) / 1e9);
            out.flush();
        }
        mark = System.nanoTime(); // scoring time is not training time
    }

    private void line(int[] arch, String evaluator, double score, double seconds, double epoch) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("arch", Architecture.format(arch));
        m.put("evaluator", evaluator);
        m.put("score", score);
        m.put("seconds", seconds);
        m.put("epoch", epoch);
        m.put("train_seconds", trainSeconds);
        m.put("supernet_seed", seed);
        m.put("supernet", trained);
        run.appendLine(FILE, m);
    }

    @Override
    public void close() {
        if (accuracy != null) accuracy.close();
    }
}
