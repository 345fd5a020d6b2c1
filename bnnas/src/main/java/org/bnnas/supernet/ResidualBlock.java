// ResidualBlock: what the two block kinds of the official network (the stem block and the choice
// layers' MBConv) have in common: a chain of convolutions with BN and ReLU6 between them, and a
// residual where stride is 1 and channels match.
package org.bnnas.supernet;

import java.util.List;
import org.bnnas.engine.nn.Conv2d;

/** A block's structure, for code that walks the network's linear skeleton (the synflow predictor). */
public interface ResidualBlock {
    /** The block's convolutions in forward order (each followed by a BN, all but the last by a ReLU6). */
    List<Conv2d> convolutions();

    /** Whether the block adds its input to its output. */
    boolean hasResidual();
}
