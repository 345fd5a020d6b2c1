// SearchSpace: a BN-NAS search space read from its JSON file (the schema of spaces/*.json):
// stem, stages of choice layers, candidate ops, fixed identity layers and head.
package org.bnnas.space;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A MobileNetV2-like space: a 3x3 stem conv, one expand-ratio-1 MBConv, then L choice layers in
 * stages (the first layer of a stage carries its stride), each choosing one of the candidate
 * MBConv ops or, on the fixed identity layers, nothing; a 1x1 head conv and a classifier.
 */
public final class SearchSpace {
    /** One candidate op: kernel size and expansion ratio of an MBConv block. */
    public record Op(String name, int kernel, int expand) {}

    /** One choice layer: input and output channels and stride. */
    public record Layer(int index, int in, int out, int stride, boolean fixedIdentity) {}

    public final String name;
    public final int inputChannels, inputSize, classes;
    public final int stemChannels, stemStride, stemBlockKernel, stemBlockOut;
    public final int headChannels;
    public final double dropoutRetrain;
    public final List<Op> ops;
    public final List<Layer> layers;
    /** The FLOPs limit of the search, or 0 when the space sets none. */
    public final double flopsLimit;

    private SearchSpace(JsonObject j, String source) {
        Fields f = new Fields(source);
        name = f.string(j, "name");
        JsonObject input = f.object(j, "input");
        inputChannels = f.positive(input, "input.channels");
        inputSize = f.positive(input, "input.size");
        classes = f.positive(j, "classes");
        JsonObject stem = f.object(j, "stem");
        JsonObject stemConv = f.object(stem, "stem.conv3x3"), stemBlock = f.object(stem, "stem.mbconv_e1");
        stemChannels = f.positive(stemConv, "stem.conv3x3.out");
        stemStride = f.positive(stemConv, "stem.conv3x3.stride");
        stemBlockKernel = f.positive(stemBlock, "stem.mbconv_e1.kernel");
        stemBlockOut = f.positive(stemBlock, "stem.mbconv_e1.out");
        JsonObject head = f.object(j, "head");
        headChannels = f.positive(head, "head.conv1x1");
        dropoutRetrain = head.has("dropout_retrain") ? f.number(head, "head.dropout_retrain") : 0.0;
        List<Op> o = new ArrayList<>();
        JsonArray opList = f.array(j, "ops");
        for (int i = 0; i < opList.size(); i++) {
            JsonObject op = f.element(opList, i, "ops");
            String at = "ops[" + i + "]";
            o.add(new Op(f.string(op, at + ".name"), f.positive(op, at + ".kernel"), f.positive(op, at + ".expand")));
        }
        if (o.isEmpty()) throw f.bad("ops", "is empty");
        ops = Collections.unmodifiableList(o);
        Set<Integer> fixed = new TreeSet<>();
        if (j.has("fixed_identity_layers")) {
            JsonArray fx = f.array(j, "fixed_identity_layers");
            for (int i = 0; i < fx.size(); i++) fixed.add(f.integerAt(fx, i, "fixed_identity_layers"));
        }
        List<Layer> l = new ArrayList<>();
        int c = stemBlockOut;
        JsonArray stages = f.array(j, "stages");
        for (int g = 0; g < stages.size(); g++) {
            JsonObject st = f.element(stages, g, "stages");
            String at = "stages[" + g + "]";
            int out = f.positive(st, at + ".channels"), n = f.positive(st, at + ".layers"), stride = f.positive(st, at + ".stride");
            for (int i = 0; i < n; i++) {
                int idx = l.size();
                int s = i == 0 ? stride : 1;
                boolean identity = fixed.contains(idx);
                if (identity && (s != 1 || c != out)) {
                    throw new IllegalArgumentException(source + ": fixed identity layer " + idx + " changes stride or channels");
                }
                l.add(new Layer(idx, c, out, s, identity));
                c = out;
            }
        }
        layers = Collections.unmodifiableList(l);
        for (int x : fixed) {
            if (x < 0 || x >= layers.size()) throw new IllegalArgumentException(source + ": fixed identity layer " + x + " outside 0.." + (layers.size() - 1));
        }
        flopsLimit = !j.has("flops_limit") || j.get("flops_limit").isJsonNull() ? 0 : f.number(j, "flops_limit");
    }

