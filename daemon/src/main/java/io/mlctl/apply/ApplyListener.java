package io.mlctl.apply;

import io.mlctl.plan.Action;
import io.mlctl.spec.Address;
import java.time.Duration;

/** Progress of an apply, for the terminal, logs or metrics. Called from worker threads. */
public interface ApplyListener {
    ApplyListener NONE = new ApplyListener() { };

    default void started(Step step, int index, int total) { }

    default void retrying(Step step, int attempt, Duration delay, String error) { }

    default void finished(Step step, int index, int total, String cloudId, Duration took) { }

    default void failed(Step step, String error) { }

    default void skipped(Step step, String because) { }

    /** One cloud call of an apply: a replace is two steps, delete then create. */
    record Step(Address address, Action action, String op, String cloudId) {
        @Override
        public String toString() {
            return op + " " + address;
        }
    }
}
