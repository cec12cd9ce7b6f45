package io.mlctl.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.resourcemanager.resources.fluent.models.GenericResourceInner;
import io.mlctl.fake.azure.ArmError;
import io.mlctl.fake.azure.ArmFake;
import io.mlctl.fake.azure.ArmType;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceKind;
import io.mlctl.provider.ResourceRules;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Specs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the Azure driver does for every kind: the subscription it works in, the environment's resource
 * group (made, used, released), the endpoint it may talk to, and errors as one line. A bucket kind of
 * this test's own (a generic resource) stands for the real kinds, so these rules are tested apart from them.
 */
class AzureDriverTest {
    static final String SUB = AzureRig.SUBSCRIPTION;
    static final String THINGS = "Microsoft.Test/things";

    /** The fake's view of the stand-in resource type. */
    record Things() implements ArmType {
        public String type() {
            return THINGS;
        }

        public Class<?> model() {
            return GenericResourceInner.class;
        }
    }

    /** A bucket as one generic resource, found by name, listed from Resource Graph. */
    static final class ThingKind implements AzureKind {
        public ResourceType type() {
            return ResourceType.BUCKET;
        }

        public ResourceRules rules() {
            return new ResourceRules(Set.of("region"));
        }

        static String id(AzureClients cloud, Environment env, String name) {
            return AzureKind.resourceId(cloud, env, THINGS, name).substring(1);
        }

        static ObservedResource observed(Map<String, Object> row) {
            Map<String, String> tags = AzureKind.tags(row.get("tags"));
            Address a = Address.parse(tags.get("mlctl-address"));
            return new ObservedResource(a, String.valueOf(row.get("id")), AzureKind.attrs(String.valueOf(row.get("location")),
                Map.of("versioning", false, "encryption", "managed", "public", false), tags), tags);
        }

        public Page list(AzureClients cloud, Environment env, Optional<String> pageToken) {
            return AzureKind.graphPage(cloud, env, THINGS.toLowerCase(), "2024-01-01", pageToken, a -> id(cloud, env, a.name()),
                row -> Optional.of(observed(row)), ResourceType.BUCKET);
        }

        public Optional<Existing> find(AzureClients cloud, Environment env, Address address, Optional<String> knownCloudId) {
            var res = cloud.resources().serviceClient().getResources();
            return AzureErrors.find("read " + address, () -> res.getById(id(cloud, env, address.name()), "2024-01-01"))
                .map(g -> new Existing(g.id(), "thing " + g.name(), AzureKind.tags(g.tags())));
        }

        public String create(AzureClients cloud, Environment env, ResourceSpec desired, Map<String, String> marker, String token) {
            var res = cloud.resources().serviceClient().getResources();
            GenericResourceInner body = new GenericResourceInner();
            body.withLocation(env.region()).withTags(AzureKind.allTags(marker, desired.attributes()));
            return AzureErrors.call("create " + desired.address(), () -> res.createOrUpdateById(id(cloud, env, desired.address().name()), "2024-01-01", body)).id();
        }

        public ObservedResource complete(AzureClients cloud, Environment env, String cloudId, ResourceSpec desired, Map<String, String> marker) {
            var g = cloud.resources().serviceClient().getResources().getById(cloudId.substring(1), "2024-01-01");
            return new ObservedResource(desired.address(), g.id(), AzureKind.attrs(g.location(),
                Map.of("versioning", false, "encryption", "managed", "public", false), AzureKind.tags(g.tags())), AzureKind.tags(g.tags()));
        }

        public ObservedResource update(AzureClients cloud, Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
            throw new UnsupportedOperationException();
        }

        public void delete(AzureClients cloud, Environment env, ObservedResource current) {
            AzureErrors.run("delete " + current.address(), () -> cloud.resources().serviceClient().getResources().deleteById(current.cloudId().substring(1), "2024-01-01"));
        }
    }

    /** The other kinds: nothing of them in these tests. */
    record Nothing(ResourceType type) implements AzureKind {
        public ResourceRules rules() {
            return new ResourceRules(Set.of());
        }

        public Page list(AzureClients cloud, Environment env, Optional<String> pageToken) {
            return new Page(List.of(), Optional.empty());
        }

        public Optional<Existing> find(AzureClients cloud, Environment env, Address address, Optional<String> knownCloudId) {
            throw new UnsupportedOperationException();
        }

