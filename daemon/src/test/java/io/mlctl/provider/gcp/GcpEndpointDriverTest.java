package io.mlctl.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.cloud.aiplatform.v1.AcceleratorType;
import com.google.cloud.aiplatform.v1.DeployedModel;
import com.google.cloud.aiplatform.v1.Endpoint;
import com.google.cloud.aiplatform.v1.MachineSpec;
import com.google.cloud.aiplatform.v1.Model;
import io.mlctl.fake.gcp.GcpFakes;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Page;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.Normalizer;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.spec.SourcePosition;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The endpoint kind through the GCP driver: the identity's service account, framework defaults per
 * region and machine, GPUs built into the machine type, and that what inventory reads back is
 * exactly what the spec normalizes to.
 */
class GcpEndpointDriverTest {
    private static final String PROJECT = "mlctl-endpoint-test";
    private static final SourcePosition AT = new SourcePosition("ve.yaml", 1, 1);
    private GcpFakes fakes;
    private GcpDriver driver;

    @BeforeEach
    void setUp() throws IOException {
        fakes = GcpFakes.start();
        fakes.storage().insertAs(PROJECT, "{\"name\":\"ve-models\",\"location\":\"US-CENTRAL1\"}"); // models are read from it
        Map<String, String> env = new HashMap<>(fakes.environment());
        env.put("GOOGLE_CLOUD_PROJECT", PROJECT);
        driver = new GcpDriver(GcpSettings.fromEnvironment(env), List.of(new EndpointKind()));
    }

    @AfterEach
    void tearDown() {
        driver.close();
        fakes.close();
    }

    private static ResourceSpec endpoint(String name, Map<String, Object> attrs) {
        Map<String, Object> a = new TreeMap<>(attrs);
        a.putIfAbsent("minReplicas", 1L);
        a.putIfAbsent("maxReplicas", 1L);
        if (!a.containsKey("image")) a.putIfAbsent("framework", "pytorch");
        Set<Address> deps = a.get("identity") instanceof String id ? Set.of(new Address(ResourceType.IDENTITY, id)) : Set.of();
        return new ResourceSpec(new Address(ResourceType.INFERENCE_ENDPOINT, name), Normalizer.normalize(a), deps, AT);
    }

    private static Environment env(String region, ResourceSpec... specs) {
        List<ResourceSpec> resources = java.util.Arrays.stream(specs).map(s -> {
            Map<String, Object> a = new TreeMap<>(s.attributes());
            a.put("region", region);
            return new ResourceSpec(s.address(), Normalizer.normalize(a), s.dependencies(), AT);
        }).toList();
        return new Environment("ve", Map.of(), Provider.GCP, region, Optional.empty(), Optional.empty(), Environment.ApplyMode.MANUAL, false, 0, resources, List.of(), AT);
    }

    private ObservedResource listed(Environment env) {
        Page p = driver.list(env, ResourceType.INFERENCE_ENDPOINT, Optional.empty());
        assertThat(p.items()).hasSize(1);
        return p.items().get(0);
    }

    private Endpoint only() {
        assertThat(fakes.vertex().endpoints()).hasSize(1);
        return fakes.vertex().endpoints().get(0);
    }

    private Model modelOf(DeployedModel d) {
        return fakes.vertex().models().stream().filter(m -> m.getName().equals(d.getModel())).findFirst().orElseThrow();
    }

