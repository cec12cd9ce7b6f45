package io.mlctl.cost;

import io.mlctl.MlctlException;
import io.mlctl.spec.Provider;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON of one provider's prices ({@code prices/aws.json} in the jar, or a file {@code mlctl prices update}
 * wrote): {@code {"provider", "currency": "USD", "rows": [...]}}, one row per line, sorted, so that a refresh
 * reads as a diff of the prices that moved.
 */
public final class PriceFile {
    public static final String CURRENCY = "USD";
    private static final JsonMapper MAPPER = JsonMapper.builder().build();
    private static final Set<String> FIELDS = Set.of("kind", "name", "region", "onDemandPerHour", "spotPerHour", "perGbMonth", "source", "date",
        "spotSource", "spotDate");

    private PriceFile() {
    }

    /** Reads a provider's rows; {@code origin} (a path or the jar resource) names the file in errors. */
    public static List<PriceRow> read(Provider provider, String text, String origin) {
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JacksonException e) {
            throw new MlctlException("prices file " + origin + " is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw new MlctlException("prices file " + origin + " is not a JSON object");
        if (!provider.id().equals(root.path("provider").asString(""))) {
            throw new MlctlException("prices file " + origin + " is for provider '" + root.path("provider").asString("") + "', expected " + provider.id());
        }
        if (!CURRENCY.equals(root.path("currency").asString(""))) {
            throw new MlctlException("prices file " + origin + ": currency must be USD, not '" + root.path("currency").asString("") + "'");
        }
        JsonNode rows = root.get("rows");
        if (rows == null || !rows.isArray()) throw new MlctlException("prices file " + origin + " has no \"rows\" list");
        List<PriceRow> out = new ArrayList<>();
        Map<PriceRow.Key, Integer> seen = new TreeMap<>();
        int i = 0;
        for (JsonNode r : rows) {
            i++;
            PriceRow row = row(r, origin + ": row " + i);
            Integer before = seen.put(row.key(), i);
            if (before != null) throw new MlctlException("prices file " + origin + ": row " + i + " prices " + row.key() + " again (row " + before + ")");
            out.add(row);
        }
        return out;
    }

    private static PriceRow row(JsonNode r, String where) {
        if (!r.isObject()) throw new MlctlException("prices file " + where + " is not an object");
        for (String f : r.propertyNames()) {
            if (!FIELDS.contains(f)) throw new MlctlException("prices file " + where + ": unknown field '" + f + "'");
        }
        PriceKind kind;
        try {
            kind = PriceKind.of(text(r, "kind", where));
        } catch (MlctlException e) {
            throw e.getMessage().startsWith("prices file") ? e : new MlctlException("prices file " + where + ": " + e.getMessage());
        }
        try {
            return new PriceRow(kind, text(r, "name", where), text(r, "region", where),
                number(r, "onDemandPerHour", where), number(r, "spotPerHour", where), number(r, "perGbMonth", where),
                text(r, "source", where), date(r, "date", where), optionalText(r, "spotSource", where), optionalDate(r, "spotDate", where));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new MlctlException("prices file " + where + ": " + e.getMessage());
        }
    }

    private static String text(JsonNode r, String field, String where) {
        String s = optionalText(r, field, where);
        if (s == null) throw new MlctlException("prices file " + where + ": missing '" + field + "'");
        return s;
    }

    private static String optionalText(JsonNode r, String field, String where) {
        JsonNode n = r.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isString()) throw new MlctlException("prices file " + where + ": '" + field + "' must be a string");
        return n.asString();
    }

    private static Double number(JsonNode r, String field, String where) {
        JsonNode n = r.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isNumber()) throw new MlctlException("prices file " + where + ": '" + field + "' must be a number");
        return n.doubleValue();
    }

    private static LocalDate date(JsonNode r, String field, String where) {
        LocalDate d = optionalDate(r, field, where);
        if (d == null) throw new MlctlException("prices file " + where + ": missing '" + field + "'");
        return d;
    }

    private static LocalDate optionalDate(JsonNode r, String field, String where) {
        String s = optionalText(r, field, where);
        if (s == null) return null;
        try {
            return LocalDate.parse(s);
        } catch (DateTimeParseException e) {
            throw new MlctlException("prices file " + where + ": '" + field + "' is not a date (YYYY-MM-DD): '" + s + "'");
        }
    }

    /** The file's text: rows sorted by kind, name and region, one per line, numbers without exponents. */
    public static String write(Provider provider, List<PriceRow> rows) {
        List<PriceRow> sorted = new ArrayList<>(rows);
        sorted.sort((a, b) -> a.key().compareTo(b.key()));
        StringBuilder b = new StringBuilder();
        b.append("{\n  \"provider\": \"").append(provider.id()).append("\",\n  \"currency\": \"").append(CURRENCY).append("\",\n  \"rows\": [\n");
        for (int i = 0; i < sorted.size(); i++) {
            b.append("    ").append(line(sorted.get(i))).append(i + 1 < sorted.size() ? ",\n" : "\n");
        }
        return b.append("  ]\n}\n").toString();
    }

    private static String line(PriceRow r) {
        List<String> fields = new ArrayList<>();
        fields.add(field("kind", r.kind().id()));
        fields.add(field("name", r.name()));
        fields.add(field("region", r.region()));
        if (r.onDemandPerHour() != null) fields.add(number("onDemandPerHour", r.onDemandPerHour()));
        if (r.spotPerHour() != null) fields.add(number("spotPerHour", r.spotPerHour()));
        if (r.perGbMonth() != null) fields.add(number("perGbMonth", r.perGbMonth()));
        fields.add(field("source", r.source()));
        fields.add(field("date", r.date().toString()));
        if (r.spotSource() != null) {
            fields.add(field("spotSource", r.spotSource()));
            fields.add(field("spotDate", r.spotDate().toString()));
        }
        return "{" + String.join(", ", fields) + "}";
    }

    private static String field(String name, String value) {
        return "\"" + name + "\": " + MAPPER.writeValueAsString(value);
    }

    /** Plain decimal text of the double's shortest form: 0.00099, not 9.9E-4. */
    private static String number(String name, double value) {
        return "\"" + name + "\": " + plain(value).toPlainString();
    }

    private static BigDecimal plain(double d) {
        BigDecimal v = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        return v.scale() < 0 ? v.setScale(0) : v;
    }
}
