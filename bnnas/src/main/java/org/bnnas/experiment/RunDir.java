// RunDir: the directory a command writes: config.json, metrics.jsonl, results.json, checkpoints
// and plots, every file written atomically.
package org.bnnas.experiment;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One run's directory. metrics.jsonl gets one JSON object per line (an epoch of training, a
 * generation of search), appended as they finish; everything else is replaced whole through a
 * temporary file and a rename, so an interrupted run never leaves a half-written file.
 */
public final class RunDir {
    public static final Gson JSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().disableHtmlEscaping().create();
    /** One JSON object per line, as metrics.jsonl and the other line files hold them. */
    public static final Gson LINE = new GsonBuilder().serializeSpecialFloatingPointValues().disableHtmlEscaping().create();

    public final Path dir;

    public RunDir(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(dir + ": cannot create the run directory (" + e.getMessage() + ")", e));
        }
    }

    public Path file(String name) {
        return dir.resolve(name);
    }

    /** Writes {@code value} as pretty JSON to {@code name}, atomically. */
    public void writeJson(String name, Object value) {
        writeText(name, JSON.toJson(value) + "\n");
    }

    public void writeText(String name, String text) {
        writeAtomically(file(name), text.getBytes(StandardCharsets.UTF_8));
    }

    /** Appends one metrics line: {@code {"stage": stage, ...fields}}. */
    public void appendMetrics(String stage, Map<String, Object> fields) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("stage", stage);
        line.putAll(fields);
        appendLine("metrics.jsonl", line);
    }

    /** Appends one JSON object as a line of {@code name} (the results files of `bnnas reproduce`). */
    public void appendLine(String name, Map<String, Object> fields) {
        try {
            Files.writeString(file(name), LINE.toJson(fields) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(file(name) + ": cannot append (" + e.getMessage() + ")", e));
        }
    }

    /** Every JSON object of the lines of {@code name} (none if it does not exist); a line cut off by a kill is skipped. */
    public List<JsonObject> metricsFile(String name) {
        Path f = file(name);
        List<JsonObject> out = new ArrayList<>();
        if (!Files.exists(f)) return out;
        try {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                try {
                    out.add(JsonParser.parseString(line).getAsJsonObject());
                } catch (RuntimeException e) {
                    // the piece it described was not finished and is done again
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /**
     * The metrics lines of {@code stage}, in file order, keeping only the last line for each
     * value of {@code key} (a resumed run may repeat an epoch that was cut short).
     */
    public List<JsonObject> metrics(String stage, String key) {
        Map<String, JsonObject> byKey = new LinkedHashMap<>();
        for (JsonObject o : metricsFile("metrics.jsonl")) {
            if (o.has("stage") && o.get("stage").getAsString().equals(stage) && o.has(key)) {
                byKey.remove(o.get(key).getAsString());
                byKey.put(o.get(key).getAsString(), o);
            }
        }
        return new ArrayList<>(byKey.values());
    }

    public static void writeAtomically(Path target, byte[] bytes) {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the original error is the one to report
            }
            throw new UncheckedIOException(new IOException(target + ": cannot write (" + e.getMessage() + ")", e));
        }
    }
}
