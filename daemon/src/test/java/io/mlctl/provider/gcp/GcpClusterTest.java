package io.mlctl.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.cloud.container.v1.ClusterManagerClient;
import com.google.cloud.container.v1.ClusterManagerSettings;
import com.google.container.v1.AcceleratorConfig;
import com.google.container.v1.Cluster;
import com.google.container.v1.NodePool;
import com.google.container.v1.NodePoolAutoscaling;
import com.google.container.v1.Operation;
import com.google.container.v1.ReleaseChannel;
import com.google.container.v1.SetLabelsRequest;
import com.google.container.v1.SetNodePoolAutoscalingRequest;
import com.google.container.v1.SetNodePoolSizeRequest;
import com.google.container.v1.WorkloadMetadataConfig;
import io.mlctl.apply.ApplyResult;
import io.mlctl.apply.RetryPolicy;
import io.mlctl.engine.Engine;
import io.mlctl.fake.gcp.GcpFakes;
import io.mlctl.plan.Action;
import io.mlctl.plan.Change;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.provider.Page;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Specs;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GKE clusters through the real engine (inventory, planner, applier, journal, retries) and the real
 * GKE client library over HTTP/JSON against the container fake: mapping, clean re-plan, each
 * attribute's update or replace, out-of-band drift, destroy.
 */
