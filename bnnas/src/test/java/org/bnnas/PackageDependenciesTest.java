// PackageDependenciesTest: the bnnas module's packages depend one way: no loop, nothing points back
// at the command line, only the command line knows picocli, and nothing names CUDA.
package org.bnnas;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.bnnas.engine.PackageGraph;
import org.junit.jupiter.api.Test;

class PackageDependenciesTest {
    private static final PackageGraph BNNAS = PackageGraph.read(Path.of("src/main/java"));

    @Test
    void noPackageLoops() {
        assertEquals(List.of(), BNNAS.loops());
    }

    @Test
    void onlyTheCommandLineKnowsPicocliAndNothingNamesIt() {
        assertEquals(List.of("org.bnnas.cli"), BNNAS.packagesNaming("picocli"));
        assertEquals(List.of(), BNNAS.packagesNaming("org.bnnas.cli").stream().filter(p -> !p.equals("org.bnnas.cli")).toList());
    }

    @Test
    void nothingNamesCuda() {
        assertEquals(List.of(), BNNAS.packagesNaming("org.bnnas.cuda"));
        assertEquals(List.of(), BNNAS.packagesNaming("org.bytedeco.cuda"));
    }
}
