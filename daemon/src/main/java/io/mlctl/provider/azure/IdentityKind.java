package io.mlctl.provider.azure;

import com.azure.resourcemanager.authorization.fluent.RoleAssignmentsClient;
import com.azure.resourcemanager.authorization.models.PrincipalType;
import com.azure.resourcemanager.authorization.models.RoleAssignmentCreateParameters;
import com.azure.resourcemanager.msi.fluent.UserAssignedIdentitiesClient;
import com.azure.resourcemanager.msi.fluent.models.IdentityInner;
import com.azure.resourcemanager.msi.models.IdentityUpdate;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.TagMarker;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * identity → a user-assigned managed identity {@code <identity>} in the environment's resource group
 * (marker and labels as its tags), and its grants as role assignments of built-in roles at the narrowest
 * scope ({@link IdentityGrants}). Inventory is one Resource Graph query per page of identities and one
 * more for all their role assignments (Graph's {@code authorizationresources} table, by principal id):
 * role assignments take no tags and are never read one by one.
 *
 * <p>Role assignments are named deterministically, so a resent or retried PUT is the same assignment;
 * the same principal, role and scope already assigned under another name ({@code RoleAssignmentExists})
 * is the grant already made. A principal made seconds ago may not have reached every Entra ID replica
 * ({@code PrincipalNotFound}): assignments say {@code principalType: ServicePrincipal}, which lets ARM
 * skip that lookup, and the error is retried. A grant on a resource that does not exist yet waits for it.
 */
final class IdentityKind implements AzureKind {
    static final String GRAPH_TYPE = "microsoft.managedidentity/userassignedidentities";

    @Override
    public ResourceType type() {
        return ResourceType.IDENTITY;
    }

    /** A managed identity's location is fixed (ARM refuses a PUT in another); grants and labels change in place. */
    @Override
    public ResourceRules rules() {
        return new ResourceRules(Set.of("region"));
    }

    private static UserAssignedIdentitiesClient identities(AzureClients cloud) {
        return cloud.msi().serviceClient().getUserAssignedIdentities();
    }

    private static RoleAssignmentsClient assignments(AzureClients cloud) {
        return cloud.authorization().roleServiceClient().getRoleAssignments();
    }

    /** What the identity is, as the spec writes it: region, labels, and the grants its role assignments make. */
    private static ObservedResource observed(Address address, String id, String location, Map<String, String> tags, List<Object> grants) {
        Map<String, Object> m = new TreeMap<>();
        if (!grants.isEmpty()) m.put("grants", grants);
        return new ObservedResource(address, id, AzureKind.attrs(location, m, tags), tags);
    }

    // ---- inventory ----

    /** The api-versions of a direct read (the SDK's own): identities, role assignments. */
    static final String IDENTITY_API = "2023-01-31";
    static final String ROLE_ASSIGNMENT_API = "2022-04-01";

    /**
     * One Graph page of the environment's identities and one query for all their role assignments.
     * Resource Graph lags ARM writes (seconds, sometimes more): with the listing on one page, an identity
     * of the spec Graph did not return is read directly (one GET), and so is each role assignment the spec
     * asks of a listed identity that Graph did not return (one GET of its deterministic id). At steady
     * state both are answered 404 only for what is still to be made.
     */
    @Override
    public Page list(AzureClients cloud, Environment env, Optional<String> pageToken) {
        AzureClients.GraphPage page = cloud.query("list managed identities", AzureKind.graphQuery(env, GRAPH_TYPE), pageToken);
        Map<Map<String, Object>, Address> owned = new LinkedHashMap<>();
        Set<Address> listed = new java.util.HashSet<>();
        for (Map<String, Object> row : page.rows()) {
            TagMarker.INSTANCE.owner(AzureKind.tags(row.get("tags")), env.name())
                .filter(a -> a.type() == ResourceType.IDENTITY && !a.isComponent() && a.name().equals(String.valueOf(row.get("name"))))
                .ifPresent(a -> {
                    owned.put(row, a);
                    listed.add(a);
                });
        }
        boolean onePage = pageToken.isEmpty() && page.skipToken().isEmpty();
        if (onePage) {
            for (ResourceSpec spec : env.resources()) {
                Address a = spec.address();
                if (a.type() != ResourceType.IDENTITY || a.isComponent() || listed.contains(a)) continue;
                cloud.getRaw("read managed identity " + a.name(), AzureKind.identityId(cloud, env, a.name()), IDENTITY_API)
                    .filter(r -> TagMarker.INSTANCE.owner(AzureKind.tags(r.get("tags")), env.name()).filter(a::equals).isPresent())
                    .ifPresent(r -> owned.put(r, a));
            }
        }
        Map<String, List<IdentityGrants.Row>> byPrincipal = new TreeMap<>();
        List<String> principals = new ArrayList<>();
        owned.keySet().forEach(r -> principal(r).ifPresent(principals::add));
        if (!principals.isEmpty()) {
            // One query for the role assignments of every identity on this page, whatever their scopes.
            for (Map<String, Object> row : cloud.queryAll("list role assignments", IdentityGrants.query(principals))) {
                String p = String.valueOf(AzureKind.properties(row).get("principalId")).toLowerCase(Locale.ROOT);
                IdentityGrants.row(row).ifPresent(r -> byPrincipal.computeIfAbsent(p, k -> new ArrayList<>()).add(r));
            }
        }
        List<ObservedResource> items = new ArrayList<>();
        IdentityGrants.Targets targets = owned.isEmpty() ? IdentityGrants.Targets.NONE
            : IdentityGrants.targets(cloud, env, byPrincipal.values().stream().flatMap(List::stream).toList());
        owned.forEach((row, address) -> items.add(observe(cloud, env, address, row,
            principal(row).map(p -> byPrincipal.getOrDefault(p.toLowerCase(Locale.ROOT), List.of())).orElse(List.of()), onePage, targets)));
        return new Page(items, page.skipToken());
    }

    /**
     * One identity (a Graph row or a GET, the same shape) with the grants its role assignments {@code listed} make; with
     * {@code direct}, also those the spec asks that Graph has not indexed yet (read by their deterministic ids).
     */
    private static ObservedResource observe(AzureClients cloud, Environment env, Address address, Map<String, Object> row,
                                            List<IdentityGrants.Row> listed, boolean direct, IdentityGrants.Targets targets) {
        List<IdentityGrants.Row> rows = new ArrayList<>(listed);
        if (direct) principal(row).ifPresent(p -> rows.addAll(notIndexedYet(cloud, env, address, p, rows, targets)));
        return observed(address, String.valueOf(row.get("id")), String.valueOf(row.get("location")), AzureKind.tags(row.get("tags")),
            IdentityGrants.grants(cloud, env, address, rows, targets));
    }

    /**
     * The identity {@code cloudId} ({@code .../Microsoft.ManagedIdentity/userAssignedIdentities/<name>}), observed as {@link #list}
     * observes one: one GET and one Graph query for its role assignments. It must be in the environment's resource group under
     * the address's name (list finds identities there by that name).
     */
    @Override
    public Optional<ObservedResource> read(AzureClients cloud, Environment env, Address address, String cloudId) {
        AzureKind.ArmRef ref = AzureKind.parseId(cloudId, "Microsoft.ManagedIdentity", "userAssignedIdentities").orElseThrow(() ->
            AzureKind.notAnId(address, cloudId, "a user-assigned managed identity", AzureKind.idForm("Microsoft.ManagedIdentity", "userAssignedIdentities")));
        String what = "managed identity " + ref.name();
        AzureKind.requireHere(cloud, env, address, ref, what);
        AzureKind.requireName(address, what, ref.name());
        return cloud.getRaw("read " + what, AzureKind.identityId(cloud, env, ref.name()), IDENTITY_API)
            .map(row -> {
                List<IdentityGrants.Row> rows = principal(row).map(p -> rows(cloud, p)).orElse(List.of());
                return observe(cloud, env, address, row, rows, true, IdentityGrants.targets(cloud, env, rows));
            });
    }

    /** {@code clientId} (what a workload names to get the identity's tokens) and {@code principalId} (what role assignments name). */
    @Override
    public Map<String, String> outputs(AzureClients cloud, Environment env, ObservedResource r) {
        IdentityInner i = get(cloud, groupOf(r.cloudId()), AzureKind.lastSegment(r.cloudId())).orElseThrow(() -> AzureKind.gone(r));
        Map<String, String> out = new TreeMap<>();
        if (i.clientId() != null) out.put("clientId", i.clientId().toString());
        if (i.principalId() != null) out.put("principalId", i.principalId().toString());
        return out;
    }

    /** The role assignments the spec asks of {@code address} that Graph did not list, read by their deterministic ids (those that exist). */
    private static List<IdentityGrants.Row> notIndexedYet(AzureClients cloud, Environment env, Address address, String principal, List<IdentityGrants.Row> listed,
                                                          IdentityGrants.Targets targets) {
        Set<IdentityGrants.Assignment> have = new LinkedHashSet<>();
        listed.forEach(r -> have.add(r.assignment()));
        List<IdentityGrants.Row> out = new ArrayList<>();
        Optional<ResourceSpec> spec = env.resources().stream().filter(s -> s.address().equals(address)).findFirst();
        if (spec.isEmpty()) return out;
        for (IdentityGrants.Assignment a : IdentityGrants.wanted(cloud, env, spec.get().attributes(), targets)) {
            if (have.contains(a)) continue;
            String id = a.scope() + "/providers/Microsoft.Authorization/roleAssignments/" + IdentityGrants.name(a, principal);
            cloud.getRaw("read role assignment " + a.roleName() + " on " + a.scope(), id, ROLE_ASSIGNMENT_API)
                .filter(r -> principal.equalsIgnoreCase(String.valueOf(AzureKind.properties(r).get("principalId"))))
                .flatMap(IdentityGrants::row).ifPresent(out::add);
        }
        return out;
    }

    private static Optional<String> principal(Map<String, Object> row) {
        Object p = AzureKind.properties(row).get("principalId");
        return p == null ? Optional.empty() : Optional.of(String.valueOf(p));
    }

    @Override
    public Optional<Existing> find(AzureClients cloud, Environment env, Address address, Optional<String> knownCloudId) {
        String group = knownCloudId.map(IdentityKind::groupOf).orElse(AzureKind.resourceGroup(env));
        String name = knownCloudId.map(AzureKind::lastSegment).orElse(address.name());
        return get(cloud, group, name).map(i -> new Existing(i.id(), "managed identity " + name + " (resource group " + group + ")", AzureKind.tags(i.tags())));
    }

    private static String groupOf(String id) {
        String[] s = id.split("/");
        for (int i = 0; i + 1 < s.length; i++) if (s[i].equalsIgnoreCase("resourceGroups")) return s[i + 1];
        throw new DriverException("not a resource id: " + id, false);
    }

    private static Optional<IdentityInner> get(AzureClients cloud, String group, String name) {
        return AzureErrors.find("read managed identity " + name, () -> identities(cloud).getByResourceGroup(group, name));
    }

    // ---- create, update, delete ----

    @Override
    public String create(AzureClients cloud, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        String name = d.address().name();
        IdentityInner inner = new IdentityInner().withLocation(env.region()).withTags(AzureKind.allTags(marker, d.attributes()));
        return AzureErrors.call("create managed identity " + name, () -> identities(cloud).createOrUpdate(AzureKind.resourceGroup(env), name, inner)).id();
    }

    /** Labels synced (an adopted identity), then every grant the spec makes; returns it as inventory would read it. */
    @Override
    @SuppressWarnings("unchecked")
    public ObservedResource complete(AzureClients cloud, Environment env, String cloudId, ResourceSpec d, Map<String, String> marker) {
        String group = groupOf(cloudId);
        String name = AzureKind.lastSegment(cloudId);
        IdentityInner identity = get(cloud, group, name)
            .orElseThrow(() -> new DriverException(d.address() + ": managed identity " + name + " is not visible yet", true));
        Map<String, String> tags = syncTags(cloud, group, name, AzureKind.tags(identity.tags()), marker, d.attributes());
        String principal = String.valueOf(identity.principalId());
        IdentityGrants.purposes(cloud, env, d.attributes(), IdentityGrants.targets(cloud, env, List.of())).forEach((a, why) -> assign(cloud, env, d.address(), a, principal, why));
        return observed(d.address(), identity.id(), identity.location(), tags, (List<Object>) d.attributes().getOrDefault("grants", List.of()));
    }

    private static Map<String, String> syncTags(AzureClients cloud, String group, String name, Map<String, String> now, Map<String, String> marker,
                                                Map<String, Object> want) {
        Optional<Map<String, String>> next = AzureKind.tagsAfterSync(now, marker, want);
        if (next.isEmpty()) return now;
        AzureErrors.call("update tags of managed identity " + name, () -> identities(cloud).update(group, name, new IdentityUpdate().withTags(next.get())));
        return next.get();
    }

    /**
     * Labels, then grants: the identity's role assignments as they are now (read through Graph, so one
     * made under another name is seen too) against those the spec asks; only the difference is assigned
     * or deleted. Assignments of this principal that mlctl does not make (another role, a scope outside
     * the environment) are left alone.
     */
    @Override
    @SuppressWarnings("unchecked")
    public ObservedResource update(AzureClients cloud, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        String group = groupOf(current.cloudId());
        String name = AzureKind.lastSegment(current.cloudId());
        Map<String, String> marker = TagMarker.INSTANCE.marker(env.name(), d.address());
        Map<String, String> tags = current.tags();
        if (changes.stream().anyMatch(c -> c.path().startsWith("tags"))) {
            // A PATCH of tags replaces them all: computed from the identity's tags as they are now, so nobody else's is dropped.
            Map<String, String> now = get(cloud, group, name).map(i -> AzureKind.tags(i.tags()))
                .orElseThrow(() -> new DriverException(d.address() + ": managed identity " + name + " no longer exists; run plan again", false));
            tags = syncTags(cloud, group, name, now, marker, d.attributes());
        }
        if (changes.stream().anyMatch(c -> c.path().startsWith("grants"))) {
            IdentityInner identity = get(cloud, group, name)
                .orElseThrow(() -> new DriverException(d.address() + ": managed identity " + name + " no longer exists; run plan again", false));
            String principal = String.valueOf(identity.principalId());
            List<IdentityGrants.Row> rows = rows(cloud, principal);
            IdentityGrants.Targets targets = IdentityGrants.targets(cloud, env, rows, current.attributes());
            Map<IdentityGrants.Assignment, String> want = IdentityGrants.purposes(cloud, env, d.attributes(), targets);
            Map<String, String> specScopes = IdentityGrants.specScopes(cloud, env, targets);
            Set<IdentityGrants.Assignment> have = new LinkedHashSet<>();
            for (IdentityGrants.Row r : rows) {
                if (!IdentityGrants.ours(cloud, env, r.assignment(), specScopes)) continue;
                have.add(r.assignment());
                if (!want.containsKey(r.assignment())) revoke(cloud, r);
            }
            // Graph lags writes: what inventory saw (read directly, maybe) and is no longer wanted goes by its own id too.
            for (IdentityGrants.Assignment a : IdentityGrants.wanted(cloud, env, current.attributes(), targets)) {
                if (want.containsKey(a) || have.contains(a)) continue;
                revoke(cloud, new IdentityGrants.Row(a.scope() + "/providers/Microsoft.Authorization/roleAssignments/" + IdentityGrants.name(a, principal), a));
            }
            want.forEach((a, why) -> {
                if (!have.contains(a)) assign(cloud, env, d.address(), a, principal, why);
            });
        }
        return observed(d.address(), current.cloudId(), String.valueOf(current.attributes().get("region")), tags,
            (List<Object>) d.attributes().getOrDefault("grants", List.of()));
    }

    /** Revokes the identity's grants (no assignment is left naming a deleted principal), then deletes it. */
    @Override
    public void delete(AzureClients cloud, Environment env, ObservedResource current) {
        String group = groupOf(current.cloudId());
        String name = AzureKind.lastSegment(current.cloudId());
        Optional<IdentityInner> identity = get(cloud, group, name);
        if (identity.isEmpty()) return;
        String principal = String.valueOf(identity.get().principalId());
        Map<String, IdentityGrants.Row> doomed = new LinkedHashMap<>();
        List<IdentityGrants.Row> rows = rows(cloud, principal);
        IdentityGrants.Targets targets = IdentityGrants.targets(cloud, env, rows, current.attributes());
        Map<String, String> specScopes = IdentityGrants.specScopes(cloud, env, targets);
        for (IdentityGrants.Row r : rows) {
            if (IdentityGrants.ours(cloud, env, r.assignment(), specScopes)) doomed.put(r.id().toLowerCase(Locale.ROOT), r);
        }
        // Graph lags writes by seconds: the assignments inventory saw are deleted by their own ids too.
        for (IdentityGrants.Assignment a : IdentityGrants.wanted(cloud, env, current.attributes(), targets)) {
            String id = a.scope() + "/providers/Microsoft.Authorization/roleAssignments/" + IdentityGrants.name(a, principal);
            doomed.putIfAbsent(id.toLowerCase(Locale.ROOT), new IdentityGrants.Row(id, a));
        }
        doomed.values().forEach(r -> revoke(cloud, r));
        try {
            identities(cloud).delete(group, name);
        } catch (RuntimeException e) {
            if (!AzureErrors.notFound(e)) throw AzureErrors.translate("delete managed identity " + name, e);
        }
    }

    // ---- role assignments ----

    /** The principal's role assignments, as Resource Graph lists them. */
    private static List<IdentityGrants.Row> rows(AzureClients cloud, String principal) {
        List<IdentityGrants.Row> out = new ArrayList<>();
        for (Map<String, Object> row : cloud.queryAll("list role assignments of " + principal, IdentityGrants.query(List.of(principal)))) {
            IdentityGrants.row(row).ifPresent(out::add);
        }
        return out;
    }

    private static void assign(AzureClients cloud, Environment env, Address address, IdentityGrants.Assignment a, String principal, String why) {
        String scope = a.scope();
        RoleAssignmentCreateParameters p = new RoleAssignmentCreateParameters()
            .withRoleDefinitionId(IdentityGrants.roleDefinitionId(cloud.subscription(), a.role())).withPrincipalId(principal)
            .withPrincipalType(PrincipalType.SERVICE_PRINCIPAL).withDescription("mlctl " + address + " of environment " + env.name() + ": " + why);
        try {
            assignments(cloud).create(MachineLearningWorkspace.strip(scope), IdentityGrants.name(a, principal), p);
        } catch (RuntimeException e) {
            // The same principal, role and scope under another name: the grant is there already.
            if (AzureErrors.code(e).filter("RoleAssignmentExists"::equals).isPresent()) return;
            if (AzureErrors.notFound(e)) {
                throw new DriverException("cannot grant " + why + " yet: " + scope + " does not exist (yet)", true, e);
            }
            throw AzureErrors.translate("assign role " + a.roleName() + " (" + why + ") on " + scope, e);
        }
    }

    private static void revoke(AzureClients cloud, IdentityGrants.Row r) {
        try {
            assignments(cloud).deleteById(MachineLearningWorkspace.strip(r.id()));
        } catch (RuntimeException e) {
            if (!AzureErrors.notFound(e)) throw AzureErrors.translate("delete role assignment " + r.assignment().roleName() + " on " + r.assignment().scope(), e);
        }
    }
}
