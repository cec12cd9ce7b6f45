package io.mlctl.gitops;

import io.mlctl.plan.CostEstimate;
import io.mlctl.plan.Plan;
import io.mlctl.plan.PolicyResult;
import io.mlctl.plan.Summary;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the daemon last knew of one environment, as served by {@code /api/environments}. {@code lastPlanCost} is the last
 * plan's monthly cost (absent when it was not priced), {@code lastPlanPolicies} the policies it breaks (warnings included).
 */
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
    Optional<Instant> lastSync,
    Optional<PlanCost> lastPlanCost,
    List<PolicyResult> lastPlanPolicies) {

    public EnvironmentStatus {
        lastPlanPolicies = List.copyOf(lastPlanPolicies);
    }

    /** Without a plan's cost or policies (an environment not planned yet). */
    public EnvironmentStatus(String name, String provider, String region, String commit, Status status, Optional<Summary> lastPlanSummary,
                             Optional<Instant> lastPlanTime, Optional<Instant> lastApplyTime, Optional<String> lastApplyOutcome,
                             Optional<String> error, Optional<Instant> lastSync) {
        this(name, provider, region, commit, status, lastPlanSummary, lastPlanTime, lastApplyTime, lastApplyOutcome, error, lastSync,
            Optional.empty(), List.of());
    }

    public enum Status {
        SYNCED, PENDING, DRIFTED, BLOCKED, ERROR, MANUAL;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * A plan's monthly cost in USD: {@code after} is the environment as the plan leaves it (once applied), {@code before} as
     * the cloud held it when planned. The totals only: the per-resource estimate stays in the published plan.
     */
    public record PlanCost(CostEstimate.Amount before, CostEstimate.Amount after) {
        static Optional<PlanCost> of(Plan plan) {
            return plan.cost().map(c -> new PlanCost(c.before(), c.after()));
        }

        public double deltaLow() {
            return after.low() - before.low();
        }

        public double deltaHigh() {
            return after.high() - before.high();
        }
    }
}
