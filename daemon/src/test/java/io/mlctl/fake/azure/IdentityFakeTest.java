package io.mlctl.fake.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.core.management.exception.ManagementException;
import com.azure.resourcemanager.authorization.fluent.RoleAssignmentsClient;
import com.azure.resourcemanager.authorization.models.PrincipalType;
import com.azure.resourcemanager.authorization.models.RoleAssignmentCreateParameters;
import com.azure.resourcemanager.msi.fluent.UserAssignedIdentitiesClient;
import com.azure.resourcemanager.msi.fluent.models.IdentityInner;
import io.mlctl.provider.azure.AzureClients;
import io.mlctl.provider.azure.AzureSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fake's managed identities and role assignments, through the real SDK: what ARM refuses, the fake refuses. */
class IdentityFakeTest {
    static final String SUB = "22222222-3333-4444-5555-666666666666";
    static final String GROUP = "/subscriptions/" + SUB + "/resourceGroups/rg1";
    static final String ACCOUNT = GROUP + "/providers/Microsoft.Storage/storageAccounts/acct1";
    static final String CONTAINER = ACCOUNT + "/blobServices/default/containers/data";
    static final String READER = "/subscriptions/" + SUB + "/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
    static final String CONTRIBUTOR = "/subscriptions/" + SUB + "/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    static ArmFake arm;
    AzureClients clients;

    @BeforeAll
    static void start() throws Exception {
        arm = ArmFake.start();
    }

    @AfterAll
    static void stop() {
        arm.close();
    }

    @BeforeEach
    void reset() {
        arm.reset();
        arm.putGroup(SUB, "rg1", "eastus", Map.of());
        clients = new AzureClients(AzureSettings.fromEnvironment(Map.of(AzureSettings.ENDPOINT_VARIABLE, arm.endpoint())), SUB, "eastus");
        // Stand-ins for the storage helper's types: the scope a grant goes on.
        arm.put(ACCOUNT, Map.of("id", ACCOUNT, "name", "acct1", "type", "Microsoft.Storage/storageAccounts", "location", "eastus", "properties", Map.of()));
        arm.put(CONTAINER, Map.of("id", CONTAINER, "name", "data", "type", "Microsoft.Storage/storageAccounts/blobServices/containers", "properties", Map.of()));
    }

    UserAssignedIdentitiesClient identities() {
        return clients.msi().serviceClient().getUserAssignedIdentities();
    }

    RoleAssignmentsClient assignments() {
        return clients.authorization().roleServiceClient().getRoleAssignments();
    }

    String identity(String name) {
        return identities().createOrUpdate("rg1", name, new IdentityInner().withLocation("eastus")).principalId().toString();
    }

    RoleAssignmentCreateParameters grant(String role, String principal) {
        return new RoleAssignmentCreateParameters().withRoleDefinitionId(role).withPrincipalId(principal).withPrincipalType(PrincipalType.SERVICE_PRINCIPAL);
    }

    @Test
    void anIdentityGetsItsIdsFromTheServiceAndKeepsThem() throws Exception {
        IdentityInner made = identities().createOrUpdate("rg1", "trainer", new IdentityInner().withLocation("eastus").withTags(Map.of("a", "b")));
        assertThat(made.principalId()).isNotNull();
        assertThat(made.clientId()).isNotNull();
        assertThat(made.tenantId().toString()).isEqualTo(ArmFake.TENANT);
        IdentityInner again = identities().createOrUpdate("rg1", "trainer", new IdentityInner().withLocation("eastus"));
        assertThat(again.principalId()).isEqualTo(made.principalId());
        // The ids are Entra ID's to give: a body naming one is refused (the SDK model carries no writable properties at all).
        String path = GROUP + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/other";
        assertThat(put(path, "{\"location\":\"eastus\",\"properties\":{\"principalId\":\"" + UUID.randomUUID() + "\"}}"))
            .startsWith("400 ").contains("Could not find member 'properties'");
        assertThatThrownBy(() -> identities().createOrUpdate("rg1", "trainer", new IdentityInner().withLocation("westus")))
            .isInstanceOf(ManagementException.class).hasMessageContaining("InvalidResourceLocation");
    }

    @Test
    void roleAssignmentsAreGuidsOfBuiltInRolesForKnownPrincipalsAtExistingScopes() {
        String principal = identity("trainer");
        String scope = CONTAINER.substring(1);
        assertThatThrownBy(() -> assignments().create(scope, "not-a-guid", grant(READER, principal)))
            .isInstanceOf(ManagementException.class).hasMessageContaining("InvalidRoleAssignmentId");
        assertThatThrownBy(() -> assignments().create(scope, UUID.randomUUID().toString(),
            grant("/subscriptions/" + SUB + "/providers/Microsoft.Authorization/roleDefinitions/" + UUID.randomUUID(), principal)))
            .isInstanceOf(ManagementException.class).hasMessageContaining("RoleDefinitionDoesNotExist");
        assertThatThrownBy(() -> assignments().create(scope, UUID.randomUUID().toString(), grant(READER, UUID.randomUUID().toString())))
            .isInstanceOf(ManagementException.class).hasMessageContaining("PrincipalNotFound");
        assertThatThrownBy(() -> assignments().create(ACCOUNT.substring(1) + "/blobServices/default/containers/nope", UUID.randomUUID().toString(),
            grant(READER, principal))).isInstanceOf(ManagementException.class).hasMessageContaining("ParentResourceNotFound");
        assertThat(arm.list("Microsoft.Authorization/roleAssignments")).isEmpty();

        String name = UUID.randomUUID().toString();
        assertThat(assignments().create(scope, name, grant(READER, principal)).scope()).isEqualTo(CONTAINER);
        // The same PUT again is the same assignment.
        assignments().create(scope, name, grant(READER, principal));
        assertThat(arm.list("Microsoft.Authorization/roleAssignments")).hasSize(1);
    }

