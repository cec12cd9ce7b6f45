package io.mlctl.plan.render;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.mlctl.plan.Change;
import io.mlctl.plan.Fingerprints;
import io.mlctl.plan.Placement;
import io.mlctl.plan.Plan;
import io.mlctl.spec.Address;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Fixtures;
import java.nio.file.Files;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** Placements in the three renderings: what was chosen and the alternatives, cheapest first; JSON as the schema says, read back whole. */
class PlacementRenderingTest {
    static final Address POOLED = new Address(ResourceType.KUBERNETES_CLUSTER, "ml");
    static final Address TRAINER = new Address(ResourceType.INSTANCE, "trainer");

    static Plan plan() {
        Plan p = new Plan(Plan.FORMAT_VERSION, "dev", "gcp", "us-central1", Instant.parse("2026-01-01T00:00:00Z"), false, List.of(),
            List.of(new Change.Create(TRAINER, Map.of("machineType", "n1-standard-4"), Set.of())), List.of(), List.of(), false,
            new Fingerprints("a".repeat(64), "b".repeat(64), Map.of(), Map.of()));
        return p.placing(List.of(
            new Placement(TRAINER, "machineType", Placement.Choice.CHEAPEST,
                new Placement.Option("n1-standard-4", Optional.of("nvidia-tesla-v100"), "nvidia-v100", 1, Optional.of(569.4)), true, "instance",
                "the cheapest spot of 2 gcp us-central1 machine types with 1× nvidia-v100",
                List.of(new Placement.Option("n1-standard-8", Optional.of("nvidia-tesla-v100"), "nvidia-v100", 1, Optional.of(598.6)))),
            new Placement(POOLED, "nodePools[gpu].machineType", Placement.Choice.KEPT,
                new Placement.Option("a2-highgpu-1g", Optional.empty(), "nvidia-a100", 1, Optional.empty()), false, "node",
                "kept: it runs on a2-highgpu-1g", List.of())));
    }

    @Test
    void textNamesTheChoiceItsPriceWhyAndTheAlternatives() {
        assertThat(new TextRenderer(false).render(plan())).contains("""

            Placement (machineType: auto):
              instance.trainer: n1-standard-4 + 1× nvidia-tesla-v100 (spot) at $569.40/month
                the cheapest spot of 2 gcp us-central1 machine types with 1× nvidia-v100
                - n1-standard-8 + 1× nvidia-tesla-v100: $598.60/month
              kubernetes_cluster.ml nodePools[gpu]: a2-highgpu-1g at no price
                kept: it runs on a2-highgpu-1g
            """);
    }

    @Test
    void markdownHasATableRowPerPlacement() {
        assertThat(new MarkdownRenderer().render(plan())).contains("""
            **Placement** (`machineType: auto`)

            | Resource | Chosen | Why | Alternatives |
            |---|---|---|---|
            | `instance.trainer` | n1-standard-4 + 1× nvidia-tesla-v100 (spot) at $569.40/month | the cheapest spot of 2 gcp us-central1 machine types with 1× nvidia-v100 | n1-standard-8 + 1× nvidia-tesla-v100: $598.60/month |
            | `kubernetes_cluster.ml nodePools[gpu]` | a2-highgpu-1g at no price | kept: it runs on a2-highgpu-1g | (none) |
            """);
    }

    @Test
    void jsonFollowsTheSchemaAndReadsBackWhole() throws Exception {
        String json = new PlanJson().write(plan());
        String schemaText = Files.readString(Fixtures.repoRoot().resolve("schema/plan.schema.json"));
        Schema schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schemaText, InputFormat.JSON);
        assertThat(schema.validate(json, InputFormat.JSON)).isEmpty();
        var doc = JsonMapper.builder().build().readTree(json);
        assertThat(doc.at("/placements/0/chosen/attached").asString()).isEqualTo("nvidia-tesla-v100");
        assertThat(doc.at("/placements/1/chosen/monthly").isNull()).isTrue();
        assertThat(doc.at("/placements/1/choice").asString()).isEqualTo("kept");
        assertThat(new PlanJson().read(json, "plan.json").placements()).isEqualTo(plan().placements());
        // A wrong choice is rejected: the schema is closed where it names values.
        String wrong = json.replace("\"kept\"", "\"moved\"");
        assertThat(schema.validate(wrong, InputFormat.JSON)).isNotEmpty();
    }

    @Test
    void aPlanWithoutPlacementsWritesNoPlacementsField() {
        Plan p = new Plan(Plan.FORMAT_VERSION, "dev", "aws", "us-east-1", Instant.parse("2026-01-01T00:00:00Z"), false, List.of(), List.of(),
            List.of(), List.of(), false, new Fingerprints("a".repeat(64), "b".repeat(64), Map.of(), Map.of()));
        assertThat(new PlanJson().write(p)).doesNotContain("placements");
        assertThat(new TextRenderer(false).render(p)).doesNotContain("Placement");
    }
}
