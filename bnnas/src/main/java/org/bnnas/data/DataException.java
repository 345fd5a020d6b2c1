// DataException: a data file that cannot be used, with a one-line message naming the file and the problem.
package org.bnnas.data;

/** Bad or missing data: the message names the file and what is wrong with it. */
public final class DataException extends RuntimeException {
    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
