// Scorers: a predictor made ready to score the architectures of one space, with what it needs: a
// trained supernet, a batch of images, or a way to build each architecture's network.
package org.bnnas.score;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.bnnas.data.BatchLoader;
import org.bnnas.data.Dataset;
import org.bnnas.engine.tensor.MemoryScope;
import org.bnnas.engine.tensor.Rng;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.space.Architecture;
import org.bnnas.space.Cost;
import org.bnnas.space.SearchSpace;
import org.bnnas.supernet.StandaloneNet;
import org.bnnas.supernet.Supernet;
import org.bnnas.train.Checkpoint;

/** The one place that turns a {@link Predictor} into a function of an architecture. */
public final class Scorers {
    private Scorers() {}

    /** Scores one architecture of the space (higher is better); closing frees what the scorer holds. */
    public interface Scorer extends AutoCloseable {
        double score(int[] arch);

        @Override
        default void close() {}
    }

    /** Where a network predictor takes an architecture's network from; the caller closes it. */
    public interface Networks {
        StandaloneNet build(int[] arch);
    }

    /** Each architecture's network at initialisation, drawn from {@code seed} (the same seed gives the same weights). */
    public static Networks fromSeed(SearchSpace space, int inChannels, long seed) {
        return arch -> new StandaloneNet(space, arch, inChannels, new Rng(seed));
    }

    /** Each architecture's network with the weights and BN statistics of its path in {@code supernet}. */
    public static Networks fromSupernet(Supernet supernet, int inChannels) {
        return arch -> StandaloneNet.fromSupernet(supernet, arch, inChannels);
    }

    /** The network of a standalone checkpoint, which only scores its own architecture. */
    public static Networks fromStandalone(Path file, SearchSpace space, int[] fileArch, int inChannels) {
        return arch -> {
            if (!Arrays.equals(arch, fileArch)) {
                throw new IllegalArgumentException(file + " holds architecture " + Architecture.format(fileArch) + ", not " + Architecture.format(arch));
            }
            StandaloneNet net = new StandaloneNet(space, arch, inChannels, new Rng(0));
            try {
                Checkpoint.loadModel(file, net);
            } catch (IOException e) {
                net.close();
                throw new UncheckedIOException(e);
            }
            return net;
        };
    }

    /** One batch of images and labels, held outside any memory scope until closed. */
    public record Batch(Tensor images, int[] labels) implements AutoCloseable {
        /** The first {@code size} images of {@code data} in its order, without augmentation, normalised as for training. */
        public static Batch first(Dataset data, int size) {
            try (BatchLoader loader = new BatchLoader(data, BatchLoader.Options.evaluation(Math.min(size, data.count())));
                 MemoryScope scope = MemoryScope.open()) {
                BatchLoader.Batch b = loader.next();
                return new Batch(MemoryScope.detach(b.images()), b.labels());
            }
        }

        @Override
        public void close() {
            images.close();
        }
    }

    /**
     * What the predictors may need: the space and its input, the seed (random), a trained supernet
     * (bn, accuracy; null otherwise), the networks (the gradient, activation and synflow
     * predictors), the training and validation images of the accuracy evaluator and its
     * calibration batches and batch size, and the batch of the gradient and activation predictors.
     */
    public record Setup(SearchSpace space, int inChannels, int inputSize, long seed, Supernet supernet, Networks networks,
                        Dataset train, Dataset validation, int calibrationBatches, int evalBatch, Batch batch) {}

    /** A scorer of {@code p}; an IllegalArgumentException says what the setup lacks for it. */
    public static Scorer create(Predictor p, Setup s) {
        if (p.needsSupernet() && s.supernet() == null) throw new IllegalArgumentException(p + " scores paths of a trained supernet: give its checkpoint");
        if (p.needsBatch() && s.batch() == null) throw new IllegalArgumentException(p + " needs a batch of images");
        if (p.needsNetwork() && s.networks() == null) throw new IllegalArgumentException(p + " needs the architectures' networks");
        return switch (p) {
            case BN -> BnScore.of(s.supernet())::score;
            case ACCURACY -> {
                AccuracyEvaluator ev = new AccuracyEvaluator(s.supernet(), s.train(), s.validation(), s.calibrationBatches(), s.evalBatch(), s.seed());
                yield new Scorer() {
                    @Override public double score(int[] arch) { return ev.evaluate(arch); }
                    @Override public void close() { ev.close(); }
                };
            }
            case SYNFLOW -> onNetwork(s, net -> Synflow.logScore(net, s.inChannels(), s.inputSize()));
            case SNIP -> onNetwork(s, net -> ZeroCost.snip(net, s.batch().images(), s.batch().labels()));
            case GRAD_NORM -> onNetwork(s, net -> ZeroCost.gradNorm(net, s.batch().images(), s.batch().labels()));
            case JACOB_COV -> onNetwork(s, net -> ZeroCost.jacobCov(net, s.batch().images()));
            case NASWOT -> onNetwork(s, net -> ZeroCost.naswot(net, s.batch().images()));
            case FLOPS -> arch -> Cost.of(s.space(), arch, s.inChannels(), s.inputSize()).flops();
            case PARAMS -> arch -> Cost.of(s.space(), arch, s.inChannels(), s.inputSize()).params();
            case RANDOM -> arch -> random(s.seed(), arch);
        };
    }

    private interface OnNetwork {
        double score(StandaloneNet net);
    }

    private static Scorer onNetwork(Setup s, OnNetwork f) {
        return arch -> {
            s.space().validate(arch);
            try (StandaloneNet net = s.networks().build(arch)) {
                return f.score(net);
            }
        };
    }

    /** A uniform number in [0, 1) that depends only on the seed and the architecture. */
    static double random(long seed, int[] arch) {
        long z = seed ^ (0x9E3779B97F4A7C15L * (Architecture.key(arch).hashCode() + 1L));
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return new Rng(z ^ (z >>> 31)).nextDouble();
    }
}
