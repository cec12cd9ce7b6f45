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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

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
        Map<Address, Map<String, Object>> before = new TreeMap<>();
        for (ObservedResource r : inventory.resources().values()) before.put(r.address(), withHints(env, r.address(), r.attributes()));
        // What an import takes over is already paid for: it is in the bill before the plan, not new spend.
        for (ObservedResource r : inventory.importing().values()) before.put(r.address(), withHints(env, r.address(), r.attributes()));
        Map<Address, Map<String, Object>> after = new TreeMap<>(before);
        for (Change c : plan.changes()) {
            // A subnet or node pool changes with its resource, whose own change carries the whole of it.
            if (c.address().isComponent()) continue;
            // A duplicate's delete leaves the resource kept under that address in place.
            boolean duplicate = inventory.duplicates().stream().anyMatch(d -> d.address().equals(c.address()) && d.cloudId().equals(c.cloudId()));
            if (duplicate) continue;
            if (c instanceof Change.Delete) after.remove(c.address());
            else after.put(c.address(), withHints(env, c.address(), c.after()));
        }
        Map<Address, Cost> was = new TreeMap<>();
        before.forEach((a, attrs) -> was.put(a, model.cost(env.provider(), region(env, attrs), a.type(), attrs)));
        Map<Address, Cost> will = new TreeMap<>();
        after.forEach((a, attrs) -> will.put(a, model.cost(env.provider(), region(env, attrs), a.type(), attrs)));
        List<CostEstimate.ResourceCost> resources = new ArrayList<>();
        TreeSet<Address> all = new TreeSet<>(was.keySet());
        all.addAll(will.keySet());
        LinkedHashSet<String> assumptions = new LinkedHashSet<>();
        java.util.Set<String> defaulted = new java.util.TreeSet<>();
        for (Address a : all) {
            Optional<Cost> b = Optional.ofNullable(was.get(a));
            Optional<Cost> f = Optional.ofNullable(will.get(a));
            b.ifPresent(x -> assumptions.addAll(x.assumptions()));
            f.ifPresent(x -> assumptions.addAll(x.assumptions()));
            b.ifPresent(x -> defaulted.addAll(defaulted(env, x)));
            f.ifPresent(x -> defaulted.addAll(defaulted(env, x)));
            resources.add(new CostEstimate.ResourceCost(a, b.map(PlanCosts::amount), f.map(PlanCosts::amount)));
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

    /** The cloud does not report usage hints (a bucket's expected size): the spec's, for a resource it still declares. */
    private static Map<String, Object> withHints(Environment env, Address address, Map<String, Object> attributes) {
        Optional<ResourceSpec> declared = env.resource(address);
        if (declared.isEmpty()) return attributes;
        Map<String, Object> out = new TreeMap<>(attributes);
        for (String hint : Planner.USAGE_HINTS) {
            Object v = declared.get().attributes().get(hint);
            if (v != null) out.putIfAbsent(hint, v);
        }
        return out;
    }

    private static String region(Environment env, Map<String, Object> attributes) {
        return attributes.get("region") instanceof String r && !r.isBlank() ? r : env.region();
    }

    static CostEstimate.Amount amount(Cost c) {
        return new CostEstimate.Amount(round(c.low()), round(c.high()), c.usageBased(), c.unpriced().stream().map(Cost.Unpriced::message).distinct().toList());
    }

    /** Cents: sums of 730-hour prices carry float noise that would show in JSON and golden files. */
    private static double round(double usd) {
        return Math.round(usd * 100) / 100.0;
    }
}
