package io.mlctl.provider.azure;

import com.azure.core.credential.TokenCredential;
import com.azure.core.http.HttpClient;
import com.azure.core.http.HttpPipeline;
import com.azure.core.http.HttpPipelineBuilder;
import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.core.http.policy.ExponentialBackoffOptions;
import com.azure.core.http.policy.HttpPipelinePolicy;
import com.azure.core.http.policy.RetryOptions;
import com.azure.core.http.policy.RetryPolicy;
import com.azure.core.http.policy.UserAgentPolicy;
import com.azure.core.management.AzureEnvironment;
import com.azure.core.management.http.policy.ArmChallengeAuthenticationPolicy;
import com.azure.core.management.profile.AzureProfile;
import com.azure.identity.DefaultAzureCredentialBuilder;
import com.azure.resourcemanager.authorization.AuthorizationManager;
import com.azure.resourcemanager.compute.ComputeManager;
import com.azure.resourcemanager.containerservice.ContainerServiceManager;
import com.azure.resourcemanager.msi.MsiManager;
import com.azure.resourcemanager.network.NetworkManager;
import com.azure.resourcemanager.resourcegraph.ResourceGraphManager;
import com.azure.resourcemanager.resourcegraph.models.QueryRequest;
import com.azure.resourcemanager.resourcegraph.models.QueryRequestOptions;
import com.azure.resourcemanager.resourcegraph.models.QueryResponse;
import com.azure.resourcemanager.resourcegraph.models.ResultFormat;
import com.azure.resourcemanager.resources.ResourceManager;
import com.azure.resourcemanager.storage.StorageManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The Azure SDK managers for one subscription, on one HTTP pipeline that counts every request
 * (retries included), retries throttling and 5xx honouring {@code Retry-After}, and carries a
 * bearer token from {@code DefaultAzureCredential} only over https. Managers are made on first use.
 */
public final class AzureClients implements AutoCloseable {
    /** Resource Graph answers at most 1,000 rows per page. */
    static final int GRAPH_PAGE = 1000;

    private final AzureSettings settings;
    private final String subscription;
    private final String region;
    private final AtomicLong requests = new AtomicLong();
    private final HttpPipeline pipeline;
    private final AzureProfile profile;
    private final Map<Class<?>, Object> managers = new java.util.concurrent.ConcurrentHashMap<>();

    public AzureClients(AzureSettings settings, String subscription, String region) {
        this.settings = settings;
        this.subscription = subscription;
        this.region = region;
        this.profile = profile(settings, subscription);
        this.pipeline = pipeline(settings, requests);
        // The SDK keeps its poll interval JVM-wide: a local fake finishes its operations at once, and its 30 s default
        // only slows tests; against Azure (https) the SDK's own interval is restored, whatever a fake set before.
        com.azure.resourcemanager.resources.fluentcore.utils.ResourceManagerUtils.InternalRuntimeContext.setDelayProvider(
            settings.plaintext() ? d -> d.compareTo(FAKE_POLL) > 0 ? FAKE_POLL : d : d -> d);
    }

    private static final Duration FAKE_POLL = Duration.ofMillis(50);

    static AzureProfile profile(AzureSettings settings, String subscription) {
        if (settings.resourceManager().equals(AzureSettings.PUBLIC_CLOUD)) {
            return new AzureProfile(settings.tenant().orElse(null), subscription, AzureEnvironment.AZURE);
        }
        String rm = settings.resourceManager().toString();
        Map<String, String> endpoints = new LinkedHashMap<>(AzureEnvironment.AZURE.getEndpoints());
        endpoints.put("resourceManagerEndpointUrl", rm);
        endpoints.put("managementEndpointUrl", rm);
        return new AzureProfile(settings.tenant().orElse(null), subscription, new AzureEnvironment(endpoints));
    }

    private static HttpPipeline pipeline(AzureSettings settings, AtomicLong requests) {
        List<HttpPipelinePolicy> policies = new ArrayList<>();
        policies.add(new UserAgentPolicy("mlctl"));
        // Headers a call asks for in its Context (a conditional write's If-Match).
        policies.add(new com.azure.core.http.policy.AddHeadersFromContextPolicy());
        // Throttling (429) and 5xx: the SDK's own retry, which waits what Retry-After says.
        policies.add(new RetryPolicy(new RetryOptions(new ExponentialBackoffOptions().setMaxRetries(4)
            .setBaseDelay(Duration.ofMillis(500)).setMaxDelay(Duration.ofSeconds(30)))));
        if (!settings.plaintext()) {
            TokenCredential credential = new DefaultAzureCredentialBuilder().build();
            String scope = settings.resourceManager().toString() + ".default";
            policies.add(new ArmChallengeAuthenticationPolicy(credential, scope));
        }
        // After the retry policy: every attempt that goes out is counted.
        policies.add((context, next) -> {
            requests.incrementAndGet();
            return next.process();
        });
        HttpClient http = new JdkHttpClientBuilder().connectionTimeout(Duration.ofSeconds(20)).responseTimeout(Duration.ofMinutes(2)).build();
        return new HttpPipelineBuilder().httpClient(http).policies(policies.toArray(new HttpPipelinePolicy[0])).build();
    }

    public String subscription() {
        return subscription;
    }

    public String region() {
        return region;
    }

    public AzureSettings settings() {
        return settings;
    }

