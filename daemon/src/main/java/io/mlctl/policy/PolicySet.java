package io.mlctl.policy;

import io.mlctl.catalog.Catalog;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.Plan;
import io.mlctl.plan.PolicyResult;
import io.mlctl.planner.Planner;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.spec.SourcePosition;
import io.mlctl.spec.Values;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The policies of a config repository, checked against a plan: each resource-level policy against every matching resource
 * the plan leaves in place (all the spec declares; nothing after a destroy), each environment-level one once. Pure: the
 * same plan, spec and cost always give the same results. A condition that cannot be evaluated counts as broken (a deny
 * policy fails closed).
 */
public final class PolicySet {
    public static final PolicySet NONE = new PolicySet(List.of(), null);

    private final List<Policy> policies;
    private final Catalog catalog;

    PolicySet(List<Policy> policies, Catalog catalog) {
        this.policies = List.copyOf(policies);
        this.catalog = catalog;
    }

    public List<Policy> policies() {
        return policies;
    }

    public boolean isEmpty() {
        return policies.isEmpty();
    }

    /** The monthly cost a plan's environment-level policies see; unknown until prices are. */
    public record Cost(double before, double after, boolean known) {
        public static final Cost UNKNOWN = new Cost(0, 0, false);

        Map<String, Object> facts() {
            return Map.of("before", before, "after", after, "delta", after - before, "known", known);
        }
    }

    /** What the plan leaves breaks: these results decide whether it may be applied. */
    public List<PolicyResult> check(Environment env, Plan plan, Cost cost) {
        // A destroy leaves nothing to judge: an environment-level rule (labels, a region) must not keep it from going away.
        if (policies.isEmpty() || plan.destroy()) return List.of();
        return evaluate(env, planned(env, plan), cost, false, null, null).results();
    }

    /** What the spec itself breaks, with the cost of what it declares ({@code mlctl validate}: no cloud is read). */
    public List<PolicyResult> checkSpec(Environment env, Cost cost) {
        if (policies.isEmpty()) return List.of();
        return evaluate(env, declared(env, env.resources()), cost, false, null, null).results();
    }

    /**
     * What the environment's resources break as the cloud holds them now (an out-of-band change), leaving out what the
     * plan's own state breaks too ({@code planned}): reported, never deciding. Usage hints come from the spec.
     */
    public List<PolicyResult> checkLive(Environment env, Inventory inventory, Cost cost, List<PolicyResult> planned) {
        if (policies.isEmpty()) return List.of();
        return notIn(planned, evaluate(env, live(env, inventory, null, null), cost, true, null, null).results());
    }

    /**
     * {@link #check} with {@code planned}, then {@link #checkLive} with {@code now} (the plan's results first): the same
     * results, but a resource the cloud holds as the spec declares it, in an environment that looks the same to the
     * policies, is not evaluated twice (it can only break what the plan's state breaks, which is left out of the live part).
     */
    public List<PolicyResult> checkPlan(Environment env, Plan plan, Inventory inventory, Cost planned, Cost now) {
        if (policies.isEmpty() || plan.destroy()) return List.of();
        Evaluation p = evaluate(env, planned(env, plan), planned, false, null, null);
        List<PolicyResult> all = new ArrayList<>(p.results());
        boolean[] asPlanned = new boolean[inventory.resources().size()];
        all.addAll(notIn(p.results(), evaluate(env, live(env, inventory, p, asPlanned), now, true, p, asPlanned).results()));
        return all;
    }

    /** A resource as the policies see it: its address, the attributes its facts (as CEL values) were built from, where it is declared. */
    private record Subject(Address address, Map<String, Object> attributes, Map<String, Object> facts, SourcePosition position) {
    }

    /** Results, and what they were evaluated on (the subjects by address, the environment's values). */
    private record Evaluation(List<PolicyResult> results, Map<Address, Subject> subjects, Map<String, Object> environment) {
    }

    private List<Subject> planned(Environment env, Plan plan) {
        return declared(env, plan.destroy() ? List.of() : env.resources());
    }

