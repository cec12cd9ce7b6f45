package io.mlctl.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.resourcemanager.storage.models.StorageAccountCreateParameters;
import io.mlctl.fake.azure.ArmError;
import io.mlctl.fake.azure.ArmFake;
import io.mlctl.fake.azure.ArmType;
import io.mlctl.plan.Action;
import io.mlctl.plan.Plan;
import io.mlctl.spec.Environment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * inference_endpoint on Azure Machine Learning through the real engine, driver and SDK against the ARM
 * fake: the workspace mlctl keeps (with its storage account and key vault), the online endpoint, its
 * managed deployment and traffic.
 */
class AzureEndpointTest {
    static final String RUNNER = "- {type: identity, name: runner}\n";
    static final String EP = """
        - type: inference_endpoint
          name: sentiment
          modelUri: azureml://registries/nlp/models/sentiment/versions/3
          machineType: Standard_DS3_v2
          minReplicas: 1
          maxReplicas: 3
          identity: runner
        """;

    @TempDir
    Path dir;
    AzureRig rig;

    /** Stand-in for the storage helper's storage accounts (until the branches merge): checked against the SDK's model. */
    record StorageAccounts() implements ArmType {
        @Override
        public String type() {
            return "Microsoft.Storage/storageAccounts";
        }

        @Override
        public Class<?> model() {
            return StorageAccountCreateParameters.class;
        }

        @Override
        public Lro lro() {
            return Lro.SYNC;
        }
    }

    /** Serves storage accounts unless the fake already does (the storage helper's own type, once merged). */
    static void serveStorageAccounts(ArmFake arm) {
        try {
            arm.register(new StorageAccounts());
        } catch (IllegalArgumentException served) {
            // the real type is registered
        }
    }

    @BeforeEach
    void start() throws Exception {
        rig = new AzureRig(dir);
        serveStorageAccounts(rig.arm);
    }

    @AfterEach
    void stop() {
        rig.close();
    }

    Environment dev(String resources) {
        return rig.env("dev", "team: nlp", resources);
    }

    String workspace() {
        return rig.id("dev", "Microsoft.MachineLearningServices/workspaces/dev-mlw");
    }

    String endpoint() {
        return workspace() + "/onlineEndpoints/dev-sentiment";
    }

