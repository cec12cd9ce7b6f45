package io.mlctl.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.MotoServer;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.applicationautoscaling.ApplicationAutoScalingClient;
import software.amazon.awssdk.services.applicationautoscaling.model.ServiceNamespace;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.IpPermission;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.Nodegroup;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.LifecycleRule;
import software.amazon.awssdk.services.sagemaker.SageMakerClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The AWS driver end to end through the real CLI, against moto_server over HTTP. */
@ExtendWith(MotoServer.class)
class AwsEndToEndTest {
    @TempDir
    Path dir;
    Cli cli;
    URI endpoint;
    Ec2Client ec2;
    S3Client s3;
    IamClient iam;
    EksClient eks;
    SageMakerClient sagemaker;
    ApplicationAutoScalingClient autoscaling;
    final String example = Fixtures.examples().resolve("aws-training.yaml").toString();

    @BeforeEach
    void setUp(MotoServer.Instance moto) {
        endpoint = moto.endpoint();
        cli = cliFor(endpoint);
        var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));
        ec2 = Ec2Client.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(endpoint).build();
        s3 = S3Client.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(endpoint).forcePathStyle(true).build();
        iam = IamClient.builder().region(Region.AWS_GLOBAL).credentialsProvider(creds).endpointOverride(endpoint).build();
        eks = EksClient.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(endpoint).build();
        sagemaker = SageMakerClient.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(endpoint).build();
        autoscaling = ApplicationAutoScalingClient.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(endpoint).build();
    }

    Cli cliFor(URI awsEndpoint) {
        return new Cli(dir).env("AWS_ENDPOINT_URL", awsEndpoint.toString()).env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test").env("AWS_REGION", "us-east-1");
    }

    @AfterEach
    void tearDown() {
        List.of(ec2, s3, iam, eks, sagemaker, autoscaling).forEach(software.amazon.awssdk.core.SdkClient::close);
    }

    static Filter owned(String env) {
        return Filter.builder().name("tag:mlctl-environment").values(env).build();
    }

    private Cli.Result ok(Cli.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    private JsonNode planJson(String spec) {
        Cli.Result r = cli.run("plan", "--format", "json", spec);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return JsonMapper.builder().build().readTree(r.out());
    }

    private Map<String, String> actions(JsonNode plan) {
        Map<String, String> m = new HashMap<>();
        plan.get("resourceChanges").forEach(c -> m.put(c.get("address").asString(), c.get("action").asString()));
        return m;
    }

    @Test
    void exampleIsCreatedAsDeclaredThenHasNoChangesThenIsDestroyed() {
        Cli.Result apply = ok(cli.run("apply", "--auto-approve", example));
        assertThat(apply.out()).contains("Apply complete! Resources: 6 added, 0 changed, 0 destroyed.").contains("[id=vpc-").contains("[id=i-");

        var vpc = ec2.describeVpcs(b -> b.filters(owned("training-dev"))).vpcs();
        assertThat(vpc).singleElement().satisfies(v -> assertThat(v.cidrBlock()).isEqualTo("10.0.0.0/16"));
        var subnet = ec2.describeSubnets(b -> b.filters(owned("training-dev"))).subnets();
        assertThat(subnet).extracting(s -> s.cidrBlock() + " " + s.availabilityZone() + " " + s.mapPublicIpOnLaunch())
            .containsExactlyInAnyOrder("10.0.1.0/24 us-east-1a false", "10.0.2.0/24 us-east-1b false");
        List<IpPermission> ingress = ec2.describeSecurityGroups(b -> b.filters(owned("training-dev"))).securityGroups().get(0).ipPermissions();
        assertThat(ingress).singleElement().satisfies(p -> {
            assertThat(p.fromPort()).isEqualTo(22);
            assertThat(p.ipRanges()).singleElement().satisfies(r -> {
                assertThat(r.cidrIp()).isEqualTo("203.0.113.0/24");
                assertThat(r.description()).isEqualTo("ssh-office");
            });
        });

        assertThat(s3.getBucketVersioning(b -> b.bucket("ml-data-dev")).statusAsString()).isEqualTo("Enabled");
        assertThat(s3.getBucketEncryption(b -> b.bucket("ml-data-dev")).serverSideEncryptionConfiguration().rules().get(0)
            .applyServerSideEncryptionByDefault().sseAlgorithmAsString()).isEqualTo("aws:kms");
        var pab = s3.getPublicAccessBlock(b -> b.bucket("ml-data-dev")).publicAccessBlockConfiguration();
        assertThat(List.of(pab.blockPublicAcls(), pab.blockPublicPolicy(), pab.ignorePublicAcls(), pab.restrictPublicBuckets())).containsOnly(true);
        List<LifecycleRule> rules = s3.getBucketLifecycleConfiguration(b -> b.bucket("ml-data-dev")).rules();
        assertThat(rules).filteredOn(r -> !r.transitions().isEmpty()).singleElement().satisfies(r -> assertThat(r.transitions()).singleElement().satisfies(t -> {
            assertThat(t.days()).isEqualTo(30);
            assertThat(t.storageClassAsString()).isEqualTo("GLACIER");
        }));
        assertThat(rules).anyMatch(r -> r.noncurrentVersionExpiration() != null && r.noncurrentVersionExpiration().noncurrentDays() == 90);
        assertThat(s3.getBucketTagging(b -> b.bucket("ml-data-dev")).tagSet()).extracting(t -> t.key() + "=" + t.value())
            .contains("mlctl-environment=training-dev", "mlctl-address=bucket.ml-data-dev", "team=ml", "cost-center=research");

        String doc = URLDecoder.decode(iam.getRolePolicy(b -> b.roleName("training-dev-trainer").policyName("mlctl-grants")).policyDocument(),
            StandardCharsets.UTF_8);
        JsonNode statements = JsonMapper.builder().build().readTree(doc).get("Statement");
        List<String> granted = new ArrayList<>();
        statements.forEach(s -> granted.add(s.get("Action").get(0).asString() + " " + s.get("Resource").get(0).asString()));
        assertThat(granted).containsExactlyInAnyOrder("s3:GetObject arn:aws:s3:::ml-data-dev/*", "s3:ListBucket arn:aws:s3:::ml-data-dev",
            "s3:PutObject arn:aws:s3:::ml-data-dev/*");

        Instance instance = ec2.describeInstances(b -> b.filters(owned("training-dev"))).reservations().get(0).instances().get(0);
        assertThat(instance.instanceTypeAsString()).isEqualTo("p3.2xlarge");
        assertThat(instance.instanceLifecycleAsString()).isEqualTo("spot");
        assertThat(instance.iamInstanceProfile().arn()).endsWith("/training-dev-trainer");
        assertThat(ec2.describeVolumes(b -> b.filters(Filter.builder().name("attachment.instance-id").values(instance.instanceId()).build()))
            .volumes()).anySatisfy(v -> assertThat(v.size()).isEqualTo(200));

        assertThat(eks.describeCluster(b -> b.name("training-dev-ml-cluster")).cluster().version()).isEqualTo("1.29");
        Nodegroup ng = eks.describeNodegroup(b -> b.clusterName("training-dev-ml-cluster").nodegroupName("gpu")).nodegroup();
        assertThat(ng.instanceTypes()).containsExactly("g5.xlarge");
        assertThat(ng.scalingConfig().minSize()).isEqualTo(1);
        assertThat(ng.scalingConfig().maxSize()).isEqualTo(4);
        assertThat(ng.capacityTypeAsString()).isEqualTo("SPOT");
        assertThat(ng.amiTypeAsString()).isEqualTo("AL2_x86_64_GPU");

        String config = sagemaker.describeEndpoint(b -> b.endpointName("training-dev-fraud-model")).endpointConfigName();
        var variant = sagemaker.describeEndpointConfig(b -> b.endpointConfigName(config)).productionVariants().get(0);
        assertThat(variant.instanceTypeAsString()).isEqualTo("ml.m5.large");
        assertThat(variant.initialInstanceCount()).isEqualTo(1);
        var target = autoscaling.describeScalableTargets(b -> b.serviceNamespace(ServiceNamespace.SAGEMAKER)).scalableTargets();
        assertThat(target).singleElement().satisfies(t -> {
            assertThat(t.minCapacity()).isEqualTo(1);
            assertThat(t.maxCapacity()).isEqualTo(10);
        });

        assertThat(cli.run("plan", "--detailed-exitcode", example).exitCode()).isZero();

        Cli.Result destroy = ok(cli.run("destroy", "--auto-approve", example));
        assertThat(destroy.out()).contains("Destroy complete! Resources: 0 added, 0 changed, 6 destroyed.");
        assertThat(ec2.describeVpcs(b -> b.filters(owned("training-dev"))).vpcs()).isEmpty();
        assertThat(ec2.describeSubnets(b -> b.filters(owned("training-dev"))).subnets()).isEmpty();
        assertThat(ec2.describeInstances(b -> b.filters(owned("training-dev"))).reservations().stream()
            .flatMap(r -> r.instances().stream()).map(Instance::state).map(s -> s.nameAsString())).containsOnly("terminated");
        assertThat(s3.listBuckets().buckets()).isEmpty();
        assertThat(iam.listRoles(b -> b.pathPrefix("/mlctl/")).roles()).isEmpty();
        assertThat(iam.listInstanceProfiles(b -> b.pathPrefix("/mlctl/")).instanceProfiles()).isEmpty();
        assertThat(eks.listClusters().clusters()).isEmpty();
        assertThat(sagemaker.listEndpoints().endpoints()).isEmpty();
        assertThat(sagemaker.listEndpointConfigs().endpointConfigs()).isEmpty();
        assertThat(sagemaker.listModels().models()).isEmpty();
        assertThat(cli.run("plan", "--detailed-exitcode", example).exitCode()).isEqualTo(2);
    }

    @Test
    void eachChangedAttributeGivesTheExpectedActionAndApplyConverges() throws Exception {
        ok(cli.run("apply", "--auto-approve", example));
        String changed = Fixtures.read(Path.of(example))
            .replace("      versioning: true\n", "      versioning: false\n")
            .replace("      encryption: kms        # managed | kms\n", "      encryption: managed\n")
            .replace("        - afterDays: 30\n", "        - afterDays: 60\n")
            .replace("      machineType: p3.2xlarge\n      spot: true\n", "      machineType: g4dn.xlarge\n      spot: true\n")
            .replace("      diskGb: 200\n", "      diskGb: 300\n")
            .replace("          ports: [22]\n", "          ports: [22, 2222]\n")
            .replace("          max: 4\n", "          max: 6\n")
            .replace("      maxReplicas: 10\n", "      maxReplicas: 5\n")
            .replace("        - actions: [storage.read, storage.write]\n", "        - actions: [storage.read]\n")
            .replace("    team: ml\n", "    team: ml-platform\n")
            .replace("      cidr: 10.0.0.0/16\n", "      cidr: 10.0.0.0/16\n      privateStorageAccess: true\n")
            .replace("          zone: us-east-1b\n          private: true\n", "          zone: us-east-1b\n          private: true\n        - name: edge\n          cidr: 10.0.3.0/24\n          zone: us-east-1b\n          private: false\n");
        Path spec = Fixtures.write(dir, "changed.yaml", changed);
        JsonNode plan = planJson(spec.toString());
        assertThat(actions(plan)).containsExactlyInAnyOrderEntriesOf(Map.of(
            "bucket.ml-data-dev", "update", "instance.trainer-1", "update", "network.ml-vpc", "update",
            "kubernetes_cluster.ml-cluster", "update", "inference_endpoint.fraud-model", "update", "identity.trainer", "update"));
        ok(cli.run("apply", "--auto-approve", spec.toString()));
        assertThat(cli.run("plan", "--detailed-exitcode", spec.toString()).exitCode()).as("converged").isZero();
        assertThat(ec2.describeInstances(b -> b.filters(owned("training-dev"))).reservations().get(0).instances().get(0)
            .instanceTypeAsString()).isEqualTo("g4dn.xlarge");
        assertThat(ec2.describeVpcEndpoints().vpcEndpoints()).singleElement()
            .satisfies(e -> assertThat(e.serviceName()).isEqualTo("com.amazonaws.us-east-1.s3"));
        var edge = ec2.describeSubnets(b -> b.filters(Filter.builder().name("tag:mlctl-subnet").values("ml-vpc/edge").build())).subnets();
        assertThat(edge).singleElement().satisfies(x -> assertThat(x.mapPublicIpOnLaunch()).isTrue());
        assertThat(ec2.describeRouteTables(b -> b.filters(Filter.builder().name("association.subnet-id").values(edge.get(0).subnetId()).build()))
            .routeTables()).singleElement().satisfies(t -> assertThat(t.routes()).anyMatch(r -> r.gatewayId() != null && r.gatewayId().startsWith("igw-")));

        // Immutable fields replace, and what sits in a replaced network is replaced with it.
        Path moved = Fixtures.write(dir, "moved.yaml", changed.replace("cidr: 10.0.0.0/16", "cidr: 10.1.0.0/16")
            .replace("cidr: 10.0.1.0/24", "cidr: 10.1.1.0/24").replace("cidr: 10.0.2.0/24", "cidr: 10.1.2.0/24")
            .replace("cidr: 10.0.3.0/24", "cidr: 10.1.3.0/24"));
        JsonNode replan = planJson(moved.toString());
        assertThat(actions(replan)).containsEntry("network.ml-vpc", "replace").containsEntry("instance.trainer-1", "replace")
            .containsEntry("kubernetes_cluster.ml-cluster", "replace");
        ok(cli.run("apply", "--auto-approve", "--allow-mass-delete", moved.toString()));
        assertThat(cli.run("plan", "--detailed-exitcode", moved.toString()).exitCode()).isZero();
        assertThat(ec2.describeVpcs(b -> b.filters(owned("training-dev"))).vpcs()).singleElement()
            .satisfies(v -> assertThat(v.cidrBlock()).isEqualTo("10.1.0.0/16"));
    }

    @Test
    void outOfBandChangesShowAsDriftAndAreCorrected() {
        ok(cli.run("apply", "--auto-approve", example));
        s3.putBucketVersioning(b -> b.bucket("ml-data-dev").versioningConfiguration(v -> v.status("Suspended")));
        s3.deleteBucketLifecycle(b -> b.bucket("ml-data-dev"));
        String vpcId = ec2.describeVpcs(b -> b.filters(owned("training-dev"))).vpcs().get(0).vpcId();
        ec2.deleteTags(b -> b.resources(vpcId).tags(t -> t.key("team")));
        eks.updateNodegroupConfig(b -> b.clusterName("training-dev-ml-cluster").nodegroupName("gpu")
            .scalingConfig(s -> s.minSize(2).maxSize(9).desiredSize(2)));
        JsonNode plan = planJson(example);
        assertThat(actions(plan)).containsExactlyInAnyOrderEntriesOf(Map.of(
            "bucket.ml-data-dev", "update", "network.ml-vpc", "update", "kubernetes_cluster.ml-cluster", "update"));
        List<String> paths = new ArrayList<>();
        plan.get("resourceChanges").forEach(c -> c.get("changes").forEach(a -> paths.add(c.get("address").asString() + ":" + a.get("path").asString())));
        assertThat(paths).containsExactlyInAnyOrder("bucket.ml-data-dev:lifecycle", "bucket.ml-data-dev:versioning",
            "network.ml-vpc:tags.team", "kubernetes_cluster.ml-cluster:nodePools[gpu].min", "kubernetes_cluster.ml-cluster:nodePools[gpu].max");
        ok(cli.run("apply", "--auto-approve", example));
        assertThat(cli.run("plan", "--detailed-exitcode", example).exitCode()).isZero();
        assertThat(s3.getBucketVersioning(b -> b.bucket("ml-data-dev")).statusAsString()).isEqualTo("Enabled");
    }

    @Test
    void resourcesRemovedFromTheSpecArePruned() {
        ok(cli.run("apply", "--auto-approve", example));
        String without = Fixtures.read(Path.of(example)).replaceAll("(?s)    - type: inference_endpoint.*", "");
        Path spec = Fixtures.write(dir, "pruned.yaml", without);
        assertThat(actions(planJson(spec.toString()))).containsExactlyEntriesOf(Map.of("inference_endpoint.fraud-model", "delete"));
        ok(cli.run("apply", "--auto-approve", spec.toString()));
        assertThat(sagemaker.listEndpoints().endpoints()).isEmpty();
        assertThat(cli.run("plan", "--detailed-exitcode", spec.toString()).exitCode()).isZero();
    }

    @Test
    void resourcesMlctlDoesNotOwnAreLeftAlone() {
        s3.createBucket(b -> b.bucket("someone-elses"));
        ec2.createVpc(b -> b.cidrBlock("172.16.0.0/16"));
        ok(cli.run("apply", "--auto-approve", example));
        ok(cli.run("destroy", "--auto-approve", example));
        assertThat(s3.listBuckets().buckets()).extracting(b -> b.name()).containsExactly("someone-elses");
        assertThat(ec2.describeVpcs(b -> b.filters(Filter.builder().name("cidr").values("172.16.0.0/16").build())).vpcs()).hasSize(1);
    }

    @Test
    void aSubnetWithoutAZoneGetsOneFromAwsAndStaysInSync() {
        Path spec = Fixtures.write(dir, "nozone.yaml", """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata: {name: nozone}
            spec:
              provider: aws
              region: us-east-1
              resources:
                - {type: network, name: net, cidr: 10.4.0.0/16, subnets: [{name: any, cidr: 10.4.1.0/24}]}
            """);
        ok(cli.run("apply", "--auto-approve", spec.toString()));
        assertThat(ec2.describeSubnets(b -> b.filters(owned("nozone"))).subnets()).singleElement()
            .satisfies(s -> assertThat(s.availabilityZone()).startsWith("us-east-1"));
        assertThat(cli.run("plan", "--detailed-exitcode", spec.toString()).exitCode()).isZero();
        String zone = ec2.describeSubnets(b -> b.filters(owned("nozone"))).subnets().get(0).availabilityZone();
        Path pinned = Fixtures.write(dir, "pinned.yaml", Fixtures.read(spec).replace("cidr: 10.4.1.0/24}", "cidr: 10.4.1.0/24, zone: " + zone + "}"));
        // Naming the zone AWS chose changes nothing; naming another replaces that subnet alone (EC2 fixes it at creation).
        assertThat(cli.run("plan", "--detailed-exitcode", pinned.toString()).exitCode()).isZero();
        String other = zone.equals("us-east-1a") ? "us-east-1b" : "us-east-1a";
        Path moved = Fixtures.write(dir, "moved-zone.yaml", Fixtures.read(spec).replace("cidr: 10.4.1.0/24}", "cidr: 10.4.1.0/24, zone: " + other + "}"));
        assertThat(actions(planJson(moved.toString()))).containsExactlyInAnyOrderEntriesOf(Map.of("network.net", "update",
            "network.net.subnet.any", "replace"));
        String vpc = ec2.describeVpcs(b -> b.filters(owned("nozone"))).vpcs().get(0).vpcId();
        ok(cli.run("apply", "--auto-approve", "--allow-mass-delete", moved.toString()));
        assertThat(cli.run("plan", "--detailed-exitcode", moved.toString()).exitCode()).isZero();
        assertThat(ec2.describeSubnets(b -> b.filters(owned("nozone"))).subnets()).singleElement()
            .satisfies(s -> assertThat(s.availabilityZone()).isEqualTo(other))
            .satisfies(s -> assertThat(s.vpcId()).isEqualTo(vpc));
    }

    @Test
    void aClusterWithAnIdentityAndNoNodePoolsStaysInSync() {
        Path spec = Fixtures.write(dir, "bare-cluster.yaml", """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata: {name: bare}
            spec:
              provider: aws
              region: us-east-1
              resources:
                - {type: network, name: net, cidr: 10.6.0.0/16, subnets: [{name: a, cidr: 10.6.1.0/24, zone: us-east-1a},
                    {name: b, cidr: 10.6.2.0/24, zone: us-east-1b}]}
                - {type: identity, name: nodes}
                - {type: kubernetes_cluster, name: k, version: "1.30", subnet: net/a, identity: nodes}
            """);
        ok(cli.run("apply", "--auto-approve", spec.toString()));
        assertThat(cli.run("plan", "--detailed-exitcode", spec.toString()).exitCode()).isZero();
    }

    static long count(Iterable<?> it) {
        return StreamSupport.stream(it.spliterator(), false).count();
    }
}
