// TrainingLoop: the epoch loop that supernet training and retraining share: SGD steps under a
// learning-rate schedule, a checkpoint after every epoch, and a resume that continues bit-identically.
package org.bnnas.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import org.bnnas.data.BatchLoader;
import org.bnnas.data.Dataset;
import org.bnnas.engine.autograd.Autograd;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.ops.Ops;
import org.bnnas.engine.optim.GradClip;
import org.bnnas.engine.optim.LrSchedule;
import org.bnnas.engine.optim.ParamGroup;
import org.bnnas.engine.optim.SGD;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;

/**
 * Runs epochs of: for each batch, {@code beforeStep} (the supernet draws its path there), forward,
 * label-smoothed cross-entropy, backward, optional clipping by value, one SGD step. The batches
 * depend only on (seed, epoch); every other random draw comes from the named generators, whose
 * states go into the checkpoint with the optimizer's. So a run resumed from the checkpoint of
 * epoch k repeats exactly the computation that the uninterrupted run did after epoch k.
 * Each step's loss and correct count stay on the device in a {@link BatchLog}; the loop reads
 * them once, at the end of the epoch, so on a GPU the host never waits inside an epoch.
 *
 * <p>Training stops with a {@link TrainingDivergedException} at a non-finite loss: on the CPU at
 * the step that produced it, on a GPU at the end of its epoch (naming the step), and in both cases
 * before the epoch's checkpoint is written, which is also refused while a trained parameter is
 * not finite. So the last checkpoint on disk is always a good one.
 */
public final class TrainingLoop {
    /** Figures of one epoch; {@code top1} is the training accuracy of the batches as they were trained. */
    public record EpochStats(int epoch, double loss, double top1, double seconds, double lr) {}

    /** Hooks for progress display, metrics and evaluation; all optional. */
    public interface Listener {
        /** A run resumed from a checkpoint: these epochs are already done. */
        default void resumed(int epochsDone) {}

        default void epochStarted(int epoch, int batches) {}

        /**
         * After the step of batch {@code batch}; {@code log} holds this epoch's batches so far.
         * Reading a value from it waits for the device, so read only when it is shown.
         */
        default void batchDone(int epoch, int batch, BatchLog log) {}

        /** After the epoch's checkpoint is written. */
        default void epochDone(EpochStats stats) {}

        /** One listener that calls each of {@code listeners} in order (null ones are left out). */
        static Listener all(Listener... listeners) {
            List<Listener> ls = new ArrayList<>();
            for (Listener l : listeners) if (l != null) ls.add(l);
            return new Listener() {
                @Override public void resumed(int epochsDone) { ls.forEach(l -> l.resumed(epochsDone)); }
                @Override public void epochStarted(int epoch, int batches) { ls.forEach(l -> l.epochStarted(epoch, batches)); }
                @Override public void batchDone(int epoch, int batch, BatchLog log) { ls.forEach(l -> l.batchDone(epoch, batch, log)); }
                @Override public void epochDone(EpochStats stats) { ls.forEach(l -> l.epochDone(stats)); }
            };
        }
    }

    /** Where the checkpoint goes and whether to start from it; {@code config} must match on resume. */
    public record Checkpointing(Path modelFile, Checkpoint.Info info, boolean resume, String config) {}

    /** What the loop needs besides the model and the data. */
    public record Settings(int epochs, int batchSize, float labelSmoothing, float clipValue, long seed,
                           LongFunction<LrSchedule> schedule) {}

    private TrainingLoop() {}