    Map<String, Object> props(String id) {
        return ArmFake.properties(rig.arm.get(id).orElseThrow());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @Test
    void applyMakesTheWorkspaceEndpointAndDeploymentThenACleanPlanInFewRequests() {
        Environment env = dev(RUNNER + EP);
        rig.apply(env);

        Map<String, Object> ws = rig.arm.get(workspace()).orElseThrow();
        assertThat(map(ws.get("tags"))).containsEntry("mlctl-environment", "dev").containsEntry("managed-by", "mlctl").doesNotContainKey("mlctl-address");
        assertThat(ArmFake.properties(ws).get("keyVault")).asString().contains("/Microsoft.KeyVault/vaults/dev-kv");
        assertThat(ArmFake.properties(ws).get("storageAccount")).asString().contains("/Microsoft.Storage/storageAccounts/devmlw");
        assertThat(rig.arm.list("Microsoft.KeyVault/vaults")).singleElement().satisfies(v -> assertThat(map(v.get("tags"))).containsEntry("managed-by", "mlctl"));

        Map<String, Object> ep = rig.arm.get(endpoint()).orElseThrow();
        assertThat(ArmFake.properties(ep)).containsEntry("authMode", "Key").containsEntry("traffic", Map.of("blue", 100));
        assertThat(map(ep.get("identity"))).containsEntry("type", "UserAssigned");
        assertThat(map(map(ep.get("identity")).get("userAssignedIdentities"))).containsOnlyKeys(rig.id("dev", "Microsoft.ManagedIdentity/userAssignedIdentities/runner"));
        assertThat(map(ep.get("tags"))).containsEntry("mlctl-address", "inference_endpoint.sentiment").containsEntry("team", "nlp");
        Map<String, Object> blue = rig.arm.get(endpoint() + "/deployments/blue").orElseThrow();
        assertThat(ArmFake.properties(blue)).containsEntry("model", "azureml://registries/nlp/models/sentiment/versions/3")
            .containsEntry("instanceType", "Standard_DS3_v2").containsEntry("endpointComputeType", "Managed")
            .containsEntry("scaleSettings", Map.of("scaleType", "TargetUtilization", "minInstances", 1, "maxInstances", 3));
        assertThat(map(blue.get("sku"))).containsEntry("capacity", 1);

        rig.arm.faults().resetCounts();
        Plan plan = rig.plan(env);
        assertThat(plan.changes()).as(AzureRig.paths(plan).toString()).isEmpty();
        // Inventory in bulk: one Graph query per kind and page, plus one for the endpoints' deployments and one for role assignments.
        assertThat(rig.arm.faults().count("GET /subscriptions/[^/]+/resourceGroups/dev/providers/Microsoft.MachineLearningServices")).isZero();
        assertThat(rig.arm.faults().count("POST /providers/Microsoft.ResourceGraph/resources")).isLessThanOrEqualTo(8);
    }

    @Test
    void aNoChangePlanOfSeveralEndpointsTakesUnderOneRequestPerResource() {
        StringBuilder y = new StringBuilder(RUNNER);
        for (int i = 0; i < 6; i++) y.append(EP.replace("name: sentiment", "name: ep-" + i));
        Environment env = dev(y.toString());
        rig.apply(env);
        rig.arm.faults().resetCounts();
        assertThat(rig.plan(env).changes()).isEmpty();
        // Endpoints and their deployments: two Graph queries, whatever their number; nothing read one by one.
        assertThat(rig.graphQueries("onlineendpoints'")).isEqualTo(1);
        assertThat(rig.graphQueries("onlineendpoints/deployments")).isEqualTo(1);
        assertThat(rig.nonGraphRequests()).isZero();
    }

    @Test
    void replicasAndModelChangeInPlaceAndAMachineTypeChangeRollsToANewDeploymentInTheSameEndpoint() {
        rig.apply(dev(RUNNER + EP));
        String scoring = String.valueOf(props(endpoint()).get("scoringUri"));

        Environment more = dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 5").replace("versions/3", "versions/4"));
        Plan p = rig.plan(more);
        assertThat(p.changes()).singleElement().satisfies(c -> assertThat(c.action()).isEqualTo(Action.UPDATE));
        assertThat(AzureRig.paths(p)).containsExactlyInAnyOrder("inference_endpoint.sentiment:maxReplicas", "inference_endpoint.sentiment:modelUri");
        rig.apply(more);
        assertThat(props(endpoint() + "/deployments/blue")).containsEntry("model", "azureml://registries/nlp/models/sentiment/versions/4")
            .containsEntry("scaleSettings", Map.of("scaleType", "TargetUtilization", "minInstances", 1, "maxInstances", 5));
        assertThat(rig.plan(more).changes()).isEmpty();

        Environment bigger = dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 5").replace("versions/3", "versions/4")
            .replace("Standard_DS3_v2", "Standard_F4s_v2"));
        assertThat(rig.plan(bigger).changes()).singleElement().satisfies(c -> assertThat(c.action()).isEqualTo(Action.UPDATE));
        rig.apply(bigger);
        assertThat(rig.arm.get(endpoint() + "/deployments/blue")).isEmpty();
        assertThat(props(endpoint() + "/deployments/green")).containsEntry("instanceType", "Standard_F4s_v2");
        assertThat(props(endpoint())).containsEntry("traffic", Map.of("green", 100)).containsEntry("scoringUri", scoring);
        assertThat(rig.plan(bigger).changes()).isEmpty();
    }

