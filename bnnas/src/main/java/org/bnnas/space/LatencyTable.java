// LatencyTable: the measured forward time of every op of every choice layer of a space and of the
// network's fixed parts, on one machine at one batch size; an architecture's predicted latency is
// their sum. Read and written as JSON.
package org.bnnas.space;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code opMs[layer][op]} is the median forward time in milliseconds of that op's block at that
 * layer (null for fixed identity layers); {@code fixedMs} that of the parts every architecture
 * has (stem, stem block, head, pooling and classifier). An identity costs nothing. {@code machine}
 * describes where it was measured (CPU, cores, threads, JDK, device) for whoever reads the file.
 */
public record LatencyTable(String space, String device, int batch, int inChannels, int inputSize, double fixedMs, double[][] opMs,
                           Map<String, Object> machine) {
    public LatencyTable {
        if (batch < 1) throw new IllegalArgumentException("latency table: batch must be at least 1, got " + batch);
        if (!(fixedMs >= 0)) throw new IllegalArgumentException("latency table: fixed part's time must be >= 0, got " + fixedMs);
        for (double[] row : opMs) {
            if (row == null) continue;
            for (double v : row) if (!(v >= 0) || Double.isInfinite(v)) throw new IllegalArgumentException("latency table: an op's time must be finite and >= 0, got " + v);
        }
        machine = Map.copyOf(machine);
    }

    /** The predicted forward time of {@code arch} in milliseconds: the fixed parts plus each chosen op. */
    public double predictMs(int[] arch) {
        if (arch.length != opMs.length) throw new IllegalArgumentException("latency table: architecture has " + arch.length + " layers, the table " + opMs.length);
        double ms = fixedMs;
        for (int l = 0; l < arch.length; l++) if (arch[l] >= 0) ms += opMs[l][arch[l]];
        return ms;
    }

    /** The file's content: space, device, batch, input, machine, fixed part, and per layer the op names with their times. */
    public Map<String, Object> describe(SearchSpace s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("space", space);
        m.put("device", device);
        m.put("batch", batch);
        m.put("input", List.of(inChannels, inputSize, inputSize));
        m.put("unit", "ms, median forward time");
        m.put("machine", new LinkedHashMap<>(machine));
        m.put("fixed_ms", fixedMs);
        List<Object> layers = new ArrayList<>();
        for (SearchSpace.Layer l : s.layers) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("index", l.index());
            if (l.fixedIdentity()) {
                row.put("fixed_identity", true);
            } else {
                Map<String, Object> ops = new LinkedHashMap<>();
                for (int o = 0; o < s.ops.size(); o++) ops.put(s.ops.get(o).name(), opMs[l.index()][o]);
                row.put("ops_ms", ops);
            }
            layers.add(row);
        }
        m.put("layers", layers);
        return m;
    }

    /** Writes the table through a temporary file and a rename. */
    public void write(Path file, SearchSpace s) {
        if (!s.name.equals(space)) throw new IllegalArgumentException("latency table of space " + space + " written as " + s.name);
        String json = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(describe(s)) + "\n";
        Path tmp = file.toAbsolutePath().resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, json, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(file + ": cannot write (" + e.getMessage() + ")", e));
        }
    }

    /** Reads a table written by {@link #write} and checks it against {@code s}: its space, every layer, every op; the message names the file. */
    public static LatencyTable read(Path file, SearchSpace s) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(file + ": cannot read the latency table (" + e.getMessage() + ")", e));
        }
        try {
            JsonObject o = JsonParser.parseString(text).getAsJsonObject();
            String space = required(o, "space", file).getAsString();
            if (!space.equals(s.name)) throw new IllegalArgumentException(file + ": a latency table of space " + space + ", not " + s.name);
            var input = required(o, "input", file).getAsJsonArray();
            var layers = required(o, "layers", file).getAsJsonArray();
            if (layers.size() != s.numLayers()) throw new IllegalArgumentException(file + ": " + layers.size() + " layers, space " + s.name + " has " + s.numLayers());
            double[][] opMs = new double[s.numLayers()][];
            for (SearchSpace.Layer l : s.layers) {
                JsonObject row = layers.get(l.index()).getAsJsonObject();
                if (l.fixedIdentity()) continue;
                JsonObject ops = required(row, "ops_ms", file).getAsJsonObject();
                opMs[l.index()] = new double[s.ops.size()];
                for (int op = 0; op < s.ops.size(); op++) {
                    String name = s.ops.get(op).name();
                    if (!ops.has(name)) throw new IllegalArgumentException(file + ": layer " + l.index() + " has no time for op " + name);
                    opMs[l.index()][op] = ops.get(name).getAsDouble();
                }
                if (ops.size() != s.ops.size()) throw new IllegalArgumentException(file + ": layer " + l.index() + " has ops that space " + s.name + " does not have");
            }
            Map<String, Object> machine = new LinkedHashMap<>();
            if (o.has("machine")) for (Map.Entry<String, JsonElement> e : o.getAsJsonObject("machine").entrySet()) machine.put(e.getKey(), e.getValue().isJsonPrimitive() ? e.getValue().getAsString() : e.getValue().toString());
            return new LatencyTable(space, required(o, "device", file).getAsString(), required(o, "batch", file).getAsInt(), input.get(0).getAsInt(),
                    input.get(1).getAsInt(), required(o, "fixed_ms", file).getAsDouble(), opMs, machine);
        } catch (JsonParseException | IllegalStateException | UnsupportedOperationException | NumberFormatException | IndexOutOfBoundsException e) {
            throw new IllegalArgumentException(file + ": not a latency table (" + e.getMessage() + ")");
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(file.toString()) ? e : new IllegalArgumentException(file + ": " + e.getMessage());
        }
    }

    private static JsonElement required(JsonObject o, String key, Path file) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) throw new IllegalArgumentException(file + ": the latency table has no \"" + key + "\"");
        return e;
    }
}
