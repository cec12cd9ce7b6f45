package io.mlctl.planner;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.Action;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Change;
import io.mlctl.plan.Plan;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class PlannerTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private final Planner planner = new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf);
    private final Environment env = Specs.env(Fixtures.smallEnv("dev"));

    /** The inventory a cloud would report right after applying {@code env}. */
    private static Map<Address, ObservedResource> applied(Environment env) {
        Map<Address, ObservedResource> m = new TreeMap<>();
        for (ResourceSpec r : env.resources()) {
            m.put(r.address(), new ObservedResource(r.address(), "id-" + r.address().name(), r.attributes(), Ownership.tags(env.name(), r.address())));
        }
        return m;
    }

    private static Inventory inventory(Environment env, Map<Address, ObservedResource> m) {
        return new Inventory(env.name(), m, List.of());
    }

    private static ObservedResource withAttr(ObservedResource r, String key, Object value) {
        Map<String, Object> attrs = new HashMap<>(r.attributes());
        if (value == null) attrs.remove(key);
        else attrs.put(key, value);
        return new ObservedResource(r.address(), r.cloudId(), attrs, r.tags());
    }

    private Plan plan(Environment e, Inventory inv) {
        return planner.plan(e, inv, PlanOptions.defaults(NOW));
    }

    @Test
    void emptyCloudCreatesEverythingDependenciesFirst() {
        Plan p = plan(env, Inventory.empty("dev"));
        assertThat(p.summary().create()).isEqualTo(4);
        List<String> order = p.changes().stream().map(c -> c.address().toString()).toList();
        assertThat(order.indexOf("network.net")).isLessThan(order.indexOf("instance.gpu-1"));
        assertThat(order.indexOf("identity.trainer")).isLessThan(order.indexOf("instance.gpu-1"));
        assertThat(order.indexOf("bucket.dev-data")).isLessThan(order.indexOf("identity.trainer"));
    }

    @Test
    void matchingCloudHasNoChangesAndKeepsCloudIds() {
        Plan p = plan(env, inventory(env, applied(env)));
        assertThat(p.hasChanges()).isFalse();
        assertThat(p.unchanged()).extracting(u -> u.cloudId()).contains("id-net", "id-gpu-1");
    }

    record Case(String name, String address, UnaryOperator<ObservedResource> drift, Action expected, String path, boolean forces) {
    }

    @Test
    void eachDriftedAttributeGivesTheExpectedAction() {
        List<Case> cases = List.of(
            new Case("versioning suspended", "bucket.dev-data", r -> withAttr(r, "versioning", false), Action.UPDATE, "versioning", false),
            new Case("encryption changed", "bucket.dev-data", r -> withAttr(r, "encryption", "kms"), Action.UPDATE, "encryption", false),
            new Case("disk shrunk", "instance.gpu-1", r -> withAttr(r, "diskGb", 50L), Action.UPDATE, "diskGb", false),
            new Case("machine type", "instance.gpu-1", r -> withAttr(r, "machineType", "g5.xlarge"), Action.UPDATE, "machineType", false),
            new Case("spot flag", "instance.gpu-1", r -> withAttr(r, "spot", true), Action.REPLACE, "spot", true),
            new Case("identity removed", "instance.gpu-1", r -> withAttr(r, "identity", null), Action.UPDATE, "identity", false),
            new Case("network cidr", "network.net", r -> withAttr(r, "cidr", "10.1.0.0/16"), Action.REPLACE, "cidr", true),
            new Case("region", "bucket.dev-data", r -> withAttr(r, "region", "us-west-2"), Action.REPLACE, "region", true));
        for (Case c : cases) {
            Map<Address, ObservedResource> inv = applied(env);
            Address a = Address.parse(c.address());
            inv.put(a, c.drift().apply(inv.get(a)));
            Plan p = plan(env, inventory(env, inv));
            Change ch = p.changes().stream().filter(x -> x.address().equals(a)).findFirst()
                .orElseThrow(() -> new AssertionError(c.name() + ": no change planned"));
            assertThat(ch.action()).as(c.name()).isEqualTo(c.expected());
            assertThat(ch.attributes()).as(c.name()).extracting(AttributeChange::path, AttributeChange::forcesReplacement)
                .contains(org.assertj.core.groups.Tuple.tuple(c.path(), c.forces()));
            if (c.expected() == Action.REPLACE) assertThat(ch.reason()).as(c.name()).contains(c.path() + " cannot be changed in place");
        }
    }

    @Test
    void anAttributeTheKindCannotHoldOnThisCloudIsNeverADifference() {
        // GCE networks take no labels: a network listed without the environment's labels is not drift, and no update is planned.
        Environment env = Specs.env(Fixtures.smallEnv("dev").replace("  name: dev\n", "  name: dev\n  labels: {team: ml}\n"));
        assertThat(env.labels()).containsEntry("team", "ml");
        Address net = Address.parse("network.net");
        Map<Address, ObservedResource> inv = applied(env);
        Map<String, Object> bare = new TreeMap<>(inv.get(net).attributes());
        bare.remove("tags");
        bare.put("privateStorageAccess", !Boolean.TRUE.equals(bare.get("privateStorageAccess")));
        inv.put(net, new ObservedResource(net, inv.get(net).cloudId(), bare, inv.get(net).tags()));
        Planner gcpLike = new Planner(t -> t == io.mlctl.spec.ResourceType.NETWORK
            ? new io.mlctl.provider.ResourceRules(Set.of("cidr")).without(Set.of("tags")) : new io.mlctl.provider.ResourceRules(Set.of()));
        Plan p = gcpLike.plan(env, inventory(env, inv), PlanOptions.defaults(NOW));
        // Only the real difference shows; without the rule the missing labels would be one too.
        assertThat(p.changes()).singleElement().satisfies(c -> assertThat(c.attributes()).extracting(AttributeChange::path)
            .containsExactly("privateStorageAccess"));
        Plan plain = new Planner(t -> new io.mlctl.provider.ResourceRules(Set.of("cidr"))).plan(env, inventory(env, inv), PlanOptions.defaults(NOW));
        assertThat(plain.changes()).singleElement().satisfies(c -> assertThat(c.attributes()).extracting(AttributeChange::path)
            .contains("privateStorageAccess", "tags"));
    }

    @Test
    void nestedPathsNameTheElementAndTheProvidersRulesSayWhatForcesAReplace() {
        // A provider whose subnets cannot change their range in place, but can be added.
        Planner strict = new Planner(t -> t == io.mlctl.spec.ResourceType.NETWORK
            ? new io.mlctl.provider.ResourceRules(Set.of("cidr", "subnets[].cidr")) : io.mlctl.provider.sandbox.SandboxCloud.rulesOf(t));
        Address net = Address.parse("network.net");
        Map<Address, ObservedResource> inv = applied(env);
        Map<String, Object> subnet = new TreeMap<>(Map.of("name", "train", "cidr", "10.0.9.0/24", "zone", "us-east-1a", "private", true));
        inv.put(net, withAttr(inv.get(net), "subnets", List.of(subnet)));
        Plan p = strict.plan(env, inventory(env, inv), PlanOptions.defaults(NOW));
        // The network is updated in place; its subnet is replaced on its own, and the instance in it with it.
        assertThat(p.changes()).extracting(c -> c.address() + " " + c.action().id())
            .containsExactly("network.net update", "network.net.subnet.train replace", "instance.gpu-1 replace");
        Change subnetChange = p.changes().get(1);
        assertThat(subnetChange.attributes()).extracting(AttributeChange::path, AttributeChange::forcesReplacement)
            .containsExactly(org.assertj.core.groups.Tuple.tuple("subnets[train].cidr", true));
        assertThat(subnetChange.reason()).isEqualTo("subnets[train].cidr cannot be changed in place");
        assertThat(subnetChange.before()).containsEntry("cidr", "10.0.9.0/24");
        assertThat(subnetChange.after()).containsEntry("cidr", "10.0.1.0/24");
        assertThat(p.changes().get(2).reason()).isEqualTo("network.net.subnet.train is replaced and subnet cannot be changed in place");
        assertThat(p.summary().replace()).isEqualTo(2);

        // A forced change outside any component still replaces the whole resource.
        Map<Address, ObservedResource> moved = applied(env);
        moved.put(net, withAttr(moved.get(net), "cidr", "10.8.0.0/16"));
        assertThat(strict.plan(env, inventory(env, moved), PlanOptions.defaults(NOW)).changes())
            .extracting(c -> c.address() + " " + c.action().id()).containsExactly("network.net replace", "instance.gpu-1 replace");

        // The same drift under rules that allow it is an in-place update naming the element.
        Plan lenient = new Planner(t -> new io.mlctl.provider.ResourceRules(Set.of())).plan(env, inventory(env, inv), PlanOptions.defaults(NOW));
        assertThat(lenient.changes()).singleElement().satisfies(c -> {
            assertThat(c.action()).isEqualTo(Action.UPDATE);
            assertThat(c.attributes()).extracting(AttributeChange::path).containsExactly("subnets[train].cidr");
        });

        // A subnet only the cloud has is removed from the network on its own, not a reason to replace the network.
        Map<String, Object> extra = new TreeMap<>(Map.of("name", "eval", "cidr", "10.0.2.0/24", "private", true));
        Map<Address, ObservedResource> more = applied(env);
        List<Object> had = new java.util.ArrayList<>((List<?>) more.get(net).attributes().get("subnets"));
        had.add(extra);
        more.put(net, withAttr(more.get(net), "subnets", had));
        Plan removing = strict.plan(env, inventory(env, more), PlanOptions.defaults(NOW));
        assertThat(removing.changes()).extracting(c -> c.address() + " " + c.action().id())
            .containsExactly("network.net update", "network.net.subnet.eval delete");
        assertThat(removing.changes().get(0).attributes()).extracting(AttributeChange::path).containsExactly("subnets[eval]");
    }

    @Test
    void aSubnetTheSpecNoLongerNamesIsADeleteOfItsOwnThatTheMassDeleteGuardCounts() {
        Address net = Address.parse("network.net");
        Map<Address, ObservedResource> inv = applied(env);
        List<Object> subnets = new java.util.ArrayList<>((List<?>) inv.get(net).attributes().get("subnets"));
        for (int i = 0; i < 12; i++) subnets.add(new TreeMap<>(Map.of("name", "old-" + i, "cidr", "10.0." + (100 + i) + ".0/24", "private", true)));
        inv.put(net, withAttr(inv.get(net), "subnets", subnets));
        Plan p = plan(env, inventory(env, inv));
        assertThat(p.changes().get(0).address()).isEqualTo(net);
        assertThat(p.changes().get(0).action()).isEqualTo(Action.UPDATE);
        assertThat(p.changes()).filteredOn(c -> c.address().isComponent()).hasSize(12).allSatisfy(c -> {
            assertThat(c.action()).isEqualTo(Action.DELETE);
            assertThat(c.address().toString()).startsWith("network.net.subnet.old-");
            assertThat(c.reason()).isEqualTo("no longer declared in the spec");
            assertThat(c.before()).containsKey("cidr");
        });
        assertThat(p.summary().delete()).isEqualTo(12);
        assertThat(p.massDelete()).isTrue();
    }

    private static final String CLUSTER_ENV = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata: {name: dev}
        spec:
          provider: aws
          region: us-east-1
          resources:
            - type: network
              name: net
              cidr: 10.0.0.0/16
              subnets:
                - {name: a, cidr: 10.0.1.0/24, zone: us-east-1a}
                - {name: b, cidr: 10.0.2.0/24, zone: us-east-1b}
            - type: kubernetes_cluster
              name: k
              version: "1.29"
              subnet: net/a
              nodePools:
                - {name: gpu, machineType: g5.xlarge, min: 1, max: 2}
                - {name: cpu, machineType: m5.large, min: 1, max: 3}
        """;

    @Test
    void targetingANetworkWhoseSubnetIsReplacedTakesWhatRunsInItAlong() {
        Map<Address, ObservedResource> inv = applied(env);
        Address net = Address.parse("network.net");
        Map<String, Object> subnet = new TreeMap<>(Map.of("name", "train", "cidr", "10.0.9.0/24", "zone", "us-east-1a", "private", true));
        inv.put(net, withAttr(inv.get(net), "subnets", List.of(subnet)));
        inv.put(Address.parse("bucket.dev-data"), withAttr(inv.get(Address.parse("bucket.dev-data")), "versioning", false));
        Plan p = planner.plan(env, inventory(env, inv), new PlanOptions(false, Set.of(net), NOW));
        assertThat(p.changes()).extracting(c -> c.address() + " " + c.action().id())
            .containsExactly("network.net update", "network.net.subnet.train replace", "instance.gpu-1 replace");
    }

    @Test
    void droppingTheWholeNodePoolListDeletesEachPoolOnItsOwn() {
        Environment withPools = Specs.env(CLUSTER_ENV);
        Environment without = Specs.env(CLUSTER_ENV.replaceAll("(?s)\\n\\s*nodePools:.*", ""));
        Plan p = plan(without, inventory(withPools, applied(withPools)));
        assertThat(p.changes()).extracting(c -> c.address() + " " + c.action().id()).containsExactly(
            "kubernetes_cluster.k update", "kubernetes_cluster.k.node_pool.cpu delete", "kubernetes_cluster.k.node_pool.gpu delete");
        assertThat(p.summary().delete()).isEqualTo(2);
    }

    @Test
    void aResourceThatSpansEveryPointOfItsNetworkGoesWithAnyReplacedSubnet() {
        Environment env = Specs.env(CLUSTER_ENV);
        Environment moved = Specs.env(CLUSTER_ENV.replace("cidr: 10.0.2.0/24", "cidr: 10.0.3.0/24"));
        java.util.function.Function<io.mlctl.spec.ResourceType, io.mlctl.provider.ResourceRules> rules = t -> switch (t) {
            case NETWORK -> new io.mlctl.provider.ResourceRules(Set.of("cidr", "subnets[].cidr"));
            case KUBERNETES_CLUSTER -> new io.mlctl.provider.ResourceRules(Set.of("subnet"), Set.of(), Set.of("subnet"));
            default -> new io.mlctl.provider.ResourceRules(Set.of());
        };
        Plan p = new Planner(rules).plan(moved, inventory(env, applied(env)), PlanOptions.defaults(NOW));
        assertThat(p.changes()).extracting(c -> c.address() + " " + c.action().id())
            .containsExactly("network.net update", "network.net.subnet.b replace", "kubernetes_cluster.k replace");
        assertThat(p.changes().get(2).reason()).isEqualTo("network.net.subnet.b is replaced and kubernetes_cluster spans every subnet of network.net on this cloud");
        // Where the cloud runs it in the named subnet only, the other subnet's replacement leaves it alone.
        Plan sandbox = planner.plan(moved, inventory(env, applied(env)), PlanOptions.defaults(NOW));
        assertThat(sandbox.changes()).extracting(c -> c.address().toString()).doesNotContain("kubernetes_cluster.k");
    }

    @Test
    void replacingANetworkReplacesWhatSitsInItsSubnets() {
        Map<Address, ObservedResource> inv = applied(env);
        Address net = Address.parse("network.net");
        inv.put(net, withAttr(inv.get(net), "cidr", "10.9.0.0/16"));
        Plan p = plan(env, inventory(env, inv));
        Change instance = p.changes().stream().filter(c -> c.address().toString().equals("instance.gpu-1")).findFirst().orElseThrow();
        assertThat(instance.action()).isEqualTo(Action.REPLACE);
        assertThat(instance.reason()).isEqualTo("network.net is replaced and subnet cannot be changed in place");
        assertThat(p.summary().replace()).isEqualTo(2);
    }

    @Test
    void ownedResourcesNoLongerDeclaredArePruned() {
        Map<Address, ObservedResource> inv = applied(env);
        Address old = Address.parse("bucket.old-logs");
        inv.put(old, new ObservedResource(old, "old-logs", Map.of("region", "us-east-1"), Ownership.tags("dev", old)));
        Plan p = plan(env, inventory(env, inv));
        assertThat(p.changes()).singleElement().satisfies(c -> {
            assertThat(c.action()).isEqualTo(Action.DELETE);
            assertThat(c.address()).isEqualTo(old);
            assertThat(c.reason()).isEqualTo("no longer declared in the spec");
        });
        assertThat(p.massDelete()).isFalse(); // 1 of 5
    }

    /** Owned buckets beside smallEnv's 4 resources, of which {@code removed} are no longer declared. */
    Plan pruning(int extra, int removed, String allow) {
        StringBuilder yaml = new StringBuilder(Fixtures.smallEnv("dev"));
        if (!allow.isEmpty()) yaml.replace(yaml.indexOf("  region: us-east-1\n"), yaml.indexOf("  region: us-east-1\n") + 19, "  region: us-east-1\n  allowMassDelete: " + allow + "\n");
        StringBuilder all = new StringBuilder(yaml);
        for (int i = 0; i < extra; i++) all.append("    - type: bucket\n      name: b-").append(i).append('\n');
        for (int i = removed; i < extra; i++) yaml.append("    - type: bucket\n      name: b-").append(i).append('\n');
        Environment before = Specs.env(all.toString());
        return plan(Specs.env(yaml.toString()), inventory(before, applied(before)));
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{1} of {0}+4 deleted: mass delete {2}")
    @org.junit.jupiter.params.provider.CsvSource({
        // Up to three deletions is an ordinary change, whatever the environment's size.
        "0, 0, false", "2, 1, false", "2, 2, false", "3, 3, false",
        // More than three and more than half of the environment.
        "4, 4, false", "5, 5, true", "6, 4, false",
        // More than ten, however big the environment.
        "30, 10, false", "30, 11, true"})
    void massDeleteThresholds(int extra, int removed, boolean mass) {
        Plan p = pruning(extra, removed, "");
        assertThat(p.summary().delete()).isEqualTo(removed);
        assertThat(p.massDelete()).isEqualTo(mass);
        if (mass) {
            assertThat(p.warnings()).singleElement().asString().contains("deletes " + removed + " of the " + (extra + 4) + " resources")
                .contains("--allow-mass-delete").contains("allowMassDelete");
        } else {
            assertThat(p.warnings()).isEmpty();
        }
    }

    @Test
    void theSpecsAllowMassDeleteReleasesTheGuardUpToItsCountAndIsAlwaysWarnedAbout() {
        Plan released = pruning(5, 5, "true");
        assertThat(released.massDelete()).isTrue();
        assertThat(released.warnings()).hasSize(2).anySatisfy(w -> assertThat(w).contains("the spec's allowMassDelete releases it"))
            .anySatisfy(w -> assertThat(w).contains("allowMassDelete is set").contains("remove it"));
        assertThat(Specs.env(Fixtures.smallEnv("dev").replace("  region: us-east-1\n", "  region: us-east-1\n  allowMassDelete: 5\n"))
            .massDeleteAllowed(5)).isTrue();
        Plan tooMany = pruning(8, 8, "5");
        assertThat(tooMany.warnings()).anySatisfy(w -> assertThat(w).contains("deletes 8 of the 12").contains("--allow-mass-delete"));
        assertThat(Specs.env(Fixtures.smallEnv("dev")).massDeleteAllowed(1)).isFalse();
    }

    @Test
    void deletingMoreThanTenNeedsPermissionEvenInABigEnvironment() {
        StringBuilder yaml = new StringBuilder(Fixtures.smallEnv("dev"));
        for (int i = 0; i < 60; i++) yaml.append("    - type: bucket\n      name: keep-").append(i).append('\n');
        Environment big = Specs.env(yaml.toString());
        Map<Address, ObservedResource> inv = applied(big);
        for (int i = 0; i < 11; i++) {
            Address a = Address.parse("bucket.old-" + i);
            inv.put(a, new ObservedResource(a, "old-" + i, Map.of(), Ownership.tags("dev", a)));
        }
        Plan p = plan(big, inventory(big, inv));
        assertThat(p.summary().delete()).isEqualTo(11); // 11 of 75: under a quarter, over ten
        assertThat(p.massDelete()).isTrue();
        inv.remove(Address.parse("bucket.old-10"));
        assertThat(plan(big, inventory(big, inv)).massDelete()).as("ten is allowed").isFalse();
    }

    @Test
    void destroyDeletesEverythingInReverseAndIsNotMassDeleteGuarded() {
        Plan p = planner.plan(env, inventory(env, applied(env)), new PlanOptions(true, Set.of(), NOW));
        assertThat(p.summary().delete()).isEqualTo(4);
        assertThat(p.massDelete()).isFalse();
        Change net = p.changes().stream().filter(c -> c.address().toString().equals("network.net")).findFirst().orElseThrow();
        assertThat(net.dependsOn()).containsExactly(Address.parse("instance.gpu-1"));
        List<String> order = p.changes().stream().map(c -> c.address().toString()).toList();
        assertThat(order.indexOf("instance.gpu-1")).as("listed in the order they run").isLessThan(order.indexOf("network.net"))
            .isLessThan(order.indexOf("identity.trainer"));
    }

    @Test
    void targetPlansOnlyTheTargetAndItsDependencies() {
        Plan p = planner.plan(env, Inventory.empty("dev"), new PlanOptions(false, Set.of(Address.parse("identity.trainer")), NOW));
        assertThat(p.changes()).extracting(c -> c.address().toString()).containsExactly("bucket.dev-data", "identity.trainer");
    }

    @Test
    void duplicatesAreDeletedAndTheKeptOneIsManaged() {
        Map<Address, ObservedResource> inv = applied(env);
        Address a = Address.parse("instance.gpu-1");
        ObservedResource dup = new ObservedResource(a, "id-zz-dup", inv.get(a).attributes(), inv.get(a).tags());
        Plan p = planner.plan(env, new Inventory("dev", inv, List.of(dup)), PlanOptions.defaults(NOW));
        assertThat(p.changes()).singleElement().satisfies(c -> {
            assertThat(c.action()).isEqualTo(Action.DELETE);
            assertThat(c.cloudId()).isEqualTo("id-zz-dup");
            assertThat(c.reason()).startsWith("duplicate of id-gpu-1");
        });
    }

    @Test
    void planningIsPureAndRepeatable() {
        Map<Address, ObservedResource> inv = applied(env);
        Address b = Address.parse("bucket.dev-data");
        inv.put(b, withAttr(inv.get(b), "versioning", false));
        Inventory i = inventory(env, inv);
        Plan p1 = plan(env, i);
        Plan p2 = plan(env, i);
        assertThat(p1).isEqualTo(p2);
        assertThat(p1.fingerprints().spec()).isEqualTo(plan(env, Inventory.empty("dev")).fingerprints().spec());
        assertThat(p1.fingerprints().inventory()).isNotEqualTo(plan(env, Inventory.empty("dev")).fingerprints().inventory());
        assertThat(p1.changes()).hasSize(1);
    }
}