    /**
     * Trains {@code net} (already set to the parameters' requiresGrad) and returns the statistics
     * of the epochs this call ran. {@code rngs} are the generators that {@code beforeStep} and
     * the model draw from, by name, saved and restored with the checkpoint.
     */
    public static List<EpochStats> run(Module net, Dataset data, List<ParamGroup> groups, Settings s, Map<String, Rng> rngs,
                                       Runnable beforeStep, Checkpointing ckpt, Listener listener) {
        Listener l = listener != null ? listener : new Listener() {};
        List<Parameter> trainable = new ArrayList<>();
        groups.forEach(g -> trainable.addAll(g.params()));
        Map<Parameter, String> names = SGD.namesOf(net.namedParameters());
        List<EpochStats> out = new ArrayList<>();
        boolean hostMemory = Backends.current().memory().hostAccessible(); // reading the loss every step costs nothing there
        try (SGD sgd = new SGD(groups); BatchLoader loader = new BatchLoader(data, BatchLoader.Options.training(data, s.batchSize(), s.seed()));
             BatchLog log = new BatchLog(loader.batchesPerEpoch())) {
            long step = 0;
            int firstEpoch = 0;
            if (ckpt != null && ckpt.resume() && Files.exists(ckpt.modelFile())) {
                Checkpoint.loadModel(ckpt.modelFile(), net);
                Checkpoint.Progress p = Checkpoint.loadState(ckpt.modelFile(), sgd, names, ckpt.config());
                for (Map.Entry<String, Rng> e : rngs.entrySet()) {
                    Long state = p.rngStates().get(e.getKey());
                    if (state == null) throw new IOException(Checkpoint.stateFileOf(ckpt.modelFile()) + ": no state for generator " + e.getKey());
                    e.getValue().setState(state);
                }
                firstEpoch = p.epochsDone();
                step = p.step();
                l.resumed(firstEpoch);
            }
            LrSchedule schedule = s.schedule().apply((long) s.epochs() * loader.batchesPerEpoch());
            for (int epoch = firstEpoch; epoch < s.epochs(); epoch++) {
                net.train(); // a listener may have evaluated in eval mode
                long start = System.nanoTime();
                loader.startEpoch(epoch);
                l.epochStarted(epoch, loader.batchesPerEpoch());
                log.clear();
                for (int batch = 0; loader.hasNext(); batch++) {
                    schedule.apply(sgd, step++);
                    try (MemoryScope scope = MemoryScope.open(); BatchLoader.Batch b = loader.next()) {
                        beforeStep.run();
                        Tensor logits = net.forward(b.images());
                        Tensor loss = Ops.crossEntropy(logits, b.labels(), s.labelSmoothing());
                        Autograd.backward(loss);
                        if (s.clipValue() > 0) GradClip.clipByValue(trainable, s.clipValue());
                        sgd.step();
                        sgd.zeroGrad();
                        log.record(loss, Ops.countCorrect(logits, b.labels()), b.size());
                        if (hostMemory && !Float.isFinite(loss.item())) throw diverged(epoch, batch, log.batches(), step, loss.item(), sgd, ckpt);
                        l.batchDone(epoch, batch, log);
                    }
                }
                double lossSum = 0; // the epoch's one wait for the device, unless a listener read earlier
                long correct = 0, seen = 0;
                for (int b = 0; b < log.batches(); b++) {
                    if (!Float.isFinite(log.loss(b))) {
                        throw diverged(epoch, b, log.batches(), step - log.batches() + b + 1, log.loss(b), sgd, ckpt);
                    }
                    lossSum += (double) log.loss(b) * log.images(b);
                    correct += log.correct(b);
                    seen += log.images(b);
                }
                checkFinite(trainable, names, epoch, sgd, ckpt);
                EpochStats st = new EpochStats(epoch, lossSum / seen, correct / (double) seen, (System.nanoTime() - start) / 1e9,
                        sgd.groups().get(0).lr());
                if (ckpt != null) {
                    Map<String, Long> states = new LinkedHashMap<>();
                    rngs.forEach((name, rng) -> states.put(name, rng.state()));
                    Checkpoint.save(ckpt.modelFile(), net, ckpt.info(), sgd, names, new Checkpoint.Progress(epoch + 1, step, states, ckpt.config()));
                }
                out.add(st);
                l.epochDone(st);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** The error for a non-finite loss at batch {@code batch} (0-based) of {@code epoch}, global step {@code step} (1-based). */
    private static TrainingDivergedException diverged(int epoch, int batch, int batches, long step, float loss, SGD sgd, Checkpointing ckpt) {
        return new TrainingDivergedException(String.format("training diverged: the loss is %s at epoch %d, step %d (batch %d of %d), learning rate %.4g;"
                + " try a lower learning rate. %s", loss, epoch + 1, step, batch + 1, batches, sgd.groups().get(0).lr(), lastCheckpoint(ckpt)));
    }

    /** Refuses to go on (and to write the epoch's checkpoint) while a trained parameter holds a NaN or an infinity. */
    private static void checkFinite(List<Parameter> trainable, Map<Parameter, String> names, int epoch, SGD sgd, Checkpointing ckpt) {
        List<Tensor> data = new ArrayList<>(trainable.size());
        trainable.forEach(p -> data.add(p.data()));
        double[] meanAbs = Backends.current().meanAbsolute(data); // one launch on a GPU; a NaN or infinity makes its tensor's mean one
        for (int i = 0; i < meanAbs.length; i++) {
            if (!Double.isFinite(meanAbs[i])) {
                throw new TrainingDivergedException(String.format("training diverged: parameter %s is not finite after epoch %d, learning rate %.4g;"
                        + " try a lower learning rate. %s", names.get(trainable.get(i)), epoch + 1, sgd.groups().get(0).lr(), lastCheckpoint(ckpt)));
            }
        }
    }

    private static String lastCheckpoint(Checkpointing ckpt) {
        if (ckpt == null) return "Nothing was saved.";
        return Files.exists(ckpt.modelFile()) ? "The last checkpoint, " + ckpt.modelFile() + ", is as it was." : "No checkpoint was written.";
    }
}
