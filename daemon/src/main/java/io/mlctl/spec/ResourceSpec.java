package io.mlctl.spec;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A desired resource: normalized attributes (defaults applied, references kept as written) and the
 * addresses it depends on.
 */
public record ResourceSpec(Address address, Map<String, Object> attributes, Set<Address> dependencies, SourcePosition position) {
    public ResourceSpec {
        attributes = Values.freezeMap(attributes);
        dependencies = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(dependencies));
    }
}
