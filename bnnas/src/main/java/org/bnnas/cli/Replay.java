// Replay: `bnnas CMD --config RUN/config.json [OPTIONS]` runs CMD again with the arguments that
// run's config.json recorded, the options given beside --config overriding them.
package org.bnnas.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The recorded arguments come first and the new ones after, so that picocli (told to accept an
 * option given twice) keeps the new value. The recorded --out and --resume are dropped: a replay
 * writes a run directory of its own, named by --out beside --config or by default.
 */
final class Replay {
    static final String OPTION = "--config";

    private Replay() {}

    /** The arguments to run: {@code args} itself when it has no --config, else the expansion. */
    static String[] expand(String[] args) {
        int at = -1;
        for (int i = 0; i < args.length; i++) {
            if (!args[i].equals(OPTION) && !args[i].startsWith(OPTION + "=")) continue;
            if (at >= 0) fail("--config is given twice");
            at = i;
        }
        if (at < 0) return args;
        if (at == 0) fail("--config comes after the command it replays, e.g. bnnas search --config RUN/config.json");
        boolean inline = args[at].startsWith(OPTION + "=");
        if (!inline && at + 1 >= args.length) fail("--config needs a run's config.json");
        Path file = Path.of(inline ? args[at].substring(OPTION.length() + 1) : args[at + 1]);
        List<String> saved = recorded(file, args[0]);
        List<String> out = new ArrayList<>();
        out.add(args[0]);
        for (int i = 0; i < saved.size(); i++) {
            String a = saved.get(i);
            if (a.equals("--out")) {
                i++;
            } else if (!a.startsWith("--out=") && !a.equals("--resume") && !a.equals("--overwrite")) {
                out.add(a);
            }
        }
        for (int i = 1; i < args.length; i++) if (i != at && !(i == at + 1 && !inline)) out.add(args[i]);
        return out.toArray(String[]::new);
    }

    /** The arguments {@code file} recorded, checked to belong to {@code command}. */
    private static List<String> recorded(Path file, String command) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return fail("--config " + file + ": cannot read it (" + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()) + ")");
        }
        try {
            JsonObject o = JsonParser.parseString(text).getAsJsonObject();
            if (!o.has("command") || !o.has("argv")) fail("--config " + file + ": not a run's config.json (it has no \"command\" and \"argv\")");
            String recordedCommand = o.get("command").getAsString();
            if (!recordedCommand.equals(command)) fail("--config " + file + " is the configuration of bnnas " + recordedCommand + ", not of bnnas " + command);
            JsonArray argv = o.getAsJsonArray("argv");
            List<String> out = new ArrayList<>();
            for (int i = 0; i < argv.size(); i++) out.add(argv.get(i).getAsString());
            return out;
        } catch (JsonParseException | IllegalStateException | ClassCastException | UnsupportedOperationException e) {
            return fail("--config " + file + ": not a run's config.json (" + e.getMessage() + ")");
        }
    }

    private static <T> T fail(String message) {
        throw new CliException(message);
    }
}
