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
        return plan.policies().stream().sorted(Comparator.comparing((PolicyResult r) -> !r.denies()).thenComparing(PolicyResult::live)
            .thenComparing(PolicyResult::policy)
            .thenComparing(r -> r.address().map(Object::toString).orElse(""))).toList();
    }

    /** "policy P (deny): bucket.data (dev.yaml:12:7): message", and for the cloud's state "... in the cloud now: ...". */
    static String describe(PolicyResult r, Plan plan) {
        String what = r.address().map(Object::toString).orElse("environment");
        // Only where the plan does change it back: a targeted plan may leave it out, and a drift report may not be applied.
        boolean corrected = r.live() && r.address().isPresent() && plan.changes().stream().anyMatch(c -> c.address().resource().equals(r.address().get()));
        return "policy " + r.policy() + " (" + r.enforcement() + "): " + what + r.at().map(at -> " (" + at + ")").orElse("")
            + (r.live() ? " as it is in the cloud now" : "") + ": " + r.message() + (corrected ? "; applying this plan corrects it" : "");
    }

    static String deniedLine(Plan plan) {
        long n = plan.policies().stream().filter(PolicyResult::denies).count();
        return "Policy check failed: " + n + (n == 1 ? " denial" : " denials") + "; apply refuses this plan until the spec or the policy changes.";
    }
}
