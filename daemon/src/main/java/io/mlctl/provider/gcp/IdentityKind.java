package io.mlctl.provider.gcp;

import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.Binding;
import com.google.cloud.storage.Bucket;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageException;
import com.google.iam.admin.v1.CreateRoleRequest;
import com.google.iam.admin.v1.CreateServiceAccountRequest;
import com.google.iam.admin.v1.GetRoleRequest;
import com.google.iam.admin.v1.ListServiceAccountsRequest;
import com.google.iam.admin.v1.ListServiceAccountsResponse;
import com.google.iam.admin.v1.PatchServiceAccountRequest;
import com.google.iam.admin.v1.Role;
import com.google.iam.admin.v1.ServiceAccount;
import com.google.iam.admin.v1.UndeleteRoleRequest;
import com.google.iam.v1.GetIamPolicyRequest;
import com.google.iam.v1.GetPolicyOptions;
import com.google.iam.v1.Policy;
import com.google.iam.v1.SetIamPolicyRequest;
import com.google.protobuf.FieldMask;
import com.google.type.Expr;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * identity → a service account {@code <env>-<name>} (cut to 30 characters with a hash, see
 * {@link GcpKind#serviceAccountId}), whose description carries the ownership marker (service
 * accounts take no labels), and its grants as IAM bindings for {@code serviceAccount:<email>} at
 * the narrowest scope GCP can express:
 * <ul>
 * <li>{@code storage.read} → {@code roles/storage.objectViewer} on the bucket (get and list objects);
 * {@code storage.write} → {@code roles/storage.objectCreator} on the bucket (create objects; replacing
 * an existing object also needs {@code storage.delete}, as GCS checks delete for an overwrite);
 * {@code storage.delete} → the custom role {@code projects/<p>/roles/mlctlObjectDeleter}
 * ({@code storage.objects.delete} only; no predefined role deletes without also reading and writing)
 * on the bucket. Never a project-wide storage role.</li>
 * <li>{@code kubernetes.access} → {@code roles/container.clusterViewer} on the project under the IAM
 * Condition {@code resource.name.endsWith("/clusters/<cluster>")}: get the cluster and its
 * credentials, as AWS's eks:DescribeCluster; what it may do inside is the cluster's RBAC.</li>
 * <li>{@code instance.read} → {@code roles/compute.viewer} on the project under the Condition
 * {@code resource.name.endsWith("/instances/<instance>")}: read that instance only.</li>
 * <li>{@code endpoint.invoke} → the custom role {@code projects/<p>/roles/mlctlEndpointInvoker}
 * ({@code aiplatform.endpoints.predict} only) on the project, without condition: Vertex AI does not
 * evaluate resource names in IAM Conditions, so this is prediction on every endpoint of the
 * project, the narrowest Vertex AI allows (as AWS's instance.read is account-wide). Read back, it
 * stands for each endpoint the spec grants; with none granted it shows as
 * {@code inference_endpoint/*}, so it is revoked.</li>
 * </ul>
 * Only this member's bindings of these roles (and, on the project, only conditional bindings mlctl
 * titled) are ever changed; other members of the same role, and other roles the account holds, stay.
 * Policies are read-modify-written with their etag (version 3), read again on a concurrent change.
 * The two custom roles are made in the project when first needed, shared by every environment and
 * never deleted by mlctl.
 */
final class IdentityKind implements GcpKind {
    static final String DELETER_ROLE = "mlctlObjectDeleter";
    static final String INVOKER_ROLE = "mlctlEndpointInvoker";
    static final Map<String, List<String>> CUSTOM_ROLES = Map.of(
        DELETER_ROLE, List.of("storage.objects.delete"),
        INVOKER_ROLE, List.of("aiplatform.endpoints.predict"));
    static final String READ_ROLE = "roles/storage.objectViewer";
    static final String WRITE_ROLE = "roles/storage.objectCreator";
    static final String CLUSTER_ROLE = "roles/container.clusterViewer";
    static final String INSTANCE_ROLE = "roles/compute.viewer";
    private static final int ATTEMPTS = 5;
    private static final Pattern TITLE = Pattern.compile("mlctl (kubernetes_cluster|instance)/([a-z][a-z0-9-]*) in ([a-z0-9-]+)");

    @Override
    public ResourceType type() {
        return ResourceType.IDENTITY;
    }

    /** Service accounts are global and take no labels: the environment's labels are not compared. */
    @Override
    public ResourceRules rules() {
        return new ResourceRules(Set.of()).without(Set.of("tags"));
    }

    static String member(String email) {
        return "serviceAccount:" + email;
    }

    static String customRole(String project, String id) {
        return "projects/" + project + "/roles/" + id;
    }

    // ---- grants as bindings ----

    /** A bucket role one storage action maps to. */
    static String bucketRole(String project, String action) {
        return switch (action) {
            case "storage.read" -> READ_ROLE;
            case "storage.write" -> WRITE_ROLE;
            case "storage.delete" -> customRole(project, DELETER_ROLE);
            default -> throw new IllegalArgumentException(action);
        };
    }

    static Optional<String> bucketAction(String project, String role) {
        if (role.equals(READ_ROLE)) return Optional.of("storage.read");
        if (role.equals(WRITE_ROLE)) return Optional.of("storage.write");
        if (role.equals(customRole(project, DELETER_ROLE))) return Optional.of("storage.delete");
        return Optional.empty();
    }

    /** A project binding: a role, under a condition or none. */
    record ProjectBinding(String role, Optional<Expr> condition) {
    }

    /** The project binding a grant on a cluster, instance or endpoint makes. */
    static ProjectBinding projectBinding(String project, Environment env, String action, String name) {
        return switch (action) {
            case "kubernetes.access" -> new ProjectBinding(CLUSTER_ROLE, Optional.of(condition(env, "kubernetes_cluster", name,
                "resource.name.endsWith(\"/clusters/" + GcpKind.clusterName(env, name) + "\")")));
            case "instance.read" -> new ProjectBinding(INSTANCE_ROLE, Optional.of(condition(env, "instance", name,
                "resource.name.endsWith(\"/instances/" + GcpKind.physicalName(env, name) + "\")")));
            case "endpoint.invoke" -> new ProjectBinding(customRole(project, INVOKER_ROLE), Optional.empty());
            default -> throw new IllegalArgumentException(action);
        };
    }

    private static Expr condition(Environment env, String type, String name, String expression) {
        return Expr.newBuilder().setTitle("mlctl " + type + "/" + name + " in " + env.name())
            .setDescription("granted by mlctl environment " + env.name()).setExpression(expression).build();
    }

    /** Whether a project binding is one mlctl makes (so our member in it is ours to add or remove). */
    static boolean mlctlProjectBinding(String project, com.google.iam.v1.Binding b) {
        if (b.hasCondition()) {
            return (b.getRole().equals(CLUSTER_ROLE) || b.getRole().equals(INSTANCE_ROLE)) && b.getCondition().getTitle().startsWith("mlctl ");
        }
        return b.getRole().equals(customRole(project, INVOKER_ROLE));
    }

    /** What the spec's grants need: roles per bucket, and project bindings. */
    record Wanted(Map<String, Set<String>> bucketRoles, Set<ProjectBinding> project) {
    }

    @SuppressWarnings("unchecked")
    static Wanted wanted(String project, Environment env, Map<String, Object> attrs) {
        Map<String, Set<String>> buckets = new TreeMap<>();
        Set<ProjectBinding> proj = new LinkedHashSet<>();
        for (Object o : (List<Object>) attrs.getOrDefault("grants", List.of())) {
            Map<String, Object> g = (Map<String, Object>) o;
            String ref = (String) g.get("resource");
            String name = ref.substring(ref.indexOf('/') + 1);
            for (Object a : (List<Object>) g.get("actions")) {
                String action = (String) a;
                if (action.startsWith("storage.")) buckets.computeIfAbsent(name, k -> new TreeSet<>()).add(bucketRole(project, action));
                else proj.add(projectBinding(project, env, action, name));
            }
        }
        return new Wanted(buckets, proj);
    }

    /** The custom roles the grants bind. */
    @SuppressWarnings("unchecked")
    static Set<String> customRolesNeeded(Map<String, Object> attrs) {
        Set<String> out = new TreeSet<>();
        for (Object o : (List<Object>) attrs.getOrDefault("grants", List.of())) {
            for (Object a : (List<Object>) ((Map<String, Object>) o).get("actions")) {
                if ("storage.delete".equals(a)) out.add(DELETER_ROLE);
                if ("endpoint.invoke".equals(a)) out.add(INVOKER_ROLE);
            }
        }
        return out;
    }

    /**
     * The grants back from the policies: bucket bindings (unconditional, of the three storage roles),
     * the project's mlctl-titled conditional bindings whose expression is the one this environment
     * writes for that resource, and the invoker binding (read as the spec's endpoint grants, see the
     * class comment). Sorted by resource, as the spec normalizes them.
     */
    @SuppressWarnings("unchecked")
    static List<Object> grants(String project, Environment env, String email, Policy projectPolicy, Map<String, com.google.cloud.Policy> bucketPolicies,
                               Optional<ResourceSpec> spec) {
        Map<String, TreeSet<String>> byRef = new TreeMap<>();
        String member = member(email);
        bucketPolicies.forEach((bucket, policy) -> {
            for (Binding b : policy.getBindingsList()) {
                if (b.getCondition() != null || !b.getMembers().contains(member)) continue;
                bucketAction(project, b.getRole()).ifPresent(a -> byRef.computeIfAbsent("bucket/" + bucket, k -> new TreeSet<>()).add(a));
            }
        });
        boolean invoker = false;
        for (com.google.iam.v1.Binding b : projectPolicy.getBindingsList()) {
            if (!b.getMembersList().contains(member) || !mlctlProjectBinding(project, b)) continue;
            if (!b.hasCondition()) {
                invoker = true;
                continue;
            }
            Matcher m = TITLE.matcher(b.getCondition().getTitle());
            if (!m.matches() || !m.group(3).equals(env.name())) continue;
            String action = m.group(1).equals("instance") ? "instance.read" : "kubernetes.access";
            ProjectBinding expected = projectBinding(project, env, action, m.group(2));
            if (!expected.role().equals(b.getRole()) || !expected.condition().get().equals(b.getCondition())) continue; // edited: not this grant
            byRef.computeIfAbsent(m.group(1) + "/" + m.group(2), k -> new TreeSet<>()).add(action);
        }
        if (invoker) {
            List<String> endpoints = new ArrayList<>();
            spec.ifPresent(s -> {
                for (Object o : (List<Object>) s.attributes().getOrDefault("grants", List.of())) {
                    Map<String, Object> g = (Map<String, Object>) o;
                    if (((List<Object>) g.get("actions")).contains("endpoint.invoke")) endpoints.add((String) g.get("resource"));
                }
            });
            if (endpoints.isEmpty()) endpoints.add("inference_endpoint/*");
            for (String ref : endpoints) byRef.computeIfAbsent(ref, k -> new TreeSet<>()).add("endpoint.invoke");
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

    // ---- inventory ----

    @Override
    public Page list(GcpClients c, Environment env, Optional<String> pageToken) {
        // Every page of accounts first (one request each), so the policies are read once per inventory, not once per page.
        List<ServiceAccount> accounts = new ArrayList<>();
        String token = pageToken.orElse("");
        do {
            String from = token;
            ListServiceAccountsResponse r = GcpErrors.call("iam.serviceAccounts.list projects/" + c.project(), () -> c.iam().listServiceAccountsCallable()
                .call(ListServiceAccountsRequest.newBuilder().setName("projects/" + c.project()).setPageSize(100).setPageToken(from).build()));
            accounts.addAll(r.getAccountsList());
            token = r.getNextPageToken();
        } while (!token.isEmpty());
        Map<String, Address> owned = new LinkedHashMap<>();
        Map<String, Map<String, String>> markers = new LinkedHashMap<>();
        for (ServiceAccount sa : accounts) {
            Map<String, String> marker = GcpMarker.INSTANCE.fromDescription(sa.getDescription());
            Optional<Address> a = GcpMarker.INSTANCE.owner(marker, env.name())
                .filter(x -> x.type() == ResourceType.IDENTITY && !x.isComponent()
                    && sa.getEmail().equals(GcpKind.serviceAccountEmail(c.project(), GcpKind.serviceAccountId(env, x.name()))));
            if (a.isEmpty()) continue;
            owned.put(sa.getEmail(), a.get());
            markers.put(sa.getEmail(), marker);
        }
        List<ObservedResource> items = new ArrayList<>();
        if (!owned.isEmpty()) {
            // One project policy read, and the policy of each of the environment's buckets (found by one bucket list).
            Policy projectPolicy = projectPolicy(c);
            Map<String, com.google.cloud.Policy> bucketPolicies = new TreeMap<>();
            bucketPolicies.putAll(bucketPolicies(c, environmentBuckets(c, env)));
            owned.forEach((email, address) -> items.add(observe(c, env, address, email, markers.get(email), projectPolicy, bucketPolicies)));
        }
        return new Page(items, Optional.empty());
    }

    /** One account as inventory (and import) shows it: its grants as read from the policies, and its marker. */
    private static ObservedResource observe(GcpClients c, Environment env, Address address, String email, Map<String, String> marker,
                                            Policy projectPolicy, Map<String, com.google.cloud.Policy> bucketPolicies) {
        Map<String, Object> attrs = new TreeMap<>();
        attrs.put("region", env.region());
        List<Object> grants = grants(c.project(), env, email, projectPolicy, bucketPolicies, env.resource(address));
        if (!grants.isEmpty()) attrs.put("grants", grants);
        return new ObservedResource(address, email, attrs, marker);
    }

    private static final Pattern RESOURCE_NAME = Pattern.compile("projects/([^/]+)/serviceAccounts/([^/]+)");
    private static final Pattern EMAIL = Pattern.compile("([a-z][a-z0-9-]{4,28}[a-z0-9])@([a-z][a-z0-9-]{4,28}[a-z0-9])\\.iam\\.gserviceaccount\\.com");

    /**
     * Import by the service account's email ({@code ID@PROJECT.iam.gserviceaccount.com}) or resource name
     * ({@code projects/PROJECT/serviceAccounts/EMAIL}). An unmarked account is taken only when its id is the one mlctl gives
     * the address: instances, clusters and endpoints of the environment run as the account of that id.
     */
    @Override
    public Optional<ObservedResource> read(GcpClients c, Environment env, Address address, String cloudId) {
        String id = cloudId.trim();
        Matcher named = RESOURCE_NAME.matcher(id);
        if (named.matches()) {
            if (!named.group(1).equals("-") && !named.group(1).equals(c.project())) {
                throw GcpKind.otherProject(address, "service account " + named.group(2), named.group(1), c.project());
            }
            id = named.group(2);
        }
        Matcher m = EMAIL.matcher(id);
        if (!m.matches()) {
            throw GcpKind.badId(address, cloudId, "a service account's email, e.g. " + GcpKind.serviceAccountEmail(c.project(),
                GcpKind.serviceAccountId(env, address.name())) + " (Google-managed default accounts cannot be imported)");
        }
        if (!m.group(2).equals(c.project())) throw GcpKind.otherProject(address, "service account " + id, m.group(2), c.project());
        String email = id;
        Optional<ServiceAccount> sa = account(c, email);
        if (sa.isEmpty()) return Optional.empty();
        Map<String, String> marker = GcpMarker.INSTANCE.fromDescription(sa.get().getDescription());
        String expected = GcpKind.serviceAccountId(env, address.name());
        if (GcpKind.unmarked(marker) && !m.group(1).equals(expected)) {
            throw GcpKind.wrongName(env, address, "service account " + email, m.group(1), expected, n -> GcpKind.serviceAccountId(env, n));
        }
        List<String> buckets = environmentBuckets(c, env);
        return Optional.of(observe(c, env, address, email, marker, projectPolicy(c), bucketPolicies(c, buckets)));
    }

    @Override
    public Map<String, String> outputs(GcpClients c, Environment env, ObservedResource resource) {
        return Map.of("email", resource.cloudId());
    }

    /** The buckets' policies, read a few at a time: each is one request that only waits on the network. */
    private static Map<String, com.google.cloud.Policy> bucketPolicies(GcpClients c, List<String> buckets) {
        Map<String, com.google.cloud.Policy> out = new java.util.concurrent.ConcurrentHashMap<>();
        if (buckets.isEmpty()) return out;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(Math.min(8, buckets.size()), t -> {
            Thread th = new Thread(t, "mlctl-gcp-bucket-policies");
            th.setDaemon(true);
            return th;
        });
        try {
            List<java.util.concurrent.Future<?>> reads = new ArrayList<>();
            for (String bucket : buckets) reads.add(pool.submit(() -> bucketPolicy(c, bucket).ifPresent(p -> out.put(bucket, p))));
            for (java.util.concurrent.Future<?> f : reads) GcpErrors.await("storage.buckets.getIamPolicy", f);
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    /** The environment's buckets: one list per page (GCS cannot filter by label), kept when they carry the environment's marker. */
    static List<String> environmentBuckets(GcpClients c, Environment env) {
        List<String> out = new ArrayList<>();
        Optional<String> token = Optional.empty();
        do {
            List<Storage.BucketListOption> options = new ArrayList<>(List.of(Storage.BucketListOption.pageSize(1000),
                Storage.BucketListOption.fields(Storage.BucketField.NAME, Storage.BucketField.LABELS)));
            token.ifPresent(t -> options.add(Storage.BucketListOption.pageToken(t)));
            com.google.api.gax.paging.Page<Bucket> page = GcpErrors.call("storage.buckets.list " + c.project(),
                () -> c.storage().list(options.toArray(Storage.BucketListOption[]::new)));
            for (Bucket b : page.getValues()) {
                Map<String, String> labels = BucketKind.labels(b);
                if (GcpMarker.INSTANCE.owner(labels, env.name()).filter(a -> a.type() == ResourceType.BUCKET && a.name().equals(b.getName())).isPresent()) {
                    out.add(b.getName());
                }
            }
            token = Optional.ofNullable(page.getNextPageToken()).filter(t -> !t.isEmpty());
        } while (token.isPresent());
        return out;
    }

    private static Policy projectPolicy(GcpClients c) {
        return GcpErrors.call("resourcemanager.projects.getIamPolicy projects/" + c.project(), () -> c.projects().getIamPolicy(
            GetIamPolicyRequest.newBuilder().setResource("projects/" + c.project())
                .setOptions(GetPolicyOptions.newBuilder().setRequestedPolicyVersion(3)).build()));
    }

    private static Optional<com.google.cloud.Policy> bucketPolicy(GcpClients c, String bucket) {
        try {
            return Optional.of(c.storage().getIamPolicy(bucket, Storage.BucketSourceOption.requestedPolicyVersion(3)));
        } catch (StorageException e) {
            if (e.getCode() == 404) return Optional.empty(); // deleted since it was listed
            throw GcpErrors.translate("storage.buckets.getIamPolicy " + bucket, e);
        }
    }

    // ---- lifecycle ----

    private static String name(GcpClients c, String email) {
        return "projects/" + c.project() + "/serviceAccounts/" + email;
    }

    private static Optional<ServiceAccount> account(GcpClients c, String email) {
        try {
            return Optional.of(c.iam().getServiceAccount(name(c, email)));
        } catch (ApiException e) {
            if (GcpErrors.notFound(e)) return Optional.empty();
            throw GcpErrors.translate("iam.serviceAccounts.get " + email, e);
        }
    }

    @Override
    public Optional<Existing> find(GcpClients c, Environment env, Address address, Optional<String> knownCloudId) {
        String email = knownCloudId.orElseGet(() -> GcpKind.serviceAccountEmail(c.project(), GcpKind.serviceAccountId(env, address.name())));
        return account(c, email).map(sa -> new Existing(email, "service account " + email, GcpMarker.INSTANCE.fromDescription(sa.getDescription())));
    }

    private static String displayName(Environment env, Address address) {
        String s = "mlctl " + env.name() + " " + address.name();
        return s.length() <= 100 ? s : s.substring(0, 100);
    }

    @Override
    public String create(GcpClients c, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        String id = GcpKind.serviceAccountId(env, d.address().name());
        try {
            // The marker is in the create call (the description), so a lost answer is found by find() as this environment's.
            return c.iam().createServiceAccount(CreateServiceAccountRequest.newBuilder().setName("projects/" + c.project()).setAccountId(id)
                .setServiceAccount(ServiceAccount.newBuilder().setDisplayName(displayName(env, d.address()))
                    .setDescription(GcpMarker.INSTANCE.description(env.name(), d.address()))).build()).getEmail();
        } catch (ApiException e) {
            if (GcpErrors.alreadyExists(e)) {
                throw new DriverException(d.address() + ": service account " + id + " appeared while creating it; looking again", true, e);
            }
            throw GcpErrors.translate("iam.serviceAccounts.create " + id, e);
        }
    }

    /** The description holds the marker (an adopted account of this create gets it), then the custom roles and grants. */
    @Override
    public ObservedResource complete(GcpClients c, Environment env, String email, ResourceSpec d, Map<String, String> marker) {
        // IAM is eventually consistent: an account just made may not read back yet; the step is retried.
        ServiceAccount sa = account(c, email).orElseThrow(() -> new DriverException(d.address() + ": service account " + email + " is not visible yet", true));
        String description = GcpMarker.INSTANCE.description(env.name(), d.address());
        if (!description.equals(sa.getDescription()) || !displayName(env, d.address()).equals(sa.getDisplayName())) {
            GcpErrors.run("iam.serviceAccounts.patch " + email, () -> c.iam().patchServiceAccount(PatchServiceAccountRequest.newBuilder()
                .setServiceAccount(sa.toBuilder().setDescription(description).setDisplayName(displayName(env, d.address())))
                .setUpdateMask(FieldMask.newBuilder().addPaths("description").addPaths("display_name")).build()));
        }
        syncGrants(c, env, email, d, List.of());
        return new ObservedResource(d.address(), email, d.attributes(), GcpMarker.INSTANCE.marker(env.name(), d.address()));
    }

    @Override
    @SuppressWarnings("unchecked")
    public ObservedResource update(GcpClients c, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        Map<String, String> tags = current.tags();
        // A "tags" change comes only with an import (accounts take no labels): the marker goes in the description first.
        if (changes.stream().anyMatch(ch -> ch.path().equals("tags") || ch.path().startsWith("tags."))) tags = mark(c, env, current.cloudId(), d.address());
        if (changes.stream().anyMatch(ch -> ch.path().startsWith("grants"))) {
            syncGrants(c, env, current.cloudId(), d, (List<Object>) current.attributes().getOrDefault("grants", List.of()));
        }
        return new ObservedResource(d.address(), current.cloudId(), d.attributes(), tags);
    }

    /** Writes the marker as the account's description (its display name stays the owner's); returns the marker. */
    private static Map<String, String> mark(GcpClients c, Environment env, String email, Address address) {
        ServiceAccount sa = account(c, email).orElseThrow(() -> new DriverException(address + ": service account " + email + " no longer exists; run plan again", false));
        String description = GcpMarker.INSTANCE.description(env.name(), address);
        if (!description.equals(sa.getDescription())) {
            GcpErrors.run("iam.serviceAccounts.patch " + email, () -> c.iam().patchServiceAccount(PatchServiceAccountRequest.newBuilder()
                .setServiceAccount(sa.toBuilder().setDescription(description)).setUpdateMask(FieldMask.newBuilder().addPaths("description")).build()));
        }
        return GcpMarker.INSTANCE.marker(env.name(), address);
    }

    /** Revokes every grant (so no binding is left naming a deleted account), then deletes the account. */
    @Override
    @SuppressWarnings("unchecked")
    public void delete(GcpClients c, Environment env, ObservedResource current) {
        String email = current.cloudId();
        syncGrants(c, env, email, null, (List<Object>) current.attributes().getOrDefault("grants", List.of()));
        try {
            c.iam().deleteServiceAccount(name(c, email));
        } catch (ApiException e) {
            if (!GcpErrors.notFound(e)) throw GcpErrors.translate("iam.serviceAccounts.delete " + email, e);
        }
    }

    /**
     * Makes the account's bindings what {@code d}'s grants say ({@code d} null: none): on each bucket
     * granted now or before ({@code before}, as inventory read it), and on the project.
     */
    @SuppressWarnings("unchecked")
    private void syncGrants(GcpClients c, Environment env, String email, ResourceSpec d, List<Object> before) {
        Map<String, Object> attrs = d == null ? Map.of() : d.attributes();
        Address address = d == null ? null : d.address();
        for (String role : customRolesNeeded(attrs)) ensureRole(c, role);
        Wanted want = wanted(c.project(), env, attrs);
        Set<String> buckets = new TreeSet<>(want.bucketRoles().keySet());
        for (Object o : before) {
            String ref = (String) ((Map<String, Object>) o).get("resource");
            if (ref.startsWith("bucket/")) buckets.add(ref.substring("bucket/".length()));
        }
        for (String bucket : buckets) syncBucket(c, env, address, email, bucket, want.bucketRoles().getOrDefault(bucket, Set.of()));
        syncProject(c, email, want.project());
    }

    /** A custom role mlctl binds: made when missing, undeleted when deleted, refused when it grants something else. */
    private static void ensureRole(GcpClients c, String id) {
        String name = customRole(c.project(), id);
        List<String> permissions = CUSTOM_ROLES.get(id);
        Role role;
        try {
            role = c.iam().getRole(GetRoleRequest.newBuilder().setName(name).build());
        } catch (ApiException e) {
            if (!GcpErrors.notFound(e)) throw GcpErrors.translate("iam.roles.get " + name, e);
            try {
                c.iam().createRole(CreateRoleRequest.newBuilder().setParent("projects/" + c.project()).setRoleId(id)
                    .setRole(Role.newBuilder().setTitle("mlctl " + String.join(", ", permissions))
                        .setDescription("Made by mlctl for its grants; shared by every mlctl environment of the project. Grants only "
                            + String.join(", ", permissions) + ".")
                        .addAllIncludedPermissions(permissions).setStage(Role.RoleLaunchStage.GA)).build());
                return;
            } catch (ApiException x) {
                if (!GcpErrors.alreadyExists(x)) throw GcpErrors.translate("iam.roles.create " + name, x);
                throw new DriverException("custom role " + name + " appeared while creating it; looking again", true, x);
            }
        }
        if (!new TreeSet<>(role.getIncludedPermissionsList()).equals(new TreeSet<>(permissions))) {
            throw new DriverException("custom role " + name + " exists with other permissions (" + String.join(", ", role.getIncludedPermissionsList())
                + ") than mlctl binds it for (" + String.join(", ", permissions) + "); mlctl does not change it: remove or fix it", false);
        }
        if (role.getDeleted()) {
            GcpErrors.run("iam.roles.undelete " + name, () -> c.iam().undeleteRole(UndeleteRoleRequest.newBuilder().setName(name)
                .setEtag(role.getEtag()).build()));
        }
    }

    private static final Set<String> BUCKET_ROLES_STATIC = Set.of(READ_ROLE, WRITE_ROLE);

    /** Our member holds exactly {@code roles} of the three storage roles on the bucket; other members and roles stay. */
    private void syncBucket(GcpClients c, Environment env, Address address, String email, String bucket, Set<String> roles) {
        String member = member(email);
        String deleter = customRole(c.project(), DELETER_ROLE);
        for (int attempt = 1; ; attempt++) {
            if (!roles.isEmpty()) requireEnvironmentBucket(c, env, address, bucket);
            Optional<com.google.cloud.Policy> read = bucketPolicy(c, bucket);
            if (read.isEmpty()) {
                if (roles.isEmpty()) return; // gone: nothing to revoke
                throw new DriverException(address + ": bucket " + bucket + " does not exist (yet)", true);
            }
            com.google.cloud.Policy policy = read.get();
            List<Binding> next = new ArrayList<>();
            Set<String> missing = new TreeSet<>(roles);
            boolean changed = false;
            for (Binding b : policy.getBindingsList()) {
                boolean ours = b.getCondition() == null && (BUCKET_ROLES_STATIC.contains(b.getRole()) || b.getRole().equals(deleter));
                if (!ours) {
                    next.add(b);
                    continue;
                }
                boolean want = roles.contains(b.getRole());
                missing.remove(b.getRole());
                boolean has = b.getMembers().contains(member);
                if (want && !has) {
                    next.add(b.toBuilder().addMembers(member).build());
                    changed = true;
                } else if (!want && has) {
                    List<String> rest = new ArrayList<>(b.getMembers());
                    rest.remove(member);
                    if (!rest.isEmpty()) next.add(b.toBuilder().setMembers(rest).build());
                    changed = true;
                } else {
                    next.add(b);
                }
            }
            for (String role : missing) {
                next.add(Binding.newBuilder().setRole(role).setMembers(List.of(member)).build());
                changed = true;
            }
            if (!changed) return;
            com.google.cloud.Policy updated = policy.toBuilder().setBindings(next).setVersion(3).build();
            try {
                c.storage().setIamPolicy(bucket, updated);
                return;
            } catch (StorageException e) {
                boolean conflict = e.getCode() == 412 || e.getCode() == 409;
                if (conflict && attempt < ATTEMPTS) continue; // changed since read: read it again
                if (e.getCode() == 400 && String.valueOf(e.getMessage()).contains("does not exist")) {
                    // A service account just made is not yet known everywhere IAM checks members.
                    throw new DriverException("storage.buckets.setIamPolicy " + bucket + ": " + GcpErrors.firstLine(e.getMessage()), true, e);
                }
                throw GcpErrors.translate("storage.buckets.setIamPolicy " + bucket, e);
            }
        }
    }

    /** Grants go only on this environment's own buckets: another team's bucket of that name is not changed. */
    private static void requireEnvironmentBucket(GcpClients c, Environment env, Address address, String bucket) {
        Bucket b;
        try {
            b = c.storage().get(bucket, Storage.BucketGetOption.fields(Storage.BucketField.NAME, Storage.BucketField.LABELS));
        } catch (StorageException e) {
            if (e.getCode() == 404) b = null;
            else throw GcpErrors.translate("storage.buckets.get " + bucket, e);
        }
        if (b == null) throw new DriverException(address + ": bucket " + bucket + " does not exist (yet)", true);
        Map<String, String> labels = BucketKind.labels(b);
        if (GcpMarker.INSTANCE.owner(labels, env.name()).filter(a -> a.type() == ResourceType.BUCKET && a.name().equals(bucket)).isEmpty()) {
            throw new DriverException(address + ": bucket " + bucket + " is " + GcpMarker.INSTANCE.describeOwner(labels)
                + ", not this environment's bucket." + bucket + "; mlctl does not change its IAM policy", false);
        }
    }

    /** Our member is in exactly the wanted mlctl bindings of the project policy; everything else stays as it is. */
    private static void syncProject(GcpClients c, String email, Set<ProjectBinding> want) {
        String member = member(email);
        for (int attempt = 1; ; attempt++) {
            Policy policy = projectPolicy(c);
            Policy.Builder next = policy.toBuilder().clearBindings();
            Set<ProjectBinding> missing = new LinkedHashSet<>(want);
            boolean changed = false;
            for (com.google.iam.v1.Binding b : policy.getBindingsList()) {
                if (!mlctlProjectBinding(c.project(), b)) {
                    next.addBindings(b);
                    continue;
                }
                ProjectBinding key = new ProjectBinding(b.getRole(), b.hasCondition() ? Optional.of(b.getCondition()) : Optional.empty());
                boolean wanted = want.contains(key);
                missing.remove(key);
                boolean has = b.getMembersList().contains(member);
                if (wanted && !has) {
                    next.addBindings(b.toBuilder().addMembers(member));
                    changed = true;
                } else if (!wanted && has) {
                    List<String> rest = new ArrayList<>(b.getMembersList());
                    rest.remove(member);
                    if (!rest.isEmpty()) next.addBindings(b.toBuilder().clearMembers().addAllMembers(rest));
                    changed = true;
                } else {
                    next.addBindings(b);
                }
            }
            for (ProjectBinding p : missing) {
                com.google.iam.v1.Binding.Builder b = com.google.iam.v1.Binding.newBuilder().setRole(p.role()).addMembers(member);
                p.condition().ifPresent(b::setCondition);
                next.addBindings(b);
                changed = true;
            }
            if (!changed) return;
            // Version 3 whenever conditions are read or written: an older version would drop them.
            Policy updated = next.setVersion(3).build();
            try {
                c.projects().setIamPolicy(SetIamPolicyRequest.newBuilder().setResource("projects/" + c.project()).setPolicy(updated).build());
                return;
            } catch (ApiException raw) {
                // Google's own status and message (gax's REST transport keeps only the HTTP reason phrase).
                ApiException e = GcpErrors.google(raw) instanceof ApiException g ? g : raw;
                StatusCode.Code code = e.getStatusCode().getCode();
                boolean conflict = code == StatusCode.Code.ABORTED || code == StatusCode.Code.ALREADY_EXISTS || code == StatusCode.Code.FAILED_PRECONDITION;
                if (conflict && attempt < ATTEMPTS) continue; // concurrent policy change: read-modify-write again
                // A service account made moments ago is not yet known to IAM policies: retried with backoff.
                if (code == StatusCode.Code.INVALID_ARGUMENT && String.valueOf(e.getMessage()).contains("does not exist")) {
                    throw new DriverException("resourcemanager.projects.setIamPolicy projects/" + c.project() + ": "
                        + GcpErrors.firstLine(e.getMessage()), true, e);
                }
                throw GcpErrors.translate("resourcemanager.projects.setIamPolicy projects/" + c.project(), e);
            }
        }
    }
}
