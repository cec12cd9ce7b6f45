package io.mlctl.engine;

import io.mlctl.MlctlException;
import io.mlctl.plan.Plan;

/** A plan that deletes too much at once, refused until a person or a reviewed spec releases it. */
public final class MassDeleteException extends MlctlException {
    private final transient Plan plan;

    public MassDeleteException(String message, Plan plan) {
        super(message);
        this.plan = plan;
    }

    public Plan plan() {
        return plan;
    }
}
