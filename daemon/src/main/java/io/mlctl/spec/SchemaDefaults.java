package io.mlctl.spec;

import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Fills in the {@code default} values declared in the JSON Schema, so the schema stays the one place
 * that says what an omitted field means.
 */
final class SchemaDefaults {
    private final JsonNode root;
    private final java.util.Map<String, JsonNode> refs = new java.util.concurrent.ConcurrentHashMap<>();

    SchemaDefaults(JsonNode schemaRoot) {
        this.root = schemaRoot;
    }

    /** Returns a deep copy of {@code instance} with defaults applied according to {@code $defs/<def>}. */
    JsonNode apply(String def, JsonNode instance) {
        JsonNode copy = instance.deepCopy();
        fill(root.path("$defs").path(def), copy);
        return copy;
    }

    private JsonNode resolve(JsonNode schema) {
        JsonNode s = schema;
        while (s.has("$ref")) {
            String ref = s.get("$ref").asString();
            if (!ref.startsWith("#/")) break;
            s = refs.computeIfAbsent(ref, r -> root.at(r.substring(1)));
        }
        return s;
    }

    private void fill(JsonNode schema, JsonNode instance) {
        schema = resolve(schema);
        if (instance instanceof ObjectNode obj && schema.has("properties")) {
            for (Map.Entry<String, JsonNode> p : schema.get("properties").properties()) {
                JsonNode ps = resolve(p.getValue());
                JsonNode value = obj.get(p.getKey());
                if (value == null || value.isNull()) {
                    if (ps.has("default")) obj.set(p.getKey(), ps.get("default").deepCopy());
                } else {
                    fill(ps, value);
                }
            }
        } else if (instance.isArray() && schema.has("items")) {
            for (JsonNode item : instance) fill(schema.get("items"), item);
        }
    }
}
