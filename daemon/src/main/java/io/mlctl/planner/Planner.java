package io.mlctl.planner;

import io.mlctl.graph.ResourceGraph;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Change;
import io.mlctl.plan.Fingerprints;
import io.mlctl.plan.Plan;
import io.mlctl.plan.UnchangedResource;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.References;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.util.Hashing;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The planning engine: a pure function of (spec, inventory, options). It reads no clock, no cloud
 * and no file, so the same inputs always give the same plan.
 */
public final class Planner {
    /** Deleting more than this many resources, or this share of an environment, needs --allow-mass-delete. */
    public static final int MASS_DELETE_COUNT = 10;
    public static final double MASS_DELETE_SHARE = 0.25;

    public Plan plan(Environment env, Inventory inventory, PlanOptions options) {
        Map<Address, ResourceSpec> desired = new TreeMap<>();
        if (!options.destroy()) env.resources().forEach(r -> desired.put(r.address(), r));

        Set<Address> scope = scope(desired, inventory, options.targets());
        Map<Address, Change> changes = new HashMap<>();
        List<UnchangedResource> unchanged = new ArrayList<>();

        for (Address addr : topological(desired)) {
            ResourceSpec want = desired.get(addr);
            if (!scope.contains(want.address())) continue;
            ObservedResource have = inventory.resources().get(want.address());
            if (have == null) {
                changes.put(want.address(), new Change.Create(want.address(), want.attributes(), want.dependencies()));
                continue;
            }
            List<AttributeChange> diffs = new ArrayList<>();
            diff("", have.attributes(), want.attributes(), want.address().type().immutableFields(), diffs);
            String forcedBy = replacedDependency(want, changes);
            if (forcedBy != null) {
                changes.put(want.address(), new Change.Replace(want.address(), have.cloudId(), have.attributes(), want.attributes(), diffs,
                    want.dependencies(), forcedBy));
            } else if (diffs.isEmpty()) {
                unchanged.add(new UnchangedResource(want.address(), have.cloudId()));
            } else if (diffs.stream().anyMatch(AttributeChange::forcesReplacement)) {
                String fields = String.join(", ", diffs.stream().filter(AttributeChange::forcesReplacement).map(AttributeChange::path).toList());
                changes.put(want.address(), new Change.Replace(want.address(), have.cloudId(), have.attributes(), want.attributes(), diffs,
                    want.dependencies(), fields + " cannot be changed in place"));
            } else {
                changes.put(want.address(), new Change.Update(want.address(), have.cloudId(), have.attributes(), want.attributes(), diffs,
                    want.dependencies()));
            }
        }
        // Deletes wait for the deletion of whatever refers to them (the reverse of create order).
        Map<Address, Set<Address>> referrers = new HashMap<>();
        inventory.resources().values().forEach(r -> References.of(r.address().type(), r.attributes())
            .forEach(dep -> referrers.computeIfAbsent(dep, k -> new TreeSet<>()).add(r.address())));
        List<Change> deletes = new ArrayList<>();
        for (ObservedResource have : inventory.resources().values()) {
            if (desired.containsKey(have.address()) || !scope.contains(have.address())) continue;
            Set<Address> after = new TreeSet<>(referrers.getOrDefault(have.address(), Set.of()));
            after.removeIf(desired::containsKey);
            deletes.add(new Change.Delete(have.address(), have.cloudId(), have.attributes(), after,
                options.destroy() ? "destroy requested" : "no longer declared in the spec"));
        }
        for (ObservedResource dup : inventory.duplicates()) {
            if (!scope.contains(dup.address())) continue;
            ObservedResource kept = inventory.resources().get(dup.address());
            // Keyed apart from the kept resource's change; the applier orders by address, so no dependsOn.
            deletes.add(new Change.Delete(dup.address(), dup.cloudId(), dup.attributes(), Set.of(),
                "duplicate of " + kept.cloudId() + " (both carry this address's ownership tags)"));
        }

        List<Change> ordered = order(changes);
        ordered.addAll(reverseOrder(deletes));
        List<String> warnings = new ArrayList<>();
        int deleting = (int) ordered.stream().filter(c -> c.action().primitives().contains("delete")).count();
        boolean mass = !options.destroy() && deleting > 0
            && (deleting > MASS_DELETE_COUNT || deleting > MASS_DELETE_SHARE * Math.max(1, inventory.size()));
        if (mass) {
            warnings.add("this plan deletes " + deleting + " of the " + inventory.size() + " resources environment " + env.name()
                + " owns (more than " + MASS_DELETE_COUNT + " or " + Math.round(MASS_DELETE_SHARE * 100)
                + "%); apply refuses it unless --allow-mass-delete is given");
        }
        unchanged.sort((a, b) -> a.address().compareTo(b.address()));
        return new Plan(Plan.FORMAT_VERSION, env.name(), env.provider().id(), env.region(), options.createdAt(), options.destroy(),
            ordered, unchanged, warnings, mass, fingerprints(env, inventory));
    }

