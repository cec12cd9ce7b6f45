package io.mlctl.cli;

import io.mlctl.apply.Journal;
import io.mlctl.engine.Engine;
import io.mlctl.plan.Plan;
import java.io.PrintWriter;
import java.time.Duration;

/**
 * terraform-like progress lines, safe to call from the apply's worker threads; a step still running
 * after each {@code every} says so ("Still creating... [20s elapsed]"), since an EKS cluster or a
 * SageMaker endpoint takes many minutes.
 */
final class ConsoleProgress implements ApplyReport {
    private final PrintWriter out;
    private final java.util.function.Consumer<Plan> onPlan;
    private final java.time.Clock clock;
    private final java.util.Map<Step, java.time.Instant> running = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.ScheduledExecutorService ticker;

    ConsoleProgress(PrintWriter out, java.util.function.Consumer<Plan> onPlan, java.time.Clock clock, Duration every) {
        this.out = out;
        this.onPlan = onPlan;
        this.clock = clock;
        this.ticker = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mlctl-progress");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleAtFixedRate(this::stillRunning, every.toMillis(), every.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private void stillRunning() {
        java.time.Instant now = clock.instant();
        running.forEach((step, since) -> {
            String verb = switch (step.op()) {
                case "create" -> "creating";
                case "update" -> "modifying";
                case "import" -> "importing";
                default -> "destroying";
            };
            line(step.address() + ": Still " + verb + "... [" + Duration.between(since, now).toSeconds() + "s elapsed]");
        });
    }

    @Override
    public void close() {
        ticker.shutdownNow();
    }

    /** A plan without changes was shown as "No changes."; an apply that did something ends with terraform's line. */
    @Override
    public void outcome(Plan plan, java.util.Optional<io.mlctl.apply.ApplyResult> result) {
        if (result.isPresent() && result.get().ok()) {
            line(ApplyReport.completeLine(plan, result));
            // As terraform says after -target: what was left out may still differ from the spec.
            if (plan.warnsOfTargeting()) {
                line("");
                line("Warning: Applied changes may be incomplete");
                line("  The plan was made with --target in effect, so some changes the spec asks for may have been left out.");
                line("  Run mlctl plan without --target to see whether any other changes are pending.");
            }
        }
    }

    private synchronized void line(String s) {
        out.println(s);
        out.flush();
    }

    @Override
    public void resuming(Journal.Interrupted interrupted) {
        line("Resuming an interrupted apply (run " + interrupted.runId() + ", started " + interrupted.startedAt() + "): "
            + interrupted.pending().size() + " call(s) were in flight; re-reading the cloud to finish the job without duplicates.");
    }

    @Override
    public void planned(Plan plan) {
        onPlan.accept(plan);
    }

    private static String verb(Step s, boolean done) {
        return switch (s.op()) {
            case "create" -> done ? "Creation complete" : "Creating...";
            case "update" -> done ? "Modifications complete" : "Modifying...";
            case "import" -> done ? "Import complete" : "Importing...";
            default -> done ? "Destruction complete" : "Destroying...";
        };
    }

    @Override
    public void started(Step step, int index, int total) {
        running.put(step, clock.instant());
        line(step.address() + ": " + verb(step, false) + (step.cloudId() != null ? " [id=" + step.cloudId() + "]" : "") + " (" + index + "/" + total + ")");
    }

    @Override
    public void retrying(Step step, int attempt, Duration delay, String error) {
        line(step.address() + ": retrying in " + delay.toMillis() + " ms (attempt " + (attempt + 1) + "): " + error);
    }

    @Override
    public void finished(Step step, int index, int total, String cloudId, Duration took) {
        running.remove(step);
        line(step.address() + ": " + verb(step, true) + " after " + took.toSeconds() + "s [id=" + cloudId + "]");
    }

    @Override
    public void failed(Step step, String error) {
        running.remove(step);
        line(step.address() + ": " + step.op() + " failed: " + error);
    }

    @Override
    public void skipped(Step step, String because) {
        line(step.address() + ": skipped " + step.op() + " (" + because + ")");
    }
}
