// Datasets: loads fashion-mnist, mnist and cifar10 from their files and image folders from theirs,
// and makes the seeded validation split.
package org.bnnas.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bnnas.engine.tensor.Rng;

/** Loading and splitting of the data sets. */
public final class Datasets {
    public static final Path FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final int DEFAULT_VALIDATION_SIZE = 10_000;

    private Datasets() {}

    /** A training set and its test (or validation) set. */
    public record Pair(Dataset train, Dataset test) {}

    /** A training set cut into a smaller training part and a validation part. */
    public record Split(Dataset train, Dataset validation) {}

    /** What every command trains, validates and tests on: the training part, the validation part and the test set. */
    public record Splits(Dataset train, Dataset validation, Dataset test) {}

    /** The directory used when the user gives none; only Fashion-MNIST has one. */
    public static Path defaultDir(String name) {
        if (name.equals("fashion-mnist")) return FASHION_MNIST_DIR;
        throw new IllegalArgumentException("no default directory for data set " + name + "; give one");
    }

    public static Pair load(String name) {
        return load(name, defaultDir(name));
    }

    /** Loads the train and test sets of {@code name} (fashion-mnist | mnist | cifar10) from {@code dir}. */
    public static Pair load(String name, Path dir) {
        switch (name) {
            case "fashion-mnist":
                return loadIdx(name, dir, 0.2860f, 0.3530f, true);
            case "mnist":
                return loadIdx(name, dir, 0.1307f, 0.3081f, false);
            case "cifar10": {
                List<Path> train = new ArrayList<>();
                for (int i = 1; i <= 5; i++) train.add(dir.resolve("data_batch_" + i + ".bin"));
                return new Pair(cifar(CifarReader.read(train)), cifar(CifarReader.read(List.of(dir.resolve("test_batch.bin")))));
            }
            default:
                throw new IllegalArgumentException("unknown data set " + name + " (fashion-mnist | mnist | cifar10)");
        }
    }

    /**
     * An image folder with train/ and val/ in torchvision's ImageFolder layout, transformed to
     * {@code size}; val/ is the test set (ImageNet's labelled validation set is the test set of a
     * search, which holds its own validation images out of train/). Both must have the same classes.
     */
    public static Pair imageFolder(Path dir, int size, boolean skipBad) {
        ImageFolder train = ImageFolder.scan(dir.resolve("train"), size, skipBad), val = ImageFolder.scan(dir.resolve("val"), size, skipBad);
        if (!train.classNames().equals(val.classNames())) {
            List<String> missing = new ArrayList<>(train.classNames());
            missing.removeAll(val.classNames());
            List<String> extra = new ArrayList<>(val.classNames());
            extra.removeAll(train.classNames());
            throw new DataException(dir + ": train/ and val/ have other classes (" + (missing.isEmpty() ? "" : "missing from val/: " + first(missing))
                    + (missing.isEmpty() || extra.isEmpty() ? "" : "; ") + (extra.isEmpty() ? "" : "only in val/: " + first(extra)) + ")");
        }
        return new Pair(train, val);
    }

    private static String first(List<String> names) {
        return names.size() <= 5 ? String.join(", ", names) : String.join(", ", names.subList(0, 5)) + " and " + (names.size() - 5) + " more";
    }

    /**
     * Loads {@code name} from {@code dir} and holds {@code validationSize} images of its training
     * set out for validation ({@link #split} with {@code seed}); the test set stays whole.
     *
     * @throws IllegalArgumentException when the validation part would leave no training image
     */
    public static Splits loadSplits(String name, Path dir, int validationSize, long seed) {
        return splits(load(name, dir), validationSize, seed);
    }

    /** {@code pair}'s training set with {@code validationSize} images held out for validation by {@code seed}, and its test set. */
    public static Splits splits(Pair pair, int validationSize, long seed) {
        if (validationSize >= pair.train().count()) {
            throw new IllegalArgumentException("holding out " + validationSize + " images leaves none for training (the training set has "
                    + pair.train().count() + ")");
        }
        Split split = split(pair.train(), validationSize, seed);
        return new Splits(split.train(), split.validation(), pair.test());
    }

    private static Dataset cifar(CifarReader.Records r) {
        return new MemoryDataset("cifar10", r.pixels(), r.labels(), 3, 32, CifarReader.CLASSES,
                new float[] {0.4914f, 0.4822f, 0.4465f}, new float[] {0.2470f, 0.2435f, 0.2616f}, 4, true);
    }

    private static Pair loadIdx(String name, Path dir, float mean, float std, boolean flip) {
        Dataset train = idx(name, dir.resolve("train-images-idx3-ubyte.gz"), dir.resolve("train-labels-idx1-ubyte.gz"), mean, std, flip);
        Dataset test = idx(name, dir.resolve("t10k-images-idx3-ubyte.gz"), dir.resolve("t10k-labels-idx1-ubyte.gz"), mean, std, flip);
        return new Pair(train, test);
    }

    /** One IDX image/label file pair as a 1-channel 28x28 data set of 10 classes. */
    static Dataset idx(String name, Path imagesFile, Path labelsFile, float mean, float std, boolean flip) {
        IdxReader.Images im = IdxReader.readImages(imagesFile);
        // The networks are built for 28x28 inputs, so another size is refused here rather than deep in a conv.
        if (im.rows() != 28 || im.cols() != 28) {
            throw new DataException(imagesFile + ": images are " + im.rows() + "x" + im.cols() + ", expected 28x28 for " + name);
        }
        int[] labels = IdxReader.readLabels(labelsFile);
        if (labels.length != im.count()) {
            throw new DataException(labelsFile + ": " + labels.length + " labels but " + imagesFile + " has " + im.count() + " images");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= 10) throw new DataException(labelsFile + ": label " + labels[i] + " at index " + i + " out of range (classes 10)");
        }
        return new MemoryDataset(name, im.pixels(), labels, 1, 28, 10, new float[] {mean}, new float[] {std}, 2, flip);
    }

    /**
     * Splits {@code train} into {train part, validation part} by a permutation drawn from {@code seed}
     * (Fisher-Yates with the engine's Rng, so the same seed gives the same split on every JVM).
     */
    public static Split split(Dataset train, int validationSize, long seed) {
        int n = train.count();
        if (validationSize < 0 || validationSize > n) {
            throw new IllegalArgumentException("validation size " + validationSize + " out of 0.." + n);
        }
        int[] perm = permutation(n, new Rng(seed));
        int[] trainIdx = new int[n - validationSize];
        int[] valIdx = new int[validationSize];
        System.arraycopy(perm, 0, valIdx, 0, validationSize);
        System.arraycopy(perm, validationSize, trainIdx, 0, n - validationSize);
        // Sorted so each part keeps the file order; the permutation only chooses membership.
        java.util.Arrays.sort(trainIdx);
        java.util.Arrays.sort(valIdx);
        return new Split(train.subset(trainIdx), train.subset(valIdx));
    }

    public static Split split(Dataset train, long seed) {
        return split(train, DEFAULT_VALIDATION_SIZE, seed);
    }

    static int[] permutation(int n, Rng rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i]; p[i] = p[j]; p[j] = t;
        }
        return p;
    }
}
