package io.mlctl.plan;

import java.time.Instant;
import java.util.List;

/**
 * A plan is data: the changes for one environment, in apply order, with what it was computed from.
 * Produced by the planner, rendered by {@code plan.render}, executed by {@code apply}.
 */
public record Plan(
    String formatVersion,
    String environment,
    String provider,
    String region,
    Instant createdAt,
    boolean destroy,
    List<Change> changes,
    List<UnchangedResource> unchanged,
    List<String> warnings,
    boolean massDelete,
    Fingerprints fingerprints) {

    public static final String FORMAT_VERSION = "1.0";

    public Plan {
        changes = List.copyOf(changes);
        unchanged = List.copyOf(unchanged);
        warnings = List.copyOf(warnings);
    }

    public Summary summary() {
        return Summary.of(changes);
    }

    public boolean hasChanges() {
        return !changes.isEmpty();
    }
}
