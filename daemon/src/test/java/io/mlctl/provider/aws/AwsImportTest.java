package io.mlctl.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Change;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.NotOwnedException;
import io.mlctl.provider.Page;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.testing.FaultProxy;
import io.mlctl.testing.MotoServer;
import io.mlctl.testing.Specs;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sagemaker.SageMakerClient;
import software.amazon.awssdk.services.sagemaker.model.ProductionVariant;

/**
 * Import and outputs of every AWS kind against moto_server: a resource made out of band (no marker) is read as list would
 * observe it, adopted with the planner's changes, then listed, updated and deleted as mlctl's own; what is someone else's,
 * unknown, malformed or misnamed is refused with one line and left as it is.
 */
@ExtendWith(MotoServer.class)
class AwsImportTest {
    private static final String SPEC = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata:
          name: dev
          labels: {team: %s}
        spec:
          provider: aws
          region: us-east-1
        %s
          resources:
            - type: network
              name: net
              cidr: 10.9.0.0/16
              subnets:
                - {name: a, cidr: 10.9.1.0/24, zone: us-east-1a}
                - {name: b, cidr: 10.9.2.0/24, zone: us-east-1b}
              firewall:
                - {name: ssh, ports: [22], sources: [203.0.113.0/24]}
            - type: bucket
              name: dev-data
              versioning: true
            - type: identity
              name: runner
              grants:
                - {actions: [storage.read], resource: bucket/dev-data}
            - type: identity
              name: ops
            - type: instance
              name: box
              machineType: m5.large
              subnet: net/a
            - type: kubernetes_cluster
              name: k
              version: "1.29"
              subnet: net/a
              identity: %s
              nodePools:
                - {name: cpu, machineType: m5.large, min: 1, max: 2}
            - type: inference_endpoint
              name: ep
              modelUri: s3://dev-data/m/model.tar.gz
              machineType: ml.m5.large
              framework: pytorch
              identity: runner
        """;
    private static final Address NET = Address.parse("network.net");
    private static final Address BUCKET = Address.parse("bucket.dev-data");
    private static final Address RUNNER = Address.parse("identity.runner");
    private static final Address BOX = Address.parse("instance.box");
    private static final Address CLUSTER = Address.parse("kubernetes_cluster.k");
    private static final Address EP = Address.parse("inference_endpoint.ep");
    private static final String ACCOUNT = "123456789012";
    /** Someone else's tag on every resource made out of band: kept by adoption, never drift. */
    private static final Map<String, String> THEIRS = Map.of("CostCenter", "finance");

    URI moto;
    Ec2Client ec2;
    S3Client s3;
    IamClient iam;
    EksClient eks;
    SageMakerClient sagemaker;
    AwsDriver driver;
    String vpcId;
    String subnetA;
    String subnetB;

    @BeforeEach
    void setUp(MotoServer.Instance m) {
        moto = m.endpoint();
        var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));
        ec2 = Ec2Client.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(moto).build();
        s3 = S3Client.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(moto).forcePathStyle(true).build();
        iam = IamClient.builder().region(Region.AWS_GLOBAL).credentialsProvider(creds).endpointOverride(moto).build();
        eks = EksClient.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(moto).build();
        sagemaker = SageMakerClient.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(moto).build();
        driver = driver(moto);
    }

    @AfterEach
    void tearDown() {
        driver.close();
        List.<SdkClient>of(ec2, s3, iam, eks, sagemaker).forEach(SdkClient::close);
    }

    private static AwsDriver driver(URI endpoint) {
        return new AwsDriver(AwsSettings.fromEnvironment(Map.of("AWS_ENDPOINT_URL", endpoint.toString(), "AWS_ACCESS_KEY_ID", "test",
            "AWS_SECRET_ACCESS_KEY", "test", "AWS_REGION", "us-east-1")), Specs.CATALOG);
    }

    /** The spec, with its import list naming {@code imports}, through the real loader. */
    private static Environment env(String team, String clusterIdentity, Map<Address, String> imports) {
        StringBuilder list = new StringBuilder(imports.isEmpty() ? "  import: []" : "  import:");
        imports.forEach((a, id) -> list.append("\n    - {to: ").append(a).append(", id: \"").append(id).append("\"}"));
        return Specs.env(SPEC.formatted(team, list, clusterIdentity));
    }

    private static ResourceSpec spec(Environment env, Address a) {
        return env.resource(a).orElseThrow();
    }

    // ---- resources made out of band, as someone did before mlctl ----

    private static List<software.amazon.awssdk.services.ec2.model.Tag> ec2Tags(Map<String, String> tags) {
        return tags.entrySet().stream().map(e -> software.amazon.awssdk.services.ec2.model.Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
    }

    private static TagSpecification tagged(software.amazon.awssdk.services.ec2.model.ResourceType type, Map<String, String> tags) {
        return TagSpecification.builder().resourceType(type).tags(ec2Tags(tags)).build();
    }

    /** Makes the resource at {@code a} with {@code tags} (plus someone else's tag) and returns the id mlctl import takes. */
    private String make(Address a, Map<String, String> tags) {
        Map<String, String> all = new TreeMap<>(THEIRS);
        all.putAll(tags);
        return switch (a.type()) {
            case NETWORK -> makeNetwork(all);
            case BUCKET -> {
                s3.createBucket(b -> b.bucket(a.name()));
                s3.putBucketTagging(b -> b.bucket(a.name()).tagging(t -> t.tagSet(all.entrySet().stream()
                    .map(e -> software.amazon.awssdk.services.s3.model.Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList())));
                yield a.name();
            }
            case IDENTITY -> {
                // At the root path, not mlctl's /mlctl/dev/: IAM cannot move a role, so any path is taken.
                iam.createRole(b -> b.roleName("dev-" + a.name()).path("/").assumeRolePolicyDocument(IdentityKind.TRUST)
                    .tags(all.entrySet().stream().map(e -> software.amazon.awssdk.services.iam.model.Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList()));
                yield "dev-" + a.name();
            }
            case INSTANCE -> {
                if (subnetA == null) makeNetwork(THEIRS);
                Image image = ec2.describeImages(b -> b.owners("amazon")).images().stream().filter(i -> i.rootDeviceName() != null).findFirst().orElseThrow();
                yield ec2.runInstances(b -> b.imageId(image.imageId()).instanceType("m5.large").minCount(1).maxCount(1).subnetId(subnetA)
                    .blockDeviceMappings(d -> d.deviceName(image.rootDeviceName()).ebs(e -> e.volumeSize(100)))
                    .tagSpecifications(tagged(software.amazon.awssdk.services.ec2.model.ResourceType.INSTANCE, all))).instances().get(0).instanceId();
            }
            case KUBERNETES_CLUSTER -> {
                if (subnetA == null) makeNetwork(THEIRS);
                eks.createCluster(b -> b.name("dev-k").version("1.29").roleArn("arn:aws:iam::" + ACCOUNT + ":role/platform-eks")
                    .resourcesVpcConfig(v -> v.subnetIds(subnetA, subnetB)).tags(all));
                yield "dev-k";
            }
            case INFERENCE_ENDPOINT -> {
                // The framework's default image, as mlctl would run it: the import implies no new revision.
                sagemaker.createModel(b -> b.modelName("legacy-model").executionRoleArn("arn:aws:iam::" + ACCOUNT + ":role/dev-runner")
                    .primaryContainer(pc -> pc.image(EndpointKind.defaultImage("pytorch", "us-east-1", false)).modelDataUrl("s3://dev-data/m/model.tar.gz")));
                sagemaker.createEndpointConfig(b -> b.endpointConfigName("legacy-config").productionVariants(ProductionVariant.builder()
                    .variantName("AllTraffic").modelName("legacy-model").initialInstanceCount(1).instanceType("ml.m5.large").build()));
                sagemaker.createEndpoint(b -> b.endpointName("dev-ep").endpointConfigName("legacy-config").tags(all.entrySet().stream()
                    .map(e -> software.amazon.awssdk.services.sagemaker.model.Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList()));
                yield "dev-ep";
            }
        };
    }

    private String makeNetwork(Map<String, String> tags) {
        vpcId = ec2.createVpc(b -> b.cidrBlock("10.9.0.0/16").tagSpecifications(tagged(software.amazon.awssdk.services.ec2.model.ResourceType.VPC, tags))).vpc().vpcId();
        subnetA = ec2.createSubnet(b -> b.vpcId(vpcId).cidrBlock("10.9.1.0/24").availabilityZone("us-east-1a")).subnet().subnetId();
        subnetB = ec2.createSubnet(b -> b.vpcId(vpcId).cidrBlock("10.9.2.0/24").availabilityZone("us-east-1b")).subnet().subnetId();
        return vpcId;
    }

    /** What read must show of each resource as made by {@link #make}: exactly what list shows of an owned one. */
    private static Map<String, Object> expectedRead(Address a) {
        return switch (a.type()) {
            case NETWORK -> Map.of("cidr", "10.9.0.0/16", "privateStorageAccess", false, "firewall", List.of(), "region", "us-east-1",
                "subnets", List.of(Map.of("name", "a", "cidr", "10.9.1.0/24", "zone", "us-east-1a", "private", true),
                    Map.of("name", "b", "cidr", "10.9.2.0/24", "zone", "us-east-1b", "private", true)));
            case BUCKET -> Map.of("versioning", false, "encryption", "managed", "public", true, "lifecycle", List.of(), "region", "us-east-1");
            case IDENTITY -> Map.of("grants", List.of(), "region", "us-east-1");
            // Its network is imported with it and has firewall rules: the group that import makes is to be attached.
            case INSTANCE -> Map.of("machineType", "m5.large", "spot", false, "subnet", "net/a", "diskGb", 100L, "region", "us-east-1",
                "firewall", "network firewall dev-net not attached");
            case KUBERNETES_CLUSTER -> Map.of("version", "1.29", "subnet", "net/a", "nodePools", List.of(), "region", "us-east-1");
            case INFERENCE_ENDPOINT -> Map.of("modelUri", "s3://dev-data/m/model.tar.gz", "machineType", "ml.m5.large", "framework", "pytorch",
                "minReplicas", 1L, "maxReplicas", 1L, "identity", "runner", "region", "us-east-1");
        };
    }

    /** What {@code mlctl output} shows of each, read from the cloud here independently. */
    private Map<String, String> expectedOutputs(Address a, ObservedResource r) {
        return switch (a.type()) {
            case NETWORK -> Map.of("subnets", "a=" + subnetA + ",b=" + subnetB, "securityGroup", ec2.describeSecurityGroups(b -> b.filters(
                Filter.builder().name("group-name").values("dev-net").build())).securityGroups().get(0).groupId());
            case BUCKET -> Map.of("uri", "s3://dev-data");
            case IDENTITY -> Map.of("arn", iam.getRole(b -> b.roleName("dev-runner")).role().arn(),
                "instanceProfile", iam.getInstanceProfile(b -> b.instanceProfileName("dev-runner")).instanceProfile().arn());
            case INSTANCE -> Map.of("privateIp", instance(r.cloudId()).privateIpAddress());
            case KUBERNETES_CLUSTER -> Map.of("endpoint", eks.describeCluster(b -> b.name("dev-k")).cluster().endpoint(), "version", "1.29",
                "credentials", "aws eks update-kubeconfig --region us-east-1 --name dev-k");
            case INFERENCE_ENDPOINT -> Map.of("invokeUrl", "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/dev-ep/invocations");
        };
    }

    private Instance instance(String id) {
        return ec2.describeInstances(b -> b.instanceIds(id)).reservations().get(0).instances().get(0);
    }

    private Optional<ObservedResource> listed(AwsDriver d, Environment env, Address a) {
        List<ObservedResource> all = new ArrayList<>();
        Optional<String> token = Optional.empty();
        do {
            Page p = d.list(env, a.type(), token);
            all.addAll(p.items());
            token = p.nextPageToken();
        } while (token.isPresent());
        List<ObservedResource> at = all.stream().filter(r -> r.address().equals(a)).toList();
        assertThat(at).as("at most one resource at " + a).hasSizeLessThanOrEqualTo(1);
        return at.stream().findFirst();
    }

    /** The planner's changes for {@code a} against {@code have}: what apply passes to adopt or update. None when unchanged. */
    private List<AttributeChange> planned(Environment env, Map<Address, ObservedResource> have, Address a) {
        Plan plan = new Planner(driver::rules).plan(env, new Inventory(env.name(), have, List.of()), PlanOptions.defaults(Instant.EPOCH));
        Optional<Change> c = plan.changes().stream().filter(x -> x.address().equals(a)).findFirst();
        c.ifPresent(x -> assertThat(x).as(a + " changes in place: " + x.reason()).isInstanceOf(Change.Update.class));
        return c.map(Change::attributes).orElse(List.of());
    }

    static Stream<Arguments> kinds() {
        return Stream.of(
            Arguments.of("network with its subnets", List.of(NET)),
            Arguments.of("bucket", List.of(BUCKET)),
            Arguments.of("identity at the root path under its mlctl name", List.of(RUNNER)),
            Arguments.of("instance with the network it runs in", List.of(NET, BOX)),
            Arguments.of("cluster with its network and identity", List.of(NET, RUNNER, CLUSTER)),
            Arguments.of("endpoint", List.of(EP)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void anUnmarkedResourceIsReadAdoptedListedUpdatedAndDeletedAsMlctlsOwn(String name, List<Address> addresses) {
        Map<Address, String> ids = new LinkedHashMap<>();
        for (Address a : addresses) ids.put(a, make(a, Map.of()));
        Environment env = env("ml", "runner", ids);

        // Read as plan reads an import list: everything first, before anything is adopted.
        Map<Address, ObservedResource> read = new LinkedHashMap<>();
        for (Address a : addresses) {
            ObservedResource r = driver.read(env, a, ids.get(a)).orElseThrow();
            assertThat(r.address()).isEqualTo(a);
            assertThat(r.attributes()).as(a + " read").containsExactlyInAnyOrderEntriesOf(expectedRead(a));
            assertThat(r.tags()).as(a + " tags").containsAllEntriesOf(THEIRS).doesNotContainKeys(Ownership.ENVIRONMENT_TAG, Ownership.ADDRESS_TAG);
            read.put(a, r);
        }

        // Adopted in order with the planner's changes; then listed as owned, exactly as the spec says.
        Map<Address, ObservedResource> owned = new LinkedHashMap<>();
        for (Address a : addresses) {
            driver.adopt(env, read.get(a), spec(env, a), planned(env, read, a));
            ObservedResource l = listed(driver, env, a).orElseThrow(() -> new AssertionError(a + " is not listed after adoption"));
            assertThat(l.cloudId()).isEqualTo(read.get(a).cloudId());
            assertSpecs(env, l);
            assertThat(l.tags()).containsAllEntriesOf(THEIRS).containsAllEntriesOf(Ownership.tags("dev", a));
            assertThat(driver.outputs(env, l)).as(a + " outputs").isEqualTo(expectedOutputs(a, l));
            owned.put(a, l);
        }
        if (addresses.contains(CLUSTER)) {
            // The nodes of the pool made at adoption carry a copy of the identity's grants.
            assertThat(nodeRolePolicy()).contains("arn:aws:s3:::dev-data/*");
        }

        // Updated as an owned resource (new labels; the cluster's identity too, which EKS changes in place).
        Environment relabelled = env("vision", "ops", ids);
        for (Address a : addresses) {
            List<AttributeChange> changes = planned(relabelled, owned, a);
            assertThat(changes).extracting(AttributeChange::path).contains("tags.team");
            ObservedResource before = new ObservedResource(a, owned.get(a).cloudId(), owned.get(a).attributes(), Map.of());
            driver.update(relabelled, before, spec(relabelled, a), changes);
            ObservedResource l = listed(driver, relabelled, a).orElseThrow();
            assertSpecs(relabelled, l);
            assertThat(l.tags()).containsEntry("team", "vision").containsAllEntriesOf(THEIRS);
            owned.put(a, l);
        }
        if (addresses.contains(CLUSTER)) {
            assertThat(nodeRolePolicy()).isEmpty(); // ops has no grants
            assertThat(iam.listRoleTags(b -> b.roleName("dev-k-node")).tags()).anySatisfy(t -> {
                assertThat(t.key()).isEqualTo(IdentityKind.GRANTS_FROM_TAG);
                assertThat(t.value()).isEqualTo("ops");
            });
        }

        // Deleted as an owned resource, dependents first.
        List<Address> reversed = new ArrayList<>(addresses);
        java.util.Collections.reverse(reversed);
        for (Address a : reversed) {
            driver.delete(relabelled, owned.get(a));
            assertThat(listed(driver, relabelled, a)).as(a + " listed after delete").isEmpty();
            assertThat(driver.read(relabelled, a, ids.get(a))).as(a + " read after delete").isEmpty();
        }
    }

    /** The listed resource is what the spec says: every attribute the spec gives, and nothing the planner would change. */
    private void assertSpecs(Environment env, ObservedResource listed) {
        assertThat(listed.attributes()).as(listed.address() + " listed").containsAllEntriesOf(spec(env, listed.address()).attributes());
        assertThat(planned(env, Map.of(listed.address(), listed), listed.address())).as(listed.address() + " planned after").isEmpty();
    }

    /** The grants policy mlctl keeps on the cluster's node role, URL-decoded; empty when there is none. */
    private String nodeRolePolicy() {
        try {
            return URLDecoder.decode(iam.getRolePolicy(b -> b.roleName("dev-k-node").policyName(IdentityKind.POLICY)).policyDocument(), StandardCharsets.UTF_8);
        } catch (software.amazon.awssdk.services.iam.model.NoSuchEntityException e) {
            return "";
        }
    }

    static Stream<Address> all() {
        return Stream.of(NET, BUCKET, RUNNER, BOX, CLUSTER, EP);
    }

    @ParameterizedTest
    @MethodSource("all")
    void anotherEnvironmentsResourceIsRefusedByAdoptAndKeepsItsTags(Address a) {
        String id = make(a, Ownership.tags("prod", a));
        Environment env = env("ml", "runner", Map.of(a, id));
        ObservedResource r = driver.read(env, a, id).orElseThrow();
        assertThat(r.tags()).containsAllEntriesOf(Ownership.tags("prod", a)); // the caller sees who owns it

        NotOwnedException e = catchThrowableOfType(NotOwnedException.class, () -> driver.adopt(env, r, spec(env, a), List.of()));
        assertThat(e.getMessage()).startsWith(a + ": ").contains("mlctl environment prod").contains("cannot be imported").doesNotContain("\n");
        assertThat(driver.read(env, a, id).orElseThrow().tags()).isEqualTo(r.tags());
        assertThat(listed(driver, env, a)).isEmpty();
    }

    static Stream<Arguments> unknown() {
        return Stream.of(Arguments.of(NET, "vpc-0123456789abcdef0"), Arguments.of(BUCKET, "dev-data"), Arguments.of(RUNNER, "dev-runner"),
            Arguments.of(RUNNER, "arn:aws:iam::" + ACCOUNT + ":role/mlctl/dev/dev-runner"), Arguments.of(BOX, "i-0123456789abcdef0"),
            Arguments.of(CLUSTER, "dev-k"), Arguments.of(EP, "dev-ep"));
    }

    @ParameterizedTest
    @MethodSource("unknown")
    void anIdNothingHasReadsAsEmpty(Address a, String id) {
        assertThat(driver.read(env("ml", "runner", Map.of()), a, id)).isEmpty();
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
            Arguments.of(NET, "subnet-0123456789abcdef0", "network.net: 'subnet-0123456789abcdef0' is not a VPC id; import it by its VPC id (vpc-"),
            Arguments.of(BUCKET, "Data_Lake", "bucket.dev-data: 'Data_Lake' is not an S3 bucket name; import it by its name"),
            Arguments.of(RUNNER, "arn:aws:s3:::dev-data", "identity.runner: 'arn:aws:s3:::dev-data' is not an IAM role name or role ARN; import it by its role name (dev-runner)"),
            Arguments.of(BOX, "vpc-0123456789abcdef0", "instance.box: 'vpc-0123456789abcdef0' is not an EC2 instance id; import it by its id (i-"),
            Arguments.of(CLUSTER, "arn:aws:eks:us-east-1:" + ACCOUNT + ":cluster/dev-k", "is not an EKS cluster name; import it by its name (dev-k)"),
            Arguments.of(EP, "dev_ep", "inference_endpoint.ep: 'dev_ep' is not a SageMaker endpoint name; import it by its name (dev-ep)"));
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void anIdOfTheWrongFormIsOneLineSayingTheFormItTakes(Address a, String id, String message) {
        DriverException e = catchThrowableOfType(DriverException.class, () -> driver.read(env("ml", "runner", Map.of()), a, id));
        assertThat(e.getMessage()).contains(message).doesNotContain("\n");
        assertThat(e.retryable()).isFalse();
    }

    @ParameterizedTest
    @MethodSource("all")
    void anIdOfTheWrongFormIsRefusedBeforeAnyRequest(Address a) {
        long before = driver.requestCount();
        assertThatThrownBy(() -> driver.read(env("ml", "runner", Map.of()), a, "not an id!")).isInstanceOf(DriverException.class);
        assertThat(driver.requestCount()).isEqualTo(before);
    }

    static Stream<Arguments> misnamed() {
        return Stream.of(
            Arguments.of(RUNNER, "legacy-trainer", "identity.runner: IAM role legacy-trainer cannot be imported as identity.runner: in environment dev it must be named dev-runner, and AWS cannot rename it"),
            Arguments.of(RUNNER, "arn:aws:iam::" + ACCOUNT + ":role/legacy-trainer", "IAM role legacy-trainer cannot be imported as identity.runner: in environment dev it must be named dev-runner"),
            Arguments.of(CLUSTER, "legacy", "kubernetes_cluster.k: EKS cluster legacy cannot be imported as kubernetes_cluster.k: in environment dev it must be named dev-k, and AWS cannot rename it"),
            Arguments.of(EP, "legacy", "inference_endpoint.ep: SageMaker endpoint legacy cannot be imported as inference_endpoint.ep: in environment dev it must be named dev-ep"),
            Arguments.of(BUCKET, "legacy-data", "bucket.dev-data: bucket legacy-data cannot be imported as bucket.dev-data: a bucket's address in the spec is its name (bucket.legacy-data)"));
    }

    /** Others reach these by the name mlctl gives the address (instance profiles, grants, execution roles): another name is refused. */
    @ParameterizedTest
    @MethodSource("misnamed")
    void aResourceNotNamedAsMlctlNamesTheAddressIsRefusedSayingTheNameItMustHave(Address a, String id, String message) {
        String name = id.substring(id.lastIndexOf('/') + 1);
        switch (a.type()) {
            case IDENTITY -> iam.createRole(b -> b.roleName(name).path("/").assumeRolePolicyDocument(IdentityKind.TRUST));
            case KUBERNETES_CLUSTER -> eks.createCluster(b -> b.name(name).roleArn("arn:aws:iam::" + ACCOUNT + ":role/x").resourcesVpcConfig(v -> v.subnetIds("subnet-1")));
            case INFERENCE_ENDPOINT -> {
                sagemaker.createModel(b -> b.modelName("m").executionRoleArn("arn:aws:iam::" + ACCOUNT + ":role/x").primaryContainer(pc -> pc.image("img").modelDataUrl("s3://x/y")));
                sagemaker.createEndpointConfig(b -> b.endpointConfigName("c").productionVariants(ProductionVariant.builder().variantName("v").modelName("m")
                    .initialInstanceCount(1).instanceType("ml.m5.large").build()));
                sagemaker.createEndpoint(b -> b.endpointName(name).endpointConfigName("c"));
            }
            case BUCKET -> s3.createBucket(b -> b.bucket(name));
            default -> throw new IllegalArgumentException(a.toString());
        }
        DriverException e = catchThrowableOfType(DriverException.class, () -> driver.read(env("ml", "runner", Map.of(a, id)), a, id));
        assertThat(e.getMessage()).contains(message).doesNotContain("\n");
        assertThat(e.retryable()).isFalse();
    }

    static Stream<Arguments> lostTagging() {
        return Stream.of(
            Arguments.of(BUCKET, (Predicate<FaultProxy.Request>) r -> r.method().equals("PUT") && r.query().contains("tagging")),
            Arguments.of(NET, (Predicate<FaultProxy.Request>) r -> r.isAction("CreateTags") && r.body().contains("ResourceId.1=vpc-")),
            Arguments.of(RUNNER, (Predicate<FaultProxy.Request>) r -> r.isAction("TagRole")));
    }

    /**
     * Every answer to the call that writes the marker is lost, the SDK's own retries included: the step fails as retryable,
     * and apply's retry of the adopt finds its own marker and finishes without writing it again.
     */
    @ParameterizedTest
    @MethodSource("lostTagging")
    void anAdoptWhoseMarkingAnswerIsLostIsFinishedByTheRetry(Address a, Predicate<FaultProxy.Request> marking) throws Exception {
        String id = make(a, Map.of());
        Environment env = env("ml", "runner", Map.of(a, id));
        try (FaultProxy proxy = new FaultProxy(moto); AwsDriver lossy = driver(proxy.endpoint())) {
            ObservedResource r = lossy.read(env, a, id).orElseThrow();
            List<AttributeChange> changes = planned(env, Map.of(a, r), a);
            FaultProxy.Drop lost = proxy.dropResponse(marking, AwsClients.READ_ATTEMPTS);
            DriverException first = catchThrowableOfType(DriverException.class, () -> lossy.adopt(env, r, spec(env, a), changes));
            assertThat(first.retryable()).as(first.getMessage()).isTrue();
            assertThat(lost.dropped()).hasSize(AwsClients.READ_ATTEMPTS);

            AtomicInteger marked = new AtomicInteger();
            proxy.answer(x -> {
                if (marking.test(x)) marked.incrementAndGet();
                return false;
            }, 200, "text/plain", "", 0);
            lossy.adopt(env, r, spec(env, a), changes);
            assertThat(marked).as("the retry writes no marker again").hasValue(0);
            ObservedResource l = listed(lossy, env, a).orElseThrow();
            assertSpecs(env, l);
            assertThat(l.tags()).containsAllEntriesOf(Ownership.tags("dev", a)).containsAllEntriesOf(THEIRS);
        }
    }
}
