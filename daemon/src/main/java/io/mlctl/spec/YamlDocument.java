package io.mlctl.spec;

import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import tools.jackson.databind.JsonNode;

/**
 * One YAML document as a JSON tree, plus the YAML node tree it came from. Positions are looked up by
 * JSON pointer ({@code /spec/resources/0/name}) only when an error needs one, by walking the node
 * tree: no position table is built for the documents that are valid, which is almost all of them.
 */
public final class YamlDocument {
    private final String file;
    private final JsonNode root;
    private final Node yaml;

    public YamlDocument(String file, JsonNode root, Node yaml) {
        this.file = file;
        this.root = root;
        this.yaml = yaml;
    }

    public String file() {
        return file;
    }

    public JsonNode root() {
        return root;
    }

    /** The document embedded at {@code pointer} (a policy test's environment), with positions in this file. */
    public YamlDocument embedded(String pointer) {
        return new YamlDocument(file, root.at(pointer), walk(pointer, false));
    }

    /** The position of the node at {@code pointer}, or of its nearest ancestor that exists. */
    public SourcePosition positionOf(String pointer) {
        return position(walk(pointer, false));
    }

    /** The position of a mapping key, falling back to its value or parent. */
    public SourcePosition keyPositionOf(String pointer) {
        return position(walk(pointer, true));
    }

    /**
     * Where the text of the scalar at {@code pointer} starts: after its opening quote for a quoted one, so that a column
     * within the value (a CEL error's) adds up. For block scalars and anything else, the node's position.
     */
    public SourcePosition textPositionOf(String pointer) {
        Node n = walk(pointer, false);
        SourcePosition p = position(n);
        if (n instanceof ScalarNode s && (s.getScalarStyle() == org.snakeyaml.engine.v2.common.ScalarStyle.DOUBLE_QUOTED
            || s.getScalarStyle() == org.snakeyaml.engine.v2.common.ScalarStyle.SINGLE_QUOTED)) {
            return new SourcePosition(p.file(), p.line(), p.column() + 1);
        }
        return p;
    }

    private SourcePosition position(Node n) {
        return n == null ? SourcePosition.ofFile(file) : n.getStartMark().map(m -> YamlLoader.position(file, m)).orElse(SourcePosition.ofFile(file));
    }

    private Node walk(String pointer, boolean key) {
        Node current = yaml;
        if (pointer.isEmpty()) return current;
        String[] parts = pointer.substring(1).split("/", -1);
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i].replace("~1", "/").replace("~0", "~");
            boolean last = i == parts.length - 1;
            Node next = null;
            if (current instanceof MappingNode m) {
                for (NodeTuple t : m.getValue()) {
                    if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals(part)) {
                        next = last && key ? t.getKeyNode() : t.getValueNode();
                        break;
                    }
                }
            } else if (current instanceof SequenceNode s) {
                try {
                    int idx = Integer.parseInt(part);
                    if (idx >= 0 && idx < s.getValue().size()) next = s.getValue().get(idx);
                } catch (NumberFormatException e) {
                    next = null;
                }
            }
            if (next == null) return current;
            current = next;
        }
        return current;
    }

    public static String child(String pointer, String key) {
        return pointer + "/" + key.replace("~", "~0").replace("/", "~1");
    }

    public static String child(String pointer, int index) {
        return pointer + "/" + index;
    }
}
