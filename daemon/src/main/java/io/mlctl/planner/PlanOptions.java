package io.mlctl.planner;

import io.mlctl.spec.Address;
import java.time.Instant;
import java.util.Set;

/**
 * @param destroy plan the deletion of everything the environment owns
 * @param targets if not empty, plan only these addresses (and, for creates and updates, what they depend on)
 * @param createdAt the plan's timestamp (injected so plans are reproducible)
 */
public record PlanOptions(boolean destroy, Set<Address> targets, Instant createdAt) {
    public PlanOptions {
        targets = Set.copyOf(targets);
    }

    public static PlanOptions defaults(Instant now) {
        return new PlanOptions(false, Set.of(), now);
    }
}
