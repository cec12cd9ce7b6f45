package io.mlctl.provider.azure;

import com.azure.core.http.HttpHeaderName;
import com.azure.core.http.HttpMethod;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.HttpResponse;
import com.azure.core.management.exception.ManagementError;
import com.azure.core.management.exception.ManagementException;
import com.azure.core.management.polling.PollResult;
import com.azure.core.util.polling.LongRunningOperationStatus;
import com.azure.core.util.polling.PollResponse;
import com.azure.core.util.polling.SyncPoller;
import com.azure.core.util.Context;
import com.azure.resourcemanager.resources.fluent.models.GenericResourceInner;
import com.azure.resourcemanager.resources.models.Identity;
import com.azure.resourcemanager.resources.models.ResourceIdentityType;
import com.azure.resourcemanager.resources.models.Sku;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mlctl.inventory.Ownership;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Waiter;
import io.mlctl.spec.Environment;
import io.mlctl.util.Hashing;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Azure Machine Learning workspace mlctl keeps for an environment's inference endpoints, with what
 * Azure requires a workspace to have: a storage account and a key vault of its own (no Application
 * Insights: it is optional and only feeds monitoring). All three live in the environment's resource
 * group and carry the environment's marker without an address ({@code mlctl-environment=<env>},
 * {@code managed-by=mlctl}), as the resource group does: they belong to the environment as a whole, not
 * to one spec resource, and no kind lists them. They are made with the first endpoint and released only
 * when the environment is destroyed ({@link AzureDriver#released}), never by an endpoint's delete (a
 * replaced endpoint would otherwise take the workspace down mid-apply), and then only when nothing of
 * anyone is in the workspace (see {@link #releaseIfEmpty}).
 *
 * <p>Deletes leave nothing reserved: the workspace is deleted with {@code forceToPurge=true} (a
 * soft-deleted workspace would keep its name for 14 days) and the key vault is purged after its delete
 * (a soft-deleted vault keeps its name, unique across Azure, for up to 90 days); a vault found soft-deleted
 * when making one (an earlier purge refused) is recovered. Azure ML has no management library in this
 * build, so the workspace and vault go through the generic resources API with bodies typed after the
 * published REST definitions, and the calls that API cannot express (a delete with a query parameter,
 * a POST action, a child collection) through the same HTTP pipeline by hand.
 */
final class MachineLearningWorkspace {
    static final String ML_API = "2024-04-01";
    static final String VAULT_API = "2023-07-01";
    static final String STORAGE_API = "2023-05-01";
    static final String WORKSPACES = "Microsoft.MachineLearningServices/workspaces";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** One lock per workspace: making or releasing it, and an endpoint's first call inside it, never interleave in this process. */
    private static final Map<String, Object> LOCKS = new ConcurrentHashMap<>();

    private MachineLearningWorkspace() {
    }

    // ---- names ------------------------------------------------------------------------------------

    /** {@code <env>-mlw}: 3–33 letters, digits, '-' and '_'; a long environment name is cut and given a hash. */
    static String name(Environment env) {
        String n = env.name() + "-mlw";
        return n.length() <= 33 ? n : env.name().substring(0, 24) + "-" + Hashing.sha256Text(env.name()).substring(0, 8);
    }

    static String id(AzureClients cloud, Environment env) {
        return AzureKind.resourceId(cloud, env, WORKSPACES, name(env));
    }

    /**
     * An online endpoint's name: unique per region across all of Azure, 3–32 letters, digits and '-'.
     * It is {@code <env>-<name>}, or, when longer, its first 23 characters, '-' and 8 hex characters of a
     * hash of both.
     */
    static String endpointName(Environment env, String name) {
        String n = env.name() + "-" + name;
        if (n.length() <= 32) return n;
        String cut = n.substring(0, 23);
        return cut + (cut.endsWith("-") ? "" : "-") + Hashing.sha256Text(env.name() + "/" + name).substring(0, 8);
    }

    static String endpointId(AzureClients cloud, Environment env, String name) {
        return id(cloud, env) + "/onlineEndpoints/" + endpointName(env, name);
    }

    /** The workspace's storage account: 3–24 lowercase letters and digits, unique across Azure. */
    static String storageName(String subscription, Environment env) {
        String base = (env.name() + "mlw").toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
        if (base.length() > 16) base = base.substring(0, 16);
        return base + Hashing.sha256Text(subscription.toLowerCase(Locale.ROOT) + "/" + env.name() + "/mlctl-ml-workspace").substring(0, 8);
    }

    /** The workspace's key vault: 3–24 letters, digits and single hyphens, starting with a letter, unique across Azure. */
    static String vaultName(String subscription, Environment env) {
        String base = env.name().replaceAll("-+", "-");
        if (base.length() > 12) base = base.substring(0, 12);
        base = base.replaceAll("-$", "");
        return base + "-kv" + Hashing.sha256Text(subscription.toLowerCase(Locale.ROOT) + "/" + env.name() + "/mlctl-ml-vault").substring(0, 8);
    }

    /** The marker of what belongs to the environment as a whole. */
    static Map<String, String> tags(Environment env) {
        return Map.of(Ownership.ENVIRONMENT_TAG, env.name(), Ownership.MANAGED_BY_TAG, "mlctl");
    }

    static Object lock(AzureClients cloud, Environment env) {
        return LOCKS.computeIfAbsent(id(cloud, env).toLowerCase(Locale.ROOT), k -> new Object());
    }

    // ---- making and releasing ---------------------------------------------------------------------

    /**
     * The workspace, made when missing (storage account, key vault, then workspace) and ready; each
     * long-running write waited for at most {@code timeout}. Call under {@link #lock}.
     */
    static void ensure(AzureClients cloud, Environment env, Waiter waiter, Duration timeout) {
        String id = id(cloud, env);
        Optional<Map<String, Object>> found = get(cloud, "read Azure ML workspace " + name(env), id, ML_API);
        if (found.isPresent()) {
            requireOurs(env, found.get(), "Azure ML workspace " + name(env));
            if (!"Failed".equals(state(found.get()))) {
                awaitReady(cloud, waiter, "Azure ML workspace " + name(env), id, ML_API);
                return;
            }
        }
        String storage = ensureStorage(cloud, env, timeout);
        String vault = ensureVault(cloud, env, timeout);
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("friendlyName", name(env));
        p.put("description", "Azure ML workspace of mlctl environment " + env.name() + " for its inference endpoints (managed by mlctl)");
        p.put("storageAccount", storage);
        p.put("keyVault", vault);
        p.put("publicNetworkAccess", "Enabled");
        p.put("v1LegacyMode", false);
        GenericResourceInner body = new GenericResourceInner().withKind("Default").withProperties(p)
            .withIdentity(new Identity().withType(ResourceIdentityType.SYSTEM_ASSIGNED)).withSku(new Sku().withName("Basic").withTier("Basic"));
        body.withLocation(env.region()).withTags(tags(env));
        put(cloud, "create Azure ML workspace " + name(env), id, ML_API, body, timeout);
    }

    private static String ensureStorage(AzureClients cloud, Environment env, Duration timeout) {
        String name = storageName(cloud.subscription(), env);
        String id = AzureKind.resourceId(cloud, env, "Microsoft.Storage/storageAccounts", name);
        Optional<Map<String, Object>> found = get(cloud, "read storage account " + name, id, STORAGE_API);
        if (found.isPresent()) {
            requireOurs(env, found.get(), "storage account " + name);
            return id;
        }
        // StorageV2, locally redundant, TLS 1.2, HTTPS only, no anonymous blob access: what the workspace needs and no more.
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("minimumTlsVersion", "TLS1_2");
        p.put("allowBlobPublicAccess", false);
        p.put("supportsHttpsTrafficOnly", true);
        GenericResourceInner body = new GenericResourceInner().withKind("StorageV2").withSku(new Sku().withName("Standard_LRS")).withProperties(p);
        body.withLocation(env.region()).withTags(tags(env));
        put(cloud, "create storage account " + name + " for Azure ML workspace " + name(env), id, STORAGE_API, body, timeout);
        return id;
    }

    private static String ensureVault(AzureClients cloud, Environment env, Duration timeout) {
        String name = vaultName(cloud.subscription(), env);
        String id = AzureKind.resourceId(cloud, env, "Microsoft.KeyVault/vaults", name);
        Optional<Map<String, Object>> found = get(cloud, "read key vault " + name, id, VAULT_API);
        if (found.isPresent()) {
            requireOurs(env, found.get(), "key vault " + name);
            return id;
        }
        // Access policies empty: the workspace adds its own identity's when it is created (and a re-PUT would drop it: never sent again).
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("tenantId", tenant(cloud));
        p.put("sku", Map.of("family", "A", "name", "standard"));
        p.put("accessPolicies", List.of());
        p.put("enableSoftDelete", true);
        p.put("softDeleteRetentionInDays", 7);
        GenericResourceInner body = new GenericResourceInner().withProperties(p);
        body.withLocation(env.region()).withTags(tags(env));
        try {
            put(cloud, "create key vault " + name, id, VAULT_API, body, timeout);
        } catch (DriverException e) {
            if (e.getCause() == null || AzureErrors.code(e.getCause()).filter("ConflictError"::equals).isEmpty()) throw e;
            // Soft-deleted by an earlier destroy whose purge was refused: the name is still ours to recover.
            p.put("createMode", "recover");
            put(cloud, "recover soft-deleted key vault " + name, id, VAULT_API, body, timeout);
        }
        return id;
    }

    /** The subscription's Entra ID tenant (a key vault names it): {@code AZURE_TENANT_ID}, else the subscription's. */
    private static String tenant(AzureClients cloud) {
        return cloud.settings().tenant().orElseGet(() -> AzureErrors.call("read subscription " + cloud.subscription(),
            () -> cloud.resources().subscriptionClient().getSubscriptions().get(cloud.subscription()).tenantId()));
    }

    /** Datastores Azure ML registers in every workspace it makes (they go with it, and are nobody's work). */
    static final Set<String> DEFAULT_DATASTORES = Set.of("workspaceblobstore", "workspacefilestore", "workspaceartifactstore",
        "workspaceworkingdirectory");

    /**
     * What in the workspace is someone's work, which a release would destroy with it: any online, batch
     * or serverless endpoint, compute, job, data asset, connection, a datastore beyond the ones Azure
     * made with the workspace, a model mlctl did not register. Empty: the workspace holds nothing of value.
     * The collections are read in turn until one holds something (the first such collection is returned).
     * A collection Azure does not serve here (404, {@code InvalidResourceType}, {@code NoRegisteredProviderFound}:
     * a cloud or api-version without it) holds what nobody can tell: it keeps the workspace, without an error.
     */
    static List<String> contents(AzureClients cloud, Environment env) {
        String id = id(cloud, env);
        List<String> found = new ArrayList<>();
        for (String child : List.of("onlineEndpoints", "batchEndpoints", "serverlessEndpoints", "computes", "jobs", "data", "connections",
            "datastores", "models")) {
            List<Map<String, Object>> items;
            try {
                items = children(cloud, "list " + child + " of Azure ML workspace " + name(env), id + "/" + child, ML_API);
            } catch (DriverException e) {
                Optional<String> unknown = unservedCollection(e);
                if (unknown.isEmpty()) throw e;
                found.add(child + " (unknown: Azure answered " + unknown.get() + " listing them)");
                return found;
            }
            for (Map<String, Object> c : items) {
                String n = String.valueOf(c.get("name"));
                if (child.equals("datastores") && DEFAULT_DATASTORES.contains(n.toLowerCase(Locale.ROOT))) continue;
                if (child.equals("models") && registeredByMlctl(env, c)) continue;
                found.add(child + "/" + n);
            }
            if (!found.isEmpty()) return found;
        }
        return found;
    }

    /** The error code when a failed listing says Azure does not serve that collection here (so what it holds is unknown). */
    private static Optional<String> unservedCollection(DriverException e) {
        Throwable cause = e.getCause();
        if (cause == null) return Optional.empty();
        Optional<String> code = AzureErrors.code(cause);
        if (code.filter(c -> c.equals("InvalidResourceType") || c.equals("NoRegisteredProviderFound")).isPresent()) return code;
        if (AzureErrors.status(cause) == 404 || AzureErrors.notFound(cause)) return Optional.of(code.orElse("404"));
        return Optional.empty();
    }

    /** A model container mlctl registered for one of this environment's endpoints (its asset tags carry the environment's marker). */
    static boolean registeredByMlctl(Environment env, Map<String, Object> model) {
        Map<String, String> tags = AzureKind.tags(AzureKind.properties(model).get("tags"));
        return env.name().equals(tags.get(Ownership.ENVIRONMENT_TAG)) && "mlctl".equals(tags.get(Ownership.MANAGED_BY_TAG));
    }

    /**
     * When the environment is destroyed ({@link AzureDriver#released}): deletes the workspace (purged), its
     * key vault (purged) and storage account, unless the workspace holds anything of anyone's ({@link
     * #contents}): then it and its vault and storage are kept, which is not an error of the destroy (the
     * resource group stays with them). Returns what kept the workspace (empty when released or gone).
     * Call under {@link #lock}.
     */
    static List<String> releaseIfEmpty(AzureClients cloud, Environment env, Waiter waiter, Duration timeout) {
        String id = id(cloud, env);
        Optional<Map<String, Object>> ws = get(cloud, "read Azure ML workspace " + name(env), id, ML_API);
        if (ws.isPresent()) {
            if (!AzureDriver.ourGroup(AzureKind.tags(ws.get().get("tags")), env)) return List.of("not mlctl's");
            List<String> contents = contents(cloud, env);
            if (!contents.isEmpty()) return contents;
            send(cloud, "delete Azure ML workspace " + name(env), HttpMethod.DELETE, id, ML_API, "&forceToPurge=true");
            waiter.until("deletion of Azure ML workspace " + name(env), () -> get(cloud, "read Azure ML workspace " + name(env), id, ML_API)
                .map(w -> Waiter.Status.pending(String.valueOf(state(w)))).orElse(Waiter.Status.ready("deleted")));
        }
        releaseVault(cloud, env, waiter, timeout);
        String storage = storageName(cloud.subscription(), env);
        String account = AzureKind.resourceId(cloud, env, "Microsoft.Storage/storageAccounts", storage);
        Optional<Map<String, Object>> found = get(cloud, "read storage account " + storage, account, STORAGE_API);
        if (found.isPresent() && AzureDriver.ourGroup(AzureKind.tags(found.get().get("tags")), env)) {
            delete(cloud, "delete storage account " + storage, account, STORAGE_API, timeout);
        }
        return List.of();
    }

    private static void releaseVault(AzureClients cloud, Environment env, Waiter waiter, Duration timeout) {
        String name = vaultName(cloud.subscription(), env);
        String id = AzureKind.resourceId(cloud, env, "Microsoft.KeyVault/vaults", name);
        Optional<Map<String, Object>> vault = get(cloud, "read key vault " + name, id, VAULT_API);
        if (vault.isEmpty() || !AzureDriver.ourGroup(AzureKind.tags(vault.get().get("tags")), env)) return;
        String location = AzureKind.region(String.valueOf(vault.get().get("location")));
        delete(cloud, "delete key vault " + name, id, VAULT_API, timeout);
        String deleted = "/subscriptions/" + cloud.subscription() + "/providers/Microsoft.KeyVault/locations/" + location + "/deletedVaults/" + name;
        try {
            send(cloud, "purge deleted key vault " + name, HttpMethod.POST, deleted + "/purge", VAULT_API, "");
        } catch (DriverException e) {
            if (e.getCause() != null && AzureErrors.notFound(e.getCause())) return; // purged already
            throw e;
        }
        waiter.until("purge of key vault " + name, () -> get(cloud, "read deleted key vault " + name, deleted, VAULT_API)
            .map(v -> Waiter.Status.pending("deleted")).orElse(Waiter.Status.ready("purged")));
    }

    private static void requireOurs(Environment env, Map<String, Object> resource, String what) {
        Map<String, String> tags = AzureKind.tags(resource.get("tags"));
        if (!AzureDriver.ourGroup(tags, env)) throw notOurs(what, tags, env);
    }

    private static DriverException notOurs(String what, Map<String, String> tags, Environment env) {
        String owner = tags.containsKey(Ownership.ENVIRONMENT_TAG)
            ? "tagged for mlctl environment " + tags.get(Ownership.ENVIRONMENT_TAG) + (tags.containsKey(Ownership.ADDRESS_TAG) ? " as " + tags.get(Ownership.ADDRESS_TAG) : "")
            : "not managed by mlctl";
        return new DriverException(what + " already exists in resource group " + AzureKind.resourceGroup(env) + " and is " + owner
            + "; mlctl keeps its own for environment " + env.name() + " and does not use it", false);
    }

    static String state(Map<String, Object> resource) {
        return String.valueOf(AzureKind.properties(resource).getOrDefault("provisioningState", "Succeeded"));
    }

    /** Polls a resource until its provisioning state is terminal: Succeeded, or Failed (an error). */
    static void awaitReady(AzureClients cloud, Waiter waiter, String what, String id, String api) {
        waiter.until(what, () -> {
            Map<String, Object> r = get(cloud, "read " + what, id, api)
                .orElseThrow(() -> new DriverException(what + " no longer exists; run plan again", false));
            String state = state(r);
            if (state.equals("Succeeded")) return Waiter.Status.ready(state);
            if (state.equals("Failed") || state.equals("Canceled")) return Waiter.Status.failed(state, "its last operation did not succeed");
            return Waiter.Status.pending(state);
        });
    }

    // ---- ARM by hand ------------------------------------------------------------------------------

    /** An ARM id as the generic resources API takes it: without its leading '/'. */
    static String strip(String id) {
        return id.startsWith("/") ? id.substring(1) : id;
    }

    /** PUT through the generic resources API, waiting at most {@code timeout} for its long-running operation. */
    static GenericResourceInner put(AzureClients cloud, String what, String id, String api, GenericResourceInner body, Duration timeout) {
        return await(cloud, what, id, api, AzureErrors.call(what,
            () -> cloud.resources().serviceClient().getResources().beginCreateOrUpdateById(strip(id), api, body)), timeout);
    }

    /** DELETE through the generic resources API, waiting at most {@code timeout} for its long-running operation; gone already is done. */
    static void delete(AzureClients cloud, String what, String id, String api, Duration timeout) {
        try {
            await(cloud, what, id, api, cloud.resources().serviceClient().getResources().beginDeleteById(strip(id), api), timeout);
        } catch (RuntimeException e) {
            // A timeout is a DriverException of its own (its cause no 404): rethrown as it is.
            if (!AzureErrors.notFound(e instanceof DriverException d && d.getCause() != null ? d.getCause() : e)) throw AzureErrors.translate(what, e);
        }
    }

    /**
     * Waits at most {@code timeout} for a long-running operation on {@code id} and returns its result.
     * Past the timeout the operation goes on in Azure: an error names the resource and the provisioning
     * state it was last seen in and says to apply again, which finds the resource and waits again. It is not
     * retryable: the engine's retries would multiply a wait of an hour and a half many times over.
     * The SDK's poller ends a failed operation without an exception (and a null result): its error,
     * from the operation's status body, is thrown here as the SDK's own exception would be, so
     * {@link AzureErrors} makes it one line (quota, authorization...).
     */
    static <T> T await(AzureClients cloud, String what, String id, String api, SyncPoller<PollResult<T>, T> poller, Duration timeout) {
        PollResponse<PollResult<T>> last;
        try {
            last = poller.waitForCompletion(timeout);
        } catch (RuntimeException e) {
            if (!timedOut(e)) throw AzureErrors.translate(what, e);
            throw timeout(cloud, what, id, api, timeout, e);
        }
        if (last == null || !last.getStatus().isComplete()) throw timeout(cloud, what, id, api, timeout, null);
        if (last.getStatus() == LongRunningOperationStatus.SUCCESSFULLY_COMPLETED) return AzureErrors.call(what, poller::getFinalResult);
        PollResult.Error error = last.getValue() == null ? null : last.getValue().getError();
        String code = "OperationFailed";
        String message = "the operation ended " + last.getStatus();
        if (error != null) {
            message = error.getMessage();
            try {
                if (parse(error.getResponseBody()).get("error") instanceof Map<?, ?> m) {
                    code = String.valueOf(m.get("code"));
                    message = String.valueOf(m.get("message"));
                }
            } catch (RuntimeException notJson) {
                // the poller's own message stays
            }
        }
        throw AzureErrors.translate(what, new ManagementException(message, null, new ManagementError(code, message)));
    }

    /**
     * Whether the poller gave up waiting: azure-core's {@link java.util.concurrent.TimeoutException} in the
     * cause chain, and nothing else (a 504 GatewayTimeout from Azure is Azure's error, not this deadline).
     */
    private static boolean timedOut(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.util.concurrent.TimeoutException) return true;
        }
        return false;
    }

    private static DriverException timeout(AzureClients cloud, String what, String id, String api, Duration timeout, Throwable cause) {
        String state;
        try {
            state = get(cloud, "read " + AzureKind.lastSegment(id), id, api).map(MachineLearningWorkspace::state).orElse("gone");
        } catch (RuntimeException unreadable) {
            state = "unknown";
        }
        String waited = timeout.toSeconds() >= 120 ? timeout.toMinutes() + " min" : timeout.toSeconds() >= 1 ? timeout.toSeconds() + " s"
            : timeout.toMillis() + " ms";
        return new DriverException("timed out after " + waited + " waiting for " + what + " (" + AzureKind.lastSegment(id) + " last seen "
            + state + "); it goes on in Azure: run apply again to wait for it", false, cause);
    }

    /** GET of a resource as ARM answers it (the shape Resource Graph rows have), or empty on 404. */
    static Optional<Map<String, Object>> get(AzureClients cloud, String what, String id, String api) {
        try {
            return Optional.of(parse(send(cloud, what, HttpMethod.GET, id, api, "")));
        } catch (DriverException e) {
            if (e.getCause() != null && AzureErrors.notFound(e.getCause())) return Optional.empty();
            throw e;
        }
    }

    /** GET of a child collection ({@code .../onlineEndpoints/e/deployments}): every page. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> children(AzureClients cloud, String what, String collection, String api) {
        List<Map<String, Object>> out = new ArrayList<>();
        Map<String, Object> page = parse(send(cloud, what, HttpMethod.GET, collection, api, ""));
        while (true) {
            if (page.get("value") instanceof List<?> l) for (Object o : l) if (o instanceof Map<?, ?> m) out.add((Map<String, Object>) m);
            if (!(page.get("nextLink") instanceof String next) || next.isBlank()) return out;
            page = parse(sendUrl(cloud, what, HttpMethod.GET, next));
        }
    }

    /** One request through the clients' pipeline (counted, retried, authorized); a failure is a one-line {@link DriverException}. */
    static String send(AzureClients cloud, String what, HttpMethod method, String path, String api, String extraQuery) {
        String base = cloud.resources().serviceClient().getEndpoint();
        if (base.endsWith("/")) base = base.substring(0, base.length() - 1);
        return sendUrl(cloud, what, method, base + (path.startsWith("/") ? path : "/" + path) + "?api-version=" + api + extraQuery);
    }

    private static String sendUrl(AzureClients cloud, String what, HttpMethod method, String url) {
        HttpRequest request = new HttpRequest(method, url);
        if (method == HttpMethod.POST || method == HttpMethod.PUT) {
            request.setHeader(HttpHeaderName.CONTENT_TYPE, "application/json");
            request.setBody("{}");
        }
        try (HttpResponse response = cloud.resources().serviceClient().getHttpPipeline().sendSync(request, Context.NONE)) {
            String body = response.getBodyAsBinaryData() == null ? "" : response.getBodyAsBinaryData().toString();
            if (response.getStatusCode() >= 400) throw AzureErrors.translate(what, error(response, body));
            return body;
        } catch (RuntimeException e) {
            throw AzureErrors.translate(what, e);
        }
    }

    /** ARM's error body as the SDK's own exception, so {@link AzureErrors} reads it as any other. */
    private static ManagementException error(HttpResponse response, String body) {
        String code = "HttpStatus" + response.getStatusCode();
        String message = "HTTP " + response.getStatusCode();
        try {
            Map<String, Object> e = parse(body);
            if (e.get("error") instanceof Map<?, ?> m) {
                code = String.valueOf(m.get("code"));
                message = String.valueOf(m.get("message"));
            }
        } catch (RuntimeException ignored) {
            // not JSON: the status says it
        }
        return new ManagementException(message, response, new ManagementError(code, message));
    }

    static Map<String, Object> parse(String json) {
        if (json == null || json.isBlank()) return new LinkedHashMap<>();
        try {
            return JSON.readValue(json, new TypeReference<Map<String, Object>>() { });
        } catch (IOException e) {
            throw new DriverException("unexpected answer from Azure Resource Manager: " + e.getMessage().split("\\R", 2)[0], false, e);
        }
    }
}
