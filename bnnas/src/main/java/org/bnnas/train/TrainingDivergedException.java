// TrainingDivergedException: training reached a non-finite loss or parameter; the message says
// where, the likely cause and that the last checkpoint was left as it was.
package org.bnnas.train;

/** A user error (a learning rate too high, most often): the command reports it in one line and exits with code 2. */
public final class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
