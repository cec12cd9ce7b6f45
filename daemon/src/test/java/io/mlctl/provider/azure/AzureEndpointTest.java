package io.mlctl.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.resourcemanager.resources.fluent.models.GenericResourceInner;
import io.mlctl.fake.azure.ArmError;
import io.mlctl.fake.azure.ArmFake;
import io.mlctl.plan.Action;
import io.mlctl.plan.Plan;
import io.mlctl.provider.DriverException;
import io.mlctl.spec.Environment;
import java.nio.file.Path;
import java.time.Duration;
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

    @BeforeEach
    void start() throws Exception {
        rig = new AzureRig(dir);
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

    String autoscale(String deployment) {
        return rig.id("dev", "Microsoft.Insights/autoscalesettings/autoscale-dev-sentiment-" + deployment);
    }

    /** capacity minimum, maximum, default of mlctl's autoscale profile of a deployment. */
    @SuppressWarnings("unchecked")
    List<String> bounds(String deployment) {
        Map<String, Object> profile = ((List<Map<String, Object>>) props(autoscale(deployment)).get("profiles")).get(0);
        Map<String, Object> c = map(profile.get("capacity"));
        return List.of(String.valueOf(c.get("minimum")), String.valueOf(c.get("maximum")), String.valueOf(c.get("default")));
    }

    /** The endpoint kind's own reads and writes (Azure ML, autoscale settings), not Resource Graph's queries. */
    long ownRequests() {
        return rig.arm.faults().count("^(GET|PUT|PATCH|DELETE|POST) /subscriptions/[^ ]*(Microsoft.MachineLearningServices|Microsoft.Insights)");
    }

    Map<String, Object> props(String id) {
        return ArmFake.properties(rig.arm.get(id).orElseThrow());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @Test
    void applyMakesTheWorkspaceEndpointDeploymentAndAutoscaleThenACleanPlanInFewRequests() {
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
        // A managed deployment takes Default scale settings and runs minReplicas; Azure Monitor autoscale keeps it within min..max.
        Map<String, Object> blue = rig.arm.get(endpoint() + "/deployments/blue").orElseThrow();
        assertThat(ArmFake.properties(blue)).containsEntry("model", "azureml://registries/nlp/models/sentiment/versions/3")
            .containsEntry("instanceType", "Standard_DS3_v2").containsEntry("endpointComputeType", "Managed")
            .containsEntry("scaleSettings", Map.of("scaleType", "Default"));
        assertThat(map(blue.get("sku"))).containsEntry("capacity", 1);
        Map<String, Object> scale = rig.arm.get(autoscale("blue")).orElseThrow();
        assertThat(ArmFake.properties(scale)).containsEntry("enabled", true).containsEntry("targetResourceUri", endpoint() + "/deployments/blue");
        assertThat(bounds("blue")).containsExactly("1", "3", "1");
        assertThat(map(scale.get("tags"))).containsEntry("mlctl-address", "inference_endpoint.sentiment");

        rig.arm.faults().resetCounts();
        Plan plan = rig.plan(env);
        assertThat(plan.changes()).as(AzureRig.paths(plan).toString()).isEmpty();
        // Inventory in bulk: endpoints, their deployments and their autoscale settings are one Graph query each; nothing read one by one.
        assertThat(rig.graphQueries("onlineendpoints'")).isEqualTo(1);
        assertThat(rig.graphQueries("onlineendpoints/deployments'")).isEqualTo(1);
        assertThat(rig.graphQueries("autoscalesettings'")).isEqualTo(1);
        assertThat(ownRequests()).isZero();
    }

    @Test
    void aNoChangePlanOfSeveralEndpointsTakesUnderOneRequestPerResource() {
        StringBuilder y = new StringBuilder(RUNNER);
        for (int i = 0; i < 6; i++) y.append(EP.replace("name: sentiment", "name: ep-" + i));
        Environment env = dev(y.toString());
        rig.apply(env);
        rig.arm.faults().resetCounts();
        assertThat(rig.plan(env).changes()).isEmpty();
        // Endpoints, their deployments and autoscale settings: three Graph queries, whatever their number; nothing read one by one.
        assertThat(rig.graphQueries("onlineendpoints'")).isEqualTo(1);
        assertThat(rig.graphQueries("onlineendpoints/deployments'")).isEqualTo(1);
        assertThat(rig.graphQueries("autoscalesettings'")).isEqualTo(1);
        assertThat(ownRequests()).isZero();
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
            .containsEntry("scaleSettings", Map.of("scaleType", "Default"));
        assertThat(bounds("blue")).containsExactly("1", "5", "1");
        assertThat(rig.plan(more).changes()).isEmpty();

        Environment bigger = dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 5").replace("versions/3", "versions/4")
            .replace("Standard_DS3_v2", "Standard_F4s_v2"));
        assertThat(rig.plan(bigger).changes()).singleElement().satisfies(c -> assertThat(c.action()).isEqualTo(Action.UPDATE));
        rig.apply(bigger);
        assertThat(rig.arm.get(endpoint() + "/deployments/blue")).isEmpty();
        assertThat(rig.arm.get(autoscale("blue"))).as("the old deployment's autoscale setting goes with it").isEmpty();
        assertThat(props(endpoint() + "/deployments/green")).containsEntry("instanceType", "Standard_F4s_v2");
        assertThat(props(autoscale("green"))).containsEntry("targetResourceUri", endpoint() + "/deployments/green");
        assertThat(props(endpoint())).containsEntry("traffic", Map.of("green", 100)).containsEntry("scoringUri", scoring);
        assertThat(rig.plan(bigger).changes()).isEmpty();
    }

    @Test
    void fixedReplicasNeedNoAutoscaleAndTheAutoscalersInstanceCountIsKept() {
        Environment fixed = dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 1"));
        rig.apply(fixed);
        assertThat(rig.arm.get(autoscale("blue"))).isEmpty();
        assertThat(map(rig.arm.get(endpoint() + "/deployments/blue").orElseThrow().get("sku"))).containsEntry("capacity", 1);
        assertThat(rig.plan(fixed).changes()).isEmpty();

        Environment scaled = dev(RUNNER + EP);
        assertThat(AzureRig.paths(rig.plan(scaled))).containsExactly("inference_endpoint.sentiment:maxReplicas");
        rig.apply(scaled);
        assertThat(bounds("blue")).containsExactly("1", "3", "1");
        // The autoscaler runs three instances: within the bounds, that is no drift, and a model change keeps the count.
        Map<String, Object> blue = rig.arm.get(endpoint() + "/deployments/blue").orElseThrow();
        blue.put("sku", new LinkedHashMap<>(Map.of("name", "Default", "capacity", 3)));
        rig.arm.put(endpoint() + "/deployments/blue", blue);
        assertThat(rig.plan(scaled).changes()).isEmpty();
        Environment model = dev(RUNNER + EP.replace("versions/3", "versions/4"));
        rig.apply(model);
        assertThat(props(endpoint() + "/deployments/blue")).containsEntry("model", "azureml://registries/nlp/models/sentiment/versions/4");
        assertThat(map(rig.arm.get(endpoint() + "/deployments/blue").orElseThrow().get("sku"))).containsEntry("capacity", 3);

        // Back to a fixed count: the setting goes, and the deployment runs exactly that many.
        Environment two = dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 2").replace("minReplicas: 1", "minReplicas: 2"));
        rig.apply(two);
        assertThat(rig.arm.get(autoscale("blue"))).isEmpty();
        assertThat(map(rig.arm.get(endpoint() + "/deployments/blue").orElseThrow().get("sku"))).containsEntry("capacity", 2);
        assertThat(rig.plan(two).changes()).isEmpty();
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
    void whatSomeoneSetOnTheEndpointSurvivesALabelChangeAndARollout() {
        Environment env = dev(RUNNER + EP);
        rig.apply(env);
        // Closed to the internet, token auth, a description and their own tag: set in the portal.
        Map<String, Object> ep = rig.arm.get(endpoint()).orElseThrow();
        ArmFake.properties(ep).put("publicNetworkAccess", "Disabled");
        ArmFake.properties(ep).put("authMode", "AMLToken");
        ArmFake.properties(ep).put("description", "scoring for the search team");
        map(ep.get("tags")).put("cost-center", "42");
        rig.arm.put(endpoint(), ep);

        Environment relabelled = rig.env("dev", "team: search", RUNNER + EP);
        assertThat(AzureRig.paths(rig.plan(relabelled))).contains("inference_endpoint.sentiment:tags.team");
        rig.arm.faults().resetCounts();
        rig.apply(relabelled);
        assertThat(rig.arm.faults().count("PUT .*/onlineEndpoints/dev-sentiment$")).isEqualTo(1);
        assertThat(rig.arm.faults().count("PUT .*/deployments/")).as("a label change never touches the deployment").isZero();
        assertThat(props(endpoint())).containsEntry("publicNetworkAccess", "Disabled").containsEntry("authMode", "AMLToken")
            .containsEntry("description", "scoring for the search team").containsEntry("traffic", Map.of("blue", 100));
        assertThat(map(rig.arm.get(endpoint()).orElseThrow().get("tags"))).containsEntry("team", "search").containsEntry("cost-center", "42");

        // A rollout to another instance type moves the traffic: the endpoint is put back as read with only that changed.
        Environment bigger = rig.env("dev", "team: search", RUNNER + EP.replace("Standard_DS3_v2", "Standard_F4s_v2"));
        rig.apply(bigger);
        assertThat(props(endpoint())).containsEntry("publicNetworkAccess", "Disabled").containsEntry("authMode", "AMLToken")
            .containsEntry("traffic", Map.of("green", 100));
        assertThat(rig.plan(bigger).changes()).isEmpty();
    }

    @Test
    void replicasChangedOutOfBandAreDriftAndAreCorrected() {
        Environment env = dev(RUNNER + EP);
        rig.apply(env);
        // Someone narrows the autoscale bounds in the portal.
        Map<String, Object> scale = rig.arm.get(autoscale("blue")).orElseThrow();
        @SuppressWarnings("unchecked")
        Map<String, Object> profile = ((List<Map<String, Object>>) ArmFake.properties(scale).get("profiles")).get(0);
        profile.put("capacity", new LinkedHashMap<>(Map.of("minimum", "2", "maximum", "2", "default", "2")));
        rig.arm.put(autoscale("blue"), scale);

        Plan plan = rig.plan(env);
        assertThat(AzureRig.paths(plan)).containsExactlyInAnyOrder("inference_endpoint.sentiment:minReplicas", "inference_endpoint.sentiment:maxReplicas");
        rig.apply(env);
        assertThat(bounds("blue")).containsExactly("1", "3", "1");
        assertThat(ArmFake.properties(rig.arm.get(autoscale("blue")).orElseThrow()).get("profiles")).asString()
            .as("the rules someone may have tuned stay").contains("CpuUtilizationPercentage");
        assertThat(rig.plan(env).changes()).isEmpty();

        // The autoscale setting deleted: the deployment runs a fixed count, shown as drift, and the setting is made again.
        rig.arm.remove(autoscale("blue"));
        assertThat(AzureRig.paths(rig.plan(env))).containsExactly("inference_endpoint.sentiment:maxReplicas");
        rig.apply(env);
        assertThat(bounds("blue")).containsExactly("1", "3", "1");

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
    void whatSomeoneSetOnTheDeploymentSurvivesAModelChangeAClampAndARollout() {
        Environment env = dev(RUNNER + EP);
        rig.apply(env);
        String blue = endpoint() + "/deployments/blue";
        // Tuned in the portal or the CLI, and a tag Azure Policy copied from the resource group.
        Map<String, Object> dep = rig.arm.get(blue).orElseThrow();
        Map<String, Object> p = ArmFake.properties(dep);
        p.put("requestSettings", new LinkedHashMap<>(Map.of("requestTimeout", "PT30S", "maxConcurrentRequestsPerInstance", 4)));
        p.put("livenessProbe", new LinkedHashMap<>(Map.of("initialDelay", "PT10M", "period", "PT30S")));
        p.put("readinessProbe", new LinkedHashMap<>(Map.of("failureThreshold", 10)));
        p.put("environmentVariables", new LinkedHashMap<>(Map.of("MODEL_THREADS", "8")));
        p.put("appInsightsEnabled", true);
        p.put("egressPublicNetworkAccess", "Disabled");
        p.put("dataCollector", new LinkedHashMap<>(Map.of("collections", Map.of("model_inputs", Map.of("dataCollectionMode", "Enabled")))));
        p.put("description", "tuned by the search team");
        Map<String, Object> tags = new LinkedHashMap<>(map(dep.get("tags")));
        tags.put("cost-center", "42");
        dep.put("tags", tags);
        rig.arm.put(blue, dep);
        Map<String, Object> tuned = new LinkedHashMap<>(p);
        tuned.remove("model");

        // Their tag is no drift, and a change of the autoscale bounds alone never rolls the deployment.
        assertThat(rig.plan(env).changes()).isEmpty();
        rig.arm.faults().resetCounts();
        Environment wider = dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 5"));
        rig.apply(wider);
        assertThat(bounds("blue")).containsExactly("1", "5", "1");
        assertThat(rig.arm.faults().count("PUT .*/deployments/")).isZero();

        // A model change: the deployment is PUT back as read with the model changed.
        Environment model = dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 5").replace("versions/3", "versions/4"));
        rig.apply(model);
        assertThat(props(blue)).containsEntry("model", "azureml://registries/nlp/models/sentiment/versions/4").containsAllEntriesOf(tuned);
        assertThat(map(rig.arm.get(blue).orElseThrow().get("tags"))).containsEntry("cost-center", "42")
            .containsEntry("mlctl-address", "inference_endpoint.sentiment");

        // The autoscaler runs five; narrower bounds bring the count within them, and nothing else changes.
        dep = rig.arm.get(blue).orElseThrow();
        dep.put("sku", new LinkedHashMap<>(Map.of("name", "Default", "capacity", 5)));
        rig.arm.put(blue, dep);
        Environment narrower = dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 2").replace("versions/3", "versions/4"));
        rig.apply(narrower);
        assertThat(map(rig.arm.get(blue).orElseThrow().get("sku"))).containsEntry("capacity", 2);
        assertThat(props(blue)).containsAllEntriesOf(tuned);
        assertThat(map(rig.arm.get(blue).orElseThrow().get("tags"))).containsEntry("cost-center", "42");

        // A rollout to another instance type: the new deployment starts from the serving one's settings and tags.
        Environment bigger = dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 2").replace("versions/3", "versions/4")
            .replace("Standard_DS3_v2", "Standard_F4s_v2"));
        rig.apply(bigger);
        String green = endpoint() + "/deployments/green";
        assertThat(rig.arm.get(blue)).isEmpty();
        assertThat(props(green)).containsEntry("instanceType", "Standard_F4s_v2").containsEntry("model", "azureml://registries/nlp/models/sentiment/versions/4")
            .containsAllEntriesOf(Map.of("requestSettings", tuned.get("requestSettings"), "livenessProbe", tuned.get("livenessProbe"),
                "environmentVariables", tuned.get("environmentVariables"), "egressPublicNetworkAccess", "Disabled", "appInsightsEnabled", true,
                "description", "tuned by the search team"));
        assertThat(map(rig.arm.get(green).orElseThrow().get("sku"))).containsEntry("capacity", 1);
        assertThat(map(rig.arm.get(green).orElseThrow().get("tags"))).containsEntry("cost-center", "42")
            .containsEntry("mlctl-address", "inference_endpoint.sentiment");
        assertThat(rig.plan(bigger).changes()).isEmpty();
    }

    /** An autoscale setting as the portal makes one: its own name, no tags, one profile. */
    static Map<String, Object> portalSetting(String id, String target, int min, int max) {
        Map<String, Object> capacity = Map.of("minimum", String.valueOf(min), "maximum", String.valueOf(max), "default", String.valueOf(min));
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("enabled", true);
        props.put("targetResourceUri", target);
        props.put("profiles", List.of(Map.of("name", "Auto created scale condition", "capacity", capacity, "rules", List.of())));
        return Map.of("id", id, "name", id.substring(id.lastIndexOf('/') + 1), "type", "Microsoft.Insights/autoscalesettings", "location", "eastus",
            "tags", Map.of(), "properties", props);
    }

    @Test
    void someoneElsesAutoscaleSettingOnTheDeploymentIsReportedAndNeverFought() {
        Environment fixed = dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 1"));
        rig.apply(fixed);
        String blue = endpoint() + "/deployments/blue";
        // Made in the portal for mlctl's deployment: 1 to 4 instances; their autoscaler runs three now.
        String theirs = rig.id("dev", "Microsoft.Insights/autoscalesettings/sentiment-scale");
        rig.arm.put(theirs, portalSetting(theirs, blue, 1, 4));
        Map<String, Object> dep = rig.arm.get(blue).orElseThrow();
        dep.put("sku", new LinkedHashMap<>(Map.of("name", "Default", "capacity", 3)));
        rig.arm.put(blue, dep);

        // A fixed count: the plan shows how the deployment scales; the apply says why it does not change it, and never resets the count.
        assertThat(AzureRig.paths(rig.plan(fixed))).containsExactly("inference_endpoint.sentiment:maxReplicas");
        rig.arm.faults().resetCounts();
        assertThat(rig.applyFailing(fixed)).singleElement().asString().contains("autoscale setting sentiment-scale").contains("mlctl did not make")
            .contains("1-4").doesNotContain("\n");
        assertThat(rig.arm.faults().count("(PUT|DELETE) .*/(deployments|autoscalesettings)/")).isZero();
        assertThat(map(rig.arm.get(blue).orElseThrow().get("sku"))).containsEntry("capacity", 3);

        // Other bounds: refused the same way, without a PUT Azure would refuse (one autoscale setting per resource).
        assertThat(rig.applyFailing(dev(RUNNER + EP))).singleElement().asString().contains("autoscale setting sentiment-scale").doesNotContain("\n");
        assertThat(rig.arm.faults().count("(PUT|DELETE) .*/(deployments|autoscalesettings)/")).isZero();
        assertThat(rig.arm.get(autoscale("blue"))).isEmpty();

        // The spec's bounds are theirs: no drift, and a model change leaves their setting and the count alone.
        Environment same = dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 4"));
        assertThat(rig.plan(same).changes()).isEmpty();
        rig.apply(dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 4").replace("versions/3", "versions/4")));
        assertThat(rig.arm.faults().count("(PUT|DELETE) .*/autoscalesettings/")).isZero();
        assertThat(map(rig.arm.get(blue).orElseThrow().get("sku"))).containsEntry("capacity", 3);
        assertThat(rig.arm.get(theirs)).isPresent();
        assertThat(rig.arm.get(autoscale("blue"))).isEmpty();
    }

    @Test
    void aSameNamedAutoscaleSettingNotMlctlsIsInTheWayOnlyWhenOneIsNeeded() {
        rig.apply(dev(RUNNER));
        String runner = rig.id("dev", "Microsoft.ManagedIdentity/userAssignedIdentities/runner");
        rig.arm.put(autoscale("blue"), portalSetting(autoscale("blue"), runner, 1, 2));
        Environment fixed = dev(RUNNER + EP.replace("maxReplicas: 3", "maxReplicas: 1"));
        rig.apply(fixed);
        assertThat(props(autoscale("blue"))).containsEntry("targetResourceUri", runner);
        assertThat(rig.plan(fixed).changes()).isEmpty();
        assertThat(rig.applyFailing(dev(RUNNER + EP))).singleElement().asString().contains("autoscale setting autoscale-dev-sentiment-blue")
            .contains("not mlctl's").doesNotContain("\n");
        assertThat(props(autoscale("blue"))).containsEntry("targetResourceUri", runner);
    }

    @Test
    void anHttpsModelIsRegisteredInTheWorkspaceReadsBackAsItsUriAndDoesNotKeepTheWorkspace() {
        Environment env = dev(EP.replace("azureml://registries/nlp/models/sentiment/versions/3", "https://models.example.com/sentiment/v1/")
            .replace("  identity: runner\n", ""));
        rig.apply(env);
        String model = String.valueOf(props(endpoint() + "/deployments/blue").get("model"));
        assertThat(model).startsWith(workspace() + "/models/dev-sentiment/versions/");
        assertThat(props(model)).containsEntry("modelUri", "https://models.example.com/sentiment/v1/").containsEntry("modelType", "custom_model");
        assertThat(map(props(workspace() + "/models/dev-sentiment").get("tags"))).containsEntry("mlctl-address", "inference_endpoint.sentiment");
        assertThat(map(rig.arm.get(endpoint()).orElseThrow().get("identity"))).containsEntry("type", "SystemAssigned");
        assertThat(rig.plan(env).changes()).isEmpty();
        rig.destroy(env);
        assertThat(rig.arm.all()).as("the model mlctl registered goes with the workspace").isEmpty();
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
        assertThat(rig.arm.get(autoscale("blue"))).isEmpty();
        assertThat(rig.arm.get(workspace())).isPresent();

        rig.destroy(one);
        assertThat(rig.arm.all()).as("nothing left, not even a soft-deleted vault").isEmpty();
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).isEmpty();
    }

    @Test
    void replacingOrPruningTheOnlyEndpointKeepsTheWorkspaceAndADestroyReleasesIt() {
        rig.apply(dev(RUNNER + EP));
        Object workspaceId = props(workspace()).get("workspaceId");
        String vault = String.valueOf(props(workspace()).get("keyVault"));

        // The only endpoint replaced (a new identity): deleted, then made again, in the same workspace.
        Environment replaced = dev(RUNNER + "- {type: identity, name: runner2}\n" + EP.replace("identity: runner", "identity: runner2"));
        assertThat(rig.plan(replaced).changes()).filteredOn(c -> c.action() == Action.REPLACE).hasSize(1);
        rig.arm.faults().resetCounts();
        rig.apply(replaced);
        assertThat(rig.arm.faults().count("DELETE .*/workspaces/dev-mlw\\?|DELETE .*/workspaces/dev-mlw$|DELETE .*Microsoft.KeyVault")).isZero();
        assertThat(props(workspace())).containsEntry("workspaceId", workspaceId);
        assertThat(rig.arm.get(vault)).isPresent();
        assertThat(props(endpoint())).containsEntry("traffic", Map.of("blue", 100));

        // The last endpoint pruned: the workspace stays for the next one; only a destroy releases it.
        rig.apply(dev(RUNNER + "- {type: identity, name: runner2}\n"));
        assertThat(rig.arm.get(endpoint())).isEmpty();
        assertThat(props(workspace())).containsEntry("workspaceId", workspaceId);
        rig.destroy(dev(RUNNER + "- {type: identity, name: runner2}\n"));
        assertThat(rig.arm.all()).isEmpty();
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).isEmpty();
    }

    @Test
    void aDestroyKeepsAWorkspaceHoldingSomeoneElsesWorkWithoutFailing() {
        Environment env = dev(RUNNER + EP);
        rig.apply(env);
        // A model someone registered in the environment's workspace (besides the datastores Azure ML made with it).
        assertThat(rig.arm.list("Microsoft.MachineLearningServices/workspaces/datastores")).extracting(d -> d.get("name")).contains("workspaceblobstore");
        String theirs = workspace() + "/models/churn";
        rig.arm.put(theirs, Map.of("id", theirs, "name", "churn", "type", "Microsoft.MachineLearningServices/workspaces/models",
            "properties", Map.of("description", "the churn model")));
        rig.destroy(env);
        assertThat(rig.arm.get(endpoint())).isEmpty();
        assertThat(rig.arm.get(workspace())).as("kept for their model").isPresent();
        assertThat(rig.arm.get(theirs)).isPresent();
        assertThat(rig.arm.list("Microsoft.KeyVault/vaults")).hasSize(1);
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).isPresent();

        // Once it is gone, destroying again releases the workspace, its vault and storage, and the group.
        rig.arm.remove(theirs);
        rig.destroy(env);
        assertThat(rig.arm.all()).isEmpty();
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).isEmpty();
    }

    @Test
    void aWorkspaceCollectionAzureDoesNotServeKeepsTheWorkspaceWithoutFailingTheDestroy() {
        Environment env = dev(RUNNER + EP);
        rig.apply(env);
        // A cloud or api-version without batch endpoints: what they hold is unknown, so the workspace stays; the destroy still succeeds.
        rig.arm.faults().fail("GET .*/workspaces/dev-mlw/batchEndpoints$", 100, new ArmError(404, "InvalidResourceType",
            "The resource type 'workspaces/batchEndpoints' could not be found in the namespace 'Microsoft.MachineLearningServices'."));
        rig.destroy(env);
        assertThat(rig.arm.get(endpoint())).isEmpty();
        assertThat(rig.arm.get(workspace())).isPresent();
        rig.arm.faults().clear();
        rig.arm.faults().fail("GET .*/workspaces/dev-mlw/serverlessEndpoints$", 100, ArmError.badRequest("NoRegisteredProviderFound",
            "No registered resource provider found for location 'eastus' and API version '2024-04-01' for type 'workspaces/serverlessEndpoints'."));
        rig.destroy(env);
        assertThat(rig.arm.get(workspace())).isPresent();
        rig.arm.faults().clear();
        rig.destroy(env);
        assertThat(rig.arm.all()).isEmpty();
    }

    @Test
    void someoneElsesEndpointOrJobKeepsTheWorkspaceThroughADestroy() {
        rig.apply(dev(RUNNER + EP));
        String theirs = workspace() + "/onlineEndpoints/their-endpoint";
        rig.arm.put(theirs, Map.of("id", theirs, "name", "their-endpoint", "type", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
            "location", "eastus", "tags", Map.of(), "properties", Map.of("authMode", "Key", "provisioningState", "Succeeded")));
        rig.destroy(dev(RUNNER + EP));
        assertThat(rig.arm.get(workspace())).isPresent();
        rig.arm.remove(theirs);
        String job = workspace() + "/jobs/train-1";
        rig.arm.put(job, Map.of("id", job, "name", "train-1", "type", "Microsoft.MachineLearningServices/workspaces/jobs",
            "properties", Map.of("jobType", "Command", "status", "Completed")));
        rig.destroy(dev(RUNNER + EP));
        assertThat(rig.arm.get(workspace())).isPresent();
        assertThat(rig.arm.get(job)).isPresent();
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
        assertThat(bounds("blue")).containsExactly("1", "3", "1");
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
        rig.arm.faults().resetCounts();
        rig.arm.faults().dropResponse("PUT .*/onlineEndpoints/dev-sentiment$", 1);
        rig.arm.faults().dropResponse("PUT .*/deployments/blue$", 1);
        rig.arm.faults().dropResponse("PUT .*/autoscalesettings/autoscale-dev-sentiment-blue$", 1);
        rig.arm.faults().throttle("PUT .*/Microsoft.KeyVault/vaults/", 1, 1);
        Environment env = dev(RUNNER + EP);
        rig.apply(env);
        assertThat(rig.arm.list("Microsoft.MachineLearningServices/workspaces/onlineEndpoints")).hasSize(1);
        assertThat(rig.arm.list("Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments")).hasSize(1);
        assertThat(rig.arm.list("Microsoft.Insights/autoscalesettings")).hasSize(1);
        assertThat(rig.arm.list("Microsoft.KeyVault/vaults")).hasSize(1);
        // Each lost answer was asked again (the endpoint's also once more, for its traffic), the throttled PUT sent once more.
        assertThat(rig.arm.faults().count("PUT .*/onlineEndpoints/dev-sentiment$")).isGreaterThanOrEqualTo(3);
        assertThat(rig.arm.faults().count("PUT .*/deployments/blue$")).isGreaterThanOrEqualTo(2);
        assertThat(rig.arm.faults().count("PUT .*/autoscalesettings/autoscale-dev-sentiment-blue$")).isGreaterThanOrEqualTo(2);
        assertThat(rig.arm.faults().count("PUT .*/Microsoft.KeyVault/vaults/")).isEqualTo(2);
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void aLongRunningWritePastItsTimeoutIsARetryableOneLinerNamingTheResourceAndItsState() {
        Environment env = dev(RUNNER + EP);
        rig.apply(env);
        AzureClients cloud = rig.azure.clients(env);
        rig.arm.operationTime(Duration.ofHours(1));
        String model = workspace() + "/onlineEndpoints/dev-sentiment/deployments/green";
        GenericResourceInner body = new GenericResourceInner().withProperties(Map.of("endpointComputeType", "Managed",
            "model", "azureml://registries/nlp/models/sentiment/versions/3", "instanceType", "Standard_DS3_v2", "scaleSettings", Map.of("scaleType", "Default")));
        body.withLocation("eastus");
        // Not retryable: the engine's retries would multiply the wait; the message says to apply again.
        assertThatThrownBy(() -> MachineLearningWorkspace.put(cloud, "deploy green", model, MachineLearningWorkspace.ML_API, body, Duration.ofMillis(300)))
            .isInstanceOfSatisfying(DriverException.class, e -> {
                assertThat(e.retryable()).isFalse();
                assertThat(e.getMessage()).contains("timed out after 300 ms waiting for deploy green").contains("green last seen Creating")
                    .contains("run apply again").doesNotContain("\n");
            });
    }

    @Test
    void aGatewayTimeoutWhileWaitingIsAzuresErrorNotADeadline() {
        Environment env = dev(RUNNER);
        rig.apply(env);
        AzureClients cloud = rig.azure.clients(env);
        com.azure.core.management.exception.ManagementException gateway = new com.azure.core.management.exception.ManagementException(
            "Status code 504, The gateway did not receive a response within the specified time period (timeout)", null,
            new com.azure.core.management.exception.ManagementError("GatewayTimeout", "The gateway did not receive a response within the specified time period (timeout)"));
        @SuppressWarnings("unchecked")
        com.azure.core.util.polling.SyncPoller<com.azure.core.management.polling.PollResult<Object>, Object> poller =
            (com.azure.core.util.polling.SyncPoller<com.azure.core.management.polling.PollResult<Object>, Object>) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {com.azure.core.util.polling.SyncPoller.class}, (proxy, method, args) -> {
                    throw gateway;
                });
        assertThatThrownBy(() -> MachineLearningWorkspace.await(cloud, "deploy green", endpoint() + "/deployments/green", MachineLearningWorkspace.ML_API,
            poller, Duration.ofMinutes(90)))
            .isInstanceOfSatisfying(DriverException.class, e -> assertThat(e.getMessage()).contains("deploy green").contains("GatewayTimeout")
                .doesNotContain("timed out after").doesNotContain("\n"));
    }

    @Test
    void whileResourceGraphLagsAPlanRightAfterAnApplyIsCleanAndADestroyLeavesNothing() {
        rig.arm.graphLag(Duration.ofHours(1));
        Environment env = dev(RUNNER + EP + EP.replace("name: sentiment", "name: summary").replace("azureml://registries/nlp/models/sentiment/versions/3",
            "https://models.example.com/summary/v1/"));
        rig.apply(env);
        Plan plan = rig.plan(env);
        assertThat(plan.changes()).as(AzureRig.paths(plan).toString()).isEmpty();
        // A rollout right after: Graph shows neither deployment yet.
        Environment bigger = dev(RUNNER + EP.replace("Standard_DS3_v2", "Standard_F4s_v2") + EP.replace("name: sentiment", "name: summary")
            .replace("azureml://registries/nlp/models/sentiment/versions/3", "https://models.example.com/summary/v1/"));
        assertThat(AzureRig.paths(rig.plan(bigger))).containsExactly("inference_endpoint.sentiment:machineType");
        rig.apply(bigger);
        assertThat(rig.plan(bigger).changes()).isEmpty();
        assertThat(rig.arm.list("Microsoft.MachineLearningServices/workspaces/onlineEndpoints")).hasSize(2);
        rig.destroy(bigger);
        assertThat(rig.arm.all()).as("nothing owned left").isEmpty();
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).isEmpty();
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
