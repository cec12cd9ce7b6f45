package io.mlctl.engine;

import io.mlctl.MlctlException;
import io.mlctl.apply.Applier;
import io.mlctl.apply.ApplyListener;
import io.mlctl.apply.ApplyResult;
import io.mlctl.apply.LockService;
import io.mlctl.apply.Journal;
import io.mlctl.apply.RetryPolicy;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.InventoryReader;
import io.mlctl.plan.Fingerprints;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.policy.PolicySet;
import io.mlctl.provider.Driver;
import io.mlctl.provider.Target;
import io.mlctl.spec.Environment;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The glue the CLI and the daemon share: read inventory, plan, and apply under the environment's
 * lock with the journal, resuming what an interrupted apply left.
 */
public final class Engine {
    private final Driver driver;
    private final Path stateDir;
    private final Clock clock;
    private final RetryPolicy retry;
    private final Planner planner;
    private final LockService locks;
    private final PolicySet policies;
    private final Optional<io.mlctl.cost.PlanCosts> costs;
    private final Optional<io.mlctl.placement.Placements> placements;

    public Engine(Driver driver, Path stateDir, Clock clock, RetryPolicy retry) {
        this(driver, stateDir, clock, retry, LockService.files());
    }

    public Engine(Driver driver, Path stateDir, Clock clock, RetryPolicy retry, LockService locks) {
        this(driver, stateDir, clock, retry, locks, PolicySet.NONE);
    }

    /** {@code policies}: the config repository's; every plan is checked against them and one they deny is not applied. */
    public Engine(Driver driver, Path stateDir, Clock clock, RetryPolicy retry, LockService locks, PolicySet policies) {
        this(driver, stateDir, clock, retry, locks, policies, Optional.empty());
    }

    /** {@code costs}: prices every plan (cost before and after, per resource and in total), which policies then see. */
    public Engine(Driver driver, Path stateDir, Clock clock, RetryPolicy retry, LockService locks, PolicySet policies,
                  Optional<io.mlctl.cost.PlanCosts> costs) {
        this(driver, stateDir, clock, retry, locks, policies, costs, Optional.empty());
    }

    /** {@code placements}: resolves {@code machineType: auto} to concrete machine types before every plan. */
    public Engine(Driver driver, Path stateDir, Clock clock, RetryPolicy retry, LockService locks, PolicySet policies,
                  Optional<io.mlctl.cost.PlanCosts> costs, Optional<io.mlctl.placement.Placements> placements) {
        this.placements = placements;
        this.driver = driver;
        this.policies = policies;
        this.costs = costs;
        this.locks = locks;
        this.planner = new Planner(driver::rules);
        this.stateDir = stateDir;
        this.clock = clock;
        this.retry = retry;
    }

    /** Inventory pages are retried like the apply's calls: a throttled read does not fail a plan. */
    private InventoryReader reader() {
        return new InventoryReader(driver, InventoryReader.DEFAULT_PARALLELISM, read -> retry.run(read, (attempt, delay, cause) -> { }));
    }

    public Inventory inventory(Environment env) {
        target(env, "read its inventory");
        return reader().read(env);
    }

    public Plan plan(Environment env, PlanOptions options) {
        Target target = target(env, "plan");
        Inventory inventory = withImports(env, reader().read(env), options);
        checkTargets(env, inventory, options);
        io.mlctl.placement.Placements.Resolution placed = placed(env, inventory, options);
        return assessed(placed.environment(), inventory, planner.plan(placed.environment(), inventory, options)
            .readFrom(target.account(), target.region()).placing(placed.placements()));
    }

    /**
     * The environment with its {@code machineType: auto} resolved (nothing to resolve for a destroy); the planner, costs and
     * policies see the concrete machine types.
     */
    private io.mlctl.placement.Placements.Resolution placed(Environment env, Inventory inventory, PlanOptions options) {
        if (options.destroy() || !io.mlctl.placement.Placements.asks(env)) return new io.mlctl.placement.Placements.Resolution(env, List.of());
        return placements.orElseThrow(() -> new MlctlException("environment " + env.name() + " uses machineType: auto, which this engine cannot resolve (no prices)"))
            .resolve(env, inventory, options.replacePlacement());
    }

    /** The plan with its cost, and the policies it breaks (which may read the cost). */
    private Plan assessed(Environment env, Inventory inventory, Plan plan) {
        return checked(env, inventory, priced(env, inventory, plan, costs), policies);
    }

