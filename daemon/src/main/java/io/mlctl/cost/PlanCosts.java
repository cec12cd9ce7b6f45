package io.mlctl.cost;

import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.Change;
import io.mlctl.plan.CostEstimate;
import io.mlctl.plan.Plan;
import io.mlctl.planner.Planner;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Prices a plan: every resource the environment holds before it (as inventory read it) and after it (each change applied to
 * that), the totals and the difference. Pure: prices, spec, inventory and plan in, an estimate out.
 */
public final class PlanCosts {
    private final CostModel model;

    public PlanCosts(CostModel model) {
        this.model = model;
    }

    public CostEstimate estimate(Environment env, Inventory inventory, Plan plan) {
        Map<Address, ResourceSpec> declared = hinted(env);
        Map<Address, Cost> was = new TreeMap<>();
        for (ObservedResource r : inventory.resources().values()) {
            Map<String, Object> attrs = withHints(declared, r.address(), r.attributes());
            was.put(r.address(), model.cost(env.provider(), region(env, attrs), r.address().type(), attrs));
        }
        // What an import takes over is already paid for: it is in the bill before the plan, not new spend.
        for (ObservedResource r : inventory.importing().values()) {
            Map<String, Object> attrs = withHints(declared, r.address(), r.attributes());
            was.put(r.address(), model.cost(env.provider(), region(env, attrs), r.address().type(), attrs));
        }
        // What the plan leaves as it is costs what it cost; each change applied in turn prices what it leaves.
        Map<Address, Cost> will = new TreeMap<>(was);
        for (Change c : plan.changes()) {
            // A subnet or node pool changes with its resource, whose own change carries the whole of it.
            if (c.address().isComponent()) continue;
            // A duplicate's delete leaves the resource kept under that address in place.
            boolean duplicate = inventory.duplicates().stream().anyMatch(d -> d.address().equals(c.address()) && d.cloudId().equals(c.cloudId()));
            if (duplicate) continue;
            if (c instanceof Change.Delete) {
                will.remove(c.address());
            } else {
                Map<String, Object> attrs = withHints(declared, c.address(), c.after());
                will.put(c.address(), model.cost(env.provider(), region(env, attrs), c.address().type(), attrs));
            }
        }
        List<CostEstimate.ResourceCost> resources = new ArrayList<>(will.size());
        LinkedHashSet<String> assumptions = new LinkedHashSet<>();
        java.util.Set<String> defaulted = new java.util.TreeSet<>();
        // Every address of either, in order: the two sorted maps walked side by side.
        Iterator<Map.Entry<Address, Cost>> wasIt = was.entrySet().iterator();
        Iterator<Map.Entry<Address, Cost>> willIt = will.entrySet().iterator();
        Map.Entry<Address, Cost> w = wasIt.hasNext() ? wasIt.next() : null;
        Map.Entry<Address, Cost> x = willIt.hasNext() ? willIt.next() : null;
        while (w != null || x != null) {
            int order = w == null ? 1 : x == null ? -1 : w.getKey().compareTo(x.getKey());
            Address a = order <= 0 ? w.getKey() : x.getKey();
            Optional<Cost> b = Optional.ofNullable(order <= 0 ? w.getValue() : null);
            Optional<Cost> f = Optional.ofNullable(order >= 0 ? x.getValue() : null);
            b.ifPresent(c -> assumptions.addAll(c.assumptions()));
            f.ifPresent(c -> assumptions.addAll(c.assumptions()));
            b.ifPresent(c -> defaulted.addAll(defaulted(env, c)));
            if (f.isPresent() && (b.isEmpty() || f.get() != b.get())) defaulted.addAll(defaulted(env, f.get()));
            Optional<CostEstimate.Amount> before = b.map(PlanCosts::amount);
            // An unchanged resource's one cost, its amount made once.
            Optional<CostEstimate.Amount> after = f.isPresent() && b.isPresent() && f.get() == b.get() ? before : f.map(PlanCosts::amount);
            resources.add(new CostEstimate.ResourceCost(a, before, after));
            if (order <= 0) w = wasIt.hasNext() ? wasIt.next() : null;
            if (order >= 0) x = willIt.hasNext() ? willIt.next() : null;
        }
        if (!defaulted.isEmpty()) assumptions.add(defaultedNote(env, defaulted));
        return new CostEstimate(Cost.USD, resources, amount(Cost.sum(was.values())), amount(Cost.sum(will.values())), general(assumptions));
    }

