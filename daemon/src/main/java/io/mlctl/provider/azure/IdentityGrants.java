package io.mlctl.provider.azure;

import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * An identity's grants as Azure role assignments of built-in roles, each at the narrowest scope Azure
 * can express, and back from the assignments Resource Graph lists. Never a subscription or resource
 * group scope:
 * <ul>
 * <li>{@code storage.read} → Storage Blob Data Reader on the bucket's blob container;</li>
 * <li>{@code storage.write} and {@code storage.delete} → Storage Blob Data Contributor on the container:
 * Azure has no built-in role that writes blobs without deleting them, nor one that deletes without
 * writing, so either action grants both (the grant reads back as what the spec asked of the two);</li>
 * <li>{@code endpoint.invoke} → AzureML Data Scientist on the online endpoint: with key authentication a
 * caller needs the endpoint's {@code listKeys} action (and {@code score} for Entra tokens); this is the
 * narrowest built-in role holding them, and at the endpoint's scope it reaches only that endpoint;</li>
 * <li>{@code kubernetes.access} → Azure Kubernetes Service Cluster User Role on the cluster (read it and
 * list its user kubeconfig; what the user may do inside is the cluster's RBAC);</li>
 * <li>{@code instance.read} → Reader on the virtual machine.</li>
 * </ul>
 * Role assignments take no tags: an assignment is this identity's when its principal is the identity's
 * and its role and scope are one of the above inside the environment's resource group. Its name is a
 * name-based UUID of scope, role and principal, so a retried or resent PUT names the same assignment.
 */
final class IdentityGrants {
    // Built-in role definition ids (the same GUIDs in every subscription and cloud), from Azure's
    // "Azure built-in roles" reference: Storage, Containers, AI + machine learning, General.
    /** Storage Blob Data Reader: read containers and blobs. */
    static final String BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
    /** Storage Blob Data Contributor: read, write and delete containers and blobs. */
    static final String BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    /** AzureML Data Scientist: every workspace action except compute and workspace changes (endpoint listKeys and score among them). */
    static final String ML_DATA_SCIENTIST = "f6c7c914-8db3-469d-8ca1-694a8f32e121";
    /** Azure Kubernetes Service Cluster User Role: read the managed cluster, list its user credential. */
    static final String AKS_USER = "4abbcc35-e782-43d8-92c5-2d3f1bd2253f";
    /** Reader: read everything at the scope. */
    static final String READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

    static final Map<String, String> ROLE_NAMES = Map.of(BLOB_READER, "Storage Blob Data Reader", BLOB_CONTRIBUTOR, "Storage Blob Data Contributor",
        ML_DATA_SCIENTIST, "AzureML Data Scientist", AKS_USER, "Azure Kubernetes Service Cluster User Role", READER, "Reader");

    private static final Pattern CONTAINER = Pattern.compile(
        "/providers/Microsoft\\.Storage/storageAccounts/([^/]+)/blobServices/default/containers/([^/]+)", Pattern.CASE_INSENSITIVE);
    private static final Pattern VM = Pattern.compile("/providers/Microsoft\\.Compute/virtualMachines/([^/]+)", Pattern.CASE_INSENSITIVE);
    private static final Pattern CLUSTER = Pattern.compile("/providers/Microsoft\\.ContainerService/managedClusters/([^/]+)", Pattern.CASE_INSENSITIVE);
    private static final Pattern ENDPOINT = Pattern.compile(
        "/providers/Microsoft\\.MachineLearningServices/workspaces/([^/]+)/onlineEndpoints/([^/]+)", Pattern.CASE_INSENSITIVE);

    private IdentityGrants() {
    }

    /** One role at one scope: the unit Azure assigns. Compared without case, as ARM compares ids. */
    record Assignment(String scope, String role) {
        Assignment {
            role = role.toLowerCase(Locale.ROOT);
        }

        String key() {
            return scope.toLowerCase(Locale.ROOT) + "|" + role;
        }

        String roleName() {
            return ROLE_NAMES.getOrDefault(role, role);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Assignment a && a.key().equals(key());
        }

        @Override
        public int hashCode() {
            return key().hashCode();
        }
    }

    static String role(String action) {
        return switch (action) {
            case "storage.read" -> BLOB_READER;
            case "storage.write", "storage.delete" -> BLOB_CONTRIBUTOR;
            case "endpoint.invoke" -> ML_DATA_SCIENTIST;
            case "kubernetes.access" -> AKS_USER;
            case "instance.read" -> READER;
            default -> throw new IllegalArgumentException("unknown action " + action);
        };
    }

    /**
     * Where the environment's buckets and endpoints are when not under the names mlctl derives for those it makes (one
     * imported: any storage account or workspace, any endpoint name), as grant references to scope ids. Found by their markers
     * in one Resource Graph query, made only when an identity of the spec grants on a bucket or endpoint; Graph lagging a
     * fresh import gives the derived scope, whose grant then waits (a retryable "does not exist yet") until Graph shows it.
     */
    record Targets(Map<String, String> ids) {
        static final Targets NONE = new Targets(Map.of());
    }

    /**
     * The {@link Targets} of the environment, when the spec's identities or {@code also} (an identity as inventory saw it) grant
     * on a bucket or endpoint, or one of {@code rows} (role assignments read) is on a blob container or an online endpoint.
     */
    @SafeVarargs
    @SuppressWarnings("unchecked")
    static Targets targets(AzureClients cloud, Environment env, List<Row> rows, Map<String, Object>... also) {
        boolean granted = Stream.concat(env.resources().stream().filter(s -> s.address().type() == ResourceType.IDENTITY).map(ResourceSpec::attributes),
                Stream.of(also))
            .flatMap(a -> ((List<Object>) a.getOrDefault("grants", List.of())).stream())
            .map(g -> String.valueOf(((Map<String, Object>) g).get("resource")))
            .anyMatch(r -> r.startsWith("bucket/") || r.startsWith("inference_endpoint/"));
        boolean assigned = rows.stream().map(r -> r.assignment().scope()).anyMatch(x -> whole(CONTAINER, x) || whole(ENDPOINT, x));
        if (!granted && !assigned) return Targets.NONE;
        String query = "resources | where type in~ ('" + BucketKind.ARM_TYPE + "', '" + EndpointKind.GRAPH_ENDPOINTS + "') | where resourceGroup =~ '"
            + AzureKind.resourceGroup(env) + "' | where tags['" + io.mlctl.inventory.Ownership.ENVIRONMENT_TAG + "'] == '" + env.name() + "' | order by id asc";
        Map<String, String> out = new TreeMap<>();
        for (Map<String, Object> row : cloud.queryAll("list the buckets and endpoints grants name", query)) {
            String id = String.valueOf(row.get("id"));
            io.mlctl.provider.TagMarker.INSTANCE.owner(AzureKind.tags(row.get("tags")), env.name()).filter(a -> !a.isComponent()).ifPresent(a -> {
                if (a.type() == ResourceType.BUCKET) out.put("bucket/" + a.name(), id + "/blobServices/default/containers/" + a.name());
                if (a.type() == ResourceType.INFERENCE_ENDPOINT) out.put("inference_endpoint/" + a.name(), id);
            });
        }
        return new Targets(out);
    }

    /** The ARM id a grant on {@code type/name} of the environment is scoped to. */
    static String scope(AzureClients cloud, Environment env, String reference, Targets targets) {
        String found = targets.ids().get(reference);
        if (found != null) return found;
        String type = reference.substring(0, reference.indexOf('/'));
        String name = reference.substring(reference.indexOf('/') + 1);
        return switch (type) {
            case "bucket" -> AzureKind.resourceId(cloud, env, "Microsoft.Storage/storageAccounts", AzureKind.storageAccountName(cloud.subscription(), env, name))
                + "/blobServices/default/containers/" + name;
            case "instance" -> AzureKind.resourceId(cloud, env, "Microsoft.Compute/virtualMachines", name);
            case "kubernetes_cluster" -> AzureKind.resourceId(cloud, env, "Microsoft.ContainerService/managedClusters", name);
            case "inference_endpoint" -> MachineLearningWorkspace.endpointId(cloud, env, name);
            default -> throw new IllegalArgumentException("no grants on " + reference);
        };
    }

    private static boolean whole(Pattern p, String scope) {
        Matcher m = p.matcher(scope);
        return m.find() && m.end() == scope.length();
    }

    /** {@code /subscriptions/<s>/providers/Microsoft.Authorization/roleDefinitions/<guid>}. */
    static String roleDefinitionId(String subscription, String role) {
        return "/subscriptions/" + subscription + "/providers/Microsoft.Authorization/roleDefinitions/" + role;
    }

    /** The assignment's name: a UUID derived from scope, role and principal, so every attempt names the same one. */
    static String name(Assignment a, String principalId) {
        return UUID.nameUUIDFromBytes((a.key() + "|" + principalId.toLowerCase(Locale.ROOT)).getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** The assignments a spec's grants need (attrs without grants: none). */
    @SuppressWarnings("unchecked")
    static Set<Assignment> wanted(AzureClients cloud, Environment env, Map<String, Object> attrs, Targets targets) {
        Set<Assignment> out = new LinkedHashSet<>();
        for (Object o : (List<Object>) attrs.getOrDefault("grants", List.of())) {
            Map<String, Object> g = (Map<String, Object>) o;
            String scope = scope(cloud, env, (String) g.get("resource"), targets);
            for (Object a : (List<Object>) g.get("actions")) out.add(new Assignment(scope, role((String) a)));
        }
        return out;
    }

    /** What each wanted assignment is for, to name it in messages: "storage.read on bucket/data". */
    @SuppressWarnings("unchecked")
    static Map<Assignment, String> purposes(AzureClients cloud, Environment env, Map<String, Object> attrs, Targets targets) {
        Map<Assignment, String> out = new java.util.LinkedHashMap<>();
        for (Object o : (List<Object>) attrs.getOrDefault("grants", List.of())) {
            Map<String, Object> g = (Map<String, Object>) o;
            String ref = (String) g.get("resource");
            String scope = scope(cloud, env, ref, targets);
            for (Object a : (List<Object>) g.get("actions")) out.merge(new Assignment(scope, role((String) a)), a + " on " + ref, (x, y) -> x + ", " + y);
        }
        return out;
    }

    /** A role assignment as Resource Graph (or ARM) lists it: its id, and the assignment it makes. */
    record Row(String id, Assignment assignment) {
    }

    /** The rows' assignments, from {@code properties.scope} and {@code properties.roleDefinitionId}. */
    static Optional<Row> row(Map<String, Object> row) {
        Map<String, Object> p = AzureKind.properties(row);
        Object scope = p.get("scope");
        Object definition = p.get("roleDefinitionId");
        if (scope == null || definition == null) return Optional.empty();
        return Optional.of(new Row(String.valueOf(row.get("id")), new Assignment(String.valueOf(scope), AzureKind.lastSegment(String.valueOf(definition)))));
    }

    /**
     * The grant reference an assignment stands for, when it is one mlctl makes: a role of the table above,
     * at a scope of its kind inside the environment's resource group. Names come from the spec where a
     * resource of the spec has that scope, else from the scope itself (a resource no longer in the spec).
     */
    static Optional<String> reference(AzureClients cloud, Environment env, Assignment a, Map<String, String> specScopes) {
        String scope = a.scope();
        String group = AzureKind.groupId(cloud, env).toLowerCase(Locale.ROOT) + "/";
        if (!scope.toLowerCase(Locale.ROOT).startsWith(group)) return Optional.empty();
        String known = specScopes.get(scope.toLowerCase(Locale.ROOT));
        Matcher m;
        if ((m = CONTAINER.matcher(scope)).find() && m.end() == scope.length()) {
            if (!a.role().equals(BLOB_READER) && !a.role().equals(BLOB_CONTRIBUTOR)) return Optional.empty();
            if (known != null) return Optional.of(known);
            boolean ourAccount = m.group(1).equalsIgnoreCase(AzureKind.storageAccountName(cloud.subscription(), env, m.group(2)));
            return ourAccount ? Optional.of("bucket/" + m.group(2)) : Optional.empty();
        }
        if ((m = VM.matcher(scope)).find() && m.end() == scope.length()) {
            return a.role().equals(READER) ? Optional.of(known != null ? known : "instance/" + m.group(1)) : Optional.empty();
        }
        if ((m = CLUSTER.matcher(scope)).find() && m.end() == scope.length()) {
            return a.role().equals(AKS_USER) ? Optional.of(known != null ? known : "kubernetes_cluster/" + m.group(1)) : Optional.empty();
        }
        if ((m = ENDPOINT.matcher(scope)).find() && m.end() == scope.length()) {
            if (!a.role().equals(ML_DATA_SCIENTIST)) return Optional.empty();
            if (known != null) return Optional.of(known); // an imported endpoint's, in a workspace of its own
            if (!m.group(1).equalsIgnoreCase(MachineLearningWorkspace.name(env))) return Optional.empty();
            return Optional.of("inference_endpoint/" + m.group(2));
        }
        return Optional.empty();
    }

    /** Every grantable resource of the spec by its scope (lowercase), to name assignments as the spec does. */
    static Map<String, String> specScopes(AzureClients cloud, Environment env, Targets targets) {
        Map<String, String> out = new TreeMap<>();
        for (ResourceSpec s : env.resources()) {
            ResourceType t = s.address().type();
            if (t == ResourceType.BUCKET || t == ResourceType.INSTANCE || t == ResourceType.KUBERNETES_CLUSTER || t == ResourceType.INFERENCE_ENDPOINT) {
                String ref = t.id() + "/" + s.address().name();
                out.put(scope(cloud, env, ref, targets).toLowerCase(Locale.ROOT), ref);
            }
        }
        return out;
    }

    /**
     * The grants an identity's assignments make, as the spec writes them (sorted by resource). Storage
     * Blob Data Contributor reads back as the spec's write and delete actions on that bucket (both when the
     * spec asks neither, so it shows as a grant to revoke).
     */
    @SuppressWarnings("unchecked")
    static List<Object> grants(AzureClients cloud, Environment env, Address identity, List<Row> rows, Targets targets) {
        Map<String, String> specScopes = specScopes(cloud, env, targets);
        Map<String, Set<String>> asked = new TreeMap<>();
        env.resources().stream().filter(s -> s.address().equals(identity)).findFirst().ifPresent(s -> {
            for (Object o : (List<Object>) s.attributes().getOrDefault("grants", List.of())) {
                Map<String, Object> g = (Map<String, Object>) o;
                asked.put((String) g.get("resource"), new TreeSet<>((List<String>) g.get("actions")));
            }
        });
        Map<String, TreeSet<String>> byRef = new TreeMap<>();
        for (Row r : rows) {
            Optional<String> ref = reference(cloud, env, r.assignment(), specScopes);
            if (ref.isEmpty()) continue;
            TreeSet<String> actions = byRef.computeIfAbsent(ref.get(), k -> new TreeSet<>());
            switch (r.assignment().role()) {
                case BLOB_READER -> actions.add("storage.read");
                case BLOB_CONTRIBUTOR -> {
                    Set<String> both = new TreeSet<>(Set.of("storage.write", "storage.delete"));
                    Set<String> want = new TreeSet<>(asked.getOrDefault(ref.get(), Set.of()));
                    want.retainAll(both);
                    actions.addAll(want.isEmpty() ? both : want);
                }
                case ML_DATA_SCIENTIST -> actions.add("endpoint.invoke");
                case AKS_USER -> actions.add("kubernetes.access");
                case READER -> actions.add("instance.read");
                default -> { }
            }
        }
        List<Object> out = new ArrayList<>();
        byRef.forEach((ref, actions) -> {
            Map<String, Object> g = new TreeMap<>();
            g.put("resource", ref);
            g.put("actions", new ArrayList<>(actions));
            out.add(g);
        });
        return out;
    }

    /** Whether an assignment is one mlctl makes for grants of this environment (so it may revoke it). */
    static boolean ours(AzureClients cloud, Environment env, Assignment a, Map<String, String> specScopes) {
        return reference(cloud, env, a, specScopes).isPresent();
    }

    /** The Resource Graph query for the role assignments of {@code principals}, in a stable order. */
    static String query(List<String> principals) {
        StringBuilder in = new StringBuilder();
        for (String p : principals) {
            if (!in.isEmpty()) in.append(", ");
            in.append('\'').append(p.replace("'", "")).append('\'');
        }
        return "authorizationresources | where type =~ 'microsoft.authorization/roleassignments' | where properties.principalId in~ (" + in
            + ") | order by id asc";
    }
}
