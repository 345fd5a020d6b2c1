// CommonOptions: the options every bnnas command shares (space, data, seed, threads, device) and
// what they resolve to.
package org.bnnas.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bnnas.data.Datasets;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.backend.cpu.Parallel;
import org.bnnas.space.SearchSpace;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** A picocli mixin; every command calls {@link #apply} first. */
final class CommonOptions {
    @Option(names = "--space", paramLabel = "NAME|FILE", description = "Search space: bnnas-small, bnnas-28, bnnas-imagenet or a JSON file (default: ${DEFAULT-VALUE}).")
    String space = "bnnas-small";

    @Option(names = "--data", paramLabel = "NAME", description = "Data set: fashion-mnist, mnist, cifar10 or imagefolder (DIR/train/<class>/*, "
            + "DIR/val/<class>/*: ImageNet's layout, with the official transforms) (default: ${DEFAULT-VALUE}).")
    String data = "fashion-mnist";

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Directory of the data set's files (default for fashion-mnist: "
            + "/usr/share/datasets/fashion-mnist).")
    Path dataDir;

    @Option(names = "--skip-bad-images", description = "With --data imagefolder: skip an image that cannot be decoded (counted, named, and "
            + "replaced by the next) instead of stopping.")
    boolean skipBadImages;

    @Option(names = "--data-workers", paramLabel = "N", description = "With --data imagefolder: threads that decode and transform images "
            + "(default: one per core).")
    Integer dataWorkers;

    @Option(names = "--validation-size", paramLabel = "N", description = "Images held out of the training set for validation (default: ${DEFAULT-VALUE}).")
    int validationSize = Datasets.DEFAULT_VALIDATION_SIZE;

    @Option(names = "--seed", description = "Seed of every random choice (default: ${DEFAULT-VALUE}).")
    long seed = 0;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = "--device", paramLabel = "cpu|cuda|auto", description = "Where to compute: auto takes the GPU when there is one "
            + "(default: ${DEFAULT-VALUE}).")
    String device = "auto";

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** How the line starts that says why auto runs on the CPU (on stderr, beside any error line). */
    static final String DEVICE_NOTE = "bnnas: ";

    /** Chooses the device and the thread count; checks the options that need no file. */
    void apply() {
        if (validationSize < 1) throw new CliException("--validation-size must be at least 1, got " + validationSize);
        selectCompute(threads, device, command);
    }

    /** Sets the thread count (null: all cores) and the device, saying on stderr why auto runs on the CPU; for commands without this mixin too. */
    static void selectCompute(Integer threads, String device, CommandSpec command) {
        if (threads != null) {
            if (threads < 1) throw new CliException("--threads must be at least 1, got " + threads);
            Parallel.setThreads(threads);
        }
        try {
            String note = Backends.select(device);
            if (note != null) command.commandLine().getErr().println(DEVICE_NOTE + note);
        } catch (IllegalArgumentException e) {
            throw new CliException("--device " + e.getMessage());
        }
    }

    SearchSpace loadSpace() {
        try {
            return SearchSpace.load(space);
        } catch (IllegalArgumentException e) {
            throw new CliException("--space " + e.getMessage());
        }
    }

    /** The data set's training and validation parts (split by --seed) and its test set. */
    Datasets.Splits loadData() {
        Path dir = dataDir;
        if (dir == null) {
            if (!data.equals("fashion-mnist")) throw new CliException("--data " + data + " needs --data-dir DIR (only fashion-mnist has a default)");
            dir = Datasets.FASHION_MNIST_DIR;
        }
        if (!data.equals("fashion-mnist") && !data.equals("mnist") && !data.equals("cifar10") && !data.equals("imagefolder")) {
            throw new CliException("--data: unknown data set '" + data + "' (fashion-mnist, mnist, cifar10, imagefolder)");
        }
        if (!data.equals("imagefolder") && (skipBadImages || dataWorkers != null)) {
            throw new CliException((skipBadImages ? "--skip-bad-images" : "--data-workers") + " goes with --data imagefolder");
        }
        Datasets.Pair pair;
        if (data.equals("imagefolder")) {
            if (dataWorkers != null) {
                if (dataWorkers < 1) throw new CliException("--data-workers must be at least 1, got " + dataWorkers);
                org.bnnas.data.ImageFolder.setWorkers(dataWorkers);
            }
            SearchSpace s = loadSpace();
            pair = Datasets.imageFolder(dir, s.inputSize, skipBadImages);
            if (pair.train().classes() > s.classes) {
                throw new CliException("--data-dir " + dir + ": " + pair.train().classes() + " classes, more than the " + s.classes + " of --space " + s.name);
            }
        } else {
            pair = Datasets.load(data, dir);
        }
        try {
            return Datasets.splits(pair, validationSize, seed);
        } catch (IllegalArgumentException e) {
            throw new CliException("--validation-size: " + e.getMessage());
        }
    }

    /** Whether the data is the installed Fashion-MNIST, on which the shipped ground-truth tables were trained. */
    boolean installedData() {
        return data.equals("fashion-mnist") && (dataDir == null || dataDir.toAbsolutePath().normalize().equals(Datasets.FASHION_MNIST_DIR));
    }

    /** The start of every config.json: command, versions, time, and these options. */
    Map<String, Object> baseConfig(String command) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", command);
        m.put("bnnas_version", Main.version());
        m.put("bnnas_commit", Main.commit());
        m.put("argv", arguments());
        m.put("java_version", Runtime.version().toString());
        m.put("started", java.time.OffsetDateTime.now().toString());
        m.putAll(describe());
        return m;
    }

    /** The arguments this command was given after its name: what `--config` replays. */
    List<String> arguments() {
        List<String> all = command.commandLine().getParseResult().originalArgs();
        int at = all.indexOf(command.name());
        return List.copyOf(all.subList(at + 1, all.size()));
    }

    /** These options as configuration entries. */
    Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("space", space);
        m.put("data", data);
        m.put("data_dir", dataDir == null ? (data.equals("fashion-mnist") ? Datasets.FASHION_MNIST_DIR.toString() : null) : dataDir.toString());
        m.put("validation_size", validationSize);
        m.put("seed", seed);
        m.put("threads", Parallel.threads());
        m.put("device", Backends.current().name());
        return m;
    }
}
