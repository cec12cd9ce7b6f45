package io.mlctl.spec;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** One validated environment of the config repository. */
public record Environment(
    String name,
    Map<String, String> labels,
    Provider provider,
    String region,
    ApplyMode applyMode,
    boolean selfHeal,
    List<ResourceSpec> resources,
    SourcePosition position) {

    public enum ApplyMode { AUTO, MANUAL }

    public Environment {
        labels = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(labels));
        resources = List.copyOf(resources);
    }

    public Optional<ResourceSpec> resource(Address address) {
        return resources.stream().filter(r -> r.address().equals(address)).findFirst();
    }
}
