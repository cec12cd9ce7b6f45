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
    Optional<String> account,
    Optional<String> resourceGroup,
    ApplyMode applyMode,
    boolean selfHeal,
    /* spec.allowMassDelete: how many deletions a reviewer allowed past the mass-delete guard (0: none, MAX_VALUE: true). */
    int massDeleteAllowance,
    List<ResourceSpec> resources,
    /* spec.import: existing resources this environment takes over (terraform's import blocks). */
    List<Import> imports,
    SourcePosition position) {

    public enum ApplyMode { AUTO, MANUAL }

    /** Take over the existing resource {@code id} (the cloud's id, as {@code mlctl import} takes it) as {@code to}. */
    public record Import(Address to, String id, SourcePosition position) {
    }

    public Environment {
        labels = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(labels));
        resources = List.copyOf(resources);
        imports = List.copyOf(imports);
        java.util.Objects.requireNonNull(account, "account");
        java.util.Objects.requireNonNull(resourceGroup, "resourceGroup");
    }

    /** The same environment read in another region (a resource that lives where the spec no longer says). */
    public Environment inRegion(String other) {
        return new Environment(name, labels, provider, other, account, resourceGroup, applyMode, selfHeal, massDeleteAllowance, resources, imports, position);
    }

    /** The same environment also importing {@code id} as {@code to} ({@code mlctl import}); replaces an entry for {@code to}. */
    public Environment importing(Address to, String id, SourcePosition position) {
        List<Import> all = new java.util.ArrayList<>(imports.stream().filter(i -> !i.to().equals(to)).toList());
        all.add(new Import(to, id, position));
        return new Environment(name, labels, provider, region, account, resourceGroup, applyMode, selfHeal, massDeleteAllowance, resources, all, position);
    }

    /**
     * Why {@code account} cannot be one of {@code provider}'s: an AWS account id is 12 digits, a GCP
     * project id 6 to 30 lowercase letters, digits and hyphens, an Azure subscription a UUID.
     */
    public static Optional<String> accountProblem(Provider provider, String account) {
        return switch (provider) {
            case AWS -> account.matches("[0-9]{12}") ? Optional.empty()
                : Optional.of("account '" + account + "' is not an AWS account id (12 digits)");
            case GCP -> account.matches("[a-z][a-z0-9-]{4,28}[a-z0-9]") ? Optional.empty()
                : Optional.of("account '" + account + "' is not a GCP project id (6 to 30 lowercase letters, digits and hyphens, starting with a letter)");
            case AZURE -> account.matches("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}") ? Optional.empty()
                : Optional.of("account '" + account + "' is not an Azure subscription id (a UUID)");
        };
    }

    /** Whether the spec itself releases the mass-delete guard for a plan deleting {@code deletes} resources. */
    public boolean massDeleteAllowed(int deletes) {
        return deletes <= massDeleteAllowance;
    }

    /** A linear search: to look up many addresses, build {@link #resourcesByAddress()} once. */
    public Optional<ResourceSpec> resource(Address address) {
        return resources.stream().filter(r -> r.address().equals(address)).findFirst();
    }

    /** The declared resources by address (the first of a repeated address, as {@link #resource} finds it); a new map each call. */
    public Map<Address, ResourceSpec> resourcesByAddress() {
        Map<Address, ResourceSpec> out = new java.util.HashMap<>(resources.size() * 2);
        for (ResourceSpec r : resources) out.putIfAbsent(r.address(), r);
        return out;
    }
}
