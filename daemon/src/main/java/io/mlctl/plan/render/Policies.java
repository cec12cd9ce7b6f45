package io.mlctl.plan.render;

import io.mlctl.plan.Plan;
import io.mlctl.plan.PolicyResult;
import java.util.Comparator;
import java.util.List;

/** What the text and Markdown renderers say alike about the policies a plan breaks. */
final class Policies {
    private Policies() {
    }

    /** Denials first, then by policy and address. */
    static List<PolicyResult> ordered(Plan plan) {
        return plan.policies().stream().sorted(Comparator.comparing((PolicyResult r) -> !r.deny()).thenComparing(PolicyResult::policy)
            .thenComparing(r -> r.address().map(Object::toString).orElse(""))).toList();
    }

    static String deniedLine(Plan plan) {
        long n = plan.policies().stream().filter(PolicyResult::deny).count();
        return "Policy check failed: " + n + (n == 1 ? " denial" : " denials") + "; apply refuses this plan until the spec or the policy changes.";
    }
}
