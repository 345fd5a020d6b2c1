// RunDirOption: the --out option of the commands that write a run directory, the directory it names
// (claimed for the run: locked, and refused when it holds an earlier run unless --resume or
// --overwrite says what to do with it), and --config, the replay of such a run.
package org.bnnas.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import org.bnnas.experiment.RunDir;
import picocli.CommandLine.Option;

/** A picocli mixin. */
final class RunDirOption {
    @Option(names = "--out", paramLabel = "DIR", description = "Run directory (default: runs/<command>-<timestamp>). A directory that holds an "
            + "earlier run is refused unless --resume or --overwrite says what to do with it.")
    Path out;

    @Option(names = "--overwrite", description = "Delete the earlier run that --out holds and start afresh.")
    boolean overwrite;

    /** Documents the replay; Main has expanded it into the recorded arguments before picocli parses (see Replay). */
    @Option(names = Replay.OPTION, paramLabel = "RUN/config.json", description = "Run with the arguments an earlier run recorded in its "
            + "config.json; options given beside it override them; its --out, --resume and --overwrite are not taken.")
    Path config;

    /** Whether --out was given (a --resume needs the directory to continue). */
    boolean given() {
        return out != null;
    }

    /** The run directory of a command that cannot continue a run: --out, or runs/<command>-<timestamp>. */
    RunDir create(String command) {
        return claim(command, RunDir.Claim.NEW, "--overwrite replaces it (" + command + " does not continue a run)");
    }

    /** Checks a resumable command's --resume against --out and --overwrite, before the command does any work. */
    void check(boolean resume) {
        if (resume && overwrite) throw new CliException("--resume and --overwrite: choose one (continue the run in --out, or replace it)");
        if (resume && !given()) throw new CliException("--resume needs --out DIR, the run to continue");
    }

    /** The run directory of a command that can continue a run in it when {@code resume} (its --resume). */
    RunDir create(String command, boolean resume) {
        check(resume);
        return claim(command, resume ? RunDir.Claim.RESUME : RunDir.Claim.NEW, null);
    }

    private RunDir claim(String command, RunDir.Claim how, String instead) {
        Path dir = out != null ? out : Path.of("runs", command + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        try {
            return RunDir.claim(dir, overwrite ? RunDir.Claim.OVERWRITE : how);
        } catch (RunDir.ClaimRefused e) {
            String message = e.getMessage();
            if (instead != null) message = message.replace("--resume continues it, --overwrite replaces it", instead);
            throw new CliException("--out " + message);
        }
    }
}
