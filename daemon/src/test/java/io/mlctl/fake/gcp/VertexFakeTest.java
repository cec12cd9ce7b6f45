package io.mlctl.fake.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.GrpcTransportChannel;
import com.google.api.gax.longrunning.OperationTimedPollAlgorithm;
import com.google.api.gax.retrying.RetrySettings;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.FixedTransportChannelProvider;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.aiplatform.v1.AcceleratorType;
import com.google.cloud.aiplatform.v1.AutomaticResources;
import com.google.cloud.aiplatform.v1.CreateEndpointRequest;
import com.google.cloud.aiplatform.v1.DedicatedResources;
import com.google.cloud.aiplatform.v1.DeployModelRequest;
import com.google.cloud.aiplatform.v1.DeployedModel;
import com.google.cloud.aiplatform.v1.Endpoint;
import com.google.cloud.aiplatform.v1.EndpointServiceClient;
import com.google.cloud.aiplatform.v1.EndpointServiceSettings;
import com.google.cloud.aiplatform.v1.ListEndpointsRequest;
import com.google.cloud.aiplatform.v1.ListModelsRequest;
import com.google.cloud.aiplatform.v1.MachineSpec;
import com.google.cloud.aiplatform.v1.Model;
import com.google.cloud.aiplatform.v1.ModelContainerSpec;
import com.google.cloud.aiplatform.v1.ModelServiceClient;
import com.google.cloud.aiplatform.v1.ModelServiceSettings;
import com.google.cloud.aiplatform.v1.MutateDeployedModelRequest;
import com.google.cloud.aiplatform.v1.UndeployModelRequest;
import com.google.cloud.aiplatform.v1.UpdateEndpointRequest;
import com.google.cloud.aiplatform.v1.UploadModelRequest;
import com.google.cloud.aiplatform.v1.UploadModelResponse;
import com.google.longrunning.Operation;
import com.google.protobuf.FieldMask;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Vertex AI fake refuses what Vertex refuses, and runs operations as Vertex does, through the real client. */
class VertexFakeTest {
    private static final String PROJECT = "vertex-fake-test";
    private static final String PARENT = "projects/" + PROJECT + "/locations/us-central1";
    private GcpFakes fakes;
    private ManagedChannel channel;
    private EndpointServiceClient endpoints;
    private ModelServiceClient models;

