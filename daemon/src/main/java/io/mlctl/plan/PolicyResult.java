package io.mlctl.plan;

import io.mlctl.spec.Address;
import java.util.Optional;

/**
 * A policy the plan breaks: which policy, whether it denies the plan or only warns, the resource it is about (none for an
 * environment-level policy), and the message its author wrote (or why its condition could not be evaluated).
 */
public record PolicyResult(String policy, boolean deny, Optional<Address> address, String message) {
    public PolicyResult {
        java.util.Objects.requireNonNull(address, "address");
    }

    public String enforcement() {
        return deny ? "deny" : "warn";
    }
}
