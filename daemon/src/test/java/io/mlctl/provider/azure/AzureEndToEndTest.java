package io.mlctl.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mlctl.apply.Journal;
import io.mlctl.fake.azure.ArmError;
import io.mlctl.fake.azure.ArmFake;
import io.mlctl.spec.Environment;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The definition of done, against the ARM fake: the Azure example applied from nothing through
 * the real Azure SDK, each resource read back through the fake's ARM-shaped REST API with its declared
 * attributes, a clean second plan, destroy leaving nothing (the resource group included); and the same
 * apply killed mid-way by SIGKILL, then resumed, making nothing twice.
 */
class AzureEndToEndTest {
    static final String SUB = AzureRig.SUBSCRIPTION;
    static final String GROUP = "/subscriptions/" + SUB + "/resourceGroups/nlp-azure";
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path dir;
    ArmFake arm;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        arm = ArmFake.start();
    }

    @AfterEach
    void stop() {
        arm.close();
    }

    private Cli cli() {
        return new Cli(dir).env(AzureSettings.ENDPOINT_VARIABLE, arm.endpoint()).env("AZURE_SUBSCRIPTION_ID", SUB).env("HOME", dir.toString());
    }

    private String example() {
        return Fixtures.examples().resolve("azure-nlp.yaml").toString();
    }

    /** GET through the fake's REST API, as curl would: the body, with "__status". */
    private JsonNode get(String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(arm.endpoint() + path.substring(1) + "?api-version=2024-01-01")).build(),
            HttpResponse.BodyHandlers.ofString());
        com.fasterxml.jackson.databind.node.ObjectNode o = r.body().isEmpty() ? JSON.createObjectNode()
            : (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(r.body());
        o.put("__status", r.statusCode());
        return o;
    }

    private static List<JsonNode> values(JsonNode list) {
        List<JsonNode> out = new ArrayList<>();
        list.path("value").forEach(out::add);
        return out;
    }

    private String storageAccount() {
        Environment env = Specs.load(Path.of(example())).environments().get(0);
        return AzureKind.storageAccountName(SUB, env, "nlp-corpora");
    }

    @Test
    void exampleIsCreatedAsDeclaredPlansCleanAndIsDestroyed() throws Exception {
        Cli.Result apply = cli().run("apply", "--auto-approve", example());
        assertThat(apply.exitCode()).as(apply.toString()).isZero();

        JsonNode group = get(GROUP);
        assertThat(group.path("tags").path("mlctl-environment").asText()).isEqualTo("nlp-azure");

        JsonNode vnet = get(GROUP + "/providers/Microsoft.Network/virtualNetworks/nlp-vnet");
        assertThat(vnet.path("__status").asInt()).as(vnet.toString()).isEqualTo(200);
        assertThat(vnet.path("location").asText()).isEqualTo("eastus");
        assertThat(vnet.path("properties").path("addressSpace").path("addressPrefixes").get(0).asText()).isEqualTo("10.20.0.0/16");
        assertThat(vnet.path("tags").path("mlctl-address").asText()).isEqualTo("network.nlp-vnet");
        assertThat(vnet.path("tags").path("team").asText()).isEqualTo("nlp");
        JsonNode subnet = get(GROUP + "/providers/Microsoft.Network/virtualNetworks/nlp-vnet/subnets/aks");
        assertThat(subnet.path("properties").path("addressPrefix").asText()).isEqualTo("10.20.0.0/22");
        assertThat(subnet.path("properties").path("networkSecurityGroup").path("id").asText()).endsWith("/networkSecurityGroups/nlp-vnet-nsg");
        JsonNode nsg = get(GROUP + "/providers/Microsoft.Network/networkSecurityGroups/nlp-vnet-nsg");
        assertThat(nsg.path("properties").path("securityRules").toString()).contains("198.51.100.0/24").contains("443");

        JsonNode account = get(GROUP + "/providers/Microsoft.Storage/storageAccounts/" + storageAccount());
        assertThat(account.path("__status").asInt()).as(account.toString()).isEqualTo(200);
        assertThat(account.path("kind").asText()).isEqualTo("StorageV2");
        assertThat(account.path("properties").path("allowBlobPublicAccess").asBoolean(true)).isFalse();
        assertThat(account.path("properties").path("minimumTlsVersion").asText()).isEqualTo("TLS1_2");
        JsonNode blob = get(GROUP + "/providers/Microsoft.Storage/storageAccounts/" + storageAccount() + "/blobServices/default");
        assertThat(blob.path("properties").path("isVersioningEnabled").asBoolean()).isTrue();
        JsonNode container = get(GROUP + "/providers/Microsoft.Storage/storageAccounts/" + storageAccount() + "/blobServices/default/containers/nlp-corpora");
        assertThat(container.path("__status").asInt()).as(container.toString()).isEqualTo(200);
        JsonNode policy = get(GROUP + "/providers/Microsoft.Storage/storageAccounts/" + storageAccount() + "/managementPolicies/default");
        assertThat(policy.toString()).contains("tierToCool").contains("60");

        JsonNode identity = get(GROUP + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nlp-serving");
        assertThat(identity.path("__status").asInt()).as(identity.toString()).isEqualTo(200);
        String principal = identity.path("properties").path("principalId").asText();
        assertThat(principal).isNotBlank();
        List<Map<String, Object>> assignments = arm.list("Microsoft.Authorization/roleAssignments");
        assertThat(assignments).anySatisfy(a -> {
            assertThat(String.valueOf(a.get("id"))).contains("/containers/nlp-corpora/providers/Microsoft.Authorization/roleAssignments/");
            assertThat(String.valueOf(a.get("properties"))).contains(principal).contains("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1");
        });
        assertThat(assignments).noneMatch(a -> String.valueOf(a.get("id")).matches("(?i)/subscriptions/[^/]+/providers/.*|/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft.Authorization/.*"));

        JsonNode aks = get(GROUP + "/providers/Microsoft.ContainerService/managedClusters/nlp-aks");
        assertThat(aks.path("__status").asInt()).as(aks.toString()).isEqualTo(200);
        assertThat(aks.path("properties").path("kubernetesVersion").asText()).startsWith("1.29");
        assertThat(aks.path("identity").path("userAssignedIdentities").toString()).contains("nlp-serving");
        assertThat(aks.path("properties").path("agentPoolProfiles").toString()).contains("Standard_NC6s_v3")
            .contains("/virtualNetworks/nlp-vnet/subnets/aks");

        List<Map<String, Object>> endpoints = arm.list("Microsoft.MachineLearningServices/workspaces/onlineEndpoints");
        assertThat(endpoints).hasSize(1);
        List<Map<String, Object>> deployments = arm.list("Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments");
        assertThat(deployments).hasSize(1);
        assertThat(String.valueOf(deployments.get(0))).contains("Standard_DS3_v2").contains("azureml://registries/nlp/models/sentiment/versions/3");

        Cli.Result plan = cli().run("plan", "--detailed-exitcode", example());
        assertThat(plan.exitCode()).as(plan.toString()).isZero();

        Cli.Result destroy = cli().run("destroy", "--auto-approve", example());
        assertThat(destroy.exitCode()).as(destroy.toString()).isZero();
        assertThat(arm.all()).as("nothing owned is left").isEmpty();
        assertThat(get(GROUP).path("__status").asInt()).as("the group mlctl made is gone").isEqualTo(404);
        assertThat(arm.sawAuthorization()).as("no token over plain HTTP").isFalse();
        assertThat(cli().run("plan", "--detailed-exitcode", example()).exitCode()).isEqualTo(2); // all to create again
    }

    @Test
    void theExamplesBucketHoldsBlobsInAzuriteUntilDestroy() {
        io.mlctl.fake.azure.BlobMirror blobs = io.mlctl.fake.azure.BlobMirror.attach(arm, io.mlctl.testing.Azurite.shared().blobEndpoint());
        String account = storageAccount();
        // Azurite outlives this test: start from a clean slate for this account's mirror.
        blobs.container(account, "nlp-corpora").deleteIfExists();
        assertThat(cli().run("apply", "--auto-approve", example()).exitCode()).isZero();
        var container = blobs.container(account, "nlp-corpora");
        assertThat(container.exists()).isTrue();
        assertThat(container.getProperties().getMetadata()).containsEntry("mlctl_environment", "nlp-azure").containsEntry("mlctl_address", "bucket.nlp-corpora");
        container.getBlobClient("corpus/part-0001.txt").upload(com.azure.core.util.BinaryData.fromString("the quick brown fox"));
        assertThat(container.getBlobClient("corpus/part-0001.txt").downloadContent().toString()).isEqualTo("the quick brown fox");
        assertThat(cli().run("destroy", "--auto-approve", example()).exitCode()).isZero();
        assertThat(container.exists()).as("the container goes with its account").isFalse();
    }

    @Test
    void aResourceRemovedFromTheSpecIsPrunedAndNothingElseChanges() throws Exception {
        assertThat(cli().run("apply", "--auto-approve", example()).exitCode()).isZero();
        String full = Fixtures.read(Path.of(example()));
        Path pruned = Fixtures.write(dir, "pruned.yaml", full.substring(0, full.indexOf("    - type: inference_endpoint")));
        Cli.Result plan = cli().run("plan", "--detailed-exitcode", pruned.toString());
        assertThat(plan.exitCode()).as(plan.toString()).isEqualTo(2);
        assertThat(plan.out()).contains("inference_endpoint.sentiment").contains("0 to add, 0 to change, 1 to destroy");
        Cli.Result apply = cli().run("apply", "--auto-approve", pruned.toString());
        assertThat(apply.exitCode()).as(apply.toString()).isZero();
        assertThat(arm.list("Microsoft.MachineLearningServices/workspaces/onlineEndpoints")).isEmpty();
        assertThat(arm.list("Microsoft.ContainerService/managedClusters")).hasSize(1);
        assertThat(cli().run("plan", "--detailed-exitcode", pruned.toString()).exitCode()).isZero();
    }

    @Test
    void authorizationFailedIsOneLineNamingTheActionAndScope() {
        String scope = GROUP + "/providers/Microsoft.Network/virtualNetworks/nlp-vnet";
        arm.faults().fail("PUT .*/virtualNetworks/nlp-vnet$", 100, ArmError.authorizationFailed("Microsoft.Network/virtualNetworks/write", scope));
        Cli.Result r = cli().run("apply", "--auto-approve", example());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("not authorized to perform Microsoft.Network/virtualNetworks/write on " + scope + " (AuthorizationFailed)");
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("{\"error\"");
    }

    @Test
    void applyKilledMidwayResumesWithoutDuplicates() throws Exception {
        arm.operationTime(Duration.ofMillis(1500)); // operations stay in progress a while: the kill lands mid-apply
        Path state = dir.resolve("state");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), "io.mlctl.cli.Main", "apply", "--auto-approve", example());
        // Nothing of the developer's Azure setup reaches the child: only the fake.
        pb.environment().keySet().removeIf(k -> k.startsWith("AZURE_") || k.startsWith("MLCTL_"));
        pb.environment().put(AzureSettings.ENDPOINT_VARIABLE, arm.endpoint());
        pb.environment().put("AZURE_SUBSCRIPTION_ID", SUB);
        pb.environment().put("HOME", dir.toString());
        pb.environment().put("MLCTL_STATE_DIR", state.toString());
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("first.log").toFile());
        Process p = pb.start();
        Path journal = state.resolve("nlp-azure").resolve(Journal.FILE);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline && !(Files.exists(journal) && Fixtures.read(journal).contains("\"address\":\"kubernetes_cluster.nlp-aks\""))) {
            Thread.sleep(10);
        }
        assertThat(p.isAlive()).as(Fixtures.read(dir.resolve("first.log"))).isTrue();
        p.destroyForcibly();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();

        arm.operationTime(Duration.ZERO);
        Cli.Result resumed = cli().env("MLCTL_STATE_DIR", state.toString()).run("apply", "--auto-approve", example());
        assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
        assertThat(arm.list("Microsoft.Network/virtualNetworks")).hasSize(1);
        assertThat(arm.list("Microsoft.Storage/storageAccounts")).filteredOn(a -> String.valueOf(a.get("tags")).contains("bucket.nlp-corpora")).hasSize(1);
        assertThat(arm.list("Microsoft.ManagedIdentity/userAssignedIdentities")).hasSize(1);
        assertThat(arm.list("Microsoft.ContainerService/managedClusters")).hasSize(1);
        assertThat(arm.list("Microsoft.MachineLearningServices/workspaces/onlineEndpoints")).hasSize(1);
        assertThat(cli().env("MLCTL_STATE_DIR", state.toString()).run("plan", "--detailed-exitcode", example()).exitCode()).isZero();
    }
}
