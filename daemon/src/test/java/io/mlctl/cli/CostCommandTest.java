package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code mlctl cost} through the real command line: the spec's cost offline, and what the sandbox holds after an apply. */
class CostCommandTest {
    @TempDir
    Path dir;
    Cli cli;

    @BeforeEach
    void setUp() {
        // The shipped prices only: a refreshed copy in this machine's ~/.config would change the numbers.
        cli = new Cli(dir).env("XDG_CONFIG_HOME", dir.resolve("config").toString());
    }

    private Cli.Result ok(String... args) {
        Cli.Result r = cli.run(args);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    private static JsonNode json(String text) {
        return JsonMapper.builder().build().readTree(text);
    }

    private String example(String name) {
        return Fixtures.write(dir, "specs/" + name, Fixtures.read(Fixtures.examples().resolve(name))).toString();
    }

    /** Each resource is rounded to cents on its own, so their sum may be off the total by half a cent each. */
    private static void totalIsTheSumOfItsResources(JsonNode env) {
        double low = 0, high = 0;
        boolean usageBased = false;
        List<String> unknown = new ArrayList<>();
        for (JsonNode r : env.get("resources")) {
            low += r.at("/cost/low").asDouble();
            high += r.at("/cost/high").asDouble();
            usageBased |= r.at("/cost/usageBased").asBoolean();
            r.at("/cost/unknown").forEach(u -> unknown.add(u.asString()));
        }
        double slack = 0.005 * env.get("resources").size() + 1e-9;
        String name = env.get("name").asString();
        assertThat(env.at("/total/low").asDouble()).as(name + " low").isCloseTo(low, within(slack));
        assertThat(env.at("/total/high").asDouble()).as(name + " high").isCloseTo(high, within(slack));
        assertThat(env.at("/total/usageBased").asBoolean()).as(name + " usage-based").isEqualTo(usageBased);
        assertThat(env.at("/total/unknown").valueStream().map(JsonNode::asString).toList()).as(name + " unknown")
            .containsExactlyInAnyOrderElementsOf(unknown.stream().distinct().toList());
    }

    @Test
    void theSpecOfEveryExampleIsPricedOfflineAndEachTotalIsTheSumOfItsResources() {
        JsonNode doc = json(ok("cost", "--format", "json", Fixtures.examples().toString()).out());
        assertThat(doc.get("formatVersion").asString()).isEqualTo("1.0");
        assertThat(doc.get("basis").asString()).isEqualTo("spec");
        assertThat(doc.get("environments").size()).isEqualTo(6);
        for (JsonNode env : doc.get("environments")) {
            assertThat(env.get("resources").size()).as(env.get("name").asString()).isPositive();
            assertThat(env.at("/total/high").asDouble()).as(env.get("name").asString()).isPositive();
            totalIsTheSumOfItsResources(env);
        }
        JsonNode aws = doc.get("environments").valueStream().filter(e -> e.get("name").asString().equals("training-dev")).findFirst().orElseThrow();
        // By hand, at the shipped us-east-1 prices, 730 hours a month: trainer-1 p3.2xlarge spot 0.9 + 200 GB gp3 at 0.08 = 673.00;
        // EKS 0.10 + g5.xlarge spot 0.3623 x 1..4 = 337.48..1,130.92; ml.m5.large 0.115 x 1..10 = 83.95..839.50.
        assertThat(aws.at("/total/low").asDouble()).isEqualTo(1094.43);
        assertThat(aws.at("/total/high").asDouble()).isEqualTo(2643.42);
        assertThat(aws.at("/total/usageBased").asBoolean()).as("the bucket has no expectedSizeGb").isTrue();
        assertThat(doc.get("assumptions").valueStream().map(JsonNode::asString).toList()).contains("730 hours a month");
        assertThat(Files.exists(cli.sandboxDir())).as("nothing was read from a cloud").isFalse();
    }

    @Test
    void textIsATablePerEnvironmentWithItsTotalAndTheAssumptions() {
        String spec = Fixtures.write(dir, "specs/sized.yaml", Fixtures.read(Fixtures.examples().resolve("aws-training.yaml"))
            + "    - type: bucket\n      name: ml-sized-dev\n      expectedSizeGb: 1000\n").toString();
        String out = ok("cost", spec).out();
        assertThat(out).startsWith("training-dev (aws, us-east-1), as the spec declares it:\n")
            .contains("\n  network.ml-vpc                  $0.00/month\n")
            .contains("\n  bucket.ml-data-dev              usage-based\n")
            // 1,000 GB of S3 Standard at 0.023 per GB-month.
            .contains("\n  bucket.ml-sized-dev             $23.00/month\n")
            .contains("\n  instance.trainer-1              $673.00/month\n")
            .contains("\n  kubernetes_cluster.ml-cluster   $337.48..$1,130.92/month\n")
            .contains("\n  inference_endpoint.fraud-model  $83.95..$839.50/month\n")
            .contains("\n  Total                           $1,117.43..$2,666.42/month + usage-based\n\nAssumptions:\n")
            .contains("\n  - 730 hours a month\n")
            .contains("\n  - autoscaled pools and endpoints priced at their minimum and at their maximum\n")
            .contains("\n  - spot at the catalog's spot price\n");
    }

    static Stream<Arguments> examples() {
        return Stream.of(Arguments.of("aws-training.yaml", "training-dev"), Arguments.of("gcp-vision.yaml", "vision-gcp"),
            Arguments.of("azure-nlp.yaml", "nlp-azure"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void liveOnTheSandboxPricesWhatItOwnsAfterAnApplyAsTheSpecDeclaresIt(String example, String name) {
        String spec = example(example);
        JsonNode before = json(ok("cost", "--live", "--sandbox", "--format", "json", spec).out());
        assertThat(before.get("basis").asString()).isEqualTo("live");
        assertThat(before.at("/environments/0/resources").size()).as("nothing applied yet").isZero();
        assertThat(before.at("/environments/0/total/high").asDouble()).isZero();

        ok("apply", "--sandbox", "--auto-approve", spec);
        JsonNode live = json(ok("cost", "--live", "--sandbox", "--format", "json", spec).out());
        JsonNode declared = json(ok("cost", "--format", "json", spec).out());
        JsonNode env = live.at("/environments/0");
        assertThat(env.get("name").asString()).isEqualTo(name);
        assertThat(env.get("resources").valueStream().map(r -> r.get("address").asString()).sorted().toList())
            .isEqualTo(declared.at("/environments/0/resources").valueStream().map(r -> r.get("address").asString()).sorted().toList());
        totalIsTheSumOfItsResources(env);
        // The sandbox holds what the spec declares, so it costs the same.
        assertThat(env.get("total")).isEqualTo(declared.at("/environments/0/total"));
        assertThat(env.at("/total/high").asDouble()).isPositive();

        String text = ok("cost", "--live", "--sandbox", spec).out();
        assertThat(text).startsWith(name + " (").contains("), what it owns now in the sandbox:\n");
    }

    @Test
    void liveWithNothingAppliedSaysSoAndCostsNothing() {
        String out = ok("cost", "--live", "--sandbox", example("aws-training.yaml")).out();
        assertThat(out).isEqualTo("training-dev (aws, us-east-1), what it owns now in the sandbox:\n"
            + "  nothing applied yet (the environment owns no resources)\n  Total  $0.00/month\n");
    }

    static Stream<Arguments> refusals() {
        return Stream.of(
            Arguments.of(List.of("--env", "training-dve"), "Error: no environment named 'training-dve'"),
            Arguments.of(List.of("--sandbox"), "Error: --sandbox prices what the sandbox holds: add --live"),
            Arguments.of(List.of("--format", "markdown"), "Error: cost prints text or json"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void aWrongRequestIsOneLineAndExit1(List<String> flags, String message) {
        List<String> args = new ArrayList<>(List.of("cost"));
        args.addAll(flags);
        args.add(example("aws-training.yaml"));
        Cli.Result r = cli.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines().toList()).as(r.toString()).hasSize(1);
        assertThat(r.err()).startsWith(message);
    }

    @Test
    void helpExplainsWhatIsPricedAndTheAssumptions() {
        String help = ok("cost", "--help").out();
        assertThat(help).contains("Usage: mlctl cost").contains("--live").contains("--sandbox").contains("--env")
            .contains("730 hours a month").contains("usage-based").contains("no cloud is read");
        assertThat(ok("--help").out()).contains("cost");
    }
}
