package io.mlctl.plan;

import io.mlctl.spec.Address;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A plan is data: the changes for one environment, in apply order, with what it was computed from (fingerprints of the
 * spec and inventory, the account and region read, and, when the command line made it, the {@link Origin}: sandbox or
 * cloud, and the spec paths). {@code targets} are the addresses a targeted plan ({@code --target}) was limited to, sorted;
 * empty for a whole-environment plan. {@code policies} are the config repository's policies this plan breaks (those that deny
 * keep it from being applied).
 * Produced by the planner, rendered by {@code plan.render}, executed by {@code apply}.
 */
public record Plan(
    String formatVersion,
    String environment,
    String provider,
    String region,
    Optional<String> account,
    Instant createdAt,
    boolean destroy,
    List<Address> targets,
    List<Change> changes,
    List<UnchangedResource> unchanged,
    List<String> warnings,
    boolean massDelete,
    Fingerprints fingerprints,
    Optional<Origin> origin,
    List<PolicyResult> policies,
    Optional<CostEstimate> cost,
    List<Placement> placements) {

    /**
     * 1.1: the plan names the account it read, and subnets and node pools changed on their own ({@code component});
     * later within 1.1, {@code origin} (where the plan was made, optional: older files lack it), and {@code placements} (how each
     * {@code machineType: auto} was resolved; absent in older files).
     */
    public static final String FORMAT_VERSION = "1.1";

    /** A plan not yet tied to the account it was read from (the planner's; the engine adds the account). */
    public Plan(String formatVersion, String environment, String provider, String region, Instant createdAt, boolean destroy,
                List<Address> targets, List<Change> changes, List<UnchangedResource> unchanged, List<String> warnings, boolean massDelete,
                Fingerprints fingerprints) {
        this(formatVersion, environment, provider, region, Optional.empty(), createdAt, destroy, targets, changes, unchanged, warnings, massDelete,
            fingerprints, Optional.empty(), List.of(), Optional.empty());
    }

    /** A plan breaking no policy. */
    public Plan(String formatVersion, String environment, String provider, String region, Optional<String> account, Instant createdAt,
                boolean destroy, List<Address> targets, List<Change> changes, List<UnchangedResource> unchanged, List<String> warnings,
                boolean massDelete, Fingerprints fingerprints, Optional<Origin> origin) {
        this(formatVersion, environment, provider, region, account, createdAt, destroy, targets, changes, unchanged, warnings, massDelete,
            fingerprints, origin, List.of(), Optional.empty());
    }

    /** A plan that resolved no {@code machineType: auto}. */
    public Plan(String formatVersion, String environment, String provider, String region, Optional<String> account, Instant createdAt,
                boolean destroy, List<Address> targets, List<Change> changes, List<UnchangedResource> unchanged, List<String> warnings,
                boolean massDelete, Fingerprints fingerprints, Optional<Origin> origin, List<PolicyResult> policies, Optional<CostEstimate> cost) {
        this(formatVersion, environment, provider, region, account, createdAt, destroy, targets, changes, unchanged, warnings, massDelete,
            fingerprints, origin, policies, cost, List.of());
    }

    public Plan {
        placements = List.copyOf(placements);
        java.util.Objects.requireNonNull(account, "account");
        java.util.Objects.requireNonNull(origin, "origin");
        targets = targets.stream().sorted().distinct().toList();
        changes = List.copyOf(changes);
        unchanged = List.copyOf(unchanged);
        warnings = List.copyOf(warnings);
        policies = List.copyOf(policies);
        java.util.Objects.requireNonNull(cost, "cost");
    }

    /** This plan as read from {@code account} in {@code region}. */
    public Plan readFrom(String account, String region) {
        return new Plan(formatVersion, environment, provider, region, Optional.of(account).filter(a -> !a.isEmpty()), createdAt, destroy,
            targets, changes, unchanged, warnings, massDelete, fingerprints, origin, policies, cost, placements);
    }

    /** This plan as made where {@code origin} says (the command line knows; the planner and engine do not). */
    public Plan madeAt(Origin origin) {
        return new Plan(formatVersion, environment, provider, region, account, createdAt, destroy, targets, changes, unchanged, warnings,
            massDelete, fingerprints, Optional.of(origin), policies, cost, placements);
    }

    /** This plan as checked against the repository's policies. */
    public Plan checked(List<PolicyResult> results) {
        return new Plan(formatVersion, environment, provider, region, account, createdAt, destroy, targets, changes, unchanged, warnings,
            massDelete, fingerprints, origin, results, cost, placements);
    }

    /** This plan with what it does to the monthly bill. */
    public Plan costing(CostEstimate estimate) {
        return new Plan(formatVersion, environment, provider, region, account, createdAt, destroy, targets, changes, unchanged, warnings,
            massDelete, fingerprints, origin, policies, Optional.of(estimate), placements);
    }

    /** This plan with how its {@code machineType: auto} resources were placed. */
    public Plan placing(List<Placement> resolved) {
        return new Plan(formatVersion, environment, provider, region, account, createdAt, destroy, targets, changes, unchanged, warnings,
            massDelete, fingerprints, origin, policies, cost, resolved);
    }

    /** Whether a policy with enforcement deny keeps this plan from being applied. */
    public boolean denied() {
        return policies.stream().anyMatch(PolicyResult::denies);
    }

    /** "account 123456789012, us-east-1", or the region alone when the account is not known. */
    public String where() {
        return account.map(a -> "account " + a + ", ").orElse("") + region;
    }

    public Summary summary() {
        return Summary.of(changes);
    }

    /** How many resources (and subnets or node pools) this plan deletes, replacements included. */
    public int deleteCount() {
        return (int) changes.stream().filter(c -> c.action().primitives().contains("delete")).count();
    }

    /** Whether --target limited this plan: it may not show every change the spec asks for. */
    public boolean targeted() {
        return !targets.isEmpty();
    }

    /**
     * Whether to say "resource targeting is in effect": a targeted plan may leave out changes the spec asks for, except
     * one that is nothing but imports of its targets ({@code mlctl import}'s), which claims no more than it does.
     */
    public boolean warnsOfTargeting() {
        return targeted() && !(hasChanges() && changes.stream().allMatch(c -> c.action() == Action.IMPORT && targets.contains(c.address())));
    }

    public boolean hasChanges() {
        return !changes.isEmpty();
    }
}
