// ReachTest: what a depthwise kernel reaches of its map, counted by hand, and how many choice
// layers of each shipped space really choose a kernel size; the FLOPs limits of the small spaces
// follow the paper's share of bnnas-imagenet's range.
package org.bnnas.space;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ReachTest {
    @Test
    void aWindowReachesWhatItsClippedRowsAndColumnsHold() {
        // 4x4, 3x3, stride 1: per axis the windows hold 2, 3, 3, 2 of 4 pixels
        assertEquals(Math.pow(10.0 / 16, 2), Reach.share(4, 3, 1), 1e-12);
        // 7x7, 7x7, stride 1: 4, 5, 6, 7, 6, 5, 4 of 7
        assertEquals(Math.pow(37.0 / 49, 2), Reach.share(7, 7, 1), 1e-12);
        // 7x7, 3x3, stride 2: outputs at 0, 2, 4, 6 hold 2, 3, 3, 2 of 7
        assertEquals(Math.pow(10.0 / 28, 2), Reach.share(7, 3, 2), 1e-12);
        assertEquals(1.0, Reach.share(2, 3, 1), 1e-12);
        assertFalse(Reach.missesPart(2, 3, 1), "on 2x2 a 3x3 sees everything from every pixel");
        assertFalse(Reach.missesPart(4, 7, 1));
        assertTrue(Reach.missesPart(4, 5, 1), "from a corner of 4x4 a 5x5 misses the far row");
        assertTrue(Reach.missesPart(7, 7, 1));
    }

    @Test
    void bnnasSmallChoosesKernelsInSixLayersAndBnnas28InAll() {
        SearchSpace small = SearchSpace.load("bnnas-small"), b28 = SearchSpace.load("bnnas-28");
        assertEquals(6, matters(small, 28), "bnnas-small keeps ImageNet's strides: 11 choice layers run on 4x4 or 2x2");
        assertEquals(17, matters(b28, 28));
        int[] maps = Reach.inputMaps(b28, 28);
        for (SearchSpace.Layer l : b28.layers) assertTrue(maps[l.index()] >= 7, "layer " + l.index() + " runs on " + maps[l.index()]);
        assertEquals(14, Reach.inputMaps(small, 28)[2]);
        assertEquals(2, Reach.inputMaps(small, 28)[17]);
    }

    @Test
    void theSmallSpacesLimitsSitWhereThePapersSitsInBnnasImagenetsRange() {
        double share = share(SearchSpace.load("bnnas-imagenet"), 3, 224);
        assertEquals(0.179, share, 0.0005);
        for (String name : new String[] {"bnnas-small", "bnnas-28"}) {
            assertEquals(share, share(SearchSpace.load(name), 1, 28), 0.001, name);
        }
    }

    private static int matters(SearchSpace s, int size) {
        int[] maps = Reach.inputMaps(s, size);
        int n = 0;
        for (SearchSpace.Layer l : s.layers) if (Reach.kernelMatters(s, l, maps[l.index()])) n++;
        return n;
    }

    /** Where the space's FLOPs limit lies between its cheapest and its dearest architecture. */
    private static double share(SearchSpace s, int inC, int size) {
        int[][] extremes = Cost.cheapestAndDearest(s, inC, size);
        double lo = Cost.of(s, extremes[0], inC, size).flops(), hi = Cost.of(s, extremes[1], inC, size).flops();
        return (s.flopsLimit - lo) / (hi - lo);
    }
}
