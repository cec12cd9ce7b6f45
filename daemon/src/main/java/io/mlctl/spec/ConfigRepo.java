package io.mlctl.spec;

import io.mlctl.MlctlException;
import java.util.List;

/** Every environment of a config repository, validated. */
public record ConfigRepo(List<Environment> environments) {
    public ConfigRepo {
        environments = List.copyOf(environments);
    }

    public Environment environment(String name) {
        return environments.stream().filter(e -> e.name().equals(name)).findFirst()
            .orElseThrow(() -> new MlctlException("no environment named '" + name + "' (found: "
                + String.join(", ", environments.stream().map(Environment::name).toList()) + ")"));
    }

    /** The environments a command works on: the one named, or all of them. */
    public List<Environment> select(String name) {
        if (name != null) return List.of(environment(name));
        if (environments.isEmpty()) throw new MlctlException("no environments found (spec files end in .yaml or .yml)");
        return environments;
    }
}