    /** The plan with its cost when plans are priced ({@code mlctl bench} times this step on its own). */
    public static Plan priced(Environment env, Inventory inventory, Plan plan, Optional<io.mlctl.cost.PlanCosts> costs) {
        return costs.map(c -> plan.costing(c.estimate(env, inventory, plan))).orElse(plan);
    }

    /**
     * The (priced) plan with the policies it breaks: what it leaves, and what the cloud holds now (an out-of-band change).
     * The policies see the plan's cost, unknown when it was not priced.
     */
    public static Plan checked(Environment env, Inventory inventory, Plan priced, PolicySet policies) {
        if (policies.isEmpty()) return priced;
        // Known when what the plan leaves is fully priced: an unpriced thing before it (changed out of band) must not switch budgets off.
        PolicySet.Cost cost = priced.cost().map(e -> new PolicySet.Cost(e.before().high(), e.after().high(), e.after().known()))
            .orElse(PolicySet.Cost.UNKNOWN);
        PolicySet.Cost now = priced.cost().map(e -> new PolicySet.Cost(e.before().high(), e.before().high(), e.before().known()))
            .orElse(PolicySet.Cost.UNKNOWN);
        return priced.checked(policies.checkPlan(env, priced, inventory, cost, now));
    }

    /**
     * Reads what the spec's import list names, by id. An address this environment already manages under that id is done (the
     * entry may stay in the spec, as terraform's import blocks may); under another id it is an error, as is an id that names
     * nothing or something any mlctl environment manages: only what no one manages can be imported.
     */
    Inventory withImports(Environment env, Inventory inventory, PlanOptions options) {
        // A destroy takes nothing over; an entry left in the spec must not stand in its way.
        if (env.imports().isEmpty() || options.destroy()) return inventory;
        Map<io.mlctl.spec.Address, io.mlctl.inventory.ObservedResource> importing = new java.util.TreeMap<>();
        for (Environment.Import i : env.imports()) {
            String at = i.position() == null ? "" : i.position() + ": ";
            Optional<io.mlctl.inventory.ObservedResource> managed = inventory.get(i.to());
            Optional<io.mlctl.inventory.ObservedResource> read;
            try {
                read = retry.run(() -> driver.read(env, i.to(), i.id()), (attempt, delay, cause) -> { });
            } catch (MlctlException e) {
                throw new MlctlException(at + "import " + i.to() + ": " + e.userMessage(), e);
            }
            if (managed.isPresent()) {
                // Done already: an entry left in the spec is a no-op, also once what it imported was replaced or deleted.
                if (read.isEmpty() || managed.get().cloudId().equals(read.get().cloudId())) continue;
                throw new MlctlException(at + "import " + i.to() + ": this environment already manages " + i.to() + " as "
                    + managed.get().cloudId() + ", not " + read.get().cloudId()
                    + (i.position() == null ? "" : "; remove the import entry"));
            }
            io.mlctl.inventory.ObservedResource found = read.orElseThrow(() -> new MlctlException(at + "import " + i.to() + ": no "
                + i.to().type().id() + " with id " + i.id() + " exists in " + env.provider().id() + " " + env.region()));
            Optional<String> owner = driver.markedBy(found.tags());
            if (owner.isPresent()) {
                throw new io.mlctl.provider.NotOwnedException(at + "import " + i.to() + ": " + found.cloudId() + " is " + owner.get()
                    + "; only a resource no mlctl environment manages can be imported");
            }
            importing.values().stream().filter(r -> r.cloudId().equals(found.cloudId())).findFirst().ifPresent(r -> {
                throw new MlctlException(at + "import " + i.to() + ": " + found.cloudId() + " is imported as " + r.address() + " already");
            });
            importing.put(i.to(), found);
        }
        return inventory.withImports(importing);
    }

    /**
     * A target that names nothing the spec declares or the environment owns would plan "No changes" and let a
     * CI gate pass on a typo: it is an error naming the closest address instead.
     */
    static void checkTargets(Environment env, Inventory inventory, PlanOptions options) {
        if (options.targets().isEmpty()) return;
        java.util.Set<String> known = new java.util.TreeSet<>();
        env.resources().forEach(r -> known.add(r.address().toString()));
        inventory.resources().keySet().forEach(a -> known.add(a.toString()));
        for (io.mlctl.spec.Address t : options.targets()) {
            if (known.contains(t.toString())) continue;
            String hint = io.mlctl.util.Typos.closest(t.toString(), known).map(c -> "; the closest address is " + c)
                .orElse("; it has no resources");
            throw new MlctlException("--target " + t + ": no such resource in environment " + env.name() + hint);
        }
    }

