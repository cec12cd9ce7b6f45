package io.mlctl.cli;

import io.mlctl.apply.ApplyResult;
import io.mlctl.engine.Engine;
import io.mlctl.plan.Plan;
import java.util.Optional;

/**
 * How apply and destroy report: terraform's text ({@link ConsoleProgress}), {@code --quiet} (the final
 * line only) or {@code --format json} (one JSON object per event). Errors are not reported here: they
 * are thrown, and printed on stderr as every command's are.
 */
interface ApplyReport extends Engine.Observer, AutoCloseable {
    /** The modes of {@code apply}/{@code destroy} output. */
    enum Mode { TEXT, QUIET, JSON }

    /** The apply is over: what it did, or nothing for a plan without changes. */
    void outcome(Plan plan, Optional<ApplyResult> result);

    @Override
    void close();

    /** The line a person or a log keeps: "Apply complete! Resources: 1 added, 0 changed, 0 destroyed." */
    static String completeLine(Plan plan, Optional<ApplyResult> result) {
        return (plan.destroy() ? "Destroy" : "Apply") + " complete! "
            + result.map(ApplyResult::sentence).orElse("Resources: 0 added, 0 changed, 0 destroyed.");
    }

    /** --quiet: nothing until the final line, which is printed only on success (a failure is an error). */
    final class Quiet implements ApplyReport {
        private final java.io.PrintWriter out;

        Quiet(java.io.PrintWriter out) {
            this.out = out;
        }

        @Override
        public void outcome(Plan plan, Optional<ApplyResult> result) {
            if (result.isEmpty() || result.get().ok()) {
                out.println(completeLine(plan, result));
                out.flush();
            }
        }

        @Override
        public void close() {
        }
    }
}
