// Checkpoint: a model's weights in a safetensors file with the official PyTorch names, and the
// training progress (optimizer, epoch, step, RNG states) in a second file beside it, both checksummed.
package org.bnnas.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import org.bnnas.engine.io.SafeTensors;
import org.bnnas.engine.io.TensorData;
import org.bnnas.engine.nn.Module;
import org.bnnas.engine.nn.Parameter;
import org.bnnas.engine.optim.SGD;
import org.bnnas.space.Architecture;

/**
 * Two files per checkpoint:
 * <ul>
 * <li>{@code NAME.safetensors}: the model's state dict exactly as PyTorch names and lays it out
 * (loadable with {@code safetensors.torch.load_file}), with metadata saying what the model is:
 * supernet or standalone network, the space, the input shape and, for a standalone network,
 * its architecture;</li>
 * <li>{@code NAME.state.safetensors}: what {@code --resume} needs besides the weights: the
 * optimizer's momentum buffers and step counts, the number of finished epochs, the global step,
 * the states of the random generators, and the training configuration it was made with.</li>
 * </ul>
 * Each file carries a CRC-32C of its tensors in its metadata, and the state file the checksum of
 * the model file it belongs to; a file whose checksum does not match is refused. Both are written
 * atomically (temporary file, then rename), the model first.
 *
 * <p>A model file without metadata, as {@code safetensors.torch.save_file} writes the official
 * model's {@code state_dict()}, is read too: its tensor names say whether it is a supernet or a
 * standalone network, and loading it demands every name the model has, with its shape, and no
 * other name.
 */
public final class Checkpoint {
    public static final String FORMAT = "bnnas-checkpoint-2";
    /** Files of the network before the stem block had its residual: their weights belong to another network. */
    private static final String FORMAT_WITHOUT_STEM_RESIDUAL = "bnnas-checkpoint-1";
    private static final Pattern SUPERNET_NAME = Pattern.compile("features\\.\\d+\\._ops\\.\\d+\\..*");
    private static final Pattern STANDALONE_NAME = Pattern.compile("features\\.\\d+\\.conv\\..*");
    private static final String FIRST_CONV = "conv_bn.0.weight";

    public enum Kind { SUPERNET, STANDALONE }

    /**
     * What a model file holds; {@code arch} is null for a supernet. {@code inputSize} is 0 when
     * the file does not say (a file written by PyTorch: the network takes any size). {@code
     * foreign}: written without bnnas metadata, so {@code space} and {@code arch} are what the
     * caller gave, not what the file says.
     */
    public record Info(Kind kind, String space, int inChannels, int inputSize, int[] arch, boolean foreign) {
        public static Info supernet(String space, int inChannels, int inputSize) {
            return new Info(Kind.SUPERNET, space, inChannels, inputSize, null, false);
        }

        public static Info standalone(String space, int inChannels, int inputSize, int[] arch) {
            return new Info(Kind.STANDALONE, space, inChannels, inputSize, arch.clone(), false);
        }
    }

    /**
     * Training progress after {@code epochsDone} epochs and {@code step} optimizer steps.
     * {@code rngStates} holds the state of every random generator the loop draws from, by name;
     * {@code config} is the training configuration as text, compared on resume.
     */
    public record Progress(int epochsDone, long step, Map<String, Long> rngStates, String config) {}

    private Checkpoint() {}

    /** The state file that belongs to a model file: {@code x.safetensors} gives {@code x.state.safetensors}. */
    public static Path stateFileOf(Path modelFile) {
        String name = modelFile.getFileName().toString();
        String base = name.endsWith(".safetensors") ? name.substring(0, name.length() - ".safetensors".length()) : name;
        return modelFile.resolveSibling(base + ".state.safetensors");
    }

