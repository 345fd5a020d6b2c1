// CostTest: FLOPs and parameters as the paper counts them, against its two reference architectures.
package org.bnnas.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CostTest {
    private static final SearchSpace IMAGENET = SearchSpace.load("bnnas-imagenet");

    @Test
    void theBnNasArchitectureHas473point5MFlopsAnd5point23MParameters() {
        Cost c = Cost.of(IMAGENET, new int[] {3, -1, 0, 4, 0, -1, -1, 0, 4, -1, 4, 4, 1, 4, 2, 0, 0, 4, 0, 2, 2}, 3, 224);
        assertEquals(473.5e6, c.flops(), 0.05e6);
        assertEquals(5.23e6, c.params(), 0.005e6);
    }

    @Test
    void theSposArchitectureHas468point8MFlopsAnd5point78MParameters() {
        Cost c = Cost.of(IMAGENET, new int[] {0, -1, 0, 0, 4, -1, -1, 2, 0, -1, 4, 4, 3, 0, 2, 1, 0, 4, 2, 5, 2}, 3, 224);
        assertEquals(468.8e6, c.flops(), 0.05e6);
        assertEquals(5.78e6, c.params(), 0.005e6);
    }

    @Test
    void aLargerOpCostsMore() {
        int[] small = {0, -1, 0, 0, 0, -1, -1, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        int[] large = {5, -1, 5, 5, 5, -1, -1, 5, 5, -1, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5};
        Cost a = Cost.of(IMAGENET, small, 3, 224), b = Cost.of(IMAGENET, large, 3, 224);
        assertTrue(b.flops() > 2 * a.flops() && b.params() > a.params(), a + " vs " + b);
    }

    @Test
    void refusesAnInvalidArchitecture() {
        assertThrows(IllegalArgumentException.class, () -> Cost.of(IMAGENET, new int[] {0}, 3, 224));
    }
}
