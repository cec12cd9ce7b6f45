package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Policies found next to the specs, through the real CLI on the sandbox: a deny stops a plan and an apply, a warn does not. */
class PolicyCliTest {
    private static final String SPEC = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata:
          name: dev
          labels: {team: ml}
        spec:
          provider: aws
          region: us-east-1
          resources:
            - type: bucket
              name: dev-data
              public: true
        """;

    private static final String NO_PUBLIC = """
        apiVersion: mlctl.io/v1
        kind: Policy
        metadata:
          name: no-public-buckets
        spec:
          match: {types: [bucket]}
          condition: "!resource.public"
          message: buckets must not be public
        """;

    @TempDir
    Path dir;
    Cli cli;

    @BeforeEach
    void setUp() {
        cli = new Cli(dir);
        Fixtures.write(dir, "repo/envs/dev.yaml", SPEC);
    }

    @Test
    void aDenyPolicyIsShownInThePlanFailsItAndKeepsApplyFromTouchingTheCloud() {
        Fixtures.write(dir, "repo/policies/no-public.yaml", NO_PUBLIC);
        Cli.Result plan = cli.run("plan", "--sandbox", "repo");
        assertThat(plan.exitCode()).as(plan.toString()).isEqualTo(1);
        assertThat(plan.out()).contains("Plan: 1 to add")
            .contains("Error: policy no-public-buckets (deny): bucket.dev-data (repo/envs/dev.yaml:10:7): buckets must not be public")
            .contains("Policy check failed: 1 denial; apply refuses this plan until the spec or the policy changes.");
        assertThat(plan.err()).isEqualTo("Error: policy check failed for environment dev; the plan above says which policies deny it\n");

        Cli.Result apply = cli.run("apply", "--sandbox", "--auto-approve", "repo");
        assertThat(apply.exitCode()).isEqualTo(1);
        assertThat(apply.err()).contains("refusing to apply: policy no-public-buckets denies it (bucket.dev-data: buckets must not be public at "
            + "repo/envs/dev.yaml:10:7)");
        assertThat(cli.run("sandbox", "list").out()).startsWith("0 resources");

        JsonNode json = JsonMapper.builder().build().readTree(cli.run("plan", "--sandbox", "--format", "json", "repo").out());
        assertThat(json.get("applyable").asBoolean()).isFalse();
        assertThat(json.at("/policies/0/policy").asString()).isEqualTo("no-public-buckets");
        assertThat(json.at("/policies/0/enforcement").asString()).isEqualTo("deny");
        assertThat(json.at("/policies/0/address").asString()).isEqualTo("bucket.dev-data");
        assertThat(json.at("/policies/0/at").asString()).isEqualTo("repo/envs/dev.yaml:10:7");
        assertThat(json.at("/policies/0/live").asBoolean()).isFalse();

        // The spec fixed: the same policy lets it through.
        Fixtures.write(dir, "repo/envs/dev.yaml", SPEC.replace("public: true", "public: false"));
        Cli.Result fixed = cli.run("apply", "--sandbox", "--auto-approve", "repo");
        assertThat(fixed.exitCode()).as(fixed.toString()).isZero();
        assertThat(fixed.out()).doesNotContain("policy");
    }

    @Test
    void validateEvaluatesThePoliciesOnTheSpecWithoutACloud() {
        Fixtures.write(dir, "repo/policies/no-public.yaml", NO_PUBLIC);
        Fixtures.write(dir, "repo/policies/labels.yaml", """
            apiVersion: mlctl.io/v1
            kind: Policy
            metadata: {name: cost-center}
            spec:
              enforcement: warn
              condition: "'cost-center' in environment.labels"
              message: label the environment with its cost-center
            """);
        Cli.Result r = cli.run("validate", "repo");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("repo/envs/dev.yaml:10:7: policy no-public-buckets (deny): bucket.dev-data: buckets must not be public\n"
            + "1 policy denial\n");
        assertThat(r.out()).contains("Warning: repo/envs/dev.yaml:1:1: policy cost-center (warn): label the environment with its cost-center");
        JsonNode json = JsonMapper.builder().build().readTree(cli.run("validate", "--format", "json", "repo").out());
        assertThat(json.get("valid").asBoolean()).isFalse();
        assertThat(json.at("/errors/0/file").asString()).isEqualTo("repo/envs/dev.yaml");
        assertThat(json.at("/errors/0/line").asInt()).isEqualTo(10);
        assertThat(json.at("/errors/0/policy").asString()).isEqualTo("no-public-buckets");
        assertThat(json.at("/warnings/0/policy").asString()).isEqualTo("cost-center");

        Fixtures.write(dir, "repo/envs/dev.yaml", SPEC.replace("public: true", "public: false"));
        Cli.Result fixed = cli.run("validate", "repo");
        assertThat(fixed.exitCode()).as(fixed.toString()).isZero();
        assertThat(fixed.out()).contains("Warning: repo/envs/dev.yaml:1:1: policy cost-center (warn)").contains("Success!");
    }

    @Test
    void validateJudgesMachineTypeAutoAsTheMachineItResolvesTo() throws Exception {
        Fixtures.write(dir, "repo/envs/dev.yaml", """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: dev
              labels: {team: ml, cost-center: research}
            spec:
              provider: aws
              region: us-east-1
              resources:
                - type: network
                  name: net
                  cidr: 10.0.0.0/16
                  subnets:
                    - {name: a, cidr: 10.0.1.0/24, zone: us-east-1a}
                - type: instance
                  name: trainer
                  machineType: auto
                  accelerator: {type: nvidia-v100, count: 1}
                  spot: SPOT
                  subnet: net/a
            """.replace("SPOT", "true"));
        for (String p : java.util.List.of("gpus-on-spot.yaml", "max-gpus.yaml", "monthly-budget.yaml")) {
            Fixtures.write(dir, "repo/policies/" + p, Files.readString(Fixtures.examples().resolve("policies").resolve(p)));
        }
        Cli.Result ok = cli.run("validate", "repo");
        assertThat(ok.exitCode()).as(ok.toString()).isZero();
        Fixtures.write(dir, "repo/envs/dev.yaml", Files.readString(dir.resolve("repo/envs/dev.yaml")).replace("spot: true", "spot: false"));
        Cli.Result onDemand = cli.run("validate", "repo");
        assertThat(onDemand.exitCode()).isEqualTo(1);
        assertThat(onDemand.err()).contains("policy gpus-on-spot (deny): instance.trainer: GPU instances and node pools must be spot")
            .doesNotContain("could not be evaluated");
    }

    @Test
    void aSavedPlanIsJudgedByThePoliciesAsTheyAreWhenItIsApplied() {
        Fixtures.write(dir, "repo/envs/dev.yaml", SPEC.replace("public: true", "public: false"));
        Cli.Result saved = cli.run("plan", "--sandbox", "--out", "dev.plan", "repo");
        assertThat(saved.exitCode()).as(saved.toString()).isZero();
        Fixtures.write(dir, "repo/policies/labels.yaml", """
            apiVersion: mlctl.io/v1
            kind: Policy
            metadata: {name: cost-center}
            spec:
              condition: "'cost-center' in environment.labels"
              message: label the environment with its cost-center
            """);
        Cli.Result apply = cli.run("apply", "--sandbox", "dev.plan");
        assertThat(apply.exitCode()).isEqualTo(1);
        assertThat(apply.err()).contains("refusing to apply: policy cost-center denies it (label the environment with its cost-center at repo/envs/dev.yaml:1:1)");
        assertThat(cli.run("sandbox", "list").out()).startsWith("0 resources");
    }

    @Test
    void aBucketMadePublicOutOfBandIsReportedAsItIsInTheCloudAndThePlanThatCorrectsItGoesAhead() {
        Fixtures.write(dir, "repo/envs/dev.yaml", SPEC.replace("public: true", "public: false"));
        Fixtures.write(dir, "repo/policies/no-public.yaml", NO_PUBLIC);
        assertThat(cli.run("apply", "--sandbox", "--auto-approve", "repo").exitCode()).isZero();
        assertThat(cli.run("sandbox", "set", "-e", "dev", "bucket.dev-data", "public=true").exitCode()).isZero();
        Cli.Result plan = cli.run("plan", "--sandbox", "--detailed-exitcode", "repo");
        assertThat(plan.exitCode()).as(plan.toString()).isEqualTo(2);
        assertThat(plan.out()).contains("~ public = true -> false")
            .contains("Warning: policy no-public-buckets (deny): bucket.dev-data (repo/envs/dev.yaml:10:7) as it is in the cloud now: "
                + "buckets must not be public; applying this plan corrects it")
            .doesNotContain("Policy check failed");
        JsonNode json = JsonMapper.builder().build().readTree(cli.run("plan", "--sandbox", "--format", "json", "repo").out());
        assertThat(json.at("/policies/0/live").asBoolean()).isTrue();
        assertThat(json.get("applyable").asBoolean()).isTrue();
        // A plan that leaves the bucket out (targeting something else) reports it, and does not claim to correct it.
        Fixtures.write(dir, "repo/envs/dev.yaml", SPEC.replace("public: true", "public: false") + """
                - type: bucket
                  name: other-data
            """);
        Cli.Result targeted = cli.run("plan", "--sandbox", "--target", "bucket.other-data", "repo");
        assertThat(targeted.out()).contains("bucket.dev-data (repo/envs/dev.yaml:10:7) as it is in the cloud now: buckets must not be public\n")
            .doesNotContain("corrects");
    }

    @Test
    void aDestroyIsNotKeptFromRemovingAnEnvironmentThatBreaksAnEnvironmentLevelPolicy() {
        Fixtures.write(dir, "repo/envs/dev.yaml", SPEC.replace("public: true", "public: false"));
        assertThat(cli.run("apply", "--sandbox", "--auto-approve", "repo").exitCode()).isZero();
        Fixtures.write(dir, "repo/policies/labels.yaml", """
            apiVersion: mlctl.io/v1
            kind: Policy
            metadata: {name: cost-center}
            spec:
              condition: "'cost-center' in environment.labels"
              message: label the environment with its cost-center
            """);
        assertThat(cli.run("plan", "--sandbox", "repo").exitCode()).as("the environment breaks it").isEqualTo(1);
        Cli.Result destroy = cli.run("destroy", "--sandbox", "--auto-approve", "repo");
        assertThat(destroy.exitCode()).as(destroy.toString()).isZero();
        assertThat(cli.run("sandbox", "list").out()).startsWith("0 resources");
    }

    @Test
    void planQuietShowsTheDenialsItFailsOn() {
        Fixtures.write(dir, "repo/policies/no-public.yaml", NO_PUBLIC);
        Cli.Result r = cli.run("plan", "--sandbox", "--quiet", "repo");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).startsWith("Plan: 1 to add, 0 to change, 0 to destroy.\n")
            .contains("Error: policy no-public-buckets (deny): bucket.dev-data (repo/envs/dev.yaml:10:7): buckets must not be public");
    }

    @Test
    void aWarnPolicyIsShownAndTheApplyGoesAhead() {
        Fixtures.write(dir, "repo/policies/no-public.yaml", NO_PUBLIC.replace("spec:\n", "spec:\n  enforcement: warn\n"));
        Cli.Result plan = cli.run("plan", "--sandbox", "--detailed-exitcode", "repo");
        assertThat(plan.exitCode()).as(plan.toString()).isEqualTo(2);
        assertThat(plan.out()).contains("Warning: policy no-public-buckets (warn): bucket.dev-data (repo/envs/dev.yaml:10:7): buckets must not be public")
            .doesNotContain("Policy check failed");
        Cli.Result md = cli.run("plan", "--sandbox", "--format", "markdown", "repo");
        assertThat(md.out()).contains("> **Warning:** policy no-public-buckets (warn): bucket.dev-data (repo/envs/dev.yaml:10:7): buckets must not be public");
        Cli.Result apply = cli.run("apply", "--sandbox", "--auto-approve", "repo");
        assertThat(apply.exitCode()).as(apply.toString()).isZero();
    }

    @Test
    void aConditionThatDoesNotCompileIsASpecErrorAtItsPositionAndNothingIsPlanned() {
        Fixtures.write(dir, "repo/policies/typo.yaml", NO_PUBLIC.replace("\"!resource.public\"", "\"!resource.public &&\""));
        Fixtures.write(dir, "repo/policies/unknown.yaml", NO_PUBLIC.replace("no-public-buckets", "env-level")
            .replace("  match: {types: [bucket]}\n", "").replace("\"!resource.public\"", "resource.public == false"));
        Cli.Result r = cli.run("validate", "repo");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("repo/policies/typo.yaml:7:34: policy no-public-buckets: the condition does not compile: mismatched input '<EOF>'")
            .contains("repo/policies/unknown.yaml:6:14: policy env-level: the condition does not compile: undeclared reference to 'resource' (a policy")
            .contains("(a policy without match.types sees environment, resources, cost)");
        assertThat(cli.run("plan", "--sandbox", "repo").exitCode()).isEqualTo(1);
    }

    @Test
    void aPolicyDocumentIsCheckedAgainstItsSchemaWithDidYouMean() {
        Fixtures.write(dir, "repo/policies/bad.yaml", NO_PUBLIC.replace("  match:", "  enforcment: warn\n  match:"));
        Cli.Result r = cli.run("validate", "repo");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("repo/policies/bad.yaml:6:3: unknown field 'enforcment' in spec (did you mean 'enforcement'?)");
    }

    @Test
    void policyTestRunsTheShippedExamplesTestsAndTheyAllPass() {
        Cli.Result r = cli.run("policy", "test", Fixtures.examples().resolve("policies").toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("PASS  public-bucket-denied").contains("PASS  too-many-gpus-denied").endsWith("15 passed, 0 failed.\n");
    }

    @Test
    void aPolicyTestWhoseExpectationIsWrongFailsSayingWhatDiffered() {
        Fixtures.write(dir, "repo/policies/no-public.yaml", NO_PUBLIC);
        String test = """
            apiVersion: mlctl.io/v1
            kind: PolicyTest
            metadata: {name: NAME}
            spec:
              environment:
            %s  expect: EXPECT
            """.formatted(SPEC.indent(4));
        Fixtures.write(dir, "repo/tests/t.yaml", test.replace("NAME", "wrong").replace("EXPECT", "[{policy: no-public-buckets, address: bucket.other}]")
            + "---\n" + test.replace("NAME", "right").replace("EXPECT", "[{policy: no-public-buckets, address: bucket.dev-data, enforcement: deny}]")
            + "---\n" + test.replace("NAME", "wrong-enforcement").replace("EXPECT", "[{policy: no-public-buckets, address: bucket.dev-data, enforcement: warn}]"));
        Cli.Result r = cli.run("policy", "test", "repo/policies", "repo/tests");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).contains("FAIL  wrong (repo/tests/t.yaml:1:1)\n        expected, not broken: no-public-buckets bucket.other\n"
                + "        broken, not expected: no-public-buckets bucket.dev-data (deny)\n")
            .contains("PASS  right (repo/tests/t.yaml:")
            .contains("FAIL  wrong-enforcement").contains("expected, not broken: no-public-buckets bucket.dev-data (warn)")
            .endsWith("1 passed, 2 failed.\n");
        // The example environments are not the repository's: planning the folder finds none of them.
        assertThat(cli.run("plan", "--sandbox", "repo/tests").err()).contains("no environments found");
    }

    @Test
    void aConditionThatCannotBeEvaluatedFailsItsPolicyTestInsteadOfPassingAsTheExpectedViolation() {
        Fixtures.write(dir, "repo/policies/size.yaml", """
            apiVersion: mlctl.io/v1
            kind: Policy
            metadata: {name: small-buckets}
            spec:
              match: {types: [bucket]}
              condition: resource.expectedSizeGb < 5000
              message: buckets stay under 5 TB
            """);
        Fixtures.write(dir, "repo/tests/t.yaml", """
            apiVersion: mlctl.io/v1
            kind: PolicyTest
            metadata: {name: huge-bucket-denied}
            spec:
              environment:
            %s  expect: [{policy: small-buckets, address: bucket.dev-data}]
            """.formatted(SPEC.indent(4)));
        Cli.Result r = cli.run("policy", "test", "repo");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).contains("FAIL  huge-bucket-denied").contains("could not evaluate: small-buckets bucket.dev-data:")
            .endsWith("0 passed, 1 failed.\n");
    }

    @Test
    void policyTestWithoutTestsOrPoliciesIsOneLine() {
        Cli.Result none = cli.run("policy", "test", "repo");
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.err()).isEqualTo("Error: no policy tests found (kind: PolicyTest documents) in repo\n");
    }

    @Test
    void theShippedExamplesValidateWithTheirPolicies() throws Exception {
        Cli.Result r = cli.run("validate", Fixtures.examples().resolve("policies").toString(), Fixtures.examples().resolve("aws-training.yaml").toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(Files.list(Fixtures.examples().resolve("policies")).count()).isGreaterThanOrEqualTo(8);
    }
}
