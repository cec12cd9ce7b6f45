package io.mlctl.gitops;

import io.mlctl.util.Durations;
import io.mlctl.util.Redaction;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Log lines of the daemon: logfmt for people and for parsers of it ({@code time=… level=info msg="…" key=value}),
 * or one JSON object per line for log pipelines. Numbers and booleans stay numbers and booleans in JSON;
 * durations read as in flags ({@code 2s}), instants as ISO-8601. Every message and text value goes through
 * {@link Redaction#text}, so a credential in a URL never reaches a log.
 */
public final class DaemonLog {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Keys every line has; a field named like one is written with a leading underscore. */
    private static final Set<String> RESERVED = Set.of("time", "level", "msg");
    private final PrintWriter out;
    private final boolean json;
    private final Clock clock;

    public DaemonLog(PrintWriter out, boolean json, Clock clock) {
        this.out = out;
        this.json = json;
        this.clock = clock;
    }

    public void info(String message, Object... fields) {
        log("info", message, fields);
    }

    public void warn(String message, Object... fields) {
        log("warn", message, fields);
    }

    public void error(String message, Object... fields) {
        log("error", message, fields);
    }

    /** {@code fields} alternate keys and values; a key without a value is written with null. */
    private void log(String level, String message, Object... fields) {
        List<Map.Entry<String, Object>> f = new ArrayList<>();
        f.add(Map.entry("time", clock.instant().toString()));
        f.add(Map.entry("level", level));
        f.add(Map.entry("msg", Redaction.text(String.valueOf(message))));
        for (int i = 0; i < fields.length; i += 2) {
            String k = key(String.valueOf(fields[i]));
            Object v = i + 1 < fields.length ? value(fields[i + 1]) : null;
            f.add(new AbstractMap.SimpleImmutableEntry<>(RESERVED.contains(k) ? "_" + k : k, v));
        }
        String line = json ? json(f) : logfmt(f);
        synchronized (this) {
            out.println(line);
            out.flush();
        }
    }

    /**
     * What a field's value is written as: null, a Boolean, a Long, BigInteger, BigDecimal or finite Double
     * as it is; a Duration in flag syntax; an Instant in ISO-8601; anything else as its text, redacted.
     */
    static Object value(Object v) {
        if (v instanceof Optional<?> o) v = o.orElse(null);
        if (v == null || v instanceof Boolean || v instanceof BigInteger || v instanceof BigDecimal) return v;
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte || v instanceof AtomicInteger || v instanceof AtomicLong) {
            return ((Number) v).longValue();
        }
        if ((v instanceof Double || v instanceof Float) && Double.isFinite(((Number) v).doubleValue())) return ((Number) v).doubleValue();
        if (v instanceof Duration d) return Durations.format(d);
        if (v instanceof Instant t) return t.toString();
        return Redaction.text(String.valueOf(v));
    }

    /** A logfmt key: no spaces, controls, '=' or '"' (each becomes '_'), never empty. */
    static String key(String k) {
        if (k.isEmpty()) return "_";
        StringBuilder b = new StringBuilder(k.length());
        k.codePoints().forEach(c -> b.appendCodePoint(c <= ' ' || c == '=' || c == '"' || c == 0x7f || Character.isSpaceChar(c) || Character.isISOControl(c) ? '_' : c));
        return b.toString();
    }

    private static String json(List<Map.Entry<String, Object>> fields) {
        ObjectNode n = JSON.createObjectNode();
        for (Map.Entry<String, Object> e : fields) {
            Object v = e.getValue();
            if (v == null) {
                n.putNull(e.getKey());
            } else if (v instanceof Boolean b) {
                n.put(e.getKey(), b);
            } else if (v instanceof Long l) {
                n.put(e.getKey(), l);
            } else if (v instanceof Double d) {
                n.put(e.getKey(), d);
            } else if (v instanceof BigInteger i) {
                n.put(e.getKey(), i);
            } else if (v instanceof BigDecimal d) {
                n.put(e.getKey(), d);
            } else {
                n.put(e.getKey(), (String) v);
            }
        }
        return JSON.writeValueAsString(n);
    }

    private static String logfmt(List<Map.Entry<String, Object>> fields) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, Object> e : fields) {
            if (b.length() > 0) b.append(' ');
            b.append(e.getKey()).append('=');
            Object v = e.getValue();
            if (v == null) {
                b.append("null");
            } else if (v instanceof String s) {
                quoted(b, s);
            } else {
                b.append(v);
            }
        }
        return b.toString();
    }

    /** A logfmt value: bare when it is safe, else in double quotes with JSON's escapes (what logfmt parsers decode). */
    static void quoted(StringBuilder b, String s) {
        if (!s.isEmpty() && s.codePoints().noneMatch(DaemonLog::needsQuotes)) {
            b.append(s);
            return;
        }
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    // Other controls, and the Unicode line and paragraph separators, never break a line.
                    if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    private static boolean needsQuotes(int c) {
        return c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f || Character.isSpaceChar(c) || Character.isISOControl(c);
    }
}
