package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.apply.ApplyResult;
import io.mlctl.plan.Change;
import io.mlctl.plan.Fingerprints;
import io.mlctl.plan.Plan;
import io.mlctl.spec.Address;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The last line of an apply, in text and JSON: imports are counted, first, only when there are some (terraform's words). */
class ApplyReportTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    private static Plan plan(boolean destroy, Change... changes) {
        return new Plan("1.1", "dev", "aws", "us-east-1", NOW, destroy, List.of(), List.of(changes), List.of(), List.of(), false,
            new Fingerprints("", "", Map.of(), Map.of()));
    }

    private static final Change IMPORT = new Change.Import(Address.parse("bucket.data"), "legacy-data", Map.of("versioning", true),
        Map.of("versioning", true), List.of(), Set.of());
    private static final Change CREATE = new Change.Create(Address.parse("bucket.logs"), Map.of("versioning", true), Set.of());

    static Stream<Arguments> outcomes() {
        return Stream.of(
            Arguments.of("an import", plan(false, IMPORT), new ApplyResult(0, 0, 0, 1, Map.of(), List.of(), List.of()),
                "Apply complete! Resources: 1 imported, 0 added, 0 changed, 0 destroyed."),
            Arguments.of("an import and a create", plan(false, IMPORT, CREATE), new ApplyResult(1, 0, 0, 1, Map.of(), List.of(), List.of()),
                "Apply complete! Resources: 1 imported, 1 added, 0 changed, 0 destroyed."),
            Arguments.of("no import: terraform's line as before", plan(false, CREATE), new ApplyResult(1, 0, 0, Map.of(), List.of(), List.of()),
                "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."),
            Arguments.of("a destroy", plan(true), new ApplyResult(0, 0, 2, Map.of(), List.of(), List.of()),
                "Destroy complete! Resources: 0 added, 0 changed, 2 destroyed."));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("outcomes")
    void theFinalLineCountsWhatWasDone(String reason, Plan plan, ApplyResult result, String line) {
        StringWriter text = new StringWriter();
        try (ConsoleProgress p = new ConsoleProgress(new PrintWriter(text, true), x -> { }, Clock.systemUTC(), java.time.Duration.ofHours(1))) {
            p.outcome(plan, Optional.of(result));
        }
        assertThat(text.toString()).as(reason).isEqualTo(line + "\n");
        StringWriter quiet = new StringWriter();
        new ApplyReport.Quiet(new PrintWriter(quiet, true)).outcome(plan, Optional.of(result));
        assertThat(quiet.toString()).as(reason).isEqualTo(line + "\n");

        StringWriter json = new StringWriter();
        JsonApplyEvents events = new JsonApplyEvents(new PrintWriter(json, true), Clock.fixed(NOW, ZoneOffset.UTC), "dev");
        events.planned(plan);
        events.outcome(plan, Optional.of(result));
        List<JsonNode> lines = json.toString().lines().map(l -> JsonMapper.builder().build().readTree(l)).toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).at("/summary/import").asInt()).as(reason).isEqualTo(plan.summary().imported());
        assertThat(lines.get(0).at("/plan/summary/import").asInt()).as(reason).isEqualTo(plan.summary().imported());
        JsonNode summary = lines.get(1);
        assertThat(summary.get("imported").asInt()).as(reason).isEqualTo(result.imported());
        assertThat(summary.get("added").asInt()).as(reason).isEqualTo(result.created());
        assertThat(summary.get("message").asString()).as(reason).isEqualTo(line);
    }
}
