package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code machineType: auto} through the real command line on the sandbox: chosen, shown, applied, kept, re-placed on request. */
class PlacementCliTest {
    static final String SPEC = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata:
          name: gpu
        spec:
          provider: aws
          region: us-east-1
          resources:
            - type: network
              name: net
              cidr: 10.0.0.0/16
              subnets:
                - name: train
                  cidr: 10.0.1.0/24
                  zone: us-east-1a
            - type: instance
              name: trainer
              machineType: auto
              accelerator: {type: nvidia-v100, count: 1}
              subnet: net/train
        """;

    @TempDir
    Path dir;
    Cli cli;
    String spec;

    @BeforeEach
    void setUp() {
        // The shipped prices only, unless a test writes its own refreshed file.
        cli = new Cli(dir).env("XDG_CONFIG_HOME", dir.resolve("config").toString());
        spec = Fixtures.write(dir, "specs/gpu.yaml", SPEC).toString();
    }

    private Cli.Result ok(String... args) {
        Cli.Result r = cli.run(args);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    private static JsonNode json(String text) {
        return JsonMapper.builder().build().readTree(text);
    }

    /** A refreshed price file (as mlctl prices update writes) in which p3.8xlarge, four V100s, costs less than p3.2xlarge. */
    private void p38xlargeGetsCheaper() {
        Fixtures.write(dir, "config/mlctl/prices/aws.json", """
            {"provider": "aws", "currency": "USD", "rows": [
              {"kind": "machine", "name": "p3.8xlarge", "region": "*", "onDemandPerHour": 1.0, "spotPerHour": 0.5, "source": "test", "date": "2026-12-01"}
            ]}
            """);
    }

    @Test
    void planShowsTheChoiceAndItsAlternativesApplyCreatesItAndASecondPlanIsClean() {
        String plan = ok("plan", "--sandbox", spec).out();
        assertThat(plan).contains("+ instance \"trainer\"").contains("machineType = \"p3.2xlarge\"")
            .contains("Placement (machineType: auto):\n"
                + "  instance.trainer: p3.2xlarge at $2,233.80/month\n"
                + "    the cheapest on-demand of 3 aws us-east-1 machine types with 1× nvidia-v100\n"
                + "    - p3.8xlarge: $8,935.20/month\n"
                + "    - p3.16xlarge: $17,870.40/month\n");
        assertThat(plan).doesNotContain("machineType = \"auto\"").doesNotContain("accelerator");

        String markdown = ok("plan", "--sandbox", "--format", "markdown", spec).out();
        assertThat(markdown).contains("**Placement** (`machineType: auto`)")
            .contains("| `instance.trainer` | p3.2xlarge at $2,233.80/month | the cheapest on-demand of 3 aws us-east-1 machine types with 1× nvidia-v100 "
                + "| p3.8xlarge: $8,935.20/month<br>p3.16xlarge: $17,870.40/month |");

        JsonNode doc = json(ok("plan", "--sandbox", "--format", "json", spec).out());
        JsonNode p = doc.at("/placements/0");
        assertThat(p.get("address").asString()).isEqualTo("instance.trainer");
        assertThat(p.get("path").asString()).isEqualTo("machineType");
        assertThat(p.get("choice").asString()).isEqualTo("cheapest");
        assertThat(p.at("/chosen/machineType").asString()).isEqualTo("p3.2xlarge");
        assertThat(p.at("/chosen/monthly").asDouble()).isEqualTo(2233.8);
        assertThat(p.get("alternatives").valueStream().map(a -> a.get("machineType").asString()).toList()).containsExactly("p3.8xlarge", "p3.16xlarge");
        assertThat(doc.at("/resourceChanges").valueStream().filter(c -> c.get("address").asString().equals("instance.trainer"))
            .findFirst().orElseThrow().at("/after/machineType").asString()).isEqualTo("p3.2xlarge");

        ok("apply", "--sandbox", "--auto-approve", spec);
        JsonNode inventory = json(ok("inventory", "--sandbox", "--format", "json", spec).out());
        assertThat(inventory.toString()).contains("p3.2xlarge").doesNotContain("\"auto\"");
        Cli.Result again = cli.run("plan", "--sandbox", "--detailed-exitcode", spec);
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.out()).contains("No changes.").contains("instance.trainer: p3.2xlarge at $2,233.80/month\n    kept: it runs on p3.2xlarge");
    }

    @Test
    void aCheaperPriceDoesNotMoveARunningResourceUntilAPersonAsks() {
        ok("apply", "--sandbox", "--auto-approve", spec);
        p38xlargeGetsCheaper();
        Cli.Result plan = cli.run("plan", "--sandbox", "--detailed-exitcode", spec);
        assertThat(plan.exitCode()).as("no change: " + plan).isZero();
        assertThat(plan.out()).contains("instance.trainer: p3.2xlarge at $2,233.80/month\n    kept: it runs on p3.2xlarge")
            .contains("    - p3.8xlarge: $730.00/month\n");

        Cli.Result replan = cli.run("plan", "--sandbox", "--detailed-exitcode", "--replace-placement", spec);
        assertThat(replan.exitCode()).as(replan.toString()).isEqualTo(2);
        assertThat(replan.out()).contains("machineType = \"p3.2xlarge\" -> \"p3.8xlarge\"")
            .contains("instance.trainer: p3.8xlarge at $730.00/month\n    re-placed as asked (--replace-placement): the cheapest on-demand");

        // A plan saved with --replace-placement applies as it was made; apply cannot add the flag to a saved plan.
        ok("plan", "--sandbox", "--replace-placement", "--out", "moved.json", spec);
        Cli.Result refused = cli.run("apply", "--sandbox", "--replace-placement", "moved.json");
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("--replace-placement cannot change a saved plan");
        ok("apply", "--sandbox", "moved.json");
        assertThat(ok("inventory", "--sandbox", "--format", "json", spec).out()).contains("p3.8xlarge");
        assertThat(cli.run("plan", "--sandbox", "--detailed-exitcode", spec).exitCode()).as("kept where it was moved").isZero();
    }

    @Test
    void applyReplacePlacementMovesIt() {
        ok("apply", "--sandbox", "--auto-approve", spec);
        p38xlargeGetsCheaper();
        ok("apply", "--sandbox", "--auto-approve", "--replace-placement", spec);
        assertThat(ok("inventory", "--sandbox", "--format", "json", spec).out()).contains("p3.8xlarge").doesNotContain("p3.2xlarge");
    }

    @Test
    void costPricesTheSpecAsAFirstPlanWouldPlaceIt() {
        // p3.2xlarge at $3.06 an hour and its 100 GB gp3 boot disk at $0.08 a GB-month.
        assertThat(ok("cost", spec).out()).contains("  instance.trainer  $2,241.80/month\n").doesNotContain("unknown");
    }

    @Test
    void anUnknownAcceleratorIsASpecErrorWithDidYouMean() {
        String bad = Fixtures.write(dir, "specs/bad.yaml", SPEC.replace("type: nvidia-v100", "type: nvidia-v10O")).toString();
        Cli.Result r = cli.run("validate", bad);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("unknown accelerator type 'nvidia-v10O' for aws (did you mean 'nvidia-v100'?)");
    }
}
