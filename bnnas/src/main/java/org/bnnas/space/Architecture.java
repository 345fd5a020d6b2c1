// Architecture: a single path of a search space as op indices per choice layer, -1 for identity,
// in the official code's order; parsing, formatting and uniform sampling.
package org.bnnas.space;

import java.util.Arrays;
import org.bnnas.engine.tensor.Rng;

/** Helpers for architectures written as op indices joined by commas ("3,-1,0,4,..."). */
public final class Architecture {
    private Architecture() {}

    /** Parses "3,-1,0,..." and checks it against the space; the message names the text on error. */
    public static int[] parse(String text, SearchSpace space) {
        int[] arch = parse(text);
        space.validate(arch);
        return arch;
    }

    /** Parses "3,-1,0,..." without a space to check it against. */
    public static int[] parse(String text) {
        String[] parts = text.trim().split("\\s*,\\s*");
        int[] arch = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                arch[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("arch '" + text + "': '" + parts[i] + "' at position " + i + " is not an integer");
            }
        }
        return arch;
    }

    public static String format(int[] arch) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < arch.length; i++) b.append(i == 0 ? "" : ",").append(arch[i]);
        return b.toString();
    }

    /** One op per choice layer, uniformly at random; -1 on the fixed identity layers. */
    public static int[] sample(SearchSpace space, Rng rng) {
        int[] arch = new int[space.numLayers()];
        for (SearchSpace.Layer l : space.layers) arch[l.index()] = l.fixedIdentity() ? -1 : rng.nextInt(space.ops.size());
        return arch;
    }

    /** A key for sets of architectures. */
    public static String key(int[] arch) {
        return Arrays.toString(arch);
    }
}
