package io.mlctl.apply;

import java.util.List;
import java.util.Map;

/** What an apply did: counts by operation, the cloud id of each resource it touched, and failures. */
public record ApplyResult(int created, int updated, int deleted, int imported, Map<String, String> cloudIds, List<String> failures,
                          List<String> skipped) {
    public ApplyResult {
        cloudIds = Map.copyOf(cloudIds);
        failures = List.copyOf(failures);
        skipped = List.copyOf(skipped);
    }

    /** A result of an apply that imported nothing. */
    public ApplyResult(int created, int updated, int deleted, Map<String, String> cloudIds, List<String> failures, List<String> skipped) {
        this(created, updated, deleted, 0, cloudIds, failures, skipped);
    }

    public boolean ok() {
        return failures.isEmpty() && skipped.isEmpty();
    }

    /** terraform's: "Resources: 1 imported, 2 added, 0 changed, 0 destroyed.", the import count only when something was. */
    public String sentence() {
        return "Resources: " + (imported > 0 ? imported + " imported, " : "") + created + " added, " + updated + " changed, " + deleted
            + " destroyed.";
    }
}
