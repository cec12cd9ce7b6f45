package io.mlctl.plan.render;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.mlctl.testing.Fixtures;
import java.nio.file.Files;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * schema/plan.schema.json is open where the format promises to grow: a consumer validating against it keeps accepting a
 * later 1.x plan with fields it does not know, and still rejects what is wrong.
 */
class PlanSchemaTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static Schema schema;
    private static String schemaText;
    private static String plan;

    @BeforeAll
    static void load() throws Exception {
        schemaText = Files.readString(Fixtures.repoRoot().resolve("schema/plan.schema.json"));
        schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schemaText, InputFormat.JSON);
        // Creates, updates with attribute changes and unchanged resources: every object the promise covers.
        plan = Files.readString(Fixtures.repoRoot().resolve("plans/training-dev-changes.json"));
    }

    private static boolean valid(Consumer<ObjectNode> edit) {
        ObjectNode doc = (ObjectNode) JSON.readTree(plan);
        edit.accept(doc);
        return schema.validate(JSON.writeValueAsString(doc), InputFormat.JSON).isEmpty();
    }

    @Test
    void aLaterMinorVersionWithFieldsThisSchemaDoesNotKnowIsValid() {
        assertThat(valid(doc -> { })).isTrue();
        assertThat(valid(doc -> doc.put("formatVersion", "1.7"))).as("a later minor version").isTrue();
        assertThat(valid(doc -> doc.put("madeBy", "mlctl 1.9"))).as("top level").isTrue();
        assertThat(valid(doc -> ((ObjectNode) doc.get("summary")).put("import", 0))).as("summary").isTrue();
        assertThat(valid(doc -> ((ObjectNode) doc.at("/resourceChanges/0")).put("importId", "x"))).as("a resource change").isTrue();
        assertThat(valid(doc -> ((ObjectNode) doc.at("/resourceChanges/0/changes/0")).put("sensitive", false))).as("an attribute change").isTrue();
        assertThat(valid(doc -> doc.withArray("unchanged").addObject().put("address", "bucket.b").put("cloudId", "b").put("drifted", false)))
            .as("an unchanged entry").isTrue();
    }

    @Test
    void whatIsWrongIsStillRejected() {
        assertThat(valid(doc -> doc.put("formatVersion", "2.0"))).as("an unknown major version").isFalse();
        assertThat(valid(doc -> doc.remove("summary"))).as("a required field missing").isFalse();
        assertThat(valid(doc -> ((ObjectNode) doc.at("/resourceChanges/0")).put("action", "rebuild"))).as("an unknown action").isFalse();
        assertThat(valid(doc -> ((ObjectNode) doc.get("summary")).put("create", -1))).as("a wrong value").isFalse();
    }

    @Test
    void theSchemaTellsConsumersToIgnoreUnknownFields() {
        assertThat(JSON.readTree(schemaText).get("description").asString()).contains("Consumers must ignore fields they do not know");
        assertThat(JSON.readTree(schemaText).at("/$defs/resourceChange/description").asString()).contains("ignore those you do not know");
    }
}
