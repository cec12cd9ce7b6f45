package io.mlctl.gitops;

import java.io.PrintWriter;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** Log lines of the daemon: text for people, one JSON object per line for log pipelines. */
public final class DaemonLog {
    private static final JsonMapper JSON = JsonMapper.builder().build();
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

    /** {@code fields} alternate keys and values. */
    private synchronized void log(String level, String message, Object... fields) {
        Map<String, Object> f = new LinkedHashMap<>();
        for (int i = 0; i + 1 < fields.length; i += 2) f.put(String.valueOf(fields[i]), fields[i + 1]);
        if (json) {
            ObjectNode n = JSON.createObjectNode().put("time", clock.instant().toString()).put("level", level).put("msg", message);
            f.forEach((k, v) -> n.put(k, String.valueOf(v)));
            out.println(JSON.writeValueAsString(n));
        } else {
            StringBuilder b = new StringBuilder(clock.instant().toString()).append(' ').append(level.toUpperCase()).append(' ').append(message);
            f.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
            out.println(b);
        }
        out.flush();
    }
}