    /** Writes the model file and the state file (model first, each atomically). */
    public static void save(Path modelFile, Module model, Info info, SGD sgd, Map<Parameter, String> names, Progress progress)
            throws IOException {
        String modelCrc = saveModel(modelFile, model, info);
        Map<String, TensorData> state = new LinkedHashMap<>(sgd.stateDict(names));
        for (Map.Entry<String, Long> e : progress.rngStates().entrySet()) state.put("rng." + e.getKey(), TensorData.i64Scalar(e.getValue()));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("epochs_done", Integer.toString(progress.epochsDone()));
        meta.put("step", Long.toString(progress.step()));
        meta.put("config", progress.config());
        meta.put("model_crc32c", modelCrc);
        meta.put("crc32c", crc(state));
        SafeTensors.write(stateFileOf(modelFile), state, meta);
    }

    /** Writes only the model file; returns its checksum. */
    public static String saveModel(Path file, Module model, Info info) throws IOException {
        Map<String, TensorData> tensors = model.stateDict();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("kind", info.kind().name().toLowerCase());
        meta.put("space", info.space());
        meta.put("in_channels", Integer.toString(info.inChannels()));
        meta.put("input_size", Integer.toString(info.inputSize()));
        if (info.arch() != null) meta.put("arch", Architecture.format(info.arch()));
        String crc = crc(tensors);
        meta.put("crc32c", crc);
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        SafeTensors.write(file, tensors, meta);
        return crc;
    }

    /** Reads and checks a bnnas model file's description without building a model; refuses a file without bnnas metadata. */
    public static Info readInfo(Path file) throws IOException {
        return info(file, verified(file));
    }

    /**
     * The description of a bnnas model file (as {@link #readInfo(Path)}) or of one written by
     * PyTorch without metadata: then its kind follows from its tensor names, its input channels
     * from its first convolution, its space is {@code space}, and its architecture (a standalone
     * network's) is null: the file does not say it, the caller has to.
     */
    public static Info readInfo(Path file, String space) throws IOException {
        SafeTensors.Loaded loaded = read(file);
        return isForeign(loaded) ? foreignInfo(file, loaded, space) : info(file, verified(file, loaded));
    }

    /**
     * Loads the weights of {@code file} into {@code model}: a bnnas file after its checksum is
     * checked, a file without metadata as it is. Every name of the model must be in the file with
     * the model's shape, and the file may hold no other name.
     */
    public static void loadModel(Path file, Module model) throws IOException {
        SafeTensors.Loaded loaded = read(file);
        if (!isForeign(loaded)) verified(file, loaded);
        try {
            model.loadStateDict(loaded.tensors(), true);
        } catch (RuntimeException e) {
            throw new IOException(file + ": does not fit the model: " + e.getMessage(), e);
        }
    }