    @Test
    void theSameGrantUnderAnotherNameIsRoleAssignmentExistsAndAnAssignmentNeverChanges() {
        String principal = identity("trainer");
        String scope = CONTAINER.substring(1);
        String name = UUID.randomUUID().toString();
        assignments().create(scope, name, grant(READER, principal));
        assertThatThrownBy(() -> assignments().create(scope, UUID.randomUUID().toString(), grant(READER, principal)))
            .isInstanceOf(ManagementException.class).hasMessageContaining("RoleAssignmentExists")
            .satisfies(e -> assertThat(((ManagementException) e).getResponse().getStatusCode()).isEqualTo(409));
        assertThatThrownBy(() -> assignments().create(scope, name, grant(CONTRIBUTOR, principal)))
            .isInstanceOf(ManagementException.class).hasMessageContaining("RoleAssignmentUpdateNotPermitted");
        // Another role for the same principal and scope is another assignment.
        assignments().create(scope, UUID.randomUUID().toString(), grant(CONTRIBUTOR, principal));
        assertThat(arm.list("Microsoft.Authorization/roleAssignments")).hasSize(2);
    }

    @Test
    void resourceGraphListsRoleAssignmentsInTheAuthorizationTableByPrincipal() {
        String a = identity("reader");
        String b = identity("writer");
        assignments().create(CONTAINER.substring(1), UUID.randomUUID().toString(), grant(READER, a));
        assignments().create(CONTAINER.substring(1), UUID.randomUUID().toString(), grant(CONTRIBUTOR, b));
        List<Map<String, Object>> rows = clients.queryAll("q", "authorizationresources | where type =~ 'microsoft.authorization/roleassignments' "
            + "| where properties.principalId in~ ('" + a.toUpperCase() + "')");
        assertThat(rows).singleElement().satisfies(r -> assertThat(String.valueOf(r.get("properties"))).contains(a).contains("2a2b9908"));
        // Not in the resources table, as on Azure.
        assertThat(clients.queryAll("q", "resources | where type =~ 'microsoft.authorization/roleassignments'")).isEmpty();
        assertThat(clients.queryAll("q", "resources | where type =~ 'microsoft.managedidentity/userassignedidentities'")).hasSize(2);
    }

    @Test
    void aPrincipalNotReplicatedYetIsRefusedOnceAndThenAssigned() {
        String principal = identity("fresh");
        arm.faults().fail("PUT .*/roleAssignments/", 1, IdentityTypes.principalNotFound(principal));
        String name = UUID.randomUUID().toString();
        assertThatThrownBy(() -> assignments().create(CONTAINER.substring(1), name, grant(READER, principal)))
            .isInstanceOf(ManagementException.class).hasMessageContaining("PrincipalNotFound").hasMessageContaining("replication delay");
        assignments().create(CONTAINER.substring(1), name, grant(READER, principal));
        assertThat(arm.list("Microsoft.Authorization/roleAssignments")).hasSize(1);
    }

    @Test
    void aPatchTakesTheUpdateModelTagsChangeAndTheIdsEntraGaveStay() throws Exception {
        assertThat(new IdentityTypes.UserAssignedIdentities().patchModel()).isEqualTo(com.azure.resourcemanager.msi.models.IdentityUpdate.class);
        IdentityInner made = identities().createOrUpdate("rg1", "trainer", new IdentityInner().withLocation("eastus").withTags(Map.of("a", "b")));
        IdentityInner patched = identities().update("rg1", "trainer", new com.azure.resourcemanager.msi.models.IdentityUpdate().withTags(Map.of("c", "d")));
        assertThat(patched.tags()).containsExactly(Map.entry("c", "d"));
        assertThat(patched.principalId()).isEqualTo(made.principalId());
        String path = GROUP + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/trainer";
        assertThat(send("PATCH", path, "{\"properties\":{\"principalId\":\"" + UUID.randomUUID() + "\"}}")).startsWith("400 ")
            .contains("IdentityUpdate");
        assertThat(send("PATCH", path, "{\"tags\":{\"e\":\"f\"},\"sku\":\"x\"}")).startsWith("400 ").contains("sku");
    }

    private String put(String path, String body) throws Exception {
        return send("PUT", path, body);
    }

    private String send(String method, String path, String body) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(arm.endpoint() + path.substring(1)
                + "?api-version=2023-01-31")).method(method, HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
            HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }
}
