package io.mlctl.fake.azure;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The part of Resource Graph's query language (Kusto) the fake understands:
 * {@code <table> | where <field> <op> '<text>' [and ...] | order by <field> [asc|desc]}, with
 * {@code ==}, {@code =~}, {@code !=}, {@code in~ ('a', 'b')} and fields such as {@code type},
 * {@code tags['mlctl-environment']} or {@code properties.principalId}. Anything else is refused as
 * Graph refuses a query it cannot parse, so a driver query the fake does not understand fails a test
 * instead of silently matching everything.
 */
final class GraphQuery {
    private static final Pattern CONDITION = Pattern.compile(
        "\\s*([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*|\\['[^']+'\\])*)\\s*(==|=~|!=|!~|in~|in)\\s*"
            + "('([^']*)'|\\(\\s*('[^']*'(?:\\s*,\\s*'[^']*')*)\\s*\\))\\s*");
    private static final Pattern ORDER = Pattern.compile("\\s*order\\s+by\\s+([A-Za-z_][A-Za-z0-9_.]*)\\s*(asc|desc)?\\s*");
    private static final Pattern FIELD_PART = Pattern.compile("\\.([A-Za-z_][A-Za-z0-9_]*)|\\['([^']+)'\\]|^([A-Za-z_][A-Za-z0-9_]*)");

    final String table;
    private final List<Predicate<Map<String, Object>>> filters = new ArrayList<>();
    private Comparator<Map<String, Object>> order;

    private GraphQuery(String table) {
        this.table = table;
    }

    static GraphQuery parse(String text) {
        String[] stages = text.split("\\|");
        String table = stages[0].trim().toLowerCase(Locale.ROOT);
        if (!List.of("resources", "authorizationresources", "resourcecontainers").contains(table)) {
            throw invalid("unknown table '" + stages[0].trim() + "'");
        }
        GraphQuery q = new GraphQuery(table);
        for (int i = 1; i < stages.length; i++) {
            String stage = stages[i].trim();
            if (stage.startsWith("where ")) {
                for (String cond : stage.substring(6).split("\\s+and\\s+")) q.filters.add(condition(cond));
            } else {
                Matcher o = ORDER.matcher(stage);
                if (!o.matches()) throw invalid("unsupported query operator '" + stage + "'");
                Comparator<Map<String, Object>> c = Comparator.comparing(r -> String.valueOf(field(r, o.group(1))).toLowerCase(Locale.ROOT));
                q.order = "desc".equals(o.group(2)) ? c.reversed() : c;
            }
        }
        return q;
    }

    List<Map<String, Object>> run(List<Map<String, Object>> rows) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> r : rows) if (filters.stream().allMatch(f -> f.test(r))) out.add(r);
        if (order != null) out.sort(order);
        return out;
    }

    private static Predicate<Map<String, Object>> condition(String text) {
        Matcher m = CONDITION.matcher(text);
        if (!m.matches()) throw invalid("cannot parse condition '" + text.trim() + "'");
        String field = m.group(1);
        String op = m.group(2);
        List<String> values = new ArrayList<>();
        if (m.group(4) != null) values.add(m.group(4));
        else for (String v : m.group(5).split("\\s*,\\s*")) values.add(v.substring(1, v.length() - 1));
        boolean listOp = op.startsWith("in");
        if (listOp != (m.group(5) != null)) throw invalid("operator " + op + " does not take " + m.group(3));
        boolean caseless = op.contains("~");
        boolean negate = op.startsWith("!");
        return row -> {
            Object v = field(row, field);
            if (v == null) return negate;
            String s = String.valueOf(v);
            boolean hit = values.stream().anyMatch(x -> caseless ? x.equalsIgnoreCase(s) : x.equals(s));
            return negate != hit;
        };
    }

    @SuppressWarnings("unchecked")
    static Object field(Map<String, Object> row, String path) {
        Object cur = row;
        Matcher m = FIELD_PART.matcher(path);
        while (m.find()) {
            String key = m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3);
            if (!(cur instanceof Map<?, ?> map)) return null;
            Object next = null;
            // Graph compares property names without case (tags['Env'] finds 'env').
            for (Map.Entry<String, Object> e : ((Map<String, Object>) map).entrySet()) {
                if (e.getKey().equalsIgnoreCase(key)) next = e.getValue();
            }
            cur = next;
        }
        return cur;
    }

    private static ArmError invalid(String why) {
        return new ArmError(400, "BadRequest", "Please provide below info when asking for support: ... Query is invalid. Please refer to the "
            + "documentation for the Azure Resource Graph service and fix the query before retrying. (ParserFailure: " + why + ")");
    }
}
