package io.mlctl.fake.azure;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fake's Azure Machine Learning and key vault types over raw HTTP: bodies checked against the
 * hand-written REST shapes, and the service's own refusals.
 */
class MachineLearningFakeTest {
    static final String SUB = "33333333-4444-5555-6666-777777777777";
    static final String GROUP = "/subscriptions/" + SUB + "/resourceGroups/rg1";
    static final String STORAGE = GROUP + "/providers/Microsoft.Storage/storageAccounts/mlwstore1";
    static final String VAULT = GROUP + "/providers/Microsoft.KeyVault/vaults/dev-kv1";
    static final String WS = GROUP + "/providers/Microsoft.MachineLearningServices/workspaces/dev-mlw";
    static final String EP = WS + "/onlineEndpoints/dev-sentiment";
    static final String API = "2024-04-01";
    static final String VAULT_BODY = "{\"location\":\"eastus\",\"properties\":{\"tenantId\":\"" + ArmFake.TENANT + "\",\"sku\":{\"family\":\"A\","
        + "\"name\":\"standard\"},\"accessPolicies\":[]}}";
    static final String WS_BODY = "{\"location\":\"eastus\",\"identity\":{\"type\":\"SystemAssigned\"},\"properties\":{\"storageAccount\":\"" + STORAGE
        + "\",\"keyVault\":\"" + VAULT + "\"}}";
    static final String EP_BODY = "{\"location\":\"eastus\",\"identity\":{\"type\":\"SystemAssigned\"},\"properties\":{\"authMode\":\"Key\"}}";
    static ArmFake arm;

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
        arm.putGroup(SUB, "rg2", "eastus", Map.of());
        // Stand-in for the storage helper's type.
        arm.put(STORAGE, Map.of("id", STORAGE, "name", "mlwstore1", "type", "Microsoft.Storage/storageAccounts", "location", "eastus", "properties", Map.of()));
    }

    static String deployment(String instanceType, int capacity) {
        return "{\"location\":\"eastus\",\"sku\":{\"name\":\"Default\",\"capacity\":" + capacity + "},\"properties\":{\"endpointComputeType\":\"Managed\","
            + "\"model\":\"azureml://registries/nlp/models/sentiment/versions/3\",\"instanceType\":\"" + instanceType + "\",\"scaleSettings\":{"
            + "\"scaleType\":\"Default\"}}}";
    }

    static String autoscale(String target, String min, String max, String def, String grain, String window) {
        return "{\"location\":\"eastus\",\"properties\":{\"enabled\":true,\"targetResourceUri\":\"" + target + "\",\"profiles\":[{\"name\":\"mlctl\","
            + "\"capacity\":{\"minimum\":\"" + min + "\",\"maximum\":\"" + max + "\",\"default\":\"" + def + "\"},\"rules\":[{\"metricTrigger\":{"
            + "\"metricName\":\"CpuUtilizationPercentage\",\"metricResourceUri\":\"" + target + "\",\"timeGrain\":\"" + grain + "\",\"statistic\":\"Average\","
            + "\"timeWindow\":\"" + window + "\",\"timeAggregation\":\"Average\",\"operator\":\"GreaterThan\",\"threshold\":70},\"scaleAction\":{"
            + "\"direction\":\"Increase\",\"type\":\"ChangeCount\",\"value\":\"1\",\"cooldown\":\"PT5M\"}}]}]}}";
    }

    void workspace() throws Exception {
        assertThat(call("PUT", VAULT, VAULT_BODY, "2023-07-01")).startsWith("201 ");
        assertThat(call("PUT", WS, WS_BODY, API)).startsWith("201 ");
    }

    @Test
    void aWorkspaceNeedsItsStorageAccountAndKeyVaultAndNeverChangesThem() throws Exception {
        assertThat(call("PUT", WS, "{\"location\":\"eastus\",\"properties\":{\"storageAccount\":\"" + STORAGE + "\"}}", API))
            .startsWith("400 ").contains("key vault");
        assertThat(call("PUT", WS, WS_BODY, API)).startsWith("400 ").contains("dev-kv1").contains("does not exist");
        workspace();
        Map<String, Object> ws = arm.get(WS).orElseThrow();
        assertThat(ArmFake.properties(ws)).containsKeys("workspaceId", "mlFlowTrackingUri").containsEntry("provisioningState", "Succeeded");
        arm.put(STORAGE + "2", Map.of("id", STORAGE + "2", "name", "mlwstore12", "type", "Microsoft.Storage/storageAccounts", "location", "eastus"));
        assertThat(call("PUT", WS, WS_BODY.replace(STORAGE, STORAGE + "2"), API)).startsWith("400 ").contains("cannot be changed");
        // Read-only and unknown properties are refused, naming them.
        assertThat(call("PUT", WS, WS_BODY.replace("\"keyVault\"", "\"workspaceId\":\"x\",\"keyVault\""), API)).startsWith("400 ").contains("workspaceId");
        assertThat(call("PUT", WS, WS_BODY.replace("\"keyVault\"", "\"keyvault2\":\"x\",\"keyVault\""), API)).startsWith("400 ").contains("keyvault2");
    }

    @Test
    void endpointBodiesAreCheckedAgainstTheRestShape() throws Exception {
        workspace();
        assertThat(call("PUT", EP, "{\"location\":\"eastus\",\"properties\":{}}", API)).startsWith("400 ").contains("authMode");
        assertThat(call("PUT", EP, EP_BODY.replace("\"Key\"", "\"Password\""), API)).startsWith("400 ").contains("Password");
        assertThat(call("PUT", EP, EP_BODY.replace("\"Key\"", "\"Key\",\"scoringUri\":\"https://x\""), API)).startsWith("400 ").contains("scoringUri");
        assertThat(call("PUT", EP, EP_BODY.replace("\"Key\"", "\"Key\",\"autoscale\":true"), API)).startsWith("400 ").contains("autoscale");
        assertThat(call("PUT", EP, EP_BODY.replace("\"Key\"", "\"Key\",\"traffic\":{\"blue\":\"all\"}"), API)).startsWith("400 ").contains("Int32");
        assertThat(call("PUT", WS + "/onlineEndpoints/x_y", EP_BODY, API)).startsWith("400 ").contains("invalid");
        assertThat(call("PUT", EP, EP_BODY, API)).startsWith("201 ");
        assertThat(ArmFake.properties(arm.get(EP).orElseThrow()).get("scoringUri")).asString().startsWith("https://dev-sentiment.eastus.");
    }

    @Test
    void endpointNamesAreUniquePerRegionAndTheIdentityIsFixed() throws Exception {
        workspace();
        assertThat(call("PUT", EP, EP_BODY, API)).startsWith("201 ");
        String otherWs = GROUP.replace("rg1", "rg2") + "/providers/Microsoft.MachineLearningServices/workspaces/other";
        assertThat(call("PUT", otherWs, WS_BODY, API)).startsWith("201 ");
        assertThat(call("PUT", otherWs + "/onlineEndpoints/dev-sentiment", EP_BODY, API)).startsWith("409 ").contains("unique per region");
        String uai = GROUP + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/runner";
        String asUser = EP_BODY.replace("{\"type\":\"SystemAssigned\"}", "{\"type\":\"UserAssigned\",\"userAssignedIdentities\":{\"" + uai + "\":{}}}");
        assertThat(call("PUT", EP, asUser, API)).startsWith("400 ").contains("runner");
        assertThat(call("PUT", GROUP + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/runner", "{\"location\":\"eastus\"}", "2023-01-31"))
            .startsWith("201 ");
        assertThat(call("PUT", EP, asUser, API)).startsWith("400 ").contains("identity of an online endpoint cannot be changed");
    }

    @Test
    void deploymentsKeepTheirInstanceTypeAndTrafficOnlyGoesToDeploymentsThatExist() throws Exception {
        workspace();
        call("PUT", EP, EP_BODY, API);
        assertThat(call("PUT", EP, EP_BODY.replace("\"Key\"", "\"Key\",\"traffic\":{\"blue\":100}"), API)).startsWith("400 ").contains("does not exist");
        assertThat(call("PUT", EP + "/deployments/blue", deployment("Standard_DS3_v2", 0), API)).startsWith("400 ").contains("sku.capacity");
        assertThat(call("PUT", EP + "/deployments/blue", deployment("Standard_DS3_v2", 1).replace("azureml://registries/nlp/models/sentiment/versions/3",
            "https://example.com/model.pkl"), API)).startsWith("400 ").contains("not a model asset");
        assertThat(call("PUT", EP + "/deployments/blue", deployment("Standard_DS3_v2", 1), API)).startsWith("201 ");
        assertThat(call("PUT", EP + "/deployments/blue", deployment("Standard_F4s_v2", 1), API)).startsWith("400 ").contains("instance type");
        assertThat(call("PUT", EP, EP_BODY.replace("\"Key\"", "\"Key\",\"traffic\":{\"blue\":60}"), API)).startsWith("400 ").contains("sum to 100");
        assertThat(call("PUT", EP, EP_BODY.replace("\"Key\"", "\"Key\",\"traffic\":{\"blue\":100}"), API)).startsWith("200 ");
        // A deployment with traffic is not deleted; the endpoint takes its deployments with it.
        assertThat(call("DELETE", EP + "/deployments/blue", null, API)).startsWith("400 ").contains("traffic");
        assertThat(call("DELETE", EP, null, API)).startsWith("202 ");
        assertThat(arm.get(EP + "/deployments/blue")).isEmpty();
    }

    @Test
    void aDeletedKeyVaultKeepsItsNameUntilRecoveredOrPurged() throws Exception {
        assertThat(call("PUT", VAULT, VAULT_BODY.replace("\"tenantId\":\"" + ArmFake.TENANT + "\",", ""), "2023-07-01")).startsWith("400 ").contains("tenantId");
        assertThat(call("PUT", GROUP + "/providers/Microsoft.KeyVault/vaults/a--b", VAULT_BODY, "2023-07-01")).startsWith("400 ").contains("VaultNameNotValid");
        assertThat(call("PUT", VAULT, VAULT_BODY, "2023-07-01")).startsWith("201 ");
        assertThat(call("PUT", GROUP.replace("rg1", "rg2") + "/providers/Microsoft.KeyVault/vaults/dev-kv1", VAULT_BODY, "2023-07-01"))
            .startsWith("409 ").contains("VaultAlreadyExists");
        assertThat(call("DELETE", VAULT, null, "2023-07-01")).startsWith("200");
        assertThat(call("PUT", VAULT, VAULT_BODY, "2023-07-01")).startsWith("409 ").contains("deleted state");
        String recover = VAULT_BODY.replace("\"accessPolicies\":[]", "\"accessPolicies\":[],\"createMode\":\"recover\"");
        assertThat(call("PUT", VAULT, recover, "2023-07-01")).startsWith("201 ");
        call("DELETE", VAULT, null, "2023-07-01");
        String deleted = "/subscriptions/" + SUB + "/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/dev-kv1";
        assertThat(call("GET", deleted, null, "2023-07-01")).startsWith("200 ");
        assertThat(call("POST", deleted + "/purge", "{}", "2023-07-01")).startsWith("200");
        assertThat(call("GET", deleted, null, "2023-07-01")).startsWith("404 ");
        assertThat(call("PUT", VAULT, VAULT_BODY, "2023-07-01")).startsWith("201 ");
    }

    @Test
    void modelVersionsNeedAUriAndNeverChangeIt() throws Exception {
        workspace();
        String model = WS + "/models/dev-sentiment";
        assertThat(call("PUT", model + "/versions/1", "{\"properties\":{\"modelUri\":\"https://x/m\"}}", API)).startsWith("404 ").contains("ParentResourceNotFound");
        assertThat(call("PUT", model, "{\"properties\":{\"description\":\"m\"}}", API)).startsWith("201 ");
        assertThat(call("PUT", model + "/versions/1", "{\"properties\":{\"modelType\":\"custom_model\"}}", API)).startsWith("400 ").contains("modelUri");
        assertThat(call("PUT", model + "/versions/1", "{\"properties\":{\"modelUri\":\"https://x/m\"}}", API)).startsWith("201 ");
        assertThat(call("PUT", model + "/versions/1", "{\"properties\":{\"modelUri\":\"https://x/other\"}}", API)).startsWith("409 ");
    }

    @Test
    void aManagedDeploymentTakesOnlyDefaultScaleSettings() throws Exception {
        workspace();
        call("PUT", EP, EP_BODY, API);
        String targetUtilization = deployment("Standard_DS3_v2", 1).replace("{\"scaleType\":\"Default\"}",
            "{\"scaleType\":\"TargetUtilization\",\"minInstances\":1,\"maxInstances\":3}");
        assertThat(call("PUT", EP + "/deployments/blue", targetUtilization, API)).startsWith("400 ").contains("TargetUtilization")
            .contains("not supported for managed online deployments");
        assertThat(call("PUT", EP + "/deployments/blue", deployment("Standard_DS3_v2", 1).replace("{\"scaleType\":\"Default\"}",
            "{\"scaleType\":\"Default\",\"minInstances\":1}"), API)).startsWith("400 ").contains("no other property");
        assertThat(call("PUT", EP + "/deployments/blue", deployment("Standard_DS3_v2", 2), API)).startsWith("201 ");
    }

    @Test
    void autoscaleSettingsAreCheckedAndTargetAnExistingResourceOnce() throws Exception {
        workspace();
        call("PUT", EP, EP_BODY, API);
        String blue = EP + "/deployments/blue";
        String setting = GROUP + "/providers/Microsoft.Insights/autoscalesettings/scale-blue";
        String insights = "2022-10-01";
        assertThat(call("PUT", setting, autoscale(blue, "1", "3", "1", "PT1M", "PT5M"), insights)).startsWith("400 ").contains("TargetResourceNotFound");
        assertThat(call("PUT", blue, deployment("Standard_DS3_v2", 1), API)).startsWith("201 ");
        assertThat(call("PUT", setting, autoscale(blue, "3", "1", "1", "PT1M", "PT5M"), insights)).startsWith("400 ").contains("minimum");
        assertThat(call("PUT", setting, autoscale(blue, "1", "3", "5", "PT1M", "PT5M"), insights)).startsWith("400 ").contains("default");
        assertThat(call("PUT", setting, autoscale(blue, "one", "3", "1", "PT1M", "PT5M"), insights)).startsWith("400 ").contains("not an integer");
        assertThat(call("PUT", setting, autoscale(blue, "1", "3", "1", "PT10S", "PT5M"), insights)).startsWith("400 ").contains("time grain");
        assertThat(call("PUT", setting, autoscale(blue, "1", "3", "1", "PT1M", "PT1M"), insights)).startsWith("400 ").contains("time window");
        assertThat(call("PUT", setting, autoscale(blue, "1", "3", "1", "PT1M", "PT5M").replace("\"threshold\":70", "\"threshold\":\"high\""), insights))
            .startsWith("400 ").contains("threshold");
        assertThat(call("PUT", setting, autoscale(blue, "1", "3", "1", "PT1M", "PT5M").replace("\"rules\":[", "\"rule\":["), insights))
            .startsWith("400 ").contains("rule");
        assertThat(call("PUT", setting, autoscale(blue, "1", "3", "1", "PT1M", "PT5M"), insights)).startsWith("201 ");
        assertThat(call("PUT", setting, autoscale(blue, "1", "4", "1", "PT1M", "PT5M"), insights)).startsWith("200 ");
        assertThat(call("PUT", setting + "-2", autoscale(blue, "1", "3", "1", "PT1M", "PT5M"), insights)).startsWith("409 ").contains("only one autoscale setting");
        // Listed by resource group (how a driver finds the one on a resource, by its target, whoever made it).
        assertThat(call("GET", GROUP + "/providers/Microsoft.Insights/autoscalesettings", null, insights)).startsWith("200 ").contains("scale-blue")
            .contains("\"targetResourceUri\":\"" + blue + "\"").doesNotContain("scale-blue-2");
        // The setting outlives its target, as on Azure.
        call("PUT", EP, EP_BODY, API);
        assertThat(call("DELETE", blue, null, API)).startsWith("202 ");
        assertThat(arm.get(setting)).isPresent();
    }

    @Test
    void aWorkspaceHasAzureMlsDefaultDatastoresAndItsOtherContentsAreReadOnly() throws Exception {
        workspace();
        assertThat(call("GET", WS + "/datastores", null, API)).startsWith("200 ").contains("workspaceblobstore").contains("workspacefilestore");
        assertThat(call("GET", WS + "/jobs", null, API)).startsWith("200 ").contains("\"value\":[]");
        assertThat(call("PUT", WS + "/jobs/train", "{\"properties\":{\"jobType\":\"Command\"}}", API)).startsWith("400 ").contains("reading only");
        assertThat(call("PUT", WS + "/computes/cpu", "{\"location\":\"eastus\",\"properties\":{}}", API)).startsWith("400 ").contains("reading only");
        assertThat(call("DELETE", WS, null, API)).startsWith("202 ");
        assertThat(arm.list("Microsoft.MachineLearningServices/workspaces/datastores")).as("they go with the workspace").isEmpty();
    }

    private static String call(String method, String path, String body, String api) throws Exception {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body);
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(arm.endpoint() + path.substring(1) + "?api-version=" + api))
            .method(method, publisher).header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }
}
