package io.mlctl.spec;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.api.lowlevel.Present;
import org.snakeyaml.engine.v2.api.lowlevel.Serialize;
import org.snakeyaml.engine.v2.comments.CommentType;
import org.snakeyaml.engine.v2.common.ScalarStyle;
import org.snakeyaml.engine.v2.events.CommentEvent;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.schema.CoreSchema;
import tools.jackson.databind.JsonNode;

/**
 * {@code mlctl fmt}: the canonical text of a spec file, comments kept. Canonical means: two-space
 * indentation with list dashes indented under their key, the keys of each object in the order the
 * schema lists them (unknown keys after, as they were; free-form maps such as labels as they were),
 * scalars plain unless the value needs quotes (then single quotes, or double where only escapes can
 * say it), one space before an inline comment. Values, flow lists ({@code [a, b]}), block scalars,
 * anchors and blank lines are kept.
 *
 * <p>SnakeYAML Engine keeps most comments but not all: a file with a comment inside a flow list or
 * map is refused at that comment, and every result is checked before it is returned — the same data, the same comments, and formatting it
 * again changes nothing — and a file that fails the check is refused with one line rather than
 * rewritten with a comment lost.
 */
public final class SpecFormatter {
    /** The canonical text, or why the file cannot be rewritten safely (a one-line {@link SpecError}). */
    public sealed interface Result {
        record Formatted(String text) implements Result {
        }

        record Refused(SpecError error) implements Result {
        }
    }

    private final JsonNode schemaRoot;
    private final YamlLoader loader = new YamlLoader();

    public SpecFormatter(JsonNode schemaRoot) {
        this.schemaRoot = schemaRoot;
    }

    public Result format(String text, String displayName) {
        List<YamlDocument> before;
        try {
            before = loader.loadString(text, displayName);
        } catch (SpecException e) {
            return new Result.Refused(e.errors().get(0));
        }
        Optional<SpecError> inFlow = commentInFlow(text, displayName);
        if (inFlow.isPresent()) return new Result.Refused(inFlow.get());
        String out;
        try {
            out = rewrite(text, displayName);
        } catch (YamlEngineException e) {
            return refused(displayName, "cannot rewrite it: " + oneLine(e.getMessage()));
        }
        // The checks that make a rewrite safe, whatever the YAML library did.
        List<YamlDocument> after;
        try {
            after = loader.loadString(out, displayName);
        } catch (SpecException e) {
            return refused(displayName, "cannot rewrite it without changing what it says (" + e.errors().get(0).message() + ")");
        }
        if (!data(before).equals(data(after))) {
            return refused(displayName, "cannot rewrite it without changing what it says");
        }
        List<String> commentsBefore = comments(text);
        List<String> commentsAfter = comments(out);
        if (!commentsBefore.equals(commentsAfter)) {
            List<String> lost = new ArrayList<>(commentsBefore);
            commentsAfter.forEach(lost::remove);
            return refused(displayName, "cannot rewrite it without losing a comment" + (lost.isEmpty() ? "" : " (#" + lost.get(0) + ")"));
        }
        // Every comment kept is also still where it was: above (or after) the same key, list item or document.
        List<String> placesBefore = commentPlaces(text, displayName);
        List<String> placesAfter = commentPlaces(out, displayName);
        if (!placesBefore.equals(placesAfter)) {
            List<String> moved = new ArrayList<>(placesBefore);
            placesAfter.forEach(moved::remove);
            return refused(displayName, "cannot rewrite it without moving a comment" + (moved.isEmpty() ? ""
                : " (#" + moved.get(0).substring(moved.get(0).indexOf('#') + 1) + ")"));
        }
        try {
            if (!rewrite(out, displayName).equals(out)) return refused(displayName, "cannot rewrite it stably (formatting it twice differs)");
        } catch (YamlEngineException e) {
            return refused(displayName, "cannot rewrite it stably: " + oneLine(e.getMessage()));
        }
        return new Result.Formatted(out);
    }

    /**
     * SnakeYAML Engine drops a comment inside a flow list and moves one inside a flow map to an odd
     * place ({@code ml  # c\n, b: x}): such a file is refused, at the comment.
     */
    private static Optional<SpecError> commentInFlow(String text, String file) {
        LoadSettings load = LoadSettings.builder().setParseComments(true).build();
        int depth = 0;
        for (Event e : new Parse(load).parseReader(new StringReader(text))) {
            if (e instanceof org.snakeyaml.engine.v2.events.CollectionStartEvent c && c.isFlow()) depth++;
            else if (e instanceof org.snakeyaml.engine.v2.events.CollectionEndEvent && depth > 0) depth--;
            else if (depth > 0 && e instanceof CommentEvent c && c.getCommentType() != CommentType.BLANK_LINE) {
                SourcePosition at = c.getStartMark().map(m -> YamlLoader.position(file, m)).orElse(SourcePosition.ofFile(file));
                return Optional.of(new SpecError(at, "a comment inside a flow list or map ([..] or {..}) cannot be kept by mlctl fmt: "
                    + "move it above the line or write the list in block style; left as it is"));
            }
        }
        return Optional.empty();
    }

