// TorchScriptExport: writes the official network as TorchScript for the libtorch peer, by running
// benchmarks/pytorch_peer.py --export-torchscript with Debian's PyTorch (/usr/bin/python3).
package org.bnnas.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bnnas.space.SearchSpace;

/**
 * The files LibtorchWorkload loads: DIR/supernet-SPACE.pt (forward(x, arch)) and
 * DIR/standalone-SPACE.pt (the first bench path's standalone network, forward(x)). The space and
 * path files handed to the script are the ones inside this jar, so the exported network is the one
 * our benchmarks build, whatever the working directory.
 */
public final class TorchScriptExport {
    /** The Python the project's PyTorch peer runs on (Debian's python3-torch). */
    public static final String PYTHON = "/usr/bin/python3";

    private TorchScriptExport() {}

    public static Path supernet(Path dir, String space) {
        return dir.resolve("supernet-" + space + ".pt");
    }

    public static Path standalone(Path dir, String space) {
        return dir.resolve("standalone-" + space + ".pt");
    }

    /** Whether {@link #PYTHON} imports torch, which the export needs. */
    public static boolean pythonHasTorch() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false; // no such program
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Exports both networks of {@code space} into {@code dir} (created if missing); fails with the script's output. */
    public static void export(String space, Path dir) {
        try {
            Files.createDirectories(dir);
            Path spaceFile = resource("/spaces/" + space + ".json", dir.resolve(space + ".json"));
            Path archs = resource("/spaces/bench-archs.json", dir.resolve("bench-archs.json"));
            Path script = repositoryRoot().resolve("benchmarks/pytorch_peer.py");
            List<String> cmd = List.of(PYTHON, script.toString(), "--space", spaceFile.toString(), "--archs", archs.toString(),
                    "--threads", "1", "--export-torchscript", dir.toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("TorchScript export timed out: " + String.join(" ", cmd));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("TorchScript export failed (" + String.join(" ", cmd) + ", exit " + p.exitValue()
                        + "; it needs Debian's PyTorch: apt-get install python3-torch):\n" + output);
            }
        } catch (IOException e) {
            throw new IllegalStateException("TorchScript export: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("TorchScript export interrupted", e);
        }
    }

    private static Path resource(String name, Path out) throws IOException {
        try (InputStream in = SearchSpace.class.getResourceAsStream(name)) {
            if (in == null) throw new IOException("no resource " + name);
            Files.write(out, in.readAllBytes());
        }
        return out;
    }

    /**
     * The checkout that holds benchmarks/pytorch_peer.py: -Dbnnas.repo if set, else the nearest
     * folder above the working directory or above this class's jar (benchmarks/target/benchmarks.jar,
     * or target/classes under tests) that holds it.
     */
    static Path repositoryRoot() {
        String set = System.getProperty("bnnas.repo");
        if (set != null && !set.isBlank()) return Path.of(set);
        Path fromCode = null;
        try {
            fromCode = Path.of(TorchScriptExport.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            // no code location: the working directory alone is searched
        }
        for (Path start : new Path[] {Path.of("").toAbsolutePath(), fromCode}) {
            for (Path d = start; d != null; d = d.getParent()) {
                if (Files.isRegularFile(d.resolve("benchmarks/pytorch_peer.py"))) return d;
            }
        }
        throw new IllegalStateException("cannot find benchmarks/pytorch_peer.py above " + Path.of("").toAbsolutePath()
                + (fromCode == null ? "" : " or " + fromCode) + "; run from the checkout or set -Dbnnas.repo=DIR");
    }
}
