package io.mlctl.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.api.gax.longrunning.OperationFuture;
import com.google.cloud.aiplatform.v1.CreateEndpointRequest;
import com.google.cloud.aiplatform.v1.DedicatedResources;
import com.google.cloud.aiplatform.v1.DeployModelRequest;
import com.google.cloud.aiplatform.v1.DeployedModel;
import com.google.cloud.aiplatform.v1.Endpoint;
import com.google.cloud.aiplatform.v1.MachineSpec;
import com.google.cloud.aiplatform.v1.Model;
import com.google.cloud.aiplatform.v1.ModelContainerSpec;
import com.google.cloud.aiplatform.v1.UploadModelRequest;
import com.google.cloud.aiplatform.v1.UploadModelResponse;
import com.google.cloud.compute.v1.AccessConfig;
import com.google.cloud.compute.v1.AttachedDisk;
import com.google.cloud.compute.v1.AttachedDiskInitializeParams;
import com.google.cloud.compute.v1.InsertInstanceRequest;
import com.google.cloud.compute.v1.InsertNetworkRequest;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.Network;
import com.google.cloud.compute.v1.NetworkInterface;
import com.google.cloud.storage.BucketInfo;
import com.google.container.v1.Cluster;
import com.google.container.v1.NodeConfig;
import com.google.container.v1.NodePool;
import com.google.container.v1.NodePoolAutoscaling;
import com.google.container.v1.Operation;
import com.google.longrunning.OperationsClient;
import com.google.protobuf.Message;
import io.mlctl.fake.gcp.GcpFakes;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Change;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.NotOwnedException;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Specs;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code mlctl import} and {@code mlctl output} on GCP, kind by kind, through the real driver and client libraries against
 * the stateful fakes: a resource made out of band (as another person would, with the Google clients or in the console) is
 * read by its id exactly as inventory would show it, adopted (marker and labels written, the planned changes made), then
 * listed, changed and deleted like any resource mlctl made; someone else's is refused and left as it was; ids of the wrong
 * form, of another project or of a name mlctl would not find are refused with one line.
 */
