package io.mlctl.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.apply.RetryPolicy;
import io.mlctl.engine.Engine;
import io.mlctl.fake.azure.ArmError;
import io.mlctl.fake.azure.ArmFake;
import io.mlctl.fake.azure.ArmId;
import io.mlctl.fake.azure.IdentityTypes;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.Action;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceKind;
import io.mlctl.provider.ResourceRules;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Managed identities and their grants through the real engine, driver and SDK against the ARM fake:
 * role assignments at the narrowest scope, read back in bulk from Resource Graph, only the difference
 * ever assigned or deleted.
 */
class AzureIdentityTest {
    static final String ROLES = "Microsoft.Authorization/roleAssignments";
    static final String READER = IdentityGrants.BLOB_READER;
    static final String CONTRIBUTOR = IdentityGrants.BLOB_CONTRIBUTOR;
    static final String SCOPES = """
        - {type: bucket, name: data}
        - type: network
          name: net
          cidr: 10.0.0.0/16
          subnets: [{name: a, cidr: 10.0.1.0/24, zone: "1"}]
        - {type: instance, name: box, machineType: Standard_D2s_v3, subnet: net/a}
        - type: kubernetes_cluster
          name: aks
          version: "1.29"
          subnet: net/a
          nodePools: [{name: p, machineType: Standard_D2s_v3, min: 1, max: 2}]
        """;
    static final String TRAINER = "- {type: identity, name: trainer, grants: [{actions: [storage.read, storage.write], resource: bucket/data}]}\n";

    @TempDir
    Path dir;
    AzureRig rig;
    AzureDriver driver;
    Engine engine;

    /**
     * Stand-in for another engineer's kind (bucket, network, instance, cluster) until the branches merge:
     * the resource is what this kind seeds in the fake at its ARM ids, marked as the environment's.
     */
    record Seeded(ResourceType type, ArmFake arm, BiFunction<Environment, String, List<String>> ids) implements ResourceKind<AzureClients> {
        @Override
        public ResourceRules rules() {
            return new ResourceRules(Set.of());
        }

        private String primary(Environment env, String name) {
            List<String> all = ids.apply(env, name);
            return all.get(all.size() - 1);
        }

        @Override
        public Page list(AzureClients cloud, Environment env, Optional<String> pageToken) {
            List<ObservedResource> items = new ArrayList<>();
            for (ResourceSpec s : env.resources()) {
                if (s.address().type() != type) continue;
                String id = primary(env, s.address().name());
                if (arm.get(id).isPresent()) items.add(new ObservedResource(s.address(), id, s.attributes(), Ownership.tags(env.name(), s.address())));
            }
            return new Page(items, Optional.empty());
        }

        @Override
        public Optional<Existing> find(AzureClients cloud, Environment env, Address address, Optional<String> knownCloudId) {
            String id = primary(env, address.name());
            return arm.get(id).map(r -> new Existing(id, type.id() + " " + address.name(), AzureKind.tags(r.get("tags"))));
        }

        @Override
        public String create(AzureClients cloud, Environment env, ResourceSpec desired, Map<String, String> marker, String token) {
            for (String id : ids.apply(env, desired.address().name())) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("id", id);
                r.put("name", AzureKind.lastSegment(id));
                r.put("type", ArmId.parse(id).type());
                r.put("location", env.region());
                r.put("tags", marker);
                r.put("properties", Map.of("provisioningState", "Succeeded"));
                arm.put(id, r);
            }
            return primary(env, desired.address().name());
        }

        @Override
        public ObservedResource complete(AzureClients cloud, Environment env, String cloudId, ResourceSpec d, Map<String, String> marker) {
            return new ObservedResource(d.address(), cloudId, d.attributes(), marker);
        }

        @Override
        public ObservedResource update(AzureClients cloud, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
            return new ObservedResource(d.address(), current.cloudId(), d.attributes(), current.tags());
        }

