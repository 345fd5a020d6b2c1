// PredictorInputs: what `bnnas score` and `bnnas search` load for their predictors: a checkpoint's
// supernet or standalone network, the data set, and the batch of the gradient and activation
// predictors.
package org.bnnas.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.bnnas.data.Dataset;
import org.bnnas.data.Datasets;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.experiment.Stages;
import org.bnnas.score.Predictor;
import org.bnnas.score.Scorers;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.Checkpoint;

/**
 * With {@code --checkpoint}, a supernet checkpoint gives bn and accuracy their supernet and the
 * network predictors each path's weights; a standalone checkpoint gives the network predictors
 * its own network, whose architecture is the file's or, for a file without bnnas metadata, the
 * one of {@code archs}. Without one, the network predictors take each architecture's network at
 * initialisation from {@code --seed}. The batch is the first {@code batchSize} images of
 * {@code split} (train, val or test) in the split's order.
 */
final class PredictorInputs implements AutoCloseable {
    final SearchSpace space;
    final int inChannels, inputSize;
    final Map<String, Object> description;
    private final Supernet supernet;
    private final Scorers.Networks networks;
    private final Datasets.Splits data;
    private final Scorers.Batch batch;
    private final int calibrationBatches;
    private final long seed;

    private PredictorInputs(SearchSpace space, int inChannels, int inputSize, Supernet supernet, Scorers.Networks networks, Datasets.Splits data,
                            Scorers.Batch batch, int calibrationBatches, long seed, Map<String, Object> description) {
        this.space = space;
        this.inChannels = inChannels;
        this.inputSize = inputSize;
        this.supernet = supernet;
        this.networks = networks;
        this.data = data;
        this.batch = batch;
        this.calibrationBatches = calibrationBatches;
        this.seed = seed;
        this.description = description;
    }

    /** The first {@code n} images of the validation split that accuracy scores on, all of it for 0. */
    static Dataset validationSubset(Dataset validation, int n) {
        if (n < 0) throw new CliException("--validation-images must be positive (or 0 for all), got " + n);
        if (n > validation.count()) throw new CliException("--validation-images " + n + " is more than the validation split's " + validation.count());
        return n == 0 ? validation : validation.first(n);
    }

    static PredictorInputs load(CommonOptions common, SearchSpace space, Collection<Predictor> predictors, Path checkpoint, List<int[]> archs,
                                String split, int batchSize, int calibrationBatches, int validationImages) {
        if (!split.equals("train") && !split.equals("val") && !split.equals("test")) throw new CliException("--split: '" + split + "' is not train, val or test");
        if (batchSize < 2 && predictors.stream().anyMatch(Predictor::needsBatch)) {
            throw new CliException("--batch-size must be at least 2 (BN in training mode needs two images), got " + batchSize);
        }
        boolean needsData = predictors.stream().anyMatch(p -> p == Predictor.ACCURACY || p.needsBatch());
        Checkpoint.Info info = checkpoint == null ? null : CheckpointOption.read(checkpoint, space);
        for (Predictor p : predictors) {
            if (p.needsSupernet() && (info == null || info.kind() != Checkpoint.Kind.SUPERNET)) {
                throw new CliException("--evaluator " + p + " scores paths of a trained supernet: give its checkpoint with --checkpoint");
            }
        }
        Datasets.Splits data = needsData ? common.loadData() : null;
        Map<String, Object> description = new java.util.LinkedHashMap<>();
        if (data != null && validationImages > 0) {
            data = new Datasets.Splits(data.train(), validationSubset(data.validation(), validationImages), data.test());
            description.put("validation", "the first " + validationImages + " images of the validation split");
        }
        int inC = info != null ? info.inChannels() : data != null ? data.train().channels() : space.inputChannels;
        int size = info != null && info.inputSize() != 0 ? info.inputSize() : data != null ? data.train().size() : space.inputSize;
        if (data != null && (data.train().channels() != inC || data.train().size() != size)) {
            throw new CliException("--checkpoint " + checkpoint + " expects " + inC + "x" + size + "x" + size + " images, --data " + common.data + " has "
                    + data.train().channels() + "x" + data.train().size() + "x" + data.train().size());
        }
        Supernet supernet = null;
        Scorers.Networks networks;
        if (info != null && info.kind() == Checkpoint.Kind.SUPERNET) {
            supernet = new Supernet(space, inC, new Rng(common.seed));
            try {
                Checkpoint.loadModel(checkpoint, supernet);
            } catch (IOException e) {
                supernet.close();
                throw new UncheckedIOException(e);
            }
            networks = Scorers.fromSupernet(supernet, inC);
            description.put("networks", "the supernet's paths, " + checkpoint);
        } else if (info != null) {
            networks = Scorers.fromStandalone(checkpoint, space, CheckpointOption.architecture(checkpoint, info, archs, space), inC);
            description.put("networks", "the standalone network of " + checkpoint);
        } else {
            networks = Scorers.fromSeed(space, inC, common.seed);
            description.put("networks", "each architecture at initialisation from seed " + common.seed);
        }
        Scorers.Batch batch = null;
        if (predictors.stream().anyMatch(Predictor::needsBatch)) {
            Dataset images = split.equals("train") ? data.train() : split.equals("val") ? data.validation() : data.test();
            batch = Scorers.Batch.first(images, batchSize);
            description.put("batch", "the first " + batch.labels().length + " images of the " + split + " split");
        }
        return new PredictorInputs(space, inC, size, supernet, networks, data, batch, calibrationBatches, common.seed, description);
    }

    Scorers.Scorer scorer(Predictor p) {
        try {
            return Scorers.create(p, new Scorers.Setup(space, inChannels, inputSize, seed, supernet, networks, data == null ? null : data.train(),
                    data == null ? null : data.validation(), calibrationBatches, Stages.EVAL_BATCH, batch));
        } catch (IllegalArgumentException e) {
            throw new CliException("--evaluator " + e.getMessage());
        }
    }

    @Override
    public void close() {
        if (batch != null) batch.close();
        if (supernet != null) supernet.close();
    }
}
