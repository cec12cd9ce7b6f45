package io.mlctl.apply;

import java.util.List;
import java.util.Map;

/**
 * What an apply did: counts by operation, the cloud id of each resource it touched, and failures. {@code imported} counts
 * the resources taken over (an import's attribute changes are part of it, not counted as changed).
 */
public record ApplyResult(int created, int updated, int deleted, Map<String, String> cloudIds, List<String> failures, List<String> skipped,
                          int imported) {
    public ApplyResult {
        cloudIds = Map.copyOf(cloudIds);
        failures = List.copyOf(failures);
        skipped = List.copyOf(skipped);
    }

    /** The result of an apply that imported nothing. */
    public ApplyResult(int created, int updated, int deleted, Map<String, String> cloudIds, List<String> failures, List<String> skipped) {
        this(created, updated, deleted, cloudIds, failures, skipped, 0);
    }

    public boolean ok() {
        return failures.isEmpty() && skipped.isEmpty();
    }

    /** terraform's words, with "N imported" first only when something was. */
    public String sentence() {
        return "Resources: " + (imported > 0 ? imported + " imported, " : "") + created + " added, " + updated + " changed, " + deleted + " destroyed.";
    }
}
