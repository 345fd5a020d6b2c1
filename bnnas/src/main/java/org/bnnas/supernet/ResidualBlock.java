// ResidualBlock: what the two block kinds of the official network (the stem block and the choice
// layers' MBConv) have in common: a chain of convolutions with BN and ReLU6 between them, and a
// residual where stride is 1 and channels match.
package org.bnnas.supernet;

import org.bnnas.engine.nn.Sequential;

/** A block's structure, for code that walks the network layer by layer (the synflow predictor, the ONNX export). */
public interface ResidualBlock {
    /** The block's layers in forward order: convolutions, each followed by a BN, all but the last BN by a ReLU6. */
    Sequential layers();

    /** Whether the block adds its input to its output. */
    boolean hasResidual();
}
