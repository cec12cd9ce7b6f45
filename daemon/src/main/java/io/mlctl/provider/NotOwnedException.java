package io.mlctl.provider;

/**
 * A create found a resource of the same name that is not this environment's resource at this
 * address. Never retried, never adopted: the step fails naming the resource and its owner.
 */
public final class NotOwnedException extends DriverException {
    public NotOwnedException(String message) {
        super(message, false);
    }
}
