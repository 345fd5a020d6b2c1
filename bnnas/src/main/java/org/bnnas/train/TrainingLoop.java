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
                        l.batchDone(epoch, batch, log);
                    }
                }
                double lossSum = 0; // the epoch's one wait for the device, unless a listener read earlier
                long correct = 0, seen = 0;
                for (int b = 0; b < log.batches(); b++) {
                    lossSum += (double) log.loss(b) * log.images(b);
                    correct += log.correct(b);
                    seen += log.images(b);
                }
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
}
