// SlurmLocalTest: scripts/slurm/test-local.sh, the ranking study's Slurm jobs on a single-node
// Slurm started on this machine, with bnnas run from this build. Skipped, with the script's reason,
// only where Slurm's daemons cannot start (not root, no packages and no way to install them).
package org.bnnas.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("slurm")
class SlurmLocalTest {
    /** The script's code for "Slurm cannot run here". */
    static final int SKIPPED = 77;

    @Test
    void theStudysJobsRunOnARealSlurm() throws Exception {
        String bnnas = Path.of(System.getProperty("java.home"), "bin", "java") + " --add-modules jdk.incubator.vector -cp "
                + System.getProperty("java.class.path") + " " + Main.class.getName();
        ProcessBuilder pb = new ProcessBuilder("bash", "../scripts/slurm/test-local.sh").redirectErrorStream(true);
        pb.environment().put("BNNAS", bnnas);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(15, TimeUnit.MINUTES), "test-local.sh within 15 minutes:\n" + output);
        assumeTrue(p.exitValue() != SKIPPED, output.strip());
        assertEquals(0, p.exitValue(), output);
    }
}
