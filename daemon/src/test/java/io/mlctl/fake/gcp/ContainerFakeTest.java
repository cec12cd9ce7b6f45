package io.mlctl.fake.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.cloud.container.v1.ClusterManagerClient;
import com.google.cloud.container.v1.ClusterManagerSettings;
import com.google.container.v1.Cluster;
import com.google.container.v1.NodePool;
import com.google.container.v1.Operation;
import com.google.container.v1.ReleaseChannel;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The GKE fake refuses what GKE refuses, answers with GKE's own types, and runs operations as GKE
 * does: one at a time per cluster, RUNNING, then DONE with the change (or an error) in it.
 */
class ContainerFakeTest {
    private static final String P = "fake-gke";
    private static final String LOC = "/v1/projects/" + P + "/locations/us-central1";
    private static final String POOL_T4 = """
        {"name": "t4", "initialNodeCount": 1,
         "config": {"machineType": "n1-standard-4", "accelerators": [{"acceleratorType": "nvidia-tesla-t4", "acceleratorCount": "1"}]},
         "autoscaling": {"enabled": true, "totalMinNodeCount": 1, "totalMaxNodeCount": 4}}""";

    GcpFakes fakes;
    HttpClient http = HttpClient.newHttpClient();
    ClusterManagerClient client;

    @BeforeEach
    void setUp() throws IOException {
        fakes = GcpFakes.start();
        client = ClusterManagerClient.create(ClusterManagerSettings.newHttpJsonBuilder()
            .setEndpoint("http://127.0.0.1:" + fakes.httpPort()).setCredentialsProvider(NoCredentialsProvider.create()).build());
        defaultNetwork();
    }

    /**
     * The project's "default" network, which clusters without a network of their own go in: made through
     * the Compute fake's API once that fake knows networks (while its accessor is a stub, it says every network exists).
     */
    private void defaultNetwork() {
        if (fakes.compute().hasNetwork(P, "default")) return;
        try (com.google.cloud.compute.v1.NetworksClient networks = com.google.cloud.compute.v1.NetworksClient.create(
                com.google.cloud.compute.v1.NetworksSettings.newBuilder()
                    .setTransportChannelProvider(com.google.cloud.compute.v1.NetworksSettings.defaultHttpJsonTransportProviderBuilder().build())
                    .setEndpoint("http://127.0.0.1:" + fakes.httpPort()).setCredentialsProvider(NoCredentialsProvider.create()).build())) {
            networks.insertAsync(P, com.google.cloud.compute.v1.Network.newBuilder().setName("default").setAutoCreateSubnetworks(false).build()).get();
        } catch (Exception e) {
            throw new IllegalStateException("could not make the default network in the Compute fake", e);
        }
    }

    @AfterEach
    void tearDown() {
        client.close();
        fakes.close();
    }

    record Answer(int status, JsonObject body) {
        String error() {
            return body.getAsJsonObject("error").get("status").getAsString() + ": " + body.getAsJsonObject("error").get("message").getAsString();
        }
    }

