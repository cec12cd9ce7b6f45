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
 * journal); the planner deletes them. {@code importing} are resources the spec's import list names,
 * read by their cloud id, that carry no marker yet: the planner takes them over.
 */
public record Inventory(String environment, Map<Address, ObservedResource> resources, List<ObservedResource> duplicates,
                        Map<Address, ObservedResource> importing) {
    public Inventory {
        resources = Collections.unmodifiableMap(new TreeMap<>(resources));
        duplicates = List.copyOf(duplicates);
        importing = Collections.unmodifiableMap(new TreeMap<>(importing));
    }

    public Inventory(String environment, Map<Address, ObservedResource> resources, List<ObservedResource> duplicates) {
        this(environment, resources, duplicates, Map.of());
    }

    public static Inventory empty(String environment) {
        return new Inventory(environment, Map.of(), List.of());
    }

    /** This inventory with the unmarked resources an import list names. */
    public Inventory withImports(Map<Address, ObservedResource> importing) {
        return new Inventory(environment, resources, duplicates, importing);
    }

    public Optional<ObservedResource> get(Address a) {
        return Optional.ofNullable(resources.get(a));
    }

    public int size() {
        return resources.size() + duplicates.size();
    }
}
