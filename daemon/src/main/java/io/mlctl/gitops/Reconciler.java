package io.mlctl.gitops;

import io.mlctl.MlctlException;
import io.mlctl.apply.ApplyResult;
import io.mlctl.apply.Journal;
import io.mlctl.apply.LockedException;
import io.mlctl.apply.RetryPolicy;
import io.mlctl.engine.Engine;
import io.mlctl.plan.Plan;
import io.mlctl.plan.Summary;
import io.mlctl.plan.render.MarkdownRenderer;
import io.mlctl.plan.render.PlanJson;
import io.mlctl.planner.PlanOptions;
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
import java.util.TreeMap;
import java.util.function.Function;
import org.eclipse.jgit.lib.ObjectId;
import tools.jackson.databind.node.ObjectNode;

/**
 * One pass of the GitOps loop, run by {@link Daemon} every interval: fetch; validate, plan and (where
 * the environment says {@code apply: auto}) apply a new commit of the deploy branch; plan review
 * branches and publish their plans; re-plan environments whose drift check is due. Everything the CLI
 * does is reused through {@link Engine}, including its lock and journal.
 */
public final class Reconciler {
    /** Reads a config repository checked out in a directory. */
    public interface Loader {
        ConfigRepo load(Path dir);
    }

    enum Trigger { COMMIT, RETRY, DRIFT }

    private final DaemonConfig config;
    private final GitSource git;
    private final Loader loader;
    private final Function<Environment, Driver> drivers;
    private final Clock clock;
    private final DaemonLog log;
    private final Notifier notifier;
    private final DaemonMetrics metrics;
    private final PlanStore plans;
    private final Path work;

    private ObjectId deployed;
    private String goodCommit;
    private List<Environment> goodEnvironments = List.of();
    /** Read by the HTTP threads while a tick runs (an apply can take many minutes), so not guarded by the tick's lock. */
    private final Map<String, EnvironmentStatus> statuses = new java.util.concurrent.ConcurrentSkipListMap<>();
    private final Map<String, Integer> failures = new HashMap<>();
    private final Map<String, Instant> retryAt = new HashMap<>();
    private final Map<String, Instant> driftCheckedAt = new HashMap<>();
    private final Map<String, ObjectId> reviewed = new HashMap<>();
    private volatile boolean ready;
    private volatile Instant lastTick;

    public Reconciler(DaemonConfig config, GitSource git, Loader loader, Function<Environment, Driver> drivers, Clock clock,
                      DaemonLog log, Notifier notifier, DaemonMetrics metrics, PlanStore plans) {
        this.config = config;
        this.git = git;
        this.loader = loader;
        this.drivers = drivers;
        this.clock = clock;
        this.log = log;
        this.notifier = notifier;
        this.metrics = metrics;
        this.plans = plans;
        this.work = config.stateDir().resolve(".daemon");
    }

    public boolean ready() {
        return ready;
    }

    public Optional<Instant> lastTick() {
        return Optional.ofNullable(lastTick);
    }

    public List<EnvironmentStatus> statuses() {
        return new ArrayList<>(statuses.values());
    }

    /** One pass of the loop. Never throws: every failure is logged, reported and retried later. */
    public synchronized void tick() {
        lastTick = clock.instant();
        Map<String, ObjectId> heads;
        try {
            heads = git.fetch();
        } catch (MlctlException e) {
            log.error(e.getMessage());
            return;
        }
        ready = true;
        ObjectId head = heads.get("refs/heads/" + config.branch());
        if (head == null) {
            log.warn("the deploy branch does not exist yet", "branch", config.branch());
        } else if (!head.equals(deployed)) {
            if (deployed != null) log.info("new commit on the deploy branch", "from", shortId(deployed), "to", shortId(head));
            // A commit that could not even be read (a transient error) is tried again next tick.
            if (deploy(head)) deployed = head;
        } else {
            retryAndCheckDrift();
        }
        for (Map.Entry<String, ObjectId> ref : heads.entrySet()) {
            if (!config.isReviewRef(ref.getKey()) || ref.getValue().equals(reviewed.get(ref.getKey()))) continue;
            reviewed.put(ref.getKey(), ref.getValue());
            review(ref.getKey(), ref.getValue());
        }
        reviewed.keySet().retainAll(heads.keySet());
    }

