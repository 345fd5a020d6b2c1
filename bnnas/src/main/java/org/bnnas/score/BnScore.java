// BnScore: the BN indicator of BN-NAS: a subnet's score is the sum over its layers of the mean
// |gamma| of the chosen op's last BN; identity layers add 0. It needs no data.
package org.bnnas.score;

import java.util.ArrayList;
import java.util.List;
import org.bnnas.engine.backend.Backends;
import org.bnnas.engine.nn.BatchNorm2d;
import org.bnnas.engine.tensor.Tensor;
import org.bnnas.supernet.Supernet;

/** The table of mean |gamma| per (layer, op), read once from the supernet; scoring is a look-up. */
public final class BnScore {
    private final double[][] table; // [layer][op], null rows for fixed identity layers

    private BnScore(double[][] table) {
        this.table = table;
    }

    /** Reads the last-BN gammas of every op of the supernet (on a GPU: one launch for the whole table). */
    public static BnScore of(Supernet net) {
        BatchNorm2d[][] bns = net.lastBns();
        List<Tensor> gammas = new ArrayList<>();
        for (BatchNorm2d[] layer : bns) {
            if (layer != null) for (BatchNorm2d bn : layer) gammas.add(bn.weight().data());
        }
        double[] means = Backends.current().meanAbsolute(gammas);
        double[][] t = new double[bns.length][];
        int next = 0;
        for (int l = 0; l < bns.length; l++) {
            if (bns[l] == null) continue;
            t[l] = new double[bns[l].length];
            for (int o = 0; o < bns[l].length; o++) t[l][o] = means[next++];
        }
        return new BnScore(t);
    }

    /** The mean |gamma| of op {@code op} of layer {@code layer}. */
    public double entry(int layer, int op) {
        return table[layer][op];
    }

    /** A copy of the whole table, [layer][op], with null rows for fixed identity layers. */
    public double[][] table() {
        double[][] copy = new double[table.length][];
        for (int l = 0; l < table.length; l++) copy[l] = table[l] == null ? null : table[l].clone();
        return copy;
    }

    /** Sum over the layers of the chosen op's entry; identity (-1) adds nothing. */
    public double score(int[] arch) {
        double s = 0;
        for (int l = 0; l < arch.length; l++) if (arch[l] >= 0) s += table[l][arch[l]];
        return s;
    }
}
