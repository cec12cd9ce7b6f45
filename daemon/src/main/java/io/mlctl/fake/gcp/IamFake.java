package io.mlctl.fake.gcp;

import com.google.iam.admin.v1.CreateRoleRequest;
import com.google.iam.admin.v1.CreateServiceAccountRequest;
import com.google.iam.admin.v1.DeleteRoleRequest;
import com.google.iam.admin.v1.DeleteServiceAccountRequest;
import com.google.iam.admin.v1.GetRoleRequest;
import com.google.iam.admin.v1.GetServiceAccountRequest;
import com.google.iam.admin.v1.ListServiceAccountsRequest;
import com.google.iam.admin.v1.ListServiceAccountsResponse;
import com.google.iam.admin.v1.PatchServiceAccountRequest;
import com.google.iam.admin.v1.Role;
import com.google.iam.admin.v1.ServiceAccount;
import com.google.iam.admin.v1.UndeleteRoleRequest;
import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * IAM admin ({@code google.iam.admin.v1.IAM}) over gRPC, as the Java client speaks it: service
 * accounts (create, get, list, patch, update, delete) and project custom roles (create, get, delete,
 * undelete). The Java artifacts carry no generated {@code IAMGrpc}, so the service is bound from
 * hand-made method descriptors on the vendor's own request and response messages (the same full
 * method names and protobuf wire format). Validation follows the API reference: account ids are
 * 6–30 characters matching {@code [a-z]([-a-z0-9]*[a-z0-9])}, display names 100 bytes, descriptions
 * 256 bytes, a taken id is ALREADY_EXISTS, a patch needs an update mask naming only
 * {@code display_name} / {@code description}; role ids are 3–64 of {@code [a-zA-Z0-9_.]} with known
 * permissions. REST reads ({@code GET /v1/projects/{p}/serviceAccounts[/{email}]},
 * {@code GET /v1/projects/{p}/roles/{id}}) show the state Google-shaped.
 */
