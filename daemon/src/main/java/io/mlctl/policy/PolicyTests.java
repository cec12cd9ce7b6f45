package io.mlctl.policy;

import io.mlctl.plan.PolicyResult;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import io.mlctl.spec.SourcePosition;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;

/**
 * Runs {@code kind: PolicyTest} documents: each example environment against the policies, the policies it breaks compared
 * with what the test expects (policy, resource, and enforcement when the test names one). Pure.
 */
public final class PolicyTests {
    private PolicyTests() {
    }

    /** One test's outcome: what was expected and not broken, and what was broken and not expected. */
    public record Outcome(String name, SourcePosition at, List<String> missing, List<String> unexpected, List<String> errors) {
        /** A condition that could not be evaluated fails its test: it is not the violation the test expects. */
        public boolean passed() {
            return missing.isEmpty() && unexpected.isEmpty() && errors.isEmpty();
        }
    }

    /** {@code priced}: the monthly cost (at its most) of an example environment whose test does not state one. */
    public static Outcome run(PolicySet policies, ConfigRepo.PolicyTest test, Function<Environment, PolicySet.Cost> priced) {
        JsonNode spec = test.document().root().get("spec");
        JsonNode stated = spec.path("cost").path("after");
        JsonNode statedBefore = spec.path("cost").path("before");
        PolicySet.Cost cost = stated.isNumber()
            ? new PolicySet.Cost(statedBefore.isNumber() ? statedBefore.asDouble() : stated.asDouble(), stated.asDouble(), true)
            : priced.apply(test.environment());
        List<PolicyResult> all = policies.checkSpec(test.environment(), cost);
        List<String> errors = all.stream().filter(PolicyResult::error)
            .map(r -> r.policy() + " " + r.address().map(Object::toString).orElse("environment") + ": " + r.message()).toList();
        List<PolicyResult> got = all.stream().filter(r -> !r.error()).toList();
        TreeSet<String> broken = new TreeSet<>();
        TreeSet<String> brokenWithout = new TreeSet<>();
        for (PolicyResult r : got) {
            String what = r.policy() + " " + r.address().map(Object::toString).orElse("environment");
            broken.add(what + " (" + r.enforcement() + ")");
            brokenWithout.add(what);
        }
        List<String> missing = new ArrayList<>();
        TreeSet<String> matched = new TreeSet<>();
        for (JsonNode e : spec.get("expect")) {
            String what = e.get("policy").asString() + " " + Optional.ofNullable(e.get("address")).map(JsonNode::asString).orElse("environment");
            Optional<String> enforcement = Optional.ofNullable(e.get("enforcement")).map(JsonNode::asString);
            String key = enforcement.map(x -> what + " (" + x + ")").orElse(what);
            boolean hit = enforcement.isPresent() ? broken.contains(key) : brokenWithout.contains(what);
            if (hit) matched.add(what);
            else missing.add(key);
        }
        List<String> unexpected = new ArrayList<>();
        for (String b : broken) {
            if (!matched.contains(b.substring(0, b.lastIndexOf(" (")))) unexpected.add(b);
        }
        return new Outcome(test.name(), test.document().positionOf(""), missing, unexpected, errors);
    }
}
