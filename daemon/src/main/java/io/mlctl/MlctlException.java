package io.mlctl;

/**
 * Root of every error mlctl reports to a user. The message is the one line the CLI prints;
 * subclasses carry the data behind it so that callers (CLI, daemon, tests) need not parse text.
 */
public class MlctlException extends RuntimeException {
    public MlctlException(String message) {
        super(message);
    }

    public MlctlException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The full text shown to the user; may span lines when it lists several errors. */
    public String userMessage() {
        return getMessage();
    }
}
