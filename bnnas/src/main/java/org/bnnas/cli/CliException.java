// CliException: a user error (a bad option, file or value) that the CLI reports in one line with exit code 2.
package org.bnnas.cli;

final class CliException extends RuntimeException {
    CliException(String message) {
        super(message);
    }
}
