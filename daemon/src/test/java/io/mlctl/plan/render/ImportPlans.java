package io.mlctl.plan.render;

import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Change;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Plans with imports, for the renderers: {@code env} planned against a cloud where it owns everything but {@code unowned},
 * whose creates become imports of the resources given (observed with their own attributes, so that an import whose
 * attributes differ from the spec shows the differences). The renderers are what is tested; the planner's own import
 * decisions are tested with the planner.
 */
final class ImportPlans {
    private ImportPlans() {
    }

    static Plan of(Environment env, Map<Address, ObservedResource> unowned, Instant at) {
        Plan planned = new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(env, owned(env, unowned), PlanOptions.defaults(at));
        List<Change> changes = new ArrayList<>();
        for (Change c : planned.changes()) {
            ObservedResource existing = unowned.get(c.address());
            if (existing == null) changes.add(c);
            else changes.add(new Change.Import(c.address(), existing.cloudId(), existing.attributes(), c.after(), differences(existing.attributes(), c.after()), c.dependsOn()));
        }
        return new Plan(planned.formatVersion(), planned.environment(), planned.provider(), planned.region(), planned.account(), planned.createdAt(),
            planned.destroy(), planned.targets(), changes, planned.unchanged(), planned.warnings(), planned.massDelete(), planned.fingerprints(),
            planned.origin());
    }

    /** What the environment owns in that cloud: everything the spec declares but {@code unowned}, as declared. */
    static Inventory owned(Environment env, Map<Address, ObservedResource> unowned) {
        Map<Address, ObservedResource> owned = new TreeMap<>();
        for (ResourceSpec r : env.resources()) {
            if (!unowned.containsKey(r.address())) {
                owned.put(r.address(), new ObservedResource(r.address(), "id-" + r.address().name(), r.attributes(), Ownership.tags(env.name(), r.address())));
            }
        }
        return new Inventory(env.name(), owned, List.of());
    }

    /** Top-level differences, as the planner lists an update's (none forces a replacement: such an import is refused). */
    private static List<AttributeChange> differences(Map<String, Object> before, Map<String, Object> after) {
        TreeSet<String> keys = new TreeSet<>(before.keySet());
        keys.addAll(after.keySet());
        List<AttributeChange> out = new ArrayList<>();
        for (String k : keys) {
            if (!Objects.equals(before.get(k), after.get(k))) out.add(new AttributeChange(k, before.get(k), after.get(k), false));
        }
        return out;
    }
}
