package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code mlctl output} on the sandbox: what each kind of resource gives a person, per cloud, read after an apply. */
class OutputCommandTest {
    @TempDir
    Path dir;
    Cli cli;

    @BeforeEach
    void setUp() {
        cli = new Cli(dir);
    }

    private static JsonNode json(String text) {
        return JsonMapper.builder().build().readTree(text);
    }

    private Cli.Result ok(String... args) {
        Cli.Result r = cli.run(args);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    /** An instance on GCP and Azure too (their examples have none), in the example's subnet. */
    private static final String GCP_INSTANCE = "    - type: instance\n      name: labeler\n      machineType: n1-standard-4\n      subnet: vision-net/gke\n";
    private static final String AZURE_INSTANCE = "    - type: instance\n      name: tokenizer\n      machineType: Standard_D4s_v3\n      subnet: nlp-vnet/aks\n";

    /** Every output of every resource, as regular expressions: the keys are exactly these, and each value matches. */
    static Stream<Arguments> examples() {
        return Stream.of(
            Arguments.of("aws-training.yaml", "", Map.of(
                "network.ml-vpc", Map.of("subnets", "training=subnet-[0-9a-f]{17},training-b=subnet-[0-9a-f]{17}", "securityGroup", "sg-[0-9a-f]{17}"),
                "bucket.ml-data-dev", Map.of("uri", "s3://ml-data-dev"),
                "identity.trainer", Map.of("arn", "arn:aws:iam::000000000000:role/training-dev-trainer",
                    "instanceProfile", "arn:aws:iam::000000000000:instance-profile/training-dev-trainer"),
                "instance.trainer-1", Map.of("privateIp", "10\\.0\\.1\\.[0-9]+"),
                "kubernetes_cluster.ml-cluster", Map.of("endpoint", "https://[0-9A-F]{32}\\.gr7\\.us-east-1\\.eks\\.amazonaws\\.com",
                    "credentials", "aws eks update-kubeconfig --region us-east-1 --name training-dev-ml-cluster", "version", "1\\.29"),
                "inference_endpoint.fraud-model", Map.of("invokeUrl",
                    "https://runtime\\.sagemaker\\.us-east-1\\.amazonaws\\.com/endpoints/training-dev-fraud-model/invocations"))),
            Arguments.of("gcp-vision.yaml", GCP_INSTANCE, Map.of(
                "network.vision-net", Map.of("subnets", "gke=projects/sandbox-project/regions/us-central1/subnetworks/vision-gcp-vision-net-gke"),
                "bucket.vision-datasets-gcp", Map.of("uri", "gs://vision-datasets-gcp"),
                "identity.vision-trainer", Map.of("email", "vision-gcp-vision-trainer@sandbox-project\\.iam\\.gserviceaccount\\.com"),
                "instance.labeler", Map.of("privateIp", "10\\.10\\.([0-9]|1[0-5])\\.[0-9]+"),
                "kubernetes_cluster.vision-gke", Map.of("endpoint", "https://34\\.[0-9]+\\.[0-9]+\\.[0-9]+",
                    "credentials", "gcloud container clusters get-credentials vision-gcp-vision-gke --region us-central1 --project sandbox-project",
                    "version", "1\\.[0-9]{2}\\.[0-9]+-gke\\.[0-9]+"),
                "inference_endpoint.vision-classifier", Map.of("invokeUrl",
                    "https://us-central1-aiplatform\\.googleapis\\.com/v1/projects/sandbox-project/locations/us-central1/endpoints/[0-9]+:predict"))),
            Arguments.of("azure-nlp.yaml", AZURE_INSTANCE, Map.of(
                "network.nlp-vnet", Map.of("subnets", "aks=/subscriptions/0{8}-0{4}-0{4}-0{4}-0{12}/resourceGroups/nlp-azure/providers/"
                    + "Microsoft\\.Network/virtualNetworks/nlp-vnet/subnets/aks"),
                "bucket.nlp-corpora", Map.of("uri", "https://nlpazure\\.blob\\.core\\.windows\\.net/nlp-corpora"),
                "identity.nlp-serving", Map.of("clientId", "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}",
                    "principalId", "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}"),
                "instance.tokenizer", Map.of("privateIp", "10\\.20\\.[0-3]\\.[0-9]+"),
                "kubernetes_cluster.nlp-aks", Map.of("endpoint", "https://nlp-aks-[0-9a-f]{8}\\.hcp\\.eastus\\.azmk8s\\.io:443",
                    "credentials", "az aks get-credentials --resource-group nlp-azure --name nlp-aks", "version", "1\\.[0-9]{2}\\.[0-9]+"),
                "inference_endpoint.sentiment", Map.of("invokeUrl", "https://sentiment\\.eastus\\.inference\\.ml\\.azure\\.com/score"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void afterAnApplyEachResourceHasTheOutputsOfItsKindAndCloud(String example, String extra, Map<String, Map<String, String>> expected) {
        String spec = Fixtures.write(dir, "specs/" + example, Fixtures.read(Fixtures.examples().resolve(example)) + extra).toString();
        ok("apply", "--sandbox", "--auto-approve", spec);
        Cli.Result r = ok("output", "--sandbox", "--format", "json", spec);
        JsonNode doc = json(r.out());
        assertThat(doc.get("formatVersion").asString()).isEqualTo("1.0");
        assertThat(doc.get("environments").size()).isEqualTo(1);
        JsonNode env = doc.at("/environments/0");
        Map<String, Map<String, String>> actual = new TreeMap<>();
        for (JsonNode res : env.get("resources")) {
            assertThat(res.get("address").asString()).isEqualTo(res.get("type").asString() + "." + res.get("name").asString());
            assertThat(res.get("id").asString()).as(res.get("address").asString()).isNotBlank();
            Map<String, String> outputs = new TreeMap<>();
            res.get("outputs").properties().forEach(e -> outputs.put(e.getKey(), e.getValue().asString()));
            actual.put(res.get("address").asString(), outputs);
        }
        assertThat(actual.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        expected.forEach((address, keys) -> {
            assertThat(actual.get(address).keySet()).as(address).containsExactlyInAnyOrderElementsOf(keys.keySet());
            keys.forEach((k, pattern) -> assertThat(actual.get(address).get(k)).as(address + " " + k).matches(pattern));
        });
        // Read again, the same: derived from the cloud, not made up each time.
        assertThat(ok("output", "--sandbox", "--format", "json", spec).out()).isEqualTo(r.out());
    }

    @Test
    void textIsOneBlockPerResourceWithAlignedValues() {
        String spec = Fixtures.write(dir, "specs/aws.yaml", Fixtures.read(Fixtures.examples().resolve("aws-training.yaml"))).toString();
        ok("apply", "--sandbox", "--auto-approve", spec);
        String out = ok("output", "--sandbox", spec).out();
        JsonNode doc = json(ok("output", "--sandbox", "--format", "json", spec).out());
        assertThat(out).startsWith("training-dev (aws, us-east-1): 6 resources\n\n")
            .contains("\nbucket.ml-data-dev\n  id  = ml-data-dev\n  uri = s3://ml-data-dev\n")
            .contains("\nkubernetes_cluster.ml-cluster\n  id          = arn:aws:eks:us-east-1:000000000000:cluster/training-dev-ml-cluster\n"
                + "  endpoint    = " + doc.at("/environments/0/resources").valueStream()
                    .filter(n -> n.get("address").asString().equals("kubernetes_cluster.ml-cluster")).findFirst().orElseThrow().at("/outputs/endpoint").asString()
                + "\n  credentials = aws eks update-kubeconfig --region us-east-1 --name training-dev-ml-cluster\n  version     = 1.29\n");
        // Every JSON value is in the text, as it is (a command or URL is copied from there).
        for (JsonNode res : doc.at("/environments/0/resources")) {
            assertThat(out).contains("\n" + res.get("address").asString() + "\n");
            res.get("outputs").properties().forEach(e -> assertThat(out).containsPattern(" " + e.getKey() + " +=\\s" + java.util.regex.Pattern.quote(e.getValue().asString()) + "\n"));
        }
    }

    /** Whether an instance's subnet gives it a public address: AWS does for a public subnet; mlctl gives Azure VMs none. */
    static Stream<Arguments> publicAddresses() {
        return Stream.of(
            Arguments.of("aws", "us-east-1", "g4dn.xlarge", "false", true),
            Arguments.of("aws", "us-east-1", "g4dn.xlarge", "true", false),
            Arguments.of("azure", "eastus", "Standard_D4s_v3", "false", false));
    }

    @ParameterizedTest(name = "{0}, private {3}")
    @MethodSource("publicAddresses")
    void anInstanceHasAPublicIpOnlyWhereItGetsOne(String provider, String region, String machineType, String isPrivate, boolean hasPublicIp) {
        String spec = Fixtures.write(dir, "specs/edge.yaml", """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: edge
            spec:
              provider: %s
              region: %s
              resources:
                - type: network
                  name: net
                  cidr: 10.4.0.0/16
                  subnets:
                    - name: web
                      cidr: 10.4.8.0/24
                      private: %s
                - type: instance
                  name: box
                  machineType: %s
                  subnet: net/web
            """.formatted(provider, region, isPrivate, machineType)).toString();
        ok("apply", "--sandbox", "--auto-approve", spec);
        JsonNode box = json(ok("output", "--sandbox", "--format", "json", spec).out()).at("/environments/0/resources").valueStream()
            .filter(n -> n.get("address").asString().equals("instance.box")).findFirst().orElseThrow();
        assertThat(box.at("/outputs/privateIp").asString()).matches("10\\.4\\.8\\.[0-9]+");
        assertThat(box.get("outputs").has("publicIp")).isEqualTo(hasPublicIp);
        if (hasPublicIp) assertThat(box.at("/outputs/publicIp").asString()).matches("54(\\.[0-9]+){3}");
    }

    @Test
    void anEnvironmentWithNothingAppliedSaysSoAndSucceeds() {
        String spec = Fixtures.write(dir, "specs/dev.yaml", Fixtures.smallEnv("dev")).toString();
        Cli.Result text = ok("output", "--sandbox", spec);
        assertThat(text.out()).isEqualTo("dev (aws, us-east-1): nothing applied yet (the environment owns no resources)\n");
        assertThat(text.err()).isEmpty();
        JsonNode doc = json(ok("output", "--sandbox", "--format", "json", spec).out());
        assertThat(doc.at("/environments/0/name").asString()).isEqualTo("dev");
        assertThat(doc.at("/environments/0/resources").isArray()).isTrue();
        assertThat(doc.at("/environments/0/resources").isEmpty()).isTrue();
    }

    @Test
    void envChoosesOneEnvironmentAndEveryOneIsShownWithout() {
        Fixtures.write(dir, "specs/dev.yaml", Fixtures.smallEnv("dev"));
        Fixtures.write(dir, "specs/prod.yaml", Fixtures.smallEnv("prod"));
        String specs = dir.resolve("specs").toString();
        ok("apply", "--sandbox", "--auto-approve", "--env", "prod", specs);
        Cli.Result prod = ok("output", "--sandbox", "--env", "prod", specs);
        assertThat(prod.out()).startsWith("prod (aws, us-east-1): 4 resources\n").contains("\nbucket.prod-data\n").doesNotContain("dev");
        Cli.Result both = ok("output", "--sandbox", specs);
        assertThat(both.out()).contains("dev (aws, us-east-1): nothing applied yet").contains("prod (aws, us-east-1): 4 resources");
        JsonNode doc = json(ok("output", "--sandbox", "--format", "json", specs).out());
        List<String> names = new ArrayList<>();
        doc.get("environments").forEach(e -> names.add(e.get("name").asString() + ":" + e.get("resources").size()));
        assertThat(names).containsExactlyInAnyOrder("dev:0", "prod:4");
    }

    static Stream<Arguments> refusals() {
        return Stream.of(
            Arguments.of(List.of("--env", "prdo"), "no environment named 'prdo' (did you mean 'prod'?)"),
            Arguments.of(List.of("--env", "staging"), "no environment named 'staging' (found: dev, prod)"),
            Arguments.of(List.of("--format", "markdown"), "output prints text or json"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("refusals")
    void aWrongChoiceIsOneLine(List<String> flags, String message) {
        Fixtures.write(dir, "specs/dev.yaml", Fixtures.smallEnv("dev"));
        Fixtures.write(dir, "specs/prod.yaml", Fixtures.smallEnv("prod"));
        List<String> args = new ArrayList<>(List.of("output", "--sandbox"));
        args.addAll(flags);
        args.add(dir.resolve("specs").toString());
        Cli.Result r = cli.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines().toList()).as(r.toString()).hasSize(1);
        assertThat(r.err()).contains(message);
    }

    @Test
    void helpSaysWhatEachKindGives() {
        Cli.Result help = ok("output", "--help");
        assertThat(help.out()).contains("Usage: mlctl output").contains("--sandbox").contains("--env").contains("--format")
            .contains("kubernetes_cluster: endpoint, credentials").contains("identity: arn and instanceProfile (AWS), email (GCP)")
            .contains("nothing is stored");
    }
}
