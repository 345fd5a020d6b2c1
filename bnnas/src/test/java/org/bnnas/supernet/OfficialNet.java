// OfficialNet: the official network in PyTorch (src/test/python/official_net.py) as the tests run
// it: the python3 that imports torch, the script's commands, and networks it writes as PyTorch
// writes a state dict (the official names, no bnnas metadata).
package org.bnnas.supernet;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.bnnas.space.Architecture;
import org.bnnas.space.SearchSpace;

public final class OfficialNet {
    public static final Path SCRIPT = Path.of("src/test/python/official_net.py");
    private static String python;

    private OfficialNet() {}

    /**
     * A python3 that imports torch. Where there is none the calling test is skipped, except where
     * BNNAS_REQUIRE_TORCH is set (CI installs Debian's python3-torch and sets it): there it fails.
     */
    public static synchronized String python() throws InterruptedException {
        if (python != null) return python;
        for (String candidate : List.of("/usr/bin/python3", "python3")) {
            if (exitCode(List.of(candidate, "-c", "import torch")) == 0) return python = candidate;
        }
        if (System.getenv("BNNAS_REQUIRE_TORCH") != null) fail("BNNAS_REQUIRE_TORCH is set, but no python3 here imports torch");
        assumeTrue(false, "no python3 with PyTorch here (apt-get install python3-torch)");
        return null;
    }

    /** A python3 that imports torch and {@code module} too (torchvision, say), skipped or failed as {@link #python()} is. */
    public static String python(String module) throws InterruptedException {
        String p = python();
        if (exitCode(List.of(p, "-c", "import " + module)) != 0) {
            if (System.getenv("BNNAS_REQUIRE_TORCH") != null) fail("BNNAS_REQUIRE_TORCH is set, but " + p + " cannot import " + module);
            assumeTrue(false, p + " cannot import " + module + " (apt-get install python3-" + module + ")");
        }
        return p;
    }

    /** A PyTorch network with random weights, gammas and betas and BN statistics estimated over {@code paths}, saved without metadata into {@code dir}. */
    public static Path init(Path dir, String kind, SearchSpace space, List<int[]> paths, int channels, int size) throws Exception {
        Path out = dir.resolve("pytorch-" + kind + "-" + space.name + ".safetensors");
        run(List.of(python(), SCRIPT.toString(), "init", "--space", spaceFile(dir, space).toString(), "--kind", kind,
                "--archs", paths.stream().map(Architecture::format).collect(Collectors.joining(";")), "--in-channels", Integer.toString(channels),
                "--size", Integer.toString(size), "--seed", "5", "--out", out.toString()));
        return out;
    }

    /** The space's JSON file, written into {@code dir} for the script. */
    public static Path spaceFile(Path dir, SearchSpace space) throws IOException {
        Path f = dir.resolve(space.name + ".json");
        if (!Files.exists(f)) {
            try (var in = SearchSpace.class.getResourceAsStream("/spaces/" + space.name + ".json")) {
                Files.write(f, in.readAllBytes());
            }
        }
        return f;
    }

    /** Runs a command to its end; a failure or a run past five minutes fails the test with its output. */
    public static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("timed out: " + String.join(" ", cmd));
        }
        if (p.exitValue() != 0) fail(String.join(" ", cmd) + " exited with " + p.exitValue() + ":\n" + output);
    }

    private static int exitCode(List<String> cmd) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor();
        } catch (IOException e) {
            return -1; // no such program
        }
    }
}
