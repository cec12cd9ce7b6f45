package io.mlctl.plan;

import java.util.Collection;

/** Counts by action; the same object appears in plan JSON, the daemon's API and apply output. */
public record Summary(int create, int update, int replace, int delete, int imported) {
    /** A summary of a plan that imports nothing. */
    public Summary(int create, int update, int replace, int delete) {
        this(create, update, replace, delete, 0);
    }

    public static Summary of(Collection<Change> changes) {
        int c = 0, u = 0, r = 0, d = 0, i = 0;
        for (Change ch : changes) {
            switch (ch.action()) {
                case CREATE -> c++;
                case UPDATE -> u++;
                case REPLACE -> r++;
                case DELETE -> d++;
                case IMPORT -> {
                    // terraform counts an import that also changes the resource under both.
                    i++;
                    if (!ch.attributes().isEmpty()) u++;
                }
            }
        }
        return new Summary(c, u, r, d, i);
    }

    /** The counts added up (an import that also changes the resource is in both of its counts). */
    public int total() {
        return create + update + replace + delete + imported;
    }

    /**
     * terraform's line: "Plan: 2 to add, 1 to change, 0 to destroy." with replaces counted in add and destroy, and
     * "Plan: 1 to import, ..." first when something is imported.
     */
    public String sentence() {
        return "Plan: " + (imported > 0 ? imported + " to import, " : "") + (create + replace) + " to add, " + update + " to change, "
            + (delete + replace) + " to destroy" + (replace > 0 ? " (" + replace + " replaced)" : "") + ".";
    }
}
