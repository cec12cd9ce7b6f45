package io.mlctl.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.GrpcTransportChannel;
import com.google.api.gax.rpc.FixedTransportChannelProvider;
import com.google.cloud.aiplatform.v1.AcceleratorType;
import com.google.cloud.aiplatform.v1.CreateEndpointRequest;
import com.google.cloud.aiplatform.v1.DedicatedResources;
import com.google.cloud.aiplatform.v1.DeployModelRequest;
import com.google.cloud.aiplatform.v1.DeployedModel;
import com.google.cloud.aiplatform.v1.Endpoint;
import com.google.cloud.aiplatform.v1.EndpointServiceClient;
import com.google.cloud.aiplatform.v1.EndpointServiceSettings;
import com.google.cloud.aiplatform.v1.MachineSpec;
import com.google.cloud.aiplatform.v1.Model;
import com.google.cloud.aiplatform.v1.ModelContainerSpec;
import com.google.cloud.aiplatform.v1.ModelServiceClient;
import com.google.cloud.aiplatform.v1.ModelServiceSettings;
import com.google.cloud.aiplatform.v1.MutateDeployedModelRequest;
import com.google.cloud.aiplatform.v1.UploadModelRequest;
import com.google.cloud.aiplatform.v1.UploadModelResponse;
import com.google.longrunning.Operation;
import com.google.protobuf.FieldMask;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.mlctl.fake.gcp.Faults;
import io.mlctl.fake.gcp.GcpFakes;
import io.mlctl.fake.gcp.GoogleError;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/** inference_endpoint on Vertex AI through the real CLI and the real Vertex client, against the GCP fakes. */
class GcpEndpointTest {
    private static final String PROJECT = "mlctl-endpoint-test";
    private static final String PARENT = "projects/" + PROJECT + "/locations/us-central1";
    private static final String SPEC = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata:
          name: ve
          labels: {team: vision}
        spec:
          provider: gcp
          region: us-central1
          resources:
            - type: inference_endpoint
              name: clf
              modelUri: gs://ve-models/classifier/v1/
              machineType: n1-standard-4
              accelerator: {type: nvidia-tesla-t4}
              minReplicas: 1
              maxReplicas: 3
        """;

    @TempDir
    Path dir;
    GcpFakes fakes;
    ManagedChannel channel;
    EndpointServiceClient endpoints;
    ModelServiceClient models;

    @BeforeEach
    void setUp() throws IOException {
        fakes = GcpFakes.start();
        fakes.storage().insertAs(PROJECT, "{\"name\":\"ve-models\",\"location\":\"US-CENTRAL1\"}"); // models are read from it
        fakes.storage().insertAs(PROJECT, "{\"name\":\"other-team-models\",\"location\":\"US-CENTRAL1\"}"); // models are read from it
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", fakes.grpcPort()).usePlaintext().build();
        FixedTransportChannelProvider t = FixedTransportChannelProvider.create(GrpcTransportChannel.create(channel));
        endpoints = EndpointServiceClient.create(EndpointServiceSettings.newBuilder().setTransportChannelProvider(t)
            .setCredentialsProvider(NoCredentialsProvider.create()).build());
        models = ModelServiceClient.create(ModelServiceSettings.newBuilder().setTransportChannelProvider(t)
            .setCredentialsProvider(NoCredentialsProvider.create()).build());
    }

    @AfterEach
    void tearDown() {
        endpoints.close();
        models.close();
        channel.shutdownNow();
        fakes.close();
    }

    private Cli cli() {
        Cli c = new Cli(dir).env("GOOGLE_CLOUD_PROJECT", PROJECT);
        fakes.environment().forEach(c::env);
        return c;
    }

    private String spec(String text) {
        return Fixtures.write(dir, "ve.yaml", text).toString();
    }

    private static Cli.Result ok(Cli.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    private List<Endpoint> all() {
        return fakes.vertex().endpoints();
    }

    private Endpoint only() {
        assertThat(all()).hasSize(1);
        return all().get(0);
    }

    private Model modelOf(DeployedModel d) {
        return models.getModel(d.getModel());
    }

    /** Paths the plan would change, as {@code address:path}. */
    private List<String> planned(String spec) {
        Cli.Result plan = cli().run("plan", "--format", "json", spec);
        assertThat(plan.exitCode()).as(plan.toString()).isZero();
        List<String> paths = new ArrayList<>();
        JsonMapper.builder().build().readTree(plan.out()).get("resourceChanges").forEach(c -> {
            paths.add(c.get("address").asString() + ":" + c.get("action").asString());
            c.get("changes").forEach(a -> paths.add(c.get("address").asString() + ":" + a.get("path").asString()));
        });
        return paths;
    }

    private void assertClean(String spec) {
        Cli.Result plan = cli().run("plan", "--detailed-exitcode", spec);
        assertThat(plan.exitCode()).as(plan.toString()).isZero();
    }

    @Test
    void appliedFromNothingTheEndpointServesTheModelOnTheDeclaredResourcesAndASecondPlanIsClean() {
        String spec = spec(SPEC);
        ok(cli().run("apply", "--auto-approve", spec));
        Endpoint e = only();
        assertThat(e.getDisplayName()).isEqualTo("ve-clf");
        assertThat(e.getLabelsMap()).containsEntry("managed-by", "mlctl").containsEntry("mlctl-environment", "ve")
            .containsEntry("mlctl-type", "inference_endpoint").containsEntry("mlctl-name", "clf").containsEntry("team", "vision")
            .containsEntry("mlctl-labels", "team");
        DeployedModel d = e.getDeployedModelsList().get(0);
        assertThat(e.getDeployedModelsList()).hasSize(1);
        assertThat(e.getTrafficSplitMap()).containsExactly(Map.entry(d.getId(), 100));
        assertThat(d.getDedicatedResources().getMachineSpec()).isEqualTo(MachineSpec.newBuilder().setMachineType("n1-standard-4")
            .setAcceleratorType(AcceleratorType.NVIDIA_TESLA_T4).setAcceleratorCount(1).build());
        assertThat(d.getDedicatedResources().getMinReplicaCount()).isEqualTo(1);
        assertThat(d.getDedicatedResources().getMaxReplicaCount()).isEqualTo(3);
        assertThat(d.getServiceAccount()).as("no identity: Vertex's default").isEmpty();
        Model m = modelOf(d);
        assertThat(m.getArtifactUri()).isEqualTo("gs://ve-models/classifier/v1/");
        // A T4 makes it the GPU build of the framework's (default: PyTorch) prebuilt prediction image.
        assertThat(m.getContainerSpec().getImageUri()).isEqualTo("us-docker.pkg.dev/vertex-ai/prediction/pytorch-gpu.2-4:latest");
        assertThat(m.getLabelsMap()).containsEntry("mlctl-environment", "ve").containsEntry("mlctl-name", "clf")
            .containsEntry("mlctl-framework", "pytorch").containsKey("mlctl-revision");
        assertThat(fakes.vertex().models()).hasSize(1);

        // A no-change inventory: one ListEndpoints and one ListModels, nothing per resource.
        fakes.faults().resetCounts();
        assertClean(spec);
        assertThat(fakes.faults().count("grpc google\\.cloud\\.aiplatform")).isEqualTo(2);
        assertThat(fakes.faults().count("EndpointService/ListEndpoints")).isEqualTo(1);
        assertThat(fakes.faults().count("ModelService/ListModels")).isEqualTo(1);
    }

    @Test
    void replicasChangeInPlaceOnTheSameDeployedModel() {
        ok(cli().run("apply", "--auto-approve", spec(SPEC)));
        Endpoint before = only();
        String changed = spec(SPEC.replace("minReplicas: 1", "minReplicas: 2").replace("maxReplicas: 3", "maxReplicas: 5"));
        assertThat(planned(changed)).contains("inference_endpoint.clf:update", "inference_endpoint.clf:minReplicas", "inference_endpoint.clf:maxReplicas");
        ok(cli().run("apply", "--auto-approve", changed));
        Endpoint after = only();
        assertThat(after.getName()).isEqualTo(before.getName());
        assertThat(after.getDeployedModelsList()).singleElement().satisfies(d -> {
            assertThat(d.getId()).isEqualTo(before.getDeployedModels(0).getId());
            assertThat(d.getDedicatedResources().getMinReplicaCount()).isEqualTo(2);
            assertThat(d.getDedicatedResources().getMaxReplicaCount()).isEqualTo(5);
        });
        assertThat(fakes.faults().count("EndpointService/DeployModel")).isEqualTo(1);
        assertThat(fakes.faults().count("EndpointService/MutateDeployedModel")).isEqualTo(1);
        assertClean(changed);
    }

    @Test
    void aNewModelUriIsRolledOutInsideTheSameEndpointAndTheOldRevisionUndeployedAndDeleted() {
        ok(cli().run("apply", "--auto-approve", spec(SPEC)));
        Endpoint before = only();
        String oldModel = before.getDeployedModels(0).getModel();
        String changed = spec(SPEC.replace("classifier/v1/", "classifier/v2/"));
        assertThat(planned(changed)).contains("inference_endpoint.clf:update", "inference_endpoint.clf:modelUri")
            .doesNotContain("inference_endpoint.clf:replace");
        ok(cli().run("apply", "--auto-approve", changed));
        Endpoint after = only();
        assertThat(after.getName()).as("the endpoint (and its URL) stays").isEqualTo(before.getName());
        DeployedModel d = after.getDeployedModelsList().get(0);
        assertThat(after.getDeployedModelsList()).hasSize(1);
        assertThat(d.getModel()).isNotEqualTo(oldModel);
        assertThat(modelOf(d).getArtifactUri()).isEqualTo("gs://ve-models/classifier/v2/");
        assertThat(after.getTrafficSplitMap()).containsExactly(Map.entry(d.getId(), 100));
        assertThat(fakes.vertex().models()).extracting(Model::getName).containsExactly(d.getModel());
        assertClean(changed);
    }

    @Test
    void anImageMachineOrAcceleratorChangeRedeploysAndTheFrameworkDefaultFollowsTheMachine() {
        ok(cli().run("apply", "--auto-approve", spec(SPEC)));
        // No GPU any more: the CPU build of the default image, so a new model as well.
        String cpu = spec(SPEC.replace("      accelerator: {type: nvidia-tesla-t4}\n", "").replace("n1-standard-4", "n1-standard-8"));
        assertThat(planned(cpu)).contains("inference_endpoint.clf:machineType", "inference_endpoint.clf:accelerator");
        ok(cli().run("apply", "--auto-approve", cpu));
        DeployedModel d = only().getDeployedModels(0);
        assertThat(d.getDedicatedResources().getMachineSpec()).isEqualTo(MachineSpec.newBuilder().setMachineType("n1-standard-8").build());
        assertThat(modelOf(d).getContainerSpec().getImageUri()).isEqualTo("us-docker.pkg.dev/vertex-ai/prediction/pytorch-cpu.2-4:latest");
        assertClean(cpu);

        String image = spec(SPEC.replace("      accelerator: {type: nvidia-tesla-t4}\n", "").replace("n1-standard-4", "n1-standard-8")
            .replace("      minReplicas: 1\n", "      image: europe-docker.pkg.dev/acme/serving/clf:7\n      minReplicas: 1\n"));
        ok(cli().run("apply", "--auto-approve", image));
        DeployedModel withImage = only().getDeployedModels(0);
        assertThat(only().getDeployedModelsList()).hasSize(1);
        assertThat(modelOf(withImage).getContainerSpec().getImageUri()).isEqualTo("europe-docker.pkg.dev/acme/serving/clf:7");
        assertThat(modelOf(withImage).getLabelsMap()).doesNotContainKey("mlctl-framework");
        assertThat(fakes.vertex().models()).hasSize(1);
        assertClean(image);

        String tf = spec(SPEC.replace("      minReplicas: 1\n", "      framework: tensorflow\n      minReplicas: 1\n"));
        ok(cli().run("apply", "--auto-approve", tf));
        assertThat(modelOf(only().getDeployedModels(0)).getContainerSpec().getImageUri()).isEqualTo("us-docker.pkg.dev/vertex-ai/prediction/tf2-gpu.2-15:latest");
        assertClean(tf);
    }

    @Test
    void labelsChangeByUpdateEndpointAndSomeoneElsesLabelsStay() {
        ok(cli().run("apply", "--auto-approve", spec(SPEC)));
        Endpoint e = only();
        endpoints.updateEndpoint(e.toBuilder().putLabels("cost-center", "42").build(), FieldMask.newBuilder().addPaths("labels").build());
        String changed = spec(SPEC.replace("team: vision", "team: ml, tier: gold"));
        assertThat(planned(changed)).contains("inference_endpoint.clf:update").anyMatch(p -> p.startsWith("inference_endpoint.clf:tags"));
        ok(cli().run("apply", "--auto-approve", changed));
        assertThat(only().getLabelsMap()).containsEntry("team", "ml").containsEntry("tier", "gold").containsEntry("cost-center", "42")
            .containsEntry("mlctl-labels", "team__tier");
        assertThat(fakes.faults().count("EndpointService/DeployModel")).as("labels alone redeploy nothing").isEqualTo(1);
        assertClean(changed);
    }

    @Test
    void aLabelRemovedOutOfBandIsDriftAndPutBack() {
        String spec = spec(SPEC);
        ok(cli().run("apply", "--auto-approve", spec));
        Endpoint e = only();
        Map<String, String> labels = new TreeMap<>(e.getLabelsMap());
        labels.remove("team");
        endpoints.updateEndpoint(e.toBuilder().clearLabels().putAllLabels(labels).build(), FieldMask.newBuilder().addPaths("labels").build());
        assertThat(cli().run("plan", "--detailed-exitcode", spec).exitCode()).isEqualTo(2);
        assertThat(planned(spec)).contains("inference_endpoint.clf:update", "inference_endpoint.clf:tags");
        ok(cli().run("apply", "--auto-approve", spec));
        assertThat(only().getLabelsMap()).containsEntry("team", "vision");
        assertClean(spec);
    }

    @Test
    void replicasChangedOutOfBandAreDriftAndCorrected() {
        String spec = spec(SPEC);
        ok(cli().run("apply", "--auto-approve", spec));
        Endpoint e = only();
        endpoints.mutateDeployedModelCallable().call(MutateDeployedModelRequest.newBuilder().setEndpoint(e.getName())
            .setDeployedModel(DeployedModel.newBuilder().setId(e.getDeployedModels(0).getId())
                .setDedicatedResources(DedicatedResources.newBuilder().setMinReplicaCount(3)))
            .setUpdateMask(FieldMask.newBuilder().addPaths("dedicated_resources.min_replica_count")).build());
        await(() -> only().getDeployedModels(0).getDedicatedResources().getMinReplicaCount() == 3);
        assertThat(planned(spec)).contains("inference_endpoint.clf:minReplicas");
        ok(cli().run("apply", "--auto-approve", spec));
        assertThat(only().getDeployedModels(0).getDedicatedResources().getMinReplicaCount()).isEqualTo(1);
        assertThat(only().getDeployedModels(0).getId()).isEqualTo(e.getDeployedModels(0).getId());
        assertClean(spec);
    }

    private static void await(java.util.function.BooleanSupplier done) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition never held").isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    @Test
    void aSecondRevisionLeftDeployedShowsInThePlanAndIsUndeployed() {
        String spec = spec(SPEC);
        ok(cli().run("apply", "--auto-approve", spec));
        Endpoint e = only();
        DeployedModel d = e.getDeployedModels(0);
        // An interrupted rollout: the same model deployed twice, the second without traffic.
        endpoints.deployModelCallable().call(DeployModelRequest.newBuilder().setEndpoint(e.getName())
            .setDeployedModel(d.toBuilder().clearId().clearCreateTime().clearModelVersionId()).build());
        await(() -> only().getDeployedModelsCount() == 2);
        assertThat(planned(spec)).contains("inference_endpoint.clf:status");
        ok(cli().run("apply", "--auto-approve", spec));
        assertThat(only().getDeployedModelsList()).singleElement().satisfies(x -> assertThat(x.getId()).isEqualTo(d.getId()));
        assertClean(spec);
    }

    @Test
    void lostAnswersToCreateEndpointUploadModelAndDeployModelMakeOneOfEach() {
        String spec = spec(SPEC);
        fakes.faults().dropResponse("EndpointService/CreateEndpoint$", 1);
        fakes.faults().dropResponse("ModelService/UploadModel$", 1);
        fakes.faults().dropResponse("EndpointService/DeployModel$", 1);
        Cli.Result r = ok(cli().run("apply", "--auto-approve", spec));
        assertThat(r.out()).contains("1 added").contains("retrying", "aiplatform.endpoints.create ve-clf: UNAVAILABLE",
            "aiplatform.models.upload ve-clf-", "aiplatform.endpoints.deployModel ve-clf: UNAVAILABLE");
        assertThat(fakes.faults().count("EndpointService/CreateEndpoint$")).isEqualTo(1);
        assertThat(fakes.faults().count("ModelService/UploadModel$")).isEqualTo(1);
        assertThat(fakes.faults().count("EndpointService/DeployModel$")).isEqualTo(1);
        assertThat(all()).hasSize(1);
        assertThat(fakes.vertex().models()).hasSize(1);
        assertThat(only().getDeployedModelsList()).hasSize(1);
        assertClean(spec);
    }

    @Test
    void unavailableAndRateLimitedAnswersAreRetried() {
        String spec = spec(SPEC);
        fakes.faults().fail("EndpointService/ListEndpoints", 2, Faults.unavailable());
        fakes.faults().fail("EndpointService/CreateEndpoint", 1, Faults.rateLimited());
        fakes.faults().fail("ModelService/UploadModel", 1, Faults.unavailable());
        fakes.faults().fail("Operations/GetOperation", 1, Faults.unavailable());
        ok(cli().run("apply", "--auto-approve", spec));
        assertThat(all()).hasSize(1);
        assertThat(fakes.vertex().models()).hasSize(1);
        assertClean(spec);
    }

    @Test
    void permissionDeniedIsOneLineNamingThePermissionAndTheResource() {
        String spec = spec(SPEC);
        fakes.faults().fail("EndpointService/CreateEndpoint", 1, GoogleError.permissionDenied("aiplatform.endpoints.create", PARENT));
        Cli.Result r = cli().run("apply", "--auto-approve", spec);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("permission denied: the credentials lack aiplatform.endpoints.create on " + PARENT)
            .doesNotContain("\tat ").doesNotContain("Exception");
        assertThat(all()).isEmpty();
    }

    @Test
    void aDeploymentThatFailsIsOneLineWithVertexsReasonAndShowsInThePlan() {
        String reason = "Model server never became ready. Please validate that your model file or container configuration are valid.";
        fakes.vertex().failDeployments("/broken/", reason);
        String spec = spec(SPEC.replace("classifier/v1/", "broken/"));
        Cli.Result r = cli().run("apply", "--auto-approve", spec);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        String line = "to endpoint ve-clf failed: FAILED_PRECONDITION: " + reason;
        assertThat(r.err()).contains("Vertex AI deployment of model ve-clf-").contains(line);
        assertThat(r.err().split(Pattern.quote(line), -1)).as("reported once, never retried").hasSize(2);
        assertThat(r.out()).doesNotContain("retrying");
        assertThat(fakes.faults().count("EndpointService/DeployModel$")).isEqualTo(1);
        assertThat(only().getDeployedModelsList()).isEmpty();
        assertThat(planned(spec)).contains("inference_endpoint.clf:status");
    }

    @Test
    void aGpuQuotaVertexRefusesIsOneLineNamingTheQuotaAndTheRegionAndIsNotRetried() {
        String quota = "The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_serving_nvidia_t4_gpus";
        fakes.faults().fail("EndpointService/DeployModel$", 1, new GoogleError(429, "RESOURCE_EXHAUSTED", "RATE_LIMIT_EXCEEDED", quota, Map.of()));
        Cli.Result r = cli().run("apply", "--auto-approve", spec(SPEC));
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("aiplatform.endpoints.deployModel ve-clf: quota aiplatform.googleapis.com/custom_model_serving_nvidia_t4_gpus "
            + "exceeded in region us-central1");
        assertThat(r.out()).doesNotContain("retrying");
        assertThat(fakes.faults().count("EndpointService/DeployModel$")).isEqualTo(1);

        // The same quota inside a deployment's operation.
        fakes.vertex().failDeployments("/v2/", new GoogleError(429, "RESOURCE_EXHAUSTED", "RATE_LIMIT_EXCEEDED", quota, Map.of()));
        Cli.Result again = cli().run("apply", "--auto-approve", spec(SPEC.replace("classifier/v1/", "classifier/v2/")));
        assertThat(again.exitCode()).as(again.toString()).isEqualTo(1);
        assertThat(again.err()).contains("to endpoint ve-clf failed: quota aiplatform.googleapis.com/custom_model_serving_nvidia_t4_gpus exceeded in region us-central1");
        assertThat(again.out()).doesNotContain("retrying");
    }

    @Test
    void destroyLeavesNoEndpointNorModel() {
        String spec = spec(SPEC);
        ok(cli().run("apply", "--auto-approve", spec));
        ok(cli().run("destroy", "--auto-approve", spec));
        assertThat(all()).isEmpty();
        assertThat(fakes.vertex().models()).isEmpty();
        ok(cli().run("destroy", "--auto-approve", spec));
    }

    @Test
    void anotherTeamsEndpointOfTheSameNameIsRefusedAndLeftAsItIs() throws Exception {
        Operation made = endpoints.createEndpointCallable().call(CreateEndpointRequest.newBuilder().setParent(PARENT)
            .setEndpoint(Endpoint.newBuilder().setDisplayName("ve-clf").putLabels("team", "other")).build());
        Endpoint theirs = endpoints.getOperationsClient().getOperation(made.getName()).getResponse().unpack(Endpoint.class);
        Cli.Result r = cli().run("apply", "--auto-approve", spec(SPEC));
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("inference_endpoint.clf: Vertex AI endpoint ve-clf (" + GcpKind.lastSegment(theirs.getName())
            + ") already exists and is not managed by mlctl");
        assertThat(all()).singleElement().satisfies(e -> {
            assertThat(e.getLabelsMap()).containsExactlyEntriesOf(Map.of("team", "other"));
            assertThat(e.getDeployedModelsList()).isEmpty();
        });
        assertThat(fakes.vertex().models()).isEmpty();
    }

    @Test
    void destroyRefusesWhileSomeoneElsesModelIsDeployedInTheEndpointAndRolloutsLeaveItsTrafficAlone() throws Exception {
        String spec = spec(SPEC);
        ok(cli().run("apply", "--auto-approve", spec));
        Endpoint e = only();
        String ours = e.getDeployedModels(0).getId();
        Operation uploaded = models.uploadModelCallable().call(UploadModelRequest.newBuilder().setParent(PARENT).setModel(Model.newBuilder()
            .setDisplayName("canary").setArtifactUri("gs://other-team-models/m/").setContainerSpec(ModelContainerSpec.newBuilder().setImageUri("gcr.io/other/serve:1")))
            .build());
        String model = models.getOperationsClient().getOperation(uploaded.getName()).getResponse().unpack(UploadModelResponse.class).getModel();
        Operation op = endpoints.deployModelCallable().call(DeployModelRequest.newBuilder().setEndpoint(e.getName())
            .setDeployedModel(DeployedModel.newBuilder().setModel(model).setDisplayName("canary").setDedicatedResources(DedicatedResources.newBuilder()
                .setMachineSpec(MachineSpec.newBuilder().setMachineType("n1-standard-2")).setMinReplicaCount(1)))
            .putTrafficSplit(ours, 90).putTrafficSplit("0", 10).build());
        await(() -> only().getDeployedModelsCount() == 2);
        String canary = only().getDeployedModelsList().stream().filter(x -> !x.getId().equals(ours)).findFirst().orElseThrow().getId();
        assertClean(spec);

        String changed = spec(SPEC.replace("classifier/v1/", "classifier/v2/"));
        ok(cli().run("apply", "--auto-approve", changed));
        Endpoint after = only();
        assertThat(after.getDeployedModelsList()).hasSize(2).anyMatch(x -> x.getId().equals(canary));
        assertThat(after.getTrafficSplitMap()).containsEntry(canary, 10).containsValue(90).doesNotContainKey(ours);

        Cli.Result r = cli().run("destroy", "--auto-approve", changed);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("inference_endpoint.clf: Vertex AI endpoint ve-clf also serves deployed model 'canary' (" + canary);
        assertThat(only().getDeployedModelsList()).hasSize(2);
        assertThat(op.getName()).isNotEmpty();
    }

    @Test
    void minReplicasZeroIsRefusedInOneLineBeforeAnythingIsMade() {
        Cli.Result r = cli().run("apply", "--auto-approve", spec(SPEC.replace("minReplicas: 1", "minReplicas: 0")));
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        // Refused by validation, with the position of the value, before any request.
        assertThat(r.err()).containsPattern("\\.yaml:\\d+:\\d+: Vertex AI dedicated resources run at least 1 replica\n");
        assertThat(all()).isEmpty();
    }
}
