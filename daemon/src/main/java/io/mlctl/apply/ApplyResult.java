package io.mlctl.apply;

import java.util.List;
import java.util.Map;

/** What an apply did: counts by operation, the cloud id of each resource it touched, and failures. */
public record ApplyResult(int created, int updated, int deleted, Map<String, String> cloudIds, List<String> failures, List<String> skipped) {
    public ApplyResult {
        cloudIds = Map.copyOf(cloudIds);
        failures = List.copyOf(failures);
        skipped = List.copyOf(skipped);
    }

    public boolean ok() {
        return failures.isEmpty() && skipped.isEmpty();
    }

    public String sentence() {
        return "Resources: " + created + " added, " + updated + " changed, " + deleted + " destroyed.";
    }
}
