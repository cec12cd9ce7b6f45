package io.mlctl.spec;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.schema.CoreSchema;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads spec files with SnakeYAML Engine into JSON trees that remember line and column of every
 * node. Hostile input (alias bombs, huge files, deep nesting) is refused with a clear error before it
 * can exhaust memory.
 */
public final class YamlLoader {
    public record Limits(long maxFileBytes, int maxAliases, int maxDepth, int maxNodes) {
        public static final Limits DEFAULT = new Limits(4L * 1024 * 1024, 50, 64, 1_000_000);
    }

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private final Limits limits;

    public YamlLoader() {
        this(Limits.DEFAULT);
    }

    public YamlLoader(Limits limits) {
        this.limits = limits;
    }

    public List<YamlDocument> load(Path path, String displayName) {
        long size;
        try {
            size = Files.size(path);
        } catch (IOException e) {
            throw new SpecException(new SpecError(SourcePosition.ofFile(displayName), "cannot read file: " + e.getMessage()));
        }
        if (size > limits.maxFileBytes()) {
            throw new SpecException(new SpecError(SourcePosition.ofFile(displayName),
                "file is too large (" + size + " bytes; the limit for a spec file is " + limits.maxFileBytes() + " bytes)"));
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(path))).toString();
        } catch (CharacterCodingException e) {
            throw new SpecException(new SpecError(SourcePosition.ofFile(displayName), "file is not valid UTF-8"));
        } catch (IOException e) {
            throw new SpecException(new SpecError(SourcePosition.ofFile(displayName), "cannot read file: " + e.getMessage()));
        }
        return loadString(text, displayName);
    }

    /** A spec from a stream (stdin), read no further than the file size limit. */
    public List<YamlDocument> load(Reader reader, String displayName) {
        StringBuilder text = new StringBuilder();
        char[] buf = new char[8192];
        try {
            for (int n; (n = reader.read(buf)) >= 0; ) {
                text.append(buf, 0, n);
                if (text.length() > limits.maxFileBytes()) {
                    throw new SpecException(new SpecError(SourcePosition.ofFile(displayName),
                        "input is too large (the limit for a spec is " + limits.maxFileBytes() + " bytes)"));
                }
            }
        } catch (IOException e) {
            throw new SpecException(new SpecError(SourcePosition.ofFile(displayName), "cannot read: " + e.getMessage()));
        }
        return loadString(text.toString(), displayName);
    }

    public List<YamlDocument> loadString(String text, String displayName) {
        LoadSettings settings = LoadSettings.builder()
            .setLabel(displayName)
            .setSchema(new CoreSchema())
            .setAllowDuplicateKeys(false)
            .setAllowRecursiveKeys(false)
            .setMaxAliasesForCollections(limits.maxAliases())
            .setCodePointLimit((int) Math.min(Integer.MAX_VALUE, limits.maxFileBytes()))
            .setUseMarks(true)
            .build();
        List<YamlDocument> docs = new ArrayList<>();
        try (Reader reader = new StringReader(text)) {
            for (Node node : new Compose(settings).composeAllFromReader(reader)) {
                Converter c = new Converter(displayName);
                JsonNode root = c.convert(node, 0);
                docs.add(new YamlDocument(displayName, root, node));
            }
        } catch (MarkedYamlEngineException e) {
            SourcePosition pos = e.getProblemMark().or(e::getContextMark)
                .map(m -> position(displayName, m)).orElse(SourcePosition.ofFile(displayName));
            String problem = e.getProblem() != null ? e.getProblem() : e.getMessage();
            throw new SpecException(new SpecError(pos, "invalid YAML: " + oneLine(problem)));
        } catch (YamlEngineException e) {
            throw new SpecException(new SpecError(SourcePosition.ofFile(displayName), "invalid YAML: " + oneLine(e.getMessage())));
        } catch (StackOverflowError e) {
            throw new SpecException(new SpecError(SourcePosition.ofFile(displayName),
                "invalid YAML: nesting is too deep (the limit is " + limits.maxDepth() + " levels)"));
        } catch (IOException e) {
            throw new SpecException(new SpecError(SourcePosition.ofFile(displayName), "cannot read file: " + e.getMessage()));
        }
        return docs;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\n\\s*", " ").trim();
    }

    static SourcePosition position(String file, Mark mark) {
        return new SourcePosition(file, mark.getLine() + 1, mark.getColumn() + 1);
    }

    private final class Converter {
        final String file;
        int count;

        Converter(String file) {
            this.file = file;
        }

        JsonNode convert(Node node, int depth) {
            if (depth > limits.maxDepth()) {
                throw new SpecException(new SpecError(pos(node), "nesting is too deep (the limit is " + limits.maxDepth() + " levels)"));
            }
            // Aliases share nodes, so a small file can expand exponentially: count what we build.
            if (++count > limits.maxNodes()) {
                throw new SpecException(new SpecError(pos(node), "document expands to more than " + limits.maxNodes() + " nodes (alias bomb?)"));
            }
            if (node instanceof MappingNode m) {
                ObjectNode obj = NODES.objectNode();
                for (NodeTuple t : m.getValue()) {
                    if (!(t.getKeyNode() instanceof ScalarNode k)) {
                        throw new SpecException(new SpecError(pos(t.getKeyNode()), "mapping keys must be plain strings"));
                    }
                    String key = k.getValue();
                    if (obj.has(key)) {
                        // The composer keeps duplicates; a silent last-one-wins would hide a mistake.
                        throw new SpecException(new SpecError(pos(k), "invalid YAML: found duplicate key " + key
                            + " (first at " + firstKey(m, key) + ")"));
                    }
                    obj.set(key, convert(t.getValueNode(), depth + 1));
                }
                return obj;
            }
            if (node instanceof SequenceNode s) {
                ArrayNode arr = NODES.arrayNode();
                for (Node item : s.getValue()) arr.add(convert(item, depth + 1));
                return arr;
            }
            ScalarNode sc = (ScalarNode) node;
            return scalar(sc);
        }

        JsonNode scalar(ScalarNode sc) {
            String v = sc.getValue();
            Tag tag = sc.getTag();
            try {
                if (Tag.NULL.equals(tag)) return NODES.nullNode();
                if (Tag.BOOL.equals(tag)) return NODES.booleanNode(Boolean.parseBoolean(v.toLowerCase()));
                if (Tag.INT.equals(tag)) {
                    String t = v.replace("_", "");
                    BigInteger bi;
                    if (t.startsWith("0x")) bi = new BigInteger(t.substring(2), 16);
                    else if (t.startsWith("0o")) bi = new BigInteger(t.substring(2), 8);
                    else bi = new BigInteger(t);
                    return bi.bitLength() < 63 ? NODES.numberNode(bi.longValue()) : NODES.numberNode(bi);
                }
                if (Tag.FLOAT.equals(tag)) {
                    String t = v.toLowerCase();
                    if (t.endsWith(".inf") || t.equals(".nan")) return NODES.stringNode(v);
                    return NODES.numberNode(Double.parseDouble(t));
                }
            } catch (NumberFormatException e) {
                return NODES.stringNode(v);
            }
            return NODES.stringNode(v);
        }

        SourcePosition firstKey(MappingNode m, String key) {
            for (NodeTuple t : m.getValue()) {
                if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key)) return pos(k);
            }
            return SourcePosition.ofFile(file);
        }

        SourcePosition pos(Node node) {
            return node.getStartMark().map(m -> position(file, m)).orElse(SourcePosition.ofFile(file));
        }
    }
}
