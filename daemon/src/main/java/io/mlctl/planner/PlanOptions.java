package io.mlctl.planner;

import io.mlctl.spec.Address;
import java.time.Instant;
import java.util.Set;

/**
 * @param destroy plan the deletion of everything the environment owns
 * @param targets if not empty, plan only these addresses (and, for creates and updates, what they depend on)
 * @param createdAt the plan's timestamp (injected so plans are reproducible)
 * @param replacePlacement re-resolve {@code machineType: auto} of resources that exist too (a person's {@code --replace-placement});
 *     without it they keep the machine type they run on while it carries their accelerator
 */
public record PlanOptions(boolean destroy, Set<Address> targets, Instant createdAt, boolean replacePlacement) {
    public PlanOptions {
        targets = Set.copyOf(targets);
    }

    public PlanOptions(boolean destroy, Set<Address> targets, Instant createdAt) {
        this(destroy, targets, createdAt, false);
    }

    public static PlanOptions defaults(Instant now) {
        return new PlanOptions(false, Set.of(), now);
    }
}