        public String create(AzureClients cloud, Environment env, ResourceSpec desired, Map<String, String> marker, String token) {
            throw new UnsupportedOperationException();
        }

        public ObservedResource complete(AzureClients cloud, Environment env, String cloudId, ResourceSpec desired, Map<String, String> marker) {
            throw new UnsupportedOperationException();
        }

        public ObservedResource update(AzureClients cloud, Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
            throw new UnsupportedOperationException();
        }

        public void delete(AzureClients cloud, Environment env, ObservedResource current) {
            throw new UnsupportedOperationException();
        }
    }

    @TempDir
    Path dir;
    ArmFake arm;
    AzureRig rig;

    @BeforeEach
    void start() throws Exception {
        arm = ArmFake.start();
        arm.register(new Things());
        rig = new AzureRig(dir, arm);
    }

    @AfterEach
    void stop() {
        rig.close();
    }

    private AzureDriver driver(Map<String, String> vars) {
        Map<String, String> env = new HashMap<>(vars);
        env.putIfAbsent(AzureSettings.ENDPOINT_VARIABLE, arm.endpoint());
        env.putIfAbsent("HOME", dir.toString());
        List<ResourceKind<AzureClients>> kinds = new java.util.ArrayList<>(List.of(new ThingKind()));
        for (ResourceType t : ResourceType.values()) if (t != ResourceType.BUCKET) kinds.add(new Nothing(t));
        return new AzureDriver(AzureSettings.fromEnvironment(env), kinds);
    }

    private io.mlctl.engine.Engine engine(AzureDriver d) {
        return new io.mlctl.engine.Engine(d, dir.resolve("state"), java.time.Clock.fixed(AzureRig.NOW, java.time.ZoneOffset.UTC),
            new io.mlctl.apply.RetryPolicy(4, java.time.Duration.ofMillis(1), java.time.Duration.ofMillis(2), x -> { }, new java.util.Random(1)));
    }

    private io.mlctl.engine.Engine.ApplyOutcome run(AzureDriver d, Environment env, boolean destroy) {
        return engine(d).apply(env, new io.mlctl.engine.Engine.ApplyRequest(new io.mlctl.planner.PlanOptions(destroy, Set.of(), AzureRig.NOW),
            Optional.empty(), true, 4, "test"), p -> true, new io.mlctl.engine.Engine.Observer() { });
    }

    private static Environment env(String extraSpec, String resources) {
        return Specs.env("""
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata: {name: dev}
            spec:
              provider: azure
              region: eastus
            %s  resources: %s
            """.formatted(extraSpec, resources));
    }

    static final String TWO = "[{type: bucket, name: data}, {type: bucket, name: models}]";

    @Test
    void theSpecsSubscriptionWinsThenTheEnvironmentThenTheAzureCli() throws Exception {
        try (AzureDriver d = driver(Map.of("AZURE_SUBSCRIPTION_ID", "11111111-1111-1111-1111-111111111111"))) {
            assertThat(d.target(env("  account: 22222222-2222-2222-2222-222222222222\n", "[]")).account()).isEqualTo("22222222-2222-2222-2222-222222222222");
            assertThat(d.target(env("", "[]")).account()).isEqualTo("11111111-1111-1111-1111-111111111111");
        }
        // What 'az login' leaves: a profile with a byte-order mark, the default subscription marked.
        Path azure = Files.createDirectories(dir.resolve(".azure"));
        // The CLI writes each subscription with a nested "user" object before "isDefault" (not sorted).
        Files.writeString(azure.resolve("azureProfile.json"), "\uFEFF{\"installationId\": \"x\", \"subscriptions\": [{\"id\": \"33333333-3333-3333-3333-333333333333\", "
            + "\"name\": \"other\", \"state\": \"Enabled\", \"user\": {\"name\": \"a@example.com\", \"type\": \"user\"}, \"isDefault\": false, "
            + "\"tenantId\": \"t\", \"environmentName\": \"AzureCloud\"}, {\"id\": \"44444444-4444-4444-4444-444444444444\", \"name\": \"ml\", "
            + "\"state\": \"Enabled\", \"user\": {\"name\": \"a@example.com\", \"type\": \"user\"}, \"isDefault\": true, \"tenantId\": \"t\", "
            + "\"environmentName\": \"AzureCloud\", \"homeTenantId\": \"t\", \"managedByTenants\": []}]}",
            StandardCharsets.UTF_8);
        try (AzureDriver d = driver(Map.of())) {
            assertThat(d.target(env("", "[]")).account()).isEqualTo("44444444-4444-4444-4444-444444444444");
        }
        Files.delete(azure.resolve("azureProfile.json"));
        try (AzureDriver d = driver(Map.of())) {
            assertThatThrownBy(() -> d.target(env("", "[]"))).isInstanceOf(DriverException.class)
                .hasMessage("no Azure subscription for environment dev: set spec.account, AZURE_SUBSCRIPTION_ID, or 'az account set'");
        }
    }