    /**
     * Loads the state file beside {@code modelFile} into {@code sgd} and returns the progress;
     * refuses a state file written for another model file or another configuration.
     */
    public static Progress loadState(Path modelFile, SGD sgd, Map<Parameter, String> names, String expectedConfig) throws IOException {
        Path file = stateFileOf(modelFile);
        SafeTensors.Loaded loaded = verified(file);
        Map<String, String> meta = loaded.metadata();
        String modelCrc = verified(modelFile).metadata().get("crc32c");
        if (!modelCrc.equals(meta.get("model_crc32c"))) {
            throw new IOException(file + ": belongs to another version of " + modelFile.getFileName() + " (was the run killed while saving?)");
        }
        if (!expectedConfig.equals(meta.get("config"))) {
            throw new IOException(file + ": was made with a different configuration: " + meta.get("config") + "; this run has " + expectedConfig);
        }
        Map<String, TensorData> optimizer = new LinkedHashMap<>();
        Map<String, Long> rngs = new LinkedHashMap<>();
        for (Map.Entry<String, TensorData> e : loaded.tensors().entrySet()) {
            if (e.getKey().startsWith("rng.")) rngs.put(e.getKey().substring(4), e.getValue().longValue(e.getKey()));
            else optimizer.put(e.getKey(), e.getValue());
        }
        try {
            sgd.loadStateDict(optimizer, names);
            return new Progress(Integer.parseInt(required(file, meta, "epochs_done")), Long.parseLong(required(file, meta, "step")), rngs,
                    meta.get("config"));
        } catch (RuntimeException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    private static SafeTensors.Loaded read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException(file + ": no such checkpoint file");
        return SafeTensors.read(file);
    }

    private static SafeTensors.Loaded verified(Path file) throws IOException {
        return verified(file, read(file));
    }

    /** A file with no format in its metadata: written by another program (PyTorch), not by bnnas. */
    private static boolean isForeign(SafeTensors.Loaded loaded) {
        return !loaded.metadata().containsKey("format");
    }

    private static SafeTensors.Loaded verified(Path file, SafeTensors.Loaded loaded) throws IOException {
        Map<String, String> meta = loaded.metadata();
        if (FORMAT_WITHOUT_STEM_RESIDUAL.equals(meta.get("format"))) {
            throw new IOException(file + ": written by an older bnnas, for the network before its stem block had the official residual; "
                    + "train it again");
        }
        if (!FORMAT.equals(meta.get("format"))) throw new IOException(file + ": not a bnnas checkpoint (metadata format is " + meta.get("format") + ")");
        String stored = required(file, meta, "crc32c");
        String actual = crc(loaded.tensors());
        if (!stored.equals(actual)) throw new IOException(file + ": checksum mismatch (stored " + stored + ", data gives " + actual + "): the file is damaged");
        return loaded;
    }

    private static Info info(Path file, SafeTensors.Loaded loaded) throws IOException {
        Map<String, String> meta = loaded.metadata();
        try {
            Kind kind = Kind.valueOf(required(file, meta, "kind").toUpperCase());
            String arch = meta.get("arch");
            if (kind == Kind.STANDALONE && arch == null) throw new IOException(file + ": a standalone checkpoint without its arch");
            return new Info(kind, required(file, meta, "space"), Integer.parseInt(required(file, meta, "in_channels")),
                    Integer.parseInt(required(file, meta, "input_size")), arch == null ? null : Architecture.parse(arch), false);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": bad metadata: " + e.getMessage(), e);
        }
    }

    private static Info foreignInfo(Path file, SafeTensors.Loaded loaded, String space) throws IOException {
        Set<String> names = loaded.tensors().keySet();
        boolean supernet = names.stream().anyMatch(n -> SUPERNET_NAME.matcher(n).matches());
        boolean standalone = names.stream().anyMatch(n -> STANDALONE_NAME.matcher(n).matches());
        if (supernet == standalone) {
            throw new IOException(file + ": neither a bnnas checkpoint nor a state dict of the official supernet (features.L._ops.O.*) "
                    + "or standalone network (features.I.conv.*)");
        }
        TensorData first = loaded.tensors().get(FIRST_CONV);
        if (first == null || first.shape().length != 4) throw new IOException(file + ": no 4-D " + FIRST_CONV + ", the stem's convolution");
        return new Info(supernet ? Kind.SUPERNET : Kind.STANDALONE, space, first.shape()[1], 0, null, true);
    }

    private static String required(Path file, Map<String, String> meta, String key) throws IOException {
        String v = meta.get(key);
        if (v == null) throw new IOException(file + ": metadata has no " + key);
        return v;
    }

    /** CRC-32C over the tensors in name order: name, dtype, shape and little-endian data. */
    static String crc(Map<String, TensorData> tensors) {
        CRC32C crc = new CRC32C();
        for (Map.Entry<String, TensorData> e : new TreeMap<>(tensors).entrySet()) {
            TensorData d = e.getValue();
            crc.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            crc.update((d.dtype() + Arrays.toString(d.shape())).getBytes(StandardCharsets.UTF_8));
            ByteBuffer buf;
            if (d.dtype() == TensorData.DType.F32) {
                float[] v = d.floats();
                buf = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                buf.asFloatBuffer().put(v);
            } else {
                long[] v = d.longs();
                buf = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                buf.asLongBuffer().put(v);
            }
            crc.update(buf);
        }
        return String.format("%08x", crc.getValue());
    }
}
