package io.mlctl.plan;

import java.util.List;
import java.util.Locale;

/**
 * What apply does to one resource. A replace is a delete followed by a create; an import takes over
 * an existing resource the spec's {@code import:} list (or {@code mlctl import}) names: it writes the
 * ownership marker and makes the attribute changes the spec implies, never deletes or recreates.
 */
public enum Action {
    CREATE, UPDATE, REPLACE, DELETE, IMPORT;

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