public final class IamFake implements FakeService {
    static final String SERVICE = "google.iam.admin.v1.IAM";
    private static final Pattern ACCOUNT_ID = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])");
    private static final Pattern ROLE_ID = Pattern.compile("[a-zA-Z0-9_.]{3,64}");
    private static final Pattern PROJECT = Pattern.compile("projects/([a-z][-a-z0-9]{4,28}[a-z0-9])");
    private static final Pattern ACCOUNT_NAME = Pattern.compile("projects/([^/]+)/serviceAccounts/([^/]+)");
    private static final Pattern CUSTOM_ROLE = Pattern.compile("projects/([^/]+)/roles/([^/]+)");
    private static final Pattern PERMISSION = Pattern.compile("[a-z][a-zA-Z0-9]*\\.[a-zA-Z]+\\.[a-zA-Z]+");
    /** Predefined roles the fakes know (a binding of any other {@code roles/...} is refused as Google refuses an unknown role). */
    static final Set<String> PREDEFINED_ROLES = Set.of("roles/owner", "roles/editor", "roles/viewer", "roles/browser",
        "roles/storage.admin", "roles/storage.objectAdmin", "roles/storage.objectCreator", "roles/storage.objectViewer",
        "roles/storage.objectUser", "roles/storage.legacyBucketOwner", "roles/storage.legacyBucketReader", "roles/storage.legacyBucketWriter",
        "roles/storage.legacyObjectOwner", "roles/storage.legacyObjectReader",
        "roles/aiplatform.user", "roles/aiplatform.viewer", "roles/aiplatform.admin", "roles/aiplatform.serviceAgent",
        "roles/container.clusterViewer", "roles/container.developer", "roles/container.viewer", "roles/container.admin",
        "roles/container.defaultNodeServiceAccount", "roles/container.nodeServiceAccount",
        "roles/compute.viewer", "roles/compute.instanceAdmin.v1", "roles/compute.networkUser",
        "roles/iam.serviceAccountUser", "roles/iam.workloadIdentityUser", "roles/iam.serviceAccountTokenCreator",
        "roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer", "roles/stackdriver.resourceMetadata.writer",
        "roles/artifactregistry.reader", "roles/autoscaling.metricsWriter", "roles/resourcemanager.projectIamAdmin");

    private final GcpFakes fakes;
    private final Map<String, ServiceAccount> accounts = new LinkedHashMap<>(); // by email
    private final Map<String, Role> roles = new TreeMap<>(); // custom roles by full name
    private final AtomicLong uniqueIds = new AtomicLong(104_000_000_000_000_000L);
    private final AtomicLong etags = new AtomicLong();

    IamFake(GcpFakes fakes) {
        this.fakes = fakes;
    }

    @Override
    public void routes(FakeHttp http) {
        http.route("GET", "/v1/projects/([^/]+)/serviceAccounts", r -> FakeHttp.Response.ok(Json.print(
            list(ListServiceAccountsRequest.newBuilder().setName("projects/" + r.group(1)).setPageSize(100)
                .setPageToken(r.query().getOrDefault("pageToken", "")).build()), false)));
        http.route("GET", "/v1/projects/([^/]+)/serviceAccounts/([^/]+)", r -> FakeHttp.Response.ok(Json.print(
            get("projects/" + r.group(1) + "/serviceAccounts/" + r.group(2)), false)));
        http.route("GET", "/v1/projects/([^/]+)/roles/([^/]+)", r -> FakeHttp.Response.ok(Json.print(
            getRole("projects/" + r.group(1) + "/roles/" + r.group(2)), false)));
    }

    @Override
    public List<BindableService> grpc() {
        ServerServiceDefinition def = ServerServiceDefinition.builder(SERVICE)
            .addMethod(unary("ListServiceAccounts", ListServiceAccountsRequest.getDefaultInstance(), ListServiceAccountsResponse.getDefaultInstance(), this::list))
            .addMethod(unary("GetServiceAccount", GetServiceAccountRequest.getDefaultInstance(), ServiceAccount.getDefaultInstance(), q -> get(q.getName())))
            .addMethod(unary("CreateServiceAccount", CreateServiceAccountRequest.getDefaultInstance(), ServiceAccount.getDefaultInstance(), this::create))
            .addMethod(unary("PatchServiceAccount", PatchServiceAccountRequest.getDefaultInstance(), ServiceAccount.getDefaultInstance(), this::patch))
            .addMethod(unary("UpdateServiceAccount", ServiceAccount.getDefaultInstance(), ServiceAccount.getDefaultInstance(), this::update))
            .addMethod(unary("DeleteServiceAccount", DeleteServiceAccountRequest.getDefaultInstance(), Empty.getDefaultInstance(), this::delete))
            .addMethod(unary("GetRole", GetRoleRequest.getDefaultInstance(), Role.getDefaultInstance(), q -> getRole(q.getName())))
            .addMethod(unary("CreateRole", CreateRoleRequest.getDefaultInstance(), Role.getDefaultInstance(), this::createRole))
            .addMethod(unary("DeleteRole", DeleteRoleRequest.getDefaultInstance(), Role.getDefaultInstance(), this::deleteRole))
            .addMethod(unary("UndeleteRole", UndeleteRoleRequest.getDefaultInstance(), Role.getDefaultInstance(), this::undeleteRole))
            .build();
        return List.of(() -> def);
    }

    /** A unary method of {@code google.iam.admin.v1.IAM} on the vendor's messages. */
    static <Q extends Message, R extends Message> ServerMethodDefinition<Q, R> unary(String method, Q request, R response, Function<Q, R> handler) {
        MethodDescriptor<Q, R> d = MethodDescriptor.<Q, R>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, method))
            .setRequestMarshaller(ProtoUtils.marshaller(request)).setResponseMarshaller(ProtoUtils.marshaller(response)).build();
        return ServerMethodDefinition.create(d, ServerCalls.asyncUnaryCall((q, observer) -> GcpFakes.answer(observer, () -> handler.apply(q))));
    }

    private static String project(String name, String field) {
        Matcher m = PROJECT.matcher(name);
        if (!m.matches()) throw GoogleError.invalid("Invalid " + field + " '" + name + "': expected projects/{PROJECT_ID}");
        return m.group(1);
    }

    synchronized ServiceAccount create(CreateServiceAccountRequest q) {
        String project = project(q.getName(), "name");
        String id = q.getAccountId();
        if (id.length() < 6 || id.length() > 30 || !ACCOUNT_ID.matcher(id).matches()) {
            throw GoogleError.invalid("Invalid account id '" + id + "': it must be 6-30 characters long, and match the regular expression "
                + "[a-z]([-a-z0-9]*[a-z0-9]) to comply with RFC1035");
        }
        checkText(q.getServiceAccount());
        String email = id + "@" + project + ".iam.gserviceaccount.com";
        if (accounts.containsKey(email)) {
            throw new GoogleError(409, "ALREADY_EXISTS", "alreadyExists", "Service account " + id + " already exists within project projects/"
                + project + ".", Map.of());
        }
        String unique = Long.toString(uniqueIds.incrementAndGet());
        ServiceAccount sa = ServiceAccount.newBuilder().setName("projects/" + project + "/serviceAccounts/" + email).setProjectId(project)
            .setUniqueId(unique).setEmail(email).setOauth2ClientId(unique)
            .setDisplayName(q.getServiceAccount().getDisplayName()).setDescription(q.getServiceAccount().getDescription())
            .setEtag(etag()).build();
        accounts.put(email, sa);
        return sa;
    }

    private static void checkText(ServiceAccount sa) {
        if (sa.getDisplayName().getBytes(StandardCharsets.UTF_8).length > 100) {
            throw GoogleError.invalid("The display name of a service account can be at most 100 bytes long");
        }
        if (sa.getDescription().getBytes(StandardCharsets.UTF_8).length > 256) {
            throw GoogleError.invalid("The description of a service account can be at most 256 bytes long");
        }
    }

    private ByteString etag() {
        return ByteString.copyFromUtf8("BwY" + etags.incrementAndGet());
    }

    /** The account a name points at: {@code projects/{p|-}/serviceAccounts/{email|uniqueId}}. */
    private ServiceAccount lookup(String name) {
        Matcher m = ACCOUNT_NAME.matcher(name);
        if (!m.matches()) throw GoogleError.invalid("Invalid service account name '" + name + "'");
        String project = m.group(1);
        String key = m.group(2);
        ServiceAccount sa = accounts.get(key);
        if (sa == null) sa = accounts.values().stream().filter(a -> a.getUniqueId().equals(key)).findFirst().orElse(null);
        if (sa == null || !project.equals("-") && !sa.getProjectId().equals(project)) {
            throw new GoogleError(404, "NOT_FOUND", "notFound", "Unknown service account", Map.of());
        }
        return sa;
    }

    synchronized ServiceAccount get(String name) {
        return lookup(name);
    }

    synchronized ListServiceAccountsResponse list(ListServiceAccountsRequest q) {
        String project = project(q.getName(), "name");
        if (q.getPageSize() < 0) throw GoogleError.invalid("page_size must not be negative");
        int size = q.getPageSize() == 0 ? 20 : Math.min(q.getPageSize(), 100);
        int start = 0;
        if (!q.getPageToken().isEmpty()) {
            try {
                start = Integer.parseInt(new String(Base64.getUrlDecoder().decode(q.getPageToken()), StandardCharsets.UTF_8));
            } catch (RuntimeException e) {
                throw GoogleError.invalid("Invalid page token");
            }
        }
        List<ServiceAccount> all = accounts.values().stream().filter(a -> a.getProjectId().equals(project)).toList();
        ListServiceAccountsResponse.Builder out = ListServiceAccountsResponse.newBuilder();
        for (int i = start; i < Math.min(all.size(), start + size); i++) out.addAccounts(all.get(i));
        if (start + size < all.size()) {
            out.setNextPageToken(Base64.getUrlEncoder().encodeToString(Integer.toString(start + size).getBytes(StandardCharsets.UTF_8)));
        }
        return out.build();
    }

    synchronized ServiceAccount patch(PatchServiceAccountRequest q) {
        ServiceAccount current = lookup(q.getServiceAccount().getName());
        if (q.getUpdateMask().getPathsCount() == 0) throw GoogleError.invalid("update_mask is required: name the fields to patch");
        ServiceAccount.Builder next = current.toBuilder();
        for (String path : q.getUpdateMask().getPathsList()) {
            switch (path) {
                case "display_name", "displayName" -> next.setDisplayName(q.getServiceAccount().getDisplayName());
                case "description" -> next.setDescription(q.getServiceAccount().getDescription());
                default -> throw GoogleError.invalid("Invalid update_mask path '" + path + "': only display_name and description can be patched");
            }
        }
        checkText(next.build());
        ServiceAccount sa = next.setEtag(etag()).build();
        accounts.put(sa.getEmail(), sa);
        return sa;
    }

    /** The deprecated update: only the display name changes. */
    synchronized ServiceAccount update(ServiceAccount q) {
        ServiceAccount current = lookup(q.getName());
        ServiceAccount.Builder next = current.toBuilder().setDisplayName(q.getDisplayName());
        checkText(next.build());
        ServiceAccount sa = next.setEtag(etag()).build();
        accounts.put(sa.getEmail(), sa);
        return sa;
    }

    Empty delete(DeleteServiceAccountRequest q) {
        ServiceAccount sa;
        synchronized (this) {
            sa = lookup(q.getName());
            accounts.remove(sa.getEmail());
        }
        // As on Google: bindings of a deleted account stay, shown as deleted:serviceAccount:<email>?uid=<id>.
        fakes.resourceManager().accountDeleted(sa.getEmail(), sa.getUniqueId());
        fakes.storage().accountDeleted(sa.getEmail(), sa.getUniqueId());
        return Empty.getDefaultInstance();
    }

    synchronized Role getRole(String name) {
        if (name.startsWith("roles/")) {
            if (!PREDEFINED_ROLES.contains(name)) throw new GoogleError(404, "NOT_FOUND", "notFound", "The role named " + name + " was not found.", Map.of());
            return Role.newBuilder().setName(name).setTitle(name.substring(6)).setStage(Role.RoleLaunchStage.GA).build();
        }
        Matcher m = CUSTOM_ROLE.matcher(name);
        if (!m.matches()) throw GoogleError.invalid("Invalid role name '" + name + "'");
        Role r = roles.get(name);
        if (r == null) throw new GoogleError(404, "NOT_FOUND", "notFound", "The role named " + name + " was not found.", Map.of());
        return r;
    }

    synchronized Role createRole(CreateRoleRequest q) {
        String project = project(q.getParent(), "parent");
        if (!ROLE_ID.matcher(q.getRoleId()).matches()) {
            throw GoogleError.invalid("The role id '" + q.getRoleId() + "' is invalid: it must be 3-64 characters of letters, digits, '_' and '.'");
        }
        if (!q.getRole().getName().isEmpty()) throw GoogleError.invalid("The role name must not be set when creating a role");
        if (q.getRole().getIncludedPermissionsCount() == 0) throw GoogleError.invalid("A custom role needs at least one permission");
        for (String p : q.getRole().getIncludedPermissionsList()) {
            if (!PERMISSION.matcher(p).matches()) throw GoogleError.invalid("Permission " + p + " is not valid.");
        }
        if (q.getRole().getTitle().getBytes(StandardCharsets.UTF_8).length > 100) throw GoogleError.invalid("The role title is longer than 100 bytes");
        String name = "projects/" + project + "/roles/" + q.getRoleId();
        Role existing = roles.get(name);
        if (existing != null) {
            String how = existing.getDeleted() ? " and is deleted: undelete it, or wait until it is purged" : "";
            throw new GoogleError(409, "ALREADY_EXISTS", "alreadyExists", "A role named " + q.getRoleId() + " in projects/" + project
                + " already exists" + how + ".", Map.of());
        }
        Role r = q.getRole().toBuilder().setName(name).setEtag(etag()).setDeleted(false).build();
        roles.put(name, r);
        return r;
    }

    synchronized Role deleteRole(DeleteRoleRequest q) {
        Role r = getRole(q.getName());
        if (!q.getName().startsWith("projects/")) throw GoogleError.invalid("Only custom roles can be deleted");
        if (!q.getEtag().isEmpty() && !q.getEtag().equals(r.getEtag())) throw GoogleError.conflict("The role was changed since it was read (etag)");
        Role d = r.toBuilder().setDeleted(true).setEtag(etag()).build();
        roles.put(q.getName(), d);
        return d;
    }

    synchronized Role undeleteRole(UndeleteRoleRequest q) {
        Role r = getRole(q.getName());
        if (!r.getDeleted()) throw GoogleError.failedPrecondition("The role " + q.getName() + " is not deleted.");
        if (!q.getEtag().isEmpty() && !q.getEtag().equals(r.getEtag())) throw GoogleError.conflict("The role was changed since it was read (etag)");
        Role u = r.toBuilder().setDeleted(false).setEtag(etag()).build();
        roles.put(q.getName(), u);
        return u;
    }

    /** Whether a service account with this email exists (instances, GKE and Vertex run as one). */
    public synchronized boolean hasServiceAccount(String email) {
        return accounts.containsKey(email);
    }

    /** The account with this email, as the API shows it. */
    public synchronized Optional<ServiceAccount> serviceAccount(String email) {
        return Optional.ofNullable(accounts.get(email));
    }

    /** Every account of the project. */
    public synchronized List<ServiceAccount> serviceAccounts(String project) {
        return new ArrayList<>(accounts.values().stream().filter(a -> a.getProjectId().equals(project)).toList());
    }

    /** Whether a policy may bind {@code role}: a predefined role the fakes know, or a custom role of the project that is not deleted. */
    public synchronized boolean grantableRole(String role) {
        if (role.startsWith("roles/")) return PREDEFINED_ROLES.contains(role);
        Role r = roles.get(role);
        return r != null && !r.getDeleted();
    }

    /** For tests: a custom role someone else made (or changed), as the API would leave it. */
    public synchronized void putRole(Role role) {
        roles.put(role.getName(), role.toBuilder().setEtag(etag()).build());
    }

    /** For tests: an account someone else made, through the same checks as the API's create. */
    public ServiceAccount createServiceAccount(String project, String accountId, String displayName, String description) {
        return create(CreateServiceAccountRequest.newBuilder().setName("projects/" + project).setAccountId(accountId)
            .setServiceAccount(ServiceAccount.newBuilder().setDisplayName(displayName).setDescription(description)).build());
    }

    /** For tests: change an account out of band, as another person would in the console. */
    public synchronized void putServiceAccount(ServiceAccount sa) {
        accounts.put(sa.getEmail(), sa.toBuilder().setEtag(etag()).build());
    }
}