        @Override
        public void delete(AzureClients cloud, Environment env, ObservedResource current) {
            arm.remove(ids.apply(env, current.address().name()).get(0));
        }
    }

    @BeforeEach
    void start() throws Exception {
        rig = new AzureRig(dir);
        AzureEndpointTest.serveStorageAccounts(rig.arm);
        String group = "/subscriptions/" + AzureRig.SUBSCRIPTION + "/resourceGroups/";
        BiFunction<Environment, String, List<String>> bucket = (env, name) -> {
            String account = group + env.name() + "/providers/Microsoft.Storage/storageAccounts/"
                + AzureKind.storageAccountName(AzureRig.SUBSCRIPTION, env, name);
            return List.of(account, account + "/blobServices/default", account + "/blobServices/default/containers/" + name);
        };
        List<ResourceKind<AzureClients>> kinds = List.of(new IdentityKind(), new EndpointKind(),
            new Seeded(ResourceType.BUCKET, rig.arm, bucket),
            new Seeded(ResourceType.NETWORK, rig.arm, (env, name) -> List.of(group + env.name() + "/providers/Microsoft.Network/virtualNetworks/" + name)),
            new Seeded(ResourceType.INSTANCE, rig.arm, (env, name) -> List.of(group + env.name() + "/providers/Microsoft.Compute/virtualMachines/" + name)),
            new Seeded(ResourceType.KUBERNETES_CLUSTER, rig.arm,
                (env, name) -> List.of(group + env.name() + "/providers/Microsoft.ContainerService/managedClusters/" + name)));
        driver = new AzureDriver(AzureSettings.fromEnvironment(Map.of(AzureSettings.ENDPOINT_VARIABLE, rig.arm.endpoint(),
            "AZURE_SUBSCRIPTION_ID", AzureRig.SUBSCRIPTION, "HOME", dir.toString())), kinds);
        engine = new Engine(driver, dir.resolve("grants-state"), Clock.fixed(AzureRig.NOW, ZoneOffset.UTC),
            new RetryPolicy(6, Duration.ofMillis(1), Duration.ofMillis(5), d -> { }, new Random(7)));
    }

    @AfterEach
    void stop() {
        driver.close();
        rig.close();
    }

    Environment dev(String resources) {
        return rig.env("dev", "team: ml", resources);
    }

    Plan plan(Environment env) {
        return engine.plan(env, new PlanOptions(false, Set.of(), AzureRig.NOW));
    }

    Engine.ApplyOutcome run(Environment env, boolean destroy) {
        return engine.apply(env, new Engine.ApplyRequest(new PlanOptions(destroy, Set.of(), AzureRig.NOW), Optional.empty(), true, 4, "test"),
            p -> true, new Engine.Observer() { });
    }

    void apply(Environment env) {
        run(env, false).result().ifPresent(r -> assertThat(r.failures()).as("apply failures").isEmpty());
    }

    List<String> applyFailing(Environment env) {
        List<String> failures = run(env, false).result().orElseThrow().failures();
        assertThat(failures).isNotEmpty();
        return failures;
    }

    String container() {
        return rig.id("dev", "Microsoft.Storage/storageAccounts/" + AzureKind.storageAccountName(AzureRig.SUBSCRIPTION, dev(SCOPES), "data")
            + "/blobServices/default/containers/data");
    }

    String principal(String identity) {
        return String.valueOf(ArmFake.properties(rig.arm.get(rig.id("dev", "Microsoft.ManagedIdentity/userAssignedIdentities/" + identity)).orElseThrow())
            .get("principalId"));
    }

    /** scope → role GUID of the principal's role assignments. */
    List<String> assignments(String principal) {
        List<String> out = new ArrayList<>();
        for (Map<String, Object> r : rig.arm.list(ROLES)) {
            Map<String, Object> p = ArmFake.properties(r);
            if (principal.equals(p.get("principalId"))) out.add(p.get("scope") + " " + AzureKind.lastSegment(String.valueOf(p.get("roleDefinitionId"))));
        }
        return out;
    }

    void assign(String scope, String role, String principal) {
        driver.clients(dev(SCOPES)).authorization().roleServiceClient().getRoleAssignments().create(scope.substring(1), UUID.randomUUID().toString(),
            new com.azure.resourcemanager.authorization.models.RoleAssignmentCreateParameters()
                .withRoleDefinitionId(IdentityGrants.roleDefinitionId(AzureRig.SUBSCRIPTION, role)).withPrincipalId(principal));
    }

    @Test
    void applyGrantsEachActionAtTheNarrowestScopeThenACleanPlanInBulkReads() {
        Environment env = dev(SCOPES + """
            - type: identity
              name: trainer
              grants:
                - {actions: [storage.read, storage.write], resource: bucket/data}
                - {actions: [instance.read], resource: instance/box}
                - {actions: [kubernetes.access], resource: kubernetes_cluster/aks}
                - {actions: [endpoint.invoke], resource: inference_endpoint/ep}
            - type: inference_endpoint
              name: ep
              modelUri: azureml://registries/nlp/models/sentiment/versions/3
              machineType: Standard_DS3_v2
            """);
        apply(env);
        String p = principal("trainer");
        assertThat(assignments(p)).containsExactlyInAnyOrder(
            container() + " " + READER,
            container() + " " + CONTRIBUTOR,
            rig.id("dev", "Microsoft.Compute/virtualMachines/box") + " " + IdentityGrants.READER,
            rig.id("dev", "Microsoft.ContainerService/managedClusters/aks") + " " + IdentityGrants.AKS_USER,
            rig.id("dev", "Microsoft.MachineLearningServices/workspaces/dev-mlw/onlineEndpoints/dev-ep") + " " + IdentityGrants.ML_DATA_SCIENTIST);
        // Named from scope, role and principal; for a service principal; never on the group or subscription.
        for (Map<String, Object> r : rig.arm.list(ROLES)) {
            Map<String, Object> props = ArmFake.properties(r);
            var a = new IdentityGrants.Assignment(String.valueOf(props.get("scope")), AzureKind.lastSegment(String.valueOf(props.get("roleDefinitionId"))));
            assertThat(r.get("name")).isEqualTo(IdentityGrants.name(a, p));
            assertThat(props).containsEntry("principalType", "ServicePrincipal");
            assertThat(String.valueOf(props.get("scope"))).contains("/providers/");
        }
        Map<String, Object> identity = rig.arm.get(rig.id("dev", "Microsoft.ManagedIdentity/userAssignedIdentities/trainer")).orElseThrow();
        assertThat(AzureKind.tags(identity.get("tags"))).containsEntry("mlctl-address", "identity.trainer").containsEntry("team", "ml");

        rig.arm.faults().resetCounts();
        Plan plan = plan(env);
        assertThat(plan.changes()).as(AzureRig.paths(plan).toString()).isEmpty();
        // Identities and their role assignments: one Graph query each, never a read per identity or assignment.
        assertThat(rig.arm.faults().count("Microsoft.ManagedIdentity|Microsoft.Authorization")).isZero();
        assertThat(rig.arm.faults().count("POST /providers/Microsoft.ResourceGraph/resources")).isEqualTo(4);
    }

    @Test
    void aNoChangePlanOfManyIdentitiesTakesUnderOneRequestPerResource() {
        StringBuilder y = new StringBuilder(SCOPES);
        for (int i = 0; i < 40; i++) y.append("- {type: identity, name: reader-").append(i).append(", grants: [{actions: [storage.read], resource: bucket/data}]}\n");
        Environment env = dev(y.toString());
        apply(env);
        assertThat(rig.arm.list(ROLES)).hasSize(40);
        long before = driver.requestCount();
        assertThat(plan(env).changes()).isEmpty();
        long requests = driver.requestCount() - before;
        // 40 identities, 40 role assignments, 4 stand-ins: the identities' Graph page, their assignments' query, the endpoints' (empty) page.
        assertThat(requests).isEqualTo(3);
        assertThat((double) requests / env.resources().size()).isLessThan(1.0);
    }

    @Test
    void aGrantChangeAssignsAndDeletesExactlyTheDifferenceAndNothingOfAnyoneElse() {
        apply(dev(SCOPES + TRAINER));
        String p = principal("trainer");
        // Someone else's identity reads the same container; someone gave the trainer a role on the whole group.
        driver.clients(dev(SCOPES)).msi().serviceClient().getUserAssignedIdentities().createOrUpdate("dev", "alice",
            new com.azure.resourcemanager.msi.fluent.models.IdentityInner().withLocation("eastus"));
        String other = principal("alice");
        assign(container(), READER, other);
        assign(rig.group("dev"), IdentityGrants.READER, p);

        Environment changed = dev(SCOPES + TRAINER.replace("storage.read, storage.write], resource: bucket/data}",
            "storage.read], resource: bucket/data}, {actions: [instance.read], resource: instance/box}"));
        Plan plan = plan(changed);
        assertThat(plan.changes()).singleElement().satisfies(c -> {
            assertThat(c.action()).isEqualTo(Action.UPDATE);
            assertThat(c.address().toString()).isEqualTo("identity.trainer");
        });
        rig.arm.faults().resetCounts();
        apply(changed);
        assertThat(rig.arm.faults().count("PUT .*/roleAssignments/")).isEqualTo(1);
        assertThat(rig.arm.faults().count("DELETE .*/roleAssignments/")).isEqualTo(1);
        assertThat(assignments(p)).containsExactlyInAnyOrder(container() + " " + READER, rig.id("dev", "Microsoft.Compute/virtualMachines/box") + " "
            + IdentityGrants.READER, rig.group("dev") + " " + IdentityGrants.READER);
        assertThat(assignments(other)).containsExactly(container() + " " + READER);
        assertThat(plan(changed).changes()).isEmpty();
    }

    @Test
    void aRoleAssignmentDeletedOutOfBandIsDriftAndIsRestored() {
        Environment env = dev(SCOPES + TRAINER);
        apply(env);
        String p = principal("trainer");
        rig.arm.list(ROLES).stream().filter(r -> String.valueOf(ArmFake.properties(r).get("roleDefinitionId")).endsWith(CONTRIBUTOR))
            .forEach(r -> rig.arm.remove(String.valueOf(r.get("id"))));
        Plan plan = plan(env);
        assertThat(AzureRig.paths(plan)).anyMatch(x -> x.startsWith("identity.trainer:grants"));
        apply(env);
        assertThat(assignments(p)).contains(container() + " " + CONTRIBUTOR);
        assertThat(plan(env).changes()).isEmpty();
    }

    @Test
    void theSameGrantMadeUnderAnotherNameIsTheGrantAlreadyThere() {
        apply(dev(SCOPES + "- {type: identity, name: trainer}\n"));
        String p = principal("trainer");
        assign(container(), READER, p);
        assign(container(), CONTRIBUTOR, p);
        Environment env = dev(SCOPES + TRAINER);
        // Graph shows them: nothing to do.
        assertThat(plan(env).changes()).isEmpty();
        // A create that meets them (an earlier attempt's identity, resumed) takes RoleAssignmentExists as the grant made.
        ResourceSpec trainer = env.resources().stream().filter(s -> s.address().type() == ResourceType.IDENTITY).findFirst().orElseThrow();
        driver.create(env, trainer, CreateRequest.first("t1"));
        assertThat(rig.arm.faults().count("PUT .*/roleAssignments/")).isEqualTo(4);
        assertThat(assignments(p)).containsExactlyInAnyOrder(container() + " " + READER, container() + " " + CONTRIBUTOR);
    }

    @Test
    void aPrincipalNotYetReplicatedIsRetriedAndAuthorizationFailedIsOneLineNamingActionAndScope() {
        apply(dev(SCOPES));
        rig.arm.faults().fail("PUT .*/roleAssignments/", 1, IdentityTypes.principalNotFound(UUID.randomUUID().toString()));
        apply(dev(SCOPES + TRAINER));
        assertThat(assignments(principal("trainer"))).hasSize(2);

        rig.arm.faults().fail("PUT .*/roleAssignments/", 1, ArmError.authorizationFailed("Microsoft.Authorization/roleAssignments/write", container()));
        List<String> failures = applyFailing(dev(SCOPES + TRAINER + "- {type: identity, name: reader, grants: [{actions: [storage.read], resource: bucket/data}]}\n"));
        assertThat(failures).singleElement().asString()
            .contains("not authorized to perform Microsoft.Authorization/roleAssignments/write on " + container())
            .contains("AuthorizationFailed").doesNotContain("\n");
    }

    @Test
    void lostAnswersMakeOneIdentityAndOneAssignmentAndThrottlingIsWaitedOut() {
        apply(dev(SCOPES));
        rig.arm.faults().dropResponse("PUT .*/userAssignedIdentities/trainer$", 1);
        rig.arm.faults().dropResponse("PUT .*/roleAssignments/", 1);
        rig.arm.faults().throttle("PUT .*/roleAssignments/", 1, 1);
        Environment env = dev(SCOPES + TRAINER);
        apply(env);
        assertThat(rig.arm.list("Microsoft.ManagedIdentity/userAssignedIdentities")).hasSize(1);
        assertThat(rig.arm.list(ROLES)).hasSize(2);
        assertThat(plan(env).changes()).isEmpty();
    }

    @Test
    void anotherTeamsIdentityOfTheSameNameIsRefusedAndUntouched() {
        apply(dev(SCOPES));
        String id = rig.id("dev", "Microsoft.ManagedIdentity/userAssignedIdentities/trainer");
        driver.clients(dev(SCOPES)).msi().serviceClient().getUserAssignedIdentities().createOrUpdate("dev", "trainer",
            new com.azure.resourcemanager.msi.fluent.models.IdentityInner().withLocation("eastus").withTags(Map.of("owner", "data-team")));
        List<String> failures = applyFailing(dev(SCOPES + TRAINER));
        assertThat(failures).singleElement().asString().contains("identity.trainer: managed identity trainer (resource group dev) already exists and is not managed by mlctl")
            .doesNotContain("\n");
        assertThat(AzureKind.tags(rig.arm.get(id).orElseThrow().get("tags"))).containsOnlyKeys("owner");
        assertThat(rig.arm.list(ROLES)).isEmpty();
    }

    @Test
    void labelsChangeInPlaceRegionReplacesAndPruneAndDestroyRevokeEverything() {
        apply(dev(SCOPES + TRAINER));
        Environment relabelled = rig.env("dev", "team: search", SCOPES + TRAINER);
        Plan plan = plan(relabelled);
        assertThat(plan.changes()).filteredOn(c -> c.address().toString().equals("identity.trainer")).singleElement()
            .satisfies(c -> assertThat(c.action()).isEqualTo(Action.UPDATE));
        apply(relabelled);
        assertThat(AzureKind.tags(rig.arm.get(rig.id("dev", "Microsoft.ManagedIdentity/userAssignedIdentities/trainer")).orElseThrow().get("tags")))
            .containsEntry("team", "search");
        assertThat(plan(relabelled).changes()).isEmpty();
        assertThat(driver.rules(ResourceType.IDENTITY).forcesReplace("region")).isTrue();

        apply(rig.env("dev", "team: search", SCOPES));
        assertThat(rig.arm.list("Microsoft.ManagedIdentity/userAssignedIdentities")).isEmpty();
        assertThat(rig.arm.list(ROLES)).as("no assignment left naming a deleted principal").isEmpty();

        apply(relabelled);
        assertThat(rig.arm.list(ROLES)).hasSize(2);
        run(relabelled, true).result().ifPresent(r -> assertThat(r.failures()).isEmpty());
        assertThat(rig.arm.all()).isEmpty();
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).isEmpty();
    }
}