    /**
     * Reads the fields of a space file; a missing field or one of the wrong kind is an
     * IllegalArgumentException naming the file, the field's path (stem.conv3x3.out, ops[2].kernel)
     * and what was expected.
     */
    private record Fields(String source) {
        IllegalArgumentException bad(String path, String what) {
            return new IllegalArgumentException(source + ": field " + path + " " + what);
        }

        private JsonElement get(JsonObject o, String path) {
            JsonElement e = o.get(path.substring(path.lastIndexOf('.') + 1));
            if (e == null || e.isJsonNull()) throw bad(path, "is missing");
            return e;
        }

        JsonObject object(JsonObject o, String path) {
            JsonElement e = get(o, path);
            if (!e.isJsonObject()) throw bad(path, "must be an object, got " + e);
            return e.getAsJsonObject();
        }

        JsonArray array(JsonObject o, String path) {
            JsonElement e = get(o, path);
            if (!e.isJsonArray()) throw bad(path, "must be an array, got " + e);
            return e.getAsJsonArray();
        }

        JsonObject element(JsonArray a, int i, String path) {
            JsonElement e = a.get(i);
            if (!e.isJsonObject()) throw bad(path + "[" + i + "]", "must be an object, got " + e);
            return e.getAsJsonObject();
        }

        String string(JsonObject o, String path) {
            JsonElement e = get(o, path);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) throw bad(path, "must be a string, got " + e);
            return e.getAsString();
        }

        double number(JsonObject o, String path) {
            JsonElement e = get(o, path);
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) throw bad(path, "must be a number, got " + e);
            return e.getAsDouble();
        }

        int positive(JsonObject o, String path) {
            int v = integer(get(o, path), path);
            if (v < 1) throw bad(path, "must be at least 1, got " + v);
            return v;
        }

        int integerAt(JsonArray a, int i, String path) {
            return integer(a.get(i), path + "[" + i + "]");
        }

        private int integer(JsonElement e, String path) {
            if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
                double d = e.getAsDouble();
                if (d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE) return (int) d;
            }
            throw bad(path, "must be an integer, got " + e);
        }
    }

    /** Parses a space from JSON text; {@code source} names it in error messages. */
    public static SearchSpace parse(String json, String source) {
        try (Reader r = new StringReader(json)) {
            JsonElement e = JsonParser.parseReader(r);
            if (!e.isJsonObject()) throw new IllegalArgumentException(source + ": not a JSON object");
            return new SearchSpace(e.getAsJsonObject(), source);
        } catch (IOException | com.google.gson.JsonParseException e) {
            throw new IllegalArgumentException(source + ": not valid JSON (" + e.getMessage() + ")");
        }
    }

    /** A space by name (bnnas-small, bnnas-28, bnnas-imagenet: shipped with the project) or by file path. */
    public static SearchSpace load(String nameOrFile) {
        InputStream in = SearchSpace.class.getResourceAsStream("/spaces/" + nameOrFile + ".json");
        try {
            if (in != null) {
                try (in) {
                    return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), nameOrFile);
                }
            }
            Path p = Path.of(nameOrFile);
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException(nameOrFile + ": no such space (built in: bnnas-small, bnnas-28, bnnas-imagenet) and no such file");
            }
            return parse(Files.readString(p), p.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException(nameOrFile + ": cannot read (" + e.getMessage() + ")");
        }
    }

    public int numLayers() {
        return layers.size();
    }

    /** Checks an architecture (op index per layer, -1 for identity) against this space. */
    public void validate(int[] arch) {
        if (arch.length != layers.size()) {
            throw new IllegalArgumentException("arch: " + arch.length + " layers, the space " + name + " has " + layers.size());
        }
        for (Layer l : layers) {
            int a = arch[l.index()];
            if (l.fixedIdentity() && a != -1) throw new IllegalArgumentException("arch: layer " + l.index() + " is a fixed identity layer and must be -1, got " + a);
            if (!l.fixedIdentity() && (a < 0 || a >= ops.size())) {
                throw new IllegalArgumentException("arch: layer " + l.index() + " needs an op in 0.." + (ops.size() - 1) + ", got " + a);
            }
        }
    }
}