    @Test
    void regionAndIdentityReplaceTheEndpointAndLabelsChangeInPlace() {
        rig.apply(dev(RUNNER + EP));
        Environment otherIdentity = dev(RUNNER + "- {type: identity, name: runner2}\n" + EP.replace("identity: runner", "identity: runner2"));
        Plan p = rig.plan(otherIdentity);
        assertThat(p.changes()).filteredOn(c -> c.address().toString().equals("inference_endpoint.sentiment"))
            .singleElement().satisfies(c -> assertThat(c.action()).isEqualTo(Action.REPLACE));
        rig.apply(otherIdentity);
        assertThat(map(map(rig.arm.get(endpoint()).orElseThrow().get("identity")).get("userAssignedIdentities")))
            .containsOnlyKeys(rig.id("dev", "Microsoft.ManagedIdentity/userAssignedIdentities/runner2"));
        assertThat(rig.plan(otherIdentity).changes()).isEmpty();

        Environment relabelled = rig.env("dev", "team: search", RUNNER + "- {type: identity, name: runner2}\n" + EP.replace("identity: runner", "identity: runner2"));
        assertThat(AzureRig.paths(rig.plan(relabelled))).contains("inference_endpoint.sentiment:tags.team");
        rig.apply(relabelled);
        assertThat(map(rig.arm.get(endpoint()).orElseThrow().get("tags"))).containsEntry("team", "search");
        assertThat(rig.plan(relabelled).changes()).isEmpty();
    }

