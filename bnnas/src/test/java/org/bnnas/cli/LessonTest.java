// LessonTest: every command docs/lesson.md shows runs, on a tiny budget, so that none of them rots:
// each `bin/bnnas ...` line of its code blocks, run in this process with the tiny generated data
// set and a small batch where the command trains.
package org.bnnas.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bnnas.data.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LessonTest {
    static final Path LESSON = Path.of("../docs/lesson.md");
    /** The commands that train, and the options that make them tiny. */
    static final List<String> TRAINING = List.of("convergence", "train-supernet", "run", "retrain");

    @TempDir
    Path dir;

    /** The `bin/bnnas ...` lines of the lesson's code blocks, each as its arguments. */
    static List<List<String>> commands() throws IOException {
        List<List<String>> out = new ArrayList<>();
        boolean code = false;
        for (String line : Files.readAllLines(LESSON)) {
            if (line.startsWith("```")) code = !code;
            else if (code && line.startsWith("bin/bnnas ")) out.add(new ArrayList<>(List.of(line.substring("bin/bnnas ".length()).strip().split("\\s+"))));
        }
        return out;
    }

    @Test
    void everyCommandOfTheLessonRuns() throws IOException {
        Path data = TestFiles.idxDir(Files.createDirectories(dir.resolve("data")), 300, 100);
        List<List<String>> commands = commands();
        assertTrue(commands.size() >= 5, "the lesson's steps: " + commands);
        int n = 0;
        for (List<String> c : commands) {
            List<String> args = new ArrayList<>();
            for (String a : c) args.add(a.startsWith("docs/") ? "../" + a : a); // the tests run in bnnas/, the lesson from the repository root
            if (TRAINING.contains(args.get(0))) {
                args.addAll(List.of("--data-dir", data.toString(), "--validation-size", "100", "--batch-size", "50", "--out", dir.resolve("run" + n++).toString()));
                if (args.get(0).equals("convergence")) args.addAll(List.of("--every", "0.5"));
            }
            StringWriter out = new StringWriter(), err = new StringWriter();
            int code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(String[]::new));
            assertEquals(0, code, "bin/bnnas " + String.join(" ", c) + ":\n" + err);
        }
    }
}
