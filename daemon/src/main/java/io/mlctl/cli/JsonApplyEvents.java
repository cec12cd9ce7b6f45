package io.mlctl.cli;

import io.mlctl.apply.ApplyResult;
import io.mlctl.apply.Journal;
import io.mlctl.plan.Plan;
import io.mlctl.plan.Summary;
import io.mlctl.plan.render.PlanJson;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code apply --format json}: newline-delimited JSON, one object per event, each with {@code type},
 * {@code time} and {@code environment}: {@code planned} (the summary and the whole plan, as
 * {@code plan --format json} writes it), {@code resuming}, {@code step_started}, {@code step_retrying},
 * {@code step_finished}, {@code step_failed}, {@code step_skipped}, and last {@code summary} (also when
 * the apply failed: {@code ok} is then false, and the error is on stderr). Safe from worker threads.
 */
final class JsonApplyEvents implements ApplyReport {
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private final PrintWriter out;
    private final Clock clock;
    private final String environment;

    JsonApplyEvents(PrintWriter out, Clock clock, String environment) {
        this.out = out;
        this.clock = clock;
        this.environment = environment;
    }

    private ObjectNode event(String type) {
        ObjectNode n = JSON.createObjectNode();
        n.put("type", type);
        n.put("time", clock.instant().toString());
        n.put("environment", environment);
        return n;
    }

    private synchronized void emit(ObjectNode n) {
        out.println(JSON.writeValueAsString(n));
        out.flush();
    }

    private ObjectNode step(String type, Step step) {
        ObjectNode n = event(type);
        n.put("address", step.address().toString());
        n.put("action", step.action().id());
        n.put("op", step.op());
        return n;
    }

    static ObjectNode summary(Summary s) {
        ObjectNode n = JSON.createObjectNode();
        n.put("create", s.create());
        n.put("update", s.update());
        n.put("replace", s.replace());
        n.put("delete", s.delete());
        n.put("import", s.imported());
        return n;
    }

    @Override
    public void resuming(Journal.Interrupted interrupted) {
        ObjectNode n = event("resuming");
        n.put("runId", interrupted.runId());
        n.put("startedAt", interrupted.startedAt());
        n.put("pending", interrupted.pending().size());
        emit(n);
    }

    @Override
    public void planned(Plan plan) {
        ObjectNode n = event("planned");
        n.put("destroy", plan.destroy());
        n.set("summary", summary(plan.summary()));
        n.set("plan", new PlanJson().toJson(plan));
        emit(n);
    }

    @Override
    public void started(Step step, int index, int total) {
        ObjectNode n = step("step_started", step);
        if (step.cloudId() != null) n.put("cloudId", step.cloudId());
        else n.putNull("cloudId");
        n.put("index", index);
        n.put("total", total);
        emit(n);
    }

    @Override
    public void retrying(Step step, int attempt, Duration delay, String error) {
        ObjectNode n = step("step_retrying", step);
        n.put("attempt", attempt + 1);
        n.put("delayMs", delay.toMillis());
        n.put("error", error);
        emit(n);
    }

    @Override
    public void finished(Step step, int index, int total, String cloudId, Duration took) {
        ObjectNode n = step("step_finished", step);
        n.put("cloudId", cloudId);
        n.put("index", index);
        n.put("total", total);
        n.put("seconds", took.toMillis() / 1000.0);
        emit(n);
    }

    @Override
    public void failed(Step step, String error) {
        ObjectNode n = step("step_failed", step);
        n.put("error", error);
        emit(n);
    }

    @Override
    public void skipped(Step step, String because) {
        ObjectNode n = step("step_skipped", step);
        n.put("reason", because);
        emit(n);
    }

    @Override
    public void outcome(Plan plan, Optional<ApplyResult> result) {
        ObjectNode n = event("summary");
        n.put("destroy", plan.destroy());
        n.put("ok", result.map(ApplyResult::ok).orElse(true));
        n.put("imported", result.map(ApplyResult::imported).orElse(0));
        n.put("added", result.map(ApplyResult::created).orElse(0));
        n.put("changed", result.map(ApplyResult::updated).orElse(0));
        n.put("destroyed", result.map(ApplyResult::deleted).orElse(0));
        var failures = n.putArray("failures");
        result.ifPresent(r -> r.failures().forEach(failures::add));
        var skipped = n.putArray("skipped");
        result.ifPresent(r -> r.skipped().forEach(skipped::add));
        n.put("message", result.map(ApplyResult::ok).orElse(true) ? ApplyReport.completeLine(plan, result)
            : (plan.destroy() ? "Destroy" : "Apply") + " failed: " + result.get().sentence());
        emit(n);
    }

    @Override
    public void close() {
    }
}
