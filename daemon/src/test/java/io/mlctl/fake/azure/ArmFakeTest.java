package io.mlctl.fake.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.core.management.exception.ManagementException;
import com.azure.resourcemanager.network.fluent.models.VirtualNetworkInner;
import com.azure.resourcemanager.network.models.AddressSpace;
import com.azure.resourcemanager.resources.fluent.models.ResourceGroupInner;
import io.mlctl.provider.azure.AzureClients;
import io.mlctl.provider.azure.AzureSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fake's generic ARM behaviour, driven by the real Azure SDK over HTTP. */
class ArmFakeTest {
    static final String SUB = "11111111-2222-3333-4444-555555555555";
    static ArmFake arm;
    AzureClients clients;

    /** A type of this test's own, so the generic machinery is tested apart from the service fakes. */
    record Vnet() implements ArmType {
        public String type() {
            return "Microsoft.Test/virtualNetworks";
        }

        public Class<?> model() {
            return VirtualNetworkInner.class;
        }
    }

    @BeforeAll
    static void start() throws Exception {
        arm = ArmFake.start();
        arm.register(new Vnet());
    }

    @AfterAll
    static void stop() {
        arm.close();
    }

    @BeforeEach
    void reset() {
        arm.reset();
        clients = new AzureClients(AzureSettings.fromEnvironment(Map.of(AzureSettings.ENDPOINT_VARIABLE, arm.endpoint())), SUB, "eastus");
    }

