package io.mlctl.plan.render;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.Action;
import io.mlctl.plan.Change;
import io.mlctl.plan.Plan;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.nio.file.Files;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** An import as people and programs read it: without changes, and with the attribute changes adoption implies. */
class ImportRenderingTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String ROLE = "arn:aws:iam::123456789012:role/legacy-trainer";

    /**
     * The small environment, owning everything but its bucket (an existing one, as the spec says) and its identity (an existing
     * role that may also write the bucket): both imported.
     */
    static Plan plan() {
        Environment env = Specs.env(Fixtures.smallEnv("dev"));
        Map<Address, ObservedResource> unowned = new HashMap<>();
        Address bucket = Address.parse("bucket.dev-data");
        Address identity = Address.parse("identity.trainer");
        ResourceSpec b = env.resources().stream().filter(r -> r.address().equals(bucket)).findFirst().orElseThrow();
        unowned.put(bucket, new ObservedResource(bucket, "dev-data", b.attributes(), Map.of("owner", "data-team")));
        Map<String, Object> broader = new HashMap<>(env.resources().stream().filter(r -> r.address().equals(identity)).findFirst().orElseThrow().attributes());
        broader.put("grants", List.of(Map.of("actions", List.of("storage.read", "storage.write"), "resource", "bucket/dev-data")));
        unowned.put(identity, new ObservedResource(identity, ROLE, broader, Map.of()));
        return ImportPlans.of(env, unowned, Instant.parse("2026-03-04T05:06:07Z"));
    }

    static Stream<Arguments> renderings() {
        Function<Plan, String> text = p -> new TextRenderer(false).render(p);
        Function<Plan, String> markdown = p -> new MarkdownRenderer().render(p);
        return Stream.of(
            Arguments.of("text: without changes, no sign and the id it takes over", text,
                "  # bucket.dev-data will be imported\n    bucket \"dev-data\" {\n        id = dev-data\n    }\n"),
            Arguments.of("text: with changes, an update's sign and only what differs", text,
                "  # identity.trainer will be imported and updated in place\n  ~ identity \"trainer\" {\n        id = " + ROLE + "\n"
                    + "      ~ grants[0].actions = [\"storage.read\", \"storage.write\"] -> [\"storage.read\"]\n    }\n"),
            Arguments.of("text: the summary counts imports first", text, "\nPlan: 2 to import, 0 to add, 1 to change, 0 to destroy.\n"),
            Arguments.of("markdown: the summary", markdown, "**Plan: 2 to import, 0 to add, 1 to change, 0 to destroy.**"),
            Arguments.of("markdown: a row without changes", markdown, "| import | `bucket.dev-data` | `dev-data` | import of existing dev-data |\n"),
            Arguments.of("markdown: a row with changes says which", markdown,
                "| import | `identity.trainer` | `" + ROLE + "` | import of existing " + ROLE + "; attributes differ: grants |\n"),
            Arguments.of("markdown: the diff of an import without changes is its name", markdown, "! bucket.dev-data (import dev-data)\n! identity"),
            Arguments.of("markdown: the diff of an import with changes", markdown,
                "! identity.trainer (import " + ROLE + ")\n-     grants[0].actions = [\"storage.read\", \"storage.write\"]\n"
                    + "+     grants[0].actions = [\"storage.read\"]\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("renderings")
    void rendersImports(String reason, Function<Plan, String> renderer, String expected) {
        assertThat(renderer.apply(plan())).as(reason).contains(expected);
    }

    @Test
    void onATerminalAnImportWithChangesIsColoredAsAnUpdate() {
        String plain = new TextRenderer(false).render(plan());
        String color = new TextRenderer(true).render(plan());
        assertThat(color).contains("\u001b[33m  ~\u001b[0m identity \"trainer\" {")
            .contains("\u001b[1m  # bucket.dev-data will be imported\u001b[0m\n    bucket");
        assertThat(color.replaceAll("\u001b\\[[0-9;]*m", "")).isEqualTo(plain);
    }

    private static JsonNode change(JsonNode doc, String address) {
        return StreamSupport.stream(doc.get("resourceChanges").spliterator(), false)
            .filter(c -> c.get("address").asString().equals(address)).findFirst().orElseThrow();
    }

    @Test
    void jsonSaysImportWithWhatItTakesOverAndItsChanges() {
        JsonNode doc = JSON.readTree(new PlanJson().write(plan()));
        // As terraform counts them: the identity's import also changes it, so it is in update too.
        assertThat(doc.get("summary").toString()).isEqualTo("{\"create\":0,\"update\":1,\"replace\":0,\"delete\":0,\"import\":2}");
        JsonNode bucket = change(doc, "bucket.dev-data");
        assertThat(bucket.get("action").asString()).isEqualTo("import");
        assertThat(bucket.get("actions").toString()).as("terraform's actions for an import that changes nothing").isEqualTo("[\"no-op\"]");
        assertThat(bucket.get("cloudId").asString()).isEqualTo("dev-data");
        assertThat(bucket.get("importing").toString()).isEqualTo("{\"id\":\"dev-data\"}");
        assertThat(bucket.get("changes").isEmpty()).isTrue();
        assertThat(bucket.get("before")).isEqualTo(bucket.get("after"));
        JsonNode identity = change(doc, "identity.trainer");
        assertThat(identity.get("importing").get("id").asString()).isEqualTo(ROLE);
        assertThat(identity.get("actions").toString()).as("an import that changes the resource is an update to a scan of actions").isEqualTo("[\"update\"]");
        assertThat(identity.at("/changes/0/path").asString()).isEqualTo("grants");
        assertThat(identity.at("/before/grants/0/actions").toString()).isEqualTo("[\"storage.read\",\"storage.write\"]");
        assertThat(identity.at("/after/grants/0/actions").toString()).isEqualTo("[\"storage.read\"]");
        assertThat(doc.get("resourceChanges").size()).as("the rest is unchanged").isEqualTo(2);
    }

    @Test
    void aSavedPlanKeepsItsImports() {
        Plan plan = plan();
        Plan back = new PlanJson().read(new PlanJson().write(plan), "p.json");
        assertThat(back).isEqualTo(plan);
        assertThat(back.changes()).filteredOn(c -> c.action() == Action.IMPORT).hasSize(2).allMatch(c -> c instanceof Change.Import);
        assertThat(back.summary().imported()).isEqualTo(2);
    }

    @Test
    void theSchemaAcceptsImportsAndRejectsAMalformedOne() throws Exception {
        Schema schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
            .getSchema(Files.readString(Fixtures.repoRoot().resolve("schema/plan.schema.json")), InputFormat.JSON);
        String written = new PlanJson().write(plan());
        assertThat(schema.validate(written, InputFormat.JSON)).isEmpty();
        Map<String, Function<ObjectNode, ObjectNode>> broken = Map.of(
            "an import without importing", c -> { c.remove("importing"); return c; },
            "an import written as a create", c -> { c.putArray("actions").add("create"); return c; },
            "an import of nothing", c -> c.putNull("cloudId"),
            "a negative import count", c -> c);
        for (var e : broken.entrySet()) {
            ObjectNode doc = (ObjectNode) JSON.readTree(written);
            e.getValue().apply((ObjectNode) change(doc, "bucket.dev-data"));
            if (e.getKey().startsWith("a negative")) ((ObjectNode) doc.get("summary")).put("import", -1);
            assertThat(schema.validate(JSON.writeValueAsString(doc), InputFormat.JSON)).as(e.getKey()).isNotEmpty();
        }
    }
}