    /**
     * Where the driver reads and writes; refuses, before anything is read, credentials of another
     * account than the one the spec declares (terraform's allowed_account_ids).
     */
    Target target(Environment env, String verb) {
        Target target = driver.target(env);
        if (env.account().isPresent() && !env.account().get().equals(target.account())) {
            throw new WrongAccountException("environment " + env.name() + " declares account " + env.account().get() + " but the "
                + credentialsOf(env) + " credentials in use belong to " + target.account() + "; refusing to " + verb);
        }
        return target;
    }

    private static String credentialsOf(Environment env) {
        return switch (env.provider()) {
            case AWS -> "AWS";
            case GCP -> "GCP";
            case AZURE -> "Azure";
        };
    }

    /** Decides whether a plan may go ahead (a person answering "yes", or --auto-approve). */
    public interface Approver {
        boolean approve(Plan plan);
    }

    /** Told what happens before the steps run. */
    public interface Observer extends ApplyListener {
        default void resuming(Journal.Interrupted interrupted) { }

        default void planned(Plan plan) { }

        /** The apply is over (or there was nothing to do), told while the lock is still held, so what it records is not raced. */
        default void done(Plan plan, Optional<ApplyResult> result) { }
    }

    public record ApplyRequest(PlanOptions options, Optional<Plan> savedPlan, boolean allowMassDelete, int parallelism, String purpose) {
    }

    public record ApplyOutcome(Plan plan, Optional<ApplyResult> result, boolean approved) {
    }

    public Path environmentState(Environment env) {
        return stateDir.resolve(env.name());
    }

    public ApplyOutcome apply(Environment env, ApplyRequest req, Approver approver, Observer observer) {
        Path dir = environmentState(env);
        try (LockService.Held lock = locks.acquire(env.name(), dir, req.purpose(), clock.instant());
             Journal journal = new Journal(dir)) {
            Optional<Journal.Interrupted> interrupted = journal.interrupted();
            interrupted.ifPresent(observer::resuming);
            Target target = target(env, "apply");
            Inventory inventory = withImports(env, reader().read(env), req.options());
            checkTargets(env, inventory, req.options());
            io.mlctl.placement.Placements.Resolution placed = placed(env, inventory, req.options());
            Plan fresh = assessed(placed.environment(), inventory, planner.plan(placed.environment(), inventory, req.options())
                .readFrom(target.account(), target.region()).placing(placed.placements()));
            // A saved plan is judged by the policies as they are now, not as they were when it was saved.
            Plan plan = req.savedPlan().map(saved -> {
                Plan checkedSaved = checkSaved(placed.environment(), saved, fresh).checked(fresh.policies());
                return fresh.cost().map(checkedSaved::costing).orElse(checkedSaved);
            }).orElse(fresh);
            observer.planned(plan);
            if (!plan.hasChanges()) {
                if (interrupted.isPresent()) {
                    // The interrupted apply got everything done before it died; close its journal.
                    journal.begin(interrupted.get().runId() + "-recovered", clock.instant().toString(), env.name(), plan.fingerprints().spec());
                    journal.end("recovered");
                }
                if (plan.destroy() && !plan.targeted()) driver.released(env); // a destroy re-run after the last delete still tidies up
                lock.check(); // a holder that lost the lock records nothing over the next holder's record
                observer.done(plan, Optional.empty());
                return new ApplyOutcome(plan, Optional.empty(), true);
            }
            if (plan.massDelete() && !req.allowMassDelete() && !env.massDeleteAllowed(plan.deleteCount())) {
                throw new MassDeleteException("refusing to apply: " + plan.warnings().get(0).replace(io.mlctl.planner.Planner.MASS_DELETE_HINT, "")
                    + "; review the plan and re-run with --allow-mass-delete if this is intended", plan);
            }
            if (plan.denied()) {
                io.mlctl.plan.PolicyResult first = plan.policies().stream().filter(io.mlctl.plan.PolicyResult::denies).findFirst().orElseThrow();
                long more = plan.policies().stream().filter(io.mlctl.plan.PolicyResult::denies).count() - 1;
                throw new PolicyDeniedException("refusing to apply: policy " + first.policy() + " denies it ("
                    + first.address().map(a -> a + ": ").orElse("") + first.message() + first.at().map(at -> " at " + at).orElse("") + ")"
                    + (more > 0 ? " and " + more + " more" : ""), plan);
            }
            if (!approver.approve(plan)) return new ApplyOutcome(plan, Optional.empty(), false);
            Applier applier = new Applier(driver, retry, clock, req.parallelism());
            ApplyResult result = applier.apply(placed.environment(), plan, journal, interrupted, guarded(observer, lock));
            if (plan.destroy() && result.ok() && !plan.targeted()) driver.released(env); // a saved targeted destroy plan too
            lock.check();
            observer.done(plan, Optional.of(result));
            return new ApplyOutcome(plan, Optional.of(result), true);
        }
    }

