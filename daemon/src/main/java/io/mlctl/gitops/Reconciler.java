package io.mlctl.gitops;

import io.mlctl.MlctlException;
import io.mlctl.apply.ApplyResult;
import io.mlctl.apply.Journal;
import io.mlctl.apply.LockedException;
import io.mlctl.apply.LockService;
import io.mlctl.apply.RetryPolicy;
import io.mlctl.catalog.Catalog;
import io.mlctl.cost.CostModel;
import io.mlctl.cost.PlanCosts;
import io.mlctl.cost.PriceCatalog;
import io.mlctl.engine.Engine;
import io.mlctl.engine.MassDeleteException;
import io.mlctl.plan.Plan;
import io.mlctl.plan.PolicyResult;
import io.mlctl.plan.Summary;
import io.mlctl.plan.render.MarkdownRenderer;
import io.mlctl.plan.render.PlanJson;
import io.mlctl.planner.PlanOptions;
import io.mlctl.policy.Policies;
import io.mlctl.policy.Policy;
import io.mlctl.policy.PolicySet;
import io.mlctl.provider.Driver;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import io.mlctl.spec.SpecError;
import io.mlctl.spec.SpecException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import io.mlctl.util.Hashing;
import org.eclipse.jgit.lib.ObjectId;
import tools.jackson.databind.node.ObjectNode;

/**
 * The GitOps loop's logic, run by {@link Daemon}: every interval {@link #schedule} fetches; validates a
 * new commit of the deploy branch; hands the environments this replica owns whose own spec changed (or
 * whose retry or drift check is due) to a bounded pool of reconcilers; and plans review branches. An
 * environment is applied when its own resolved spec changed since it was last made true (or a person
 * asks): someone else's commit never touches it, and its drift is corrected only with {@code selfHeal}.
 * Everything the CLI does is reused through {@link Engine}, including its lock and journal, the
 * repository's policies (a plan one denies is blocked) and the plans' prices.
 */
public final class Reconciler implements AutoCloseable {
    /** Reads a config repository checked out in a directory. */
    public interface Loader {
        ConfigRepo load(Path dir);
    }

    /** How replicas share the work: the apply lock, who owns which environment, and what each last applied. */
    public record Coordination(LockService locks, Membership membership, SyncRecords records) {
        public static Coordination local(DaemonConfig config) {
            return new Coordination(LockService.files(), Membership.single(config.replicaId()), SyncRecords.files(config.stateDir()));
        }
    }

    /**
     * What plans are judged and priced with: the catalog the repository's policies are compiled against (they count GPUs
     * by machine type) and the prices every plan is costed at.
     */
    public record Assessment(Catalog catalog, PriceCatalog prices) {
    }

    /**
     * Why an environment is reconciled: {@code SPEC}, its spec changed; {@code POLICY}, only the policies that apply to it
     * changed since its spec was applied; {@code REQUEST}, a person asked; {@code DRIFT}, its drift check is due.
     */
    enum Trigger {
        SPEC, POLICY, REQUEST, DRIFT;

        /** A check of what is applied, not a change to apply: drift found is reported, and corrected only with selfHeal. */
        boolean check() {
            return this == POLICY || this == DRIFT;
        }
    }

    /** The last commit of the deploy branch that validated, with each environment's spec fingerprint, and its policies. */
    private record Good(String commit, List<Environment> environments, Map<String, String> fingerprints, PolicySet policies) {
    }

    private record Retry(Instant at, Trigger trigger) {
    }

    /** What the daemon knows of the config repository, as {@code /api/status} serves it. */
    public record Source(String repository, Optional<Instant> lastFetch, Optional<Instant> lastSuccess, Optional<Instant> failingSince,
                         Optional<String> error) {
    }

    private final DaemonConfig config;
    private final GitSource git;
    private final Loader loader;
    private final Function<Environment, Driver> drivers;
    private final Clock clock;
    private final DaemonLog log;
    private final Notifier notifier;
    private final DaemonMetrics metrics;
    private final PlanStore plans;
    private final Coordination coordination;
    private final Catalog catalog;
    private final PlanCosts costs;
    private final io.mlctl.placement.Placements placements;
    private final Path work;
    private final ExecutorService pool;

    /** The scheduler thread's own. */
    private ObjectId deployed;
    private final Map<String, ObjectId> reviewed = new HashMap<>();
    private volatile Good good = new Good(null, List.of(), Map.of(), PolicySet.NONE);
    private volatile Source source;
    /** Read by the HTTP threads and written by the reconcilers. */
    private final Map<String, EnvironmentStatus> statuses = new ConcurrentSkipListMap<>();
    private final Map<String, Integer> failures = new ConcurrentHashMap<>();
    private final Map<String, Retry> retries = new ConcurrentHashMap<>();
    private final Map<String, Instant> driftCheckedAt = new ConcurrentHashMap<>();
    /** Spec fingerprint each environment was last reconciled at (applied, found equal, planned for a person, or blocked). */
    private final Map<String, Optional<String>> handled = new ConcurrentHashMap<>();
    private final Map<String, String> blockedNotified = new ConcurrentHashMap<>();
    private final Set<String> syncRequested = ConcurrentHashMap.newKeySet();
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    /** The environments reconciled since their last mass delete was held back (their drift checks keep them blocked). */
    private final Set<String> blocked = ConcurrentHashMap.newKeySet();
    /** Why the newest deploy commit was not taken (it does not validate), until a valid one comes. */
    private volatile Optional<String> rejectedCommit = Optional.empty();
    private volatile boolean stopping;
    private volatile boolean fetched;
    private volatile Instant lastTick;

