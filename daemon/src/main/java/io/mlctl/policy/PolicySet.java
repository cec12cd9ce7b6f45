package io.mlctl.policy;

import io.mlctl.catalog.Catalog;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.Plan;
import io.mlctl.plan.PolicyResult;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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
        return evaluate(env, env.resources(), cost, false);
    }

    /** What the spec itself breaks, with the cost of what it declares ({@code mlctl validate}: no cloud is read). */
    public List<PolicyResult> checkSpec(Environment env, Cost cost) {
        if (policies.isEmpty()) return List.of();
        return evaluate(env, env.resources(), cost, false);
    }

    /**
     * What the environment's resources break as the cloud holds them now (an out-of-band change), leaving out what the
     * plan's own state breaks too ({@code planned}): reported, never deciding. Usage hints come from the spec.
     */
    public List<PolicyResult> checkLive(Environment env, Inventory inventory, Cost cost, List<PolicyResult> planned) {
        if (policies.isEmpty()) return List.of();
        List<ResourceSpec> live = new ArrayList<>();
        for (ObservedResource r : inventory.resources().values()) {
            Optional<ResourceSpec> declared = env.resource(r.address());
            Map<String, Object> attrs = new java.util.TreeMap<>(r.attributes());
            declared.ifPresent(d -> io.mlctl.planner.Planner.USAGE_HINTS.forEach(h -> {
                if (d.attributes().get(h) != null) attrs.putIfAbsent(h, d.attributes().get(h));
            }));
            live.add(new ResourceSpec(r.address(), attrs, java.util.Set.of(), declared.map(ResourceSpec::position).orElse(null)));
        }
        java.util.Set<String> already = new java.util.HashSet<>();
        planned.forEach(p -> already.add(p.policy() + " " + p.address()));
        return evaluate(env, live, cost, true).stream().filter(r -> !already.contains(r.policy() + " " + r.address())).toList();
    }

    private List<PolicyResult> evaluate(Environment env, List<ResourceSpec> remaining, Cost cost, boolean live) {
        List<Map<String, Object>> resources = new ArrayList<>();
        long gpus = 0;
        for (ResourceSpec r : remaining) {
            Map<String, Object> facts = resourceFacts(env, r);
            gpus = gpus < 0 || !facts.containsKey("gpus") ? -1 : gpus + (Long) facts.get("gpus");
            resources.add(facts);
        }
        Map<String, Object> environment = new LinkedHashMap<>();
        environment.put("name", env.name());
        environment.put("labels", env.labels());
        environment.put("provider", env.provider().id());
        environment.put("region", env.region());
        env.account().ifPresent(a -> environment.put("account", a));
        if (gpus >= 0) environment.put("gpus", gpus);
        environment.put("resourceCount", (long) remaining.size());

        List<PolicyResult> out = new ArrayList<>();
        for (Policy p : policies) {
            if (!p.match().matches(env)) continue;
            if (p.environmentLevel()) {
                Conditions.Result r = p.program().evaluate(Map.of("environment", environment, "resources", resources, "cost", cost.facts()));
                if (!r.compliant()) out.add(result(p, Optional.empty(), r, Optional.ofNullable(env.position()), live));
                continue;
            }
            for (int i = 0; i < remaining.size(); i++) {
                ResourceSpec spec = remaining.get(i);
                if (!p.match().types().contains(spec.address().type())) continue;
                Conditions.Result r = p.program().evaluate(Map.of("resource", resources.get(i), "environment", environment));
                if (!r.compliant()) out.add(result(p, Optional.of(spec.address()), r, Optional.ofNullable(spec.position()), live));
            }
        }
        return out;
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
    Map<String, Object> resourceFacts(Environment env, ResourceSpec r) {
        Map<String, Object> facts = new LinkedHashMap<>(r.attributes());
        facts.put("type", r.address().type().id());
        facts.put("name", r.address().name());
        facts.put("address", r.address().toString());
        long gpus = 0;
        switch (r.address().type()) {
            case INSTANCE -> gpus = known(gpusPerMachine(env, r.attributes(), false), 1);
            case INFERENCE_ENDPOINT -> gpus = known(gpusPerMachine(env, r.attributes(), true), number(r.attributes().get("maxReplicas"), 1));
            case KUBERNETES_CLUSTER -> {
                List<Object> pools = new ArrayList<>();
                for (Object o : (List<Object>) r.attributes().getOrDefault("nodePools", List.of())) {
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
        return facts;
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