    /** Returns false when the commit could not be read and should be tried again. */
    private boolean deploy(ObjectId commit) {
        String id = shortId(commit);
        ConfigRepo repo;
        try {
            repo = loader.load(git.checkout(commit, config.path(), work.resolve("checkouts/" + ProcessHandle.current().pid() + "/deploy")));
        } catch (SpecException e) {
            rejected(commit, e);
            return true;
        } catch (MlctlException e) {
            log.error("cannot read commit " + id + ": " + e.getMessage());
            return false;
        }
        goodCommit = commit.name();
        goodEnvironments = repo.environments();
        failures.clear();
        retryAt.clear();
        log.info("commit validated", "commit", id, "environments", goodEnvironments.size());
        for (String gone : new ArrayList<>(statuses.keySet())) {
            if (goodEnvironments.stream().noneMatch(e -> e.name().equals(gone))) {
                EnvironmentStatus s = statuses.get(gone);
                statuses.put(gone, with(s, EnvironmentStatus.Status.ERROR, Optional.of("no longer in the repository at " + id
                    + "; its resources are left as they are (mlctl destroy deletes them)")));
            }
        }
        for (Environment env : goodEnvironments) reconcile(env, Trigger.COMMIT);
        return true;
    }

    /** A commit that does not validate is not applied: the last good one stays in force. */
    private void rejected(ObjectId commit, SpecException e) {
        String id = shortId(commit);
        List<SpecError> errors = e.errors();
        String summary = "commit " + id + " does not validate, keeping " + (goodCommit == null ? "nothing" : shortId(goodCommit)) + ": "
            + errors.get(0) + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : "");
        for (SpecError err : errors) log.error("invalid spec", "commit", id, "error", err);
        for (String name : new ArrayList<>(statuses.keySet())) {
            statuses.put(name, with(statuses.get(name), EnvironmentStatus.Status.ERROR, Optional.of(summary)));
        }
        ObjectNode ev = notifier.event("error").put("commit", commit.name()).put("error", summary);
        notifier.send(ev);
    }

    private void retryAndCheckDrift() {
        Instant now = clock.instant();
        for (Environment env : goodEnvironments) {
            Instant retry = retryAt.get(env.name());
            if (retry != null) {
                if (!now.isBefore(retry)) reconcile(env, Trigger.RETRY);
                continue;
            }
            Instant checked = driftCheckedAt.get(env.name());
            if (checked == null || !now.isBefore(checked.plus(config.driftInterval()))) reconcile(env, Trigger.DRIFT);
        }
    }

    private void reconcile(Environment env, Trigger trigger) {
        Instant start = clock.instant();
        String outcome;
        driftCheckedAt.put(env.name(), start);
        try (Driver driver = drivers.apply(env)) {
            long requestsBefore = driver.requestCount();
            Engine engine = new Engine(driver, config.stateDir(), clock, RetryPolicy.standard(new Random()));
            try {
                outcome = reconcileWith(engine, env, trigger);
            } finally {
                metrics.cloudRequests(env.provider().id(), driver.requestCount() - requestsBefore);
            }
        } catch (LockedException e) {
            outcome = "locked";
            log.info("environment is locked, will try again", "environment", env.name(), "holder", e.holder());
            statuses.putIfAbsent(env.name(), new EnvironmentStatus(env.name(), env.provider().id(), env.region(), goodCommit,
                EnvironmentStatus.Status.PENDING, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()));
            retryAt.put(env.name(), clock.instant().plus(config.interval()));
        } catch (MlctlException e) {
            outcome = "error";
            failed(env, e.userMessage());
        } catch (RuntimeException e) {
            outcome = "error";
            failed(env, "internal error: " + e);
        }
        metrics.reconciled(env.name(), outcome, Duration.between(start, clock.instant()));
    }

    private String reconcileWith(Engine engine, Environment env, Trigger trigger) {
        Instant now = clock.instant();
        EnvironmentStatus prior = status(env).orElseGet(() -> new EnvironmentStatus(env.name(), env.provider().id(), env.region(), goodCommit,
            EnvironmentStatus.Status.PENDING, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()));
        boolean mayApply = env.applyMode() == Environment.ApplyMode.AUTO && (trigger != Trigger.DRIFT || env.selfHeal());
        // One pass under the environment's lock: the plan that is reported is the plan that is applied, from one inventory read.
        Engine.ApplyOutcome outcome = engine.apply(env, new Engine.ApplyRequest(PlanOptions.defaults(clock.instant()), Optional.empty(), false, 10,
            "mlctl daemon"), p -> {
                if (trigger == Trigger.DRIFT) drifted(env, p);
                if (!mayApply) return false;
                statuses.put(env.name(), with(planned(prior, p, now), EnvironmentStatus.Status.PENDING, Optional.empty()));
                log.info("applying", "environment", env.name(), "commit", shortId(goodCommit), "plan", p.summary().sentence());
                return true;
            }, new Engine.Observer() {
                @Override
                public void resuming(Journal.Interrupted i) {
                    log.warn("resuming an interrupted apply", "environment", env.name(), "run", i.runId(), "inFlight", i.pending().size());
                }

                @Override
                public void planned(Plan plan) {
                    publish(config.branch(), env, goodCommit, plan, false);
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
            });
        Plan plan = outcome.plan();
        EnvironmentStatus base = planned(prior, plan, now);
        if (!plan.hasChanges()) {
            statuses.put(env.name(), synced(base, now));
            succeeded(env);
            return "synced";
        }
        if (!outcome.approved()) {
            EnvironmentStatus.Status s = env.applyMode() == Environment.ApplyMode.MANUAL ? EnvironmentStatus.Status.MANUAL : EnvironmentStatus.Status.DRIFTED;
            statuses.put(env.name(), with(base, s, Optional.empty()));
            if (trigger != Trigger.DRIFT) notifier.send(event("plan", env, plan.summary()));
            succeeded(env);
            return s.id();
        }
        Instant done = clock.instant();
        Optional<ApplyResult> result = outcome.result();
        if (result.isPresent() && !result.get().ok()) {
            statuses.put(env.name(), new EnvironmentStatus(env.name(), env.provider().id(), env.region(), goodCommit, EnvironmentStatus.Status.ERROR,
                Optional.of(outcome.plan().summary()), Optional.of(now), Optional.of(done), Optional.of("failed"),
                Optional.of(String.join("; ", result.get().failures())), base.lastSync()));
            backoff(env);
            notifier.send(event("error", env, outcome.plan().summary()).put("error", String.join("; ", result.get().failures())));
            return "failed";
        }
        Summary applied = outcome.plan().summary();
        metrics.changed(env.name(), "create", applied.create());
        metrics.changed(env.name(), "update", applied.update());
        metrics.changed(env.name(), "replace", applied.replace());
        metrics.changed(env.name(), "delete", applied.delete());
        EnvironmentStatus after = new EnvironmentStatus(env.name(), env.provider().id(), env.region(), goodCommit, EnvironmentStatus.Status.SYNCED,
            Optional.of(applied), Optional.of(now), Optional.of(done), Optional.of("succeeded"), Optional.empty(), base.lastSync());
        statuses.put(env.name(), synced(after, done));
        log.info("applied", "environment", env.name(), "commit", shortId(goodCommit), "result", result.map(ApplyResult::sentence).orElse("no changes"));
        notifier.send(event("apply", env, applied).put("outcome", "succeeded"));
        succeeded(env);
        return "applied";
    }

    private void drifted(Environment env, Plan plan) {
        metrics.drift(env.name());
        log.warn("drift found", "environment", env.name(), "plan", plan.summary().sentence());
        notifier.send(event("drift", env, plan.summary()));
    }

    private EnvironmentStatus planned(EnvironmentStatus s, Plan plan, Instant when) {
        return new EnvironmentStatus(s.name(), s.provider(), s.region(), goodCommit, s.status(), Optional.of(plan.summary()), Optional.of(when),
            s.lastApplyTime(), s.lastApplyOutcome(), Optional.empty(), s.lastSync());
    }

    private EnvironmentStatus synced(EnvironmentStatus s, Instant when) {
        metrics.synced(s.name(), when.getEpochSecond());
        return new EnvironmentStatus(s.name(), s.provider(), s.region(), s.commit(), EnvironmentStatus.Status.SYNCED, s.lastPlanSummary(),
            s.lastPlanTime(), s.lastApplyTime(), s.lastApplyOutcome(), Optional.empty(), Optional.of(when));
    }

    private static EnvironmentStatus with(EnvironmentStatus s, EnvironmentStatus.Status status, Optional<String> error) {
        return new EnvironmentStatus(s.name(), s.provider(), s.region(), s.commit(), status, s.lastPlanSummary(), s.lastPlanTime(),
            s.lastApplyTime(), s.lastApplyOutcome(), error, s.lastSync());
    }

    private Optional<EnvironmentStatus> status(Environment env) {
        return Optional.ofNullable(statuses.get(env.name()));
    }

    private void failed(Environment env, String message) {
        log.error("reconcile failed", "environment", env.name(), "error", message);
        EnvironmentStatus s = status(env).orElseGet(() -> new EnvironmentStatus(env.name(), env.provider().id(), env.region(), goodCommit,
            EnvironmentStatus.Status.ERROR, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()));
        statuses.put(env.name(), new EnvironmentStatus(s.name(), s.provider(), s.region(), goodCommit, EnvironmentStatus.Status.ERROR,
            s.lastPlanSummary(), s.lastPlanTime(), s.lastApplyTime(), s.lastApplyOutcome(), Optional.of(message), s.lastSync()));
        backoff(env);
        notifier.send(notifier.event("error").put("environment", env.name()).put("commit", goodCommit).put("error", message));
    }

    /** Repeated failures wait longer each time (up to ten minutes), so a broken environment does not hammer the cloud. */
    private void backoff(Environment env) {
        int n = failures.merge(env.name(), 1, Integer::sum);
        long delay = Math.min(Duration.ofMinutes(10).toMillis(), config.interval().toMillis() << Math.min(n, 16));
        retryAt.put(env.name(), clock.instant().plusMillis(delay));
    }

    private void succeeded(Environment env) {
        failures.remove(env.name());
        retryAt.remove(env.name());
    }

    private void review(String ref, ObjectId commit) {
        String branch = DaemonConfig.shortName(ref);
        String id = shortId(commit);
        ConfigRepo repo;
        try {
            repo = loader.load(git.checkout(commit, config.path(), work.resolve("checkouts/" + ProcessHandle.current().pid() + "/review")));
        } catch (SpecException e) {
            log.error("review branch does not validate", "branch", branch, "commit", id, "error", e.errors().get(0));
            notifier.send(notifier.event("error").put("branch", branch).put("commit", commit.name()).put("error", e.userMessage()));
            publishErrors(branch, commit, e);
            return;
        } catch (MlctlException e) {
            log.error("cannot read review branch", "branch", branch, "error", e.getMessage());
            return;
        }
        for (Environment env : repo.environments()) {
            try (Driver driver = drivers.apply(env)) {
                Engine engine = new Engine(driver, config.stateDir(), clock, RetryPolicy.standard(new Random()));
                Plan plan = engine.plan(env, PlanOptions.defaults(clock.instant()));
                publish(branch, env, commit.name(), plan, true);
                log.info("planned review branch", "branch", branch, "commit", id, "environment", env.name(), "plan", plan.summary().sentence());
                notifier.send(event("plan", env, plan.summary()).put("branch", branch).put("commit", commit.name()));
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

    private ObjectNode event(String type, Environment env, Summary summary) {
        ObjectNode n = notifier.event(type).put("environment", env.name()).put("commit", goodCommit).put("time", clock.instant().toString());
        n.set("summary", PlanJson.summary(summary));
        return n;
    }

    private static String shortId(ObjectId id) {
        return id.name().substring(0, 7);
    }

    private static String shortId(String id) {
        return id == null || id.length() < 7 ? String.valueOf(id) : id.substring(0, 7);
    }
}
