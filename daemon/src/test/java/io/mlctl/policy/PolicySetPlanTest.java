package io.mlctl.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.bench.SyntheticEnvironment;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.Plan;
import io.mlctl.plan.PolicyResult;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.Values;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Specs;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@link PolicySet#checkPlan}, which evaluates a resource the cloud holds as declared once, gives what {@link PolicySet#check}
 * then {@link PolicySet#checkLive} give; and the facts a policy sees are what they were before they stopped being copied.
 */
class PolicySetPlanTest {
    static final PolicySet POLICIES = ExamplePoliciesTest.POLICIES;

    /** The bench's environment (labelled so most example policies apply), plus a cluster with GPU pools and a sized bucket. */
    static final Environment ENV = Specs.env(SyntheticEnvironment.yaml("bench", 60)
        + "    - {type: bucket, name: big, expectedSizeGb: 2000}\n"
        + "    - {type: kubernetes_cluster, name: k8s, version: \"1.29\", subnet: net-n0/a, nodePools: "
        + "[{name: gpu, machineType: g5.xlarge, min: 0, max: 2}, {name: cpu, machineType: m5.large, min: 1, max: 3}]}\n");

    private static ObservedResource observed(Address a, Map<String, Object> attributes) {
        return new ObservedResource(a, a.type().id() + "-" + a.name(), attributes, Ownership.tags(ENV.name(), a));
    }

    /** The cloud as the spec declares it, then changed: {@code change} per address (null: gone), plus {@code extra} resources. */
    private static Inventory inventory(Map<String, Map<String, Object>> change, List<ObservedResource> extra) {
        Map<Address, ObservedResource> out = new TreeMap<>();
        for (ResourceSpec r : ENV.resources()) {
            String key = r.address().toString();
            Map<String, Object> attrs = new TreeMap<>(r.attributes());
            if (change.containsKey(key)) {
                if (change.get(key) == null) continue;
                attrs.putAll(change.get(key));
                attrs.values().removeIf(v -> v.equals("<removed>"));
            }
            out.put(r.address(), observed(r.address(), attrs));
        }
        extra.forEach(o -> out.put(o.address(), o));
        return new Inventory(ENV.name(), out, List.of());
    }

    private static List<PolicyResult> separately(Plan plan, Inventory inventory, PolicySet.Cost planned, PolicySet.Cost now) {
        // A destroy is not judged, neither what it leaves (nothing) nor the cloud it takes away.
        if (plan.destroy()) return List.of();
        List<PolicyResult> first = POLICIES.check(ENV, plan, planned);
        List<PolicyResult> all = new ArrayList<>(first);
        all.addAll(POLICIES.checkLive(ENV, inventory, now, first));
        return all;
    }

    private static void sameResults(Inventory inventory, boolean destroy) {
        Plan plan = new Planner(SandboxCloud::rulesOf).plan(ENV, inventory,
            destroy ? new PlanOptions(true, Set.of(), Cli.NOW) : PlanOptions.defaults(Cli.NOW));
        PolicySet.Cost planned = new PolicySet.Cost(1000, 30000, true);
        PolicySet.Cost now = new PolicySet.Cost(1000, 1000, true);
        List<PolicyResult> together = POLICIES.checkPlan(ENV, plan, inventory, planned, now);
        assertThat(together).containsExactlyElementsOf(separately(plan, inventory, planned, now));
    }

    @Test
    void aCloudHeldAsDeclaredBreaksWhatThePlanBreaks() {
        Inventory inventory = inventory(Map.of("bucket.big", Map.of("expectedSizeGb", "<removed>")), List.of());
        Plan plan = new Planner(SandboxCloud::rulesOf).plan(ENV, inventory, PlanOptions.defaults(Cli.NOW));
        List<PolicyResult> results = POLICIES.checkPlan(ENV, plan, inventory, PolicySet.Cost.UNKNOWN, PolicySet.Cost.UNKNOWN);
        assertThat(results).isNotEmpty().noneMatch(PolicyResult::live);
        sameResults(inventory, false);
    }

    @Test
    void outOfBandChangesMissingAndExtraResourcesAreReportedAsTheyWere() {
        Map<String, Map<String, Object>> change = new HashMap<>();
        change.put("bucket.data-n0", Map.of("public", true));
        change.put("instance.gpu-n1-1", Map.of("spot", false));
        change.put("bucket.models-n2", null);
        change.put("bucket.big", Map.of("expectedSizeGb", "<removed>", "versioning", true));
        Inventory inventory = inventory(change, List.of(observed(Address.parse("bucket.old"), Map.of("public", true))));
        sameResults(inventory, false);
        sameResults(inventory, true);
        Plan plan = new Planner(SandboxCloud::rulesOf).plan(ENV, inventory, PlanOptions.defaults(Cli.NOW));
        List<String> live = POLICIES.checkPlan(ENV, plan, inventory, PolicySet.Cost.UNKNOWN, PolicySet.Cost.UNKNOWN).stream()
            .filter(PolicyResult::live).map(r -> r.policy() + " " + r.address().orElseThrow()).toList();
        assertThat(live).contains("no-public-buckets bucket.data-n0", "gpus-on-spot instance.gpu-n1-1", "no-public-buckets bucket.old");
    }

    @Test
    void anEnvironmentThatLooksOtherwiseLiveIsEvaluatedAgain() {
        // An extra GPU instance in the cloud: environment.gpus differs between the plan's state and the cloud's.
        Map<String, Object> gpu = Map.of("machineType", "p3.2xlarge", "spot", false, "subnet", "net-n0/a");
        Inventory inventory = inventory(Map.of(), List.of(observed(Address.parse("instance.stray"), gpu)));
        sameResults(inventory, false);
    }

    @Test
    void aResourcePolicyThatReadsTheEnvironmentIsEvaluatedAgainWhenTheEnvironmentDiffers() throws java.io.IOException {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("mlctl-policy");
        io.mlctl.testing.Fixtures.write(dir, "count.yaml", """
            apiVersion: mlctl.io/v1
            kind: Policy
            metadata: {name: small-environments}
            spec:
              enforcement: warn
              match: {types: [bucket]}
              condition: environment.resourceCount <= %d
              message: too many resources
            """.formatted(ENV.resources().size()));
        PolicySet counting = Policies.compile(Specs.load(dir).policyDocuments(), Specs.CATALOG);
        Inventory inventory = inventory(Map.of(), List.of(observed(Address.parse("bucket.stray"), Map.of())));
        Plan plan = new Planner(SandboxCloud::rulesOf).plan(ENV, inventory, PlanOptions.defaults(Cli.NOW));
        List<PolicyResult> together = counting.checkPlan(ENV, plan, inventory, PolicySet.Cost.UNKNOWN, PolicySet.Cost.UNKNOWN);
        List<PolicyResult> first = counting.check(ENV, plan, PolicySet.Cost.UNKNOWN);
        List<PolicyResult> all = new ArrayList<>(first);
        all.addAll(counting.checkLive(ENV, inventory, PolicySet.Cost.UNKNOWN, first));
        assertThat(first).isEmpty();
        assertThat(together).isEqualTo(all).hasSize((int) inventory.resources().keySet().stream().filter(a -> a.type().id().equals("bucket")).count())
            .allMatch(PolicyResult::live);
    }

    @Test
    void factsAreTheAttributesWithTypeNameAddressAndGpusAfterThem() {
        Map<String, Object> attrs = Values.freezeMap(Map.of("machineType", "p3.2xlarge", "spot", true, "diskGb", 200,
            "tags", Map.of("team", "ml"), "lifecycle", List.of(Map.of("expireDays", 14))));
        Address a = Address.parse("instance.train");
        Map<String, Object> facts = POLICIES.resourceFacts(ENV, a, attrs);
        Map<String, Object> copy = new LinkedHashMap<>(attrs);
        copy.put("type", "instance");
        copy.put("name", "train");
        copy.put("address", "instance.train");
        copy.put("gpus", 1L);
        assertThat(facts).isEqualTo(copy).hasSameHashCodeAs(copy).hasSize(copy.size());
        assertThat(copy).isEqualTo(facts);
        assertThat(new ArrayList<>(facts.entrySet())).containsExactlyElementsOf(copy.entrySet());
        assertThat(facts.get("diskGb")).isEqualTo(200L);
        assertThat(facts.containsKey("gpus")).isTrue();
        assertThat(facts.containsKey("accelerator")).isFalse();

        // An attribute named like one of the four: the four win, in the attribute's place.
        Map<String, Object> named = Values.freezeMap(Map.of("name", "other", "spot", false));
        Map<String, Object> withName = POLICIES.resourceFacts(ENV, Address.parse("bucket.b"), named);
        Map<String, Object> expected = new LinkedHashMap<>(named);
        expected.put("type", "bucket");
        expected.put("name", "b");
        expected.put("address", "bucket.b");
        expected.put("gpus", 0L);
        assertThat(withName).isEqualTo(expected).hasSize(expected.size());
        assertThat(new ArrayList<>(withName.entrySet())).containsExactlyElementsOf(expected.entrySet());
    }

    @Test
    void celSeesTheFactsAsItSawTheCopy() throws Conditions.CompileError {
        Conditions.Compiled c = Conditions.compile("size(resource) == 9 && resource.exists(k, k == 'gpus') && resource.gpus == 1"
            + " && resource.tags.team == 'ml' && !has(resource.accelerator) && resource.diskGb == 200", false);
        Map<String, Object> attrs = Values.freezeMap(Map.of("machineType", "p3.2xlarge", "spot", true, "diskGb", 200,
            "tags", Map.of("team", "ml"), "subnet", "net-n0/a"));
        Map<String, Object> facts = POLICIES.resourceFacts(ENV, Address.parse("instance.train"), attrs);
        Map<String, Object> environment = Map.of("name", "bench", "labels", Map.of());
        assertThat(c.evaluate(Map.of("resource", facts, "environment", environment)).compliant()).isTrue();
        assertThat(c.evaluate(Map.of("resource", new LinkedHashMap<>(facts), "environment", environment)).compliant()).isTrue();
    }
}
