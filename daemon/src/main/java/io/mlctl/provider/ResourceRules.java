package io.mlctl.provider;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * A cloud's facts about one resource kind that the planner needs. {@code replacePaths} are
 * attribute paths that cannot change in place: {@code cidr} at the top, or {@code subnets[].cidr}
 * for a field of any element of a list of named objects (elements are matched by {@code name}).
 * {@code components} name list attributes whose elements the plan shows, and replaces, on their
 * own ({@code subnets} → {@code network.ml-vpc.subnet.training}).
 */
public record ResourceRules(Set<String> replacePaths, java.util.Map<String, String> components) {
    private static final Pattern INDEX = Pattern.compile("\\[[^\\]]*\\]");

    public ResourceRules {
        replacePaths = Set.copyOf(replacePaths);
        components = java.util.Map.copyOf(components);
    }

    public ResourceRules(Set<String> replacePaths) {
        this(replacePaths, java.util.Map.of());
    }

    /** Whether a change at {@code path} (as the planner writes it, e.g. {@code subnets[training].cidr}) forces a replace. */
    public boolean forcesReplace(String path) {
        if (replacePaths.contains(path)) return true;
        return replacePaths.contains(INDEX.matcher(path).replaceAll("[]"));
    }
}
