package io.mlctl.inventory;

import io.mlctl.spec.Address;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Everything one environment owns in its cloud, by address. {@code duplicates} are further owned
 * resources claiming an address already taken (left by a create that was retried outside mlctl's
 * journal); the planner deletes them.
 */
public record Inventory(String environment, Map<Address, ObservedResource> resources, List<ObservedResource> duplicates) {
    public Inventory {
        resources = Collections.unmodifiableMap(new TreeMap<>(resources));
        duplicates = List.copyOf(duplicates);
    }

    public static Inventory empty(String environment) {
        return new Inventory(environment, Map.of(), List.of());
    }

    public Optional<ObservedResource> get(Address a) {
        return Optional.ofNullable(resources.get(a));
    }

    public int size() {
        return resources.size() + duplicates.size();
    }
}
