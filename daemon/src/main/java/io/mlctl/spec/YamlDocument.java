package io.mlctl.spec;

import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * One YAML document as a JSON tree, plus where each node came from. Positions are keyed by JSON
 * pointer ({@code /spec/resources/0/name}); a key's own position is under {@code pointer + "#key"}.
 */
public record YamlDocument(String file, JsonNode root, Map<String, SourcePosition> positions) {
    public YamlDocument {
        positions = Map.copyOf(positions);
    }

    /** The position of the node at {@code pointer}, or of its nearest ancestor that has one. */
    public SourcePosition positionOf(String pointer) {
        String p = pointer;
        while (true) {
            SourcePosition pos = positions.get(p);
            if (pos != null) return pos;
            if (p.isEmpty()) return SourcePosition.ofFile(file);
            p = p.substring(0, Math.max(0, p.lastIndexOf('/')));
        }
    }

    /** The position of a mapping key, falling back to its value or parent. */
    public SourcePosition keyPositionOf(String pointer) {
        SourcePosition pos = positions.get(pointer + "#key");
        return pos != null ? pos : positionOf(pointer);
    }

    public static String child(String pointer, String key) {
        return pointer + "/" + key.replace("~", "~0").replace("/", "~1");
    }

    public static String child(String pointer, int index) {
        return pointer + "/" + index;
    }
}
