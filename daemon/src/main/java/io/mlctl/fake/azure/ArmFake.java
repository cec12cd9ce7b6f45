package io.mlctl.fake.azure;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A stateful local fake of Azure Resource Manager and Resource Graph, for tests and for trying mlctl
 * without a subscription. It behaves as ARM does where the driver can tell: PUT answers 201 (new) or
 * 200 with {@code provisioningState} and an {@code Azure-AsyncOperation} to poll (a storage account's
 * create: 202 with only a {@code Location}, whose poll ends in 200 with the account), DELETE 202 with a
 * {@code Location} to poll (or 204 when nothing is there), 404 {@code ResourceNotFound}, 409 on clashes,
 * 429 with {@code Retry-After} when told to throttle, 412 {@code PreconditionFailed} to a PUT whose
 * {@code If-Match} is not the resource's etag; bodies are checked against the Azure SDK's model
 * classes ({@link ArmModels}) and each type's own rules ({@link ArmType}). Resource Graph answers the
 * queries {@link GraphQuery} understands, in pages.
 *
 * <p>Run on its own: {@code bin/azure-fakes [--port 8090]} prints the environment that points mlctl at it.
 */
public final class ArmFake implements AutoCloseable {
    /** The Entra ID tenant every fake subscription belongs to (managed identities and key vaults name it). */
    public static final String TENANT = "4a1c0c3e-7f5e-4b8a-9d2e-00000000fa4e";
    private final HttpServer server;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "azure-fake-http");
        t.setDaemon(true);
        return t;
    });
    private final ArmFaults faults = new ArmFaults();
    private final Map<String, ArmType> types = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    /** Resource groups by lowercase name, per subscription: key {@code /subscriptions/s/resourcegroups/g}. */
    private final Map<String, Map<String, Object>> groups = new TreeMap<>();
    /** Every resource, by lowercase id. */
    private final Map<String, Map<String, Object>> resources = new TreeMap<>();
    private final Map<String, Operation> operations = new LinkedHashMap<>();
    /** Operations not finished yet: every request settles these, so a long-lived fake stays fast. */
    private final List<Operation> unfinished = new ArrayList<>();
    private final AtomicBoolean sawAuthorization = new AtomicBoolean();
    private volatile Duration operationTime = Duration.ZERO;
    /** When each resource was made: Resource Graph shows it only {@link #graphLag} later, as the real index lags ARM writes. */
    private final Map<String, Instant> born = new java.util.HashMap<>();
    private volatile Duration graphLag = Duration.ZERO;

    /** A long-running write: done (or failed) once its time has passed, when read. */
    private static final class Operation {
        final String id;
        final String resourceKey;
        final boolean delete;
        /** When it started: it is done once the fake's operation time (as it is when read) has passed since. */
        final Instant startedAt;
        final ArmError failure;
        /** Polled through its {@code Location} alone (a storage account's create): 202 until done, then 200 with the resource. */
        final boolean location;
        boolean finished;

        Operation(String id, String resourceKey, boolean delete, Instant startedAt, ArmError failure, boolean location) {
            this.id = id;
            this.resourceKey = resourceKey;
            this.delete = delete;
            this.startedAt = startedAt;
            this.failure = failure;
            this.location = location;
        }
    }

    public ArmFake(int port) throws IOException {
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 128);
        server.setExecutor(pool);
        server.createContext("/", this::serve);
        for (ArmType t : NetworkTypes.all()) register(t);
        for (ArmType t : StorageTypes.all()) register(t);
        for (ArmType t : IdentityTypes.all()) register(t);
        for (ArmType t : ComputeTypes.all()) register(t);
        for (ArmType t : ContainerServiceTypes.all()) register(t);
        for (ArmType t : MachineLearningTypes.all()) register(t);
    }

    /** A fake on a free loopback port, serving. */
    public static ArmFake start() throws IOException {
        ArmFake f = new ArmFake(0);
        f.server.start();
        return f;
    }

    /** The handler of a type, for its own test helpers (a VM's power state). */
    ArmType handler(String type) {
        return types.get(type);
    }

    public void register(ArmType type) {
        if (types.put(type.type(), type) != null) throw new IllegalArgumentException("two handlers for " + type.type());
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The value for {@code MLCTL_AZURE_RESOURCE_MANAGER_ENDPOINT}. */
    public String endpoint() {
        return "http://127.0.0.1:" + port() + "/";
    }

    public ArmFaults faults() {
        return faults;
    }

    /** How long a write stays {@code Creating}/{@code Updating}/{@code Deleting} before it is done; a new value applies to writes in progress too ({@code ZERO} releases them). */
    public void operationTime(Duration d) {
        this.operationTime = d;
    }

    /** How long a new resource stays out of Resource Graph's answers (real Graph lags ARM writes by seconds). */
    public void graphLag(Duration d) {
        this.graphLag = d;
    }

    /** Whether any request carried an {@code Authorization} header (over this plain-HTTP fake, none may). */
    public boolean sawAuthorization() {
        return sawAuthorization.get();
    }

    // ---- state, for types and tests -------------------------------------------------------------

    /** The stored resource (as GET answers it), finishing its operation if its time has passed. */
    public synchronized Optional<Map<String, Object>> get(String id) {
        settle();
        return Optional.ofNullable(resources.get(ArmId.key(id))).map(ArmFake::copy);
    }

    /** Stores {@code resource} under {@code id} as it is (a type's side effect, or a test's out-of-band change). */
    public synchronized void put(String id, Map<String, Object> resource) {
        born.putIfAbsent(ArmId.key(id), Instant.now());
        resources.put(ArmId.key(id), copy(resource));
    }

    /** Removes a resource and its children, as a test's out-of-band delete. */
    public synchronized void remove(String id) {
        String k = ArmId.key(id);
        resources.keySet().removeIf(x -> x.equals(k) || x.startsWith(k + "/"));
    }

    /** Every stored resource of {@code type} (any case), in id order. */
    public synchronized List<Map<String, Object>> list(String type) {
        settle();
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> r : resources.values()) if (type.equalsIgnoreCase(String.valueOf(r.get("type")))) out.add(copy(r));
        return out;
    }

    /** Every stored resource, in id order. */
    public synchronized List<Map<String, Object>> all() {
        settle();
        return resources.values().stream().map(ArmFake::copy).toList();
    }

    public synchronized Optional<Map<String, Object>> group(String subscription, String name) {
        return Optional.ofNullable(groups.get(groupKey(subscription, name))).map(ArmFake::copy);
    }

    public synchronized void putGroup(String subscription, String name, String location, Map<String, String> tags) {
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("id", "/subscriptions/" + subscription + "/resourceGroups/" + name);
        g.put("name", name);
        g.put("type", "Microsoft.Resources/resourceGroups");
        g.put("location", location);
        g.put("tags", new LinkedHashMap<>(tags));
        g.put("properties", new LinkedHashMap<>(Map.of("provisioningState", "Succeeded")));
        groups.put(groupKey(subscription, name), g);
    }

    /** Removes a group and everything in it, as Azure does when its delete finishes. */
    public synchronized void removeGroup(String subscription, String name) {
        String k = groupKey(subscription, name);
        groups.remove(k);
        resources.keySet().removeIf(x -> x.startsWith(k + "/"));
    }

    /** Sets a group's {@code provisioningState} (a test's view of a group another process is deleting). */
    @SuppressWarnings("unchecked")
    public synchronized void groupState(String subscription, String name, String state) {
        Map<String, Object> g = groups.get(groupKey(subscription, name));
        if (g != null) ((Map<String, Object>) g.get("properties")).put("provisioningState", state);
    }

    public synchronized void reset() {
        groups.clear();
        resources.clear();
        operations.clear();
        unfinished.clear();
        born.clear();
        graphLag = Duration.ZERO;
        faults.clear();
        faults.resetCounts();
        sawAuthorization.set(false);
        operationTime = Duration.ZERO;
    }

    private static String groupKey(String subscription, String name) {
        return ("/subscriptions/" + subscription + "/resourcegroups/" + name).toLowerCase(Locale.ROOT);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> copy(Map<String, Object> m) {
        return (Map<String, Object>) deepCopy(m);
    }

    @SuppressWarnings("unchecked")
    private static Object deepCopy(Object o) {
        if (o instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            ((Map<String, Object>) m).forEach((k, v) -> out.put(k, deepCopy(v)));
            return out;
        }
        if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (Object x : l) out.add(deepCopy(x));
            return out;
        }
        return o;
    }

    /** {@code properties} of a resource map, made when missing. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> properties(Map<String, Object> resource) {
        return (Map<String, Object>) resource.computeIfAbsent("properties", k -> new LinkedHashMap<String, Object>());
    }

    // ---- HTTP ------------------------------------------------------------------------------------

    private record Answer(int status, Object body, Map<String, String> headers) {
        static Answer of(int status, Object body) {
            return new Answer(status, body, Map.of());
        }
    }

    private void serve(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getRawPath();
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Map<String, String> query = query(ex.getRequestURI().getRawQuery());
            if (path.startsWith("/_fake/")) {
                send(ex, admin(method, path, query, body));
                return;
            }
            if (ex.getRequestHeaders().containsKey("Authorization")) sawAuthorization.set(true);
            String name = method + " " + URLDecoder.decode(path, StandardCharsets.UTF_8);
            // A Graph query is named by its text too, so tests and faults can tell one kind's listing from another's.
            if (path.equalsIgnoreCase("/providers/Microsoft.ResourceGraph/resources")) name += " " + graphQueryText(body);
            for (Runnable action : faults.actionsBefore(name)) action.run();
            Optional<ArmFaults.Rule> fault = faults.on(name);
            if (fault.isPresent() && fault.get().kind() == ArmFaults.Kind.ERROR) {
                ArmFaults.Rule r = fault.get();
                Map<String, String> headers = r.retryAfterSeconds() > 0 ? Map.of("Retry-After", String.valueOf(r.retryAfterSeconds())) : Map.of();
                send(ex, new Answer(r.error().status(), r.error().body(), headers));
                return;
            }
            Answer a;
            try {
                ArmError failOp = fault.isPresent() && fault.get().kind() == ArmFaults.Kind.FAIL_OPERATION ? fault.get().error() : null;
                a = dispatch(method, URLDecoder.decode(path, StandardCharsets.UTF_8), query, body, failOp, ex.getRequestHeaders().getFirst("If-Match"));
            } catch (ArmError e) {
                a = Answer.of(e.status(), e.body());
            } catch (RuntimeException e) {
                a = Answer.of(500, new ArmError(500, "InternalServerError", "fake: " + e).body());
            }
            if (fault.isPresent() && fault.get().kind() == ArmFaults.Kind.DROP_RESPONSE) return; // done, answer lost
            send(ex, a);
        }
    }

    private synchronized Answer dispatch(String method, String path, Map<String, String> query, String body, ArmError failOp, String ifMatch) {
        settle();
        String lower = path.toLowerCase(Locale.ROOT);
        if (lower.startsWith("/_operations/")) return poll(path.substring("/_operations/".length()));
        if (!query.containsKey("api-version")) {
            throw ArmError.badRequest("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
        }
        if (lower.equals("/providers/microsoft.resourcegraph/resources") && method.equals("POST")) return graph(body);
        String[] seg = path.split("/");
        if (seg.length < 3 || !seg[1].equalsIgnoreCase("subscriptions")) throw new ArmError(404, "NotFound", "no API at " + method + " " + path);
        String subscription = seg[2];
        if (seg.length == 3 && method.equals("GET")) {
            return Answer.of(200, Map.of("id", "/subscriptions/" + subscription, "subscriptionId", subscription, "tenantId", TENANT,
                "displayName", "fake subscription", "state", "Enabled"));
        }
        if (!lower.contains("/providers/")) {
            if (seg.length == 5 && seg[3].equalsIgnoreCase("resourcegroups")) return resourceGroup(method, subscription, seg[4], body, failOp);
            if (seg.length == 6 && seg[3].equalsIgnoreCase("resourcegroups") && seg[5].equalsIgnoreCase("resources") && method.equals("GET")) {
                return Answer.of(200, Map.of("value", groupResources(subscription, seg[4], query)));
            }
            throw new ArmError(404, "NotFound", "no API at " + method + " " + path);
        }
        // A collection (…/virtualNetworks) or an action (…/storageAccounts/a/listKeys) has an even number of segments after the namespace.
        String afterProviders = path.substring(lower.lastIndexOf("/providers/") + "/providers/".length());
        int parts = afterProviders.split("/").length;
        if (parts % 2 == 0) {
            String prefix = path.substring(0, path.lastIndexOf('/'));
            String last = path.substring(path.lastIndexOf('/') + 1);
            if (method.equals("GET")) return Answer.of(200, Map.of("value", collection(path)));
            if (method.equals("POST") && parts >= 4) {
                ArmId id = ArmId.parse(prefix);
                Map<String, Object> existing = resources.get(id.key());
                if (existing == null) throw ArmError.notFound(id.type(), id.name(), id.resourceGroup());
                return Answer.of(200, type(id).action(this, id, last, body.isBlank() ? Map.of() : ArmModels.parse(body)));
            }
            throw new ArmError(405, "MethodNotAllowed", method + " is not allowed on " + path);
        }
        ArmId id = ArmId.parse(path);
        return switch (method) {
            case "GET" -> Answer.of(200, Optional.ofNullable(resources.get(id.key())).orElseThrow(() -> ArmError.notFound(id.type(), id.name(), id.resourceGroup())));
            case "PUT" -> put(id, ArmModels.parse(body), failOp, ifMatch);
            case "PATCH" -> patch(id, ArmModels.parse(body), failOp);
            case "DELETE" -> delete(id, failOp);
            default -> throw new ArmError(405, "MethodNotAllowed", method + " is not allowed on " + path);
        };
    }

    private ArmType type(ArmId id) {
        ArmType t = types.get(id.type());
        if (t == null) {
            throw ArmError.badRequest("NoRegisteredProviderFound", "No registered resource provider found for location and API version for type '"
                + id.type() + "' (the fake does not serve it).");
        }
        return t;
    }

    private void requireScope(ArmId id) {
        if (!id.resourceGroup().isEmpty() && !groups.containsKey(groupKey(id.subscription(), id.resourceGroup()))) {
            throw new ArmError(404, "ResourceGroupNotFound", "Resource group '" + id.resourceGroup() + "' could not be found.");
        }
        String parent = id.parent();
        boolean parentIsGroupOrSubscription = parent.split("/").length <= 5 && !parent.toLowerCase(Locale.ROOT).contains("/providers/");
        if (!parentIsGroupOrSubscription && !resources.containsKey(ArmId.key(parent))) {
            throw new ArmError(404, "ParentResourceNotFound", "Can not perform requested operation on nested resource. Parent resource '"
                + parent.substring(parent.lastIndexOf('/') + 1) + "' not found.");
        }
    }

    private Answer put(ArmId id, Map<String, Object> body, ArmError failOp, String ifMatch) {
        ArmType type = type(id);
        requireScope(id);
        Optional<Map<String, Object>> existing = Optional.ofNullable(resources.get(id.key())).map(ArmFake::copy);
        requireMatch(id, existing, ifMatch);
        if (type.model() != null) ArmModels.check(type.model(), body);
        if (type.tracked()) {
            Object loc = body.get("location");
            if (!(loc instanceof String s) || s.isBlank()) {
                throw ArmError.badRequest("LocationRequired", "The location property is required for this definition.");
            }
            if (existing.isPresent() && !norm(String.valueOf(existing.get().get("location"))).equals(norm(s))) {
                throw ArmError.badRequest("InvalidResourceLocation", "The resource '" + id.name() + "' already exists in location '"
                    + existing.get().get("location") + "' in resource group '" + id.resourceGroup() + "'. A resource with the same name cannot be "
                    + "created in location '" + s + "'. Please select a new resource name.");
            }
        }
        if (existing.isPresent() && isBusy(existing.get())) {
            throw ArmError.conflict("AnotherOperationInProgress", "Another operation on this or dependent resource is in progress. To retrieve "
                + "status of the operation use uri: " + id.id());
        }
        type.checkPut(this, id, body, existing);
        Map<String, Object> stored = new LinkedHashMap<>(type.store(this, id, copy(body), existing));
        stored.put("id", id.id());
        stored.put("name", id.name());
        stored.put("type", id.type());
        if (type.tracked() && !stored.containsKey("tags")) stored.put("tags", new LinkedHashMap<>());
        stored.put("etag", "W/\"" + UUID.randomUUID() + "\"");
        return write(id, type, stored, existing.isPresent(), failOp);
    }

    /**
     * A write conditional on {@code If-Match} (the etag the client read, or {@code *}): refused with 412
     * when the resource has changed since, or is not there, as ARM refuses it.
     */
    private static void requireMatch(ArmId id, Optional<Map<String, Object>> existing, String ifMatch) {
        if (ifMatch == null) return;
        boolean matches = existing.isPresent() && (ifMatch.trim().equals("*") || ifMatch.trim().equals(String.valueOf(existing.get().get("etag"))));
        if (!matches) {
            throw new ArmError(412, "PreconditionFailed", "The condition specified using HTTP conditional header(s) is not met: If-Match " + ifMatch
                + (existing.isPresent() ? " does not match the current etag of " : " given, but there is no ") + id.id() + ".");
        }
    }

    private Answer write(ArmId id, ArmType type, Map<String, Object> stored, boolean update, ArmError failOp) {
        if ((type.lro() == ArmType.Lro.SYNC || type.lro() == ArmType.Lro.ACCEPTED && update) && failOp == null) {
            properties(stored).put("provisioningState", "Succeeded");
            if (!update) born.put(id.key(), Instant.now());
            resources.put(id.key(), stored);
            type.afterWrite(this, id, Optional.of(copy(stored)));
            return Answer.of(update ? 200 : type.createdStatus(), stored);
        }
        properties(stored).put("provisioningState", update ? "Updating" : "Creating");
        if (!update) born.put(id.key(), Instant.now());
        resources.put(id.key(), stored);
        type.afterWrite(this, id, Optional.of(copy(stored)));
        if (type.lro() == ArmType.Lro.ACCEPTED && !update) {
            // As the storage provider answers a create: 202, no body, only a Location to poll (no Azure-AsyncOperation).
            Operation op = operation(id.key(), false, failOp, true);
            return new Answer(202, null, Map.of("Location", operationUrl(op), "Retry-After", "0"));
        }
        Operation op = operation(id.key(), false, failOp);
        return new Answer(update ? 200 : type.createdStatus(), stored, Map.of("Azure-AsyncOperation", operationUrl(op), "Retry-After", "0"));
    }

    private Answer patch(ArmId id, Map<String, Object> body, ArmError failOp) {
        ArmType type = type(id);
        Map<String, Object> existing = resources.get(id.key());
        if (existing == null) throw ArmError.notFound(id.type(), id.name(), id.resourceGroup());
        if (!type.patchable()) throw new ArmError(405, "MethodNotAllowed", "PATCH is not supported for " + id.type());
        if (isBusy(existing)) {
            throw ArmError.conflict("AnotherOperationInProgress", "Another operation on this or dependent resource is in progress.");
        }
        // What a PUT of the merged resource would send: only the writable parts, checked like a PUT body.
        Map<String, Object> merged = copy(existing);
        mergePatch(merged, body);
        for (String readOnly : List.of("id", "name", "type", "etag")) merged.remove(readOnly);
        properties(merged).remove("provisioningState");
        if (type.patchModel() != null) ArmModels.check(type.patchModel(), body);
        type.checkPut(this, id, merged, Optional.of(copy(existing)));
        Map<String, Object> stored = new LinkedHashMap<>(type.store(this, id, merged, Optional.of(copy(existing))));
        stored.put("id", id.id());
        stored.put("name", id.name());
        stored.put("type", id.type());
        stored.put("etag", "W/\"" + UUID.randomUUID() + "\"");
        return write(id, type, stored, true, failOp);
    }

    @SuppressWarnings("unchecked")
    private static void mergePatch(Map<String, Object> target, Map<String, Object> patch) {
        patch.forEach((k, v) -> {
            if (v == null) target.remove(k);
            else if (v instanceof Map<?, ?> pm && target.get(k) instanceof Map<?, ?> tm && !k.equals("tags")) {
                mergePatch((Map<String, Object>) tm, (Map<String, Object>) pm);
            } else target.put(k, deepCopy(v));
        });
    }

    private Answer delete(ArmId id, ArmError failOp) {
        ArmType type = type(id);
        Map<String, Object> existing = resources.get(id.key());
        if (existing == null) return Answer.of(204, null);
        if (isBusy(existing) && !"Deleting".equals(properties(existing).get("provisioningState"))) {
            throw ArmError.conflict("AnotherOperationInProgress", "Another operation on this or dependent resource is in progress.");
        }
        type.checkDelete(this, id, copy(existing));
        if ((type.lro() == ArmType.Lro.SYNC || type.lro() == ArmType.Lro.ACCEPTED) && failOp == null) {
            removeTree(id.key());
            type.afterWrite(this, id, Optional.empty());
            return Answer.of(200, null);
        }
        properties(existing).put("provisioningState", "Deleting");
        Operation op = operation(id.key(), true, failOp);
        return new Answer(202, null, Map.of("Location", operationUrl(op), "Retry-After", "0"));
    }

    private void removeTree(String key) {
        resources.keySet().removeIf(x -> x.equals(key) || x.startsWith(key + "/"));
    }

    private static boolean isBusy(Map<String, Object> r) {
        Object state = r.get("properties") instanceof Map<?, ?> p ? p.get("provisioningState") : null;
        return "Creating".equals(state) || "Updating".equals(state) || "Deleting".equals(state);
    }

    private Operation operation(String key, boolean delete, ArmError failure) {
        return operation(key, delete, failure, false);
    }

    private Operation operation(String key, boolean delete, ArmError failure, boolean location) {
        Operation op = new Operation(UUID.randomUUID().toString(), key, delete, Instant.now(), failure, location);
        operations.put(op.id, op);
        unfinished.add(op);
        return op;
    }

    private String operationUrl(Operation op) {
        return "http://127.0.0.1:" + port() + "/_operations/" + op.id + "?api-version=2023-01-01";
    }

    /** Finishes every operation whose time has passed: the resource is {@code Succeeded} (or {@code Failed}), or gone. */
    private void settle() {
        Instant now = Instant.now();
        for (Operation op : List.copyOf(unfinished)) {
            if (op.finished || now.isBefore(op.startedAt.plus(operationTime))) continue; // operationTime(ZERO) releases held ones
            op.finished = true;
            unfinished.remove(op);
            Map<String, Object> r = resources.get(op.resourceKey);
            if (op.delete) {
                if (op.failure != null) {
                    if (r != null) properties(r).put("provisioningState", "Failed");
                    continue;
                }
                if (op.resourceKey.startsWith("/subscriptions/") && op.resourceKey.split("/").length == 5) {
                    groups.remove(op.resourceKey);
                    resources.keySet().removeIf(x -> x.startsWith(op.resourceKey + "/"));
                    continue;
                }
                if (r == null) continue;
                ArmId id = ArmId.parse(String.valueOf(r.get("id")));
                removeTree(op.resourceKey);
                Optional.ofNullable(types.get(id.type())).ifPresent(t -> t.afterWrite(this, id, Optional.empty()));
            } else if (r != null) {
                properties(r).put("provisioningState", op.failure == null ? "Succeeded" : "Failed");
                ArmId id = ArmId.parse(String.valueOf(r.get("id")));
                Optional.ofNullable(types.get(id.type())).ifPresent(t -> t.afterWrite(this, id, Optional.of(copy(r))));
            }
        }
    }

    private Answer poll(String opId) {
        Operation op = operations.get(opId);
        if (op == null) throw new ArmError(404, "NotFound", "no operation " + opId);
        if (op.location) return pollLocation(op);
        if (!op.finished) {
            if (op.delete) return new Answer(202, null, Map.of("Location", operationUrl(op), "Retry-After", "0"));
            return new Answer(200, Map.of("status", "InProgress"), Map.of("Retry-After", "0"));
        }
        if (op.failure != null) {
            Map<String, Object> err = new LinkedHashMap<>();
            err.put("code", op.failure.code());
            err.put("message", op.failure.getMessage());
            return Answer.of(200, Map.of("status", "Failed", "error", err));
        }
        if (op.delete) return Answer.of(200, null);
        return Answer.of(200, Map.of("status", "Succeeded"));
    }

    /**
     * A create polled through its {@code Location} (ARM's asynchronous-operation contract): 202 while it
     * runs, then 200 with the resource as a GET answers it, or the operation's error with its status.
     */
    private Answer pollLocation(Operation op) {
        if (!op.finished) return new Answer(202, null, Map.of("Location", operationUrl(op), "Retry-After", "0"));
        if (op.failure != null) return Answer.of(op.failure.status(), op.failure.body());
        Map<String, Object> r = resources.get(op.resourceKey);
        if (r == null) throw new ArmError(404, "ResourceNotFound", "The resource of operation " + op.id + " no longer exists.");
        return Answer.of(200, r);
    }

    private Answer resourceGroup(String method, String subscription, String name, String body, ArmError failOp) {
        String key = groupKey(subscription, name);
        switch (method) {
            case "GET", "HEAD" -> {
                Map<String, Object> g = groups.get(key);
                if (g == null) throw new ArmError(404, "ResourceGroupNotFound", "Resource group '" + name + "' could not be found.");
                return Answer.of(method.equals("HEAD") ? 204 : 200, method.equals("HEAD") ? null : g);
            }
            case "PUT" -> {
                Map<String, Object> b = ArmModels.parse(body);
                ArmModels.check(com.azure.resourcemanager.resources.fluent.models.ResourceGroupInner.class, b);
                if (!(b.get("location") instanceof String loc) || loc.isBlank()) {
                    throw ArmError.badRequest("LocationRequired", "The location property is required for this definition.");
                }
                Map<String, Object> existing = groups.get(key);
                if (existing != null && !norm(String.valueOf(existing.get("location"))).equals(norm(loc))) {
                    throw ArmError.conflict("InvalidResourceGroupLocation", "Invalid resource group location '" + loc + "'. The Resource group already "
                        + "exists in location '" + existing.get("location") + "'.");
                }
                @SuppressWarnings("unchecked")
                Map<String, String> tags = b.get("tags") instanceof Map<?, ?> t ? (Map<String, String>) t : Map.of();
                putGroup(subscription, existing == null ? name : String.valueOf(existing.get("name")), loc, tags);
                return Answer.of(existing == null ? 201 : 200, groups.get(key));
            }
            case "DELETE" -> {
                if (!groups.containsKey(key)) return Answer.of(404, new ArmError(404, "ResourceGroupNotFound", "Resource group '" + name + "' could not be found.").body());
                Operation op = operation(key, true, failOp);
                return new Answer(202, null, Map.of("Location", operationUrl(op), "Retry-After", "0"));
            }
            default -> throw new ArmError(405, "MethodNotAllowed", method + " is not allowed on a resource group");
        }
    }

    private List<Map<String, Object>> groupResources(String subscription, String group, Map<String, String> query) {
        String prefix = groupKey(subscription, group) + "/providers/";
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map.Entry<String, Map<String, Object>> e : resources.entrySet()) {
            if (!e.getKey().startsWith(prefix)) continue;
            ArmId id = ArmId.parse(String.valueOf(e.getValue().get("id")));
            ArmType t = types.get(id.type());
            if (id.types().size() == 1 && id.inGroup() && t != null && t.tracked()) out.add(e.getValue());
        }
        if (query.containsKey("$top")) out = out.subList(0, Math.min(out.size(), Integer.parseInt(query.get("$top"))));
        return out;
    }

    /** GET of a collection: the children of that type under the scope, whose parent must exist. */
    private List<Map<String, Object>> collection(String path) {
        String k = ArmId.key(path);
        String parent = k.substring(0, k.lastIndexOf('/'));
        String[] seg = k.split("/");
        if (seg.length > 4 && seg[3].equals("resourcegroups") && !groups.containsKey(String.join("/", java.util.Arrays.copyOf(seg, 5)))) {
            throw new ArmError(404, "ResourceGroupNotFound", "Resource group '" + seg[4] + "' could not be found.");
        }
        String afterProviders = parent.substring(parent.lastIndexOf("/providers/") + "/providers/".length());
        if (afterProviders.split("/").length >= 3 && !resources.containsKey(parent)) {
            throw new ArmError(404, "ParentResourceNotFound", "Parent resource '" + parent.substring(parent.lastIndexOf('/') + 1) + "' not found.");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map.Entry<String, Map<String, Object>> e : resources.entrySet()) {
            if (e.getKey().startsWith(k + "/") && !e.getKey().substring(k.length() + 1).contains("/")) out.add(e.getValue());
        }
        return out;
    }

    private static String graphQueryText(String body) {
        try {
            Object q = ArmModels.parse(body).get("query");
            return q == null ? "" : String.valueOf(q);
        } catch (ArmError e) {
            return "";
        }
    }

    // ---- Resource Graph --------------------------------------------------------------------------

    @SuppressWarnings("unchecked")
    private Answer graph(String body) {
        Map<String, Object> req = ArmModels.parse(body);
        ArmModels.check(com.azure.resourcemanager.resourcegraph.models.QueryRequest.class, req);
        GraphQuery q = GraphQuery.parse(String.valueOf(req.get("query")));
        List<String> subscriptions = req.get("subscriptions") instanceof List<?> l ? (List<String>) l : List.of();
        Map<String, Object> options = req.get("options") instanceof Map<?, ?> o ? (Map<String, Object>) o : Map.of();
        if (!"objectArray".equals(options.getOrDefault("resultFormat", "objectArray"))) {
            throw ArmError.badRequest("BadRequest", "the fake answers only resultFormat objectArray");
        }
        int top = options.get("$top") instanceof Number n ? n.intValue() : 100;
        if (top > 1000) throw ArmError.badRequest("BadRequest", "$top must be at most 1000");
        int skip = options.get("$skipToken") instanceof String t ? Integer.parseInt(new String(Base64.getDecoder().decode(t), StandardCharsets.UTF_8)) : 0;
        List<Map<String, Object>> rows = new ArrayList<>();
        Instant indexed = Instant.now().minus(graphLag);
        for (Map<String, Object> r : resources.values()) {
            ArmId id = ArmId.parse(String.valueOf(r.get("id")));
            if (born.getOrDefault(id.key(), Instant.EPOCH).isAfter(indexed)) continue; // not in the index yet
            ArmType t = types.get(id.type());
            if (t == null || !subscriptions.stream().anyMatch(s -> s.equalsIgnoreCase(id.subscription()))) continue;
            boolean table = switch (q.table) {
                case "resources" -> t.graph() == ArmType.Graph.RESOURCES;
                case "authorizationresources" -> t.graph() == ArmType.Graph.AUTHORIZATION;
                default -> false;
            };
            if (!table) continue;
            Map<String, Object> row = copy(r);
            row.put("type", String.valueOf(r.get("type")).toLowerCase(Locale.ROOT));
            row.put("resourceGroup", id.resourceGroup().toLowerCase(Locale.ROOT));
            row.put("subscriptionId", id.subscription());
            row.remove("etag");
            rows.add(t.graphRow(row));
        }
        if (q.table.equals("resourcecontainers")) {
            for (Map<String, Object> g : groups.values()) {
                Map<String, Object> row = copy(g);
                row.put("type", "microsoft.resources/subscriptions/resourcegroups");
                rows.add(row);
            }
        }
        List<Map<String, Object>> hits = q.run(rows);
        List<Map<String, Object>> page = hits.subList(Math.min(skip, hits.size()), Math.min(skip + top, hits.size()));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("totalRecords", hits.size());
        out.put("count", page.size());
        out.put("resultTruncated", "false");
        if (skip + top < hits.size()) {
            out.put("$skipToken", Base64.getEncoder().encodeToString(String.valueOf(skip + top).getBytes(StandardCharsets.UTF_8)));
        }
        out.put("data", page);
        out.put("facets", List.of());
        return Answer.of(200, out);
    }

    // ---- admin -----------------------------------------------------------------------------------

    private Answer admin(String method, String path, Map<String, String> query, String body) {
        switch (method + " " + path) {
            case "GET /_fake/requests" -> {
                return Answer.of(200, Map.of("total", faults.total(), "requests", faults.log()));
            }
            case "GET /_fake/resources" -> {
                return Answer.of(200, Map.of("value", all()));
            }
            case "POST /_fake/reset" -> {
                reset();
                return Answer.of(200, Map.of());
            }
            case "POST /_fake/operation-time" -> {
                operationTime(Duration.ofMillis(Long.parseLong(query.getOrDefault("ms", "0"))));
                return Answer.of(200, Map.of());
            }
            case "POST /_fake/faults" -> {
                Map<String, Object> f = ArmModels.parse(body);
                String match = String.valueOf(f.get("match"));
                int times = f.get("times") instanceof Number n ? n.intValue() : 1;
                String kind = String.valueOf(f.getOrDefault("kind", "error"));
                ArmError err = new ArmError(f.get("status") instanceof Number s ? s.intValue() : 500,
                    String.valueOf(f.getOrDefault("code", "InternalServerError")), String.valueOf(f.getOrDefault("message", "fault")));
                switch (kind) {
                    case "drop" -> faults.dropResponse(match, times);
                    case "throttle" -> faults.throttle(match, times, f.get("retryAfter") instanceof Number r ? r.intValue() : 1);
                    case "fail-operation" -> faults.failOperation(match, times, err);
                    default -> faults.fail(match, times, err);
                }
                return Answer.of(200, Map.of());
            }
            default -> {
                return Answer.of(404, new ArmError(404, "NotFound", "no admin call " + method + " " + path).body());
            }
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) return out;
        for (String part : raw.split("&")) {
            int eq = part.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(k, v);
        }
        return out;
    }

    private static void send(HttpExchange ex, Answer a) throws IOException {
        a.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        ex.getResponseHeaders().set("x-ms-request-id", UUID.randomUUID().toString());
        if (a.body() == null || a.status() == 204) {
            ex.sendResponseHeaders(a.status(), -1);
            return;
        }
        byte[] bytes = ArmModels.write(a.body()).getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.sendResponseHeaders(a.status(), bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    static String norm(String location) {
        return location.toLowerCase(Locale.ROOT).replace(" ", "");
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }

    /** {@code bin/azure-fakes [--port 8090]}: serves until killed, after printing the environment that points mlctl at it. */
    public static void main(String[] args) throws Exception {
        int port = 8090;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--port") && i + 1 < args.length) port = Integer.parseInt(args[++i]);
            else if (args[i].equals("--help") || args[i].equals("-h")) {
                System.out.println("Usage: bin/azure-fakes [--port 8090]\nA local fake of Azure Resource Manager and Resource Graph on 127.0.0.1.");
                return;
            }
            else {
                System.err.println("Error: unknown option " + args[i] + " (try --help)");
                System.exit(1);
            }
        }
        ArmFake f = new ArmFake(port);
        Optional.ofNullable(System.getenv("MLCTL_FAKE_AZURITE")).ifPresent(blobs -> BlobMirror.attach(f, blobs)); // blob containers also in Azurite
        f.server.start();
        System.out.println("# Azure Resource Manager fake on 127.0.0.1:" + f.port() + "; point mlctl at it with:");
        System.out.println("export " + "MLCTL_AZURE_RESOURCE_MANAGER_ENDPOINT=" + f.endpoint());
        System.out.println("export AZURE_SUBSCRIPTION_ID=00000000-0000-0000-0000-000000000000");
        System.out.flush();
        Thread.currentThread().join();
    }
}