    private Answer send(String method, String path, String body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fakes.httpPort() + path))
                .header("Content-Type", "application/json");
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body().isBlank() ? new JsonObject() : JsonParser.parseString(r.body()).getAsJsonObject());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private Answer createCluster(String clusterJson) {
        return send("POST", LOC + "/clusters", "{\"cluster\": " + clusterJson + "}");
    }

    private static String cluster(String name, String extra) {
        return "{\"name\": \"" + name + "\", \"initialClusterVersion\": \"1.30\", \"workloadIdentityConfig\": {\"workloadPool\": \"" + P
            + ".svc.id.goog\"}, \"nodePools\": [" + POOL_T4 + "]" + extra + "}";
    }

    /** Polls an operation until DONE, as the client libraries do. */
    private JsonObject done(Answer started) {
        assertThat(started.status()).as(started.body().toString()).isEqualTo(200);
        String name = started.body().get("name").getAsString();
        String location = started.body().get("location").getAsString();
        for (int i = 0; i < 300; i++) {
            Answer a = send("GET", "/v1/projects/" + P + "/locations/" + location + "/operations/" + name, null);
            if (a.body().get("status").getAsString().equals("DONE")) return a.body();
            sleep(20);
        }
        throw new AssertionError("operation " + name + " never ended");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private String fingerprint(String name) {
        return send("GET", LOC + "/clusters/" + name, null).body().get("labelFingerprint").getAsString();
    }

    @Test
    void aCreateIsAnOperationThatRunsThenEndsAndTheClusterCarriesGkesDefaults() {
        fakes.operationTime(Duration.ofSeconds(2));
        Answer started = createCluster("{\"name\": \"plain\", \"nodePools\": [" + POOL_T4 + "]}");
        assertThat(started.body().get("status").getAsString()).isEqualTo("RUNNING");
        assertThat(started.body().get("operationType").getAsString()).isEqualTo("CREATE_CLUSTER");
        assertThat(started.body().get("targetLink").getAsString()).endsWith("/projects/" + P + "/locations/us-central1/clusters/plain");
        assertThat(send("GET", LOC + "/clusters/plain", null).body().get("status").getAsString()).isEqualTo("PROVISIONING");
        JsonObject op = done(started);
        assertThat(op.has("error")).isFalse();

        Cluster c = client.getCluster("projects/" + P + "/locations/us-central1/clusters/plain");
        assertThat(c.getStatus()).isEqualTo(Cluster.Status.RUNNING);
        assertThat(c.getLocationsList()).containsExactly("us-central1-a", "us-central1-b", "us-central1-c");
        assertThat(c.getCurrentMasterVersion()).isEqualTo("1.30.8-gke.1051000");
        assertThat(c.getReleaseChannel().getChannel()).isEqualTo(ReleaseChannel.Channel.REGULAR);
        assertThat(c.getNetwork()).isEqualTo("default");
        assertThat(c.getLabelFingerprint()).isNotEmpty();
        assertThat(c.getSelfLink()).isEqualTo("https://container.googleapis.com/v1/projects/" + P + "/locations/us-central1/clusters/plain");
        NodePool t4 = c.getNodePools(0);
        assertThat(t4.getStatus()).isEqualTo(NodePool.Status.RUNNING);
        assertThat(t4.getVersion()).isEqualTo(c.getCurrentMasterVersion());
        assertThat(t4.getConfig().getServiceAccount()).isEqualTo("default");
        assertThat(t4.getConfig().getOauthScopesList()).contains("https://www.googleapis.com/auth/devstorage.read_only");
        assertThat(t4.getConfig().getDiskSizeGb()).isEqualTo(100);
        assertThat(t4.getConfig().getImageType()).isEqualTo("COS_CONTAINERD");
        assertThat(t4.getInstanceGroupUrlsList()).hasSize(3);
        assertThat(fakes.container().nodeCount(P, "us-central1", "plain", "t4")).isEqualTo(3);
        // The same through the list of every location, and of operations.
        assertThat(send("GET", "/v1/projects/" + P + "/locations/-/clusters", null).body().getAsJsonArray("clusters")).hasSize(1);
        assertThat(send("GET", LOC + "/operations", null).body().getAsJsonArray("operations")).hasSize(1);
    }

    @Test
    void aFieldGkeDoesNotHaveIsRefused() {
        Answer a = send("POST", LOC + "/clusters", "{\"cluster\": {\"name\": \"x\", \"nodePoolz\": []}}");
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.error()).startsWith("INVALID_ARGUMENT: Invalid JSON payload received.").contains("nodePoolz");
        Answer b = createCluster(cluster("y", ", \"nodePools\": [{\"name\": \"p\", \"initialNodeCount\": 1, \"config\": {\"spotVm\": true}}]")
            .replace("\"nodePools\": [" + POOL_T4 + "],", ""));
        assertThat(b.status()).isEqualTo(400);
        assertThat(fakes.container().clusters(P)).isEmpty();
    }

    @Test
    void clusterAndPoolNamesFollowGkesRulesAndANameIsTakenOnce() {
        for (String bad : new String[] {"Upper", "-lead", "trail-", "a".repeat(41), "under_score"}) {
            Answer a = createCluster(cluster(bad, ""));
            assertThat(a.status()).as(bad).isEqualTo(400);
            assertThat(a.error()).as(bad).contains("cluster.name");
        }
        assertThat(createCluster(cluster("a".repeat(40), "")).status()).isEqualTo(200);
        done(createCluster(cluster("taken", "")));
        Answer again = createCluster(cluster("taken", ""));
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.error()).startsWith("ALREADY_EXISTS:");
        Answer pool = send("POST", LOC + "/clusters/taken/nodePools", "{\"nodePool\": " + POOL_T4.replace("\"t4\"", "\"Bad_Pool\"") + "}");
        assertThat(pool.error()).startsWith("INVALID_ARGUMENT: Invalid value for field 'node_pool.name'");
        Answer twice = send("POST", LOC + "/clusters/taken/nodePools", "{\"nodePool\": " + POOL_T4 + "}");
        assertThat(twice.status()).isEqualTo(409);
        assertThat(send("POST", "/v1/projects/" + P + "/locations/mars-1/clusters", "{\"cluster\": " + cluster("m", "") + "}").error())
            .contains("Location \"mars-1\" does not exist");
    }

    @Test
    void versionsAreGkesAndTheControlPlaneMovesOneMinorUpAtATime() {
        assertThat(createCluster(cluster("old", "").replace("\"1.30\"", "\"1.27\"")).error())
            .isEqualTo("INVALID_ARGUMENT: Master version \"1.27\" is unsupported.");
        assertThat(createCluster(cluster("odd", "").replace("\"1.30\"", "\"1.30.99\"")).status()).isEqualTo(400);
        done(createCluster(cluster("patch", "").replace("\"1.30\"", "\"1.30.8\"")));
        assertThat(client.getCluster("projects/" + P + "/locations/us-central1/clusters/patch").getCurrentMasterVersion()).isEqualTo("1.30.8-gke.1051000");
        done(createCluster(cluster("v", "").replace("\"1.30\"", "\"1.28\"")));

        assertThat(send("POST", LOC + "/clusters/v:updateMaster", "{\"masterVersion\": \"1.30\"}").error()).contains("upgrade one minor version at a time");
        done(send("POST", LOC + "/clusters/v:updateMaster", "{\"masterVersion\": \"1.29\"}"));
        assertThat(send("POST", LOC + "/clusters/v:updateMaster", "{\"masterVersion\": \"1.28\"}").error())
            .contains("downgrading the control plane's minor version is not supported");
        // Nodes never run newer than the control plane.
        assertThat(send("PUT", LOC + "/clusters/v/nodePools/t4", "{\"nodeVersion\": \"1.31\", \"imageType\": \"COS_CONTAINERD\"}").error())
            .contains("must not be newer than the master version");
        done(send("PUT", LOC + "/clusters/v/nodePools/t4", "{\"nodeVersion\": \"-\", \"imageType\": \"COS_CONTAINERD\"}"));
        assertThat(client.getNodePool("projects/" + P + "/locations/us-central1/clusters/v/nodePools/t4").getVersion()).startsWith("1.29.");
        // One change per update, as GKE allows.
        assertThat(send("PUT", LOC + "/clusters/v", "{\"update\": {\"desiredMasterVersion\": \"1.30\", \"desiredNodeVersion\": \"1.30\"}}").error())
            .contains("At most one update");
        done(send("PUT", LOC + "/clusters/v", "{\"update\": {\"desiredMasterVersion\": \"1.30\"}}"));
        assertThat(client.getCluster("projects/" + P + "/locations/us-central1/clusters/v").getCurrentMasterVersion()).startsWith("1.30.");
    }

    @Test
    void machineTypesAndGpusAreCheckedAsGceOffersThem() {
        assertThat(createCluster(cluster("m1", "").replace("n1-standard-4", "n1-standard-7")).error())
            .contains("Machine type \"n1-standard-7\" is not available");
        assertThat(createCluster(cluster("m2", "").replace("nvidia-tesla-t4", "nvidia-tesla-t5")).error())
            .contains("Accelerator type \"nvidia-tesla-t5\" does not exist");
        assertThat(createCluster(cluster("m3", "").replace("n1-standard-4", "e2-standard-4")).error())
            .contains("cannot be attached to machine type \"e2-standard-4\"");
        assertThat(createCluster(cluster("m4", "").replace("\"acceleratorCount\": \"1\"", "\"acceleratorCount\": \"3\"")).error())
            .contains("Accelerator count 3 is not valid");
        assertThat(createCluster(cluster("m5", "").replace("\"machineType\": \"n1-standard-4\",", "\"machineType\": \"n1-standard-4\", \"spot\": true, \"preemptible\": true,"))
            .error()).contains("Spot and preemptible");
        assertThat(fakes.container().clusters(P)).isEmpty();
    }

    @Test
    void autoscalingLimitsAreEitherPerZoneOrTotalAndMinIsAtMostMax() {
        assertThat(createCluster(cluster("a1", "").replace("\"totalMinNodeCount\": 1", "\"totalMinNodeCount\": 5")).error())
            .contains("Minimum node count (5) cannot be greater than maximum node count (4)");
        assertThat(createCluster(cluster("a2", "").replace("\"totalMinNodeCount\": 1", "\"totalMinNodeCount\": 1, \"minNodeCount\": 1")).error())
            .contains("Total and per zone limits cannot be specified together");
        assertThat(createCluster(cluster("a3", "").replace("\"enabled\": true, ", "")).error())
            .contains("autoscaling is not enabled");
        done(createCluster(cluster("a4", "")));
        assertThat(send("POST", LOC + "/clusters/a4/nodePools/t4:setAutoscaling", "{\"autoscaling\": {\"enabled\": true, \"totalMinNodeCount\": 3, "
            + "\"totalMaxNodeCount\": 2}}").status()).isEqualTo(400);
        done(send("POST", LOC + "/clusters/a4/nodePools/t4:setAutoscaling", "{\"autoscaling\": {\"enabled\": true, \"minNodeCount\": 1, \"maxNodeCount\": 2}}"));
        assertThat(client.getNodePool("projects/" + P + "/locations/us-central1/clusters/a4/nodePools/t4").getAutoscaling().getMaxNodeCount()).isEqualTo(2);
        done(send("POST", LOC + "/clusters/a4/nodePools/t4:setSize", "{\"nodeCount\": 2}"));
        assertThat(fakes.container().nodeCount(P, "us-central1", "a4", "t4")).isEqualTo(6); // per zone, three zones
    }

    @Test
    void gkeMetadataNeedsWorkloadIdentityAndAClusterNeedsNodesToStart() {
        String gkeMetadata = POOL_T4.replace("\"machineType\": \"n1-standard-4\",", "\"machineType\": \"n1-standard-4\", \"workloadMetadataConfig\": {\"mode\": \"GKE_METADATA\"},");
        assertThat(createCluster("{\"name\": \"w\", \"nodePools\": [" + gkeMetadata + "]}").error())
            .contains("Workload Identity must be enabled on the cluster");
        assertThat(createCluster("{\"name\": \"w\", \"workloadIdentityConfig\": {\"workloadPool\": \"other.svc.id.goog\"}, \"nodePools\": [" + POOL_T4 + "]}")
            .error()).contains("Workload Identity pool \"other.svc.id.goog\" is not valid");
        assertThat(createCluster("{\"name\": \"w\"}").error()).contains("Cluster.initial_node_count must be greater than zero");
        assertThat(createCluster("{\"name\": \"w\", \"nodePools\": [" + POOL_T4.replace("\"initialNodeCount\": 1", "\"initialNodeCount\": 0") + "]}")
            .error()).contains("at least one node pool must start with nodes");
        assertThat(createCluster("{\"name\": \"w\", \"initialNodeCount\": 1, \"nodePools\": [" + POOL_T4 + "]}").error())
            .contains("Cannot specify both node_pools and initial_node_count");
        done(createCluster("{\"name\": \"w\", \"initialNodeCount\": 2}"));
        assertThat(client.getCluster("projects/" + P + "/locations/us-central1/clusters/w").getNodePoolsList()).extracting(NodePool::getName)
            .containsExactly("default-pool");
    }

    @Test
    void labelsAndNetworkTagsFollowGcpsFormats() {
        assertThat(createCluster(cluster("l1", ", \"resourceLabels\": {\"Team\": \"x\"}")).error()).contains("Invalid cluster.resourceLabels key \"Team\"");
        assertThat(createCluster(cluster("l2", ", \"resourceLabels\": {\"mlctl.io/env\": \"x\"}")).status()).isEqualTo(400);
        assertThat(createCluster(cluster("l3", ", \"resourceLabels\": {\"team\": \"Vision\"}")).error()).contains("value \"Vision\"");
        assertThat(createCluster(cluster("l4", "").replace("\"machineType\": \"n1-standard-4\",", "\"machineType\": \"n1-standard-4\", \"tags\": [\"Bad_Tag\"],"))
            .error()).contains("Invalid network tag \"Bad_Tag\"");
        assertThat(createCluster(cluster("l5", "").replace("\"machineType\": \"n1-standard-4\",", "\"machineType\": \"n1-standard-4\", \"serviceAccount\": \"not-an-email\","))
            .error()).contains("Invalid service account");
    }

    @Test
    void setResourceLabelsWantsTheCurrentFingerprint() {
        done(createCluster(cluster("f", ", \"resourceLabels\": {\"team\": \"a\"}")));
        String before = fingerprint("f");
        Answer stale = send("POST", LOC + "/clusters/f:setResourceLabels", "{\"resourceLabels\": {\"team\": \"b\"}, \"labelFingerprint\": \"0000beef\"}");
        assertThat(stale.status()).isEqualTo(400);
        assertThat(stale.error()).startsWith("FAILED_PRECONDITION: Labels could not be set due to fingerprint mismatch");
        assertThat(send("POST", LOC + "/clusters/f:setResourceLabels", "{\"resourceLabels\": {\"team\": \"b\"}}").error()).contains("fingerprint mismatch");
        done(send("POST", LOC + "/clusters/f:setResourceLabels", "{\"resourceLabels\": {\"team\": \"b\"}, \"labelFingerprint\": \"" + before + "\"}"));
        assertThat(client.getCluster("projects/" + P + "/locations/us-central1/clusters/f").getResourceLabelsMap()).containsExactlyEntriesOf(java.util.Map.of("team", "b"));
        assertThat(fingerprint("f")).isNotEqualTo(before);
    }

    @Test
    void aClusterRunsOneOperationAtATime() {
        fakes.operationTime(Duration.ofSeconds(4));
        Answer creating = createCluster(cluster("busy", ""));
        String op = creating.body().get("name").getAsString();
        Answer labels = send("POST", LOC + "/clusters/busy:setResourceLabels", "{\"resourceLabels\": {}, \"labelFingerprint\": \"" + fingerprint("busy") + "\"}");
        assertThat(labels.status()).isEqualTo(400);
        assertThat(labels.error()).isEqualTo("FAILED_PRECONDITION: Cluster is running incompatible operation " + op + ".");
        assertThat(send("POST", LOC + "/clusters/busy/nodePools", "{\"nodePool\": " + POOL_T4.replace("\"t4\"", "\"more\"") + "}").error())
            .contains("incompatible operation");
        assertThat(send("DELETE", LOC + "/clusters/busy", null).error()).contains("incompatible operation");
        // Another cluster is not held up.
        assertThat(createCluster(cluster("free", "")).status()).isEqualTo(200);
        fakes.operationTime(Duration.ZERO);
        done(creating);
        done(send("POST", LOC + "/clusters/busy/nodePools", "{\"nodePool\": " + POOL_T4.replace("\"t4\"", "\"more\"") + "}"));
    }

    @Test
    void deletingAClusterTakesItsPoolsWithIt() {
        done(createCluster(cluster("d", "")));
        done(send("POST", LOC + "/clusters/d/nodePools", "{\"nodePool\": " + POOL_T4.replace("\"t4\"", "\"second\"") + "}"));
        Answer deleting = send("DELETE", LOC + "/clusters/d", null);
        assertThat(deleting.body().get("operationType").getAsString()).isEqualTo("DELETE_CLUSTER");
        done(deleting);
        assertThat(send("GET", LOC + "/clusters/d", null).status()).isEqualTo(404);
        assertThat(send("GET", LOC + "/clusters/d/nodePools/second", null).status()).isEqualTo(404);
        assertThat(fakes.container().nodeCount(P, "us-central1", "d", "t4")).isZero();
        assertThat(fakes.container().nodeCount(P, "us-central1", "d", "second")).isZero();
    }

    @Test
    void theListOfEveryLocationHoldsEveryRegionAndARegionsListOnlyItsOwn() {
        done(createCluster(cluster("c1", "")));
        done(send("POST", "/v1/projects/" + P + "/locations/us-east1/clusters", "{\"cluster\": " + cluster("c2", "") + "}"));
        assertThat(client.listClusters("projects/" + P + "/locations/-").getClustersList()).extracting(Cluster::getName).containsExactlyInAnyOrder("c1", "c2");
        assertThat(client.listClusters("projects/" + P + "/locations/us-east1").getClustersList()).extracting(Cluster::getName).containsExactly("c2");
        assertThat(client.listClusters("projects/other/locations/-").getClustersList()).isEmpty();
    }

    @Test
    void anOperationCanEndInAnErrorThatLeavesWhatItMadeInError() {
        fakes.container().failOperations("^CREATE_NODE_POOL .*/nodePools/gpu$", 1, com.google.rpc.Code.RESOURCE_EXHAUSTED,
            "Quota 'NVIDIA_T4_GPUS' exceeded. Limit: 0.0 in region us-central1.");
        done(createCluster(cluster("e", "")));
        JsonObject op = done(send("POST", LOC + "/clusters/e/nodePools", "{\"nodePool\": " + POOL_T4.replace("\"t4\"", "\"gpu\"") + "}"));
        assertThat(op.getAsJsonObject("error").get("code").getAsInt()).isEqualTo(8);
        assertThat(op.getAsJsonObject("error").get("message").getAsString()).contains("NVIDIA_T4_GPUS");
        assertThat(client.getNodePool("projects/" + P + "/locations/us-central1/clusters/e/nodePools/gpu").getStatus()).isEqualTo(NodePool.Status.ERROR);
        assertThat(client.getCluster("projects/" + P + "/locations/us-central1/clusters/e").getStatus()).isEqualTo(Cluster.Status.RUNNING);

        fakes.container().failOperations("^CREATE_CLUSTER .*/clusters/broken$", 1, com.google.rpc.Code.UNAVAILABLE, "GCE_STOCKOUT in us-central1-b");
        done(createCluster(cluster("broken", "")));
        Cluster broken = client.getCluster("projects/" + P + "/locations/us-central1/clusters/broken");
        assertThat(broken.getStatus()).isEqualTo(Cluster.Status.ERROR);
        assertThat(broken.getConditions(0).getMessage()).contains("GCE_STOCKOUT");
        assertThat(send("POST", LOC + "/clusters/broken:setResourceLabels", "{\"resourceLabels\": {}, \"labelFingerprint\": \""
            + broken.getLabelFingerprint() + "\"}").error()).startsWith("FAILED_PRECONDITION: Cluster broken is in ERROR state");
        done(send("DELETE", LOC + "/clusters/broken", null));
        assertThat(send("GET", LOC + "/clusters/broken", null).status()).isEqualTo(404);
    }

    @Test
    void aPoolsMachineTypeChangesInPlaceButItsSpotSettingCannot() {
        done(createCluster(cluster("u", "")));
        done(send("PUT", LOC + "/clusters/u/nodePools/t4", "{\"machineType\": \"n1-standard-8\"}"));
        NodePool t4 = client.getNodePool("projects/" + P + "/locations/us-central1/clusters/u/nodePools/t4");
        assertThat(t4.getConfig().getMachineType()).isEqualTo("n1-standard-8");
        assertThat(t4.getLocationsList()).hasSize(3);
        assertThat(t4.getConfig().getAcceleratorsCount()).isEqualTo(1);
        // UpdateNodePoolRequest has no spot field: GKE cannot change it in place.
        assertThat(send("PUT", LOC + "/clusters/u/nodePools/t4", "{\"spot\": true}").error()).startsWith("INVALID_ARGUMENT: Invalid JSON payload received.");
        assertThat(send("PUT", LOC + "/clusters/u/nodePools/t4", "{}").error()).contains("Must specify a field to update");
        assertThat(send("PUT", LOC + "/clusters/u/nodePools/t4", "{\"machineType\": \"e2-standard-4\"}").error())
            .contains("cannot be attached to machine type \"e2-standard-4\"");
    }

    @Test
    void theNetworkSubnetworkAndServiceAccountMustExist() {
        assertThat(createCluster(cluster("n1", ", \"network\": \"no-such-net\"")).error()).contains("Network \"no-such-net\" does not exist");
        assertThat(createCluster(cluster("n2", ", \"network\": \"default\", \"subnetwork\": \"no-such-sub\"")).status()).isEqualTo(400);
        assertThat(createCluster(cluster("n3", "").replace("\"machineType\": \"n1-standard-4\",",
            "\"machineType\": \"n1-standard-4\", \"serviceAccount\": \"nobody-here@" + P + ".iam.gserviceaccount.com\",")).error())
            .contains("does not exist");
    }

    @Test
    void operationsAreAnsweredWithTheOperationType() {
        done(createCluster(cluster("o", "")));
        Operation op = client.setNodePoolSize(com.google.container.v1.SetNodePoolSizeRequest.newBuilder()
            .setName("projects/" + P + "/locations/us-central1/clusters/o/nodePools/t4").setNodeCount(0).build());
        assertThat(op.getOperationType()).isEqualTo(Operation.Type.SET_NODE_POOL_SIZE);
        assertThat(op.getSelfLink()).contains("/locations/us-central1/operations/" + op.getName());
        assertThat(client.getOperation("projects/" + P + "/locations/us-central1/operations/" + op.getName()).getStatus()).isEqualTo(Operation.Status.DONE);
        assertThat(send("GET", LOC + "/operations/operation-nope", null).status()).isEqualTo(404);
    }
}
