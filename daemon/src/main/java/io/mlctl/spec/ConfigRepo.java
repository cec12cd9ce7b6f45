package io.mlctl.spec;

import io.mlctl.MlctlException;
import java.util.List;

/**
 * Every environment of a config repository, validated, and its policy documents ({@code kind: Policy}), validated against
 * their schema; the policy package compiles their conditions.
 */
public record ConfigRepo(List<Environment> environments, List<YamlDocument> policyDocuments) {
    public ConfigRepo {
        environments = List.copyOf(environments);
        policyDocuments = List.copyOf(policyDocuments);
    }

    public ConfigRepo(List<Environment> environments) {
        this(environments, List.of());
    }

    /** The environment named {@code name}; else a one-line error offering the closest name (or listing them). */
    public Environment environment(String name) {
        return environments.stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow(() -> {
            List<String> names = environments.stream().map(Environment::name).toList();
            String hint = io.mlctl.util.Typos.didYouMean(name, names);
            return new MlctlException("no environment named '" + name + "'" + (hint.isEmpty() ? " (found: " + String.join(", ", names) + ")" : hint));
        });
    }

    /** The environments a command works on: the one named, or all of them. */
    public List<Environment> select(String name) {
        if (name != null) return List.of(environment(name));
        if (environments.isEmpty()) throw new MlctlException("no environments found (spec files end in .yaml or .yml)");
        return environments;
    }
}
