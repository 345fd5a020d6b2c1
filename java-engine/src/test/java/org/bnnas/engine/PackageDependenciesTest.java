// PackageDependenciesTest: the engine's packages depend one way (no loop), and the engine names no CUDA.
package org.bnnas.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackageDependenciesTest {
    private static final PackageGraph ENGINE = PackageGraph.read(Path.of("src/main/java"));

    @Test
    void noPackageLoops() {
        assertEquals(List.of(), ENGINE.loops());
    }

    @Test
    void theBottomLayersNameOnlyWhatIsBelowThem() {
        assertEquals(Set.of(), ENGINE.dependencies("org.bnnas.engine.tensor"), "tensor is the bottom");
        assertEquals(Set.of("org.bnnas.engine.tensor"), ENGINE.dependencies("org.bnnas.engine.io"), "io reads and writes tensors, nothing more");
        assertEquals(Set.of("org.bnnas.engine.tensor"), ENGINE.dependencies("org.bnnas.engine.backend"), "the Backend interface knows tensors only");
    }

    @Test
    void theEngineNamesNoCuda() {
        assertEquals(List.of(), ENGINE.packagesNaming("org.bnnas.cuda"));
        assertEquals(List.of(), ENGINE.packagesNaming("org.bytedeco.cuda"));
        assertEquals(List.of(), ENGINE.packagesNaming("org.bnnas.cli"));
    }

    @Test
    void aLoopIsFoundAndShown(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("a"));
        Files.writeString(dir.resolve("a/A.java"), "package p.a;\nimport p.b.B;\n// p.c.C in a comment is no dependency\nclass A {}\n");
        Files.writeString(dir.resolve("a/B.java"), "package p.b;\nclass B { p.c.C c; String s = \"p.a.A\"; }\n");
        Files.writeString(dir.resolve("a/C.java"), "package p.c;\nimport static p.a.A.x;\nclass C {}\n");
        PackageGraph g = PackageGraph.read(dir);
        assertEquals(Set.of("p.b"), g.dependencies("p.a"));
        assertEquals(List.of("p.a -> p.b -> p.c -> p.a"), g.loops());
    }
}