    /** Every step first checks that the lock is still held: a lease lost mid-apply stops the apply instead of racing the next holder. */
    private static Observer guarded(Observer observer, LockService.Held lock) {
        return new Observer() {
            @Override
            public void started(Step step, int index, int total) {
                lock.check();
                observer.started(step, index, total);
            }

            @Override
            public void retrying(Step step, int attempt, java.time.Duration delay, String error) {
                observer.retrying(step, attempt, delay, error);
            }

            @Override
            public void finished(Step step, int index, int total, String cloudId, java.time.Duration took) {
                observer.finished(step, index, total, cloudId, took);
            }

            @Override
            public void failed(Step step, String error) {
                observer.failed(step, error);
            }

            @Override
            public void skipped(Step step, String because) {
                observer.skipped(step, because);
            }
        };
    }

    /** A saved plan applies only to the spec and inventory it was computed from. */
    static Plan checkSaved(Environment env, Plan saved, Plan fresh) {
        if (!saved.environment().equals(env.name())) {
            throw new StalePlanException("the saved plan is for environment " + saved.environment() + ", not " + env.name());
        }
        if (saved.account().isPresent() && fresh.account().isPresent() && !saved.account().equals(fresh.account())) {
            throw new StalePlanException("the saved plan was made for account " + saved.account().get() + " but the credentials in use belong to "
                + fresh.account().get() + "; refusing to apply it");
        }
        // A plan that does not say which account it read cannot be shown to be for this one: refused, not assumed.
        if (saved.account().isPresent() != fresh.account().isPresent()) {
            throw new StalePlanException(saved.account().isEmpty()
                ? "the saved plan does not record the account it was made for, so it cannot be checked against the credentials in use ("
                    + fresh.account().get() + "); run mlctl plan again"
                : "the saved plan was made for account " + saved.account().get() + " but the account of the credentials in use is unknown; "
                    + "refusing to apply it");
        }
        if (!saved.region().equals(fresh.region())) {
            throw new StalePlanException("the saved plan was made for region " + saved.region() + ", not " + fresh.region() + "; run mlctl plan again");
        }
        if (saved.destroy() != fresh.destroy()) {
            throw new StalePlanException("the saved plan is a " + (saved.destroy() ? "destroy" : "normal") + " plan; use the matching command");
        }
        Fingerprints was = saved.fingerprints();
        Fingerprints now = fresh.fingerprints();
        if (!was.spec().equals(now.spec())) {
            throw new StalePlanException("the saved plan is stale: the spec of environment " + env.name() + " changed since it was made ("
                + describe(was.specResources(), now.specResources()) + "); run mlctl plan again");
        }
        if (!was.inventory().equals(now.inventory())) {
            throw new StalePlanException("the saved plan is stale: what environment " + env.name() + " owns in the cloud changed since it was made ("
                + describe(was.inventoryResources(), now.inventoryResources()) + "); run mlctl plan again");
        }
        return saved;
    }

    private static String describe(Map<String, String> was, Map<String, String> now) {
        Set<String> keys = new TreeSet<>(was.keySet());
        keys.addAll(now.keySet());
        List<String> parts = new ArrayList<>();
        for (String k : keys) {
            String a = was.get(k);
            String b = now.get(k);
            if (a == null) parts.add(k + " added");
            else if (b == null) parts.add(k + " removed");
            else if (!a.equals(b)) parts.add(k + " changed");
        }
        if (parts.isEmpty()) return "environment settings changed";
        if (parts.size() > 5) return String.join(", ", parts.subList(0, 5)) + " and " + (parts.size() - 5) + " more";
        return String.join(", ", parts);
    }

    /** The credentials in use belong to another account than the spec declares. */
    public static final class WrongAccountException extends MlctlException {
        public WrongAccountException(String message) {
            super(message);
        }
    }

    /** A policy with enforcement deny refused the plan; the plan says which and why. */
    public static final class PolicyDeniedException extends MlctlException {
        private final transient Plan plan;

        public PolicyDeniedException(String message, Plan plan) {
            super(message);
            this.plan = plan;
        }

        public Plan plan() {
            return plan;
        }
    }

    /** A saved plan no longer matches the spec or the cloud. */
    public static final class StalePlanException extends MlctlException {
        public StalePlanException(String message) {
            super(message);
        }
    }
}