    private List<Subject> declared(Environment env, List<ResourceSpec> resources) {
        if (noneApply(env)) return List.of();
        List<Subject> out = new ArrayList<>(resources.size());
        for (ResourceSpec r : resources) out.add(new Subject(r.address(), r.attributes(), resourceFacts(env, r.address(), r.attributes()), r.position()));
        return out;
    }

    /**
     * The resources as the cloud holds them, with the spec's usage hints. With {@code same} (the plan's evaluation, on what
     * the spec declares), a resource the cloud holds as declared is the subject evaluated there (the same facts), and is
     * marked in {@code asPlanned}.
     */
    private List<Subject> live(Environment env, Inventory inventory, Evaluation same, boolean[] asPlanned) {
        if (noneApply(env)) return List.of();
        Map<Address, Subject> planned = same == null ? Map.of() : same.subjects();
        Map<Address, ResourceSpec> spec = null;
        List<Subject> out = new ArrayList<>(inventory.resources().size());
        for (ObservedResource r : inventory.resources().values()) {
            Subject as = planned.get(r.address());
            if (as != null && r.attributes().equals(as.attributes())) {
                asPlanned[out.size()] = true;
                out.add(as);
                continue;
            }
            Map<String, Object> attributes;
            SourcePosition position;
            if (as != null) {
                attributes = as.attributes();
                position = as.position();
            } else {
                if (spec == null) spec = env.resourcesByAddress();
                ResourceSpec declared = spec.get(r.address());
                attributes = declared == null ? null : declared.attributes();
                position = declared == null ? null : declared.position();
            }
            Map<String, Object> attrs = r.attributes();
            boolean copied = false;
            if (attributes != null) {
                for (String h : Planner.USAGE_HINTS) {
                    Object hint = attributes.get(h);
                    if (hint == null || attrs.get(h) != null) continue;
                    if (!copied) attrs = new TreeMap<>(attrs);
                    copied = true;
                    attrs.put(h, hint);
                }
            }
            // With the hints, as declared: a bucket's expected size is never read back from the cloud.
            if (as != null && copied && attrs.equals(as.attributes())) {
                asPlanned[out.size()] = true;
                out.add(as);
            } else {
                out.add(new Subject(r.address(), attrs, resourceFacts(env, r.address(), attrs), position));
            }
        }
        return out;
    }

    private boolean noneApply(Environment env) {
        return policies.stream().noneMatch(p -> p.match().matches(env));
    }

    private static List<PolicyResult> notIn(List<PolicyResult> planned, List<PolicyResult> live) {
        Set<String> already = new HashSet<>();
        planned.forEach(p -> already.add(p.policy() + " " + p.address()));
        return live.stream().filter(r -> !already.contains(r.policy() + " " + r.address())).toList();
    }

