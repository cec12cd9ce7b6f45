package io.mlctl.provider;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * A cloud's facts about one resource kind that the planner needs. {@code replacePaths} are
 * attribute paths that cannot change in place: {@code cidr} at the top, or {@code subnets[].cidr}
 * for a field of any element of a list of named objects (elements are matched by {@code name}).
 * A forced change inside a component ({@code subnets[training].cidr}) replaces that component
 * ({@code network.ml-vpc.subnet.training}), not the whole resource.
 */
public record ResourceRules(Set<String> replacePaths) {
    private static final Pattern INDEX = Pattern.compile("\\[[^\\]]*\\]");

    public ResourceRules {
        replacePaths = Set.copyOf(replacePaths);
    }

    /** Whether a change at {@code path} (as the planner writes it, e.g. {@code subnets[training].cidr}) forces a replace. */
    public boolean forcesReplace(String path) {
        if (replacePaths.contains(path)) return true;
        return replacePaths.contains(INDEX.matcher(path).replaceAll("[]"));
    }
}