    private static Result refused(String file, String message) {
        return new Result.Refused(new SpecError(SourcePosition.ofFile(file), message + "; left as it is"));
    }

    private String rewrite(String text, String displayName) {
        LoadSettings load = LoadSettings.builder().setLabel(displayName).setSchema(new CoreSchema()).setParseComments(true)
            .setAllowDuplicateKeys(false).build();
        List<Node> docs = new ArrayList<>();
        for (Node n : new Compose(load).composeAllFromReader(new StringReader(text))) docs.add(n);
        for (Node doc : docs) canonical(doc, schemaRoot, true);
        DumpSettings dump = DumpSettings.builder().setSchema(new CoreSchema()).setDumpComments(true)
            .setIndent(2).setIndicatorIndent(2).setIndentWithIndicator(true)
            .setWidth(100_000).setSplitLines(false).build();
        List<Event> events = new Serialize(dump).serializeAll(docs);
        return align(tidy(new Present(dump).emitToString(events.iterator())), text);
    }

    /**
     * The emitter puts one space before an inline comment; each goes back to the column it had, moved
     * as far as its line's indentation moved (so comments aligned in a block stay aligned), when the
     * line leaves room, else one space after the value.
     */
    static String align(String out, String original) {
        String[] before = original.split("\n", -1);
        Map<String, java.util.Deque<Integer>> columns = new java.util.HashMap<>();
        for (CommentEvent c : inlineComments(original)) {
            if (c.getStartMark().isEmpty()) continue;
            int line = c.getStartMark().get().getLine();
            int indent = line < before.length ? indentation(before[line]) : 0;
            columns.computeIfAbsent(c.getValue(), v -> new java.util.ArrayDeque<>()).add(c.getStartMark().get().getColumn() - indent);
        }
        String[] lines = out.split("\n", -1);
        for (CommentEvent c : inlineComments(out)) {
            java.util.Deque<Integer> cols = columns.get(c.getValue());
            if (cols == null || cols.isEmpty() || c.getStartMark().isEmpty()) continue;
            int line = c.getStartMark().get().getLine();
            int at = c.getStartMark().get().getColumn();
            String l = lines[line];
            int want = cols.poll() + indentation(l);
            if (at >= l.length() || l.charAt(at) != '#') continue;
            String code = l.substring(0, at).stripTrailing();
            lines[line] = code + " ".repeat(Math.max(1, want - code.length())) + l.substring(at);
        }
        return String.join("\n", lines);
    }