    /**
     * Every applying policy over {@code subjects}. With {@code same} (the plan's evaluation), a resource-level policy is not
     * evaluated again on a subject marked {@code asPlanned} (evaluated there) when the environment looks the same as there:
     * same inputs, same result.
     */
    private Evaluation evaluate(Environment env, List<Subject> subjects, Cost cost, boolean live, Evaluation same, boolean[] asPlanned) {
        List<Policy> applying = policies.stream().filter(p -> p.match().matches(env)).toList();
        if (applying.isEmpty()) return new Evaluation(List.of(), Map.of(), Map.of());
        // Facts are built as CEL's values once, then shared by every policy's evaluation.
        List<Map<String, Object>> resources = new ArrayList<>(subjects.size());
        long gpus = 0;
        for (Subject r : subjects) {
            gpus = gpus < 0 || !(r.facts().get("gpus") instanceof Long g) ? -1 : gpus + g;
            resources.add(r.facts());
        }
        Map<String, Object> environment = new LinkedHashMap<>();
        environment.put("name", env.name());
        environment.put("labels", env.labels());
        environment.put("provider", env.provider().id());
        environment.put("region", env.region());
        env.account().ifPresent(a -> environment.put("account", a));
        if (gpus >= 0) environment.put("gpus", gpus);
        environment.put("resourceCount", (long) subjects.size());
        Map<String, Object> environmentValues = Conditions.celValues(environment);
        Map<String, Object> costValues = Conditions.celValues(cost.facts());
        // A subject evaluated with the same facts in the same environment already: its results are the plan's.
        boolean[] evaluated = same != null && environmentValues.equals(same.environment()) ? asPlanned : new boolean[subjects.size()];
        ResourceType[] types = new ResourceType[subjects.size()];
        for (int i = 0; i < types.length; i++) types[i] = subjects.get(i).address().type();

        List<PolicyResult> out = new ArrayList<>();
        for (Policy p : applying) {
            if (p.environmentLevel()) {
                Conditions.Result r = p.program().evaluateValues(Map.of("environment", environmentValues, "resources", resources, "cost", costValues));
                if (!r.compliant()) out.add(result(p, Optional.empty(), r, Optional.ofNullable(env.position()), live));
                continue;
            }
            // In the subjects' order; a policy of one type compares types, not looks them up.
            ResourceType only = p.match().types().size() == 1 ? p.match().types().iterator().next() : null;
            for (int i = 0; i < types.length; i++) {
                if (evaluated[i] || (only != null ? types[i] != only : !p.match().types().contains(types[i]))) continue;
                Subject subject = subjects.get(i);
                Conditions.Result r = p.program().evaluateValues(Map.of("resource", subject.facts(), "environment", environmentValues));
                if (!r.compliant()) out.add(result(p, Optional.of(subject.address()), r, Optional.ofNullable(subject.position()), live));
            }
        }
        // What the plan's state was evaluated on, for the live part that follows (which nothing follows).
        Map<Address, Subject> byAddress = new HashMap<>(live ? 0 : subjects.size() * 2);
        if (!live) for (Subject subject : subjects) byAddress.putIfAbsent(subject.address(), subject);
        return new Evaluation(out, byAddress, environmentValues);
    }

    private static PolicyResult result(Policy p, Optional<io.mlctl.spec.Address> address, Conditions.Result r,
                                       Optional<io.mlctl.spec.SourcePosition> at, boolean live) {
        String message = r.error().map(e -> "the condition could not be evaluated (" + e + ")"
            + (p.enforcement() == Policy.Enforcement.DENY ? "; denied until it can" : "")).orElse(p.message());
        return new PolicyResult(p.name(), p.enforcement() == Policy.Enforcement.DENY, address, message, at.map(Object::toString), live,
            r.error().isPresent());
    }

    /**
     * A resource as a policy sees it: its type, name and address, the spec's attributes with defaults applied, and
     * {@code gpus}, the most GPUs it can run (machine type and accelerators, times the most nodes or replicas); a node pool
     * has its own {@code gpus}.
     */
    @SuppressWarnings("unchecked")
    Map<String, Object> resourceFacts(Environment env, Address address, Map<String, Object> attributes) {
        if (address.type() != ResourceType.KUBERNETES_CLUSTER && Values.isPlain(attributes)) {
            long gpus = switch (address.type()) {
                case INSTANCE -> known(gpusPerMachine(env, attributes, false), 1);
                case INFERENCE_ENDPOINT -> known(gpusPerMachine(env, attributes, true), number(attributes.get("maxReplicas"), 1));
                default -> 0;
            };
            if (gpus >= 0) return new Facts(attributes, address.type().id(), address.name(), address.toString(), gpus);
        }
        Map<String, Object> facts = new LinkedHashMap<>(attributes);
        facts.put("type", address.type().id());
        facts.put("name", address.name());
        facts.put("address", address.toString());
        long gpus = 0;
        switch (address.type()) {
            case INSTANCE -> gpus = known(gpusPerMachine(env, attributes, false), 1);
            case INFERENCE_ENDPOINT -> gpus = known(gpusPerMachine(env, attributes, true), number(attributes.get("maxReplicas"), 1));
            case KUBERNETES_CLUSTER -> {
                List<Object> pools = new ArrayList<>();
                for (Object o : (List<Object>) attributes.getOrDefault("nodePools", List.of())) {
                    Map<String, Object> pool = new LinkedHashMap<>((Map<String, Object>) o);
                    long poolGpus = known(gpusPerMachine(env, pool, false), number(pool.get("max"), 0));
                    if (poolGpus >= 0) pool.put("gpus", poolGpus);
                    gpus = gpus < 0 || poolGpus < 0 ? -1 : gpus + poolGpus;
                    pools.add(pool);
                }
                facts.put("nodePools", pools);
            }
            default -> { }
        }
        // A machine type the catalog does not know (one changed out of band): no gpus at all, so a condition reading them cannot
        // be evaluated and fails closed, rather than seeing 0.
        if (gpus >= 0) facts.put("gpus", gpus);
        return Conditions.celValues(facts);
    }