    private String put(String path, String body) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(arm.endpoint() + path.substring(1) + "?api-version=2024-01-01"))
            .PUT(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    @Test
    void resourceGroupsAreCreatedReadAndRefusedInAnotherLocation() {
        var groups = clients.resources().serviceClient().getResourceGroups();
        groups.createOrUpdate("rg1", new ResourceGroupInner().withLocation("eastus").withTags(Map.of("a", "b")));
        assertThat(groups.get("rg1").tags()).containsEntry("a", "b");
        assertThatThrownBy(() -> groups.createOrUpdate("rg1", new ResourceGroupInner().withLocation("westus")))
            .isInstanceOf(ManagementException.class).hasMessageContaining("InvalidResourceGroupLocation");
        assertThatThrownBy(() -> groups.get("nope")).isInstanceOf(ManagementException.class).hasMessageContaining("ResourceGroupNotFound");
        assertThat(arm.sawAuthorization()).as("no token over plain HTTP").isFalse();
    }

    @Test
    void putIsALongRunningOperationThatTheSdkPollsToSucceeded() throws Exception {
        arm.putGroup(SUB, "rg1", "eastus", Map.of());
        String path = "/subscriptions/" + SUB + "/resourceGroups/rg1/providers/Microsoft.Test/virtualNetworks/v1";
        String answer = put(path, "{\"location\":\"eastus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.0.0.0/16\"]}}}");
        assertThat(answer).startsWith("201 ").contains("\"provisioningState\":\"Creating\"");
        assertThat(arm.get(path).orElseThrow()).extractingByKey("properties").asString().contains("provisioningState=Succeeded");
    }

    @Test
    void unknownAndReadOnlyPropertiesAndAMissingLocationAreRefused() throws Exception {
        arm.putGroup(SUB, "rg1", "eastus", Map.of());
        String path = "/subscriptions/" + SUB + "/resourceGroups/rg1/providers/Microsoft.Test/virtualNetworks/v1";
        assertThat(put(path, "{\"location\":\"eastus\",\"properties\":{\"adressSpace\":{}}}")).startsWith("400 ").contains("adressSpace");
        assertThat(put(path, "{\"location\":\"eastus\",\"properties\":{\"provisioningState\":\"Succeeded\"}}")).startsWith("400 ").contains("provisioningState");
        assertThat(put(path, "{\"properties\":{}}")).startsWith("400 ").contains("LocationRequired");
        assertThat(put("/subscriptions/" + SUB + "/resourceGroups/nope/providers/Microsoft.Test/virtualNetworks/v1", "{\"location\":\"eastus\"}"))
            .startsWith("404 ").contains("ResourceGroupNotFound");
        assertThat(arm.list("Microsoft.Test/virtualNetworks")).isEmpty();
    }

    @Test
    void graphAnswersTaggedResourcesInPagesAndRefusesWhatItCannotParse() throws Exception {
        arm.putGroup(SUB, "rg1", "eastus", Map.of());
        for (int i = 0; i < 5; i++) {
            String env = i < 3 ? "e1" : "e2";
            put("/subscriptions/" + SUB + "/resourceGroups/rg1/providers/Microsoft.Test/virtualNetworks/v" + i,
                "{\"location\":\"eastus\",\"tags\":{\"mlctl-environment\":\"" + env + "\"},\"properties\":{}}");
        }
        List<Map<String, Object>> rows = clients.queryAll("q",
            "resources | where type =~ 'Microsoft.Test/virtualNetworks' | where tags['mlctl-environment'] == 'e1' | order by id asc");
        assertThat(rows).extracting(r -> r.get("name")).containsExactly("v0", "v1", "v2");
        assertThat(rows.get(0)).containsEntry("resourceGroup", "rg1").containsEntry("type", "microsoft.test/virtualnetworks");
        assertThatThrownBy(() -> clients.query("q", "resources | summarize count()", Optional.empty()))
            .hasMessageContaining("ParserFailure");
    }

    @Test
    void graphPagesPastAThousandRowsWithSkipTokens() {
        arm.putGroup(SUB, "rg1", "eastus", Map.of());
        for (int i = 0; i < 1001; i++) {
            String id = "/subscriptions/" + SUB + "/resourceGroups/rg1/providers/Microsoft.Test/virtualNetworks/v" + String.format("%04d", i);
            arm.put(id, new java.util.HashMap<>(Map.of("id", id, "name", "v" + i, "type", "Microsoft.Test/virtualNetworks", "location", "eastus",
                "tags", Map.of("mlctl-environment", "e1"))));
        }
        String q = "resources | where type =~ 'Microsoft.Test/virtualNetworks' | where tags['mlctl-environment'] == 'e1' | order by id asc";
        AzureClients.GraphPage first = clients.query("q", q, Optional.empty());
        assertThat(first.rows()).hasSize(1000);
        assertThat(first.skipToken()).isPresent();
        AzureClients.GraphPage second = clients.query("q", q, first.skipToken());
        assertThat(second.rows()).extracting(r -> r.get("id")).singleElement().asString().endsWith("/v1000");
        assertThat(second.skipToken()).isEmpty();
        assertThat(clients.queryAll("q", q)).hasSize(1001);
    }

    @Test
    void throttlingIsRetriedAfterRetryAfterAndCounted() {
        arm.faults().throttle("PUT .*/resourcegroups/rg2", 1, 1);
        clients.resources().serviceClient().getResourceGroups().createOrUpdate("rg2", new ResourceGroupInner().withLocation("eastus"));
        assertThat(arm.faults().count("PUT .*/resourcegroups/rg2")).isEqualTo(2);
        assertThat(clients.requestCount()).isEqualTo(2);
    }

    @Test
    void aDroppedAnswerLeavesTheWorkDone() {
        arm.faults().dropResponse("PUT .*/resourcegroups/rg3", 1);
        // The SDK's retry resends the PUT; ARM's PUT is idempotent, so one group results.
        clients.resources().serviceClient().getResourceGroups().createOrUpdate("rg3", new ResourceGroupInner().withLocation("eastus"));
        assertThat(arm.group(SUB, "rg3")).isPresent();
        assertThat(arm.faults().count("PUT .*/resourcegroups/rg3")).isEqualTo(2);
    }

    @Test
    void aFailedOperationReachesTheCallerWithItsError() throws Exception {
        arm.putGroup(SUB, "rg1", "eastus", Map.of());
        arm.faults().failOperation("PUT .*/virtualNetworks/v1$", 1, new ArmError(409, "InUseSubnetCannotBeDeleted", "Subnet a is in use."));
        var res = clients.resources().serviceClient().getResources();
        var body = new com.azure.resourcemanager.resources.fluent.models.GenericResourceInner();
        body.withLocation("eastus");
        String id = "subscriptions/" + SUB + "/resourceGroups/rg1/providers/Microsoft.Test/virtualNetworks/v1";
        // The SDK's blocking call throws with the operation's own error; the driver's one line carries it.
        assertThatThrownBy(() -> io.mlctl.provider.azure.AzureErrors.call("create v1", () -> res.createOrUpdateById(id, "2024-01-01", body)))
            .hasMessage("create v1: Subnet a is in use. (InUseSubnetCannotBeDeleted)");
        assertThat(arm.get("/" + id).orElseThrow()).extractingByKey("properties").asString().contains("provisioningState=Failed");
    }

    @Test
    void deleteIsPolledUntilGone() throws Exception {
        arm.putGroup(SUB, "rg1", "eastus", Map.of());
        String path = "/subscriptions/" + SUB + "/resourceGroups/rg1/providers/Microsoft.Test/virtualNetworks/v1";
        put(path, "{\"location\":\"eastus\",\"properties\":{}}");
        clients.resources().serviceClient().getResources().deleteById(path.substring(1), "2024-01-01");
        assertThat(arm.get(path)).isEmpty();
        clients.resources().serviceClient().getResourceGroups().delete("rg1");
        assertThat(arm.group(SUB, "rg1")).isEmpty();
    }
}
