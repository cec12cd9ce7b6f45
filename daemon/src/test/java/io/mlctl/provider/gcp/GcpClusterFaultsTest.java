package io.mlctl.provider.gcp;

import static io.mlctl.provider.gcp.GcpClusterTest.PROJECT;
import static io.mlctl.provider.gcp.GcpClusterTest.SPEC;
import static io.mlctl.provider.gcp.GcpClusterTest.actions;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.container.v1.Cluster;
import com.google.container.v1.NodeConfig;
import com.google.container.v1.NodePool;
import com.google.container.v1.NodePoolAutoscaling;
import com.google.container.v1.SetNodePoolSizeRequest;
import io.mlctl.apply.ApplyResult;
import io.mlctl.fake.gcp.Faults;
import io.mlctl.fake.gcp.GoogleError;
import io.mlctl.plan.Action;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GKE clusters under faults: lost answers, throttling, a busy cluster, errors inside operations, refusals, other people's resources. */
class GcpClusterFaultsTest {
    private static final String LOCATION = "projects/" + PROJECT + "/locations/us-central1";
    private static final String MORE = SPEC + """
                - name: cpu
                  machineType: e2-standard-4
                  min: 2
                  max: 3
        """;

    @TempDir
    Path dir;
    GcpClusterTest.Gke gke;

    @BeforeEach
    void setUp() throws IOException {
        gke = new GcpClusterTest.Gke(dir);
    }

    @AfterEach
    void tearDown() {
        gke.close();
    }

    @Test
    void aCreateClusterWhoseAnswerIsLostMakesOneCluster() {
        gke.fakes.faults().dropResponse("^POST /v1/" + LOCATION + "/clusters$", 1);
        gke.ok(gke.apply(SPEC));
        assertThat(gke.fakes.faults().count("^POST /v1/" + LOCATION + "/clusters$")).isEqualTo(1);
        assertThat(gke.fakes.container().clusters(PROJECT)).extracting(Cluster::getName).containsExactly("gk-k");
        assertThat(gke.plan(SPEC).hasChanges()).isFalse();
    }

    @Test
    void poolChangesWhoseAnswersAreLostAreDoneOnceEach() {
        gke.ok(gke.apply(SPEC));
        gke.fakes.faults().dropResponse("^POST .*/clusters/gk-k/nodePools$", 1);
        gke.fakes.faults().dropResponse("^POST .*/nodePools/t4:setAutoscaling$", 1);
        gke.fakes.faults().dropResponse("^DELETE .*/nodePools/v100$", 1);
        String changed = MORE.substring(0, MORE.indexOf("        - name: v100")) + MORE.substring(MORE.indexOf("        - name: t4"))
            .replace("max: 8", "max: 5");
        gke.ok(gke.apply(changed));
        assertThat(gke.cluster("gk-k").getNodePoolsList()).extracting(NodePool::getName).containsExactlyInAnyOrder("t4", "cpu");
        assertThat(gke.pool("gk-k", "t4").getAutoscaling().getTotalMaxNodeCount()).isEqualTo(5);
        assertThat(gke.plan(changed).hasChanges()).isFalse();
    }

    @Test
    void throttlingAndUnavailabilityAreRetried() {
        gke.fakes.faults().fail("^POST /v1/" + LOCATION + "/clusters$", 1, Faults.unavailable());
        gke.fakes.faults().fail("^GET /v1/projects/" + PROJECT + "/locations/-/clusters$", 1, Faults.rateLimited());
        gke.fakes.faults().fail("^GET /v1/" + LOCATION + "/operations/", 2, Faults.unavailable());
        gke.fakes.faults().fail("^POST .*/nodePools/t4:setAutoscaling$", 1, Faults.rateLimited());
        gke.ok(gke.apply(SPEC));
        assertThat(gke.fakes.container().clusters(PROJECT)).hasSize(1);
        gke.ok(gke.apply(SPEC.replace("max: 8", "max: 9")));
        assertThat(gke.pool("gk-k", "t4").getAutoscaling().getTotalMaxNodeCount()).isEqualTo(9);
        assertThat(gke.fakes.faults().count(":setAutoscaling$")).isEqualTo(2);
    }

    @Test
    void permissionDeniedIsOneLineNamingThePermissionAndTheResource() {
        gke.fakes.faults().fail("^POST /v1/" + LOCATION + "/clusters$", 1, GoogleError.permissionDenied("container.clusters.create", LOCATION));
        ApplyResult r = gke.apply(SPEC);
        assertThat(r.failures()).singleElement().asString()
            .contains("permission denied: the credentials lack container.clusters.create on " + LOCATION).doesNotContain("\n");
        assertThat(gke.fakes.container().clusters(PROJECT)).isEmpty();
    }

    @Test
    void aChangeWhileTheClusterIsBusyWaitsForTheRunningOperationAndIsSentAgain() {
        gke.ok(gke.apply(SPEC));
        // Someone resizes a pool by hand; GKE takes a while and runs one operation at a time.
        gke.fakes.operationTime(Duration.ofSeconds(8));
        gke.client.setNodePoolSize(SetNodePoolSizeRequest.newBuilder().setName(LOCATION + "/clusters/gk-k/nodePools/v100").setNodeCount(1).build());
        gke.fakes.operationTime(Duration.ZERO);
        gke.ok(gke.apply(SPEC.replace("max: 8", "max: 10")));
        assertThat(gke.pool("gk-k", "t4").getAutoscaling().getTotalMaxNodeCount()).isEqualTo(10);
        // Refused while the resize ran, then sent again.
        assertThat(gke.fakes.faults().count(":setAutoscaling$")).isGreaterThanOrEqualTo(2);
        assertThat(gke.fakes.container().nodeCount(PROJECT, "us-central1", "gk-k", "v100")).isEqualTo(3);
    }

