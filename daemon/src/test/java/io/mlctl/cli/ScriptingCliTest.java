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
}
