package io.mlctl.cli;

import io.mlctl.apply.Journal;
import io.mlctl.engine.Engine;
import io.mlctl.plan.Plan;
import java.io.PrintWriter;
import java.time.Duration;

/** terraform-like progress lines; safe to call from the apply's worker threads. */
final class ConsoleProgress implements Engine.Observer {
    private final PrintWriter out;
    private final java.util.function.Consumer<Plan> onPlan;

    ConsoleProgress(PrintWriter out, java.util.function.Consumer<Plan> onPlan) {
        this.out = out;
        this.onPlan = onPlan;
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
            default -> done ? "Destruction complete" : "Destroying...";
        };
    }

    @Override
    public void started(Step step, int index, int total) {
        line(step.address() + ": " + verb(step, false) + (step.cloudId() != null ? " [id=" + step.cloudId() + "]" : "") + " (" + index + "/" + total + ")");
    }

    @Override
    public void retrying(Step step, int attempt, Duration delay, String error) {
        line(step.address() + ": retrying in " + delay.toMillis() + " ms (attempt " + (attempt + 1) + "): " + error);
    }

    @Override
    public void finished(Step step, int index, int total, String cloudId, Duration took) {
        line(step.address() + ": " + verb(step, true) + " after " + took.toSeconds() + "s [id=" + cloudId + "]");
    }

    @Override
    public void failed(Step step, String error) {
        line(step.address() + ": " + step.op() + " failed: " + error);
    }

    @Override
    public void skipped(Step step, String because) {
        line(step.address() + ": skipped " + step.op() + " (" + because + ")");
    }
}
