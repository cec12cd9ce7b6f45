package io.mlctl.schema;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import io.mlctl.MlctlException;
import io.mlctl.spec.SourcePosition;
import io.mlctl.spec.SpecError;
import io.mlctl.spec.YamlDocument;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Validates spec documents against {@code schema/environment.schema.json} (draft 2020-12) and maps
 * each error back to the YAML node it is about.
 */
public final class SchemaValidator {
    public static final String ENVIRONMENT_SCHEMA = "/schema/environment.schema.json";
    public static final String POLICY_SCHEMA = "/schema/policy.schema.json";
    public static final String POLICY_TEST_SCHEMA = "/schema/policy-test.schema.json";
    private final Schema schema;
    private final JsonNode schemaTree;

    public SchemaValidator() {
        this(ENVIRONMENT_SCHEMA);
    }

    /** A validator for the schema at {@code resourcePath} in the jar ({@link #ENVIRONMENT_SCHEMA}, {@link #POLICY_SCHEMA}). */
    public SchemaValidator(String resourcePath) {
        String text = resource(resourcePath);
        this.schemaTree = JsonMapper.builder().build().readTree(text);
        this.schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(text, InputFormat.JSON);
    }

    public JsonNode schemaTree() {
        return schemaTree;
    }

    public List<SpecError> validate(YamlDocument doc) {
        List<Error> errors = schema.validate(doc.root());
        Set<SpecError> out = new LinkedHashSet<>();
        for (Error e : errors) {
            // "if/then" wrappers repeat what their inner keyword already said.
            if ("if".equals(e.getKeyword()) || "then".equals(e.getKeyword()) || "allOf".equals(e.getKeyword())) continue;
            String pointer = pointer(e.getInstanceLocation());
            SourcePosition pos;
            String message;
            if ("additionalProperties".equals(e.getKeyword()) && e.getProperty() != null) {
                String child = YamlDocument.child(pointer, e.getProperty());
                pos = doc.keyPositionOf(child);
                message = "unknown field '" + e.getProperty() + "'" + where(pointer)
                    + io.mlctl.util.Typos.didYouMean(e.getProperty(), allowedProperties(e));
            } else if ("required".equals(e.getKeyword()) && e.getProperty() != null) {
                pos = doc.positionOf(pointer);
                message = "missing required field '" + e.getProperty() + "'" + where(pointer);
            } else {
                pos = doc.positionOf(pointer);
                message = describe(pointer, e);
            }
            out.add(new SpecError(pos, message));
        }
        return new ArrayList<>(out);
    }

    /** The properties the schema object that refused an unknown one declares (its additionalProperties' siblings). */
    private List<String> allowedProperties(Error e) {
        if (e.getSchemaLocation() == null) return List.of();
        String keyword = pointer(e.getSchemaLocation().getFragment());
        if (!keyword.endsWith("/additionalProperties")) return List.of();
        JsonNode props = schemaTree.at(keyword.substring(0, keyword.length() - "/additionalProperties".length()) + "/properties");
        List<String> names = new ArrayList<>();
        props.propertyNames().forEach(names::add);
        return names;
    }

    private static String where(String pointer) {
        return pointer.isEmpty() ? "" : " in " + dotted(pointer);
    }

    private static String describe(String pointer, Error e) {
        if ("pattern".equals(e.getKeyword()) && e.getSchemaNode() != null && e.getSchemaNode().isString()
            && e.getSchemaNode().asString().startsWith("^[a-z]([a-z0-9-]")) {
            return dotted(pointer) + ": '" + e.getInstanceNode().asString() + "' is not a valid name (lowercase letters, digits and '-', "
                + "starting with a letter and not ending with '-', at most 63 characters)";
        }
        String msg = e.getMessage();
        // networknt prefixes messages with the instance path; we print our own position instead.
        int colon = msg.indexOf(": ");
        if (colon > 0 && msg.startsWith("/")) msg = msg.substring(colon + 2);
        else if (colon > 0 && msg.startsWith("$")) msg = msg.substring(colon + 2);
        return (pointer.isEmpty() ? "" : dotted(pointer) + ": ") + msg;
    }

    /** {@code /spec/resources/0/name} → {@code spec.resources[0].name}, as a person reads it. */
    public static String dotted(String pointer) {
        StringBuilder b = new StringBuilder();
        for (String part : pointer.split("/")) {
            if (part.isEmpty()) continue;
            if (part.chars().allMatch(Character::isDigit)) b.append('[').append(part).append(']');
            else {
                if (b.length() > 0) b.append('.');
                b.append(part.replace("~1", "/").replace("~0", "~"));
            }
        }
        return b.toString();
    }

    static String pointer(NodePath path) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < path.getNameCount(); i++) {
            Object el = path.getElement(i);
            if (el instanceof Integer idx) b.append('/').append(idx);
            else b.append('/').append(String.valueOf(el).replace("~", "~0").replace("/", "~1"));
        }
        return b.toString();
    }

    private static String resource(String name) {
        try (InputStream in = SchemaValidator.class.getResourceAsStream(name)) {
            if (in == null) throw new MlctlException("schema " + name + " is missing from the build");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new MlctlException("cannot read schema " + name + ": " + e.getMessage(), e);
        }
    }
}