    @Test
    void aGpuQuotaInsideTheCreateOperationIsOneLineAndTheBrokenClusterIsReplacedNextTime() {
        gke.fakes.container().failOperations("^CREATE_CLUSTER .*/clusters/gk-k$", 1, com.google.rpc.Code.RESOURCE_EXHAUSTED,
            "Insufficient quota to satisfy the request: Not all instances running in IGM after 12m. Current errors: [GCE_QUOTA_EXCEEDED]: "
                + "Instance 'gke-gk-k-v100-1' creation failed: Quota 'NVIDIA_V100_GPUS' exceeded. Limit: 0.0 in region us-central1.");
        ApplyResult r = gke.apply(SPEC);
        assertThat(r.failures()).singleElement().asString()
            .contains("quota NVIDIA_V100_GPUS exceeded in region us-central1 (limit 0)").doesNotContain("\n");
        assertThat(gke.cluster("gk-k").getStatus()).isEqualTo(Cluster.Status.ERROR);

        assertThat(actions(gke.plan(SPEC))).containsEntry("kubernetes_cluster.k", Action.REPLACE);
        gke.ok(gke.apply(SPEC));
        assertThat(gke.cluster("gk-k").getStatus()).isEqualTo(Cluster.Status.RUNNING);
        assertThat(gke.plan(SPEC).hasChanges()).isFalse();
    }

    @Test
    void aPoolThatFailsToCreateIsReportedWithGkesReasonAndReplacedNextTime() {
        gke.ok(gke.apply(SPEC));
        gke.fakes.container().failOperations("^CREATE_NODE_POOL .*/nodePools/cpu$", 1, com.google.rpc.Code.UNAVAILABLE,
            "Instances failed to start: [GCE_STOCKOUT]: The zone 'us-central1-b' does not have enough resources available to fulfill the request.");
        ApplyResult r = gke.apply(MORE);
        assertThat(r.failures()).singleElement().asString().contains("creation of node pool cpu of GKE cluster gk-k failed: UNAVAILABLE: ")
            .contains("GCE_STOCKOUT").doesNotContain("\n");
        assertThat(actions(gke.plan(MORE))).containsEntry("kubernetes_cluster.k.node_pool.cpu", Action.REPLACE);
        gke.ok(gke.apply(MORE));
        assertThat(gke.pool("gk-k", "cpu").getStatus()).isEqualTo(NodePool.Status.RUNNING);
        assertThat(gke.plan(MORE).hasChanges()).isFalse();
    }

    @Test
    void anotherTeamsClusterOfTheSameNameIsRefusedAndLeftAsItIs() {
        String base = SPEC.substring(0, SPEC.indexOf("    - type: kubernetes_cluster"));
        gke.ok(gke.apply(base)); // the network and identity, so the other team's cluster has somewhere to be
        gke.done(gke.client.createCluster(LOCATION, Cluster.newBuilder().setName("gk-k").setNetwork("gk-net").setSubnetwork("gk-net-nodes")
            .putResourceLabels("team", "other").addNodePools(NodePool.newBuilder().setName("pool-1").setInitialNodeCount(1)
                .setConfig(NodeConfig.newBuilder().setMachineType("e2-standard-4"))).build()));
        ApplyResult r = gke.apply(SPEC);
        assertThat(r.failures()).singleElement().asString()
            .contains("kubernetes_cluster.k: GKE cluster gk-k in us-central1 already exists and is not managed by mlctl");
        Cluster c = gke.cluster("gk-k");
        assertThat(c.getResourceLabelsMap()).containsExactlyEntriesOf(Map.of("team", "other"));
        assertThat(c.getNodePoolsList()).extracting(NodePool::getName).containsExactly("pool-1");
        assertThat(gke.fakes.faults().count("^(PUT|DELETE|POST) .*/clusters/gk-k")).isZero();
        // Inventory never lists it, so no plan ever changes or deletes it.
        assertThat(actions(gke.plan(SPEC))).containsEntry("kubernetes_cluster.k", Action.CREATE);
    }

    @Test
    void anotherTeamsPoolInTheClusterIsNeverListedChangedOrDeletedAndDestroyRefusesNamingIt() {
        gke.ok(gke.apply(SPEC));
        gke.done(gke.client.createNodePool(LOCATION + "/clusters/gk-k", NodePool.newBuilder().setName("cpu").setInitialNodeCount(1)
            .setAutoscaling(NodePoolAutoscaling.newBuilder().setEnabled(true).setMinNodeCount(1).setMaxNodeCount(2))
            .setConfig(NodeConfig.newBuilder().setMachineType("e2-standard-4").putResourceLabels("team", "data")).build()));
        assertThat(gke.plan(SPEC).hasChanges()).isFalse();

        // The spec declares a pool of that name: it is theirs, so it is refused, not adopted.
        ApplyResult r = gke.apply(MORE);
        assertThat(r.failures()).singleElement().asString().contains("node pool cpu of GKE cluster gk-k already exists and is not managed by mlctl");
        NodePool theirs = gke.pool("gk-k", "cpu");
        assertThat(theirs.getAutoscaling().getMinNodeCount()).isEqualTo(1);
        assertThat(theirs.getConfig().getResourceLabelsMap()).containsExactlyEntriesOf(Map.of("team", "data"));

        ApplyResult d = gke.destroy(SPEC);
        assertThat(d.failures()).singleElement().asString()
            .contains("GKE cluster gk-k holds node pool cpu that mlctl does not manage; delete it first");
        assertThat(gke.cluster("gk-k").getNodePoolsList()).extracting(NodePool::getName).containsExactlyInAnyOrder("v100", "t4", "cpu");
        assertThat(gke.fakes.faults().count("^DELETE ")).isZero();
    }
}