class GcpClusterTest {
    static final String PROJECT = "mlctl-gke-test";
    static final String SPEC = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata:
          name: gk
          labels: {team: vision}
        spec:
          provider: gcp
          region: us-central1
          resources:
            - type: network
              name: net
              cidr: 10.20.0.0/16
              subnets:
                - {name: nodes, cidr: 10.20.0.0/20, zone: us-central1-a}
                - {name: other, cidr: 10.20.16.0/20, zone: us-central1-b}
            - type: identity
              name: trainer
            - type: kubernetes_cluster
              name: k
              version: "1.30"
              subnet: net/nodes
              identity: trainer
              nodePools:
                - name: v100
                  machineType: n1-standard-8
                  accelerator: {type: nvidia-tesla-v100, count: 1}
                  min: 0
                  max: 4
                  spot: true
                - name: t4
                  machineType: n1-standard-4
                  accelerator: {type: nvidia-tesla-t4}
                  min: 1
                  max: 8
        """;

    @TempDir
    Path dir;
    Gke gke;

    @BeforeEach
    void setUp() throws IOException {
        gke = new Gke(dir);
    }

    @AfterEach
    void tearDown() {
        gke.close();
    }

    /** The engine over the real GCP driver, against the fakes. */
    static final class Gke implements AutoCloseable {
        final GcpFakes fakes;
        final Path dir;
        final ClusterManagerClient client;

        Gke(Path dir) throws IOException {
            this.dir = dir;
            this.fakes = GcpFakes.start();
            this.client = ClusterManagerClient.create(ClusterManagerSettings.newHttpJsonBuilder()
                .setEndpoint("http://127.0.0.1:" + fakes.httpPort()).setCredentialsProvider(NoCredentialsProvider.create()).build());
        }

        Map<String, String> environment() {
            Map<String, String> env = new LinkedHashMap<>(fakes.environment());
            env.put("GOOGLE_CLOUD_PROJECT", PROJECT);
            return env;
        }

        GcpDriver driver() {
            return new GcpDriver(GcpSettings.fromEnvironment(environment()));
        }

        Engine engine(GcpDriver d) {
            return new Engine(d, dir.resolve("state"), Clock.systemUTC(),
                new RetryPolicy(6, Duration.ofMillis(1), Duration.ofMillis(20), x -> Thread.sleep(x.toMillis()), new Random(7)));
        }

        Plan plan(String yaml) {
            try (GcpDriver d = driver()) {
                return engine(d).plan(Specs.env(yaml), PlanOptions.defaults(java.time.Instant.now()));
            }
        }

        /** Requests a no-change plan costs the container API. */
        long planRequests(String yaml) {
            long before = fakes.faults().count("^GET /v1/");
            Plan p = plan(yaml);
            assertThat(p.hasChanges()).as(describe(p)).isFalse();
            return fakes.faults().count("^GET /v1/") - before;
        }

        ApplyResult apply(String yaml) {
            return run(yaml, false);
        }

        ApplyResult destroy(String yaml) {
            return run(yaml, true);
        }

        ApplyResult ok(ApplyResult r) {
            assertThat(r.failures()).as("apply failures").isEmpty();
            return r;
        }

        private ApplyResult run(String yaml, boolean destroy) {
            try (GcpDriver d = driver()) {
                Environment env = Specs.env(yaml);
                Engine.ApplyOutcome o = engine(d).apply(env, new Engine.ApplyRequest(new PlanOptions(destroy, Set.of(), java.time.Instant.now()),
                    Optional.empty(), true, 4, "test"), p -> true, new Engine.Observer() { });
                return o.result().orElse(new ApplyResult(0, 0, 0, Map.of(), List.of(), List.of()));
            }
        }

        Cluster cluster(String name) {
            return client.getCluster("projects/" + PROJECT + "/locations/us-central1/clusters/" + name);
        }

        Optional<Cluster> maybeCluster(String name) {
            return fakes.container().cluster(PROJECT, "us-central1", name);
        }

        NodePool pool(String cluster, String pool) {
            return client.getNodePool("projects/" + PROJECT + "/locations/us-central1/clusters/" + cluster + "/nodePools/" + pool);
        }

        /** Waits for an operation started out of band, as gcloud does. */
        Operation done(Operation op) {
            String name = "projects/" + PROJECT + "/locations/" + op.getLocation() + "/operations/" + op.getName();
            Operation o = op;
            for (int i = 0; i < 200 && o.getStatus() != Operation.Status.DONE; i++) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                o = client.getOperation(name);
            }
            assertThat(o.getStatus()).isEqualTo(Operation.Status.DONE);
            return o;
        }

        @Override
        public void close() {
            client.close();
            fakes.close();
        }
    }

    static String describe(Plan p) {
        return p.changes().stream().map(c -> c.action() + " " + c.address() + " " + c.attributes()).collect(Collectors.joining("\n"));
    }

    static Map<String, Action> actions(Plan p) {
        Map<String, Action> out = new LinkedHashMap<>();
        p.changes().forEach(c -> out.put(c.address().toString(), c.action()));
        return out;
    }

    // ---- tests ----

    @Test
    void applyMakesARegionalStandardClusterWithOnePoolPerSpecPoolAndASecondPlanIsClean() {
        ApplyResult r = gke.ok(gke.apply(SPEC));
        assertThat(r.created()).isEqualTo(3);
        Cluster c = gke.cluster("gk-k");
        assertThat(c.getLocation()).isEqualTo("us-central1");
        assertThat(c.getStatus()).isEqualTo(Cluster.Status.RUNNING);
        assertThat(c.getCurrentMasterVersion()).startsWith("1.30.");
        assertThat(c.getNetwork()).isEqualTo("gk-net");
        assertThat(c.getSubnetwork()).isEqualTo("gk-net-nodes");
        assertThat(c.getIpAllocationPolicy().getUseIpAliases()).isTrue();
        assertThat(c.getWorkloadIdentityConfig().getWorkloadPool()).isEqualTo(PROJECT + ".svc.id.goog");
        assertThat(c.getReleaseChannel().getChannel()).isEqualTo(ReleaseChannel.Channel.UNSPECIFIED);
        assertThat(c.getResourceLabelsMap()).containsEntry("mlctl-environment", "gk").containsEntry("mlctl-type", "kubernetes_cluster")
            .containsEntry("mlctl-name", "k").containsEntry("managed-by", "mlctl").containsEntry("team", "vision");
        assertThat(c.getNodePoolsList()).extracting(NodePool::getName).containsExactlyInAnyOrder("v100", "t4");

        NodePool v100 = gke.pool("gk-k", "v100");
        assertThat(v100.getConfig().getMachineType()).isEqualTo("n1-standard-8");
        assertThat(v100.getConfig().getSpot()).isTrue();
        assertThat(v100.getConfig().getAcceleratorsList()).extracting(AcceleratorConfig::getAcceleratorType, AcceleratorConfig::getAcceleratorCount)
            .containsExactly(org.assertj.core.groups.Tuple.tuple("nvidia-tesla-v100", 1L));
        assertThat(v100.getAutoscaling().getEnabled()).isTrue();
        assertThat(v100.getAutoscaling().getTotalMinNodeCount()).isZero();
        assertThat(v100.getAutoscaling().getTotalMaxNodeCount()).isEqualTo(4);
        assertThat(v100.getAutoscaling().getMinNodeCount()).isZero();
        assertThat(v100.getConfig().getServiceAccount()).isEqualTo("gk-trainer@" + PROJECT + ".iam.gserviceaccount.com");
        assertThat(v100.getConfig().getOauthScopesList()).containsExactly("https://www.googleapis.com/auth/cloud-platform");
        assertThat(v100.getConfig().getTagsList()).containsExactly("gk-net");
        assertThat(v100.getConfig().getWorkloadMetadataConfig().getMode()).isEqualTo(WorkloadMetadataConfig.Mode.GKE_METADATA);
        assertThat(v100.getConfig().getResourceLabelsMap()).containsEntry("mlctl-component", "node_pool_v100").containsEntry("mlctl-name", "k");
        NodePool t4 = gke.pool("gk-k", "t4");
        assertThat(t4.getConfig().getSpot()).isFalse();
        assertThat(t4.getAutoscaling().getTotalMinNodeCount()).isEqualTo(1);
        assertThat(t4.getAutoscaling().getTotalMaxNodeCount()).isEqualTo(8);
        // Nodes start in each of GKE's three zones so the minimum is met; the empty spot pool starts empty.
        assertThat(gke.fakes.container().nodeCount(PROJECT, "us-central1", "gk-k", "t4")).isEqualTo(3);
        assertThat(gke.fakes.container().nodeCount(PROJECT, "us-central1", "gk-k", "v100")).isZero();

        // One clusters.list for the whole project is the cluster inventory: node pools come inside it.
        assertThat(gke.planRequests(SPEC)).isEqualTo(1);
        assertThat(gke.fakes.faults().count("^GET /v1/projects/" + PROJECT + "/locations/-/clusters$")).isPositive();
    }

    @Test
    void inventoryReportsWhatTheSpecSaysWithTotalsAcrossZones() {
        gke.ok(gke.apply(SPEC));
        try (GcpDriver d = gke.driver()) {
            Page p = d.list(Specs.env(SPEC), ResourceType.KUBERNETES_CLUSTER, Optional.empty());
            assertThat(p.items()).singleElement().satisfies(o -> {
                assertThat(o.address().toString()).isEqualTo("kubernetes_cluster.k");
                assertThat(o.cloudId()).isEqualTo("projects/" + PROJECT + "/locations/us-central1/clusters/gk-k");
                assertThat(o.attributes()).containsEntry("version", "1.30").containsEntry("subnet", "net/nodes")
                    .containsEntry("identity", "trainer").containsEntry("region", "us-central1").containsEntry("tags", Map.of("team", "vision"));
                assertThat(o.attributes().get("nodePools")).asList().hasSize(2).contains(Map.of("name", "t4", "machineType", "n1-standard-4",
                    "accelerator", Map.of("type", "nvidia-tesla-t4", "count", 1L), "min", 1L, "max", 8L, "spot", false));
            });
        }
    }

    @Test
    void versionLabelsLimitsAndMachineTypeChangeInPlace() {
        String spec = SPEC.replace("version: \"1.30\"", "version: \"1.28\"");
        gke.ok(gke.apply(spec));
        String id = gke.cluster("gk-k").getId();
        long poolCreates = gke.fakes.faults().count("^POST .*/clusters/gk-k/nodePools$");

        // Two minors up: the control plane goes one minor at a time, the pools after each step.
        String changed = SPEC.replace("labels: {team: vision}", "labels: {team: vision, cost: ml}")
            .replace("max: 8", "max: 12").replace("machineType: n1-standard-4", "machineType: n1-standard-8");
        Plan p = gke.plan(changed);
        assertThat(actions(p)).containsEntry("kubernetes_cluster.k", Action.UPDATE).doesNotContainValue(Action.REPLACE);
        assertThat(p.changes().stream().filter(c -> c.address().toString().equals("kubernetes_cluster.k")).findFirst().orElseThrow().attributes()).extracting(a -> a.path())
            .containsExactlyInAnyOrder("version", "tags.cost", "nodePools[t4].max", "nodePools[t4].machineType");
        gke.ok(gke.apply(changed));
        Cluster c = gke.cluster("gk-k");
        assertThat(c.getId()).isEqualTo(id);
        assertThat(c.getCurrentMasterVersion()).startsWith("1.30.");
        assertThat(c.getNodePoolsList()).allSatisfy(np -> assertThat(np.getVersion()).startsWith("1.30."));
        assertThat(gke.fakes.faults().count("^POST .*/clusters/gk-k:updateMaster$")).isEqualTo(2);
        assertThat(c.getResourceLabelsMap()).containsEntry("cost", "ml").containsEntry("team", "vision").containsEntry("mlctl-name", "k");
        assertThat(gke.pool("gk-k", "t4").getAutoscaling().getTotalMaxNodeCount()).isEqualTo(12);
        assertThat(gke.pool("gk-k", "t4").getConfig().getMachineType()).isEqualTo("n1-standard-8");
        // Nothing was deleted or made again.
        assertThat(gke.fakes.faults().count("^DELETE ")).isZero();
        assertThat(gke.fakes.faults().count("^POST .*/clusters/gk-k/nodePools$")).isEqualTo(poolCreates);
        assertThat(gke.plan(changed).hasChanges()).isFalse();
    }

    @Test
    void aSpotOrAcceleratorChangeReplacesOnlyThatPool() {
        gke.ok(gke.apply(SPEC));
        String changed = SPEC.replace("  spot: true", "  spot: false").replace("{type: nvidia-tesla-t4}", "{type: nvidia-tesla-t4, count: 2}");
        Plan p = gke.plan(changed);
        assertThat(actions(p)).containsExactlyInAnyOrderEntriesOf(Map.of("kubernetes_cluster.k", Action.UPDATE,
            "kubernetes_cluster.k.node_pool.v100", Action.REPLACE, "kubernetes_cluster.k.node_pool.t4", Action.REPLACE));
        String id = gke.cluster("gk-k").getId();
        gke.ok(gke.apply(changed));
        assertThat(gke.cluster("gk-k").getId()).isEqualTo(id);
        assertThat(gke.pool("gk-k", "v100").getConfig().getSpot()).isFalse();
        assertThat(gke.pool("gk-k", "t4").getConfig().getAccelerators(0).getAcceleratorCount()).isEqualTo(2);
        assertThat(gke.fakes.faults().count("^DELETE .*/nodePools/v100$")).isEqualTo(1);
        assertThat(gke.fakes.faults().count("^DELETE .*/nodePools/t4$")).isEqualTo(1);
        assertThat(gke.fakes.faults().count("^DELETE .*/clusters/gk-k$")).isZero();
        assertThat(gke.plan(changed).hasChanges()).isFalse();

        // Only the spot pool changes: only it goes.
        gke.ok(gke.apply(changed.replace("  spot: false", "  spot: true")));
        assertThat(gke.fakes.faults().count("^DELETE .*/nodePools/v100$")).isEqualTo(2);
        assertThat(gke.fakes.faults().count("^DELETE .*/nodePools/t4$")).isEqualTo(1);
    }

    @Test
    void aPoolAddedOrRemovedInTheSpecIsTheOnlyPoolCreatedOrDeleted() {
        gke.ok(gke.apply(SPEC));
        String more = SPEC + """
                    - name: cpu
                      machineType: e2-standard-4
                      min: 2
                      max: 3
            """;
        Plan p = gke.plan(more);
        assertThat(actions(p)).containsExactly(Map.entry("kubernetes_cluster.k", Action.UPDATE));
        gke.ok(gke.apply(more));
        assertThat(gke.cluster("gk-k").getNodePoolsList()).extracting(NodePool::getName).containsExactlyInAnyOrder("v100", "t4", "cpu");
        assertThat(gke.pool("gk-k", "cpu").getAutoscaling().getTotalMinNodeCount()).isEqualTo(2);
        assertThat(gke.fakes.faults().count("^POST .*/clusters/gk-k/nodePools$")).isEqualTo(1);

        String fewer = SPEC.substring(0, SPEC.indexOf("        - name: v100")) + SPEC.substring(SPEC.indexOf("        - name: t4"));
        Plan q = gke.plan(fewer);
        assertThat(actions(q)).containsExactlyInAnyOrderEntriesOf(Map.of("kubernetes_cluster.k", Action.UPDATE,
            "kubernetes_cluster.k.node_pool.v100", Action.DELETE, "kubernetes_cluster.k.node_pool.cpu", Action.DELETE));
        gke.ok(gke.apply(fewer));
        assertThat(gke.cluster("gk-k").getNodePoolsList()).extracting(NodePool::getName).containsExactly("t4");
        assertThat(gke.fakes.faults().count("^DELETE ")).isEqualTo(2);
        assertThat(gke.plan(fewer).hasChanges()).isFalse();
    }

    @Test
    void aSubnetOrIdentityChangeReplacesTheCluster() {
        gke.ok(gke.apply(SPEC));
        Plan p = gke.plan(SPEC.replace("subnet: net/nodes", "subnet: net/other"));
        assertThat(actions(p)).containsEntry("kubernetes_cluster.k", Action.REPLACE);
        String other = SPEC.replace("subnet: net/nodes", "subnet: net/other");
        gke.ok(gke.apply(other));
        assertThat(gke.cluster("gk-k").getSubnetwork()).isEqualTo("gk-net-other");
        assertThat(gke.plan(other).hasChanges()).isFalse();

        String second = other.replace("    - type: kubernetes_cluster", "    - type: identity\n      name: runner\n    - type: kubernetes_cluster")
            .replace("identity: trainer\n      nodePools", "identity: runner\n      nodePools");
        assertThat(actions(gke.plan(second))).containsEntry("kubernetes_cluster.k", Action.REPLACE);
        gke.ok(gke.apply(second));
        assertThat(gke.pool("gk-k", "t4").getConfig().getServiceAccount()).isEqualTo("gk-runner@" + PROJECT + ".iam.gserviceaccount.com");
        assertThat(gke.plan(second).hasChanges()).isFalse();
    }

    @Test
    void aDowngradeIsRefusedInOneLineSayingWhatGkeAllows() {
        gke.ok(gke.apply(SPEC));
        ApplyResult r = gke.apply(SPEC.replace("version: \"1.30\"", "version: \"1.29\""));
        assertThat(r.failures()).singleElement().asString().contains("GKE cluster gk-k runs 1.30.")
            .contains("cannot downgrade a control plane to 1.29").doesNotContain("\n");
        assertThat(gke.cluster("gk-k").getCurrentMasterVersion()).startsWith("1.30.");
    }

    @Test
    void autoscalingChangedOrTurnedOffInTheConsoleIsDriftAndIsPutBack() {
        gke.ok(gke.apply(SPEC));
        String pool = "projects/" + PROJECT + "/locations/us-central1/clusters/gk-k/nodePools/t4";
        // Someone sets per-zone limits in the console: 1..2 per zone is 3..6 in total.
        gke.done(gke.client.setNodePoolAutoscaling(SetNodePoolAutoscalingRequest.newBuilder().setName(pool)
            .setAutoscaling(NodePoolAutoscaling.newBuilder().setEnabled(true).setMinNodeCount(1).setMaxNodeCount(2)).build()));
        Plan p = gke.plan(SPEC);
        assertThat(p.changes()).singleElement().satisfies(c -> {
            assertThat(c.action()).isEqualTo(Action.UPDATE);
            assertThat(c.attributes()).extracting(a -> a.path() + " " + a.before() + "->" + a.after())
                .containsExactlyInAnyOrder("nodePools[t4].min 3->1", "nodePools[t4].max 6->8");
        });
        gke.ok(gke.apply(SPEC));
        NodePoolAutoscaling a = gke.pool("gk-k", "t4").getAutoscaling();
        assertThat(a.getTotalMinNodeCount()).isEqualTo(1);
        assertThat(a.getTotalMaxNodeCount()).isEqualTo(8);
        assertThat(a.getMinNodeCount()).isZero();

        // Someone turns autoscaling off and resizes the pool by hand.
        gke.done(gke.client.setNodePoolAutoscaling(SetNodePoolAutoscalingRequest.newBuilder().setName(pool)
            .setAutoscaling(NodePoolAutoscaling.newBuilder().setEnabled(false)).build()));
        gke.done(gke.client.setNodePoolSize(SetNodePoolSizeRequest.newBuilder().setName(pool).setNodeCount(5).build()));
        assertThat(gke.fakes.container().nodeCount(PROJECT, "us-central1", "gk-k", "t4")).isEqualTo(15);
        Plan q = gke.plan(SPEC);
        assertThat(q.changes()).singleElement().satisfies(c -> assertThat(c.attributes()).extracting(x -> x.path())
            .containsExactlyInAnyOrder("nodePools[t4].min", "nodePools[t4].max"));
        gke.ok(gke.apply(SPEC));
        assertThat(gke.pool("gk-k", "t4").getAutoscaling().getEnabled()).isTrue();
        assertThat(gke.plan(SPEC).hasChanges()).isFalse();
    }

    @Test
    void aResizeByHandWithinTheLimitsIsTheAutoscalersBusinessNotDrift() {
        gke.ok(gke.apply(SPEC));
        String pool = "projects/" + PROJECT + "/locations/us-central1/clusters/gk-k/nodePools/t4";
        gke.done(gke.client.setNodePoolSize(SetNodePoolSizeRequest.newBuilder().setName(pool).setNodeCount(2).build()));
        assertThat(gke.fakes.container().nodeCount(PROJECT, "us-central1", "gk-k", "t4")).isEqualTo(6);
        assertThat(gke.plan(SPEC).hasChanges()).isFalse();
    }

    @Test
    void labelsRemovedOrAPoolDeletedOutOfBandShowAsDriftAndAreRestored() {
        gke.ok(gke.apply(SPEC));
        Cluster c = gke.cluster("gk-k");
        Map<String, String> labels = new java.util.TreeMap<>(c.getResourceLabelsMap());
        labels.remove("team");
        labels.put("owner", "someone"); // someone else's label: left alone
        gke.done(gke.client.setLabels(SetLabelsRequest.newBuilder().setName("projects/" + PROJECT + "/locations/us-central1/clusters/gk-k")
            .putAllResourceLabels(labels).setLabelFingerprint(c.getLabelFingerprint()).build()));
        gke.done(gke.client.deleteNodePool("projects/" + PROJECT + "/locations/us-central1/clusters/gk-k/nodePools/v100"));
        Plan p = gke.plan(SPEC);
        assertThat(p.changes()).singleElement().satisfies(ch -> assertThat(ch.attributes()).extracting(a -> a.path())
            .containsExactlyInAnyOrder("tags", "nodePools[v100]"));
        gke.ok(gke.apply(SPEC));
        assertThat(gke.cluster("gk-k").getResourceLabelsMap()).containsEntry("team", "vision").containsEntry("owner", "someone");
        assertThat(gke.pool("gk-k", "v100").getConfig().getSpot()).isTrue();
        assertThat(gke.plan(SPEC).hasChanges()).isFalse();
    }

    @Test
    void destroyLeavesNoClusterBehind() {
        gke.ok(gke.apply(SPEC));
        ApplyResult r = gke.ok(gke.destroy(SPEC));
        assertThat(r.deleted()).isEqualTo(3);
        assertThat(gke.fakes.container().clusters(PROJECT)).isEmpty();
        assertThat(gke.fakes.container().nodeCount(PROJECT, "us-central1", "gk-k", "t4")).isZero();
        assertThat(gke.plan(SPEC).changes()).extracting(Change::action).containsOnly(Action.CREATE);
    }

    @Test
    void aClusterWithoutPoolsIsMadeWithGkesDefaultPoolWhichThenGoes() {
        String spec = SPEC.substring(0, SPEC.indexOf("      nodePools:"));
        gke.ok(gke.apply(spec));
        assertThat(gke.cluster("gk-k").getNodePoolsList()).isEmpty();
        assertThat(gke.plan(spec).hasChanges()).isFalse();
    }
}