    @BeforeEach
    void setUp() throws IOException {
        fakes = GcpFakes.start();
        fakes.storage().insertAs(PROJECT, "{\"name\":\"bkt\",\"location\":\"US-CENTRAL1\"}"); // models are read from it
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", fakes.grpcPort()).usePlaintext().build();
        FixedTransportChannelProvider transport = FixedTransportChannelProvider.create(GrpcTransportChannel.create(channel));
        EndpointServiceSettings.Builder es = EndpointServiceSettings.newBuilder().setTransportChannelProvider(transport)
            .setCredentialsProvider(NoCredentialsProvider.create());
        // The client's own polling, made quick: its defaults wait 5 s before the first poll.
        RetrySettings quick = RetrySettings.newBuilder().setInitialRetryDelayDuration(Duration.ofMillis(20)).setRetryDelayMultiplier(1.5)
            .setMaxRetryDelayDuration(Duration.ofMillis(100)).setTotalTimeoutDuration(Duration.ofSeconds(20))
            .setInitialRpcTimeoutDuration(Duration.ZERO).setRpcTimeoutMultiplier(1).setMaxRpcTimeoutDuration(Duration.ZERO).build();
        es.getStubSettingsBuilder().deployModelOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(quick));
        es.getStubSettingsBuilder().createEndpointOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(quick));
        es.getStubSettingsBuilder().undeployModelOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(quick));
        es.getStubSettingsBuilder().mutateDeployedModelOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(quick));
        es.getStubSettingsBuilder().deleteEndpointOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(quick));
        endpoints = EndpointServiceClient.create(es.build());
        ModelServiceSettings.Builder ms = ModelServiceSettings.newBuilder().setTransportChannelProvider(transport)
            .setCredentialsProvider(NoCredentialsProvider.create());
        ms.getStubSettingsBuilder().uploadModelOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(quick));
        ms.getStubSettingsBuilder().deleteModelOperationSettings().setPollingAlgorithm(OperationTimedPollAlgorithm.create(quick));
        models = ModelServiceClient.create(ms.build());
    }

    @AfterEach
    void tearDown() {
        endpoints.close();
        models.close();
        channel.shutdownNow();
        fakes.close();
    }

    private static StatusCode.Code code(Throwable e) {
        Throwable t = e instanceof ExecutionException ? e.getCause() : e;
        return ((ApiException) t).getStatusCode().getCode();
    }

    private Endpoint endpoint(String display, Map<String, String> labels) throws Exception {
        return endpoints.createEndpointAsync(CreateEndpointRequest.newBuilder().setParent(PARENT)
            .setEndpoint(Endpoint.newBuilder().setDisplayName(display).putAllLabels(labels)).build()).get();
    }

    private String model(String uri) throws Exception {
        UploadModelResponse r = models.uploadModelAsync(UploadModelRequest.newBuilder().setParent(PARENT).setModel(Model.newBuilder()
            .setDisplayName("m").setArtifactUri(uri).setContainerSpec(ModelContainerSpec.newBuilder()
                .setImageUri("us-docker.pkg.dev/vertex-ai/prediction/pytorch-cpu.2-4:latest"))).build()).get();
        return r.getModel();
    }

    private static DeployedModel.Builder deployed(String model, String machine, AcceleratorType acc, int count, int min, int max) {
        return DeployedModel.newBuilder().setModel(model).setDedicatedResources(DedicatedResources.newBuilder()
            .setMachineSpec(MachineSpec.newBuilder().setMachineType(machine).setAcceleratorType(acc).setAcceleratorCount(count))
            .setMinReplicaCount(min).setMaxReplicaCount(max));
    }

    private DeployedModel deploy(Endpoint e, DeployedModel.Builder d, Map<String, Integer> split) throws Exception {
        return endpoints.deployModelAsync(DeployModelRequest.newBuilder().setEndpoint(e.getName()).setDeployedModel(d)
            .putAllTrafficSplit(split).build()).get().getDeployedModel();
    }

    @Test
    void anOperationIsPendingInTheAnswerAndTheClientsOperationFutureCompletesByPollingGetOperation() throws Exception {
        fakes.operationTime(Duration.ofMillis(1500));
        Operation first = endpoints.createEndpointCallable().call(CreateEndpointRequest.newBuilder().setParent(PARENT)
            .setEndpoint(Endpoint.newBuilder().setDisplayName("e")).build());
        assertThat(first.getDone()).isFalse();
        assertThat(first.getName()).matches("projects/[0-9]+/locations/us-central1/endpoints/[0-9]+/operations/[0-9]+");
        assertThat(endpoints.getOperationsClient().getOperation(first.getName()).getDone()).isFalse();

        long polls = fakes.faults().count("Operations/GetOperation");
        Endpoint e = endpoint("e2", Map.of());
        assertThat(fakes.faults().count("Operations/GetOperation")).as("the future polled").isGreaterThan(polls);
        // Names carry the project number, as Vertex's do, whatever the request named the project by.
        assertThat(e.getName()).startsWith("projects/" + fakes.vertex().projectNumber(PROJECT) + "/locations/us-central1/endpoints/");
        assertThat(endpoints.getEndpoint(e.getName().replace(fakes.vertex().projectNumber(PROJECT), PROJECT)).getDisplayName()).isEqualTo("e2");
        Operation done = endpoints.getOperationsClient().getOperation(first.getName());
        assertThat(done.getDone()).isTrue();
        assertThat(done.getResponse().unpack(Endpoint.class).getDisplayName()).isEqualTo("e");
    }

    @Test
    void aDeploymentIsVisibleOnlyOnceItsOperationIsDoneAndAFailedOneCarriesItsErrorInsideTheOperation() throws Exception {
        Endpoint e = endpoint("e", Map.of());
        String ok = model("gs://bkt/ok/");
        String broken = model("gs://bkt/broken/");
        fakes.vertex().failDeployments("/broken/", "Model server never became ready. Please validate that your model file or container configuration are valid.");
        Operation op = endpoints.deployModelCallable().call(DeployModelRequest.newBuilder().setEndpoint(e.getName())
            .setDeployedModel(deployed(ok, "n1-standard-4", AcceleratorType.ACCELERATOR_TYPE_UNSPECIFIED, 0, 1, 2)).putTrafficSplit("0", 100).build());
        assertThat(op.getDone()).isFalse();
        fakes.operationTime(Duration.ofHours(1));
        Operation slow = endpoints.deployModelCallable().call(DeployModelRequest.newBuilder().setEndpoint(e.getName())
            .setDeployedModel(deployed(ok, "n1-standard-2", AcceleratorType.ACCELERATOR_TYPE_UNSPECIFIED, 0, 1, 1)).build());
        assertThat(endpoints.getEndpoint(e.getName()).getDeployedModelsList()).singleElement()
            .satisfies(d -> assertThat(d.getDedicatedResources().getMachineSpec().getMachineType()).isEqualTo("n1-standard-4"));
        assertThat(endpoints.getOperationsClient().getOperation(slow.getName()).getDone()).isFalse();
        fakes.operationTime(Duration.ZERO);

        Operation failing = endpoints.deployModelCallable().call(DeployModelRequest.newBuilder().setEndpoint(e.getName())
            .setDeployedModel(deployed(broken, "n1-standard-4", AcceleratorType.ACCELERATOR_TYPE_UNSPECIFIED, 0, 1, 1)).build());
        Operation result = endpoints.getOperationsClient().getOperation(failing.getName());
        assertThat(result.getDone()).isTrue();
        assertThat(result.getError().getCode()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION.value());
        assertThat(result.getError().getMessage()).startsWith("Model server never became ready");
        assertThat(endpoints.getEndpoint(e.getName()).getDeployedModelsList()).noneMatch(d -> d.getModel().equals(broken));
    }

    @Test
    void listFiltersAreTheLabelSubsetTheDriverUsesAndAnythingElseIsRefusedNotIgnored() throws Exception {
        endpoint("a", Map.of("mlctl-environment", "prod", "mlctl-name", "a"));
        endpoint("b", Map.of("mlctl-environment", "prod", "mlctl-name", "b"));
        endpoint("c", Map.of("mlctl-environment", "dev", "mlctl-name", "a"));
        ListEndpointsRequest.Builder r = ListEndpointsRequest.newBuilder().setParent(PARENT);
        assertThat(endpoints.listEndpoints(r.setFilter("labels.\"mlctl-environment\"=\"prod\" AND labels.\"mlctl-name\"=\"a\"").build())
            .iterateAll()).extracting(Endpoint::getDisplayName).containsExactly("a");
        assertThat(endpoints.listEndpoints(r.setFilter("labels.mlctl-environment=prod").build()).iterateAll())
            .extracting(Endpoint::getDisplayName).containsExactlyInAnyOrder("a", "b");
        assertThat(endpoints.listEndpoints(r.setFilter("display_name=\"c\"").build()).iterateAll()).extracting(Endpoint::getDisplayName).containsExactly("c");
        assertThat(endpoints.listEndpoints(r.setFilter("labels:mlctl-name AND labels.mlctl-environment!=prod").build()).iterateAll())
            .extracting(Endpoint::getDisplayName).containsExactly("c");
        for (String bad : new String[] {"labels.a=b OR labels.c=d", "(labels.a=b)", "NOT labels.a=b", "state=ACTIVE", "labels.a>b", "model=1"}) {
            assertThatThrownBy(() -> endpoints.listEndpoints(r.setFilter(bad).build()).iterateAll().forEach(x -> { }))
                .as(bad).satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        }
        // Pages: a token belongs to its filter.
        var page = endpoints.listEndpointsCallable().call(ListEndpointsRequest.newBuilder().setParent(PARENT).setPageSize(2).build());
        assertThat(page.getEndpointsCount()).isEqualTo(2);
        assertThat(page.getNextPageToken()).isNotEmpty();
        assertThatThrownBy(() -> endpoints.listEndpointsCallable().call(ListEndpointsRequest.newBuilder().setParent(PARENT)
            .setFilter("labels.a=b").setPageToken(page.getNextPageToken()).build()))
            .satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
    }

    @Test
    void parentsLocationsAndLabelsAreCheckedAsVertexChecksThem() {
        Endpoint ok = Endpoint.newBuilder().setDisplayName("e").build();
        for (String parent : new String[] {"", "projects/p", "projects/vertex-fake-test/locations/mars-east1", "projects/Bad_Project/locations/us-central1"}) {
            assertThatThrownBy(() -> endpoints.createEndpointAsync(CreateEndpointRequest.newBuilder().setParent(parent).setEndpoint(ok).build()).get())
                .as(parent).satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        }
        assertThatThrownBy(() -> endpoint("", Map.of())).satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        for (Map<String, String> labels : java.util.List.of(Map.of("Team", "x"), Map.of("team", "Vision"), Map.of("a.b", "x"), Map.of("1a", "x"))) {
            assertThatThrownBy(() -> endpoint("e", labels)).as(labels.toString()).satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        }
        assertThat(fakes.vertex().endpoints()).isEmpty();
    }

    @Test
    void aModelNeedsADisplayNameAServingImageAndItsArtifactsInCloudStorage() {
        ModelContainerSpec image = ModelContainerSpec.newBuilder().setImageUri("us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-6:latest").build();
        for (Model bad : new Model[] {
            Model.newBuilder().setDisplayName("m").setArtifactUri("gs://bkt/m/").build(),
            Model.newBuilder().setDisplayName("m").setArtifactUri("s3://b/m/").setContainerSpec(image).build(),
            Model.newBuilder().setArtifactUri("gs://bkt/m/").setContainerSpec(image).build(),
            Model.newBuilder().setDisplayName("m").setArtifactUri("gs://bkt/m/").setContainerSpec(image).putLabels("Team", "x").build()}) {
            assertThatThrownBy(() -> models.uploadModelAsync(UploadModelRequest.newBuilder().setParent(PARENT).setModel(bad).build()).get())
                .as(bad.toString()).satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        }
        assertThat(fakes.vertex().models()).isEmpty();
    }

    @Test
    void dedicatedResourcesNeedAServingMachineTheAcceleratorItTakesAndAtLeastOneReplica() throws Exception {
        Endpoint e = endpoint("e", Map.of());
        String m = model("gs://bkt/m/");
        AcceleratorType none = AcceleratorType.ACCELERATOR_TYPE_UNSPECIFIED;
        DeployedModel.Builder[] bad = {
            DeployedModel.newBuilder().setModel(m).setAutomaticResources(AutomaticResources.newBuilder().setMinReplicaCount(1)),
            DeployedModel.newBuilder().setModel(m),
            deployed(m, "", none, 0, 1, 1),
            deployed(m, "n1-standard-5", none, 0, 1, 1),
            deployed(m, "m1-ultramem-40", none, 0, 1, 1),
            deployed(m, "e2-standard-4", AcceleratorType.NVIDIA_TESLA_T4, 1, 1, 1),
            deployed(m, "n1-standard-4", AcceleratorType.NVIDIA_L4, 1, 1, 1),
            deployed(m, "n1-standard-4", AcceleratorType.NVIDIA_TESLA_T4, 3, 1, 1),
            deployed(m, "n1-standard-4", none, 1, 1, 1),
            deployed(m, "a2-highgpu-1g", none, 0, 1, 1),
            deployed(m, "a2-highgpu-2g", AcceleratorType.NVIDIA_TESLA_A100, 1, 1, 1),
            deployed(m, "g2-standard-8", AcceleratorType.NVIDIA_TESLA_T4, 1, 1, 1),
            deployed(m, "n1-standard-4", none, 0, 0, 1),
            deployed(m, "n1-standard-4", none, 0, 3, 2),
            deployed(m, "n1-standard-4", none, 0, 1, 1).setId("not-a-number"),
        };
        for (DeployedModel.Builder d : bad) {
            assertThatThrownBy(() -> deploy(e, d, Map.of())).as(d.toString()).satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        }
        assertThatThrownBy(() -> deploy(e, deployed(m, "n1-standard-4", none, 0, 1, 1), Map.of("0", 60)))
            .satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        assertThatThrownBy(() -> deploy(e, deployed(m.replace("/models/", "/models/9"), "n1-standard-4", none, 0, 1, 1), Map.of()))
            .satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.NOT_FOUND));
        assertThat(endpoints.getEndpoint(e.getName()).getDeployedModelsList()).isEmpty();

        // What Vertex takes: GPUs on N1, the built-in GPUs of A2 and G2 named with their count, max defaulting to min.
        deploy(e, deployed(m, "n1-standard-8", AcceleratorType.NVIDIA_TESLA_T4, 2, 1, 3), Map.of("0", 100));
        deploy(e, deployed(m, "a2-highgpu-2g", AcceleratorType.NVIDIA_TESLA_A100, 2, 1, 1), Map.of());
        DeployedModel g2 = deploy(e, deployed(m, "g2-standard-24", AcceleratorType.NVIDIA_L4, 2, 2, 0), Map.of());
        assertThat(g2.getDedicatedResources().getMaxReplicaCount()).isEqualTo(2);
        assertThat(endpoints.getEndpoint(e.getName()).getDeployedModelsList()).hasSize(3);
    }

    @Test
    void aDeployedModelCannotLoseItsModelNorItsEndpointAndOnlyItsReplicasMutate() throws Exception {
        Endpoint e = endpoint("e", Map.of());
        String m = model("gs://bkt/m/");
        DeployedModel a = deploy(e, deployed(m, "n1-standard-4", AcceleratorType.ACCELERATOR_TYPE_UNSPECIFIED, 0, 1, 2), Map.of("0", 100));
        DeployedModel b = deploy(e, deployed(m, "n1-standard-2", AcceleratorType.ACCELERATOR_TYPE_UNSPECIFIED, 0, 1, 1), Map.of());

        assertThatThrownBy(() -> models.deleteModelAsync(m).get()).satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.FAILED_PRECONDITION));
        assertThatThrownBy(() -> endpoints.deleteEndpointAsync(e.getName()).get()).satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.FAILED_PRECONDITION));
        assertThat(models.getModel(m).getDeployedModelsList()).hasSize(2);

        // Only replicas mutate; machine, accelerator and account are fixed at deployment.
        assertThatThrownBy(() -> endpoints.mutateDeployedModelAsync(MutateDeployedModelRequest.newBuilder().setEndpoint(e.getName())
            .setDeployedModel(DeployedModel.newBuilder().setId(a.getId()).setDedicatedResources(DedicatedResources.newBuilder()
                .setMachineSpec(MachineSpec.newBuilder().setMachineType("n1-standard-8"))))
            .setUpdateMask(FieldMask.newBuilder().addPaths("dedicated_resources.machine_spec")).build()).get())
            .satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        assertThatThrownBy(() -> endpoints.mutateDeployedModelAsync(MutateDeployedModelRequest.newBuilder().setEndpoint(e.getName())
            .setDeployedModel(DeployedModel.newBuilder().setId(a.getId()).setDedicatedResources(DedicatedResources.newBuilder().setMinReplicaCount(3)))
            .setUpdateMask(FieldMask.newBuilder().addPaths("dedicated_resources.min_replica_count")).build()).get())
            .as("min above max").satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        endpoints.mutateDeployedModelAsync(MutateDeployedModelRequest.newBuilder().setEndpoint(e.getName())
            .setDeployedModel(DeployedModel.newBuilder().setId(a.getId()).setDedicatedResources(DedicatedResources.newBuilder()
                .setMinReplicaCount(2).setMaxReplicaCount(4)))
            .setUpdateMask(FieldMask.newBuilder().addPaths("dedicated_resources.min_replica_count").addPaths("dedicated_resources.max_replica_count"))
            .build()).get();
        DeployedModel mutated = endpoints.getEndpoint(e.getName()).getDeployedModels(0);
        assertThat(mutated.getDedicatedResources().getMinReplicaCount()).isEqualTo(2);
        assertThat(mutated.getDedicatedResources().getMachineSpec().getMachineType()).isEqualTo("n1-standard-4");

        // The model with all the traffic goes last, or with its traffic given to another.
        assertThatThrownBy(() -> endpoints.undeployModelAsync(UndeployModelRequest.newBuilder().setEndpoint(e.getName())
            .setDeployedModelId(a.getId()).build()).get()).satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.FAILED_PRECONDITION));
        endpoints.undeployModelAsync(UndeployModelRequest.newBuilder().setEndpoint(e.getName()).setDeployedModelId(a.getId())
            .putTrafficSplit(b.getId(), 100).build()).get();
        assertThat(endpoints.getEndpoint(e.getName()).getTrafficSplitMap()).containsExactly(Map.entry(b.getId(), 100));
        endpoints.undeployModelAsync(UndeployModelRequest.newBuilder().setEndpoint(e.getName()).setDeployedModelId(b.getId()).build()).get();
        assertThat(endpoints.getEndpoint(e.getName()).getTrafficSplitMap()).isEmpty();
        models.deleteModelAsync(m).get();
        endpoints.deleteEndpointAsync(e.getName()).get();
        assertThat(fakes.vertex().endpoints()).isEmpty();
        assertThat(fakes.vertex().models()).isEmpty();
    }

    @Test
    void updateEndpointNeedsAMaskOfUpdatableFieldsAndRefusesAStaleEtag() throws Exception {
        Endpoint e = endpoint("e", Map.of("team", "vision"));
        assertThatThrownBy(() -> endpoints.updateEndpoint(UpdateEndpointRequest.newBuilder().setEndpoint(e.toBuilder().putLabels("x", "y")).build()))
            .satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        assertThatThrownBy(() -> endpoints.updateEndpoint(e.toBuilder().putLabels("x", "y").build(), FieldMask.newBuilder().addPaths("deployed_models").build()))
            .satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        assertThatThrownBy(() -> endpoints.updateEndpoint(e.toBuilder().putLabels("X", "y").build(), FieldMask.newBuilder().addPaths("labels").build()))
            .satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        Endpoint updated = endpoints.updateEndpoint(e.toBuilder().putLabels("x", "y").build(), FieldMask.newBuilder().addPaths("labels").build());
        assertThat(updated.getLabelsMap()).containsEntry("x", "y").containsEntry("team", "vision");
        assertThat(updated.getEtag()).isNotEqualTo(e.getEtag());
        assertThatThrownBy(() -> endpoints.updateEndpoint(e.toBuilder().clearLabels().build(), FieldMask.newBuilder().addPaths("labels").build()))
            .as("stale etag").satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.ABORTED));
        assertThat(endpoints.getEndpoint(e.getName()).getLabelsMap()).containsEntry("team", "vision");
    }

    @Test
    void restReadsShowEndpointsAndModelsAsVertexsRestApiDoes() throws Exception {
        Endpoint e = endpoint("vision-gcp-classifier", Map.of("team", "vision"));
        String m = model("gs://bkt/classifier/");
        deploy(e, deployed(m, "n1-standard-4", AcceleratorType.NVIDIA_TESLA_T4, 1, 1, 10), Map.of("0", 100));
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + fakes.httpPort() + "/v1/" + PARENT;
        HttpResponse<String> list = http.send(HttpRequest.newBuilder(URI.create(base + "/endpoints")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.body()).contains("\"displayName\":\"vision-gcp-classifier\"", "\"machineType\":\"n1-standard-4\"",
            "\"acceleratorType\":\"NVIDIA_TESLA_T4\"", "\"maxReplicaCount\":10", "\"team\":\"vision\"");
        HttpResponse<String> one = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fakes.httpPort() + "/v1/" + e.getName())).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(one.body()).contains("\"name\":\"" + e.getName() + "\"");
        HttpResponse<String> model = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fakes.httpPort() + "/v1/" + m)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(model.body()).contains("\"artifactUri\":\"gs://bkt/classifier/\"", "pytorch-cpu.2-4");
        HttpResponse<String> missing = http.send(HttpRequest.newBuilder(URI.create(base + "/endpoints/404")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(models.listModels(ListModelsRequest.newBuilder().setParent(PARENT).setFilter("display_name=\"m\"").build()).iterateAll()).hasSize(1);
    }

    @Test
    void aModelsLabelsDisplayNameAndDescriptionUpdateWithItsEtagAndNothingElseDoes() throws Exception {
        Model m = models.getModel(model("gs://bkt/m/"));
        Model updated = models.updateModel(m.toBuilder().putLabels("owner", "serving").build(), FieldMask.newBuilder().addPaths("labels").build());
        assertThat(updated.getLabelsMap()).containsEntry("owner", "serving");
        assertThat(updated.getEtag()).isNotEqualTo(m.getEtag());
        assertThatThrownBy(() -> models.updateModel(m.toBuilder().clearLabels().build(), FieldMask.newBuilder().addPaths("labels").build()))
            .as("stale etag").satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.ABORTED));
        assertThatThrownBy(() -> models.updateModel(updated.toBuilder().setArtifactUri("gs://bkt/other/").build(),
            FieldMask.newBuilder().addPaths("artifact_uri").build())).satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        assertThatThrownBy(() -> models.updateModel(updated.toBuilder().putLabels("Bad Key", "x").build(), FieldMask.newBuilder().addPaths("labels").build()))
            .satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        assertThatThrownBy(() -> models.updateModel(updated, FieldMask.getDefaultInstance()))
            .satisfies(t -> assertThat(code(t)).isEqualTo(StatusCode.Code.INVALID_ARGUMENT));
        assertThat(models.getModel(m.getName()).getArtifactUri()).isEqualTo("gs://bkt/m/");
        assertThat(models.getModel(m.getName()).getLabelsMap()).containsOnly(Map.entry("owner", "serving"));
    }
}