    @SuppressWarnings("unchecked")
    private <M> M manager(Class<M> type, Function<AzureClients, M> make) {
        return (M) managers.computeIfAbsent(type, t -> make.apply(this));
    }

    public ResourceManager resources() {
        return manager(ResourceManager.class, c -> ResourceManager.authenticate(c.pipeline, c.profile).withSubscription(c.subscription));
    }

    public NetworkManager network() {
        return manager(NetworkManager.class, c -> NetworkManager.authenticate(c.pipeline, c.profile));
    }

    public StorageManager storage() {
        return manager(StorageManager.class, c -> StorageManager.authenticate(c.pipeline, c.profile));
    }

    public ComputeManager compute() {
        return manager(ComputeManager.class, c -> ComputeManager.authenticate(c.pipeline, c.profile));
    }

    public ContainerServiceManager containers() {
        return manager(ContainerServiceManager.class, c -> ContainerServiceManager.authenticate(c.pipeline, c.profile));
    }

    public AuthorizationManager authorization() {
        return manager(AuthorizationManager.class, c -> AuthorizationManager.authenticate(c.pipeline, c.profile));
    }

    public MsiManager msi() {
        return manager(MsiManager.class, c -> MsiManager.authenticate(c.pipeline, c.profile));
    }

    ResourceGraphManager graph() {
        return manager(ResourceGraphManager.class, c -> ResourceGraphManager.authenticate(c.pipeline, c.profile));
    }

    /** One page of a Resource Graph query over this subscription: rows as maps, and the next page's token. */
    public record GraphPage(List<Map<String, Object>> rows, Optional<String> skipToken) {
    }

    /**
     * Runs {@code query} (Kusto, as Resource Graph takes it) over this subscription, one page. Rows
     * come back in Graph's object-array shape: {@code id}, {@code name}, {@code type}, {@code location},
     * {@code resourceGroup}, {@code tags}, {@code properties}, {@code sku}, ... as ARM returns them.
     */
    @SuppressWarnings("unchecked")
    public GraphPage query(String what, String query, Optional<String> skipToken) {
        QueryRequestOptions options = new QueryRequestOptions().withResultFormat(ResultFormat.OBJECT_ARRAY).withTop(GRAPH_PAGE);
        skipToken.ifPresent(options::withSkipToken);
        QueryRequest request = new QueryRequest().withSubscriptions(List.of(subscription)).withQuery(query).withOptions(options);
        QueryResponse response = AzureErrors.call(what, () -> graph().resourceProviders().resources(request));
        List<Map<String, Object>> rows = new ArrayList<>();
        if (response.data() instanceof List<?> list) {
            for (Object o : list) if (o instanceof Map<?, ?> m) rows.add((Map<String, Object>) m);
        }
        String next = response.skipToken();
        return new GraphPage(rows, next == null || next.isBlank() ? Optional.empty() : Optional.of(next));
    }

    /** Every page of a query (for the few reads that need a whole set at once, such as role assignments). */
    public List<Map<String, Object>> queryAll(String what, String query) {
        List<Map<String, Object>> out = new ArrayList<>();
        Optional<String> token = Optional.empty();
        do {
            GraphPage page = query(what, query, token);
            out.addAll(page.rows());
            token = page.skipToken();
        } while (token.isPresent());
        return out;
    }

    /**
     * One resource as ARM's GET returns it (the same shape as a Resource Graph row, less
     * {@code resourceGroup}/{@code subscriptionId}), or empty when it is not there.
     */
    @SuppressWarnings("unchecked")
    public Optional<Map<String, Object>> getRaw(String what, String id, String apiVersion) {
        String url = settings.resourceManager().toString() + (id.startsWith("/") ? id.substring(1) : id) + "?api-version=" + apiVersion;
        return AzureErrors.call(what, () -> {
            try (com.azure.core.http.HttpResponse r = pipeline.sendSync(new com.azure.core.http.HttpRequest(com.azure.core.http.HttpMethod.GET, url),
                com.azure.core.util.Context.NONE)) {
                String body = r.getBodyAsBinaryData() == null ? "" : r.getBodyAsBinaryData().toString();
                if (r.getStatusCode() == 404) return Optional.empty();
                if (r.getStatusCode() / 100 != 2) {
                    com.azure.core.management.exception.ManagementError error = null;
                    try (com.azure.json.JsonReader reader = com.azure.json.JsonProviders.createReader(body)) {
                        Map<String, Object> m = reader.readMap(com.azure.json.JsonReader::readUntyped);
                        if (m != null && m.get("error") instanceof Map<?, ?> e) {
                            error = new com.azure.core.management.exception.ManagementError(String.valueOf(e.get("code")), String.valueOf(e.get("message")));
                        }
                    } catch (java.io.IOException | RuntimeException ignored) {
                        // not ARM's error shape: the status says enough
                    }
                    throw new com.azure.core.management.exception.ManagementException("HTTP " + r.getStatusCode(), r, error);
                }
                try (com.azure.json.JsonReader reader = com.azure.json.JsonProviders.createReader(body)) {
                    return Optional.ofNullable((Map<String, Object>) (Map<?, ?>) reader.readMap(com.azure.json.JsonReader::readUntyped));
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    public long requestCount() {
        return requests.get();
    }

    @Override
    public void close() {
        managers.clear();
    }
}
