package io.mlctl.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.FaultProxy;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.MotoServer;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Nodegroup;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.Role;
import software.amazon.awssdk.services.sagemaker.SageMakerClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** EKS clusters and SageMaker endpoints against moto_server: lost answers, clashes, terminal states, images, replace rules. */
@ExtendWith(MotoServer.class)
class AwsClusterEndpointTest {
    private static final String SPEC = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata: {name: ce}
        spec:
          provider: aws
          region: us-east-1
          resources:
            - type: network
              name: net
              cidr: 10.8.0.0/16
              subnets:
                - {name: a, cidr: 10.8.1.0/24, zone: us-east-1a}
                - {name: b, cidr: 10.8.2.0/24, zone: us-east-1b}
              firewall:
                - {name: ssh, ports: [22], sources: [203.0.113.0/24]}
            - type: bucket
              name: ce-models
            - type: identity
              name: runner
              grants:
                - {actions: [storage.read], resource: bucket/ce-models}
            - type: kubernetes_cluster
              name: k
              version: "1.29"
              subnet: net/a
              identity: runner
              nodePools:
                - {name: gpu, machineType: g5.xlarge, min: 1, max: 2}
            - type: inference_endpoint
              name: ep
              modelUri: s3://ce-models/m/model.tar.gz
              machineType: ml.g4dn.xlarge
              framework: huggingface
              identity: runner
        """;

    @TempDir
    Path dir;
    URI moto;
    EksClient eks;
    SageMakerClient sagemaker;
    IamClient iam;
    Ec2Client ec2;

    @BeforeEach
    void setUp(MotoServer.Instance m) {
        moto = m.endpoint();
        var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));
        eks = EksClient.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(moto).build();
        sagemaker = SageMakerClient.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(moto).build();
        iam = IamClient.builder().region(Region.AWS_GLOBAL).credentialsProvider(creds).endpointOverride(moto).build();
        ec2 = Ec2Client.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(moto).build();
    }

    @AfterEach
    void tearDown() {
        List.of(eks, sagemaker, iam, ec2).forEach(software.amazon.awssdk.core.SdkClient::close);
    }

    private Cli cli(URI endpoint) {
        return new Cli(dir).env("AWS_ENDPOINT_URL", endpoint.toString()).env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test").env("AWS_REGION", "us-east-1");
    }

    private String spec(String text) {
        return Fixtures.write(dir, "ce.yaml", text).toString();
    }

    private static Cli.Result ok(Cli.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    private static Predicate<FaultProxy.Request> eksCreate(String pathSuffix) {
        return r -> r.method().equals("POST") && r.path().endsWith(pathSuffix);
    }

    private static Predicate<FaultProxy.Request> createRole(String name) {
        return r -> r.isAction("CreateRole") && r.body().contains("RoleName=" + name + "&") || r.isAction("CreateRole") && r.body().endsWith("RoleName=" + name);
    }

    @Test
    void everyCreateWhoseAnswerIsLostConvergesToExactlyOneOfEach() throws Exception {
        String spec = spec(SPEC);
        try (FaultProxy proxy = new FaultProxy(moto)) {
            List<FaultProxy.Drop> drops = List.of(
                proxy.dropResponse(eksCreate("/clusters"), 1),
                proxy.dropResponse(eksCreate("/clusters/ce-k/node-groups"), 1),
                proxy.dropResponse(createRole("ce-k-eks"), 1),
                proxy.dropResponse(createRole("ce-k-node"), 1),
                proxy.dropResponse(r -> r.isAction("CreateModel"), 1),
                proxy.dropResponse(r -> r.isAction("CreateEndpointConfig"), 1),
                proxy.dropResponse(r -> r.isAction("CreateEndpoint"), 1));
            Cli.Result r = ok(cli(proxy.endpoint()).run("apply", "--auto-approve", spec));
            assertThat(r.out()).contains("Apply complete! Resources: 5 added");
            assertThat(drops).allSatisfy(d -> assertThat(d.dropped()).hasSize(1));
        }
        assertThat(eks.listClusters().clusters()).containsExactly("ce-k");
        assertThat(eks.listNodegroups(b -> b.clusterName("ce-k")).nodegroups()).containsExactly("gpu");
        assertThat(sagemaker.listModels().models()).hasSize(1);
        assertThat(sagemaker.listEndpointConfigs().endpointConfigs()).hasSize(1);
        assertThat(sagemaker.listEndpoints().endpoints()).singleElement().satisfies(e -> assertThat(e.endpointName()).isEqualTo("ce-ep"));
        assertThat(iam.listRoles(b -> b.pathPrefix("/mlctl/ce/eks/")).roles()).extracting(Role::roleName)
            .containsExactlyInAnyOrder("ce-k-eks", "ce-k-node");
        assertThat(ok(cli(moto).run("plan", "--detailed-exitcode", spec)).out()).contains("No changes");
    }

    @Test
    void nodeGroupsRunAsANodeRoleWithTheWorkerPoliciesAndTheClusterCarriesTheNetworksFirewall() {
        String spec = spec(SPEC);
        ok(cli(moto).run("apply", "--auto-approve", spec));
        Nodegroup ng = eks.describeNodegroup(b -> b.clusterName("ce-k").nodegroupName("gpu")).nodegroup();
        assertThat(ng.nodeRole()).endsWith("/ce-k-node");
        assertThat(iam.listAttachedRolePolicies(b -> b.roleName("ce-k-node")).attachedPolicies()).extracting(p -> p.policyArn())
            .containsExactlyInAnyOrderElementsOf(ClusterKind.NODE_POLICIES);
        assertThat(java.net.URLDecoder.decode(iam.getRolePolicy(b -> b.roleName("ce-k-node").policyName("mlctl-grants")).policyDocument(),
            java.nio.charset.StandardCharsets.UTF_8)).contains("arn:aws:s3:::ce-models/*");
        assertThat(java.net.URLDecoder.decode(iam.getRole(b -> b.roleName("ce-k-node")).role().assumeRolePolicyDocument(),
            java.nio.charset.StandardCharsets.UTF_8)).contains("ec2.amazonaws.com").doesNotContain("eks.amazonaws.com");
        String sg = ec2.describeSecurityGroups(b -> b.filters(software.amazon.awssdk.services.ec2.model.Filter.builder()
            .name("group-name").values("ce-net").build())).securityGroups().get(0).groupId();
        assertThat(eks.describeCluster(b -> b.name("ce-k")).cluster().resourcesVpcConfig().securityGroupIds()).containsExactly(sg);

        // A GPU machine type serves the GPU build of the framework's default image.
        String model = sagemaker.listModels().models().get(0).modelName();
        assertThat(sagemaker.describeModel(b -> b.modelName(model)).primaryContainer().image())
            .isEqualTo("763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04");

        ok(cli(moto).run("destroy", "--auto-approve", spec));
        assertThat(iam.listRoles(b -> b.pathPrefix("/mlctl/")).roles()).isEmpty();
        assertThat(eks.listClusters().clusters()).isEmpty();
    }

    @Test
    void aClusterOrEndpointOfTheSameNameThatMlctlDoesNotOwnIsRefusedAndLeftAsItIs() {
        String spec = spec(SPEC);
        eks.createCluster(b -> b.name("ce-k").roleArn("arn:aws:iam::123456789012:role/theirs").resourcesVpcConfig(v -> v.subnetIds("subnet-1"))
            .tags(Map.of("team", "other")));
        String arn = eks.describeCluster(b -> b.name("ce-k")).cluster().arn();
        sagemaker.createModel(b -> b.modelName("theirs").executionRoleArn("arn:aws:iam::123456789012:role/theirs")
            .primaryContainer(c -> c.image("img").modelDataUrl("s3://x/y")));
        sagemaker.createEndpointConfig(b -> b.endpointConfigName("theirs").productionVariants(v -> v.variantName("v").modelName("theirs")
            .initialInstanceCount(1).instanceType("ml.m5.large")));
        sagemaker.createEndpoint(b -> b.endpointName("ce-ep").endpointConfigName("theirs"));

        Cli.Result r = cli(moto).run("apply", "--auto-approve", spec);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("kubernetes_cluster.k: EKS cluster ce-k already exists and is not managed by mlctl")
            .contains("inference_endpoint.ep: SageMaker endpoint ce-ep already exists and is not managed by mlctl");
        assertThat(eks.describeCluster(b -> b.name("ce-k")).cluster().tags()).containsExactlyEntriesOf(Map.of("team", "other"));
        assertThat(eks.listNodegroups(b -> b.clusterName("ce-k")).nodegroups()).isEmpty();
        assertThat(sagemaker.listTags(b -> b.resourceArn(sagemaker.describeEndpoint(e -> e.endpointName("ce-ep")).endpointArn())).tags()).isEmpty();
        assertThat(sagemaker.describeEndpoint(b -> b.endpointName("ce-ep")).endpointConfigName()).isEqualTo("theirs");
        assertThat(iam.listRoles(b -> b.pathPrefix("/mlctl/ce/eks/")).roles()).isEmpty();
        assertThat(arn).isEqualTo(eks.describeCluster(b -> b.name("ce-k")).cluster().arn());
    }

    @Test
    void aNodeGroupThatFailsIsReportedOnceWithTheCloudsReasonAndShowsInThePlan() throws Exception {
        String spec = spec(SPEC);
        try (FaultProxy proxy = new FaultProxy(moto)) {
            AtomicBoolean created = new AtomicBoolean();
            proxy.answer(r -> {
                if (eksCreate("/clusters/ce-k/node-groups").test(r)) created.set(true);
                return false;
            }, 200, "application/json", "", 0);
            FaultProxy.Fault failed = proxy.answer(r -> created.get() && r.method().equals("GET") && r.path().equals("/clusters/ce-k/node-groups/gpu"),
                200, "application/json", """
                {"nodegroup":{"nodegroupName":"gpu","clusterName":"ce-k","status":"CREATE_FAILED","instanceTypes":["g5.xlarge"],
                 "capacityType":"ON_DEMAND","scalingConfig":{"minSize":1,"maxSize":2,"desiredSize":1},
                 "tags":{"mlctl-environment":"ce","mlctl-address":"kubernetes_cluster.k","managed-by":"mlctl"},
                 "health":{"issues":[{"code":"NodeCreationFailure","message":"Instances failed to join the kubernetes cluster","resourceIds":["i-1"]}]}}}""",
                1000);
            Cli.Result r = cli(proxy.endpoint()).run("apply", "--auto-approve", spec);
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
            String reason = "EKS node group gpu of cluster ce-k is CREATE_FAILED: NodeCreationFailure: Instances failed to join the kubernetes cluster";
            assertThat(r.err()).contains(reason);
            assertThat(r.err().split(java.util.regex.Pattern.quote(reason), -1)).as("reported once, never retried").hasSize(2);
            assertThat(r.out()).doesNotContain("retrying");
            assertThat(r.out()).doesNotContain("kubernetes_cluster.k: retrying");
            assertThat(failed.served()).isPositive();

            Cli.Result plan = cli(proxy.endpoint()).run("plan", "--format", "json", spec);
            assertThat(plan.exitCode()).as(plan.toString()).isZero();
            List<String> paths = new ArrayList<>();
            JsonMapper.builder().build().readTree(plan.out()).get("resourceChanges").forEach(c -> c.get("changes")
                .forEach(a -> paths.add(c.get("address").asString() + ":" + a.get("path").asString())));
            assertThat(paths).contains("kubernetes_cluster.k:nodePools[gpu].status");
        }
    }

    @Test
    void anEndpointThatFailsIsReportedOnceWithSageMakersReason() throws Exception {
        String spec = spec(SPEC);
        try (FaultProxy proxy = new FaultProxy(moto)) {
            AtomicBoolean created = new AtomicBoolean();
            proxy.answer(r -> {
                if (r.isAction("CreateEndpoint")) created.set(true);
                return false;
            }, 200, "application/json", "", 0);
            proxy.answer(r -> created.get() && r.isAction("DescribeEndpoint") && r.body().contains("\"ce-ep\""), 200, "application/x-amz-json-1.1", """
                {"EndpointName":"ce-ep","EndpointArn":"arn:aws:sagemaker:us-east-1:123456789012:endpoint/ce-ep","EndpointConfigName":"x",
                 "EndpointStatus":"Failed","FailureReason":"The primary container for production variant AllTraffic did not pass the ping health check.",
                 "CreationTime":1700000000,"LastModifiedTime":1700000000}""", 1000);
            Cli.Result r = cli(proxy.endpoint()).run("apply", "--auto-approve", spec);
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
            String reason = "SageMaker endpoint ce-ep is Failed: The primary container for production variant AllTraffic did not pass the ping health check.";
            assertThat(r.err()).contains(reason).doesNotContain("cannot reach AWS");
            assertThat(r.err().split(java.util.regex.Pattern.quote(reason), -1)).as("reported once, never retried").hasSize(2);
            assertThat(r.out()).doesNotContain("retrying");
        }
    }

    @Test
    void aRetriedEndpointUpdateKeepsTheLiveConfigAndDeletesOnlyTheOldOne() throws Exception {
        ok(cli(moto).run("apply", "--auto-approve", spec(SPEC)));
        String first = sagemaker.describeEndpoint(b -> b.endpointName("ce-ep")).endpointConfigName();
        String arn = sagemaker.describeEndpoint(b -> b.endpointName("ce-ep")).endpointArn();
        String image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/scorer:7";
        String changedYaml = SPEC.replace("framework: huggingface", "image: " + image);
        String changed = spec(changedYaml);
        var env = io.mlctl.testing.Specs.env(changedYaml);
        String next = new EndpointKind(io.mlctl.testing.Specs.CATALOG.of(io.mlctl.spec.Provider.AWS))
            .revision(env, env.resource(io.mlctl.spec.Address.parse("inference_endpoint.ep")).orElseThrow());
        try (FaultProxy proxy = new FaultProxy(moto)) {
            // moto has no UpdateEndpoint: every answer is lost (the SDK's attempts, then mlctl's retry of the step),
            // and from the first one on SageMaker reports the endpoint InService on the new config.
            FaultProxy.Drop lost = proxy.dropResponse(r -> r.isAction("UpdateEndpoint"), 100);
            proxy.answer(r -> !lost.dropped().isEmpty() && r.isAction("DescribeEndpoint") && r.body().contains("\"ce-ep\""), 200,
                "application/x-amz-json-1.1", """
                {"EndpointName":"ce-ep","EndpointArn":"%s","EndpointConfigName":"%s","EndpointStatus":"InService",
                 "CreationTime":1700000000,"LastModifiedTime":1700000000}""".formatted(arn, next), 1000);
            Cli.Result r = ok(cli(proxy.endpoint()).run("apply", "--auto-approve", changed));
            assertThat(r.out()).contains("inference_endpoint.ep: retrying");
            assertThat(lost.dropped()).isNotEmpty();
            assertThat(ok(cli(proxy.endpoint()).run("plan", "--detailed-exitcode", changed)).out()).contains("No changes");
        }
        assertThat(sagemaker.listEndpointConfigs().endpointConfigs()).extracting(c -> c.endpointConfigName()).containsExactly(next);
        assertThat(sagemaker.listModels().models()).extracting(m -> m.modelName()).containsExactly(next);
        assertThat(next).isNotEqualTo(first);
        assertThat(sagemaker.describeModel(b -> b.modelName(next)).primaryContainer().image()).isEqualTo(image);
    }

    @Test
    void aNodePoolsMachineTypeOrCapacityChangeReplacesThatNodeGroupAloneNamingThePath() {
        ok(cli(moto).run("apply", "--auto-approve", spec(SPEC)));
        String clusterArn = eks.describeCluster(b -> b.name("ce-k")).cluster().arn();
        String ngArn = eks.describeNodegroup(b -> b.clusterName("ce-k").nodegroupName("gpu")).nodegroup().nodegroupArn();
        for (String change : List.of("machineType: g4dn.xlarge, min: 1, max: 2}", "machineType: g5.xlarge, min: 1, max: 2, spot: true}")) {
            Cli.Result plan = cli(moto).run("plan", "--format", "json", spec(SPEC.replace("machineType: g5.xlarge, min: 1, max: 2}", change)));
            JsonNode changes = JsonMapper.builder().build().readTree(plan.out()).get("resourceChanges");
            assertThat(changes).hasSize(2);
            assertThat(changes.get(0).get("address").asString()).isEqualTo("kubernetes_cluster.k");
            assertThat(changes.get(0).get("action").asString()).isEqualTo("update");
            JsonNode pool = changes.get(1);
            assertThat(pool.get("address").asString()).isEqualTo("kubernetes_cluster.k.node_pool.gpu");
            assertThat(pool.get("action").asString()).isEqualTo("replace");
            assertThat(pool.get("reason").asString()).containsPattern("nodePools\\[gpu\\]\\.(machineType|spot) cannot be changed in place");
        }
        // Applied: a new node group of the new type in the same cluster.
        String moved = spec(SPEC.replace("machineType: g5.xlarge, min: 1, max: 2}", "machineType: g4dn.xlarge, min: 1, max: 2}"));
        ok(cli(moto).run("apply", "--auto-approve", moved));
        Nodegroup replacedGroup = eks.describeNodegroup(b -> b.clusterName("ce-k").nodegroupName("gpu")).nodegroup();
        assertThat(replacedGroup.instanceTypes()).containsExactly("g4dn.xlarge");
        assertThat(replacedGroup.nodegroupArn()).isNotEqualTo(ngArn);
        assertThat(eks.describeCluster(b -> b.name("ce-k")).cluster().arn()).isEqualTo(clusterArn);
        assertThat(ok(cli(moto).run("plan", "--detailed-exitcode", moved)).out()).contains("No changes");
        String movedArn = replacedGroup.nodegroupArn();
        // Scaling is an update in place: the same node group, resized.
        String scaled = spec(SPEC.replace("machineType: g5.xlarge, min: 1, max: 2}", "machineType: g4dn.xlarge, min: 2, max: 3}"));
        ok(cli(moto).run("apply", "--auto-approve", scaled));
        Nodegroup ng = eks.describeNodegroup(b -> b.clusterName("ce-k").nodegroupName("gpu")).nodegroup();
        assertThat(ng.nodegroupArn()).isEqualTo(movedArn);
        assertThat(ng.scalingConfig().maxSize()).isEqualTo(3);
        assertThat(ok(cli(moto).run("plan", "--detailed-exitcode", scaled)).out()).contains("No changes");
    }

    @Test
    void otherTeamsTagsOnAClusterOrEndpointAreNeitherDriftNorRemovedWhileLabelsFollowTheSpec() {
        String labelled = SPEC.replace("metadata: {name: ce}", "metadata: {name: ce, labels: {team: ml}}");
        ok(cli(moto).run("apply", "--auto-approve", spec(labelled)));
        String clusterArn = eks.describeCluster(b -> b.name("ce-k")).cluster().arn();
        String endpointArn = sagemaker.describeEndpoint(b -> b.endpointName("ce-ep")).endpointArn();
        eks.tagResource(b -> b.resourceArn(clusterArn).tags(Map.of("CostCenter", "finance")));
        sagemaker.addTags(b -> b.resourceArn(endpointArn).tags(t -> t.key("CostCenter").value("finance")));
        assertThat(ok(cli(moto).run("plan", "--detailed-exitcode", spec(labelled))).out()).contains("No changes");

        String relabelled = SPEC.replace("metadata: {name: ce}", "metadata: {name: ce, labels: {team: vision}}");
        ok(cli(moto).run("apply", "--auto-approve", spec(relabelled)));
        assertThat(eks.describeCluster(b -> b.name("ce-k")).cluster().tags()).containsEntry("CostCenter", "finance").containsEntry("team", "vision");
        Map<String, String> endpointTags = new java.util.TreeMap<>();
        sagemaker.listTags(b -> b.resourceArn(endpointArn)).tags().forEach(t -> endpointTags.put(t.key(), t.value()));
        assertThat(endpointTags).containsEntry("CostCenter", "finance").containsEntry("team", "vision").containsEntry("mlctl-address", "inference_endpoint.ep");
        assertThat(ok(cli(moto).run("plan", "--detailed-exitcode", spec(relabelled))).out()).contains("No changes");
    }

    @Test
    void aGrantTakenFromTheIdentityIsTakenFromItsClustersNodesToo() {
        ok(cli(moto).run("apply", "--auto-approve", spec(SPEC)));
        java.util.function.Function<String, String> policy = role -> java.net.URLDecoder.decode(
            iam.getRolePolicy(b -> b.roleName(role).policyName("mlctl-grants")).policyDocument(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(policy.apply("ce-k-node")).isEqualTo(policy.apply("ce-runner")).contains("s3:GetObject");
        String narrowed = spec(SPEC.replace("- {actions: [storage.read], resource: bucket/ce-models}", "- {actions: [storage.write], resource: bucket/ce-models}"));
        ok(cli(moto).run("apply", "--auto-approve", narrowed));
        assertThat(policy.apply("ce-runner")).doesNotContain("s3:GetObject").contains("s3:PutObject");
        assertThat(policy.apply("ce-k-node")).isEqualTo(policy.apply("ce-runner"));
        assertThat(ok(cli(moto).run("plan", "--detailed-exitcode", narrowed)).out()).contains("No changes");
    }

    @Test
    void anEndpointThatFailedLaterShowsInThePlanAsAReplaceWithSageMakersReason() throws Exception {
        ok(cli(moto).run("apply", "--auto-approve", spec(SPEC)));
        var ep = sagemaker.describeEndpoint(b -> b.endpointName("ce-ep"));
        try (FaultProxy proxy = new FaultProxy(moto)) {
            proxy.answer(r -> r.isAction("DescribeEndpoint") && r.body().contains("\"ce-ep\""), 200, "application/x-amz-json-1.1", """
                {"EndpointName":"ce-ep","EndpointArn":"%s","EndpointConfigName":"%s","EndpointStatus":"Failed",
                 "FailureReason":"out of capacity","CreationTime":1700000000,"LastModifiedTime":1700000000}"""
                .formatted(ep.endpointArn(), ep.endpointConfigName()), 1000);
            Cli.Result plan = cli(proxy.endpoint()).run("plan", "--format", "json", spec(SPEC));
            assertThat(plan.exitCode()).as(plan.toString()).isZero();
            JsonNode change = JsonMapper.builder().build().readTree(plan.out()).get("resourceChanges").get(0);
            assertThat(change.get("address").asString()).isEqualTo("inference_endpoint.ep");
            assertThat(change.get("action").asString()).isEqualTo("replace");
            assertThat(change.get("before").get("status").asString()).isEqualTo("Failed: out of capacity");
            assertThat(change.get("reason").asString()).isEqualTo("status cannot be changed in place");
        }
    }
}
