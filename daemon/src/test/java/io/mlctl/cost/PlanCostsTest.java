package io.mlctl.cost;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.bench.SyntheticEnvironment;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.Change;
import io.mlctl.plan.CostEstimate;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Specs;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** A plan's estimate, made in one pass, is what pricing every resource before and after one by one gives. */
class PlanCostsTest {
    static final CostModel MODEL = new CostModel(PriceCatalog.shipped());

    static final Environment ENV = Specs.env(SyntheticEnvironment.yaml("bench", 40)
        + "    - {type: bucket, name: big, expectedSizeGb: 2000}\n"
        + "    - {type: kubernetes_cluster, name: k8s, version: \"1.29\", subnet: net-n0/a, nodePools: "
        + "[{name: gpu, machineType: g5.xlarge, min: 0, max: 2, spot: true}, {name: cpu, machineType: m5.large, min: 1, max: 3}]}\n");

    private static ObservedResource observed(Address a, Map<String, Object> attributes) {
        return new ObservedResource(a, a.type().id() + "-" + a.name(), attributes, Ownership.tags(ENV.name(), a));
    }

    /** The cloud: as declared, but a bucket's size is not read back, one instance is bigger, one is missing, and two extra resources. */
    static Inventory inventory() {
        Map<Address, ObservedResource> out = new TreeMap<>();
        for (ResourceSpec r : ENV.resources()) {
            Map<String, Object> attrs = new TreeMap<>(r.attributes());
            String a = r.address().toString();
            if (a.equals("instance.gpu-n1-2")) continue;
            if (a.equals("bucket.big")) attrs.remove("expectedSizeGb");
            if (a.equals("instance.cpu-n2")) attrs.put("machineType", "m5.4xlarge");
            out.put(r.address(), observed(r.address(), attrs));
        }
        Address stray = Address.parse("instance.stray");
        out.put(stray, observed(stray, Map.of("machineType", "p3.2xlarge", "region", "eu-west-1")));
        Address old = Address.parse("bucket.old");
        out.put(old, observed(old, Map.of("expectedSizeGb", 100)));
        return new Inventory(ENV.name(), out, List.of());
    }

    @Test
    void theEstimateIsEveryResourcePricedBeforeAndAfter() {
        Inventory inventory = inventory();
        for (boolean destroy : List.of(false, true)) {
            Plan plan = new Planner(SandboxCloud::rulesOf).plan(ENV, inventory,
                destroy ? new PlanOptions(true, Set.of(), Cli.NOW) : PlanOptions.defaults(Cli.NOW));
            assertThat(plan.changes()).isNotEmpty();
            CostEstimate got = new PlanCosts(MODEL).estimate(ENV, inventory, plan);
            assertThat(got).isEqualTo(oneByOne(ENV, inventory, plan));
            assertThat(got.after().high()).isNotEqualTo(got.before().high());
        }
    }

    @Test
    void aSumIsTheCostsAddedInTurn() {
        List<Cost> costs = ENV.resources().stream().map(r -> MODEL.cost(ENV, r)).toList();
        Cost added = Cost.free();
        for (Cost c : costs) added = added.plus(c);
        assertThat(Cost.sum(costs)).isEqualTo(added);
        assertThat(Cost.sum(List.of())).isEqualTo(Cost.free());
    }

    /** The estimate as it was first written: every resource's attributes copied, priced before and after, then walked by address. */
    private static CostEstimate oneByOne(Environment env, Inventory inventory, Plan plan) {
        Map<Address, Map<String, Object>> before = new TreeMap<>();
        for (ObservedResource r : inventory.resources().values()) before.put(r.address(), hints(env, r.address(), r.attributes()));
        Map<Address, Map<String, Object>> after = new TreeMap<>(before);
        for (Change c : plan.changes()) {
            if (c.address().isComponent()) continue;
            if (inventory.duplicates().stream().anyMatch(d -> d.address().equals(c.address()) && d.cloudId().equals(c.cloudId()))) continue;
            if (c instanceof Change.Delete) after.remove(c.address());
            else after.put(c.address(), hints(env, c.address(), c.after()));
        }
        Map<Address, Cost> was = new TreeMap<>();
        before.forEach((a, attrs) -> was.put(a, MODEL.cost(env.provider(), region(env, attrs), a.type(), attrs)));
        Map<Address, Cost> will = new TreeMap<>();
        after.forEach((a, attrs) -> will.put(a, MODEL.cost(env.provider(), region(env, attrs), a.type(), attrs)));
        List<CostEstimate.ResourceCost> resources = new ArrayList<>();
        TreeSet<Address> all = new TreeSet<>(was.keySet());
        all.addAll(will.keySet());
        LinkedHashSet<String> assumptions = new LinkedHashSet<>();
        for (Address a : all) {
            Optional<Cost> b = Optional.ofNullable(was.get(a));
            Optional<Cost> f = Optional.ofNullable(will.get(a));
            b.ifPresent(x -> assumptions.addAll(x.assumptions()));
            f.ifPresent(x -> assumptions.addAll(x.assumptions()));
            resources.add(new CostEstimate.ResourceCost(a, b.map(PlanCosts::amount), f.map(PlanCosts::amount)));
        }
        Cost total = Cost.free();
        for (Cost c : was.values()) total = total.plus(c);
        Cost totalAfter = Cost.free();
        for (Cost c : will.values()) totalAfter = totalAfter.plus(c);
        List<String> first = List.of(CostModel.HOURS, CostModel.AUTOSCALED, CostModel.SPOT);
        List<String> ordered = new ArrayList<>(first.stream().filter(assumptions::contains).toList());
        assumptions.stream().filter(x -> !first.contains(x)).forEach(ordered::add);
        return new CostEstimate(Cost.USD, resources, PlanCosts.amount(total), PlanCosts.amount(totalAfter), ordered);
    }

    private static Map<String, Object> hints(Environment env, Address address, Map<String, Object> attributes) {
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
}
