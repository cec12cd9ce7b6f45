package io.mlctl.gitops;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.apply.EnvironmentLock;
import io.mlctl.apply.LockService;
import io.mlctl.apply.RetryPolicy;
import io.mlctl.cost.CostModel;
import io.mlctl.cost.PlanCosts;
import io.mlctl.cost.PriceCatalog;
import io.mlctl.engine.Engine;
import io.mlctl.inventory.InventoryReader;
import io.mlctl.plan.CostEstimate;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.policy.Policies;
import io.mlctl.policy.PolicySet;
import io.mlctl.spec.Address;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceType;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.testing.GitRepos;
import io.mlctl.testing.Specs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/**
 * The daemon judges every commit and branch by the repository's policies (a denied plan blocks its environment, a policy
 * that does not compile rejects the commit) and prices every plan (the cost gauge, the status API, the plan events), on a
 * real Git repository, the sandbox cloud and the real status server.
 */
class PoliciesAndCostTest {
    static final String BUCKET_POSITION = "envs/dev.yaml:17:7";

    @TempDir
    Path dir;
    GitRepos git;
    DaemonHarness h;

    @BeforeEach
    void setUp() throws Exception {
        git = new GitRepos(dir.resolve("git"));
        h = new DaemonHarness(dir);
    }

    @AfterEach
    void tearDown() {
        h.close();
        git.close();
    }

    static String noPublicBuckets(String enforcement) {
        return """
            apiVersion: mlctl.io/v1
            kind: Policy
            metadata:
              name: no-public-buckets
            spec:
              enforcement: %s
              match:
                types: [bucket]
              condition: "!resource.public"
              message: buckets must not be public
            """.formatted(enforcement);
    }

    static String maxGpus(int n) {
        return """
            apiVersion: mlctl.io/v1
            kind: Policy
            metadata:
              name: max-gpus
            spec:
              enforcement: deny
              condition: environment.gpus <= %d
              message: at most %d GPUs
            """.formatted(n, n);
    }

    static String publicBucket(String yaml) {
        return yaml.replace("versioning: true", "versioning: true\n      public: true");
    }

    Map<String, Object> bucket(String env) {
        return new InventoryReader(h.sandbox).read(Specs.env(DaemonHarness.autoEnv(env))).get(Address.parse("bucket." + env + "-data"))
            .orElseThrow().attributes();
    }

    JsonNode environment(String name) {
        for (JsonNode e : h.get("/api/environments").json()) {
            if (e.path("name").asString().equals(name)) return e;
        }
        throw new AssertionError("no environment " + name + " in /api/environments");
    }

    /** The plan the daemon will make of {@code yaml}, made by an engine of its own on the same cloud, priced at the shipped prices. */
    Plan planOf(String yaml) {
        Engine engine = new Engine(h.sandbox, dir.resolve("scratch"), h.clock, RetryPolicy.standard(new Random()), LockService.files(),
            PolicySet.NONE, Optional.of(new PlanCosts(new CostModel(PriceCatalog.shipped()))));
        return engine.plan(Specs.env(yaml), PlanOptions.defaults(h.clock.instant()));
    }

