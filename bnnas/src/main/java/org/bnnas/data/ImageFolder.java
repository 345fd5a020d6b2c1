// ImageFolder: a data set of image files in class folders, torchvision's ImageFolder layout
// (DIR/<class>/**/<image>, classes and files in sorted order), decoded and transformed as the
// official ImageNet code does, by a pool of threads, batch by batch: never held in memory.
package org.bnnas.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.bnnas.engine.tensor.Rng;

/**
 * Training takes a random-resized crop to {@code size} and flips it with probability 1/2;
 * evaluation resizes the shorter side to size x 256 / 224 and takes the center crop
 * ({@link ImageTransforms}); both normalise by ImageNet's mean and std. Each image of a batch has
 * its own generator, seeded from the batch's seed and its place in the batch, so a batch is the
 * same whatever the number of threads. A file that cannot be decoded stops the run with its name,
 * or, where bad images are to be skipped, is counted and replaced by the next image of the set that
 * decodes.
 */
public final class ImageFolder implements Dataset {
    /** The file endings torchvision's ImageFolder takes (case ignored). */
    public static final List<String> EXTENSIONS = List.of(".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp");
    public static final float[] MEAN = {0.485f, 0.456f, 0.406f}, STD = {0.229f, 0.224f, 0.225f};
    /** Each worker thread's array for one normalised image. */
    private static final ThreadLocal<float[]> IMAGE = ThreadLocal.withInitial(() -> new float[0]);
    /** Each channel's 256 byte values normalised: ToTensor's v / 255, then Normalize's (v - mean) / std, in float as torchvision computes them. */
    private static final float[] NORMALISED = new float[3 * 256];

    static {
        for (int c = 0; c < 3; c++) for (int v = 0; v < 256; v++) NORMALISED[c * 256 + v] = (v / 255f - MEAN[c]) / STD[c];
    }

    private static final java.util.Set<Path> SKIPPED = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Where a skipped file is reported, the moment it is first skipped (the CLI points it at its error stream). */
    private static volatile java.util.function.Consumer<String> log = System.err::println;
    private static volatile ExecutorService pool;
    private static int workers = Runtime.getRuntime().availableProcessors();

    private final List<String> classes;
    private final Path[] files;
    private final int[] labels;
    private final int size;
    private final boolean skipBad;

    private ImageFolder(List<String> classes, Path[] files, int[] labels, int size, boolean skipBad) {
        this.classes = classes;
        this.files = files;
        this.labels = labels;
        this.size = size;
        this.skipBad = skipBad;
    }

