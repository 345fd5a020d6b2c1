// CheckpointOption: what the commands that take --checkpoint read from it: its description,
// checked against --space, and the architecture it holds, from the file where the file says it
// (bnnas wrote it) and from --arch where it cannot (a supernet's path; a standalone network that
// PyTorch wrote with the official names and no metadata).
package org.bnnas.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;
import org.bnnas.train.Checkpoint;

final class CheckpointOption {
    private CheckpointOption() {}

    /** The checkpoint's description; a file of another space is refused (a file without metadata is taken to be --space's). */
    static Checkpoint.Info read(Path checkpoint, SearchSpace space) {
        Checkpoint.Info info;
        try {
            info = Checkpoint.readInfo(checkpoint, space.name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!info.space().equals(space.name)) throw new CliException("--checkpoint " + checkpoint + " belongs to space " + info.space() + ", not " + space.name);
        return info;
    }

    /**
     * The architecture to use: a supernet needs {@code given} (which path); a standalone network
     * holds its own, which {@code given}, if any, must match; one written without bnnas metadata
     * says nothing, so {@code given} is required.
     */
    static int[] architecture(Path checkpoint, Checkpoint.Info info, List<int[]> given, SearchSpace space) {
        if (info.kind() == Checkpoint.Kind.SUPERNET || info.arch() == null) {
            if (given.isEmpty()) {
                throw new CliException("--arch is required with " + checkpoint + " (" + (info.kind() == Checkpoint.Kind.SUPERNET
                        ? "a supernet: which path" : "a standalone network written without bnnas metadata, which does not say its architecture") + ")");
            }
            if (info.kind() == Checkpoint.Kind.STANDALONE && given.stream().map(Architecture::key).distinct().count() > 1) {
                throw new CliException("--arch: " + checkpoint + " is one standalone network, so one architecture, not " + given.size());
            }
            return given.get(0);
        }
        int[] own = info.arch();
        space.validate(own);
        for (int[] g : given) {
            if (!Arrays.equals(g, own)) {
                throw new CliException("--arch " + Architecture.format(g) + " differs from the architecture of " + checkpoint + ", " + Architecture.format(own));
            }
        }
        return own;
    }
}
