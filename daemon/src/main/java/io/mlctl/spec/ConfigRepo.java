package io.mlctl.spec;

import io.mlctl.MlctlException;
import java.util.List;

/**
 * Every environment of a config repository, validated, and its policy documents ({@code kind: Policy}), validated against
 * their schema; the policy package compiles their conditions.
 */
public record ConfigRepo(List<Environment> environments, List<YamlDocument> policyDocuments, List<PolicyTest> policyTests) {
    public ConfigRepo {
        environments = List.copyOf(environments);
        policyDocuments = List.copyOf(policyDocuments);
        policyTests = List.copyOf(policyTests);
    }

    public ConfigRepo(List<Environment> environments) {
        this(environments, List.of(), List.of());
    }

    /** A {@code kind: PolicyTest} document: its example environment (checked like a spec) and the document, for its expectations. */
    public record PolicyTest(String name, Environment environment, YamlDocument document) {
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