    /**
     * The images under {@code dir}: one folder per class, its images anywhere below it. A
     * directory without class folders, or a class folder without images, is a DataException
     * naming it.
     */
    public static ImageFolder scan(Path dir, int size, boolean skipBad) {
        if (!Files.isDirectory(dir)) throw new DataException(dir + ": no such directory (an image folder has one folder of images per class)");
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(dir)) {
            classDirs = s.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new DataException(dir + ": cannot list (" + e.getMessage() + ")");
        }
        if (classDirs.isEmpty()) throw new DataException(dir + ": no class folders (an image folder has one folder of images per class)");
        List<String> classes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Path c : classDirs) {
            List<Path> images;
            try (Stream<Path> s = Files.walk(c, java.nio.file.FileVisitOption.FOLLOW_LINKS)) {
                images = s.filter(Files::isRegularFile).filter(ImageFolder::isImage).sorted().toList();
            } catch (IOException | UncheckedIOException e) {
                throw new DataException(c + ": cannot list (" + e.getMessage() + ")");
            }
            if (images.isEmpty()) throw new DataException(c + ": a class folder without images (" + String.join(", ", EXTENSIONS) + ")");
            for (Path f : images) {
                files.add(f);
                labels.add(classes.size());
            }
            classes.add(c.getFileName().toString());
        }
        return new ImageFolder(List.copyOf(classes), files.toArray(Path[]::new), labels.stream().mapToInt(Integer::intValue).toArray(), size, skipBad);
    }

    private static boolean isImage(Path f) {
        String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(name::endsWith);
    }

    /** How many threads decode and transform images (default: one per core). */
    public static synchronized void setWorkers(int n) {
        if (n < 1) throw new IllegalArgumentException("image workers must be at least 1, got " + n);
        if (n != workers && pool != null) {
            pool.shutdown();
            pool = null;
        }
        workers = n;
    }

    public static void setLog(java.util.function.Consumer<String> sink) {
        log = sink;
    }

    /** The files skipped as undecodable in this process so far, each counted once. */
    public static int skipped() {
        return SKIPPED.size();
    }

    private static synchronized ExecutorService pool() {
        if (pool == null) {
            AtomicInteger n = new AtomicInteger();
            pool = Executors.newFixedThreadPool(workers, r -> {
                Thread t = new Thread(r, "bnnas-image-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        }
        return pool;
    }

    public List<String> classNames() {
        return classes;
    }

    /** The file of image {@code i}. */
    public Path file(int i) {
        return files[i];
    }

    @Override
    public String name() {
        return "imagefolder";
    }

    @Override
    public int count() {
        return files.length;
    }

    @Override
    public int[] labels() {
        return labels;
    }

    @Override
    public int channels() {
        return 3;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int classes() {
        return classes.size();
    }

    @Override
    public boolean flip() {
        return true;
    }

    @Override
    public ImageFolder subset(int[] indices) {
        Path[] f = new Path[indices.length];
        int[] l = new int[indices.length];
        for (int k = 0; k < indices.length; k++) {
            f[k] = files[indices[k]];
            l[k] = labels[indices[k]];
        }
        return new ImageFolder(classes, f, l, size, skipBad);
    }

    @Override
    public void prepare(int[] ids, boolean crop, boolean flip, long seed, FloatBuffer out) {
        List<Future<?>> work = new ArrayList<>();
        for (int k = 0; k < ids.length; k++) {
            int at = k;
            work.add(pool().submit(() -> one(ids[at], crop, flip, new Rng(mix(seed, at)), out, at * size * size * 3)));
        }
        // every image is waited for, failed or not, so that nothing writes into out once this returns
        RuntimeException failure = null;
        boolean interrupted = false;
        for (Future<?> f : work) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (failure == null) failure = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            if (failure == null) failure = new IllegalStateException("interrupted while preparing images");
        }
        if (failure != null) throw failure;
    }

    /** One image, transformed and normalised into {@code out} at {@code offset}, channels last. */
    private void one(int id, boolean crop, boolean flip, Rng rng, FloatBuffer out, int offset) {
        ImageTransforms.Image im = decode(id);
        ImageTransforms.Image t = crop ? ImageTransforms.train(im, size, rng::nextDouble, flip) : ImageTransforms.eval(im, size);
        byte[] px = t.rgb();
        float[] image = IMAGE.get(); // normalised here, then copied at once: faster than a put per value into native memory
        if (image.length != size * size * 3) IMAGE.set(image = new float[size * size * 3]);
        for (int p = 0; p < image.length; p += 3) {
            image[p] = NORMALISED[px[p] & 0xff];
            image[p + 1] = NORMALISED[256 + (px[p + 1] & 0xff)];
            image[p + 2] = NORMALISED[512 + (px[p + 2] & 0xff)];
        }
        out.put(offset, image);
    }

    /** Image {@code id} decoded; an undecodable one, where skipping is asked for, replaced by the next that decodes. */
    private ImageTransforms.Image decode(int id) {
        for (int tried = 0; tried < files.length; tried++) {
            Path f = files[(id + tried) % files.length];
            try {
                return ImageDecoder.decode(f);
            } catch (DataException e) {
                if (!skipBad) throw new DataException(e.getMessage() + " (--skip-bad-images skips such files)");
                if (SKIPPED.add(f)) log.accept("bnnas: skipping " + e.getMessage());
            }
        }
        throw new DataException("no image of the set can be decoded (the first: " + files[id] + ")");
    }

    /** A seed for image {@code k} of a batch (SplitMix64's finaliser). */
    private static long mix(long seed, int k) {
        long z = seed ^ (0x9E3779B97F4A7C15L * (k + 1));
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
