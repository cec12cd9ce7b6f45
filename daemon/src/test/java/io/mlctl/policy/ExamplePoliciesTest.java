package io.mlctl.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.inventory.Inventory;
import io.mlctl.plan.Plan;
import io.mlctl.plan.PolicyResult;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.Environment;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The policies shipped in examples/policies, each against an environment that keeps it and one that breaks it. */
class ExamplePoliciesTest {
    static final PolicySet POLICIES = Policies.compile(Specs.load(Fixtures.examples().resolve("policies")).policyDocuments(), Specs.CATALOG);

    private static String env(String labels, String provider, String region, String resources) {
        return """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: dev
              labels: {team: ml, cost-center: research%s}
            spec:
              provider: %s
              region: %s
              resources:
            %s""".formatted(labels, provider, region, resources.indent(4));
    }

    private static final String NET = """
        - type: network
          name: net
          cidr: 10.0.0.0/16
          subnets:
            - {name: a, cidr: 10.0.1.0/24, zone: us-east-1a}
            - {name: b, cidr: 10.0.2.0/24, zone: us-east-1b}
        """;

    private static String aws(String resources) {
        return env("", "aws", "us-east-1", NET + resources);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
            Arguments.of("a private bucket keeps every policy", aws("- {type: bucket, name: data}\n"), List.of()),
            Arguments.of("a public bucket is denied", aws("- {type: bucket, name: data, public: true}\n"),
                List.of("no-public-buckets deny bucket.data")),
            Arguments.of("confidential data without kms is denied",
                env(", data-classification: confidential", "aws", "us-east-1", "- {type: bucket, name: data}\n"),
                List.of("kms-for-confidential-data deny bucket.data")),
            Arguments.of("confidential data with kms keeps it",
                env(", data-classification: confidential", "aws", "us-east-1", "- {type: bucket, name: data, encryption: kms}\n"), List.of()),
            Arguments.of("a missing cost-center label is denied",
                env("", "aws", "us-east-1", "- {type: bucket, name: data}\n").replace(", cost-center: research", ""),
                List.of("required-labels deny -")),
            Arguments.of("eu data in an EU region of each cloud keeps it",
                env(", data-residency: eu", "gcp", "europe-west4", "- {type: bucket, name: data}\n"), List.of()),
            Arguments.of("eu data in an Azure EU region keeps it",
                env(", data-residency: eu", "azure", "westeurope", "- {type: bucket, name: data}\n"), List.of()),
            Arguments.of("eu data in Singapore is denied", env(", data-residency: eu", "gcp", "asia-southeast1", "- {type: bucket, name: data}\n"),
                List.of("eu-data-residency deny -")),
            Arguments.of("eu data in us-east-1 is denied", env(", data-residency: eu", "aws", "us-east-1", "- {type: bucket, name: data}\n"),
                List.of("eu-data-residency deny -")),
            Arguments.of("an on-demand GPU instance is denied",
                aws("- {type: instance, name: train, machineType: p3.2xlarge, subnet: net/a}\n"), List.of("gpus-on-spot deny instance.train")),
            Arguments.of("a spot GPU instance keeps it",
                aws("- {type: instance, name: train, machineType: p3.2xlarge, subnet: net/a, spot: true}\n"), List.of()),
            Arguments.of("an on-demand CPU instance keeps it",
                aws("- {type: instance, name: web, machineType: m5.large, subnet: net/a}\n"), List.of()),
            Arguments.of("an on-demand GPU instance is allowed by the label",
                env(", gpu-on-demand: allowed", "aws", "us-east-1", NET + "- {type: instance, name: train, machineType: p3.2xlarge, subnet: net/a}\n"),
                List.of()),
            Arguments.of("a cluster with an on-demand GPU pool is denied (a CPU pool on demand is fine)",
                aws("""
                    - type: kubernetes_cluster
                      name: k8s
                      version: "1.29"
                      subnet: net/a
                      nodePools:
                        - {name: cpu, machineType: m5.large, min: 1, max: 3}
                        - {name: gpu, machineType: g5.xlarge, min: 0, max: 2}
                    """), List.of("gpus-on-spot deny kubernetes_cluster.k8s")),
            Arguments.of("17 GPUs, counting the spot pool at its maximum, are denied",
                aws("""
                    - type: kubernetes_cluster
                      name: k8s
                      version: "1.29"
                      subnet: net/a
                      nodePools:
                        - {name: gpu, machineType: g5.xlarge, min: 0, max: 16, spot: true}
                    - {type: instance, name: one-more, machineType: p3.2xlarge, subnet: net/a, spot: true}
                    """), List.of("max-gpus deny -")),
            Arguments.of("a 2 TB bucket without lifecycle rules is warned about",
                aws("- {type: bucket, name: data, expectedSizeGb: 2000}\n"), List.of("lifecycle-on-large-buckets warn bucket.data")),
            Arguments.of("a 2 TB bucket with lifecycle rules keeps it",
                aws("- {type: bucket, name: data, expectedSizeGb: 2000.5, lifecycle: [{afterDays: 30, storageClass: archive}]}\n"), List.of()),
            Arguments.of("a small bucket needs none", aws("- {type: bucket, name: data, expectedSizeGb: 10}\n"), List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void eachExamplePolicyKeepsOrBreaksAsItSays(String why, String yaml, List<String> expected) {
        Environment env = Specs.env(yaml);
        Plan plan = new Planner(SandboxCloud::rulesOf).plan(env, Inventory.empty(env.name()), PlanOptions.defaults(Cli.NOW));
        List<String> got = POLICIES.check(env, plan, new PolicySet.Cost(0, 100, true)).stream()
            .map(r -> r.policy() + " " + r.enforcement() + " " + r.address().map(Object::toString).orElse("-")).toList();
        assertThat(got).as(why).containsExactlyInAnyOrderElementsOf(expected);
    }

    /** A budget that denies fails closed: a cost that is not known (a price missing) is not let through; a warning stays quiet. */
    @ParameterizedTest(name = "budget {0} known {1}")
    @MethodSource("budgets")
    void budgetsReadTheCostAfterThePlan(double after, boolean known, List<String> expected) {
        Environment env = Specs.env(aws("- {type: bucket, name: data}\n"));
        Plan plan = new Planner(SandboxCloud::rulesOf).plan(env, Inventory.empty(env.name()), PlanOptions.defaults(Cli.NOW));
        List<PolicyResult> results = POLICIES.check(env, plan, new PolicySet.Cost(100, after, known));
        assertThat(results.stream().map(r -> r.policy() + " " + r.enforcement()).toList()).containsExactlyInAnyOrderElementsOf(expected);
    }

    static Stream<Arguments> budgets() {
        return Stream.of(
            Arguments.of(5000.0, true, List.of()),
            Arguments.of(9000.0, true, List.of("team-ml-budget warn")),
            Arguments.of(25000.0, true, List.of("team-ml-budget warn", "monthly-budget deny")),
            Arguments.of(9000.0, false, List.of("monthly-budget deny")),
            Arguments.of(25000.0, false, List.of("monthly-budget deny")));
    }
}
