package io.mlctl.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.fake.azure.ArmError;
import io.mlctl.fake.azure.ArmFake;
import io.mlctl.fake.azure.IdentityTypes;
import io.mlctl.plan.Action;
import io.mlctl.plan.Plan;
import io.mlctl.provider.CreateRequest;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Managed identities and their grants through the real engine, driver (every Azure kind) and SDK against
 * the ARM fake: role assignments at the narrowest scope of the real bucket, VM, AKS cluster and endpoint
 * they name, read back in bulk from Resource Graph, only the difference ever assigned or deleted.
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
    /** This kind's own reads and writes (not Resource Graph's queries, nor the other kinds'). */
    static final String OWN_REQUESTS = "^(GET|PUT|PATCH|DELETE) /subscriptions/[^ ]*(Microsoft.ManagedIdentity|Microsoft.Authorization)";

    @TempDir
    Path dir;
    AzureRig rig;

    @BeforeEach
    void start() throws Exception {
        rig = new AzureRig(dir);
    }

    @AfterEach
    void stop() {
        rig.close();
    }

    Environment dev(String resources) {
        return rig.env("dev", "team: ml", resources);
    }

    Plan plan(Environment env) {
        return rig.plan(env);
    }

    void apply(Environment env) {
        rig.apply(env);
    }

    List<String> applyFailing(Environment env) {
        return rig.applyFailing(env);
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
        rig.azure.clients(dev(SCOPES)).authorization().roleServiceClient().getRoleAssignments().create(scope.substring(1), UUID.randomUUID().toString(),
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
        assertThat(rig.arm.faults().count(OWN_REQUESTS)).isZero();
        assertThat(rig.graphQueries("userassignedidentities")).isEqualTo(1);
        assertThat(rig.graphQueries("roleassignments")).isEqualTo(1);
    }

    @Test
    void aNoChangePlanOfManyIdentitiesTakesUnderOneRequestPerResource() {
        StringBuilder y = new StringBuilder(SCOPES);
        for (int i = 0; i < 40; i++) y.append("- {type: identity, name: reader-").append(i).append(", grants: [{actions: [storage.read], resource: bucket/data}]}\n");
        Environment env = dev(y.toString());
        apply(env);
        assertThat(rig.arm.list(ROLES)).hasSize(40);
        rig.arm.faults().resetCounts();
        assertThat(plan(env).changes()).isEmpty();
        // 40 identities and their 40 role assignments: the identities' Graph page and their assignments' query, nothing read one by one.
        long requests = rig.graphQueries("userassignedidentities") + rig.graphQueries("roleassignments") + rig.arm.faults().count(OWN_REQUESTS);
        assertThat(requests).isEqualTo(2);
        assertThat((double) requests / 80).isLessThan(1.0);
    }

    @Test
    void aGrantChangeAssignsAndDeletesExactlyTheDifferenceAndNothingOfAnyoneElse() {
        apply(dev(SCOPES + TRAINER));
        String p = principal("trainer");
        // Someone else's identity reads the same container; someone gave the trainer a role on the whole group.
        rig.azure.clients(dev(SCOPES)).msi().serviceClient().getUserAssignedIdentities().createOrUpdate("dev", "alice",
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
        rig.azure.create(env, trainer, CreateRequest.first("t1"));
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
        rig.azure.clients(dev(SCOPES)).msi().serviceClient().getUserAssignedIdentities().createOrUpdate("dev", "trainer",
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
        assertThat(rig.azure.rules(ResourceType.IDENTITY).forcesReplace("region")).isTrue();

        apply(rig.env("dev", "team: search", SCOPES));
        assertThat(rig.arm.list("Microsoft.ManagedIdentity/userAssignedIdentities")).isEmpty();
        assertThat(rig.arm.list(ROLES)).as("no assignment left naming a deleted principal").isEmpty();

        apply(relabelled);
        assertThat(rig.arm.list(ROLES)).hasSize(2);
        rig.destroy(relabelled);
        assertThat(rig.arm.all()).isEmpty();
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).isEmpty();
    }

    @Test
    void whileResourceGraphLagsAPlanRightAfterAnApplyIsCleanAndADestroyLeavesNothing() {
        // Nothing this test makes shows in Resource Graph for an hour: every read must fall back to ARM where Graph lags.
        rig.arm.graphLag(Duration.ofHours(1));
        String endpoint = """
            - {type: identity, name: runner}
            - type: inference_endpoint
              name: ep
              modelUri: azureml://registries/nlp/models/sentiment/versions/3
              machineType: Standard_DS3_v2
              identity: runner
            """;
        Environment env = dev(endpoint + "- {type: identity, name: caller, grants: [{actions: [endpoint.invoke], resource: inference_endpoint/ep}]}\n");
        apply(env);
        String epId = rig.id("dev", "Microsoft.MachineLearningServices/workspaces/dev-mlw/onlineEndpoints/dev-ep");
        assertThat(assignments(principal("caller"))).containsExactly(epId + " " + IdentityGrants.ML_DATA_SCIENTIST);
        Plan plan = plan(env);
        assertThat(plan.changes()).as(AzureRig.paths(plan).toString()).isEmpty();

        // A grant added moments later, on an endpoint made with it: planned once, and once made, read back though Graph does not show it yet.
        Environment more = dev(endpoint + """
            - type: inference_endpoint
              name: ep2
              modelUri: azureml://registries/nlp/models/sentiment/versions/4
              machineType: Standard_DS3_v2
            - type: identity
              name: caller
              grants: [{actions: [endpoint.invoke], resource: inference_endpoint/ep}, {actions: [endpoint.invoke], resource: inference_endpoint/ep2}]
            """);
        assertThat(rig.plan(more).changes()).extracting(c -> c.action() + " " + c.address())
            .containsExactlyInAnyOrder("CREATE inference_endpoint.ep2", "UPDATE identity.caller");
        apply(more);
        assertThat(assignments(principal("caller"))).hasSize(2);
        assertThat(plan(more).changes()).isEmpty();

        rig.destroy(more);
        assertThat(rig.arm.all()).as("nothing owned left").isEmpty();
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).isEmpty();
    }
}
