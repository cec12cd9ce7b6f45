package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** What scripts and CI reach for: version, JSON output, --quiet, a spec on stdin. */
class ScriptingCliTest {
    @TempDir
    Path dir;
    Cli cli;
    String spec;

    @BeforeEach
    void setUp() {
        cli = new Cli(dir);
        spec = Fixtures.write(dir, "specs/dev.yaml", Fixtures.smallEnv("dev")).toString();
    }

    private static JsonNode json(String text) {
        return JsonMapper.builder().build().readTree(text);
    }

    private static List<JsonNode> ndjson(String text) {
        List<JsonNode> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) out.add(json(line));
        }
        return out;
    }

    @Test
    void versionNamesBuildPlanFormatAndCatalogDates() {
        Cli.Result r = cli.run("version");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).matches("(?s)mlctl \\S+ \\(commit ([0-9a-f]{7,40}|unknown)\\)\nplan format 1\\.1\n"
            + "catalog aws \\d{4}-\\d\\d-\\d\\d \\(built-in:catalog/aws\\.json\\)\n"
            + "catalog gcp \\d{4}-\\d\\d-\\d\\d \\(built-in:catalog/gcp\\.json\\)\n"
            + "catalog azure \\d{4}-\\d\\d-\\d\\d \\(built-in:catalog/azure\\.json\\)\n");
        // --version is the same text.
        Cli.Result flag = cli.run("--version");
        assertThat(flag.exitCode()).isZero();
        assertThat(flag.out()).isEqualTo(r.out());
    }

    @Test
    void versionAsJson() {
        Cli.Result r = cli.run("version", "--format", "json");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        JsonNode v = json(r.out());
        assertThat(v.get("version").asString()).isNotBlank();
        assertThat(v.get("commit").asString()).matches("[0-9a-f]{7,40}|unknown");
        assertThat(v.get("planFormatVersion").asString()).isEqualTo("1.1");
        JsonNode catalogs = v.get("catalogs");
        assertThat(catalogs.size()).isEqualTo(3);
        List<String> providers = new ArrayList<>();
        for (JsonNode c : catalogs) {
            providers.add(c.get("provider").asString());
            assertThat(c.get("source").asString()).isEqualTo("built-in:catalog/" + c.get("provider").asString() + ".json");
            LocalDate date = LocalDate.parse(c.get("date").asString());
            assertThat(date).isAfter(LocalDate.parse("2026-01-01"));
        }
        assertThat(providers).containsExactly("aws", "gcp", "azure");
        assertThat(v.properties()).extracting(java.util.Map.Entry::getKey).containsExactly("version", "commit", "planFormatVersion", "catalogs");
    }

    @Test
    void versionRefusesAFormatItDoesNotHave() {
        Cli.Result r = cli.run("version", "--format", "markdown");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("Error: Invalid value for option '--format'");
    }

    @Test
    void aSpecOnStdinIsValidatedPlannedAndApplied() {
        String text = Fixtures.smallEnv("dev");
        Cli.Result v = cli.runWithInput(text, "validate", "-");
        assertThat(v.exitCode()).as(v.toString()).isZero();
        assertThat(v.out()).contains("<stdin>: environment dev (aws, us-east-1): 4 resources");
        Cli.Result plan = cli.runWithInput(text, "plan", "--sandbox", "--detailed-exitcode", "-");
        assertThat(plan.exitCode()).as(plan.toString()).isEqualTo(2);
        assertThat(plan.out()).contains("Plan: 4 to add, 0 to change, 0 to destroy.");
        Cli.Result apply = cli.runWithInput(text, "apply", "--sandbox", "--auto-approve", "-");
        assertThat(apply.exitCode()).as(apply.toString()).isZero();
        assertThat(apply.out()).contains("Apply complete! Resources: 4 added, 0 changed, 0 destroyed.");
        // The spec on stdin and the same spec on disk are one environment.
        assertThat(cli.run("plan", "--sandbox", "--detailed-exitcode", spec).exitCode()).isZero();
    }

    @Test
    void errorsInASpecOnStdinNameStdin() {
        Cli.Result r = cli.runWithInput(Fixtures.smallEnv("dev").replace("g4dn.xlarge", "g4dn.nope"), "validate", "-");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("<stdin>:26:").contains("g4dn.nope");
        Cli.Result yaml = cli.runWithInput("metadata: [oops\n", "plan", "--sandbox", "-");
        assertThat(yaml.exitCode()).isEqualTo(1);
        assertThat(yaml.err()).matches("<stdin>:\\d+:\\d+: invalid YAML: .*\n1 error\n");
    }

    @Test
    void stdinIsReadOnceAndMixesWithFiles() {
        Cli.Result twice = cli.runWithInput(Fixtures.smallEnv("dev"), "validate", "-", "-");
        assertThat(twice.exitCode()).isEqualTo(1);
        assertThat(twice.err()).isEqualTo("Error: - (the spec on standard input) can be given only once\n");
        Cli.Result mixed = cli.runWithInput(Fixtures.smallEnv("prod"), "validate", spec, "-");
        assertThat(mixed.exitCode()).as(mixed.toString()).isZero();
        assertThat(mixed.out()).contains("Success! 2 environments are valid.");
        Cli.Result duplicate = cli.runWithInput(Fixtures.smallEnv("dev"), "validate", spec, "-");
        assertThat(duplicate.err()).startsWith("<stdin>:4:").contains("duplicate environment name 'dev' (first defined at specs/dev.yaml:4:");
    }

    @Test
    void applyFromStdinNeedsAutoApproveSinceStdinCannotAlsoAnswer() {
        Cli.Result r = cli.runWithInput(Fixtures.smallEnv("dev"), "apply", "--sandbox", "-");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: apply -: the spec is read from standard input, so the approval cannot be: "
            + "add --auto-approve (or apply a saved plan)\n");
        assertThat(r.out()).isEmpty();
        assertThat(cli.run("sandbox", "list", "-e", "dev").out()).contains("0 resources in the sandbox");
        Cli.Result destroy = cli.runWithInput(Fixtures.smallEnv("dev"), "destroy", "--sandbox", "-");
        assertThat(destroy.exitCode()).isEqualTo(1);
        assertThat(destroy.err()).startsWith("Error: destroy -: the spec is read from standard input");
    }

    @Test
    void validateAsJsonListsEnvironments() {
        Cli.Result r = cli.run("validate", "--format", "json", spec);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.err()).isEmpty();
        JsonNode v = json(r.out());
        assertThat(v.get("valid").asBoolean()).isTrue();
        assertThat(v.get("errors").size()).isZero();
        assertThat(v.get("environments").size()).isEqualTo(1);
        JsonNode env = v.at("/environments/0");
        assertThat(env.get("name").asString()).isEqualTo("dev");
        assertThat(env.get("provider").asString()).isEqualTo("aws");
        assertThat(env.get("region").asString()).isEqualTo("us-east-1");
        assertThat(env.get("file").asString()).isEqualTo("specs/dev.yaml");
        assertThat(env.get("resources").asInt()).isEqualTo(4);
    }

    @Test
    void validateAsJsonReportsEveryErrorWithItsPositionAndExitsOne() {
        Fixtures.write(dir, "specs/bad.yaml", Fixtures.smallEnv("bad").replace("g4dn.xlarge", "g4dn.nope").replace("10.0.1.0/24", "10.9.1.0/24"));
        Cli.Result r = cli.run("validate", "--format", "json", dir.resolve("specs").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEmpty();
        JsonNode v = json(r.out());
        assertThat(v.get("valid").asBoolean()).isFalse();
        assertThat(v.get("environments").size()).isZero();
        JsonNode errors = v.get("errors");
        assertThat(errors.size()).isEqualTo(2);
        for (JsonNode e : errors) assertThat(e.get("file").asString()).isEqualTo("specs/bad.yaml");
        assertThat(errors.get(0).get("line").asInt()).isEqualTo(14);
        assertThat(errors.get(0).get("column").asInt()).isPositive();
        assertThat(errors.get(0).get("message").asString()).contains("10.9.1.0/24");
        assertThat(errors.get(1).get("line").asInt()).isEqualTo(26);
        assertThat(errors.get(1).get("message").asString()).contains("g4dn.nope");
        // The same errors as the text form prints, position for position.
        Cli.Result text = cli.run("validate", dir.resolve("specs").toString());
        assertThat(text.err()).contains("specs/bad.yaml:" + errors.get(1).get("line").asInt() + ":" + errors.get(1).get("column").asInt() + ": "
            + errors.get(1).get("message").asString());
    }

    @Test
    void validateAsJsonReportsOtherErrorsWithoutAPosition() {
        Cli.Result r = cli.run("validate", "--format", "json", "--env", "prod", spec);
        assertThat(r.exitCode()).isEqualTo(1);
        JsonNode v = json(r.out());
        assertThat(v.get("valid").asBoolean()).isFalse();
        JsonNode e = v.at("/errors/0");
        assertThat(e.get("file").isNull()).isTrue();
        assertThat(e.get("line").isNull()).isTrue();
        assertThat(e.get("column").isNull()).isTrue();
        assertThat(e.get("message").asString()).isEqualTo("no environment named 'prod' (found: dev)");
    }

    @Test
    void applyAsJsonIsOneEventPerLine() {
        Cli.Result r = cli.run("apply", "--sandbox", "--auto-approve", "--format", "json", spec);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        List<JsonNode> events = ndjson(r.out());
        assertThat(r.out().lines().count()).isEqualTo(events.size());
        for (JsonNode e : events) {
            assertThat(e.get("environment").asString()).isEqualTo("dev");
            assertThat(e.get("time").asString()).isEqualTo("2026-01-01T00:00:00Z");
        }
        JsonNode planned = events.get(0);
        assertThat(planned.get("type").asString()).isEqualTo("planned");
        assertThat(planned.at("/summary/create").asInt()).isEqualTo(4);
        assertThat(planned.at("/plan/formatVersion").asString()).isEqualTo("1.1");
        assertThat(planned.at("/plan/resourceChanges").size()).isEqualTo(4);
        List<String> types = events.stream().map(e -> e.get("type").asString()).toList();
        assertThat(types.stream().filter("step_started"::equals).count()).isEqualTo(4);
        assertThat(types.stream().filter("step_finished"::equals).count()).isEqualTo(4);
        assertThat(types.get(types.size() - 1)).isEqualTo("summary");
        JsonNode instance = events.stream().filter(e -> e.get("type").asString().equals("step_finished")
            && e.get("address").asString().equals("instance.gpu-1")).findFirst().orElseThrow();
        assertThat(instance.get("action").asString()).isEqualTo("create");
        assertThat(instance.get("op").asString()).isEqualTo("create");
        assertThat(instance.get("cloudId").asString()).startsWith("i-");
        assertThat(instance.get("total").asInt()).isEqualTo(4);
        JsonNode summary = events.get(events.size() - 1);
        assertThat(summary.get("ok").asBoolean()).isTrue();
        assertThat(summary.get("destroy").asBoolean()).isFalse();
        assertThat(summary.get("added").asInt()).isEqualTo(4);
        assertThat(summary.get("changed").asInt()).isZero();
        assertThat(summary.get("destroyed").asInt()).isZero();
        assertThat(summary.get("failures").size()).isZero();
        assertThat(summary.get("message").asString()).isEqualTo("Apply complete! Resources: 4 added, 0 changed, 0 destroyed.");

        Cli.Result again = cli.run("apply", "--sandbox", "--auto-approve", "--format", "json", spec);
        List<JsonNode> none = ndjson(again.out());
        assertThat(none).extracting(e -> e.get("type").asString()).containsExactly("planned", "summary");
        assertThat(none.get(1).get("added").asInt()).isZero();
        assertThat(none.get(1).get("ok").asBoolean()).isTrue();
    }

    @Test
    void aFailedApplyAsJsonEndsWithAFailedSummaryAndExitsOne() {
        Fixtures.write(dir, "sandbox/faults.json", "[{\"op\": \"create\", \"target\": \"bucket.dev-data\", \"error\": \"denied\"}]");
        Cli.Result r = cli.run("apply", "--sandbox", "--auto-approve", "--format", "json", spec);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("Error: apply of dev failed");
        List<JsonNode> events = ndjson(r.out());
        JsonNode failed = events.stream().filter(e -> e.get("type").asString().equals("step_failed")).findFirst().orElseThrow();
        assertThat(failed.get("address").asString()).isEqualTo("bucket.dev-data");
        assertThat(failed.get("error").asString()).contains("AccessDenied");
        JsonNode summary = events.get(events.size() - 1);
        assertThat(summary.get("type").asString()).isEqualTo("summary");
        assertThat(summary.get("ok").asBoolean()).isFalse();
        assertThat(summary.get("failures").size()).isEqualTo(1);
        assertThat(summary.get("skipped").size()).isPositive();
        assertThat(summary.get("message").asString()).startsWith("Apply failed: Resources:");
    }

    @Test
    void applyAsJsonCannotAskForApproval() {
        Cli.Result r = cli.run("apply", "--sandbox", "--format", "json", spec);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: apply --format json cannot ask for approval: add --auto-approve (or apply a saved plan)\n");
        assertThat(r.out()).isEmpty();
        assertThat(cli.run("sandbox", "list", "-e", "dev").out()).contains("0 resources in the sandbox");
        cli.run("plan", "--sandbox", "--out", "p.json", spec);
        Cli.Result saved = cli.run("apply", "--sandbox", "--format", "json", "--plan", "p.json", spec);
        assertThat(saved.exitCode()).as(saved.toString()).isZero();
        assertThat(ndjson(saved.out()).get(ndjson(saved.out()).size() - 1).get("added").asInt()).isEqualTo(4);
    }

    @Test
    void quietPrintsOnlyTheSummaryLine() {
        Cli.Result plan = cli.run("plan", "--sandbox", "--quiet", spec);
        assertThat(plan.exitCode()).as(plan.toString()).isZero();
        assertThat(plan.out()).isEqualTo("Plan: 4 to add, 0 to change, 0 to destroy.\n");
        Cli.Result apply = cli.run("apply", "--sandbox", "--auto-approve", "-q", spec);
        assertThat(apply.exitCode()).as(apply.toString()).isZero();
        assertThat(apply.out()).isEqualTo("Apply complete! Resources: 4 added, 0 changed, 0 destroyed.\n");
        assertThat(apply.err()).isEmpty();
        assertThat(cli.run("plan", "--sandbox", "--quiet", "--detailed-exitcode", spec)).satisfies(r -> {
            assertThat(r.exitCode()).isZero();
            assertThat(r.out()).isEqualTo("No changes.\n");
        });
        Cli.Result noop = cli.run("apply", "--sandbox", "--auto-approve", "--quiet", spec);
        assertThat(noop.out()).isEqualTo("Apply complete! Resources: 0 added, 0 changed, 0 destroyed.\n");
        Cli.Result destroy = cli.run("destroy", "--sandbox", "--auto-approve", "--quiet", spec);
        assertThat(destroy.exitCode()).as(destroy.toString()).isZero();
        assertThat(destroy.out()).isEqualTo("Destroy complete! Resources: 0 added, 0 changed, 4 destroyed.\n");
    }

    @Test
    void quietStillReportsErrorsOnStderr() {
        Fixtures.write(dir, "sandbox/faults.json", "[{\"op\": \"create\", \"target\": \"bucket.dev-data\", \"error\": \"denied\"}]");
        Cli.Result r = cli.run("apply", "--sandbox", "--auto-approve", "--quiet", spec);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("Error: apply of dev failed").contains("AccessDenied");
        Cli.Result mixed = cli.run("plan", "--sandbox", "--quiet", "--format", "json", spec);
        assertThat(mixed.exitCode()).isEqualTo(1);
        assertThat(mixed.err()).isEqualTo("Error: --quiet is for text output; --format json is already only the plan\n");
    }

    @Test
    void quietPlanNamesEachEnvironment() {
        Fixtures.write(dir, "specs/prod.yaml", Fixtures.smallEnv("prod"));
        Cli.Result r = cli.run("plan", "--sandbox", "--quiet", dir.resolve("specs").toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("dev: Plan: 4 to add, 0 to change, 0 to destroy.\nprod: Plan: 4 to add, 0 to change, 0 to destroy.\n");
    }
}