    private static List<Address> topological(Map<Address, ResourceSpec> desired) {
        Map<Address, Set<Address>> deps = new LinkedHashMap<>();
        desired.forEach((a, r) -> deps.put(a, r.dependencies()));
        return new ResourceGraph(deps).topologicalOrder();
    }

    /**
     * A resource that points at a replaced resource through an immutable field (an instance's subnet,
     * a cluster's identity) must be replaced with it: the new one has a new cloud id.
     */
    private static String replacedDependency(ResourceSpec want, Map<Address, Change> changes) {
        for (String field : want.address().type().immutableFields()) {
            Object value = want.attributes().get(field);
            if (value == null) continue;
            for (Address dep : References.of(want.address().type(), Map.of(field, value))) {
                if (changes.get(dep) instanceof Change.Replace) return dep + " is replaced and " + field + " cannot be changed in place";
            }
        }
        return null;
    }

    /** Everything, or the targets plus (for what will exist) their transitive dependencies. */
    private static Set<Address> scope(Map<Address, ResourceSpec> desired, Inventory inventory, Set<Address> targets) {
        Set<Address> all = new TreeSet<>(desired.keySet());
        all.addAll(inventory.resources().keySet());
        inventory.duplicates().forEach(d -> all.add(d.address()));
        if (targets.isEmpty()) return all;
        Set<Address> scope = new TreeSet<>();
        Deque<Address> todo = new ArrayDeque<>(targets);
        while (!todo.isEmpty()) {
            Address a = todo.pop();
            if (!scope.add(a)) continue;
            ResourceSpec spec = desired.get(a);
            if (spec != null) todo.addAll(spec.dependencies());
        }
        return scope;
    }

    private static List<Change> order(Map<Address, Change> changes) {
        Map<Address, Set<Address>> deps = new LinkedHashMap<>();
        changes.forEach((a, c) -> deps.put(a, c.dependsOn()));
        List<Change> out = new ArrayList<>();
        new ResourceGraph(deps).topologicalOrder().forEach(a -> out.add(changes.get(a)));
        return out;
    }

    /** Deletes in the order they run: what refers to a resource goes before it. */
    private static List<Change> reverseOrder(List<Change> deletes) {
        Map<Address, Set<Address>> deps = new LinkedHashMap<>();
        Map<Address, List<Change>> byAddress = new LinkedHashMap<>();
        for (Change d : deletes) {
            deps.computeIfAbsent(d.address(), k -> new TreeSet<>()).addAll(d.dependsOn());
            byAddress.computeIfAbsent(d.address(), k -> new ArrayList<>()).add(d);
        }
        List<Change> out = new ArrayList<>();
        // dependsOn of a delete lists what must be deleted first, so the topological order is the run order.
        new ResourceGraph(deps).topologicalOrder().forEach(a -> out.addAll(byAddress.get(a)));
        return out;
    }

    @SuppressWarnings("unchecked")
    static void diff(String prefix, Map<String, Object> before, Map<String, Object> after, Set<String> immutable, List<AttributeChange> out) {
        Set<String> keys = new TreeSet<>(before.keySet());
        keys.addAll(after.keySet());
        for (String k : keys) {
            Object b = before.get(k);
            Object a = after.get(k);
            if (Objects.equals(b, a)) continue;
            String path = prefix.isEmpty() ? k : prefix + "." + k;
            boolean forces = prefix.isEmpty() && immutable.contains(k);
            if (b instanceof Map<?, ?> bm && a instanceof Map<?, ?> am && !forces) {
                diff(path, (Map<String, Object>) bm, (Map<String, Object>) am, Set.of(), out);
            } else {
                out.add(new AttributeChange(path, b, a, forces));
            }
        }
    }

    static Fingerprints fingerprints(Environment env, Inventory inventory) {
        Map<String, String> specRes = new TreeMap<>();
        for (ResourceSpec r : env.resources()) {
            specRes.put(r.address().toString(), Hashing.sha256(Map.of("attributes", r.attributes(),
                "dependencies", r.dependencies().stream().map(Address::toString).sorted().toList())));
        }
        Map<String, String> invRes = new TreeMap<>();
        for (ObservedResource r : inventory.resources().values()) invRes.put(r.address().toString(), observedHash(r));
        for (ObservedResource r : inventory.duplicates()) invRes.put(r.address() + "#" + r.cloudId(), observedHash(r));
        String spec = Hashing.sha256(Map.of("environment", env.name(), "provider", env.provider().id(), "region", env.region(),
            "resources", specRes));
        return new Fingerprints(spec, Hashing.sha256(invRes), specRes, invRes);
    }

    private static String observedHash(ObservedResource r) {
        return Hashing.sha256(Map.of("cloudId", r.cloudId(), "attributes", r.attributes(), "tags", r.tags()));
    }
}