    @Test
    void theDeploymentRunsAsTheIdentitysServiceAccountAndAnIdentityChangeRedeploysTheSameModel() {
        Environment env = env("us-central1", endpoint("clf", Map.of("modelUri", "gs://ve-models/m/", "machineType", "n1-standard-4",
            "framework", "sklearn", "identity", "server")));
        ResourceSpec spec = env.resources().get(0);
        // The identities' service accounts exist (IdentityKind makes them in a whole environment; this test drives the endpoint alone).
        fakes.iam().createServiceAccount(PROJECT, "ve-server", "server", "");
        fakes.iam().createServiceAccount(PROJECT, GcpKind.serviceAccountId(env, "inference-server-for-production"), "server", "");
        driver.create(env, spec, CreateRequest.first("t1"));
        DeployedModel d = only().getDeployedModels(0);
        assertThat(d.getServiceAccount()).isEqualTo("ve-server@" + PROJECT + ".iam.gserviceaccount.com");
        assertThat(modelOf(d).getContainerSpec().getImageUri()).isEqualTo("us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-6:latest");
        ObservedResource seen = listed(env);
        assertThat(seen.attributes()).isEqualTo(spec.attributes());

        // An account id too long for 30 characters is shortened with a hash: still read back as the identity.
        Map<String, Object> a = new TreeMap<>(spec.attributes());
        a.put("identity", "inference-server-for-production");
        Environment changed = env("us-central1", new ResourceSpec(spec.address(), Normalizer.normalize(a), spec.dependencies(), AT));
        ResourceSpec next = changed.resources().get(0);
        driver.update(changed, seen, next, List.of(new AttributeChange("identity", "server", "inference-server-for-production", false)));
        DeployedModel after = only().getDeployedModels(0);
        assertThat(only().getDeployedModelsList()).hasSize(1);
        assertThat(after.getServiceAccount()).isEqualTo(GcpKind.serviceAccountEmail(PROJECT, GcpKind.serviceAccountId(changed, "inference-server-for-production")))
            .matches("ve-inference-server-f-[0-9a-f]{8}@" + PROJECT + "\\.iam\\.gserviceaccount\\.com");
        assertThat(after.getModel()).as("same model, redeployed").isEqualTo(d.getModel());
        assertThat(fakes.faults().count("ModelService/UploadModel$")).isEqualTo(1);
        assertThat(listed(changed).attributes()).isEqualTo(next.attributes());
    }

    @Test
    void gpusBuiltIntoTheMachineTypeAreNamedToVertexButNotReportedAsAnAccelerator() {
        Environment env = env("europe-west4", endpoint("llm", Map.of("modelUri", "gs://ve-models/llm/", "machineType", "a2-highgpu-1g",
            "framework", "huggingface", "minReplicas", 1L, "maxReplicas", 2L)));
        ResourceSpec spec = env.resources().get(0);
        driver.create(env, spec, CreateRequest.first("t2"));
        DeployedModel d = only().getDeployedModels(0);
        assertThat(d.getDedicatedResources().getMachineSpec()).isEqualTo(MachineSpec.newBuilder().setMachineType("a2-highgpu-1g")
            .setAcceleratorType(AcceleratorType.NVIDIA_TESLA_A100).setAcceleratorCount(1).build());
        assertThat(modelOf(d).getContainerSpec().getImageUri()).isEqualTo("europe-docker.pkg.dev/deeplearning-platform-release/gcr.io/"
            + "huggingface-pytorch-inference-cu121.2-3.transformers.4-48.ubuntu2204.py311");
        assertThat(only().getName()).contains("/locations/europe-west4/");
        assertThat(listed(env).attributes()).isEqualTo(spec.attributes()).doesNotContainKey("accelerator");
    }

    @Test
    void anAcceleratorOnAnN1MachineIsReadBackAsTheSpecWritesIt() {
        Environment env = env("asia-southeast1", endpoint("det", Map.of("modelUri", "gs://ve-models/det/", "machineType", "n1-standard-8",
            "accelerator", Map.of("type", "nvidia-tesla-v100", "count", 2L), "framework", "tensorflow", "minReplicas", 2L, "maxReplicas", 4L)));
        ResourceSpec spec = env.resources().get(0);
        driver.create(env, spec, CreateRequest.first("t3"));
        DeployedModel d = only().getDeployedModels(0);
        assertThat(d.getDedicatedResources().getMachineSpec().getAcceleratorType()).isEqualTo(AcceleratorType.NVIDIA_TESLA_V100);
        assertThat(d.getDedicatedResources().getMachineSpec().getAcceleratorCount()).isEqualTo(2);
        assertThat(modelOf(d).getContainerSpec().getImageUri()).isEqualTo("asia-docker.pkg.dev/vertex-ai/prediction/tf2-gpu.2-15:latest");
        assertThat(listed(env).attributes()).isEqualTo(spec.attributes());
    }

