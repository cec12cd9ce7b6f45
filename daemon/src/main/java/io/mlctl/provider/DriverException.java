package io.mlctl.provider;

import io.mlctl.MlctlException;

/** A cloud call failed. Retryable failures (throttling, 5xx, timeouts) are retried with backoff. */
public class DriverException extends MlctlException {
    private final boolean retryable;

    public DriverException(String message, boolean retryable) {
        super(message);
        this.retryable = retryable;
    }

    public DriverException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    public boolean retryable() {
        return retryable;
    }
}
