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
        try {
            name = j.get("name").getAsString();
            JsonObject input = j.getAsJsonObject("input");
            inputChannels = input.get("channels").getAsInt();
            inputSize = input.get("size").getAsInt();
            classes = j.get("classes").getAsInt();
            JsonObject stem = j.getAsJsonObject("stem");
            stemChannels = stem.getAsJsonObject("conv3x3").get("out").getAsInt();
            stemStride = stem.getAsJsonObject("conv3x3").get("stride").getAsInt();
            stemBlockKernel = stem.getAsJsonObject("mbconv_e1").get("kernel").getAsInt();
            stemBlockOut = stem.getAsJsonObject("mbconv_e1").get("out").getAsInt();
            JsonObject head = j.getAsJsonObject("head");
            headChannels = head.get("conv1x1").getAsInt();
            dropoutRetrain = head.has("dropout_retrain") ? head.get("dropout_retrain").getAsDouble() : 0.0;
            List<Op> o = new ArrayList<>();
            for (JsonElement e : j.getAsJsonArray("ops")) {
                JsonObject op = e.getAsJsonObject();
                o.add(new Op(op.get("name").getAsString(), op.get("kernel").getAsInt(), op.get("expand").getAsInt()));
            }
            ops = Collections.unmodifiableList(o);
            Set<Integer> fixed = new TreeSet<>();
            JsonArray fx = j.getAsJsonArray("fixed_identity_layers");
            if (fx != null) for (JsonElement e : fx) fixed.add(e.getAsInt());
            List<Layer> l = new ArrayList<>();
            int c = stemBlockOut;
            for (JsonElement e : j.getAsJsonArray("stages")) {
                JsonObject st = e.getAsJsonObject();
                int out = st.get("channels").getAsInt(), n = st.get("layers").getAsInt(), stride = st.get("stride").getAsInt();
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
            for (int f : fixed) {
                if (f < 0 || f >= layers.size()) throw new IllegalArgumentException(source + ": fixed identity layer " + f + " outside 0.." + (layers.size() - 1));
            }
            JsonElement lim = j.get("flops_limit");
            flopsLimit = lim == null || lim.isJsonNull() ? 0 : lim.getAsDouble();
        } catch (NullPointerException | IllegalStateException | ClassCastException | UnsupportedOperationException e) {
            throw new IllegalArgumentException(source + ": not a valid search space (" + e.getMessage() + ")");
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

    /** A space by name (bnnas-small, bnnas-imagenet: shipped with the project) or by file path. */
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
                throw new IllegalArgumentException(nameOrFile + ": no such space (built in: bnnas-small, bnnas-imagenet) and no such file");
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
