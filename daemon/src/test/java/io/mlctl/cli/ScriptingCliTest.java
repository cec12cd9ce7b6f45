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
}
