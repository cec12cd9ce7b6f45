package io.mlctl.inventory;

import io.mlctl.spec.Address;
import io.mlctl.spec.Values;
import java.util.Map;
import java.util.TreeMap;

/**
 * A resource as the cloud reports it: its address (from the ownership tags), the cloud's id, the
 * attributes the plan compares, and its tags.
 */
public record ObservedResource(Address address, String cloudId, Map<String, Object> attributes, Map<String, String> tags) {
    public ObservedResource {
        attributes = Values.freezeMap(attributes);
        tags = java.util.Collections.unmodifiableMap(new TreeMap<>(tags));
    }
}
