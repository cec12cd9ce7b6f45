package io.mlctl.apply;

import io.mlctl.MlctlException;

/** Another apply (a person's or the daemon's) holds the environment. */
public final class LockedException extends MlctlException {
    private final String environment;
    private final String holder;

    public LockedException(String environment, String holder) {
        super("environment " + environment + " is locked by " + holder + "; wait for it to finish and try again");
        this.environment = environment;
        this.holder = holder;
    }

    public String environment() {
        return environment;
    }

    public String holder() {
        return holder;
    }
}
