package io.mlctl.locks;

import io.mlctl.MlctlException;

/** A held environment lock was lost mid-apply: the apply stops before its next step rather than race the next holder. */
public final class LockLostException extends MlctlException {
    private final String environment;
    private final String reason;

    public LockLostException(String environment, String where, String reason) {
        super("lost the lock of environment " + environment + " (" + where + "): " + reason + "; stopped before the next step");
        this.environment = environment;
        this.reason = reason;
    }

    public String environment() {
        return environment;
    }

    public String reason() {
        return reason;
    }
}