    @Test
    void plainHttpIsRefusedAnywhereButLoopbackAndNoTokenGoesToTheFake() {
        assertThatThrownBy(() -> AzureSettings.fromEnvironment(Map.of(AzureSettings.ENDPOINT_VARIABLE, "http://arm.example.com/")).resourceManager())
            .isInstanceOf(DriverException.class).hasMessageContaining("must be https://");
        assertThat(AzureSettings.fromEnvironment(Map.of(AzureSettings.ENDPOINT_VARIABLE, "http://127.0.0.1:9/")).plaintext()).isTrue();
        assertThat(AzureSettings.fromEnvironment(Map.of()).resourceManager()).isEqualTo(AzureSettings.PUBLIC_CLOUD);
        try (AzureDriver d = driver(Map.of("AZURE_SUBSCRIPTION_ID", SUB))) {
            run(d, env("", TWO), false);
        }
        assertThat(arm.sawAuthorization()).isFalse();
    }

    @Test
    void theFirstCreateMakesTheEnvironmentsGroupAndDestroyRemovesIt() {
        try (AzureDriver d = driver(Map.of("AZURE_SUBSCRIPTION_ID", SUB))) {
            assertThat(run(d, env("", TWO), false).result().orElseThrow().failures()).isEmpty();
            Map<String, Object> group = arm.group(SUB, "dev").orElseThrow();
            assertThat(group).containsEntry("location", "eastus");
            assertThat(group.get("tags")).isEqualTo(Map.of("mlctl-environment", "dev", "managed-by", "mlctl"));
            assertThat(arm.list(THINGS)).hasSize(2);
            assertThat(engine(d).plan(env("", TWO), new io.mlctl.planner.PlanOptions(false, Set.of(), AzureRig.NOW)).hasChanges()).isFalse();
            assertThat(run(d, env("", TWO), true).result().orElseThrow().failures()).isEmpty();
            assertThat(arm.list(THINGS)).isEmpty();
            assertThat(arm.group(SUB, "dev")).as("our group, empty after destroy").isEmpty();
        }
    }

    @Test
    void aPlanRightAfterAnApplyIsCleanThoughResourceGraphHasNotCaughtUp() {
        arm.graphLag(java.time.Duration.ofHours(1)); // nothing new shows in Graph during this test
        try (AzureDriver d = driver(Map.of("AZURE_SUBSCRIPTION_ID", SUB))) {
            assertThat(run(d, env("", TWO), false).result().orElseThrow().failures()).isEmpty();
            var plan = engine(d).plan(env("", TWO), new io.mlctl.planner.PlanOptions(false, Set.of(), AzureRig.NOW));
            assertThat(plan.hasChanges()).as(plan.changes().toString()).isFalse();
            // Someone else's same-named resource is not taken for ours by the direct read.
            arm.remove(rig.id("dev", THINGS + "/models"));
            arm.put(rig.id("dev", THINGS + "/models"), new HashMap<>(Map.of("id", rig.id("dev", THINGS + "/models"), "name", "models",
                "type", THINGS, "location", "eastus", "tags", Map.of("owner", "data-team"))));
            var again = engine(d).plan(env("", TWO), new io.mlctl.planner.PlanOptions(false, Set.of(), AzureRig.NOW));
            assertThat(again.changes()).extracting(c -> c.address().toString()).containsExactly("bucket.models");
        }
        assertThat(arm.list(THINGS)).hasSize(2);
    }

    @Test
    void aSteadyStatePlanReadsOnlyResourceGraph() {
        try (AzureDriver d = driver(Map.of("AZURE_SUBSCRIPTION_ID", SUB))) {
            run(d, env("", TWO), false);
            arm.faults().resetCounts();
            engine(d).plan(env("", TWO), new io.mlctl.planner.PlanOptions(false, Set.of(), AzureRig.NOW));
        }
        assertThat(arm.faults().log()).singleElement().asString().startsWith("POST /providers/Microsoft.ResourceGraph/resources resources | where type =~ 'microsoft.test/things'");
    }

