package io.mlctl.gitops;

import io.mlctl.plan.Summary;
import java.time.Instant;
import java.util.Optional;

/** What the daemon last knew of one environment, as served by {@code /api/environments}. */
public record EnvironmentStatus(
    String name,
    String provider,
    String region,
    String commit,
    Status status,
    Optional<Summary> lastPlanSummary,
    Optional<Instant> lastPlanTime,
    Optional<Instant> lastApplyTime,
    Optional<String> lastApplyOutcome,
    Optional<String> error,
    Optional<Instant> lastSync) {

    public enum Status {
        SYNCED, PENDING, DRIFTED, BLOCKED, ERROR, MANUAL;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
