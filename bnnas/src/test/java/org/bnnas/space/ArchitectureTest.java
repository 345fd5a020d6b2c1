// ArchitectureTest: the comma-separated encoding (indices or op names), the architecture file, and
// uniform sampling.
package org.bnnas.space;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bnnas.engine.tensor.Rng;
import org.junit.jupiter.api.Test;

class ArchitectureTest {
    private static final SearchSpace SPACE = SearchSpace.load("bnnas-small");
    private static final String TEXT = "3,-1,0,4,0,-1,-1,0,4,-1,4,4,1,4,2,0,0,4,0,2,2";

    @Test
    void parsesAndFormatsTheOfficialOrder() {
        int[] arch = Architecture.parse(TEXT, SPACE);
        assertArrayEquals(new int[] {3, -1, 0, 4, 0, -1, -1, 0, 4, -1, 4, 4, 1, 4, 2, 0, 0, 4, 0, 2, 2}, arch);
        assertEquals(TEXT, Architecture.format(arch));
        assertArrayEquals(arch, Architecture.parse(" 3, -1,0,4,0,-1,-1,0,4,-1,4,4,1,4,2,0,0,4,0,2,2 ", SPACE));
    }

    @Test
    void refusesBadText() {
        assertEquals("arch '3,x': 'x' at position 1 is neither an op index nor an op of bnnas-small (k3e3, k3e6, k5e3, k5e6, k7e3, k7e6, identity)",
                assertThrows(IllegalArgumentException.class, () -> Architecture.parse("3,x", SPACE)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Architecture.parse("0,0,0", SPACE)).getMessage().contains("3 layers"));
        String fixedNotIdentity = TEXT.replaceFirst("-1", "2");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Architecture.parse(fixedNotIdentity, SPACE)).getMessage().contains("fixed identity"));
        String opOutOfRange = TEXT.replaceFirst("^3", "6");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Architecture.parse(opOutOfRange, SPACE)).getMessage().contains("0..5"));
    }

    @Test
    void opNamesAndIndicesMayMix() {
        int[] arch = Architecture.parse(TEXT, SPACE);
        String names = "k5e6,identity,k3e3,k7e3,k3e3,identity,identity,k3e3,k7e3,identity,k7e3,k7e3,k3e6,k7e3,k5e3,k3e3,k3e3,k7e3,k3e3,k5e3,k5e3";
        assertArrayEquals(arch, Architecture.parse(names, SPACE));
        assertArrayEquals(arch, Architecture.parse(names.replaceFirst("k5e6", "3"), SPACE));
    }

    @Test
    void anArchitectureFileRoundTripsAndSaysItsSpace(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
        int[] arch = Architecture.parse(TEXT, SPACE);
        java.nio.file.Path file = dir.resolve("best.json");
        Architecture.write(file, SPACE, arch, 1, 28);
        String json = java.nio.file.Files.readString(file);
        assertTrue(json.contains("\"space\": \"bnnas-small\"") && json.contains("\"k5e6\"") && json.contains("\"identity\"") && json.contains("\"flops\""), json);
        assertArrayEquals(arch, Architecture.parse("@" + file, SPACE));
        SearchSpace imagenet = SearchSpace.load("bnnas-imagenet");
        assertEquals(file + ": an architecture of space bnnas-small, not bnnas-imagenet",
                assertThrows(IllegalArgumentException.class, () -> Architecture.parse("@" + file, imagenet)).getMessage());
        java.nio.file.Files.writeString(file, json.replaceFirst("\"k5e6\"", "\"k9e9\""));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Architecture.parse("@" + file, SPACE)).getMessage()
                .contains("'k9e9' at position 0 is neither an op index nor an op of bnnas-small"));
        assertThrows(java.io.UncheckedIOException.class, () -> Architecture.parse("@" + dir.resolve("missing.json"), SPACE));
    }

    @Test
    void samplesEveryOpUniformlyAndKeepsTheFixedLayers() {
        Rng rng = new Rng(1);
        int[] counts = new int[6];
        for (int i = 0; i < 6000; i++) {
            int[] arch = Architecture.sample(SPACE, rng);
            SPACE.validate(arch);
            counts[arch[0]]++;
        }
        for (int c : counts) assertTrue(c > 850 && c < 1150, "op drawn " + c + " times of 6000");
        assertArrayEquals(Architecture.sample(SPACE, new Rng(9)), Architecture.sample(SPACE, new Rng(9)));
    }
}