    @Test
    void aGroupSomeoneElseMadeIsUsedAsItIsAndNeverDeleted() {
        arm.putGroup(SUB, "ml-shared", "westeurope", Map.of("cost-center", "42"));
        Environment env = env("  resourceGroup: ml-shared\n", TWO);
        try (AzureDriver d = driver(Map.of("AZURE_SUBSCRIPTION_ID", SUB))) {
            assertThat(run(d, env, false).result().orElseThrow().failures()).isEmpty();
            assertThat(arm.list(THINGS)).extracting(r -> (String) r.get("id")).allMatch(id -> id.contains("/resourceGroups/ml-shared/"));
            run(d, env, true);
        }
        assertThat(arm.group(SUB, "ml-shared")).hasValueSatisfying(g -> assertThat(g.get("tags")).isEqualTo(Map.of("cost-center", "42")));
        assertThat(arm.group(SUB, "dev")).isEmpty();
    }

    @Test
    void ourGroupStaysWhileAnythingElseLivesInIt() {
        try (AzureDriver d = driver(Map.of("AZURE_SUBSCRIPTION_ID", SUB))) {
            run(d, env("", TWO), false);
            arm.put(rig.id("dev", THINGS + "/someone-elses"), new HashMap<>(Map.of("id", rig.id("dev", THINGS + "/someone-elses"),
                "name", "someone-elses", "type", THINGS, "location", "eastus", "tags", Map.of())));
            assertThat(run(d, env("", TWO), true).result().orElseThrow().failures()).isEmpty();
        }
        assertThat(arm.list(THINGS)).extracting(r -> r.get("name")).containsExactly("someone-elses");
        assertThat(arm.group(SUB, "dev")).isPresent();
    }

    @Test
    void aLostAnswerToTheCreateMakesNothingTwice() {
        arm.faults().dropResponse("PUT .*/things/data$", 1);
        try (AzureDriver d = driver(Map.of("AZURE_SUBSCRIPTION_ID", SUB))) {
            assertThat(run(d, env("", TWO), false).result().orElseThrow().failures()).isEmpty();
        }
        assertThat(arm.list(THINGS)).hasSize(2);
        assertThat(arm.faults().count("PUT .*/things/data$")).isGreaterThanOrEqualTo(2);
    }

    @Test
    void authorizationAndQuotaFailuresAreOneLineNamingWhatIsMissing() {
        arm.faults().fail("PUT .*/things/data$", 1, ArmError.authorizationFailed("Microsoft.Test/things/write",
            "/subscriptions/" + SUB + "/resourceGroups/dev/providers/Microsoft.Test/things/data"));
        arm.faults().fail("PUT .*/things/models$", 1, ArmError.quota("standardNCSv3Family", "eastus", 0, 0, 6));
        List<String> failures;
        try (AzureDriver d = driver(Map.of("AZURE_SUBSCRIPTION_ID", SUB))) {
            failures = run(d, env("", TWO), false).result().orElseThrow().failures();
        }
        assertThat(failures).hasSize(2).allSatisfy(f -> assertThat(f).doesNotContain("\n").doesNotContain("{\""));
        assertThat(String.join("|", failures))
            .contains("not authorized to perform Microsoft.Test/things/write on /subscriptions/" + SUB + "/resourceGroups/dev/providers/Microsoft.Test/things/data (AuthorizationFailed)")
            .contains("quota exceeded: standardNCSv3Family cores in eastus (limit 0, in use 0, 6 more needed)");
    }

    @Test
    void refusedCredentialsAreOneLineSayingSo() {
        arm.faults().fail("PUT .*/things/data$", 100, new ArmError(401, "InvalidAuthenticationToken", "The access token is invalid."));
        List<String> failures;
        try (AzureDriver d = driver(Map.of("AZURE_SUBSCRIPTION_ID", SUB))) {
            failures = run(d, env("", "[{type: bucket, name: data}]"), false).result().orElseThrow().failures();
        }
        assertThat(failures).singleElement().asString()
            .endsWith("Azure refused the credentials (InvalidAuthenticationToken); check them or run 'az login' again").doesNotContain("\n");
        assertThat(io.mlctl.provider.azure.AzureErrors.translate("read x", new com.azure.identity.CredentialUnavailableException("EnvironmentCredential unavailable.\nmore"))
            .getMessage()).startsWith("read x: no Azure credentials found").doesNotContain("\n");
    }