    /** The assumptions every estimate rests on first (hours, autoscaling, spot), then those of particular resources. */
    private static List<String> general(java.util.Collection<String> assumptions) {
        List<String> first = List.of(CostModel.HOURS, CostModel.AUTOSCALED, CostModel.SPOT);
        List<String> out = new ArrayList<>(first.stream().filter(assumptions::contains).toList());
        assumptions.stream().filter(a -> !first.contains(a)).forEach(out::add);
        return out;
    }

    /** Where each cloud's catalog prices are the default ("*") rows': a price used elsewhere is an approximation, said so. */
    private static final Map<io.mlctl.spec.Provider, String> DEFAULT_REGION = Map.of(io.mlctl.spec.Provider.AWS, "us-east-1",
        io.mlctl.spec.Provider.GCP, "us-central1", io.mlctl.spec.Provider.AZURE, "eastus");

    private static List<String> defaulted(Environment env, Cost c) {
        if (env.region().equals(DEFAULT_REGION.get(env.provider()))) return List.of();
        return c.items().stream().filter(i -> io.mlctl.cost.PriceRow.ANY_REGION.equals(i.region())).map(Cost.LineItem::name).toList();
    }

    private static String defaultedNote(Environment env, java.util.Set<String> names) {
        return "no " + env.region() + " price in the catalog for " + String.join(", ", names) + ": priced at "
            + DEFAULT_REGION.get(env.provider()) + "'s";
    }

    /** The estimate without a plan: what the environment's spec costs a month (mlctl cost). */
    public CostEstimate ofSpec(Environment env) {
        List<CostEstimate.ResourceCost> resources = new ArrayList<>();
        List<Cost> costs = new ArrayList<>();
        LinkedHashSet<String> assumptions = new LinkedHashSet<>();
        java.util.Set<String> defaulted = new java.util.TreeSet<>();
        for (ResourceSpec r : env.resources()) {
            Cost c = model.cost(env, r);
            costs.add(c);
            assumptions.addAll(c.assumptions());
            defaulted.addAll(defaulted(env, c));
            resources.add(new CostEstimate.ResourceCost(r.address(), Optional.empty(), Optional.of(amount(c))));
        }
        if (!defaulted.isEmpty()) assumptions.add(defaultedNote(env, defaulted));
        return new CostEstimate(Cost.USD, resources, CostEstimate.Amount.ZERO, amount(Cost.sum(costs)), general(assumptions));
    }

    /** The declared resources that give a usage hint, by address: the others have none to add. */
    private static Map<Address, ResourceSpec> hinted(Environment env) {
        Map<Address, ResourceSpec> out = new java.util.HashMap<>();
        for (ResourceSpec r : env.resources()) {
            for (String hint : Planner.USAGE_HINTS) {
                if (r.attributes().get(hint) != null) {
                    out.putIfAbsent(r.address(), r);
                    break;
                }
            }
        }
        return out;
    }

    /** The cloud does not report usage hints (a bucket's expected size): the spec's ({@code spec}: {@link #hinted}), for a resource it still declares. */
    private static Map<String, Object> withHints(Map<Address, ResourceSpec> spec, Address address, Map<String, Object> attributes) {
        ResourceSpec declared = spec.get(address);
        if (declared == null) return attributes;
        Map<String, Object> out = attributes;
        for (String hint : Planner.USAGE_HINTS) {
            Object v = declared.attributes().get(hint);
            if (v == null || out.get(hint) != null) continue;
            // Copied only when a hint is added (most resources have none).
            if (out == attributes) out = new TreeMap<>(attributes);
            out.put(hint, v);
        }
        return out;
    }

    private static String region(Environment env, Map<String, Object> attributes) {
        return attributes.get("region") instanceof String r && !r.isBlank() ? r : env.region();
    }

    static CostEstimate.Amount amount(Cost c) {
        List<String> unknown = c.unpriced().isEmpty() ? List.of() : c.unpriced().stream().map(Cost.Unpriced::message).distinct().toList();
        return new CostEstimate.Amount(round(c.low()), round(c.high()), c.usageBased(), unknown);
    }

    /** Cents: sums of 730-hour prices carry float noise that would show in JSON and golden files. */
    private static double round(double usd) {
        return Math.round(usd * 100) / 100.0;
    }
}
