// Architecture: a single path of a search space as op indices per choice layer, -1 for identity,
// in the official code's order; parsing (indices, op names or an architecture file), formatting,
// the architecture file, and uniform sampling.
package org.bnnas.space;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bnnas.engine.tensor.Rng;

/**
 * Architectures are written as op indices joined by commas ("3,-1,0,4,..."), as op names
 * ("k5e3,identity,k3e3,..."), the two mixed, or as "@FILE", an architecture file: JSON with the
 * space's name, the op name of every layer, the indices, FLOPs and parameters (see {@link #write}).
 */
public final class Architecture {
    /** The name of the identity op (-1) in op-name lists and architecture files. */
    public static final String IDENTITY = "identity";

    private Architecture() {}

    /**
     * Parses indices, op names or "@FILE" and checks the result against the space; the message
     * names the text (or the file) and what is wrong.
     */
    public static int[] parse(String text, SearchSpace space) {
        String t = text.trim();
        if (t.startsWith("@")) return read(Path.of(t.substring(1)), space);
        String[] parts = t.split("\\s*,\\s*");
        int[] arch = new int[parts.length];
        for (int i = 0; i < parts.length; i++) arch[i] = op(parts[i], space, "arch '" + text + "'", i);
        space.validate(arch);
        return arch;
    }

    /** The index of one layer's op written as an index or a name. */
    private static int op(String part, SearchSpace space, String where, int layer) {
        if (part.equals(IDENTITY)) return -1;
        for (int o = 0; o < space.ops.size(); o++) if (space.ops.get(o).name().equals(part)) return o;
        try {
            return Integer.parseInt(part);
        } catch (NumberFormatException e) {
            List<String> names = new ArrayList<>();
            space.ops.forEach(o -> names.add(o.name()));
            names.add(IDENTITY);
            throw new IllegalArgumentException(where + ": '" + part + "' at position " + layer + " is neither an op index nor an op of " + space.name
                    + " (" + String.join(", ", names) + ")");
        }
    }

    /** The architecture of an architecture file, checked against the space (whose name the file must carry). */
    public static int[] read(Path file, SearchSpace space) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(file + ": cannot read the architecture file (" + e.getMessage() + ")", e));
        }
        try {
            JsonObject o = JsonParser.parseString(text).getAsJsonObject();
            if (o.has("space") && !o.get("space").getAsString().equals(space.name)) {
                throw new IllegalArgumentException(file + ": an architecture of space " + o.get("space").getAsString() + ", not " + space.name);
            }
            JsonArray layers = o.has("layers") ? o.getAsJsonArray("layers") : o.getAsJsonArray("indices");
            if (layers == null) throw new IllegalArgumentException(file + ": an architecture file needs \"layers\" (op names) or \"indices\"");
            int[] arch = new int[layers.size()];
            for (int i = 0; i < arch.length; i++) arch[i] = op(layers.get(i).getAsString(), space, file.toString(), i);
            if (o.has("layers") && o.has("indices")) {
                JsonArray idx = o.getAsJsonArray("indices");
                for (int i = 0; i < arch.length && i < idx.size(); i++) {
                    if (idx.get(i).getAsInt() != arch[i]) {
                        throw new IllegalArgumentException(file + ": layer " + i + " is " + layers.get(i).getAsString() + " but index " + idx.get(i).getAsInt());
                    }
                }
            }
            try {
                space.validate(arch);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage());
            }
            return arch;
        } catch (JsonParseException | IllegalStateException | UnsupportedOperationException | NumberFormatException e) {
            throw new IllegalArgumentException(file + ": not an architecture file (" + e.getMessage() + ")");
        }
    }

    /** An architecture file's content: space, layers (op names), indices, flops and params at the given input. */
    public static Map<String, Object> describe(SearchSpace space, int[] arch, int inChannels, int inputSize) {
        Cost cost = Cost.of(space, arch, inChannels, inputSize);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("space", space.name);
        List<String> names = new ArrayList<>();
        for (int a : arch) names.add(a < 0 ? IDENTITY : space.ops.get(a).name());
        m.put("layers", names);
        m.put("indices", arch.clone());
        m.put("flops", cost.flops());
        m.put("params", cost.params());
        m.put("input", List.of(inChannels, inputSize, inputSize));
        return m;
    }

    /** Writes the architecture file of {@code arch} (see {@link #describe}), through a temporary file and a rename. */
    public static void write(Path file, SearchSpace space, int[] arch, int inChannels, int inputSize) {
        String json = new GsonBuilder().setPrettyPrinting().create().toJson(describe(space, arch, inChannels, inputSize)) + "\n";
        Path tmp = file.toAbsolutePath().resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, json, StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(file + ": cannot write (" + e.getMessage() + ")", e));
        }
    }

    /** Parses "3,-1,0,..." without a space to check it against. */
    public static int[] parse(String text) {
        String[] parts = text.trim().split("\\s*,\\s*");
        int[] arch = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                arch[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("arch '" + text + "': '" + parts[i] + "' at position " + i + " is not an integer");
            }
        }
        return arch;
    }

    public static String format(int[] arch) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < arch.length; i++) b.append(i == 0 ? "" : ",").append(arch[i]);
        return b.toString();
    }

    /** One op per choice layer, uniformly at random; -1 on the fixed identity layers. */
    public static int[] sample(SearchSpace space, Rng rng) {
        int[] arch = new int[space.numLayers()];
        for (SearchSpace.Layer l : space.layers) arch[l.index()] = l.fixedIdentity() ? -1 : rng.nextInt(space.ops.size());
        return arch;
    }

    /** A key for sets of architectures. */
    public static String key(int[] arch) {
        return Arrays.toString(arch);
    }
}