    /**
     * The facts of a resource whose attributes need no conversion for CEL (frozen, longs already): what a {@code LinkedHashMap}
     * copy of the attributes with type, name, address and gpus put in would hold, in its order, without the copy.
     */
    private static final class Facts extends AbstractMap<String, Object> {
        static final List<String> KEYS = List.of("type", "name", "address", "gpus");

        private final Map<String, Object> attributes;
        private final Object[] added;

        Facts(Map<String, Object> attributes, String type, String name, String address, long gpus) {
            this.attributes = attributes;
            this.added = new Object[] {type, name, address, gpus};
        }

        @Override
        public Object get(Object key) {
            int i = KEYS.indexOf(key);
            return i >= 0 ? added[i] : attributes.get(key);
        }

        @Override
        public boolean containsKey(Object key) {
            return KEYS.contains(key) || attributes.containsKey(key);
        }

        @Override
        public int size() {
            int n = attributes.size();
            for (String k : KEYS) if (!attributes.containsKey(k)) n++;
            return n;
        }

        /** The attributes in their order (one of the four keys with its value here), then those of the four they lack. */
        @Override
        public Set<Map.Entry<String, Object>> entrySet() {
            List<Map.Entry<String, Object>> entries = new ArrayList<>(attributes.size() + KEYS.size());
            for (Map.Entry<String, Object> e : attributes.entrySet()) {
                int i = KEYS.indexOf(e.getKey());
                entries.add(i >= 0 ? new AbstractMap.SimpleImmutableEntry<>(e.getKey(), added[i]) : e);
            }
            for (int i = 0; i < KEYS.size(); i++) {
                if (!attributes.containsKey(KEYS.get(i))) entries.add(new AbstractMap.SimpleImmutableEntry<>(KEYS.get(i), added[i]));
            }
            return new AbstractSet<>() {
                @Override
                public Iterator<Map.Entry<String, Object>> iterator() {
                    return java.util.Collections.unmodifiableList(entries).iterator();
                }

                @Override
                public int size() {
                    return entries.size();
                }
            };
        }
    }

    private static long known(long perMachine, long machines) {
        return perMachine < 0 ? -1 : perMachine * machines;
    }

    /** GPUs of one machine, -1 when its type is not in the catalog. */
    @SuppressWarnings("unchecked")
    private long gpusPerMachine(Environment env, Map<String, Object> attrs, boolean endpoint) {
        long n = 0;
        if (catalog != null && attrs.get("machineType") instanceof String type) {
            Catalog.ProviderCatalog c = catalog.of(env.provider());
            Catalog.MachineType m = (endpoint ? c.endpointMachineTypes() : c.machineTypes()).get(type);
            if (m == null && endpoint) m = c.machineTypes().get(type);
            if (m == null) return -1;
            n += m.gpus();
        }
        if (attrs.get("accelerator") instanceof Map<?, ?> a) n += number(((Map<String, Object>) a).get("count"), 1);
        return n;
    }

    private static long number(Object v, long otherwise) {
        return v instanceof Number n ? n.longValue() : otherwise;
    }

}
