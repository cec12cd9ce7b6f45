package io.mlctl.plan;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a plan was computed from: a hash of the environment's spec and of the inventory it saw, plus
 * one hash per resource so a stale plan can say which resources changed.
 */
public record Fingerprints(String spec, String inventory, Map<String, String> specResources, Map<String, String> inventoryResources) {
    public Fingerprints {
        specResources = Collections.unmodifiableMap(new TreeMap<>(specResources));
        inventoryResources = Collections.unmodifiableMap(new TreeMap<>(inventoryResources));
    }
}