    @Test
    void inventoryIsOneListEndpointsAndOneListModelsPerPageWhateverTheNumberOfEndpoints() throws Exception {
        Environment env = env("us-central1", endpoint("clf", Map.of("modelUri", "gs://ve-models/m/", "machineType", "n1-standard-4")));
        driver.create(env, env.resources().get(0), CreateRequest.first("t5"));
        // 100 more endpoints of this environment (nothing deployed in them), one of another environment, one unlabelled;
        // an endpoint exists as soon as CreateEndpoint is accepted, so its operation need not be awaited.
        try (var channel = new AutoCloseableChannel(fakes.grpcPort())) {
            for (int i = 0; i < 100; i++) {
                channel.endpoints.createEndpointCallable().call(com.google.cloud.aiplatform.v1.CreateEndpointRequest.newBuilder()
                    .setParent("projects/" + PROJECT + "/locations/us-central1").setEndpoint(Endpoint.newBuilder().setDisplayName("ve-e" + i)
                        .putAllLabels(GcpMarker.INSTANCE.marker("ve", new Address(ResourceType.INFERENCE_ENDPOINT, "e" + i)))).build());
            }
            channel.endpoints.createEndpointCallable().call(com.google.cloud.aiplatform.v1.CreateEndpointRequest.newBuilder()
                .setParent("projects/" + PROJECT + "/locations/us-central1").setEndpoint(Endpoint.newBuilder().setDisplayName("other-clf")
                    .putAllLabels(GcpMarker.INSTANCE.marker("other", new Address(ResourceType.INFERENCE_ENDPOINT, "clf")))).build());
            channel.endpoints.createEndpointCallable().call(com.google.cloud.aiplatform.v1.CreateEndpointRequest.newBuilder()
                .setParent("projects/" + PROJECT + "/locations/us-central1").setEndpoint(Endpoint.newBuilder().setDisplayName("ve-clf")).build());
        }
        fakes.faults().resetCounts();
        List<ObservedResource> seen = new java.util.ArrayList<>();
        Optional<String> token = Optional.empty();
        int pages = 0;
        do {
            Page p = driver.list(env, ResourceType.INFERENCE_ENDPOINT, token);
            seen.addAll(p.items());
            token = p.nextPageToken();
            pages++;
        } while (token.isPresent());
        assertThat(pages).isEqualTo(2);
        assertThat(seen).hasSize(101);
        assertThat(seen).filteredOn(r -> r.address().name().equals("clf")).singleElement()
            .satisfies(r -> assertThat(r.attributes()).isEqualTo(env.resources().get(0).attributes()));
        assertThat(seen).filteredOn(r -> r.address().name().equals("e7")).singleElement()
            .satisfies(r -> assertThat(r.attributes()).containsEntry("status", "no model deployed"));
        assertThat(fakes.faults().count("EndpointService/ListEndpoints")).isEqualTo(2);
        assertThat(fakes.faults().count("ModelService/ListModels")).isEqualTo(2);
        assertThat(fakes.faults().total()).isEqualTo(4);
    }

    /** A Vertex client of the fakes, as another person would use it. */
    private static final class AutoCloseableChannel implements AutoCloseable {
        final io.grpc.ManagedChannel channel;
        final com.google.cloud.aiplatform.v1.EndpointServiceClient endpoints;

        AutoCloseableChannel(int port) throws IOException {
            channel = io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            endpoints = com.google.cloud.aiplatform.v1.EndpointServiceClient.create(com.google.cloud.aiplatform.v1.EndpointServiceSettings.newBuilder()
                .setTransportChannelProvider(com.google.api.gax.rpc.FixedTransportChannelProvider.create(
                    com.google.api.gax.grpc.GrpcTransportChannel.create(channel)))
                .setCredentialsProvider(com.google.api.gax.core.NoCredentialsProvider.create()).build());
        }

        @Override
        public void close() {
            endpoints.close();
            channel.shutdownNow();
        }
    }

    @Test
    void aCreateRetriedAfterEveryStepFindsWhatTheFirstAttemptMade() {
        Environment env = env("us-central1", endpoint("clf", Map.of("modelUri", "gs://ve-models/m/", "machineType", "n1-standard-4")));
        ResourceSpec spec = env.resources().get(0);
        fakes.faults().dropResponse("EndpointService/CreateEndpoint$", 1);
        assertThatThrownBy(() -> driver.create(env, spec, CreateRequest.first("t4"))).isInstanceOf(DriverException.class)
            .satisfies(e -> assertThat(((DriverException) e).retryable()).isTrue());
        // The engine's retry: the endpoint the lost call made is found by its labels.
        CreateRequest retry = new CreateRequest("t4", true, Optional.empty(), false, () -> { }, id -> { });
        ObservedResource made = driver.create(env, spec, retry);
        assertThat(made.cloudId()).isEqualTo(only().getName());
        assertThat(fakes.faults().count("EndpointService/CreateEndpoint$")).isEqualTo(1);
        assertThat(only().getDeployedModelsList()).hasSize(1);
    }
}
