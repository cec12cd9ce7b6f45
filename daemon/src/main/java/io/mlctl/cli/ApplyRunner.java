package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.apply.ApplyResult;
import io.mlctl.apply.LockService;
import io.mlctl.engine.Engine;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.provider.Driver;
import io.mlctl.spec.Environment;
import java.io.IOException;
import java.util.Optional;

/** What apply and destroy share: plan, ask, apply with progress, report. */
final class ApplyRunner {
    static final java.time.Duration PROGRESS_EVERY = java.time.Duration.ofSeconds(10);
    private final Services s;
    private final boolean color;
    private final LockService locks;
    private final ApplyReport.Mode mode;

    ApplyRunner(Services s, boolean color, LockService locks) {
        this(s, color, locks, ApplyReport.Mode.TEXT);
    }

    ApplyRunner(Services s, boolean color, LockService locks, ApplyReport.Mode mode) {
        this.s = s;
        this.color = color;
        this.locks = locks;
        this.mode = mode;
    }

    private ApplyReport report(Environment env, Optional<Plan> saved, boolean autoApprove) {
        return switch (mode) {
            case QUIET -> new ApplyReport.Quiet(s.out());
            case JSON -> new JsonApplyEvents(s.out(), s.clock(), env.name());
            case TEXT -> new ConsoleProgress(s.out(), plan -> {
                // As terraform does: the plan is shown before it runs, except a saved plan the person already reviewed.
                if (!plan.hasChanges() || autoApprove && saved.isEmpty()) s.out().print(Commands.render(plan, Format.text, color));
                else if (saved.isPresent()) s.out().println(plan.summary().sentence());
                s.out().flush();
            }, s.clock(), PROGRESS_EVERY);
        };
    }

    /** Plans, asks, applies; throws when the apply was cancelled or did not fully succeed. */
    void run(Environment env, CloudOptions cloud, PlanOptions options, Optional<Plan> saved, boolean autoApprove,
                boolean allowMassDelete, int parallelism, String purpose) {
        run(env, cloud, options, saved, autoApprove, allowMassDelete, parallelism, purpose, plan -> { });
    }

    /** As above; {@code vet} sees the plan before anyone is asked and may refuse it (throw) while nothing is changed yet. */
    void run(Environment env, CloudOptions cloud, PlanOptions options, Optional<Plan> saved, boolean autoApprove,
                boolean allowMassDelete, int parallelism, String purpose, java.util.function.Consumer<Plan> vet) {
        try (Driver driver = s.driver(env, cloud.sandbox);
             ApplyReport progress = report(env, saved, autoApprove)) {
            Engine engine = Commands.engine(s, driver, cloud, locks);
            Engine.ApplyOutcome outcome = engine.apply(env,
                new Engine.ApplyRequest(options, saved, allowMassDelete, parallelism, purpose),
                plan -> {
                    vet.accept(plan);
                    return autoApprove || saved.isPresent() || ask(plan, options.destroy());
                }, progress);
            if (!outcome.approved()) {
                throw new MlctlException((options.destroy() ? "Destroy" : "Apply") + " cancelled.");
            }
            progress.outcome(outcome.plan(), outcome.result());
            if (outcome.result().isEmpty()) return;
            ApplyResult r = outcome.result().get();
            if (r.ok()) return;
            throw new MlctlException((options.destroy() ? "destroy" : "apply") + " of " + env.name() + " failed: " + r.sentence() + " "
                + r.failures().size() + " failed, " + r.skipped().size() + " skipped:\n  " + String.join("\n  ", r.failures())
                + "\nRun the same command again to retry; the journal lets it pick up where this one stopped.");
        }
    }

    private boolean ask(Plan plan, boolean destroy) {
        s.out().print(Commands.render(plan, Format.text, color));
        s.out().println();
        s.out().println(!destroy ? "Do you want to perform these actions in " + plan.environment() + "?"
            : plan.targeted() ? "Do you really want to destroy the targeted resources of " + plan.environment() + "?"
            : "Do you really want to destroy all resources of " + plan.environment() + "?");
        s.out().println("  mlctl will perform the actions described above.");
        s.out().println("  Only 'yes' will be accepted to approve.");
        s.out().println();
        s.out().print("  Enter a value: ");
        s.out().flush();
        try {
            String answer = s.in().readLine();
            s.out().println();
            return answer != null && answer.trim().equals("yes");
        } catch (IOException e) {
            return false;
        }
    }
}
