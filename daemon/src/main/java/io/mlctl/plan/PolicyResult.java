package io.mlctl.plan;

import io.mlctl.spec.Address;
import java.util.Optional;

/**
 * A policy broken: which policy, whether it denies or only warns, the resource it is about (none for an environment-level
 * policy), the message its author wrote (or why its condition could not be evaluated: {@code error}), and {@code at}, the
 * {@code file:line:col} of that resource (or environment) in the spec. {@code live} results are about the resources as the
 * cloud holds them now (an out-of-band change that breaks a policy): they are reported, and never keep a plan from being
 * applied, which is what the other results are about: the state the plan leaves.
 */
public record PolicyResult(String policy, boolean deny, Optional<Address> address, String message, Optional<String> at, boolean live,
                           boolean error) {
    public PolicyResult {
        java.util.Objects.requireNonNull(address, "address");
        java.util.Objects.requireNonNull(at, "at");
    }

    public PolicyResult(String policy, boolean deny, Optional<Address> address, String message, Optional<String> at, boolean live) {
        this(policy, deny, address, message, at, live, false);
    }

    public String enforcement() {
        return deny ? "deny" : "warn";
    }

    /** Whether it keeps the plan from being applied. */
    public boolean denies() {
        return deny && !live;
    }
}
