// RunDir: the directory a command writes: config.json, metrics.jsonl, results.json, checkpoints
// and plots, every file written atomically.
package org.bnnas.experiment;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One run's directory. metrics.jsonl gets one JSON object per line (an epoch of training, a
 * generation of search), appended as they finish; everything else is replaced whole through a
 * temporary file and a rename, so an interrupted run never leaves a half-written file.
 *
 * <p>A command takes its directory with {@link #claim}: it holds an exclusive OS lock on the
 * directory's lock file for as long as it runs (the OS drops it when the process ends, however it
 * ends, so nothing stale is left), and refuses a directory that already holds a run unless told to
 * continue or to replace it.
 */
public final class RunDir {
    /** The lock file of a claimed directory; it holds the PID of the process that claimed it. */
    public static final String LOCK_FILE = ".bnnas.lock";

    /** What to do with a directory that already holds a run. */
    public enum Claim {
        /** Refuse it: a new run needs a directory that is new or empty. */
        NEW,
        /** Continue it. */
        RESUME,
        /** Delete what it holds and start afresh. */
        OVERWRITE
    }

    /** A claim that cannot be granted: the directory holds a run, holds other files, or another process runs in it. */
    public static final class ClaimRefused extends IllegalArgumentException {
        ClaimRefused(String message) {
            super(message);
        }
    }

    /** The locks this process holds, released by {@link #releaseClaims} (or by the OS when it ends), and the directories they lock. */
    private static final List<FileChannel> CLAIMS = new ArrayList<>();
    private static final List<Path> CLAIMED = new ArrayList<>();
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

    /**
     * Locks {@code dir} for this process (creating it) and checks what it holds: nothing (or only
     * the lock file) is a new run; a config.json marks an earlier run, which {@code how} must
     * resume or overwrite; anything else is not a run directory and is never touched. A directory
     * locked by another process is refused with that process's PID.
     */
    public static RunDir claim(Path dir, Claim how) {
        RunDir run = new RunDir(dir);
        Path lockFile = run.file(LOCK_FILE);
        FileChannel channel;
        FileLock lock;
        try {
            channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(lockFile + ": cannot open the lock file (" + e.getMessage() + ")", e));
        }
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // this process holds it already
        } catch (IOException e) {
            closeQuietly(channel);
            throw new UncheckedIOException(new IOException(lockFile + ": cannot lock (" + e.getMessage() + ")", e));
        }
        if (lock == null) {
            String holder = holder(lockFile);
            closeQuietly(channel);
            throw new ClaimRefused(dir + " is in use by another bnnas run (" + holder + "): wait for it to end or choose another directory");
        }
        try {
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(false);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new UncheckedIOException(new IOException(lockFile + ": cannot write (" + e.getMessage() + ")", e));
        }
        synchronized (CLAIMS) {
            CLAIMS.add(channel);
            CLAIMED.add(dir);
        }
        List<Path> held = run.entries();
        if (held.isEmpty()) return run;
        if (!Files.exists(run.file("config.json"))) {
            throw new ClaimRefused(dir + " is not empty and holds no bnnas run (no config.json): choose a new or empty directory");
        }
        switch (how) {
            case NEW -> throw new ClaimRefused(dir + " holds a run already: --resume continues it, --overwrite replaces it");
            case OVERWRITE -> {
                for (Path p : held) deleteTree(p);
            }
            case RESUME -> { }
        }
        return run;
    }

    /** The process that holds a lock file, as the file names it. */
    private static String holder(Path lockFile) {
        try {
            String pid = Files.readString(lockFile, StandardCharsets.UTF_8).strip();
            return pid.isEmpty() ? "a process starting up" : "PID " + pid;
        } catch (IOException e) {
            return "a process whose PID cannot be read";
        }
    }

    /** Releases every directory this process has claimed (the CLI does so when a command ends). */
    public static void releaseClaims() {
        synchronized (CLAIMS) {
            CLAIMS.forEach(RunDir::closeQuietly);
            CLAIMS.clear();
            CLAIMED.clear();
        }
    }

    /** The directory this process claimed last, or null (where an internal error's trace goes). */
    public static Path claimedDirectory() {
        synchronized (CLAIMS) {
            return CLAIMED.isEmpty() ? null : CLAIMED.get(CLAIMED.size() - 1);
        }
    }

    private static void closeQuietly(FileChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing releases the lock; there is nothing else to do
        }
    }

    /** What the directory holds besides its lock file. */
    private List<Path> entries() {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().equals(LOCK_FILE)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(dir + ": cannot list (" + e.getMessage() + ")", e));
        }
    }

    private static void deleteTree(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(p + ": cannot delete (" + e.getMessage() + ")", e));
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