    @Test
    void aGroupBeingDeletedIsWaitedForThenMadeAnew() {
        arm.putGroup(SUB, "dev", "eastus", Map.of("mlctl-environment", "dev", "managed-by", "mlctl", "left", "by-a-killed-destroy"));
        arm.groupState(SUB, "dev", "Deleting");
        java.util.concurrent.atomic.AtomicInteger waits = new java.util.concurrent.atomic.AtomicInteger();
        // Azure finishes the delete while mlctl waits (the first pause of the wait).
        io.mlctl.provider.Waiter wait = new io.mlctl.provider.Waiter(java.time.Duration.ofSeconds(10), java.time.Duration.ofMinutes(30), pause -> {
            if (waits.getAndIncrement() == 0) arm.removeGroup(SUB, "dev");
        });
        List<ResourceKind<AzureClients>> kinds = new java.util.ArrayList<>(List.of(new ThingKind()));
        for (ResourceType t : ResourceType.values()) if (t != ResourceType.BUCKET) kinds.add(new Nothing(t));
        try (AzureDriver d = new AzureDriver(AzureSettings.fromEnvironment(Map.of(AzureSettings.ENDPOINT_VARIABLE, arm.endpoint(),
                "AZURE_SUBSCRIPTION_ID", SUB, "HOME", dir.toString())), kinds, wait)) {
            assertThat(run(d, env("", "[{type: bucket, name: data}]"), false).result().orElseThrow().failures()).isEmpty();
        }
        assertThat(waits.get()).as("waited while it was deleting").isEqualTo(1);
        assertThat(arm.group(SUB, "dev")).hasValueSatisfying(g -> assertThat(g.get("tags")).isEqualTo(Map.of("mlctl-environment", "dev", "managed-by", "mlctl")));
        assertThat(arm.list(THINGS)).hasSize(1);
    }

    @Test
    void aRoleAssignmentOnOurGroupKeepsIt() {
        try (AzureDriver d = driver(Map.of("AZURE_SUBSCRIPTION_ID", SUB))) {
            run(d, env("", TWO), false);
            String scope = rig.group("dev");
            String id = scope + "/providers/Microsoft.Authorization/roleAssignments/5f1c9d4e-0000-4000-8000-000000000001";
            arm.put(id, new HashMap<>(Map.of("id", id, "name", "5f1c9d4e-0000-4000-8000-000000000001", "type", "Microsoft.Authorization/roleAssignments",
                "properties", Map.of("scope", scope, "principalId", "11111111-0000-0000-0000-000000000000",
                    "roleDefinitionId", "/subscriptions/" + SUB + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"))));
            assertThat(run(d, env("", TWO), true).result().orElseThrow().failures()).isEmpty();
        }
        assertThat(arm.list(THINGS)).isEmpty();
        assertThat(arm.group(SUB, "dev")).as("someone's grant on the group would go with it").isPresent();
    }

    @Test
    void twoEnvironmentsOfOneNameInTwoGroupsSeeOnlyTheirOwn() {
        try (AzureDriver d = driver(Map.of("AZURE_SUBSCRIPTION_ID", SUB))) {
            run(d, env("  resourceGroup: team-a\n", TWO), false);
            var plan = engine(d).plan(env("  resourceGroup: team-b\n", "[{type: bucket, name: data}]"),
                new io.mlctl.planner.PlanOptions(false, Set.of(), AzureRig.NOW));
            assertThat(plan.changes()).extracting(c -> c.address() + " " + c.getClass().getSimpleName()).containsExactly("bucket.data Create");
        }
    }

    @Test
    void throttlingWaitsWhatRetryAfterSaysAndSucceeds() {
        arm.faults().throttle("PUT .*/things/data$", 2, 1);
        try (AzureDriver d = driver(Map.of("AZURE_SUBSCRIPTION_ID", SUB))) {
            assertThat(run(d, env("", TWO), false).result().orElseThrow().failures()).isEmpty();
            assertThat(d.requestCount()).isEqualTo(arm.faults().total());
        }
        assertThat(arm.faults().count("PUT .*/things/data$")).isEqualTo(3);
        assertThat(arm.list(THINGS)).hasSize(2);
    }
}
