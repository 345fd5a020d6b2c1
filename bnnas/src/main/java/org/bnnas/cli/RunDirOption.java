// RunDirOption: the --out option of the commands that write a run directory, the directory it names,
// and --config, the replay of such a run.
package org.bnnas.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import org.bnnas.experiment.RunDir;
import picocli.CommandLine.Option;

/** A picocli mixin. */
final class RunDirOption {
    @Option(names = "--out", paramLabel = "DIR", description = "Run directory (default: runs/<command>-<timestamp>).")
    Path out;

    /** Documents the replay; Main has expanded it into the recorded arguments before picocli parses (see Replay). */
    @Option(names = Replay.OPTION, paramLabel = "RUN/config.json", description = "Run with the arguments an earlier run recorded in its "
            + "config.json; options given beside it override them; its --out and --resume are not taken.")
    Path config;

    /** Whether --out was given (a --resume needs the directory to continue). */
    boolean given() {
        return out != null;
    }

    /** The run directory: --out, or runs/<command>-<timestamp>. */
    RunDir create(String command) {
        Path dir = out != null ? out : Path.of("runs", command + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        return new RunDir(dir);
    }
}