    public Reconciler(DaemonConfig config, GitSource git, Loader loader, Function<Environment, Driver> drivers, Clock clock,
                      DaemonLog log, Notifier notifier, DaemonMetrics metrics, PlanStore plans, Assessment assessment) {
        this(config, git, loader, drivers, clock, log, notifier, metrics, plans, assessment, Coordination.local(config));
    }

    public Reconciler(DaemonConfig config, GitSource git, Loader loader, Function<Environment, Driver> drivers, Clock clock,
                      DaemonLog log, Notifier notifier, DaemonMetrics metrics, PlanStore plans, Assessment assessment,
                      Coordination coordination) {
        this.config = config;
        this.git = git;
        this.loader = loader;
        this.drivers = drivers;
        this.clock = clock;
        this.log = log;
        this.notifier = notifier;
        this.metrics = metrics;
        this.plans = plans;
        this.coordination = coordination;
        this.catalog = assessment.catalog();
        this.costs = new PlanCosts(new CostModel(assessment.prices()));
        this.placements = new io.mlctl.placement.Placements(assessment.catalog(), assessment.prices());
        this.work = config.stateDir().resolve(".daemon");
        this.source = new Source(GitSource.redact(config.repo()), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
        // The status gauge reads what /api/environments serves (a Git outage included), so the two never disagree.
        metrics.watch(this::statuses);
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(Math.max(1, config.concurrency()), r -> {
            Thread t = new Thread(r, "mlctl-reconcile-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Ready once the repository was fetched, and while fetches have not been failing for longer than the
     * grace period (a replica that cannot see Git should not be the one answering).
     */
    public boolean ready() {
        Source s = source;
        return fetched && s.failingSince().map(since -> clock.instant().isBefore(since.plus(config.fetchFailureGrace()))).orElse(true);
    }

    public Optional<Instant> lastTick() {
        return Optional.ofNullable(lastTick);
    }

    public Source source() {
        return source;
    }

    public Membership membership() {
        return coordination.membership();
    }

    /** Each owned environment's status; while the repository cannot be fetched, each says so (what main says is unknown). */
    public List<EnvironmentStatus> statuses() {
        Source s = source;
        List<EnvironmentStatus> out = new ArrayList<>(statuses.values());
        Optional<String> why = s.failingSince().map(t -> "cannot fetch the config repository since " + t + ": " + s.error().orElse(""))
            .or(() -> rejectedCommit);
        if (why.isEmpty()) return out;
        return out.stream().map(e -> with(e, EnvironmentStatus.Status.ERROR, why)).toList();
    }

    /** A person asks for an environment to be applied now (as if its spec had changed). False when this replica does not own it. */
    public boolean requestSync(String environment) {
        if (good.environments().stream().noneMatch(e -> e.name().equals(environment)) || !coordination.membership().owns(environment)) return false;
        syncRequested.add(environment);
        return true;
    }

    /** One pass, waiting for the reconciles it started (tests and one-shot use). */
    public void tick() {
        for (Future<?> f : schedule()) {
            try {
                f.get();
            } catch (ExecutionException e) {
                log.error("reconcile failed: " + e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * One pass of the loop: fetch, validate a new deploy commit, and start the reconciles that are due
     * without waiting for them (an hour-long apply does not hold up the others, the next fetch or liveness).
     * Never throws: every failure is logged, reported and retried later.
     */
    public synchronized List<Future<?>> schedule() {
        lastTick = clock.instant();
        List<Future<?>> started = new ArrayList<>();
        Map<String, ObjectId> heads = null;
        try {
            heads = git.fetch(config.planPullRequests());
            fetchSucceeded();
        } catch (MlctlException e) {
            fetchFailed(e);
        }
        if (heads != null) {
            ObjectId head = heads.get("refs/heads/" + config.branch());
            if (head == null) {
                log.warn("the deploy branch does not exist yet", "branch", config.branch());
            } else if (!head.equals(deployed)) {
                if (deployed != null) log.info("new commit on the deploy branch", "from", shortId(deployed), "to", shortId(head));
                // A commit that could not even be read (a transient error) is tried again next tick.
                if (deploy(head)) deployed = head;
            }
        }
        Good g = good;
        // Cost gauges for what this replica owns of the last valid commit: one that left the repository or moved away goes.
        metrics.costed(g.environments().stream().map(Environment::name).filter(coordination.membership()::owns).toList());
        for (Environment env : g.environments()) {
            if (!coordination.membership().owns(env.name())) {
                // Another replica owns it now: its status is served there, and its retries are that replica's business.
                // Should it come back here, it is checked at once (its status is otherwise missing until a drift interval passes).
                statuses.remove(env.name());
                retries.remove(env.name());
                handled.remove(env.name());
                driftCheckedAt.remove(env.name());
                failures.remove(env.name());
                blocked.remove(env.name());
                blockedNotified.remove(env.name());
                syncRequested.remove(env.name());
                continue;
            }
            metrics.environment(env.name(), env.provider().id());
            // In flight: looked at again when it is done (a sync request waits for it rather than being used up).
            if (inFlight.contains(env.name())) continue;
            Optional<Trigger> due;
            try {
                due = due(env, g);
            } catch (MlctlException e) {
                // Not knowing what was last applied is not "never applied": applying now could correct drift selfHeal leaves alone.
                log.warn("cannot read what was last applied, will try again", "environment", env.name(), "error", e.userMessage());
                continue;
            }
            if (due.isEmpty()) continue;
            inFlight.add(env.name());
            started.add(pool.submit(() -> {
                try {
                    // A stop does not start what was queued behind the reconciles in flight.
                    if (!stopping) reconcile(env, due.get(), g);
                } finally {
                    inFlight.remove(env.name());
                }
            }));
        }
        if (heads != null) {
            for (Map.Entry<String, ObjectId> ref : heads.entrySet()) {
                if (!config.isReviewRef(ref.getKey()) || ref.getValue().equals(reviewed.get(ref.getKey()))) continue;
                reviewed.put(ref.getKey(), ref.getValue());
                started.add(pool.submit(() -> {
                    if (!stopping) review(ref.getKey(), ref.getValue());
                }));
            }
            reviewed.keySet().retainAll(heads.keySet());
        }
        return started;
    }

    /** Why an environment should be reconciled now, if it should. */
    private Optional<Trigger> due(Environment env, Good g) {
        Instant now = clock.instant();
        Retry retry = retries.get(env.name());
        if (retry != null && now.isBefore(retry.at())) return Optional.empty();
        Optional<String> done = handled.get(env.name());
        if (done == null) {
            done = coordination.records().applied(env.name()); // throws when it cannot be read: nothing is cached then
            handled.put(env.name(), done);
        }
        boolean request = syncRequested.remove(env.name());
        // A spec change wins over a pending drift retry: it is applied, not reported as drift.
        String fingerprint = g.fingerprints().get(env.name());
        if (!done.map(Reconciler::specOf).equals(Optional.ofNullable(fingerprint))) {
            return Optional.of(policiesOnly(env, fingerprint) ? Trigger.POLICY : Trigger.SPEC);
        }
        if (request) return Optional.of(Trigger.REQUEST);
        if (retry != null) return Optional.of(retry.trigger());
        Instant checked = driftCheckedAt.get(env.name());
        return checked == null || !now.isBefore(checked.plus(config.driftInterval())) ? Optional.of(Trigger.DRIFT) : Optional.empty();
    }

    /**
     * Whether the spec on record as applied is this one and only the policies that apply to it changed: a policy edit
     * judges the environment again, but is no one's change to its spec (its drift stays for selfHeal to correct).
     */
    private boolean policiesOnly(Environment env, String fingerprint) {
        if (fingerprint == null) return false;
        Optional<String> applied = coordination.records().applied(env.name()).map(Reconciler::specOf);
        return applied.isPresent() && !applied.get().equals(fingerprint) && specPart(applied.get()).equals(specPart(fingerprint));
    }

    private void fetchSucceeded() {
        Instant now = clock.instant();
        Source was = source;
        if (was.failingSince().isPresent()) log.info("the config repository can be fetched again", "failingSince", was.failingSince().get());
        source = new Source(was.repository(), Optional.of(now), Optional.of(now), Optional.empty(), Optional.empty());
        fetched = true;
        metrics.fetched(true, now);
    }

    /** Logged every time, reported to the webhook once per outage. */
    private void fetchFailed(MlctlException e) {
        Instant now = clock.instant();
        Source was = source;
        String error = e.userMessage();
        log.error(error);
        metrics.fetched(false, now);
        source = new Source(was.repository(), Optional.of(now), was.lastSuccess(), Optional.of(was.failingSince().orElse(now)), Optional.of(error));
        if (was.failingSince().isEmpty()) {
            ObjectNode ev = notifier.event("error").put("source", "git").put("repository", was.repository()).put("error", error)
                .put("since", now.toString());
            notifier.send(ev);
        }
    }

    /** Returns false when the commit could not be read and should be tried again. */
    private boolean deploy(ObjectId commit) {
        String id = shortId(commit);
        ConfigRepo repo;
        PolicySet policies;
        try {
            repo = loader.load(git.checkout(commit, config.path(), work.resolve("checkouts/" + ProcessHandle.current().pid() + "/deploy")));
            // A policy that does not compile makes the commit invalid, as a spec error does: the last good policies stay in force.
            policies = Policies.compile(repo.policyDocuments(), catalog);
        } catch (SpecException e) {
            rejected(commit, e);
            return true;
        } catch (MlctlException e) {
            log.error("cannot read commit " + id + ": " + e.getMessage());
            return false;
        }
        Map<String, String> fingerprints = new HashMap<>();
        for (Environment env : repo.environments()) fingerprints.put(env.name(), fingerprint(env, policies));
        Good was = good;
        good = new Good(commit.name(), repo.environments(), fingerprints, policies);
        // A new commit is a fresh start for environments whose spec it changed; the others keep their schedule.
        for (Environment env : repo.environments()) {
            if (!fingerprints.get(env.name()).equals(was.fingerprints().get(env.name()))) {
                retries.remove(env.name());
                failures.remove(env.name());
            }
        }
        metrics.commit("valid");
        rejectedCommit = Optional.empty();
        log.info("commit validated", "commit", id, "environments", repo.environments().size(), "policies", policies.policies().size());
        for (String gone : new ArrayList<>(statuses.keySet())) {
            if (!fingerprints.containsKey(gone)) {
                EnvironmentStatus s = statuses.get(gone);
                statuses.put(gone, with(s, EnvironmentStatus.Status.ERROR, Optional.of("no longer in the repository at " + id
                    + "; its resources are left as they are (mlctl destroy deletes them)")));
            }
        }
        // Commits whose spec of an environment is unchanged still move its status to the newest commit.
        for (Environment env : repo.environments()) {
            statuses.computeIfPresent(env.name(), (k, s) -> fingerprints.get(k).equals(was.fingerprints().get(k)) ? withCommit(s, commit.name()) : s);
        }
        return true;
    }

    /** A commit that does not validate is not applied: the last good one stays in force. */
    private void rejected(ObjectId commit, SpecException e) {
        String id = shortId(commit);
        List<SpecError> errors = e.errors();
        String goodCommit = good.commit();
        String summary = "commit " + id + " does not validate, keeping " + (goodCommit == null ? "nothing" : shortId(goodCommit)) + ": "
            + errors.get(0) + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : "");
        metrics.commit("invalid");
        for (SpecError err : errors) log.error("invalid spec", "commit", id, "error", err);
        // Shown over every status until a valid commit comes; the statuses underneath stay what they are.
        rejectedCommit = Optional.of(summary);
        ObjectNode ev = notifier.event("error").put("commit", commit.name()).put("error", summary);
        notifier.send(ev);
    }

    private void reconcile(Environment env, Trigger trigger, Good g) {
        Instant start = clock.instant();
        String outcome;
        driftCheckedAt.put(env.name(), start);
        try (Driver driver = drivers.apply(env)) {
            long requestsBefore = driver.requestCount();
            Engine engine = engine(driver, g.policies());
            try {
                outcome = reconcileWith(engine, env, trigger, g);
            } finally {
                metrics.cloudRequests(env.provider().id(), driver.requestCount() - requestsBefore);
            }
        } catch (LockedException e) {
            outcome = "locked";
            log.info("environment is locked, will try again", "environment", env.name(), "holder", e.holder());
            statuses.putIfAbsent(env.name(), fresh(env, g.commit(), EnvironmentStatus.Status.PENDING));
            retries.put(env.name(), new Retry(clock.instant().plus(config.interval()), trigger));
        } catch (MlctlException e) {
            outcome = "error";
            failed(env, trigger, g, e.userMessage());
        } catch (RuntimeException e) {
            outcome = "error";
            failed(env, trigger, g, "internal error: " + e);
        }
        metrics.reconciled(env.name(), outcome, Duration.between(start, clock.instant()));
        EnvironmentStatus now = statuses.get(env.name());
        if (now != null) metrics.status(env.name(), now.status().id());
    }

    private String reconcileWith(Engine engine, Environment env, Trigger trigger, Good g) {
        Instant now = clock.instant();
        String commit = g.commit();
        String fingerprint = g.fingerprints().get(env.name());
        EnvironmentStatus prior = status(env).orElseGet(() -> fresh(env, commit, EnvironmentStatus.Status.PENDING));
        boolean mayApply = env.applyMode() == Environment.ApplyMode.AUTO && (!trigger.check() || env.selfHeal());
        Engine.ApplyOutcome outcome;
        boolean[] usedUp = {false};
        try {
            // One pass under the environment's lock: the plan that is reported is the plan that is applied, from one inventory read.
            outcome = engine.apply(env, new Engine.ApplyRequest(PlanOptions.defaults(clock.instant()), Optional.empty(), false, 10,
                "mlctl daemon " + coordination.membership().replica()), p -> {
                    if (trigger.check()) drifted(env, p);
                    if (p.massDelete() && releaseUsedUp(env) && (mayApply || blocked.contains(env.name()))) {
                        usedUp[0] = true;
                        return false;
                    }
                    if (!mayApply) return false;
                    // Until it succeeds, what was applied is neither the old spec nor the new: any spec (a revert too) applies again.
                    record(env, UNFINISHED);
                    statuses.put(env.name(), with(planned(prior, p, now, commit), EnvironmentStatus.Status.PENDING, Optional.empty()));
                    log.info("applying", "environment", env.name(), "commit", shortId(commit), "plan", p.summary().sentence());
                    return true;
                }, observer(env, commit, fingerprint));
        } catch (MassDeleteException e) {
            // Blocked when it was going to apply, and at the drift checks after that (its held-back change is not drift) until
            // released; a mass delete found by the drift check of an environment that does not self-heal is drift, reported.
            if (mayApply || blocked.contains(env.name())) return blocked(env, g, prior, e.plan(), now);
            if (trigger.check()) drifted(env, e.plan());
            outcome = new Engine.ApplyOutcome(e.plan(), Optional.empty(), false);
        } catch (Engine.PolicyDeniedException e) {
            // Whatever the apply mode or trigger: no one may apply this plan (the CLI refuses it too) until the spec or a policy changes.
            return denied(env, g, prior, e.plan(), now);
        }
        Plan plan = outcome.plan();
        // Nothing to apply, yet the spec breaks a deny policy (one committed after it was applied): reported as mlctl plan would.
        if (plan.denied()) return denied(env, g, prior, plan, now);
        if (usedUp[0]) {
            return blocked(env, g, prior, plan, now, "mass delete held back: the plan deletes %d resources (%s); the spec's allowMassDelete "
                + "was committed for an earlier change, which is applied: remove it, and commit it again with this change if it is intended "
                + "(or run mlctl apply --allow-mass-delete)");
        }
        EnvironmentStatus base = planned(prior, plan, now, commit);
        if (!plan.hasChanges()) {
            statuses.put(env.name(), synced(base, now));
            succeeded(env);
            return "synced";
        }
        if (!outcome.approved()) {
            EnvironmentStatus.Status s = env.applyMode() == Environment.ApplyMode.MANUAL ? EnvironmentStatus.Status.MANUAL : EnvironmentStatus.Status.DRIFTED;
            statuses.put(env.name(), with(base, s, Optional.empty()));
            if (!trigger.check()) notifier.send(event("plan", env, commit, plan));
            // Planned for a person (manual) or reported (drift without selfHeal): nothing more to do until the spec changes.
            if (trigger != Trigger.DRIFT) handled.put(env.name(), Optional.ofNullable(keepingMark(env, fingerprint)));
            succeeded(env);
            return s.id();
        }
        Instant done = clock.instant();
        Optional<ApplyResult> result = outcome.result();
        if (result.isPresent() && !result.get().ok()) {
            String errors = String.join("; ", result.get().failures());
            statuses.put(env.name(), new EnvironmentStatus(env.name(), env.provider().id(), env.region(), commit, EnvironmentStatus.Status.ERROR,
                Optional.of(plan.summary()), Optional.of(now), Optional.of(done), Optional.of("failed"), Optional.of(errors), base.lastSync(),
                base.lastPlanCost(), base.lastPlanPolicies()));
            backoff(env, trigger);
            notifier.send(event("error", env, commit, plan).put("error", errors));
            return "failed";
        }
        Summary applied = plan.summary();
        metrics.changed(env.name(), "create", applied.create());
        metrics.changed(env.name(), "update", applied.update());
        metrics.changed(env.name(), "replace", applied.replace());
        metrics.changed(env.name(), "delete", applied.delete());
        metrics.changed(env.name(), "import", applied.imported());
        EnvironmentStatus after = new EnvironmentStatus(env.name(), env.provider().id(), env.region(), commit, EnvironmentStatus.Status.SYNCED,
            Optional.of(applied), Optional.of(now), Optional.of(done), Optional.of("succeeded"), Optional.empty(), base.lastSync(), base.lastPlanCost(),
            base.lastPlanPolicies());
        statuses.put(env.name(), synced(after, done));
        log.info("applied", "environment", env.name(), "commit", shortId(commit), "result", result.map(ApplyResult::sentence).orElse("no changes"));
        notifier.send(event("apply", env, commit, plan).put("outcome", "succeeded"));
        succeeded(env);
        return "applied";
    }

    /**
     * A mass delete waits for a person: the environment is blocked (not failing: nothing is retried or
     * backed off), its status names what would go, and the webhook hears of each such plan once.
     */
    private String blocked(Environment env, Good g, EnvironmentStatus prior, Plan plan, Instant now) {
        return blocked(env, g, prior, plan, now, "mass delete held back: the plan deletes %d resources (%s); release it by committing "
            + "spec.allowMassDelete with the change, or with mlctl apply --allow-mass-delete");
    }

    /** {@code message} takes the number of deletions and their addresses. */
    private String blocked(Environment env, Good g, EnvironmentStatus prior, Plan plan, Instant now, String message) {
        List<String> doomed = plan.changes().stream().filter(c -> c.action().primitives().contains("delete")).map(c -> c.address().toString()).toList();
        String names = doomed.size() > 10 ? String.join(", ", doomed.subList(0, 10)) + " and " + (doomed.size() - 10) + " more" : String.join(", ", doomed);
        String why = String.format(message, doomed.size(), names);
        statuses.put(env.name(), with(planned(prior, plan, now, g.commit()), EnvironmentStatus.Status.BLOCKED, Optional.of(why)));
        blocked.add(env.name());
        handled.put(env.name(), Optional.ofNullable(keepingMark(env, g.fingerprints().get(env.name()))));
        succeeded(env);
        String key = plan.fingerprints().spec() + "/" + plan.fingerprints().inventory();
        if (!key.equals(blockedNotified.put(env.name(), key))) {
            log.warn("mass delete held back", "environment", env.name(), "commit", shortId(g.commit()), "deletes", doomed.size());
            ObjectNode ev = event("blocked", env, g.commit(), plan).put("error", why);
            ev.putArray("deletes").addAll(doomed.stream().map(tools.jackson.databind.node.StringNode::valueOf).toList());
            notifier.send(ev);
        }
        return "blocked";
    }

    /**
     * A plan a deny policy refuses waits for a person to change the spec or the policy: the environment is blocked (not
     * failing: nothing is retried or backed off), its status names each policy, resource and message, and the webhook hears
     * of each such plan once. Its drift checks re-plan it, and keep it blocked while the plan is denied.
     */
    private String denied(Environment env, Good g, EnvironmentStatus prior, Plan plan, Instant now) {
        List<PolicyResult> denials = plan.policies().stream().filter(PolicyResult::denies).toList();
        String why = (plan.hasChanges() ? "plan refused: " : "the applied spec breaks a policy: ") + denials(env, denials)
            + "; nothing is applied until the spec or the policy changes";
        statuses.put(env.name(), with(planned(prior, plan, now, g.commit()), EnvironmentStatus.Status.BLOCKED, Optional.of(why)));
        handled.put(env.name(), Optional.ofNullable(keepingMark(env, g.fingerprints().get(env.name()))));
        succeeded(env);
        // The same plan denied for the same reasons is one event; an edited policy (or message) is another.
        String key = "policy/" + plan.fingerprints().spec() + "/" + plan.fingerprints().inventory() + "/" + Hashing.sha256Text(why);
        if (!key.equals(blockedNotified.put(env.name(), key))) {
            log.warn("plan denied by policy", "environment", env.name(), "commit", shortId(g.commit()), "denials", denials.size(), "error", why);
            notifier.send(event("blocked", env, g.commit(), plan).put("error", why));
        }
        return "blocked";
    }

    /** Each denial as {@code policy P denies ADDRESS (file:line:col): message}, the first five and how many more. */
    static String denials(Environment env, List<PolicyResult> denials) {
        List<String> parts = denials.stream().limit(5).map(r -> "policy " + r.policy() + " denies " + r.address().map(a -> a.toString()
            + env.resources().stream().filter(x -> x.address().equals(a) && x.position() != null).findFirst().map(x -> " (" + x.position() + ")")
                .orElse("")).orElse("environment " + env.name()) + ": " + r.message()).toList();
        return String.join("; ", parts) + (denials.size() > 5 ? " and " + (denials.size() - 5) + " more" : "");
    }

    private Engine engine(Driver driver, PolicySet policies) {
        return new Engine(driver, config.stateDir(), clock, RetryPolicy.standard(new Random()), coordination.locks(), policies, Optional.of(costs),
            Optional.of(placements));
    }

    private Engine.Observer observer(Environment env, String commit, String fingerprint) {
        return new Engine.Observer() {
            @Override
            public void done(Plan plan, Optional<ApplyResult> result) {
                // Under the lock: a replica that held it before cannot overwrite this record with an older one.
                if (result.isEmpty() || result.get().ok()) {
                    record(env, fingerprint);
                    blocked.remove(env.name());
                    // A denied plan with nothing to apply stays blocked: its event is not sent again at every drift check.
                    if (!plan.denied()) blockedNotified.remove(env.name());
                }
            }

            @Override
            public void resuming(Journal.Interrupted i) {
                log.warn("resuming an interrupted apply", "environment", env.name(), "run", i.runId(), "inFlight", i.pending().size());
            }

            @Override
            public void planned(Plan plan) {
                // Under the lock, and in the order applies happen: a spec without the key ends a used release.
                if (env.massDeleteAllowance() == 0) forgetUsedRelease(env);
                publish(config.branch(), env, commit, plan, false);
            }

            @Override
            public void finished(Step step, int index, int total, String cloudId, Duration took) {
                log.info(step.op() + " complete", "environment", env.name(), "address", step.address(), "id", cloudId);
            }

            @Override
            public void failed(Step step, String error) {
                metrics.cloudError(env.provider().id());
                log.error(step.op() + " failed", "environment", env.name(), "address", step.address(), "error", error);
            }
        };
    }

    /** What an apply that did not finish leaves as the record: equal to no spec. */
    static final String UNFINISHED = "unfinished";

    /** Marks a record whose spec released the mass-delete guard: that release is used up once the spec is applied. */
    static final String RELEASED = "|allowMassDelete";

    static String specOf(String record) {
        return record.endsWith(RELEASED) ? record.substring(0, record.length() - RELEASED.length()) : record;
    }

    /**
     * Whether the spec's allowMassDelete was already there when its environment was last applied: it was committed for that
     * change, so it does not release this one (it would otherwise release every mass delete after it, unreviewed).
     */
    private boolean releaseUsedUp(Environment env) {
        Optional<String> last = handled.getOrDefault(env.name(), Optional.empty());
        return env.massDeleteAllowance() > 0 && last.map(r -> r.endsWith(RELEASED)).orElse(false);
    }

    /** A spec without allowMassDelete ends the used-up release: committing the key again releases the next mass delete. */
    private void forgetUsedRelease(Environment env) {
        Optional<String> seen = handled.get(env.name());
        // What is in memory carries the record's mark, so only a marked or not yet read record costs a read.
        if (seen != null && (seen.isEmpty() || !seen.get().endsWith(RELEASED))) return;
        if (seen != null) handled.put(env.name(), Optional.of(specOf(seen.get())));
        try {
            // The record is what was last applied (not what was last looked at): only its mark goes.
            Optional<String> last = coordination.records().applied(env.name());
            if (last.isPresent() && last.get().endsWith(RELEASED)) coordination.records().applied(env.name(), specOf(last.get()));
        } catch (MlctlException e) {
            log.warn("cannot update the applied spec's record", "environment", env.name(), "error", e.userMessage());
        }
    }

    /** {@code fingerprint} as dealt with but not applied: whether the last applied spec released the guard stays as it was. */
    private String keepingMark(Environment env, String fingerprint) {
        boolean marked = handled.getOrDefault(env.name(), Optional.empty()).map(r -> r.endsWith(RELEASED)).orElse(false);
        return fingerprint != null && marked ? fingerprint + RELEASED : fingerprint;
    }

    private void record(Environment env, String fingerprint) {
        String record = fingerprint == null || fingerprint.equals(UNFINISHED) || env.massDeleteAllowance() == 0 ? fingerprint
            : fingerprint + RELEASED;
        // An unfinished apply keeps the mark: its release was not used up yet.
        if (UNFINISHED.equals(fingerprint) && handled.getOrDefault(env.name(), Optional.empty()).map(r -> r.endsWith(RELEASED)).orElse(false)) {
            record = UNFINISHED + RELEASED;
        }
        handled.put(env.name(), Optional.ofNullable(record));
        if (record == null) return;
        try {
            coordination.records().applied(env.name(), record);
        } catch (MlctlException e) {
            // Nothing is applied unless "unfinished" is on record: a revert after a partial failure must find it.
            if (fingerprint.equals(UNFINISHED)) throw e;
            // Kept in memory: only a restart or a move to another replica sees the older record.
            log.warn("cannot record the applied spec", "environment", env.name(), "error", e.userMessage());
        }
    }

    private void drifted(Environment env, Plan plan) {
        if (!plan.hasChanges()) return;
        metrics.drift(env.name());
        log.warn("drift found", "environment", env.name(), "plan", plan.summary().sentence());
        notifier.send(event("drift", env, good.commit(), plan));
    }

    private static EnvironmentStatus fresh(Environment env, String commit, EnvironmentStatus.Status status) {
        return new EnvironmentStatus(env.name(), env.provider().id(), env.region(), commit, status, Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    private static EnvironmentStatus planned(EnvironmentStatus s, Plan plan, Instant when, String commit) {
        return new EnvironmentStatus(s.name(), s.provider(), s.region(), commit, s.status(), Optional.of(plan.summary()), Optional.of(when),
            s.lastApplyTime(), s.lastApplyOutcome(), Optional.empty(), s.lastSync(), EnvironmentStatus.PlanCost.of(plan), plan.policies());
    }

    private EnvironmentStatus synced(EnvironmentStatus s, Instant when) {
        metrics.synced(s.name(), when.getEpochSecond());
        return new EnvironmentStatus(s.name(), s.provider(), s.region(), s.commit(), EnvironmentStatus.Status.SYNCED, s.lastPlanSummary(),
            s.lastPlanTime(), s.lastApplyTime(), s.lastApplyOutcome(), Optional.empty(), Optional.of(when), s.lastPlanCost(), s.lastPlanPolicies());
    }

    private static EnvironmentStatus with(EnvironmentStatus s, EnvironmentStatus.Status status, Optional<String> error) {
        return new EnvironmentStatus(s.name(), s.provider(), s.region(), s.commit(), status, s.lastPlanSummary(), s.lastPlanTime(),
            s.lastApplyTime(), s.lastApplyOutcome(), error, s.lastSync(), s.lastPlanCost(), s.lastPlanPolicies());
    }

    private static EnvironmentStatus withCommit(EnvironmentStatus s, String commit) {
        return new EnvironmentStatus(s.name(), s.provider(), s.region(), commit, s.status(), s.lastPlanSummary(), s.lastPlanTime(),
            s.lastApplyTime(), s.lastApplyOutcome(), s.error(), s.lastSync(), s.lastPlanCost(), s.lastPlanPolicies());
    }

    private Optional<EnvironmentStatus> status(Environment env) {
        return Optional.ofNullable(statuses.get(env.name()));
    }

    private void failed(Environment env, Trigger trigger, Good g, String message) {
        log.error("reconcile failed", "environment", env.name(), "error", message);
        EnvironmentStatus s = status(env).orElseGet(() -> fresh(env, g.commit(), EnvironmentStatus.Status.ERROR));
        statuses.put(env.name(), new EnvironmentStatus(s.name(), s.provider(), s.region(), g.commit(), EnvironmentStatus.Status.ERROR,
            s.lastPlanSummary(), s.lastPlanTime(), s.lastApplyTime(), s.lastApplyOutcome(), Optional.of(message), s.lastSync(), s.lastPlanCost(),
            s.lastPlanPolicies()));
        backoff(env, trigger);
        notifier.send(notifier.event("error").put("environment", env.name()).put("commit", g.commit()).put("error", message));
    }

    /** Repeated failures wait longer each time (up to ten minutes), so a broken environment does not hammer the cloud. */
    private void backoff(Environment env, Trigger trigger) {
        int n = failures.merge(env.name(), 1, Integer::sum);
        long delay = Math.min(Duration.ofMinutes(10).toMillis(), config.interval().toMillis() << Math.min(n, 16));
        retries.put(env.name(), new Retry(clock.instant().plusMillis(delay), trigger));
    }

    private void succeeded(Environment env) {
        failures.remove(env.name());
        retries.remove(env.name());
    }

    /**
     * What an environment's reconcile depends on: its spec, and the policies that apply to it (an edited policy re-evaluates
     * the environments it matches). Only mixed in when some apply, so that fingerprints without policies stay as they were.
     */
    static String fingerprint(Environment env, PolicySet policies) {
        List<Map<String, Object>> applying = policies.policies().stream().filter(p -> p.match().matches(env))
            .sorted(java.util.Comparator.comparing(Policy::name)).map(Reconciler::policyFacts).toList();
        String spec = fingerprint(env);
        return applying.isEmpty() ? spec : spec + POLICIES + Hashing.sha256(applying);
    }

    /** Separates a fingerprint's spec part from its policies' part. */
    static final String POLICIES = "+policies:";

    static String specPart(String fingerprint) {
        int at = fingerprint.indexOf(POLICIES);
        return at < 0 ? fingerprint : fingerprint.substring(0, at);
    }

    /** A policy as it judges a plan (not where in which file it is written). */
    private static Map<String, Object> policyFacts(Policy p) {
        Map<String, Object> m = new TreeMap<>();
        m.put("name", p.name());
        m.put("enforcement", p.enforcement().id());
        m.put("types", p.match().types().stream().map(t -> t.id()).sorted().toList());
        m.put("providers", p.match().providers().stream().map(x -> x.id()).sorted().toList());
        m.put("labels", new TreeMap<>(p.match().labels()));
        m.put("environments", p.match().environments().stream().sorted().toList());
        m.put("condition", p.condition());
        m.put("message", p.message());
        return m;
    }

    /** What an environment's reconcile depends on in its spec (not where in which file it is written). */
    static String fingerprint(Environment env) {
        Map<String, Object> resources = new TreeMap<>();
        for (var r : env.resources()) {
            resources.put(r.address().toString(), Map.of("attributes", r.attributes(),
                "dependencies", r.dependencies().stream().map(Object::toString).sorted().toList()));
        }
        Map<String, Object> m = new TreeMap<>();
        m.put("name", env.name());
        m.put("provider", env.provider().id());
        m.put("region", env.region());
        m.put("account", env.account().orElse(""));
        m.put("resourceGroup", env.resourceGroup().orElse(""));
        m.put("labels", new TreeMap<>(env.labels()));
        m.put("apply", env.applyMode().name());
        m.put("selfHeal", env.selfHeal());
        m.put("allowMassDelete", env.massDeleteAllowance());
        m.put("resources", resources);
        return Hashing.sha256(m);
    }

    private void review(String ref, ObjectId commit) {
        String branch = DaemonConfig.shortName(ref);
        String id = shortId(commit);
        ConfigRepo repo;
        PolicySet policies;
        // Reviews run side by side: each reads its own checkout, so one branch's files are never planned as another's.
        Path checkout = work.resolve("checkouts/" + ProcessHandle.current().pid() + "/review-" + Hashing.sha256Text(ref).substring(0, 12)
            + "-" + commit.name());
        try {
            repo = loader.load(git.checkout(commit, config.path(), checkout));
            // The branch is judged by its own policies: a pull request that edits one shows what the edit does.
            policies = Policies.compile(repo.policyDocuments(), catalog);
        } catch (SpecException e) {
            log.error("review branch does not validate", "branch", branch, "commit", id, "error", e.errors().get(0));
            notifier.send(notifier.event("error").put("branch", branch).put("commit", commit.name()).put("error", e.userMessage()));
            publishErrors(branch, commit, e);
            return;
        } catch (MlctlException e) {
            log.error("cannot read review branch", "branch", branch, "error", e.getMessage());
            return;
        } finally {
            try {
                if (java.nio.file.Files.exists(checkout)) GitSource.deleteTree(checkout);
            } catch (java.io.IOException e) {
                log.warn("cannot remove a review checkout", "dir", checkout, "error", e.getMessage());
            }
        }
        for (Environment env : repo.environments()) {
            try (Driver driver = drivers.apply(env)) {
                Plan plan = engine(driver, policies).plan(env, PlanOptions.defaults(clock.instant()));
                publish(branch, env, commit.name(), plan, true);
                log.info("planned review branch", "branch", branch, "commit", id, "environment", env.name(), "plan", plan.summary().sentence());
                notifier.send(event("plan", env, commit.name(), plan).put("branch", branch));
            } catch (MlctlException e) {
                log.error("cannot plan review branch", "branch", branch, "environment", env.name(), "error", e.userMessage());
            }
        }
    }

    /**
     * Stores the plan for HTTP; review plans are also committed to the plans branch (the deploy
     * branch's plans are re-made at every drift check and would flood it with commits).
     */
    private void publish(String branch, Environment env, String commit, Plan plan, boolean toGit) {
        String md = "<!-- mlctl plan of " + branch + " at " + commit + " -->\n" + new MarkdownRenderer().render(plan);
        String json = new PlanJson().write(plan);
        plans.put(new PlanStore.Entry(branch, env.name(), commit, plan.summary(), plan.createdAt()), md, json);
        config.publishBranch().filter(pb -> toGit).ifPresent(pb -> {
            Map<String, String> files = new LinkedHashMap<>();
            files.put(PlanStore.file(branch, env.name(), "md"), md);
            files.put(PlanStore.file(branch, env.name(), "json"), json);
            try {
                git.publish(pb, files, "mlctl plan: " + branch + " / " + env.name() + " at " + shortId(commit));
            } catch (MlctlException e) {
                log.error(e.getMessage());
            }
        });
    }

    private void publishErrors(String branch, ObjectId commit, SpecException e) {
        String md = "### mlctl: `" + branch + "` does not validate\n\n```\n" + e.userMessage() + "\n```\n";
        config.publishBranch().ifPresent(pb -> {
            try {
                git.publish(pb, Map.of("plans/" + branch + "/errors.md", md), "mlctl: " + branch + " at " + shortId(commit) + " does not validate");
            } catch (MlctlException x) {
                log.error(x.getMessage());
            }
        });
    }

    private ObjectNode event(String type, Environment env, String commit, Summary summary) {
        ObjectNode n = notifier.event(type).put("environment", env.name()).put("commit", commit).put("time", clock.instant().toString());
        n.set("summary", PlanJson.summary(summary));
        return n;
    }

    /**
     * An event about a plan: its summary, what it changes in the monthly bill ({@code costDelta}, USD, when it was priced) and
     * the policies it breaks.
     */
    private ObjectNode event(String type, Environment env, String commit, Plan plan) {
        ObjectNode n = event(type, env, commit, plan.summary());
        plan.cost().ifPresent(c -> n.putObject("costDelta").put("low", c.deltaLow()).put("high", c.deltaHigh()));
        if (!plan.policies().isEmpty()) n.set("policies", StatusServer.policies(plan.policies()));
        return n;
    }

    private static String shortId(ObjectId id) {
        return id.name().substring(0, 7);
    }

    @Override
    public void close() {
        stopping = true;
        pool.shutdown();
    }

    /** Waits up to {@code grace} for the reconciles in flight (none queued behind them starts); false when some are still running. */
    public boolean awaitIdle(Duration grace) throws InterruptedException {
        stopping = true;
        pool.shutdown();
        return pool.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static String shortId(String id) {
        return id == null || id.length() < 7 ? String.valueOf(id) : id.substring(0, 7);
    }
}