    @Test
    void scaleSettingsChangedOutOfBandAreDriftAndAreCorrected() {
        Environment env = dev(RUNNER + EP);
        rig.apply(env);
        Map<String, Object> blue = rig.arm.get(endpoint() + "/deployments/blue").orElseThrow();
        ArmFake.properties(blue).put("scaleSettings", new LinkedHashMap<>(Map.of("scaleType", "TargetUtilization", "minInstances", 2, "maxInstances", 2)));
        blue.put("sku", new LinkedHashMap<>(Map.of("name", "Default", "capacity", 2)));
        rig.arm.put(endpoint() + "/deployments/blue", blue);

        Plan plan = rig.plan(env);
        assertThat(AzureRig.paths(plan)).containsExactlyInAnyOrder("inference_endpoint.sentiment:minReplicas", "inference_endpoint.sentiment:maxReplicas");
        rig.apply(env);
        assertThat(props(endpoint() + "/deployments/blue")).containsEntry("scaleSettings", Map.of("scaleType", "TargetUtilization", "minInstances", 1,
            "maxInstances", 3));
        assertThat(rig.plan(env).changes()).isEmpty();

        // A deployment deleted out of band is made again.
        Map<String, Object> ep = rig.arm.get(endpoint()).orElseThrow();
        ArmFake.properties(ep).put("traffic", new LinkedHashMap<>());
        rig.arm.put(endpoint(), ep);
        rig.arm.remove(endpoint() + "/deployments/blue");
        assertThat(AzureRig.paths(rig.plan(env))).contains("inference_endpoint.sentiment:status");
        rig.apply(env);
        assertThat(props(endpoint())).containsEntry("traffic", Map.of("blue", 100));
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void anHttpsModelIsRegisteredInTheWorkspaceAndReadsBackAsItsUri() {
        Environment env = dev(EP.replace("azureml://registries/nlp/models/sentiment/versions/3", "https://models.example.com/sentiment/v1/")
            .replace("  identity: runner\n", ""));
        rig.apply(env);
        String model = String.valueOf(props(endpoint() + "/deployments/blue").get("model"));
        assertThat(model).startsWith(workspace() + "/models/dev-sentiment/versions/");
        assertThat(props(model)).containsEntry("modelUri", "https://models.example.com/sentiment/v1/").containsEntry("modelType", "custom_model");
        assertThat(map(rig.arm.get(endpoint()).orElseThrow().get("identity"))).containsEntry("type", "SystemAssigned");
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void pruneKeepsTheWorkspaceWhileAnEndpointIsInItAndDestroyLeavesNothing() {
        String second = EP.replace("name: sentiment", "name: summary");
        Environment both = dev(RUNNER + EP + second);
        rig.apply(both);
        assertThat(rig.arm.list("Microsoft.MachineLearningServices/workspaces/onlineEndpoints")).hasSize(2);

        Environment one = dev(RUNNER + second);
        Plan prune = rig.plan(one);
        assertThat(prune.changes()).singleElement().satisfies(c -> assertThat(c.action()).isEqualTo(Action.DELETE));
        rig.apply(one);
        assertThat(rig.arm.get(endpoint())).isEmpty();
        assertThat(rig.arm.get(workspace())).isPresent();

        rig.destroy(one);
        assertThat(rig.arm.all()).as("nothing left, not even a soft-deleted vault").isEmpty();
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).isEmpty();
    }

    @Test
    void theLastEndpointTakesTheWorkspaceWithItUnlessSomeoneElsesEndpointIsThere() {
        rig.apply(dev(RUNNER + EP));
        // Someone else's endpoint in the same workspace, made in the portal.
        String theirs = workspace() + "/onlineEndpoints/their-endpoint";
        rig.arm.put(theirs, Map.of("id", theirs, "name", "their-endpoint", "type", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
            "location", "eastus", "tags", Map.of(), "properties", Map.of("authMode", "Key", "provisioningState", "Succeeded")));
        rig.apply(dev(RUNNER));
        assertThat(rig.arm.get(endpoint())).isEmpty();
        assertThat(rig.arm.get(workspace())).isPresent();
        assertThat(rig.arm.list("Microsoft.KeyVault/vaults")).hasSize(1);
    }

    @Test
    void someoneElsesEndpointOfTheSameNameIsRefusedNamingIt() {
        rig.apply(dev(RUNNER));
        rig.apply(dev(RUNNER + EP));
        Map<String, Object> ep = rig.arm.get(endpoint()).orElseThrow();
        ep.put("tags", Map.of("owner", "search-team"));
        rig.arm.put(endpoint(), ep);
        List<String> failures = rig.applyFailing(dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 4")));
        assertThat(failures).singleElement().asString().contains("Azure ML online endpoint dev-sentiment").contains("not managed by mlctl")
            .doesNotContain("\n");
        assertThat(props(endpoint() + "/deployments/blue")).containsEntry("scaleSettings", Map.of("scaleType", "TargetUtilization", "minInstances", 1,
            "maxInstances", 3));
    }

    @Test
    void aWorkspaceOfTheSameNameNotOursIsNeverUsed() {
        rig.apply(dev(RUNNER));
        String store = rig.id("dev", "Microsoft.Storage/storageAccounts/theirstore");
        String vault = rig.id("dev", "Microsoft.KeyVault/vaults/their-vault");
        rig.arm.put(store, Map.of("id", store, "name", "theirstore", "type", "Microsoft.Storage/storageAccounts", "location", "eastus"));
        rig.arm.put(vault, Map.of("id", vault, "name", "their-vault", "type", "Microsoft.KeyVault/vaults", "location", "eastus"));
        rig.arm.put(workspace(), Map.of("id", workspace(), "name", "dev-mlw", "type", "Microsoft.MachineLearningServices/workspaces", "location", "eastus",
            "tags", Map.of(), "properties", Map.of("storageAccount", store, "keyVault", vault, "provisioningState", "Succeeded")));
        List<String> failures = rig.applyFailing(dev(RUNNER + EP));
        assertThat(failures).singleElement().asString().contains("Azure ML workspace dev-mlw already exists").contains("not managed by mlctl")
            .doesNotContain("\n");
        assertThat(rig.arm.list("Microsoft.MachineLearningServices/workspaces/onlineEndpoints")).isEmpty();
    }

    @Test
    void lostAnswersCreateNothingTwiceAndThrottlingIsWaitedOut() {
        rig.apply(dev(RUNNER));
        rig.arm.faults().dropResponse("PUT .*/onlineEndpoints/dev-sentiment$", 1);
        rig.arm.faults().dropResponse("PUT .*/deployments/blue$", 1);
        rig.arm.faults().throttle("PUT .*/Microsoft.KeyVault/vaults/", 1, 1);
        Environment env = dev(RUNNER + EP);
        rig.apply(env);
        assertThat(rig.arm.list("Microsoft.MachineLearningServices/workspaces/onlineEndpoints")).hasSize(1);
        assertThat(rig.arm.list("Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments")).hasSize(1);
        assertThat(rig.arm.list("Microsoft.KeyVault/vaults")).hasSize(1);
        assertThat(rig.arm.faults().count("PUT .*/Microsoft.KeyVault/vaults/")).isEqualTo(2);
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void aFailedDeploymentIsOneLineAndWhatAzureCannotRunIsRefusedBeforeAnyCall() {
        rig.apply(dev(RUNNER));
        rig.arm.faults().failOperation("PUT .*/deployments/blue$", 1, ArmError.quota("standardDSv2Family", "eastus", 10, 10, 4));
        List<String> failures = rig.applyFailing(dev(RUNNER + EP));
        assertThat(failures).singleElement().asString().contains("deployment blue").contains("quota exceeded: standardDSv2Family cores in eastus")
            .doesNotContain("\n");

        // The failed deployment is made again on the next apply, beside endpoints Azure could not run.
        List<String> zero = rig.applyFailing(dev(RUNNER + EP + EP.replace("minReplicas: 1", "minReplicas: 0").replace("name: sentiment", "name: other")));
        assertThat(zero).singleElement().asString().contains("minReplicas 0 is not supported on Azure").doesNotContain("\n");
        assertThat(props(endpoint())).containsEntry("traffic", Map.of("blue", 100));
        assertThat(props(endpoint() + "/deployments/blue")).containsEntry("provisioningState", "Succeeded");
        List<String> image = rig.applyFailing(dev(RUNNER + EP + EP.replace("name: sentiment", "name: third").replace("  identity: runner\n",
            "  identity: runner\n  image: ghcr.io/example/serve:1\n")));
        assertThat(image).singleElement().asString().contains("remove 'image'").doesNotContain("\n");
        assertThat(rig.arm.list("Microsoft.MachineLearningServices/workspaces/onlineEndpoints")).extracting(e -> e.get("name")).containsExactly("dev-sentiment");
    }

    @Test
    void anEndpointWhoseCreationFailedIsRepairedByTheNextApply() {
        rig.apply(dev(RUNNER));
        rig.arm.faults().failOperation("PUT .*/onlineEndpoints/dev-sentiment$", 1, new ArmError(400, "UserError", "endpoint provisioning failed"));
        List<String> failures = rig.applyFailing(dev(RUNNER + EP));
        assertThat(failures).singleElement().asString().contains("create online endpoint dev-sentiment").contains("endpoint provisioning failed")
            .doesNotContain("\n");
        assertThat(props(endpoint())).containsEntry("provisioningState", "Failed");
        Environment env = dev(RUNNER + EP);
        rig.apply(env);
        assertThat(props(endpoint())).containsEntry("provisioningState", "Succeeded").containsEntry("traffic", Map.of("blue", 100));
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void destroyRefusesWhileTheEndpointServesADeploymentMlctlDidNotMake() {
        Environment env = dev(RUNNER + EP);
        rig.apply(env);
        String theirs = endpoint() + "/deployments/canary";
        Map<String, Object> canary = rig.arm.get(endpoint() + "/deployments/blue").orElseThrow();
        canary.put("id", theirs);
        canary.put("name", "canary");
        canary.put("tags", Map.of());
        rig.arm.put(theirs, canary);
        Map<String, Object> ep = rig.arm.get(endpoint()).orElseThrow();
        ArmFake.properties(ep).put("traffic", new LinkedHashMap<>(Map.of("blue", 90, "canary", 10)));
        rig.arm.put(endpoint(), ep);

        // Their canary keeps its traffic through an update of mlctl's deployment.
        Environment more = dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 4"));
        rig.apply(more);
        assertThat(props(endpoint())).containsEntry("traffic", Map.of("blue", 90, "canary", 10));
        assertThat(rig.arm.get(theirs)).isPresent();

        var outcome = rig.run(more, true);
        assertThat(outcome.result().orElseThrow().failures()).anySatisfy(f -> assertThat(f).contains("also serves deployment 'canary'")
            .doesNotContain("\n"));
        assertThat(rig.arm.get(endpoint())).isPresent();
    }
}
