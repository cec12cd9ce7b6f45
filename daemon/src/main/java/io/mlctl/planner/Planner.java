package io.mlctl.planner;

import io.mlctl.graph.ResourceGraph;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Change;
import io.mlctl.plan.Fingerprints;
import io.mlctl.plan.Plan;
import io.mlctl.plan.UnchangedResource;
import io.mlctl.provider.ResourceRules;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.References;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.spec.Values;
import io.mlctl.util.Hashing;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The planning engine: a pure function of (spec, inventory, options). It reads no clock, no cloud
 * and no file, so the same inputs always give the same plan.
 */
public final class Planner {
    private final Function<ResourceType, ResourceRules> rules;

    /** {@code rules}: the provider's facts about what cannot change in place, per kind. */
    public Planner(Function<ResourceType, ResourceRules> rules) {
        this.rules = rules;
    }

    /**
     * A plan deleting more than {@link #MASS_DELETE_MIN} resources and either more than {@link #MASS_DELETE_COUNT} or more than
     * {@link #MASS_DELETE_SHARE} of the environment is a mass delete, applied only when released (--allow-mass-delete, or
     * spec.allowMassDelete). Up to three deletions is the ordinary size of a change (a resource removed, a subnet's CIDR changed
     * with the instance and cluster in it replaced) and fits in one glance at a plan; what the guard is for is a wrong path, a
     * deleted file or a renamed environment, which take most or all of an environment at once.
     */
    public static final int MASS_DELETE_MIN = 3;
    /** Attributes that say how a resource is expected to be used (a bucket's expected size): read by cost and policies, never compared. */
    public static final Set<String> USAGE_HINTS = Set.of("expectedSizeGb");
    public static final int MASS_DELETE_COUNT = 10;
    public static final double MASS_DELETE_SHARE = 0.5;
    /** The end of the mass-delete warning, which the engine drops when it refuses. */
    public static final String MASS_DELETE_HINT = "; apply refuses it unless --allow-mass-delete is given or the spec sets allowMassDelete";

