package io.mlctl.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.catalog.Catalog;
import io.mlctl.schema.SchemaValidator;
import io.mlctl.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {
    private static final SchemaValidator SCHEMA = new SchemaValidator();
    private static final Catalog CATALOG = Catalog.loadDefault();

    @TempDir
    Path dir;

    private ConfigRepo load(Path... paths) {
        return new ConfigLoader(new YamlLoader(), SCHEMA, CATALOG, dir).load(List.of(paths));
    }

    private List<String> errors(String yaml) {
        Fixtures.write(dir, "env.yaml", yaml);
        try {
            load(dir.resolve("env.yaml"));
        } catch (SpecException e) {
            return e.errors().stream().map(SpecError::toString).toList();
        }
        throw new AssertionError("expected the spec to be rejected");
    }

    private static final String HEAD = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata:
          name: dev
        spec:
          provider: aws
          region: us-east-1
          resources:
        """;

    static Stream<Arguments> badSpecs() {
        return Stream.of(
            Arguments.of("label names that do not fit the tag recording them", HEAD.replace("  name: dev", "  name: dev\n  labels: {label-name-number-00-is-long: x, label-name-number-01-is-long: x, label-name-number-02-is-long: x, label-name-number-03-is-long: x, label-name-number-04-is-long: x, label-name-number-05-is-long: x, label-name-number-06-is-long: x, label-name-number-07-is-long: x, label-name-number-08-is-long: x}")
                .replace("resources:\n", "resources: []\n"), "env.yaml:5:11: the label names together are 260 characters; at most 255 fit in the tag that records them (use fewer or shorter names)"),
            Arguments.of("unknown top-level field", HEAD.replace("kind: Environment", "kind: Environment\nextra: 1"),
                "env.yaml:3:1: unknown field 'extra'"),
            Arguments.of("unknown resource field", HEAD + "  - type: bucket\n    name: b1\n    colour: blue\n",
                "env.yaml:11:5: unknown field 'colour' in spec.resources[0]"),
            Arguments.of("wrong type", HEAD + "  - type: bucket\n    name: b1\n    versioning: maybe\n",
                "env.yaml:11:17: spec.resources[0].versioning: string found, boolean expected"),
            Arguments.of("unknown resource type", HEAD + "  - type: database\n    name: db\n",
                "env.yaml:9:11: spec.resources[0].type: does not have a value in the enumeration"),
            Arguments.of("missing required field", HEAD + "  - type: network\n    name: n1\n",
                "env.yaml:9:5: missing required field 'cidr' in spec.resources[0]"),
            Arguments.of("bad name", HEAD + "  - type: bucket\n    name: My_Bucket\n",
                "env.yaml:10:11: spec.resources[0].name: 'My_Bucket' is not a valid name"),
            Arguments.of("unknown provider", HEAD.replace("provider: aws", "provider: oracle"),
                "env.yaml:6:13: spec.provider: does not have a value in the enumeration"),
            Arguments.of("unknown region", HEAD.replace("us-east-1", "us-east-9").replace("resources:\n", "resources: []\n"),
                "env.yaml:7:11: unknown region 'us-east-9' for aws (did you mean 'us-east-1'?)"),
            Arguments.of("duplicate resource", HEAD + "  - type: bucket\n    name: b1\n  - type: bucket\n    name: b1\n",
                "env.yaml:12:11: duplicate resource bucket.b1 (first defined at env.yaml:9:5)"),
            Arguments.of("bad CIDR", HEAD + "  - type: network\n    name: n1\n    cidr: 10.0.0.300/16\n",
                "env.yaml:11:11: '10.0.0.300/16' is not a CIDR block (octet 300 is out of range 0-255)"),
            Arguments.of("host bits set", HEAD + "  - type: network\n    name: n1\n    cidr: 10.0.0.1/16\n",
                "env.yaml:11:11: '10.0.0.1/16' has host bits set (did you mean 10.0.0.0/16?)"),
            Arguments.of("subnet outside network", HEAD + """
                  - type: network
                    name: n1
                    cidr: 10.0.0.0/16
                    subnets:
                      - name: s1
                        cidr: 10.1.0.0/24
                """, "env.yaml:14:15: subnet 10.1.0.0/24 is not inside network 10.0.0.0/16"),
            Arguments.of("overlapping subnets", HEAD + """
                  - type: network
                    name: n1
                    cidr: 10.0.0.0/16
                    subnets:
                      - name: s1
                        cidr: 10.0.0.0/23
                      - name: s2
                        cidr: 10.0.1.0/24
                """, "env.yaml:16:15: subnet 10.0.1.0/24 overlaps subnet 's1' (10.0.0.0/23)"),
            Arguments.of("zone outside region", HEAD + """
                  - type: network
                    name: n1
                    cidr: 10.0.0.0/16
                    subnets:
                      - name: s1
                        cidr: 10.0.0.0/24
                        zone: eu-west-1a
                """, "env.yaml:15:15: zone 'eu-west-1a' is not in region us-east-1"),
            Arguments.of("dangling reference", HEAD + """
                  - type: identity
                    name: id1
                    grants:
                      - actions: [storage.read]
                        resource: bucket/missing
                """, "env.yaml:13:19: reference to undeclared bucket 'missing'"),
            Arguments.of("dangling subnet", HEAD + """
                  - type: network
                    name: n1
                    cidr: 10.0.0.0/16
                  - type: instance
                    name: i1
                    machineType: m5.large
                    subnet: n1/nope
                """, "env.yaml:15:13: network 'n1' has no subnet named 'nope'"),
            Arguments.of("unknown machine type", HEAD + """
                  - type: network
                    name: n1
                    cidr: 10.0.0.0/16
                    subnets: [{name: s1, cidr: 10.0.0.0/24}]
                  - type: instance
                    name: i1
                    machineType: p3.2xlarg
                    subnet: n1/s1
                """, "env.yaml:15:18: unknown machine type 'p3.2xlarg' for aws (did you mean 'p3.2xlarge'?)"),
            Arguments.of("machine type of another cloud", HEAD + """
                  - type: inference_endpoint
                    name: e1
                    modelUri: s3://b/m
                    machineType: n1-standard-4
                """, "env.yaml:12:18: unknown endpoint machine type 'n1-standard-4' for aws"),
            Arguments.of("model uri of another cloud", HEAD + """
                  - type: inference_endpoint
                    name: e1
                    modelUri: gs://b/m
                    machineType: ml.m5.large
                """, "env.yaml:11:15: model URI 'gs://b/m' must start with s3:// on aws"),
            Arguments.of("min above max", HEAD + """
                  - type: inference_endpoint
                    name: e1
                    modelUri: s3://b/m
                    machineType: ml.m5.large
                    minReplicas: 5
                    maxReplicas: 2
                """, "env.yaml:13:18: minReplicas (5) is greater than maxReplicas (2)"),
            Arguments.of("SageMaker endpoint without a role", HEAD + """
                  - type: inference_endpoint
                    name: e1
                    modelUri: s3://b/m
                    machineType: ml.m5.large
                """, "env.yaml:9:5: a SageMaker endpoint needs an execution role: give it an identity"),
            Arguments.of("SageMaker endpoint scaled to zero", HEAD + """
                  - type: inference_endpoint
                    name: e1
                    modelUri: s3://b/m
                    machineType: ml.m5.large
                    minReplicas: 0
                """, "env.yaml:13:18: SageMaker real-time endpoints run at least 1 replica"),
            Arguments.of("cycle", HEAD + """
                  - type: identity
                    name: id1
                    grants:
                      - actions: [endpoint.invoke]
                        resource: inference_endpoint/e1
                  - type: inference_endpoint
                    name: e1
                    modelUri: s3://b/m
                    machineType: ml.m5.large
                    identity: id1
                """, "env.yaml:9:5: dependency cycle: identity.id1 -> inference_endpoint.e1 -> identity.id1"),
            Arguments.of("malformed YAML", "spec: [1, 2\nkind: x\n", "env.yaml:2:5: invalid YAML"),
            Arguments.of("duplicate key", "kind: a\nkind: b\n", "env.yaml:2:1: invalid YAML: found duplicate key kind"),
            Arguments.of("billion laughs", """
                a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
                b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
                c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
                d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
                e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
                f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
                g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
                """, "invalid YAML: Number of aliases for non-scalar nodes exceeds the specified max=50"),
            Arguments.of("deep nesting", "a: " + "[".repeat(200) + "]".repeat(200) + "\n", "nesting is too deep"),
            Arguments.of("GPU attached on AWS", HEAD + """
                  - type: network
                    name: n1
                    cidr: 10.0.0.0/16
                    subnets: [{name: s1, cidr: 10.0.0.0/24}]
                  - type: instance
                    name: i1
                    machineType: m5.large
                    subnet: n1/s1
                    accelerator: {type: nvidia-tesla-t4}
                """, "env.yaml:17:18: aws attaches GPUs through the machine type"),
            Arguments.of("EKS cluster in one zone", HEAD + EKS_NETWORK.formatted("{name: s2, cidr: 10.0.1.0/24, zone: us-east-1a}"),
                "env.yaml:16:13: EKS needs subnets in at least two availability zones: network 'n1' has 2 subnets in zone us-east-1a;"
                    + " add a subnet with a zone in another availability zone"),
            Arguments.of("EKS cluster with one subnet", HEAD + EKS_NETWORK.replace(", %s", ""),
                "env.yaml:16:13: EKS needs subnets in at least two availability zones: network 'n1' has 1 subnet in zone us-east-1a;"),
            Arguments.of("EKS cluster with a subnet of no zone", HEAD + EKS_NETWORK.formatted("{name: s2, cidr: 10.0.1.0/24}"),
                "env.yaml:16:13: EKS needs subnets in at least two availability zones: network 'n1' has 2 subnets in zone us-east-1a;"),
            Arguments.of("image and framework", HEAD + """
                  - type: inference_endpoint
                    name: e1
                    modelUri: s3://b/m
                    machineType: ml.m5.large
                    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/scorer:1
                    framework: pytorch
                """, "env.yaml:14:16: give either image or framework, not both"),
            Arguments.of("scikit-learn on a GPU", HEAD + """
                  - type: inference_endpoint
                    name: e1
                    modelUri: s3://b/m
                    machineType: ml.g5.xlarge
                    framework: sklearn
                """, "env.yaml:13:16: the SageMaker scikit-learn image has no GPU build; choose a CPU machine type or give an image"));
    }

    private static final String EKS_NETWORK = """
          - type: network
            name: n1
            cidr: 10.0.0.0/16
            subnets: [{name: s1, cidr: 10.0.0.0/24, zone: us-east-1a}, %s]
          - type: kubernetes_cluster
            name: k
            version: "1.29"
            subnet: n1/s1
        """;

    @Test
    void anEksClusterAcrossTwoZonesIsAcceptedAndOtherCloudsHaveNoSuchRule() {
        Fixtures.write(dir, "ok.yaml", HEAD + EKS_NETWORK.formatted("{name: s2, cidr: 10.0.1.0/24, zone: us-east-1b}"));
        assertThat(load(dir.resolve("ok.yaml")).environments().get(0).resources()).hasSize(2);
        Fixtures.write(dir, "gcp/gcp.yaml", HEAD.replace("provider: aws", "provider: gcp").replace("us-east-1", "us-central1")
            + EKS_NETWORK.replace(", %s", "").replace("us-east-1a", "us-central1-a"));
        assertThat(load(dir.resolve("gcp/gcp.yaml")).environments().get(0).resources()).hasSize(2);
    }

    @Test
    void anEndpointRunsItsImageOrItsFrameworksDefault() {
        Fixtures.write(dir, "ep.yaml", HEAD + """
              - type: identity
                name: id1
              - type: inference_endpoint
                name: own
                modelUri: s3://b/m
                machineType: ml.m5.large
                identity: id1
                image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/scorer:1
              - type: inference_endpoint
                name: default
                modelUri: s3://b/m
                machineType: ml.m5.large
                identity: id1
            """);
        Environment env = load(dir.resolve("ep.yaml")).environments().get(0);
        assertThat(env.resource(Address.parse("inference_endpoint.own")).orElseThrow().attributes())
            .containsEntry("image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/scorer:1").doesNotContainKey("framework");
        assertThat(env.resource(Address.parse("inference_endpoint.default")).orElseThrow().attributes())
            .containsEntry("framework", "pytorch").doesNotContainKey("image");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badSpecs")
    void rejectsBadSpecWithPositionedError(String name, String yaml, String expected) {
        assertThat(errors(yaml)).anySatisfy(e -> assertThat(e).contains(expected));
    }

    @Test
    void reportsEveryErrorInOneRun() {
        List<String> errs = errors(HEAD + """
              - type: network
                name: n1
                cidr: 10.0.0.1/16
              - type: instance
                name: i1
                machineType: nope
                subnet: n1/s9
            """);
        assertThat(errs).hasSize(3);
        assertThat(errs).allSatisfy(e -> assertThat(e).matches("env\\.yaml:\\d+:\\d+: .*"));
    }

    @Test
    void reportsErrorsAcrossFilesAndDuplicateEnvironmentNames() {
        Fixtures.write(dir, "a.yaml", Fixtures.smallEnv("dev"));
        Fixtures.write(dir, "sub/b.yaml", Fixtures.smallEnv("dev"));
        Fixtures.write(dir, "c.yml", "apiVersion: 1\n");
        assertThatThrownBy(() -> load(dir)).isInstanceOfSatisfying(SpecException.class, e -> {
            assertThat(e.errors()).extracting(SpecError::toString)
                .anySatisfy(s -> assertThat(s).startsWith("sub/b.yaml:4:9: duplicate environment name 'dev' (first defined at a.yaml:4:9)"))
                .anySatisfy(s -> assertThat(s).startsWith("c.yml:1:1: missing required field 'kind'"));
        });
    }

    @Test
    void hugeFileIsRefusedBeforeParsing() {
        Path big = dir.resolve("big.yaml");
        Fixtures.write(dir, "big.yaml", "a: " + "x".repeat(5 * 1024 * 1024) + "\n");
        assertThatThrownBy(() -> load(big)).isInstanceOfSatisfying(SpecException.class,
            e -> assertThat(e.errors().get(0).toString()).startsWith("big.yaml:1:1: file is too large (5242884 bytes"));
    }

    @Test
    void issueExampleValidatesAsWrittenWithDefaultsApplied() {
        ConfigRepo repo = load(Fixtures.examples().resolve("aws-training.yaml"));
        Environment env = repo.environment("training-dev");
        assertThat(env.provider()).isEqualTo(Provider.AWS);
        assertThat(env.applyMode()).isEqualTo(Environment.ApplyMode.AUTO);
        assertThat(env.labels()).containsEntry("cost-center", "research");
        assertThat(env.resources()).extracting(r -> r.address().toString()).containsExactly(
            "network.ml-vpc", "bucket.ml-data-dev", "identity.trainer", "instance.trainer-1", "kubernetes_cluster.ml-cluster",
            "inference_endpoint.fraud-model");
        ResourceSpec instance = env.resource(Address.parse("instance.trainer-1")).orElseThrow();
        assertThat(instance.dependencies()).containsExactlyInAnyOrder(Address.parse("network.ml-vpc"), Address.parse("identity.trainer"));
        assertThat(instance.attributes()).containsEntry("diskGb", 200L).containsEntry("spot", true).containsEntry("region", "us-east-1");
        ResourceSpec endpoint = env.resource(Address.parse("inference_endpoint.fraud-model")).orElseThrow();
        assertThat(endpoint.dependencies()).contains(Address.parse("bucket.ml-data-dev"));
        ResourceSpec network = env.resource(Address.parse("network.ml-vpc")).orElseThrow();
        assertThat(network.attributes()).containsEntry("privateStorageAccess", false);
    }

    @Test
    void everyExampleValidates() {
        ConfigRepo repo = load(Fixtures.examples());
        assertThat(repo.environments()).extracting(Environment::name).containsExactlyInAnyOrder(
            "training-dev", "vision-gcp", "nlp-azure", "residency-eu", "residency-us", "residency-asia");
    }
}