    @Test
    void aCommitBreakingADenyPolicyBlocksItsEnvironmentUntilTheSpecIsFixed() throws Exception {
        String v1 = DaemonHarness.autoEnv("dev");
        git.write("envs/dev.yaml", v1).commit("dev");
        git.push("main");
        Reconciler r = h.start(h.config(git.url()));
        r.tick();
        assertThat(r.statuses()).singleElement().extracting(EnvironmentStatus::status).isEqualTo(EnvironmentStatus.Status.SYNCED);

        // The policy comes with a change that breaks it, and another that does not: neither is applied.
        git.write("envs/dev.yaml", publicBucket(v1).replace("versioning: true", "versioning: false"))
            .write("policies/no-public-buckets.yaml", noPublicBuckets("deny")).commit("public bucket, versioning off, and the policy");
        git.push("main");
        r.tick();
        EnvironmentStatus s = r.statuses().get(0);
        assertThat(s.status()).as(h.logs.toString()).isEqualTo(EnvironmentStatus.Status.BLOCKED);
        assertThat(s.error()).contains("plan refused: policy no-public-buckets denies bucket.dev-data (" + BUCKET_POSITION
            + "): buckets must not be public; nothing is applied until the spec or the policy changes");
        assertThat(bucket("dev")).containsEntry("versioning", true).containsEntry("public", false);
        JsonNode lastPlan = environment("dev").path("lastPlan");
        assertThat(lastPlan.path("policies")).singleElement().satisfies(p -> {
            assertThat(p.path("policy").asString()).isEqualTo("no-public-buckets");
            assertThat(p.path("enforcement").asString()).isEqualTo("deny");
            assertThat(p.path("address").asString()).isEqualTo("bucket.dev-data");
        });
        assertThat(environment("dev").path("status").asString()).isEqualTo("blocked");

        // Blocked is not failing: no retry between drift checks, and the drift check keeps it blocked without a second event.
        long requests = h.sandbox.requestCount();
        for (int i = 0; i < 3; i++) {
            h.clock.advance(Duration.ofMinutes(1));
            r.tick();
        }
        assertThat(h.sandbox.requestCount()).as("not retried every tick").isEqualTo(requests);
        h.clock.advance(Duration.ofMinutes(10));
        r.tick();
        assertThat(h.sandbox.requestCount()).as("re-planned at the drift check").isGreaterThan(requests);
        assertThat(r.statuses().get(0).status()).isEqualTo(EnvironmentStatus.Status.BLOCKED);
        assertThat(bucket("dev")).containsEntry("public", false);
        h.flushEvents();
        assertThat(h.events("blocked")).as("one event per plan, not per check").singleElement().satisfies(e -> {
            assertThat(e.path("environment").asString()).isEqualTo("dev");
            assertThat(e.path("error").asString()).isEqualTo(s.error().orElseThrow());
            assertThat(e.path("policies").get(0).path("policy").asString()).isEqualTo("no-public-buckets");
            assertThat(e.path("costDelta").path("high").isNumber()).isTrue();
        });
        assertThat(h.events("error")).isEmpty();
        assertThat(h.events("apply")).hasSize(1);
        assertThat(h.metric("mlctl_environment_status{environment=\"dev\",status=\"blocked\"}")).contains(1.0);
        assertThat(h.metric("mlctl_reconcile_total{environment=\"dev\",outcome=\"blocked\"}")).contains(2.0);

        git.write("envs/dev.yaml", v1.replace("versioning: true", "versioning: false")).commit("private again");
        git.push("main");
        r.tick();
        assertThat(r.statuses().get(0).status()).as(h.logs.toString()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(r.statuses().get(0).error()).isEmpty();
        assertThat(r.statuses().get(0).lastPlanPolicies()).isEmpty();
        assertThat(bucket("dev")).containsEntry("versioning", false).containsEntry("public", false);
    }

    @Test
    void aPolicyCommittedAfterTheSpecReportsTheViolationAndAWarningDoesNotBlock() throws Exception {
        String v1 = publicBucket(DaemonHarness.autoEnv("dev"));
        git.write("envs/dev.yaml", v1).commit("a public bucket");
        git.push("main");
        Reconciler r = h.start(h.config(git.url()));
        r.tick();
        assertThat(bucket("dev")).containsEntry("public", true);

        // Only the policy changes: the environment is re-evaluated at once (not at its next drift check).
        git.write("policies/no-public-buckets.yaml", noPublicBuckets("deny")).commit("no public buckets");
        git.push("main");
        r.tick();
        EnvironmentStatus s = r.statuses().get(0);
        assertThat(s.status()).isEqualTo(EnvironmentStatus.Status.BLOCKED);
        assertThat(s.error()).contains("the applied spec breaks a policy: policy no-public-buckets denies bucket.dev-data (" + BUCKET_POSITION
            + "): buckets must not be public; nothing is applied until the spec or the policy changes");
        h.clock.advance(Duration.ofMinutes(11));
        r.tick();
        assertThat(r.statuses().get(0).status()).as("still blocked at the drift check").isEqualTo(EnvironmentStatus.Status.BLOCKED);
        h.flushEvents();
        assertThat(h.events("blocked")).hasSize(1);

        git.write("policies/no-public-buckets.yaml", noPublicBuckets("warn")).commit("only a warning");
        git.push("main");
        r.tick();
        s = r.statuses().get(0);
        assertThat(s.status()).as(h.logs.toString()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(s.error()).isEmpty();
        assertThat(environment("dev").path("lastPlan").path("policies")).singleElement().satisfies(p -> {
            assertThat(p.path("policy").asString()).isEqualTo("no-public-buckets");
            assertThat(p.path("enforcement").asString()).isEqualTo("warn");
            assertThat(p.path("message").asString()).isEqualTo("buckets must not be public");
        });
        h.flushEvents();
        assertThat(h.events("blocked")).hasSize(1);
        assertThat(bucket("dev")).containsEntry("public", true);
    }

    @Test
    void relaxingThePolicyLetsTheChangeItHeldBackThrough() throws Exception {
        String v1 = DaemonHarness.autoEnv("dev");
        git.write("envs/dev.yaml", v1).commit("dev");
        git.push("main");
        Reconciler r = h.start(h.config(git.url()));
        r.tick();
        git.write("envs/dev.yaml", publicBucket(v1)).write("policies/no-public-buckets.yaml", noPublicBuckets("deny")).commit("public, and the policy");
        git.push("main");
        r.tick();
        assertThat(r.statuses().get(0).status()).isEqualTo(EnvironmentStatus.Status.BLOCKED);
        git.write("policies/no-public-buckets.yaml", noPublicBuckets("warn")).commit("only a warning after all");
        git.push("main");
        r.tick();
        assertThat(r.statuses().get(0).status()).as(h.logs.toString()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(bucket("dev")).containsEntry("public", true);
        assertThat(r.statuses().get(0).lastPlanPolicies()).extracting(io.mlctl.plan.PolicyResult::deny).containsExactly(false);
    }

    void driftBucket(String env) {
        SandboxCloud.StoredResource b = h.sandbox.all(Provider.AWS, ResourceType.BUCKET).stream()
            .filter(x -> x.cloudId().equals(env + "-data")).findFirst().orElseThrow();
        Map<String, Object> attrs = new java.util.TreeMap<>(b.attributes());
        attrs.put("versioning", false);
        h.sandbox.write(Provider.AWS, new SandboxCloud.StoredResource(b.cloudId(), b.kind(), attrs, b.tags(), b.createdAt()));
    }

    @Test
    void aPolicyEditJudgesTheEnvironmentsItAppliesToButCorrectsDriftOnlyWithSelfHeal() throws Exception {
        String plain = DaemonHarness.autoEnv("plain");
        String healing = DaemonHarness.autoEnv("healing").replace("  apply: auto\n", "  apply: auto\n  selfHeal: true\n");
        git.write("envs/plain.yaml", plain).write("envs/healing.yaml", healing).commit("two environments");
        git.push("main");
        Reconciler r = h.start(h.config(git.url()));
        r.tick();
        driftBucket("plain");
        driftBucket("healing");
        long requests = h.sandbox.requestCount();
        git.write("policies/no-public-buckets.yaml", noPublicBuckets("deny")).commit("no public buckets (both comply)");
        git.push("main");
        r.tick();
        assertThat(h.sandbox.requestCount()).as("judged at once, not at the next drift check").isGreaterThan(requests);
        assertThat(bucket("plain")).as("someone else's commit does not correct drift").containsEntry("versioning", false);
        assertThat(bucket("healing")).containsEntry("versioning", true);
        Map<String, EnvironmentStatus.Status> statuses = new java.util.TreeMap<>();
        r.statuses().forEach(s -> statuses.put(s.name(), s.status()));
        assertThat(statuses).isEqualTo(Map.of("healing", EnvironmentStatus.Status.SYNCED, "plain", EnvironmentStatus.Status.DRIFTED));
        h.flushEvents();
        assertThat(h.events("drift")).extracting(e -> e.path("environment").asString()).contains("plain");
        assertThat(h.events("plan")).as("a drift found is not a plan for a person").isEmpty();
        // Judged once per edit, not at every tick.
        requests = h.sandbox.requestCount();
        h.clock.advance(Duration.ofMinutes(1));
        r.tick();
        assertThat(h.sandbox.requestCount()).isEqualTo(requests);
    }

    @Test
    void aBucketMadePublicOutOfBandIsReportedAsAViolationAtTheDriftCheckEvenWithoutSelfHeal() throws Exception {
        git.write("envs/dev.yaml", DaemonHarness.autoEnv("dev")).write("policies/no-public-buckets.yaml", noPublicBuckets("deny"))
            .commit("a private bucket and the policy");
        git.push("main");
        Reconciler r = h.start(h.config(git.url()));
        r.tick();
        assertThat(r.statuses().get(0).status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        // Someone makes the bucket public in the console.
        SandboxCloud.StoredResource b = h.sandbox.all(Provider.AWS, ResourceType.BUCKET).stream()
            .filter(x -> x.cloudId().equals("dev-data")).findFirst().orElseThrow();
        Map<String, Object> attrs = new java.util.TreeMap<>(b.attributes());
        attrs.put("public", true);
        h.sandbox.write(Provider.AWS, new SandboxCloud.StoredResource(b.cloudId(), b.kind(), attrs, b.tags(), b.createdAt()));
        h.clock.advance(Duration.ofMinutes(11));
        r.tick();
        assertThat(r.statuses().get(0).status()).isEqualTo(EnvironmentStatus.Status.DRIFTED);
        assertThat(bucket("dev")).as("without selfHeal the drift is reported, not corrected").containsEntry("public", true);
        JsonNode policies = environment("dev").path("lastPlan").path("policies");
        assertThat(policies).singleElement().satisfies(p -> {
            assertThat(p.path("policy").asString()).isEqualTo("no-public-buckets");
            assertThat(p.path("address").asString()).isEqualTo("bucket.dev-data");
            assertThat(p.path("live").asBoolean()).as("about the bucket as the cloud holds it").isTrue();
        });
        h.flushEvents();
        assertThat(h.events("drift")).singleElement().satisfies(e ->
            assertThat(e.path("policies").toString()).contains("no-public-buckets").contains("\"live\":true"));
    }

    @Test
    void aPolicyThatDoesNotCompileRejectsTheCommitAndTheLastGoodOneStays() throws Exception {
        String v1 = DaemonHarness.autoEnv("dev");
        var good = git.write("envs/dev.yaml", v1).commit("dev");
        git.push("main");
        Reconciler r = h.start(h.config(git.url()));
        r.tick();
        git.write("envs/dev.yaml", v1.replace("versioning: true", "versioning: false"))
            .write("policies/no-public-buckets.yaml", noPublicBuckets("deny").replace("\"!resource.public\"", "\"!resource.public &&\""))
            .commit("versioning off, and a policy cut short");
        git.push("main");
        r.tick();
        EnvironmentStatus s = r.statuses().get(0);
        assertThat(s.status()).isEqualTo(EnvironmentStatus.Status.ERROR);
        assertThat(s.commit()).isEqualTo(good.name());
        assertThat(s.error()).hasValueSatisfying(e -> assertThat(e).contains("does not validate, keeping " + good.name().substring(0, 7))
            .containsPattern("policies/no-public-buckets\\.yaml:9:\\d+: policy no-public-buckets: the condition does not compile"));
        assertThat(bucket("dev")).containsEntry("versioning", true);
        assertThat(h.metric("mlctl_commits_total{validity=\"invalid\"}")).contains(1.0);
        h.flushEvents();
        assertThat(h.events("error")).singleElement().satisfies(e -> assertThat(e.path("error").asString()).contains("does not compile"));

        git.write("policies/no-public-buckets.yaml", noPublicBuckets("deny")).commit("the policy completed");
        git.push("main");
        r.tick();
        assertThat(r.statuses().get(0).status()).as(h.logs.toString()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(bucket("dev")).containsEntry("versioning", false);
    }

    @Test
    void aReviewBranchIsJudgedByItsOwnPoliciesAndItsPlanEventCarriesTheCostDelta() throws Exception {
        String v1 = DaemonHarness.autoEnv("dev");
        git.write("envs/dev.yaml", v1).commit("dev");
        git.push("main");
        Reconciler r = h.start(h.config(git.url()).publishBranch(Optional.of("mlctl/plans")));
        r.tick();
        git.checkout("more-gpus", true);
        String more = v1 + "    - type: instance\n      name: gpu-2\n      machineType: p3.8xlarge\n      subnet: net/train\n";
        git.write("envs/dev.yaml", more).write("policies/max-gpus.yaml", maxGpus(2)).commit("a bigger trainer, at most 2 GPUs");
        git.push("more-gpus");
        Plan expected = planOf(more);
        CostEstimate cost = expected.cost().orElseThrow();
        assertThat(cost.deltaHigh()).as("p3.8xlarge costs something").isGreaterThan(1000);
        r.tick();
        h.flushEvents();
        assertThat(h.events("plan")).singleElement().satisfies(e -> {
            assertThat(e.path("branch").asString()).isEqualTo("more-gpus");
            assertThat(e.path("summary").path("create").asInt()).isEqualTo(1);
            assertThat(e.path("costDelta").path("low").asDouble()).isEqualTo(cost.deltaLow());
            assertThat(e.path("costDelta").path("high").asDouble()).isEqualTo(cost.deltaHigh());
            assertThat(e.path("policies")).singleElement().satisfies(p -> {
                assertThat(p.path("policy").asString()).isEqualTo("max-gpus");
                assertThat(p.path("enforcement").asString()).isEqualTo("deny");
                assertThat(p.path("address").isNull()).isTrue();
            });
        });
        assertThat(h.plans.read("more-gpus/dev.json")).hasValueSatisfying(json -> assertThat(json).contains("\"max-gpus\""));
        assertThat(new InventoryReader(h.sandbox).read(Specs.env(v1)).size()).as("a branch is never applied").isEqualTo(4);

        // A policy on a branch that does not compile is that branch's error, published next to its plans.
        git.write("policies/max-gpus.yaml", maxGpus(2).replace("environment.gpus <= 2", "environment.gpus <=")).commit("broken policy");
        git.push("more-gpus");
        r.tick();
        h.flushEvents();
        assertThat(h.events("error")).singleElement().satisfies(e -> {
            assertThat(e.path("branch").asString()).isEqualTo("more-gpus");
            assertThat(e.path("error").asString()).contains("policies/max-gpus.yaml").contains("does not compile");
        });
        assertThat(h.events("plan")).hasSize(1);
        assertThat(git.remoteFile("mlctl/plans", "plans/more-gpus/errors.md")).hasValueSatisfying(md -> assertThat(md).contains("does not compile"));
    }

    static final String ENDPOINT = """
            - type: inference_endpoint
              name: model
              modelUri: s3://dev-data/models/model.tar.gz
              machineType: ml.m5.large
              minReplicas: 1
              maxReplicas: 4
              identity: trainer
              framework: pytorch
        """;

    @Test
    void theCostGaugeIsEachEnvironmentsLastPlanAfterItAndGoesWithTheEnvironment() throws Exception {
        String dev = DaemonHarness.autoEnv("dev") + ENDPOINT;
        String prod = DaemonHarness.autoEnv("prod");
        git.write("envs/dev.yaml", dev).write("envs/prod.yaml", prod).commit("two environments");
        git.push("main");
        CostEstimate.Amount devAfter = planOf(dev).cost().orElseThrow().after();
        CostEstimate.Amount prodAfter = planOf(prod).cost().orElseThrow().after();
        assertThat(devAfter.high()).as("the endpoint scales: a range").isGreaterThan(devAfter.low());
        assertThat(devAfter.low()).isPositive();
        Reconciler r = h.start(h.config(git.url()));
        // prod cannot be planned yet (someone holds its lock): its series are there all the same, NaN until it is priced.
        try (EnvironmentLock held = EnvironmentLock.acquire(h.stateDir().resolve("prod"), "prod", "mlctl apply", h.clock.instant())) {
            r.tick();
        }
        assertThat(cost("dev")).isEqualTo(Map.of("low", devAfter.low(), "high", devAfter.high()));
        assertThat(cost("prod").get("low")).isNaN();
        assertThat(cost("prod").get("high")).isNaN();
        DaemonMetricsTest.assertPromtoolAccepts(h.get(StatusServer.METRICS).body());

        JsonNode lastPlan = environment("dev").path("lastPlan");
        assertThat(lastPlan.path("cost").path("low").asDouble()).isEqualTo(devAfter.low());
        assertThat(lastPlan.path("cost").path("high").asDouble()).isEqualTo(devAfter.high());
        assertThat(lastPlan.path("costDelta").path("high").asDouble()).as("created from nothing").isEqualTo(devAfter.high());
        h.flushEvents();
        assertThat(h.events("apply")).singleElement().satisfies(e -> assertThat(e.path("costDelta").path("low").asDouble()).isEqualTo(devAfter.low()));

        h.clock.advance(Duration.ofSeconds(3));
        r.tick();
        assertThat(cost("prod")).isEqualTo(Map.of("low", prodAfter.low(), "high", prodAfter.high()));
        assertThat(environment("prod").path("lastPlan").path("cost").path("high").asDouble()).isEqualTo(prodAfter.high());

        // A smaller endpoint: the gauge follows the new plan.
        String smaller = dev.replace("maxReplicas: 4", "maxReplicas: 2");
        git.write("envs/dev.yaml", smaller).commit("fewer replicas at most");
        git.push("main");
        CostEstimate smallerCost = planOf(smaller).cost().orElseThrow();
        r.tick();
        assertThat(cost("dev")).isEqualTo(Map.of("low", smallerCost.after().low(), "high", smallerCost.after().high()));
        assertThat(smallerCost.deltaHigh()).isNegative();
        assertThat(environment("dev").path("lastPlan").path("costDelta").path("high").asDouble()).isEqualTo(smallerCost.deltaHigh());

        // prod leaves the repository: the daemon no longer prices it, so its cost series go.
        Files.delete(git.workDir().resolve("envs/prod.yaml"));
        git.commit("prod gone");
        git.push("main");
        r.tick();
        assertThat(cost("prod")).isEmpty();
        assertThat(cost("dev")).hasSize(2);
    }

    /** The cost gauge's samples of one environment on /metrics, by bound. */
    Map<String, Double> cost(String env) {
        Map<String, Double> out = new java.util.TreeMap<>();
        DaemonMetricsTest.series(h.get(StatusServer.METRICS).body()).forEach((k, v) -> {
            if (k.startsWith("mlctl_environment_monthly_cost_usd{") && k.contains("environment=\"" + env + "\"")) {
                out.put(k.replaceAll(".*bound=\"([^\"]+)\".*", "$1"), v);
            }
        });
        return out;
    }

    static final String POLICY_FOR_TEAM_ML = """
        apiVersion: mlctl.io/v1
        kind: Policy
        metadata:
          name: p
        spec:
          enforcement: deny
          match: {labels: {team: ml}}
          condition: environment.gpus <= 4
          message: %s
        """;

    /** Fingerprints of an environment labelled team=ml, with the policy files given (file name → text). */
    static Stream<Arguments> fingerprints() {
        return Stream.of(
            Arguments.of("no policies: the spec's own fingerprint", Map.of(), true),
            Arguments.of("a policy for another team: as without", Map.of("p.yaml", POLICY_FOR_TEAM_ML.formatted("m").replace("team: ml", "team: cv")),
                true),
            Arguments.of("a policy that applies: another fingerprint", Map.of("p.yaml", POLICY_FOR_TEAM_ML.formatted("m")), false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fingerprints")
    void policiesChangeAFingerprintOnlyWhenOneAppliesToTheEnvironment(String why, Map<String, String> policies, boolean same) throws Exception {
        Environment env = environmentWith(dir.resolve("a"), policies);
        String spec = Reconciler.fingerprint(env);
        assertThat(Reconciler.fingerprint(env, policiesIn(dir.resolve("a"))).equals(spec)).as(why).isEqualTo(same);
    }

    @Test
    void aPolicysFingerprintIsWhatItSaysNotWhereItIsWritten() throws Exception {
        String m = POLICY_FOR_TEAM_ML.formatted("m");
        Environment env = environmentWith(dir.resolve("a"), Map.of("p.yaml", m));
        String written = Reconciler.fingerprint(env, policiesIn(dir.resolve("a")));
        environmentWith(dir.resolve("b"), Map.of("sub/other-name.yaml", "# moved, with a comment\n\n" + m));
        assertThat(Reconciler.fingerprint(env, policiesIn(dir.resolve("b")))).isEqualTo(written);
        environmentWith(dir.resolve("c"), Map.of("p.yaml", POLICY_FOR_TEAM_ML.formatted("another message")));
        assertThat(Reconciler.fingerprint(env, policiesIn(dir.resolve("c")))).isNotEqualTo(written);
    }

    private static Environment environmentWith(Path root, Map<String, String> policies) throws Exception {
        Files.createDirectories(root);
        Files.writeString(root.resolve("env.yaml"), DaemonHarness.autoEnv("dev").replace("  provider: aws\n", "  provider: aws\n")
            .replace("metadata:\n  name: dev\n", "metadata:\n  name: dev\n  labels: {team: ml}\n"));
        for (Map.Entry<String, String> p : policies.entrySet()) {
            Files.createDirectories(root.resolve(p.getKey()).getParent());
            Files.writeString(root.resolve(p.getKey()), p.getValue());
        }
        ConfigRepo repo = Specs.load(root);
        assertThat(repo.environments().get(0).labels()).containsEntry("team", "ml");
        return repo.environments().get(0);
    }

    private static PolicySet policiesIn(Path root) {
        return Policies.compile(Specs.load(root).policyDocuments(), Specs.CATALOG);
    }
}