    public Plan plan(Environment env, Inventory inventory, PlanOptions options) {
        Map<Address, ResourceSpec> desired = new TreeMap<>();
        if (!options.destroy()) env.resources().forEach(r -> desired.put(r.address(), r));

        Set<Address> scope = scope(desired, inventory, options.targets(), options.destroy());
        Map<Address, Change> changes = new HashMap<>();
        List<UnchangedResource> unchanged = new ArrayList<>();

        for (Address addr : topological(desired)) {
            ResourceSpec want = desired.get(addr);
            ObservedResource have = inventory.resources().get(want.address());
            // Outside the targets, but in a subnet or on a resource a targeted change replaces: it is replaced with it.
            if (!scope.contains(want.address()) && (have == null || replacedDependency(want, changes) == null)) continue;
            if (have == null) {
                ObservedResource existing = inventory.importing().get(want.address());
                changes.put(want.address(), existing == null ? new Change.Create(want.address(), want.attributes(), want.dependencies())
                    : adoption(env, want, existing));
                continue;
            }
            List<AttributeChange> diffs = new ArrayList<>();
            diff("", have.attributes(), want.attributes(), rules.apply(want.address().type()), diffs);
            String forcedBy = replacedDependency(want, changes);
            // A forced change inside a subnet or node pool replaces that component, not the whole resource.
            Map<Address, List<AttributeChange>> componentReplaces = new TreeMap<>();
            List<String> forcedHere = new ArrayList<>();
            List<Change> componentDeletes = new ArrayList<>();
            for (AttributeChange d : diffs) {
                Optional<Address> removed = want.address().componentAt(d.path()).filter(x -> d.after() == null && d.path().endsWith("]"));
                if (removed.isPresent()) {
                    // A subnet or node pool the spec no longer names: its deletion is counted and shown on its own.
                    componentDeletes.add(new Change.Delete(removed.get(), have.cloudId(), element(have.attributes(), d.path()),
                        Set.of(want.address()), "no longer declared in the spec"));
                    continue;
                }
                if (!d.forcesReplacement()) continue;
                Optional<Address> component = want.address().componentAt(d.path());
                if (component.isPresent()) componentReplaces.computeIfAbsent(component.get(), k -> new ArrayList<>()).add(d);
                else forcedHere.add(d.path());
            }
            if (forcedBy != null) {
                changes.put(want.address(), new Change.Replace(want.address(), have.cloudId(), have.attributes(), want.attributes(), diffs,
                    want.dependencies(), forcedBy));
            } else if (diffs.isEmpty()) {
                unchanged.add(new UnchangedResource(want.address(), have.cloudId()));
            } else if (!forcedHere.isEmpty()) {
                changes.put(want.address(), new Change.Replace(want.address(), have.cloudId(), have.attributes(), want.attributes(), diffs,
                    want.dependencies(), String.join(", ", forcedHere) + " cannot be changed in place"));
            } else {
                changes.put(want.address(), new Change.Update(want.address(), have.cloudId(), have.attributes(), want.attributes(), diffs,
                    want.dependencies()));
                componentReplaces.forEach((component, forced) -> changes.put(component, new Change.Replace(component, have.cloudId(),
                    element(have.attributes(), forced.get(0).path()), element(want.attributes(), forced.get(0).path()), forced,
                    Set.of(want.address()), String.join(", ", forced.stream().map(AttributeChange::path).toList()) + " cannot be changed in place")));
                componentDeletes.forEach(c -> changes.put(c.address(), c));
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
        boolean mass = !options.destroy() && deleting > MASS_DELETE_MIN
            && (deleting > MASS_DELETE_COUNT || deleting > MASS_DELETE_SHARE * Math.max(1, inventory.size()));
        if (mass) {
            warnings.add("this plan deletes " + deleting + " of the " + inventory.size() + " resources environment " + env.name()
                + " owns (more than " + MASS_DELETE_COUNT + " or more than " + Math.round(MASS_DELETE_SHARE * 100)
                + "%)" + (env.massDeleteAllowed(deleting) ? "; the spec's allowMassDelete releases it" : MASS_DELETE_HINT));
        }
        if (env.massDeleteAllowance() > 0 && !options.destroy()) {
            warnings.add("spec.allowMassDelete is set for environment " + env.name() + ": remove it once the change it was committed for is applied");
        }
        unchanged.sort((a, b) -> a.address().compareTo(b.address()));
        return new Plan(Plan.FORMAT_VERSION, env.name(), env.provider().id(), env.region(), options.createdAt(), options.destroy(),
            List.copyOf(options.targets()), ordered, unchanged, warnings, mass, fingerprints(env, inventory));
    }

    /**
     * Taking over an existing resource: the differences adoption implies are made in place. One that cannot be (a region, a
     * subnet of another CIDR) or that would remove a subnet or node pool the spec does not name is refused: an import never
     * deletes or recreates what it adopts, so the spec has to describe the resource as it is in those respects.
     */
    private Change adoption(Environment env, ResourceSpec want, ObservedResource existing) {
        List<AttributeChange> diffs = new ArrayList<>();
        diff("", existing.attributes(), want.attributes(), rules.apply(want.address().type()), diffs);
        List<String> refused = new ArrayList<>();
        for (AttributeChange d : diffs) {
            boolean removesComponent = want.address().componentAt(d.path()).isPresent() && d.after() == null && d.path().endsWith("]");
            if (d.forcesReplacement() && !removesComponent) {
                refused.add(d.path() + " is " + Values.render(d.before()) + " there and " + Values.render(d.after()) + " in the spec");
            } else if (removesComponent) {
                refused.add(d.path() + " exists there and is not in the spec");
            }
        }
        if (!refused.isEmpty()) {
            String at = env.imports().stream().filter(i -> i.to().equals(want.address()) && i.position() != null).findFirst()
                .map(i -> i.position() + ": ").orElse("");
            throw new ImportMismatchException(at + "import of " + existing.cloudId() + " as " + want.address() + " would replace or remove part of it: "
                + String.join("; ", refused) + " (cannot change in place); make the spec match the resource");
        }
        return new Change.Import(want.address(), existing.cloudId(), existing.attributes(), want.attributes(), diffs, want.dependencies());
    }

    /** An import whose resource differs from the spec in what cannot change in place. */
    public static final class ImportMismatchException extends io.mlctl.MlctlException {
        public ImportMismatchException(String message) {
            super(message);
        }
    }

    private static List<Address> topological(Map<Address, ResourceSpec> desired) {
        Map<Address, Set<Address>> deps = new LinkedHashMap<>();
        desired.forEach((a, r) -> deps.put(a, r.dependencies()));
        return new ResourceGraph(deps).topologicalOrder();
    }

    /** The element of a list of named objects that {@code path} ({@code subnets[training].cidr}) points into. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> element(Map<String, Object> attrs, String path) {
        String list = path.substring(0, path.indexOf('['));
        String name = path.substring(path.indexOf('[') + 1, path.indexOf(']'));
        if (attrs.get(list) instanceof List<?> l) {
            for (Object e : l) {
                if (e instanceof Map<?, ?> m && name.equals(m.get("name"))) return (Map<String, Object>) m;
            }
        }
        return Map.of();
    }

    /**
     * A resource that points at a replaced resource (or a replaced subnet of it) through a field that
     * cannot change in place (an instance's subnet, a cluster's identity) must be replaced with it:
     * the new one has a new cloud id.
     */
    private String replacedDependency(ResourceSpec want, Map<Address, Change> changes) {
        ResourceRules r = rules.apply(want.address().type());
        for (Map.Entry<String, Object> e : new TreeMap<>(want.attributes()).entrySet()) {
            String field = e.getKey();
            Object value = e.getValue();
            if (value == null || !r.forcesReplace(field)) continue;
            for (Address dep : References.of(want.address().type(), Map.of(field, value))) {
                if (changes.get(dep) instanceof Change.Replace) return dep + " is replaced and " + field + " cannot be changed in place";
            }
            Optional<Address> subnet = References.subnet(Map.of(field, value));
            if (subnet.isPresent() && changes.get(subnet.get()) instanceof Change.Replace) {
                return subnet.get() + " is replaced and " + field + " cannot be changed in place";
            }
            if (subnet.isPresent() && r.networkWide(field)) {
                Address network = subnet.get().resource();
                for (Change c : new TreeMap<>(changes).values()) {
                    if (c.address().isComponent() && c.address().resource().equals(network) && c.address().component().startsWith("subnet.")
                        && (c instanceof Change.Replace || c instanceof Change.Delete)) {
                        return c.address() + (c instanceof Change.Replace ? " is replaced" : " is removed") + " and "
                            + want.address().type().id() + " spans every subnet of " + network + " on this cloud";
                    }
                }
            }
        }
        return null;
    }

    /**
     * Everything, or the targets plus, for what will exist, their transitive dependencies. A targeted destroy takes
     * instead what must go with its targets: every owned resource that refers to one of them, transitively (an
     * instance in a targeted network, the identity granted a targeted bucket), as terraform's destroy -target does.
     */
    private static Set<Address> scope(Map<Address, ResourceSpec> desired, Inventory inventory, Set<Address> targets, boolean destroy) {
        Set<Address> all = new TreeSet<>(desired.keySet());
        all.addAll(inventory.resources().keySet());
        inventory.duplicates().forEach(d -> all.add(d.address()));
        if (targets.isEmpty()) return all;
        Map<Address, Set<Address>> referrers = new HashMap<>();
        if (destroy) {
            List<ObservedResource> owned = new ArrayList<>(inventory.resources().values());
            owned.addAll(inventory.duplicates());
            owned.forEach(r -> References.of(r.address().type(), r.attributes())
                .forEach(dep -> referrers.computeIfAbsent(dep, k -> new TreeSet<>()).add(r.address())));
        }
        Set<Address> scope = new TreeSet<>();
        Deque<Address> todo = new ArrayDeque<>(targets);
        while (!todo.isEmpty()) {
            Address a = todo.pop();
            if (!scope.add(a)) continue;
            ResourceSpec spec = desired.get(a);
            if (spec != null) todo.addAll(spec.dependencies());
            todo.addAll(referrers.getOrDefault(a, Set.of()));
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

    /**
     * Attribute-level differences. Maps are compared key by key; lists of named objects (subnets,
     * node pools, firewall rules) element by element, matched by name, so a path names the element
     * ({@code subnets[training].cidr}) and the provider's rules can say whether it forces a replace.
     */
    @SuppressWarnings("unchecked")
    static void diff(String prefix, Map<String, Object> before, Map<String, Object> after, ResourceRules rules, List<AttributeChange> out) {
        Set<String> keys = new TreeSet<>(before.keySet());
        keys.addAll(after.keySet());
        for (String k : keys) {
            Object b = before.get(k);
            Object a = after.get(k);
            if (Objects.equals(b, a)) continue;
            String path = prefix.isEmpty() ? k : prefix + "." + k;
            if (rules.unsupported(path)) continue; // this cloud cannot hold it on this kind (labels on a GCE network)
            if (USAGE_HINTS.contains(path)) continue; // what the spec expects of use, for cost and policies; no cloud holds it
            if (a == null && rules.computed(path)) continue; // the cloud's choice where the spec has none
            boolean forces = rules.forcesReplace(path);
            if (b instanceof Map<?, ?> bm && a instanceof Map<?, ?> am && !forces) {
                diff(path, (Map<String, Object>) bm, (Map<String, Object>) am, rules, out);
            } else if (!forces && (named(b) || b == null) && (named(a) || a == null)) {
                // A list of named objects the other side lacks altogether is compared as empty: each element still shows.
                Map<String, Object> bn = b == null ? Map.of() : byName((List<Object>) b);
                Map<String, Object> an = a == null ? Map.of() : byName((List<Object>) a);
                Set<String> names = new TreeSet<>(bn.keySet());
                names.addAll(an.keySet());
                for (String n : names) {
                    Object be = bn.get(n);
                    Object ae = an.get(n);
                    if (Objects.equals(be, ae)) continue;
                    String ep = path + "[" + n + "]";
                    if (be instanceof Map<?, ?> bem && ae instanceof Map<?, ?> aem) {
                        diff(ep, (Map<String, Object>) bem, (Map<String, Object>) aem, rules, out);
                    } else {
                        out.add(new AttributeChange(ep, be, ae, rules.forcesReplace(ep)));
                    }
                }
                if (a != null && b != null && bn.keySet().equals(an.keySet()) && !new ArrayList<>(bn.keySet()).equals(new ArrayList<>(an.keySet()))) {
                    out.add(new AttributeChange(path, b, a, false)); // same elements, another order
                }
            } else {
                out.add(new AttributeChange(path, b, a, forces));
            }
        }
    }

    /** A list whose elements are all objects with distinct names. */
    private static boolean named(Object v) {
        if (!(v instanceof List<?> l)) return false;
        Set<Object> seen = new java.util.HashSet<>();
        for (Object e : l) {
            if (!(e instanceof Map<?, ?> m) || !(m.get("name") instanceof String n) || !seen.add(n)) return false;
        }
        return true;
    }

    private static Map<String, Object> byName(List<Object> l) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Object e : l) m.put((String) ((Map<?, ?>) e).get("name"), e);
        return m;
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
        // What an import takes over is part of what the plan was computed from: a saved plan is stale if it changed.
        for (ObservedResource r : inventory.importing().values()) invRes.put(r.address() + "<=" + r.cloudId(), observedHash(r));
        Map<String, Object> specDoc = new TreeMap<>(Map.of("environment", env.name(), "provider", env.provider().id(), "region", env.region(),
            "resources", specRes));
        // Only when present, so that the fingerprints of specs without imports stay what they were (the daemon compares them).
        if (!env.imports().isEmpty()) {
            specDoc.put("import", env.imports().stream().map(i -> i.to() + "=" + i.id()).sorted().toList());
        }
        String spec = Hashing.sha256(specDoc);
        return new Fingerprints(spec, Hashing.sha256(invRes), specRes, invRes);
    }

    private static String observedHash(ObservedResource r) {
        return Hashing.sha256(Map.of("cloudId", r.cloudId(), "attributes", r.attributes(), "tags", r.tags()));
    }
}
