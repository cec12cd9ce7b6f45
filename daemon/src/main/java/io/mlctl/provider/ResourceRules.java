package io.mlctl.provider;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * A cloud's facts about one resource kind that the planner needs. {@code replacePaths} are
 * attribute paths that cannot change in place: {@code cidr} at the top, or {@code subnets[].cidr}
 * for a field of any element of a list of named objects (elements are matched by {@code name}).
 * A forced change inside a component ({@code subnets[training].cidr}) replaces that component
 * ({@code network.ml-vpc.subnet.training}), not the whole resource. {@code computedPaths} are
 * values the cloud picks when the spec leaves them out; {@code networkWideFields} see {@link #networkWide};
 * {@code unsupportedPaths} are attributes this kind cannot hold on this cloud (labels on a GCE network,
 * which takes none): never a difference, so never a perpetual update.
 */
public record ResourceRules(Set<String> replacePaths, Set<String> computedPaths, Set<String> networkWideFields, Set<String> unsupportedPaths) {
    private static final Pattern INDEX = Pattern.compile("\\[[^\\]]*\\]");

    public ResourceRules {
        replacePaths = Set.copyOf(replacePaths);
        computedPaths = Set.copyOf(computedPaths);
        networkWideFields = Set.copyOf(networkWideFields);
        unsupportedPaths = Set.copyOf(unsupportedPaths);
    }

    public ResourceRules(Set<String> replacePaths, Set<String> computedPaths, Set<String> networkWideFields) {
        this(replacePaths, computedPaths, networkWideFields, Set.of());
    }

    /** The same rules, with {@code paths} (e.g. {@code tags}) not held by this kind on this cloud. */
    public ResourceRules without(Set<String> paths) {
        return new ResourceRules(replacePaths, computedPaths, networkWideFields, paths);
    }

    /** Whether this kind cannot hold the attribute at {@code path} here: the planner never compares it. */
    public boolean unsupported(String path) {
        return unsupportedPaths.contains(path) || unsupportedPaths.contains(INDEX.matcher(path).replaceAll("[]"));
    }

    public ResourceRules(Set<String> replacePaths) {
        this(replacePaths, Set.of(), Set.of());
    }

    public ResourceRules(Set<String> replacePaths, Set<String> computedPaths) {
        this(replacePaths, computedPaths, Set.of());
    }

    /**
     * Whether a {@code subnet: network/subnet} reference in {@code field} puts the resource in every
     * subnet of that network, not only the named one (an EKS control plane spans them all): then
     * replacing or removing any of them replaces it too.
     */
    public boolean networkWide(String field) {
        return networkWideFields.contains(field);
    }

    /**
     * Whether the cloud chooses a value at {@code path} when the spec leaves it out (a subnet's zone):
     * then a value the spec does not give is no difference, and naming the value the cloud chose is none either.
     */
    public boolean computed(String path) {
        return computedPaths.contains(path) || computedPaths.contains(INDEX.matcher(path).replaceAll("[]"));
    }

    /** Whether a change at {@code path} (as the planner writes it, e.g. {@code subnets[training].cidr}) forces a replace. */
    public boolean forcesReplace(String path) {
        if (replacePaths.contains(path)) return true;
        return replacePaths.contains(INDEX.matcher(path).replaceAll("[]"));
    }
}