    private static int indentation(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) == ' ') i++;
        return i;
    }

    private static List<CommentEvent> inlineComments(String text) {
        LoadSettings load = LoadSettings.builder().setParseComments(true).build();
        List<CommentEvent> out = new ArrayList<>();
        for (Event e : new Parse(load).parseReader(new StringReader(text))) {
            if (e instanceof CommentEvent c && c.getCommentType() == CommentType.IN_LINE) out.add(c);
        }
        return out;
    }

    /** Reorders keys by the schema and asks for plain scalars (the emitter quotes what must be quoted). */
    private void canonical(Node node, JsonNode schema, boolean whole) {
        if (node instanceof MappingNode m) {
            List<String> order = order(m, schema);
            List<NodeTuple> tuples = new ArrayList<>(m.getValue());
            if (!order.isEmpty() && !tuples.isEmpty()) {
                Node first = tuples.get(0).getKeyNode();
                tuples.sort(java.util.Comparator.comparingInt(t -> {
                    int i = t.getKeyNode() instanceof ScalarNode k ? order.indexOf(k.getValue()) : -1;
                    return i < 0 ? Integer.MAX_VALUE : i;
                }));
                // A comment above a document or a list item sits on its first key but is about the whole object: it stays on top.
                // Above any other key it is that key's, and moves with it.
                Node now = tuples.get(0).getKeyNode();
                if (whole && now != first && first.getBlockComments() != null && !first.getBlockComments().isEmpty()) {
                    List<org.snakeyaml.engine.v2.comments.CommentLine> moved = new ArrayList<>(first.getBlockComments());
                    if (now.getBlockComments() != null) moved.addAll(now.getBlockComments());
                    now.setBlockComments(moved);
                    first.setBlockComments(new ArrayList<>());
                }
            }
            List<NodeTuple> out = new ArrayList<>();
            for (NodeTuple t : tuples) {
                String key = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : null;
                Node value = t.getValueNode();
                canonical(value, key == null ? missing() : propertySchema(m, schema, key), false);
                out.add(new NodeTuple(plain(t.getKeyNode()), plain(value)));
            }
            m.setValue(out);
        } else if (node instanceof SequenceNode s) {
            JsonNode items = resolve(schema).path("items");
            List<Node> out = new ArrayList<>();
            for (Node item : s.getValue()) {
                canonical(item, items, true);
                out.add(plain(item));
            }
            s.getValue().clear();
            s.getValue().addAll(out);
        }
    }

    /** The keys of the object's schema, in the schema's order, including those a type-discriminated branch adds. */
    private List<String> order(MappingNode m, JsonNode schema) {
        List<String> keys = new ArrayList<>();
        for (JsonNode s : branches(m, schema)) {
            for (Map.Entry<String, JsonNode> p : s.path("properties").properties()) {
                if (!keys.contains(p.getKey())) keys.add(p.getKey());
            }
        }
        return keys;
    }

    private JsonNode propertySchema(MappingNode m, JsonNode schema, String key) {
        JsonNode found = missing();
        for (JsonNode s : branches(m, schema)) {
            JsonNode p = s.path("properties").path(key);
            // A branch may only say the property exists ("type": true); the one with a schema wins.
            if (p.isObject()) found = p;
        }
        return found;
    }

    /** The schema and, for allOf/if/then, the branches whose {@code if} matches the object's {@code const} values. */
    private List<JsonNode> branches(MappingNode m, JsonNode schema) {
        List<JsonNode> out = new ArrayList<>();
        JsonNode s = resolve(schema);
        if (!s.isObject()) return out;
        out.add(s);
        for (JsonNode branch : s.path("allOf")) {
            JsonNode when = branch.path("if");
            if (!when.isMissingNode() && matches(m, when)) out.addAll(branches(m, branch.path("then")));
            else if (when.isMissingNode()) out.addAll(branches(m, branch));
        }
        return out;
    }

    private static boolean matches(MappingNode m, JsonNode when) {
        for (Map.Entry<String, JsonNode> p : when.path("properties").properties()) {
            JsonNode c = p.getValue().path("const");
            if (c.isMissingNode()) continue;
            Optional<String> v = scalarValue(m, p.getKey());
            if (v.isEmpty() || !v.get().equals(c.asString())) return false;
        }
        return true;
    }

    private static Optional<String> scalarValue(MappingNode m, String key) {
        for (NodeTuple t : m.getValue()) {
            if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key) && t.getValueNode() instanceof ScalarNode v) {
                return Optional.of(v.getValue());
            }
        }
        return Optional.empty();
    }

    private JsonNode resolve(JsonNode schema) {
        JsonNode s = schema;
        for (int i = 0; i < 16 && s.has("$ref"); i++) {
            String ref = s.get("$ref").asString();
            if (!ref.startsWith("#/")) break;
            s = schemaRoot.at(ref.substring(1));
        }
        return s;
    }

    private static JsonNode missing() {
        return tools.jackson.databind.node.MissingNode.getInstance();
    }

    private static final org.snakeyaml.engine.v2.resolver.ScalarResolver RESOLVER = new CoreSchema().getScalarResolver();

    /**
     * A quoted scalar made plain when plain says the same (a string that does not read as a number,
     * boolean or null, made of characters plain YAML takes anywhere), else double-quoted; plain and
     * block scalars (| and >) stay as they are.
     */
    private static Node plain(Node n) {
        if (!(n instanceof ScalarNode s) || s.getAnchor().isPresent() || s.getScalarStyle() == ScalarStyle.PLAIN
            || s.getScalarStyle() == ScalarStyle.LITERAL || s.getScalarStyle() == ScalarStyle.FOLDED) {
            return n;
        }
        ScalarStyle style = safePlain(s) ? ScalarStyle.PLAIN : ScalarStyle.DOUBLE_QUOTED;
        if (style == s.getScalarStyle()) return n;
        ScalarNode p = new ScalarNode(s.getTag(), s.isResolved(), s.getValue(), style, s.getStartMark(), s.getEndMark());
        p.setBlockComments(s.getBlockComments());
        p.setInLineComments(s.getInLineComments());
        p.setEndComments(s.getEndComments());
        p.setAnchor(s.getAnchor());
        return p;
    }

    private static boolean safePlain(ScalarNode s) {
        String v = s.getValue();
        return org.snakeyaml.engine.v2.nodes.Tag.STR.equals(s.getTag()) && RESOLVER.resolve(v, true).equals(s.getTag())
            && v.matches("[A-Za-z0-9_/][A-Za-z0-9_./@+=: ()-]*") && !v.endsWith(" ") && !v.endsWith(":") && !v.contains(": ");
    }

    /**
     * What the emitter cannot do by itself: a comment or blank line before a list item that is an
     * object is written after its dash ({@code - # comment}, or {@code - } alone for a blank line); it
     * goes back above the dash. Runs of
     * blank lines become one, and none starts or ends the file.
     */
    private static final java.util.regex.Pattern DASH = java.util.regex.Pattern.compile("( *)- ?(#.*)?");

    static String tidy(String text) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            // "- # comment" (the first comment was a comment) or "- " alone (it was a blank line).
            java.util.regex.Matcher dash = DASH.matcher(line);
            if (dash.matches()) {
                String indent = dash.group(1);
                int j = i + 1;
                List<String> moved = new ArrayList<>();
                moved.add(dash.group(2) != null ? indent + dash.group(2) : "");
                while (j < lines.size() && (lines.get(j).isBlank() || lines.get(j).stripLeading().startsWith("#"))) {
                    moved.add(lines.get(j).isBlank() ? "" : indent + lines.get(j).stripLeading());
                    j++;
                }
                if (j < lines.size() && lines.get(j).startsWith(indent + "  ") && !lines.get(j).startsWith(indent + "   ")) {
                    out.addAll(moved);
                    out.add(indent + "- " + lines.get(j).substring(indent.length() + 2));
                    i = j;
                    continue;
                }
            }
            out.add(line);
        }
        StringBuilder b = new StringBuilder();
        boolean blank = true; // no blank line at the start
        for (String line : out) {
            boolean isBlank = line.isBlank();
            if (isBlank && blank) continue;
            b.append(isBlank ? "" : line).append('\n');
            blank = isBlank;
        }
        String s = b.toString();
        while (s.endsWith("\n\n")) s = s.substring(0, s.length() - 1);
        return s.equals("\n") ? "" : s;
    }

    private static List<JsonNode> data(List<YamlDocument> docs) {
        return docs.stream().map(YamlDocument::root).toList();
    }

    /** Every comment's text in the file, sorted (keys move, so comments move with them). */
    /**
     * Each comment with the place it belongs to, sorted: "PATH#comment", where PATH is the key a comment sits above or after
     * (/spec/region), or the document or list item for the comment above its first key, which is about the whole of it.
     */
    public static List<String> commentPlaces(String text, String displayName) {
        LoadSettings load = LoadSettings.builder().setLabel(displayName).setSchema(new CoreSchema()).setParseComments(true).build();
        List<String> out = new ArrayList<>();
        int doc = 0;
        for (Node n : new Compose(load).composeAllFromReader(new StringReader(text))) places(n, "/" + doc++, true, out);
        java.util.Collections.sort(out);
        return out;
    }

    private static void places(Node node, String path, boolean whole, List<String> out) {
        addComments(node.getBlockComments(), path, out);
        addComments(node.getInLineComments(), path, out);
        addComments(node.getEndComments(), path + "/end", out);
        if (node instanceof MappingNode m) {
            boolean firstKey = true;
            for (NodeTuple t : m.getValue()) {
                String key = t.getKeyNode() instanceof ScalarNode k ? k.getValue() : "?";
                addComments(t.getKeyNode().getBlockComments(), whole && firstKey ? path : path + "/" + key, out);
                addComments(t.getKeyNode().getInLineComments(), path + "/" + key, out);
                places(t.getValueNode(), path + "/" + key, false, out);
                firstKey = false;
            }
        } else if (node instanceof SequenceNode s) {
            int i = 0;
            for (Node item : s.getValue()) places(item, path + "/" + i++, true, out);
        }
    }

    private static void addComments(List<org.snakeyaml.engine.v2.comments.CommentLine> comments, String path, List<String> out) {
        if (comments == null) return;
        for (var c : comments) {
            if (c.getCommentType() != CommentType.BLANK_LINE) out.add(path + "#" + c.getValue());
        }
    }

    public static List<String> comments(String text) {
        LoadSettings load = LoadSettings.builder().setParseComments(true).build();
        List<String> out = new ArrayList<>();
        Iterator<Event> events = new Parse(load).parseReader(new StringReader(text)).iterator();
        while (events.hasNext()) {
            if (events.next() instanceof CommentEvent c && c.getCommentType() != CommentType.BLANK_LINE) out.add(c.getValue());
        }
        java.util.Collections.sort(out);
        return out;
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\n\\s*", " ").trim();
    }
}
