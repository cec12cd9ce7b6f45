package io.mlctl.policy;

import io.mlctl.spec.Environment;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceType;
import io.mlctl.spec.SourcePosition;
import java.util.Map;
import java.util.Set;

/**
 * A rule of the config repository (a {@code kind: Policy} document), with its CEL condition compiled. {@code condition}
 * is the text as written, for messages; {@code program} evaluates it.
 */
public record Policy(String name, Enforcement enforcement, Match match, String condition, String message, Conditions.Compiled program,
                     SourcePosition position) {

    public enum Enforcement {
        DENY, WARN;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Which resources and environments it applies to; an empty set or map matches everything. */
    public record Match(Set<ResourceType> types, Set<Provider> providers, Map<String, String> labels, Set<String> environments) {
        public Match {
            types = Set.copyOf(types);
            providers = Set.copyOf(providers);
            labels = Map.copyOf(labels);
            environments = Set.copyOf(environments);
        }

        public boolean matches(Environment env) {
            return (providers.isEmpty() || providers.contains(env.provider()))
                && (environments.isEmpty() || environments.contains(env.name()))
                && labels.entrySet().stream().allMatch(l -> l.getValue().equals(env.labels().get(l.getKey())));
        }
    }

    /** Without resource types it is checked once per environment, with its resources and cost. */
    public boolean environmentLevel() {
        return match.types().isEmpty();
    }
}