class GcpImportTest {
    static final String PROJECT = "mlctl-import-test";
    static final String REGION = "us-central1";
    static final String ZONE = "us-central1-a";
    static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    static final String SKLEARN = "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-6:latest";
    static final String RUNNER = "im-runner@" + PROJECT + ".iam.gserviceaccount.com";
    static final String SPEC = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata:
          name: im
          labels: {team: ml}
        spec:
          provider: gcp
          region: us-central1
          resources:
            - type: network
              name: net
              cidr: 10.40.0.0/16
              subnets:
                - {name: a, cidr: 10.40.0.0/20, zone: us-central1-a, private: false}
            - type: bucket
              name: im-data-x
              versioning: true
            - type: identity
              name: runner
              grants:
                - {resource: bucket/im-data-x, actions: [storage.read]}
            - type: instance
              name: box
              machineType: n1-standard-8
              subnet: net/a
              identity: runner
            - type: kubernetes_cluster
              name: k
              version: "1.30"
              subnet: net/a
              identity: runner
              nodePools:
                - {name: cpu, machineType: e2-standard-4, min: 1, max: 3}
            - type: inference_endpoint
              name: clf
              modelUri: gs://im-data-x/models/clf/
              machineType: n1-standard-4
              framework: sklearn
              identity: runner
        """;

    GcpFakes fakes;
    GcpDriver driver;
    GcpClients other;
    Environment env;

    @BeforeEach
    void setUp() throws IOException {
        fakes = GcpFakes.start();
        Map<String, String> vars = new LinkedHashMap<>(fakes.environment());
        vars.put("GOOGLE_CLOUD_PROJECT", PROJECT);
        driver = new GcpDriver(GcpSettings.fromEnvironment(vars));
        // Another person, with the same Google client libraries.
        other = new GcpClients(GcpSettings.fromEnvironment(vars), PROJECT, REGION);
        env = Specs.env(SPEC);
    }

    @AfterEach
    void tearDown() {
        other.close();
        driver.close();
        fakes.close();
    }

    // ------------------------------------------------------------------ the kinds, as a table

    /** What one kind needs before its resource can exist out of band (a network, an account, a bucket). */
    interface Prepare {
        void run(GcpImportTest t) throws Exception;
    }

    /** Makes the kind's resource out of band under {@code name}, carrying {@code owner}'s marker when given; returns the id import takes. */
    interface Make {
        String run(GcpImportTest t, Optional<String> owner, String name) throws Exception;
    }

    /**
     * One kind. {@code name}: the name mlctl gives the address (the one an unmarked resource must have); {@code read}: what
     * read shows of the unmarked resource {@code make} leaves (besides the region); {@code adopted}: what else is true of the
     * cloud once it is adopted; {@code outputs}: what {@code mlctl output} shows of it; {@code state}: the resource as the
     * fake holds it; {@code gone}: whether delete took it.
     */
    record Kind(String address, String name, Prepare prepare, Make make, Map<String, Object> read, java.util.function.Consumer<GcpImportTest> adopted,
                Function<GcpImportTest, Map<String, String>> outputs, Function<GcpImportTest, Object> state, Function<GcpImportTest, Boolean> gone) {
        Address at() {
            return Address.parse(address);
        }

        @Override
        public String toString() {
            return address;
        }
    }

    static final Kind BUCKET = new Kind("bucket.im-data-x", "im-data-x", t -> { },
        (t, owner, name) -> {
            t.other.storage().create(BucketInfo.newBuilder(name).setLocation(REGION).setLabels(labels("owner", "data-team", owner, "bucket." + name)).build());
            return "gs://" + name;
        },
        Map.of("versioning", false, "encryption", "managed", "public", true),
        t -> assertThat(t.fakes.storage().bucket("im-data-x").orElseThrow().getLabels()).as("someone else's label stays")
            .containsEntry("owner", "data-team").containsEntry("team", "ml").containsEntry("mlctl-environment", "im"),
        t -> Map.of("uri", "gs://im-data-x"),
        t -> t.fakes.storage().bucket("im-data-x").map(Object::toString),
        t -> t.fakes.storage().bucket("im-data-x").isEmpty());

    static final Kind IDENTITY = new Kind("identity.runner", "im-runner",
        t -> t.create("bucket.im-data-x"), // the grant's bucket is the environment's
        (t, owner, name) -> t.fakes.iam().createServiceAccount(PROJECT, name, "CI runner",
            owner.map(o -> GcpMarker.INSTANCE.description(o, Address.parse("identity.runner"))).orElse("runs the CI")).getEmail(),
        Map.of(),
        t -> {
            var sa = t.fakes.iam().serviceAccount(RUNNER).orElseThrow();
            assertThat(sa.getDescription()).startsWith("mlctl: environment=im address=identity.runner ");
            assertThat(sa.getDisplayName()).as("the owner's display name stays").isEqualTo("CI runner");
            assertThat(t.fakes.storage().policy("im-data-x").getBindings()).anySatisfy(b -> {
                assertThat(b.getRole()).isEqualTo("roles/storage.objectViewer");
                assertThat(b.getMembers()).contains("serviceAccount:" + RUNNER);
            });
        },
        t -> Map.of("email", RUNNER),
        t -> t.fakes.iam().serviceAccount(RUNNER),
        t -> t.fakes.iam().serviceAccount(RUNNER).isEmpty());

    static final Kind INSTANCE = new Kind("instance.box", "im-box", GcpImportTest::networkAndAccount,
        (t, owner, name) -> {
            Instance i = Instance.newBuilder().setName(name).setMachineType("zones/" + ZONE + "/machineTypes/n1-standard-4")
                .putAllLabels(labels("owner", "ops", owner, "instance.box"))
                .addNetworkInterfaces(NetworkInterface.newBuilder().setSubnetwork("projects/" + PROJECT + "/regions/" + REGION + "/subnetworks/im-net-a")
                    .addAccessConfigs(AccessConfig.newBuilder().setName("External NAT").setType("ONE_TO_ONE_NAT")))
                .addDisks(AttachedDisk.newBuilder().setBoot(true).setAutoDelete(true).setInitializeParams(AttachedDiskInitializeParams.newBuilder()
                    .setSourceImage(InstanceKind.IMAGE).setDiskSizeGb(100)))
                .addServiceAccounts(com.google.cloud.compute.v1.ServiceAccount.newBuilder().setEmail(RUNNER).addScopes(NetworkKind.SCOPE_CLOUD_PLATFORM))
                .build();
            done(t.other.instances().insertAsync(InsertInstanceRequest.newBuilder().setProject(PROJECT).setZone(ZONE).setInstanceResource(i).build()));
            return ZONE + "/" + name;
        },
        Map.of("machineType", "n1-standard-4", "spot", false, "diskGb", 100L, "identity", "runner", "subnet", "net/a",
            "firewall", "network tag im-net missing: the firewall rules of network net do not apply"),
        t -> {
            Instance i = t.instance();
            assertThat(i.getMachineType()).endsWith("/machineTypes/n1-standard-8");
            assertThat(i.getTags().getItemsList()).contains("im-net");
            assertThat(i.getLabelsMap()).containsEntry("owner", "ops").containsEntry("mlctl-name", "box");
        },
        t -> {
            NetworkInterface nic = t.instance().getNetworkInterfaces(0);
            assertThat(nic.getNetworkIP()).startsWith("10.40.");
            return Map.of("privateIp", nic.getNetworkIP(), "publicIp", nic.getAccessConfigs(0).getNatIP());
        },
        t -> t.fakes.compute().instance(PROJECT, ZONE, "im-box"),
        t -> t.fakes.compute().instance(PROJECT, ZONE, "im-box").isEmpty());

    static final Kind CLUSTER = new Kind("kubernetes_cluster.k", "im-k", GcpImportTest::networkAndAccount,
        (t, owner, name) -> {
            Address k = Address.parse("kubernetes_cluster.k");
            Cluster c = Cluster.newBuilder().setName(name).setInitialClusterVersion("1.30").setNetwork("im-net").setSubnetwork("im-net-a")
                .putAllResourceLabels(labels("owner", "platform", owner, "kubernetes_cluster.k"))
                .addNodePools(pool("cpu", "e2-standard-4", owner.map(o -> GcpMarker.INSTANCE.marker(o, new Address(k.type(), "k", "node_pool.cpu"))))
                    .setAutoscaling(NodePoolAutoscaling.newBuilder().setEnabled(true).setTotalMinNodeCount(1).setTotalMaxNodeCount(2)))
                .addNodePools(pool("extra", "e2-standard-2", Optional.empty()))
                .build();
            t.gke(t.other.clusters().createCluster("projects/" + PROJECT + "/locations/" + REGION, c));
            return name;
        },
        Map.of("version", "1.30", "subnet", "net/a", "identity", "runner", "nodePools", List.of(
            Map.of("name", "cpu", "machineType", "e2-standard-4", "spot", false, "min", 1L, "max", 2L),
            Map.of("name", "extra", "machineType", "e2-standard-2", "spot", false))),
        t -> {
            Cluster c = t.cluster().orElseThrow();
            assertThat(c.getNodePoolsList()).as("the pool the spec does not name went, as the plan said").extracting(NodePool::getName).containsExactly("cpu");
            assertThat(c.getNodePools(0).getConfig().getResourceLabelsMap()).containsEntry("mlctl-component", "node_pool_cpu");
            assertThat(c.getNodePools(0).getConfig().getTagsList()).as("the network's firewall rules apply to its nodes").containsExactly("ops", "im-net");
            assertThat(c.getNodePools(0).getAutoscaling().getTotalMaxNodeCount()).isEqualTo(3);
            assertThat(c.getResourceLabelsMap()).containsEntry("owner", "platform").containsEntry("mlctl-name", "k");
        },
        t -> {
            Cluster c = t.cluster().orElseThrow();
            assertThat(c.getEndpoint()).isNotEmpty();
            assertThat(c.getCurrentMasterVersion()).startsWith("1.30.");
            return Map.of("endpoint", "https://" + c.getEndpoint(), "version", c.getCurrentMasterVersion(),
                "credentials", "gcloud container clusters get-credentials im-k --region us-central1 --project " + PROJECT);
        },
        t -> t.cluster(),
        t -> t.cluster().isEmpty());

    static final Kind ENDPOINT = new Kind("inference_endpoint.clf", "im-clf",
        t -> {
            t.fakes.storage().insertAs(PROJECT, "{\"name\":\"im-data-x\",\"location\":\"US-CENTRAL1\"}"); // the model's bucket
            t.fakes.iam().createServiceAccount(PROJECT, "im-runner", "runner", "");
        },
        (t, owner, name) -> {
            Map<String, String> marker = labels("owner", "serving", owner, "inference_endpoint.clf");
            var models = t.other.models();
            String model = t.vertex(models.getOperationsClient(), models.uploadModelCallable().call(UploadModelRequest.newBuilder()
                .setParent("projects/" + PROJECT + "/locations/" + REGION).setModel(Model.newBuilder().setDisplayName("clf-v3")
                    .setArtifactUri("gs://im-data-x/models/clf/").setContainerSpec(ModelContainerSpec.newBuilder().setImageUri(SKLEARN))
                    .putAllLabels(marker)).build()), UploadModelResponse.class).getModel();
            var endpoints = t.other.endpoints();
            // Someone's own display name: mlctl finds its endpoints by their labels, so it need not be im-clf.
            Endpoint e = t.vertex(endpoints.getOperationsClient(), endpoints.createEndpointCallable().call(CreateEndpointRequest.newBuilder()
                .setParent("projects/" + PROJECT + "/locations/" + REGION).setEndpoint(Endpoint.newBuilder().setDisplayName("clf-prod")
                    .putAllLabels(marker)).build()), Endpoint.class);
            t.vertex(endpoints.getOperationsClient(), endpoints.deployModelCallable().call(DeployModelRequest.newBuilder().setEndpoint(e.getName())
                .setDeployedModel(DeployedModel.newBuilder().setModel(model).setDisplayName("clf-v3").setServiceAccount(RUNNER)
                    .setDedicatedResources(DedicatedResources.newBuilder().setMachineSpec(MachineSpec.newBuilder().setMachineType("n1-standard-4"))
                        .setMinReplicaCount(1).setMaxReplicaCount(2)))
                .putTrafficSplit("0", 100).build()), com.google.cloud.aiplatform.v1.DeployModelResponse.class);
            return GcpKind.lastSegment(e.getName());
        },
        Map.of("modelUri", "gs://im-data-x/models/clf/", "framework", "sklearn", "machineType", "n1-standard-4", "minReplicas", 1L,
            "maxReplicas", 2L, "identity", "runner"),
        t -> {
            Endpoint e = t.endpoint().orElseThrow();
            assertThat(e.getLabelsMap()).containsEntry("owner", "serving").containsEntry("mlctl-name", "clf");
            assertThat(e.getDeployedModelsList()).singleElement().satisfies(d -> assertThat(d.getDedicatedResources().getMaxReplicaCount()).isEqualTo(1));
            assertThat(t.fakes.vertex().models()).as("the model it served is taken over, not uploaded again").singleElement()
                .satisfies(m -> assertThat(m.getLabelsMap()).containsEntry("mlctl-name", "clf").containsEntry("mlctl-framework", "sklearn")
                    .containsKey("mlctl-revision").containsEntry("owner", "serving"));
            assertThat(t.fakes.faults().count("ModelService/UploadModel$")).isEqualTo(1);
        },
        t -> Map.of("invokeUrl", "https://us-central1-aiplatform.googleapis.com/v1/projects/" + PROJECT + "/locations/us-central1/endpoints/"
            + GcpKind.lastSegment(t.endpoint().orElseThrow().getName()) + ":predict"),
        t -> t.endpoint().map(e -> List.of(e, t.fakes.vertex().models())),
        t -> t.endpoint().isEmpty() && t.fakes.vertex().models().isEmpty());

    static final Kind NETWORK = new Kind("network.net", "im-net", t -> { },
        (t, owner, name) -> {
            Network n = Network.newBuilder().setName(name).setAutoCreateSubnetworks(false)
                .setDescription(owner.map(o -> GcpMarker.INSTANCE.description(o, Address.parse("network.net")) + " cidr=10.40.0.0/16").orElse("the VPC"))
                .build();
            done(t.other.networks().insertAsync(InsertNetworkRequest.newBuilder().setProject(PROJECT).setNetworkResource(n).build()));
            return name;
        },
        Map.of(), t -> { }, t -> Map.of(),
        t -> t.fakes.compute().network(PROJECT, "im-net"),
        t -> t.fakes.compute().network(PROJECT, "im-net").isEmpty());

    static Stream<Kind> importable() {
        return Stream.of(BUCKET, IDENTITY, INSTANCE, CLUSTER, ENDPOINT);
    }

    static Stream<Kind> every() {
        return Stream.of(NETWORK, BUCKET, IDENTITY, INSTANCE, CLUSTER, ENDPOINT);
    }

    // ------------------------------------------------------------------ the tests

    @ParameterizedTest(name = "{0}")
    @MethodSource("importable")
    void anUnmarkedResourceIsReadAsInventoryWouldShowItAdoptedAndThenListedAsTheSpecSaysWithItsOutputs(Kind k) throws Exception {
        k.prepare().run(this);
        String id = k.make().run(this, Optional.empty(), k.name());

        ObservedResource seen = driver.read(env, k.at(), id).orElseThrow();
        assertThat(seen.address()).isEqualTo(k.at());
        Map<String, Object> expected = new TreeMap<>(k.read());
        expected.put("region", REGION);
        assertThat(seen.attributes()).isEqualTo(expected);
        assertThat(GcpMarker.INSTANCE.marked(seen.tags())).isFalse();

        ObservedResource adopted = driver.adopt(env, seen, spec(env, k), planned(env, seen));
        assertThat(adopted.cloudId()).isEqualTo(seen.cloudId());
        assertThat(GcpMarker.INSTANCE.owner(adopted.tags(), "im")).contains(k.at());
        ObservedResource listed = listed(env, k);
        assertThat(listed.cloudId()).isEqualTo(seen.cloudId());
        assertThat(comparable(k, listed.attributes())).isEqualTo(comparable(k, spec(env, k).attributes()));
        k.adopted().accept(this);
        // Adopting again (a retry after a lost answer) finds its own marker and goes on.
        driver.adopt(env, listed, spec(env, k), List.of());

        assertThat(driver.outputs(env, listed)).isEqualTo(k.outputs().apply(this));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("importable")
    void anImportedResourceIsChangedAndDeletedLikeOneMlctlMade(Kind k) throws Exception {
        k.prepare().run(this);
        String id = k.make().run(this, Optional.empty(), k.name());
        ObservedResource seen = driver.read(env, k.at(), id).orElseThrow();
        driver.adopt(env, seen, spec(env, k), planned(env, seen));

        Environment relabeled = Specs.env(SPEC.replace("team: ml", "team: ai"));
        ObservedResource listed = listed(relabeled, k);
        List<AttributeChange> changes = planned(relabeled, listed);
        if (k != IDENTITY) assertThat(changes).extracting(AttributeChange::path).containsExactly("tags.team"); // accounts take no labels
        driver.update(relabeled, listed, spec(relabeled, k), changes);
        ObservedResource after = listed(relabeled, k);
        assertThat(comparable(k, after.attributes())).isEqualTo(comparable(k, spec(relabeled, k).attributes()));
        assertThat(planned(relabeled, after)).isEmpty();

        driver.delete(relabeled, after);
        assertThat(k.gone().apply(this)).isTrue();
        assertThat(driver.list(relabeled, k.at().type(), Optional.empty()).items()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("every")
    void aResourceOfAnotherEnvironmentIsReadWithItsMarkerButRefusedAndLeftAsItWas(Kind k) throws Exception {
        k.prepare().run(this);
        String id = k.make().run(this, Optional.of("other"), k.name());
        ObservedResource seen = driver.read(env, k.at(), id).orElseThrow();
        assertThat(seen.tags()).containsEntry(GcpMarker.ENVIRONMENT, "other");
        Object before = k.state().apply(this);
        assertThatThrownBy(() -> driver.adopt(env, seen, spec(env, k), List.of()))
            .isInstanceOf(NotOwnedException.class)
            .hasMessageStartingWith(k.address() + ": ")
            .hasMessageContaining("managed by mlctl environment other as " + k.address())
            .hasMessageContaining("cannot be imported");
        assertThat(k.state().apply(this)).isEqualTo(before);
        assertThat(driver.list(env, k.at().type(), Optional.empty()).items()).isEmpty();
    }

    static Stream<Arguments> unknownIds() {
        return Stream.of(
            Arguments.of("network.net", "im-nothing"),
            Arguments.of("network.net", "projects/" + PROJECT + "/global/networks/im-nothing"),
            Arguments.of("bucket.im-data-x", "im-data-x"),
            Arguments.of("bucket.im-data-x", "gs://im-data-x"),
            Arguments.of("identity.runner", RUNNER),
            Arguments.of("identity.runner", "projects/-/serviceAccounts/" + RUNNER),
            Arguments.of("instance.box", ZONE + "/im-box"),
            Arguments.of("instance.box", "https://www.googleapis.com/compute/v1/projects/" + PROJECT + "/zones/" + ZONE + "/instances/im-box"),
            Arguments.of("kubernetes_cluster.k", "im-k"),
            Arguments.of("kubernetes_cluster.k", "projects/" + PROJECT + "/locations/" + REGION + "/clusters/im-k"),
            Arguments.of("inference_endpoint.clf", "1234567890123"),
            Arguments.of("inference_endpoint.clf", "projects/" + PROJECT + "/locations/" + REGION + "/endpoints/1234567890123"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("unknownIds")
    void anIdOfTheRightFormThatNothingHasIsEmpty(String address, String id) {
        assertThat(driver.read(env, Address.parse(address), id)).isEmpty();
    }

    static Stream<Arguments> refusedIds() {
        String elsewhere = "their-project-1";
        return Stream.of(
            Arguments.of("network.net", "Net_1", "expected the network's name, e.g. im-net"),
            Arguments.of("network.net", "projects/" + elsewhere + "/global/networks/im-net", "is in project " + elsewhere),
            Arguments.of("bucket.im-data-x", "Data!", "expected the bucket's name"),
            Arguments.of("identity.runner", "someone@example.com", "expected a service account's email, e.g. " + RUNNER),
            Arguments.of("identity.runner", "123-compute@developer.gserviceaccount.com", "Google-managed default accounts cannot be imported"),
            Arguments.of("identity.runner", "im-runner@" + elsewhere + ".iam.gserviceaccount.com", "is in project " + elsewhere),
            Arguments.of("identity.runner", "projects/" + elsewhere + "/serviceAccounts/" + RUNNER, "is in project " + elsewhere),
            Arguments.of("instance.box", "im-box", "expected ZONE/NAME, e.g. us-central1-a/im-box"),
            Arguments.of("instance.box", "projects/" + elsewhere + "/zones/" + ZONE + "/instances/im-box", "is in project " + elsewhere),
            Arguments.of("kubernetes_cluster.k", "projects/" + PROJECT + "/clusters/im-k", "expected the cluster's name, e.g. im-k"),
            Arguments.of("kubernetes_cluster.k", "projects/" + elsewhere + "/locations/" + REGION + "/clusters/im-k", "is in project " + elsewhere),
            Arguments.of("inference_endpoint.clf", "clf-prod", "expected the endpoint's numeric id"),
            Arguments.of("inference_endpoint.clf", "projects/" + elsewhere + "/locations/" + REGION + "/endpoints/123", "is in project " + elsewhere),
            Arguments.of("inference_endpoint.clf", "projects/99999999999/locations/" + REGION + "/endpoints/123", "is in project 99999999999"),
            Arguments.of("inference_endpoint.clf", "projects/" + PROJECT + "/locations/europe-west4/endpoints/123", "is in europe-west4"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("refusedIds")
    void anIdOfAnotherFormOrProjectIsRefusedWithOneLine(String address, String id, String says) {
        assertThatThrownBy(() -> driver.read(env, Address.parse(address), id))
            .isInstanceOf(DriverException.class)
            .satisfies(e -> assertThat(((DriverException) e).retryable()).isFalse())
            .hasMessageStartingWith(address + ": ")
            .hasMessageContaining(says)
            .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    static Stream<Arguments> otherNames() {
        return Stream.of(
            Arguments.of(BUCKET, "im-other-x", "bucket im-other-x cannot be imported as bucket.im-data-x: a GCP bucket's address name is its name "
                + "(grants and references find it by it); import it as bucket.im-other-x"),
            Arguments.of(IDENTITY, "im-other", "service account im-other@" + PROJECT + ".iam.gserviceaccount.com cannot be imported as "
                + "identity.runner: mlctl names it im-runner (the environment's other resources find it by that name); import it as identity.other"),
            Arguments.of(INSTANCE, "im-other", "instance us-central1-a/im-other cannot be imported as instance.box: mlctl names it im-box "
                + "(the environment's other resources find it by that name); import it as instance.other"),
            Arguments.of(INSTANCE, "legacy-box", "instance us-central1-a/legacy-box cannot be imported as instance.box: mlctl names it im-box "
                + "(the environment's other resources find it by that name); only a resource of that name can be"),
            Arguments.of(CLUSTER, "im-other", "GKE cluster im-other cannot be imported as kubernetes_cluster.k: mlctl names it im-k "
                + "(the environment's other resources find it by that name); import it as kubernetes_cluster.other"));
    }

    /** Where other resources of the environment find a kind by its name, an unmarked one of another name is refused at plan time. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("otherNames")
    void anUnmarkedResourceOfAnotherNameThanMlctlGivesTheAddressIsRefusedSayingWhichNameItTakes(Kind k, String name, String says) throws Exception {
        k.prepare().run(this);
        String id = k.make().run(this, Optional.empty(), name);
        assertThatThrownBy(() -> driver.read(env, k.at(), id))
            .isInstanceOf(DriverException.class)
            .hasMessage(k.address() + ": " + says);
    }

    @Test
    void anUnmarkedNetworkCannotBeImportedForItsDescriptionIsFixedAtCreation() throws Exception {
        String id = NETWORK.make().run(this, Optional.empty(), "im-net");
        assertThatThrownBy(() -> driver.read(env, NETWORK.at(), id))
            .isInstanceOf(DriverException.class)
            .satisfies(e -> assertThat(((DriverException) e).retryable()).isFalse())
            .hasMessage("network.net: VPC network im-net cannot be imported: mlctl marks a network in its description, which Compute Engine "
                + "fixes when the network is made (networks take no labels); let mlctl create the network");
        assertThat(fakes.compute().network(PROJECT, "im-net").orElseThrow().getDescription()).isEqualTo("the VPC");
    }

    @Test
    void aNetworkOfThisEnvironmentIsReadAsListedAndItsOutputsNameEachSubnetsId() {
        ObservedResource made = create("network.net");
        ObservedResource listed = listed(env, NETWORK);
        assertThat(driver.read(env, NETWORK.at(), "projects/" + PROJECT + "/global/networks/im-net")).contains(listed);
        assertThat(planned(env, listed)).isEmpty();
        assertThat(driver.outputs(env, made)).isEqualTo(Map.of("subnets", "a=projects/" + PROJECT + "/regions/us-central1/subnetworks/im-net-a"));
    }

    @Test
    void aBucketOfAnotherProjectIsRefusedThoughItsNameIsReadable() {
        fakes.storage().insertAs("their-project-1", "{\"name\":\"im-data-x\",\"location\":\"US-CENTRAL1\"}");
        assertThatThrownBy(() -> driver.read(env, BUCKET.at(), "im-data-x"))
            .isInstanceOf(DriverException.class)
            .hasMessage("bucket.im-data-x: bucket im-data-x is in project number " + GcpFakes.projectNumber("their-project-1") + ", not in " + PROJECT
                + " where this environment is; import it from an environment of that project");
    }

    // ------------------------------------------------------------------ helpers

    static ResourceSpec spec(Environment env, Kind k) {
        return env.resource(k.at()).orElseThrow();
    }

    /** The changes the planner makes of {@code seen} against the spec: an update, never a replacement (import refuses those). */
    List<AttributeChange> planned(Environment env, ObservedResource seen) {
        Plan plan = new Planner(driver::rules).plan(env, new Inventory(env.name(), Map.of(seen.address(), seen), List.of()),
            new PlanOptions(false, Set.of(seen.address()), NOW));
        Optional<Change> change = plan.changes().stream().filter(c -> c.address().equals(seen.address())).findFirst();
        change.ifPresent(c -> assertThat(c).as("%s", c).isInstanceOf(Change.Update.class));
        return change.map(Change::attributes).orElse(List.of());
    }

    ObservedResource listed(Environment env, Kind k) {
        List<ObservedResource> items = driver.list(env, k.at().type(), Optional.empty()).items();
        assertThat(items).extracting(ObservedResource::address).containsExactly(k.at());
        return items.get(0);
    }

    /** Service accounts take no labels: an identity's tags are never compared (see IdentityKind.rules). */
    static Map<String, Object> comparable(Kind k, Map<String, Object> attrs) {
        Map<String, Object> out = new TreeMap<>(attrs);
        if (k == IDENTITY) out.remove("tags");
        return out;
    }

    ObservedResource create(String address) {
        return driver.create(env, env.resource(Address.parse(address)).orElseThrow(), CreateRequest.first("t-" + address));
    }

    /** The network the instance and cluster run in (made by mlctl), and the account they run as. */
    static void networkAndAccount(GcpImportTest t) {
        t.create("network.net");
        t.fakes.iam().createServiceAccount(PROJECT, "im-runner", "runner", "");
    }

    /** {@code key=value}, and the marker of {@code owner}'s environment at {@code address} when there is an owner. */
    static Map<String, String> labels(String key, String value, Optional<String> owner, String address) {
        Map<String, String> out = new TreeMap<>(Map.of(key, value));
        owner.ifPresent(o -> out.putAll(GcpMarker.INSTANCE.marker(o, Address.parse(address))));
        return out;
    }

    static NodePool.Builder pool(String name, String machineType, Optional<Map<String, String>> marker) {
        return NodePool.newBuilder().setName(name).setInitialNodeCount(1)
            .setConfig(NodeConfig.newBuilder().setMachineType(machineType).setServiceAccount(RUNNER).addTags("ops").putAllResourceLabels(marker.orElse(Map.of())));
    }

    Instance instance() {
        return fakes.compute().instance(PROJECT, ZONE, "im-box").orElseThrow();
    }

    Optional<Cluster> cluster() {
        return fakes.container().cluster(PROJECT, REGION, "im-k");
    }

    Optional<Endpoint> endpoint() {
        return fakes.vertex().endpoints().stream().filter(e -> e.getDisplayName().equals("clf-prod")).findFirst();
    }

    static void done(OperationFuture<com.google.cloud.compute.v1.Operation, com.google.cloud.compute.v1.Operation> f) throws Exception {
        f.get();
    }

    /** A GKE operation started out of band, polled until done (the fakes' operations are done at their first poll). */
    void gke(Operation op) {
        Operation o = op;
        for (int i = 0; i < 10 && o.getStatus() != Operation.Status.DONE; i++) {
            o = other.clusters().getOperation("projects/" + PROJECT + "/locations/" + op.getLocation() + "/operations/" + op.getName());
        }
        assertThat(o.getStatus()).isEqualTo(Operation.Status.DONE);
        assertThat(o.hasError() && o.getError().getCode() != 0).as("%s", o.getError()).isFalse();
    }

    /** A Vertex operation started out of band, polled until done; its answer. */
    <T extends Message> T vertex(OperationsClient ops, com.google.longrunning.Operation op, Class<T> type) throws Exception {
        com.google.longrunning.Operation o = op;
        for (int i = 0; i < 10 && !o.getDone(); i++) o = ops.getOperation(o.getName());
        assertThat(o.getDone()).isTrue();
        assertThat(o.hasError()).as("%s", o.getError()).isFalse();
        return o.getResponse().unpack(type);
    }
}
