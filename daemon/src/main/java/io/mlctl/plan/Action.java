package io.mlctl.plan;

import java.util.List;
import java.util.Locale;

/** What apply does to one resource. A replace is a delete followed by a create. */
public enum Action {
    CREATE, UPDATE, REPLACE, DELETE;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** terraform's JSON convention: a replace is written ["delete","create"] so no scan for deletes misses it. */
    public List<String> primitives() {
        return this == REPLACE ? List.of("delete", "create") : List.of(id());
    }

    public static Action of(String id) {
        return valueOf(id.toUpperCase(Locale.ROOT));
    }
}
