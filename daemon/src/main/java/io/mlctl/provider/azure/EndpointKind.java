package io.mlctl.provider.azure;

import com.azure.core.management.polling.PollResult;
import com.azure.core.util.polling.SyncPoller;
import com.azure.resourcemanager.resources.fluent.models.GenericResourceInner;
import com.azure.resourcemanager.resources.models.Identity;
import com.azure.resourcemanager.resources.models.IdentityUserAssignedIdentitiesValue;
import com.azure.resourcemanager.resources.models.ResourceIdentityType;
import com.azure.resourcemanager.resources.models.Sku;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.TagMarker;
import io.mlctl.provider.Waiter;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.util.Hashing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * inference_endpoint → an Azure Machine Learning managed online endpoint ({@code authMode: Key}) in the
 * workspace mlctl keeps for the environment ({@link MachineLearningWorkspace}), named
 * {@link MachineLearningWorkspace#endpointName}, running as the spec's identity (UserAssigned) or its own
 * (SystemAssigned), with one managed deployment taking all of mlctl's traffic: the model and the instance
 * type ({@code machineType}).
 *
 * <p>Replicas: a managed online deployment takes only {@code scaleSettings.scaleType: Default} (Azure ML's
 * managed online deployment schema: "Currently only the default scale type is supported";
 * TargetUtilization is for Kubernetes online deployments) and runs {@code sku.capacity} instances.
 * It scales through Azure Monitor autoscale, as Azure ML documents ("Autoscale an online endpoint"): with
 * {@code maxReplicas > minReplicas} mlctl keeps an autoscale setting ({@code Microsoft.Insights/autoscalesettings}
 * {@code autoscale-<endpoint>-<deployment>}, tagged with the endpoint's marker) targeting the deployment,
 * whose profile {@code mlctl} has capacity minimum/maximum/default = min/max/min and, when first made, a
 * scale-out rule (CPU above 70 % for 5 minutes: one more instance) and a scale-in rule (below 30 %: one
 * fewer), which a person may tune (they are kept). With {@code minReplicas == maxReplicas} the deployment
 * runs exactly that many and mlctl keeps no autoscale setting. The deployment's created with
 * {@code sku.capacity = minReplicas}; later its capacity is the autoscaler's, kept within the bounds.
 * Azure Monitor allows one autoscale setting per target resource, so settings are found by their
 * {@code targetResourceUri} among the resource group's (where mlctl makes its own, and where the portal and
 * the Azure ML CLI put one for a deployment there), whoever made them. Someone else's setting on mlctl's
 * deployment is never changed, nor fought: the plan shows its bounds as the replicas, its instance count is
 * left to it, and where its bounds are not the spec's an apply refuses with one line naming it.
 *
 * <p>The model: an {@code azureml://} URI is a model asset (a registry's
 * {@code azureml://registries/<r>/models/<m>/versions/<v>}) and is given to the deployment as it is; an
 * {@code https://} URI is registered in the workspace as a custom model version (model named after the
 * endpoint, its asset tags carrying the endpoint's marker, version a number derived from the URI) and
 * the deployment names that version.
 *
 * <p>Changes: model and replicas change the deployment (and its autoscale setting) in place (Azure rolls
 * it); an instance type cannot change on a deployment, so a new one is made under the other of the names
 * {@code blue} and {@code green}, given the traffic, and the old one deleted, inside the same endpoint (its
 * scoring URI and keys stay); region and identity replace the endpoint (Azure fixes both at creation).
 * A deployment is PUT back as last read with only its model, instance type, scale settings and instance
 * count changed and the marker added to its tags, so what someone set on it (request settings, probes,
 * environment variables, Application Insights, egress, data collection, description, tags) stays, and only
 * the marker's tags are compared (a tag Azure Policy copies onto it never rolls it). A new deployment of a
 * rollout starts from the serving one's settings and tags (the spec's when there is none), so a new
 * instance type keeps how the endpoint was tuned.
 * Labels and traffic are the only things mlctl changes on an existing endpoint: it is PUT back as last
 * read with only those changed, so what someone set on it (public network access, auth mode, mirrored
 * traffic, description) stays.
 *
 * <p>Spec attributes without an Azure meaning: {@code framework} (Azure ML serves MLflow and registry
 * models with its own serving environment; there is no framework image to pick) is not compared;
 * {@code image} (a custom container needs an Azure ML environment with routes mlctl cannot infer) is
 * refused with one line; {@code accelerator} is refused by the spec checker on Azure (GPUs come with the
 * instance type); {@code minReplicas: 0} is refused (managed online deployments run at least one instance).
 *
 * <p>Inventory is three Resource Graph queries per page: the environment's endpoints, their deployments
 * (tagged with the endpoint's marker, so found in bulk too) and the resource group's autoscale settings,
 * matched to deployments by target. Resource Graph lags ARM writes: what Graph does not show yet is read
 * directly, only where the listing would otherwise be wrong (see {@link #list}).
 */
final class EndpointKind implements AzureKind {
    static final String GRAPH_ENDPOINTS = "microsoft.machinelearningservices/workspaces/onlineendpoints";
    static final String GRAPH_DEPLOYMENTS = GRAPH_ENDPOINTS + "/deployments";
    static final String GRAPH_AUTOSCALE = "microsoft.insights/autoscalesettings";
    static final String AUTOSCALE_TYPE = "Microsoft.Insights/autoscalesettings";
    static final String AUTOSCALE_API = "2022-10-01";
    /** The autoscale profile mlctl keeps the replica bounds in. */
    static final String PROFILE = "mlctl";
    static final List<String> COLORS = List.of("blue", "green");
    private static final String API = MachineLearningWorkspace.ML_API;
    /** What an online endpoint's GET answers that a PUT must not send (read-only in the REST definition). */
    private static final Set<String> ENDPOINT_READ_ONLY = Set.of("provisioningState", "scoringUri", "swaggerUri");
    /** What an online deployment's GET answers that a PUT must not send (read-only in the REST definition). */
    private static final Set<String> DEPLOYMENT_READ_ONLY = Set.of("provisioningState");

    private final Waiter waiter;
    /** How long one long-running write is waited for (past it: an error naming the resource and its state, to apply again; not retried). */
    private final Duration timeout;
    /** Endpoint PUTs this process sent and has not waited for yet: their operation's own error is the best message. */
    private final Map<String, SyncPoller<PollResult<GenericResourceInner>, GenericResourceInner>> pending = new ConcurrentHashMap<>();

    EndpointKind() {
        // A deployment takes minutes (tens for a large GPU model): polled every 10 s, for up to an hour and a half.
        this(Waiter.of(Duration.ofSeconds(10), Duration.ofMinutes(90)), Duration.ofMinutes(90));
    }

    EndpointKind(Waiter waiter, Duration timeout) {
        this.waiter = waiter;
        this.timeout = timeout;
    }

    @Override
    public ResourceType type() {
        return ResourceType.INFERENCE_ENDPOINT;
    }

    /** Region and identity are fixed when an online endpoint is made; framework has no Azure meaning. */
    @Override
    public ResourceRules rules() {
        return new ResourceRules(Set.of("region", "identity")).without(Set.of("framework"));
    }

    // ---------------------------------------------------------------- spec → bodies

    private static long min(Map<String, Object> a) {
        return ((Number) a.getOrDefault("minReplicas", 1L)).longValue();
    }

    private static long max(Map<String, Object> a) {
        return Math.max(min(a), ((Number) a.getOrDefault("maxReplicas", 1L)).longValue());
    }

    private static void validate(ResourceSpec d) {
        Map<String, Object> a = d.attributes();
        if (min(a) < 1) {
            throw new DriverException(d.address() + ": Azure ML managed online deployments run at least 1 instance; minReplicas 0 is not supported on Azure", false);
        }
        if (a.containsKey("image")) {
            throw new DriverException(d.address() + ": Azure ML managed online endpoints serve the model with Azure ML's own serving environment; a custom "
                + "image needs an Azure ML environment with its routes, which mlctl does not make: remove 'image' (on Azure the model URI says what runs)", false);
        }
        String uri = String.valueOf(a.get("modelUri"));
        if (!uri.startsWith("azureml://") && !uri.startsWith("https://")) {
            throw new DriverException(d.address() + ": on Azure, modelUri must be an azureml:// model asset or an https:// URL of the model's files", false);
        }
    }

    /** The workspace model a {@code https://} URI is registered as: {@code <workspace>/models/<endpoint>/versions/<n>}. */
    static String modelVersionId(AzureClients cloud, Environment env, String name, String uri) {
        long version = Long.parseLong(Hashing.sha256Text(uri).substring(0, 7), 16) + 1;
        return MachineLearningWorkspace.id(cloud, env) + "/models/" + MachineLearningWorkspace.endpointName(env, name) + "/versions/" + version;
    }

    /** What the deployment's {@code model} names for the spec's URI. */
    private static String model(AzureClients cloud, Environment env, String name, String uri) {
        return uri.startsWith("https://") ? modelVersionId(cloud, env, name, uri) : uri;
    }

    /** The autoscale setting of one deployment of an endpoint: {@code autoscale-<endpoint name>-<deployment>}. */
    static String autoscaleId(AzureClients cloud, Environment env, String endpointId, String deployment) {
        return AzureKind.resourceId(cloud, env, AUTOSCALE_TYPE, "autoscale-" + AzureKind.lastSegment(endpointId) + "-" + deployment);
    }

    private static Identity identity(AzureClients cloud, Environment env, Map<String, Object> a) {
        if (a.get("identity") instanceof String id) {
            return new Identity().withType(ResourceIdentityType.USER_ASSIGNED)
                .withUserAssignedIdentities(Map.of(AzureKind.identityId(cloud, env, id), new IdentityUserAssignedIdentitiesValue()));
        }
        return new Identity().withType(ResourceIdentityType.SYSTEM_ASSIGNED);
    }

    /** The body of a new endpoint (only ever sent to create one). */
    private static GenericResourceInner endpointBody(AzureClients cloud, Environment env, Address address, Map<String, Object> a, Map<String, String> tags) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("authMode", "Key");
        p.put("description", "mlctl " + address + " of environment " + env.name());
        p.put("publicNetworkAccess", "Enabled");
        p.put("traffic", Map.of());
        GenericResourceInner body = new GenericResourceInner().withProperties(p).withIdentity(identity(cloud, env, a));
        body.withLocation(env.region()).withTags(tags);
        return body;
    }

    /**
     * An existing endpoint's PUT body: everything as last read, with only {@code tags} and {@code traffic}
     * replaced. The identity is sent back as it is (Azure fixes it at creation; mlctl only ever makes
     * SystemAssigned or UserAssigned ones).
     */
    private static GenericResourceInner asRead(Map<String, Object> endpoint, Map<String, String> tags, Map<String, Integer> traffic) {
        Map<String, Object> p = new LinkedHashMap<>(AzureKind.properties(endpoint));
        ENDPOINT_READ_ONLY.forEach(p::remove);
        p.put("traffic", traffic);
        GenericResourceInner body = new GenericResourceInner().withProperties(p);
        identityAsRead(endpoint).ifPresent(body::withIdentity);
        if (endpoint.get("kind") instanceof String k) body.withKind(k);
        Map<String, Object> sku = map(endpoint.get("sku"));
        if (sku.get("name") instanceof String n) {
            body.withSku(skuAsRead(sku, n, sku.get("capacity") instanceof Number c ? c.intValue() : null));
        }
        body.withLocation(String.valueOf(endpoint.get("location"))).withTags(tags);
        return body;
    }

    /** A resource's identity as a PUT sends it back: its type and user-assigned identities (their ids only). */
    private static Optional<Identity> identityAsRead(Map<String, Object> resource) {
        Map<String, Object> identity = map(resource.get("identity"));
        if (identity.isEmpty()) return Optional.empty();
        String type = String.valueOf(identity.get("type"));
        Identity i = new Identity().withType(type.contains("SystemAssigned") && type.contains("UserAssigned") ? ResourceIdentityType.SYSTEM_ASSIGNED_USER_ASSIGNED
            : type.contains("UserAssigned") ? ResourceIdentityType.USER_ASSIGNED : type.contains("SystemAssigned") ? ResourceIdentityType.SYSTEM_ASSIGNED
            : ResourceIdentityType.NONE);
        Map<String, IdentityUserAssignedIdentitiesValue> users = new LinkedHashMap<>();
        map(identity.get("userAssignedIdentities")).keySet().forEach(k -> users.put(k, new IdentityUserAssignedIdentitiesValue()));
        if (!users.isEmpty()) i.withUserAssignedIdentities(users);
        return Optional.of(i);
    }

    /** A resource's sku as read, named {@code name}, with {@code capacity} (none when null). */
    private static Sku skuAsRead(Map<String, Object> sku, String name, Integer capacity) {
        Sku s = new Sku().withName(name);
        if (sku.get("tier") instanceof String t) s.withTier(t);
        if (sku.get("size") instanceof String z) s.withSize(z);
        if (sku.get("family") instanceof String f) s.withFamily(f);
        if (capacity != null) s.withCapacity(capacity);
        return s;
    }

    /** The deployment the spec asks for, running {@code capacity} instances (Default scale settings: the only ones a managed deployment takes). */
    private static GenericResourceInner deploymentBody(AzureClients cloud, Environment env, ResourceSpec d, Map<String, String> marker, long capacity) {
        Map<String, Object> a = d.attributes();
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("endpointComputeType", "Managed");
        p.put("description", "mlctl " + d.address() + " of environment " + env.name());
        p.put("model", model(cloud, env, d.address().name(), String.valueOf(a.get("modelUri"))));
        p.put("instanceType", a.get("machineType"));
        p.put("scaleSettings", Map.of("scaleType", "Default"));
        GenericResourceInner body = new GenericResourceInner().withProperties(p).withSku(new Sku().withName("Default").withCapacity((int) capacity));
        // Deployments carry the marker only: found in bulk by it, and a label change never rolls the deployment.
        body.withLocation(env.region()).withTags(new TreeMap<>(marker));
        return body;
    }

    /**
     * A deployment's PUT body from {@code have} as last read: only the model, the instance type, Default
     * scale settings and the instance count changed, the marker added to its tags; everything else someone
     * set on it (request settings, probes, environment variables, Application Insights, egress, data
     * collection, description, other tags, identity) sent back as it is. Read-only fields are left out.
     */
    private static GenericResourceInner deploymentAsRead(Map<String, Object> have, String model, String instanceType, long capacity,
                                                         Map<String, String> marker) {
        Map<String, Object> p = new LinkedHashMap<>();
        AzureKind.properties(have).forEach((k, v) -> {
            if (v != null && !DEPLOYMENT_READ_ONLY.contains(k)) p.put(k, v);
        });
        p.putIfAbsent("endpointComputeType", "Managed");
        p.put("model", model);
        p.put("instanceType", instanceType);
        p.put("scaleSettings", Map.of("scaleType", "Default"));
        Map<String, Object> sku = map(have.get("sku"));
        GenericResourceInner body = new GenericResourceInner().withProperties(p)
            .withSku(skuAsRead(sku, sku.get("name") instanceof String n ? n : "Default", (int) capacity));
        identityAsRead(have).ifPresent(body::withIdentity);
        if (have.get("kind") instanceof String k) body.withKind(k);
        Map<String, String> tags = new TreeMap<>(AzureKind.tags(have.get("tags")));
        tags.putAll(marker);
        body.withLocation(String.valueOf(have.get("location"))).withTags(tags);
        return body;
    }

    /** One metric rule of a new autoscale profile: CPU of the deployment's instances against {@code threshold} over 5 minutes. */
    private static Map<String, Object> rule(String deploymentId, String operator, int threshold, String direction) {
        Map<String, Object> trigger = new LinkedHashMap<>();
        trigger.put("metricName", "CpuUtilizationPercentage");
        trigger.put("metricResourceUri", deploymentId);
        trigger.put("timeGrain", "PT1M");
        trigger.put("statistic", "Average");
        trigger.put("timeWindow", "PT5M");
        trigger.put("timeAggregation", "Average");
        trigger.put("operator", operator);
        trigger.put("threshold", threshold);
        Map<String, Object> action = new LinkedHashMap<>();
        action.put("direction", direction);
        action.put("type", "ChangeCount");
        action.put("value", "1");
        action.put("cooldown", "PT5M");
        return new LinkedHashMap<>(Map.of("metricTrigger", trigger, "scaleAction", action));
    }

    /**
     * The autoscale setting of a deployment: {@code have} (as last read) with mlctl's profile set to the
     * spec's bounds, enabled and targeting the deployment; rules, other profiles and notifications someone
     * added stay. New: the profile with a scale-out and a scale-in rule on CPU.
     */
    @SuppressWarnings("unchecked")
    private static GenericResourceInner autoscaleBody(Environment env, String deploymentId, String name, long min, long max, Map<String, String> marker,
                                                      Optional<Map<String, Object>> have) {
        Map<String, Object> p = new LinkedHashMap<>(have.map(AzureKind::properties).orElse(Map.of()));
        p.remove("provisioningState");
        p.put("name", name);
        p.put("enabled", true);
        p.put("targetResourceUri", deploymentId);
        Map<String, Object> capacity = new LinkedHashMap<>();
        capacity.put("minimum", String.valueOf(min));
        capacity.put("maximum", String.valueOf(max));
        capacity.put("default", String.valueOf(min));
        List<Object> profiles = new ArrayList<>();
        boolean found = false;
        for (Object o : p.get("profiles") instanceof List<?> l ? l : List.of()) {
            Map<String, Object> profile = new LinkedHashMap<>(map(o));
            if (PROFILE.equals(profile.get("name"))) {
                profile.put("capacity", capacity);
                found = true;
            }
            profiles.add(profile);
        }
        if (!found) {
            Map<String, Object> profile = new LinkedHashMap<>();
            profile.put("name", PROFILE);
            profile.put("capacity", capacity);
            profile.put("rules", List.of(rule(deploymentId, "GreaterThan", 70, "Increase"), rule(deploymentId, "LessThan", 30, "Decrease")));
            profiles.add(0, profile);
        }
        p.put("profiles", profiles);
        Map<String, String> tags = new TreeMap<>(have.map(h -> AzureKind.tags(h.get("tags"))).orElse(Map.of()));
        tags.putAll(marker);
        GenericResourceInner body = new GenericResourceInner().withProperties(p);
        body.withLocation(env.region()).withTags(tags);
        return body;
    }

    // ---------------------------------------------------------------- observed

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static Map<String, Integer> traffic(Map<String, Object> endpoint) {
        Map<String, Integer> out = new TreeMap<>();
        map(AzureKind.properties(endpoint).get("traffic")).forEach((k, v) -> out.put(k, v instanceof Number n ? n.intValue() : 0));
        return out;
    }

    private static boolean ours(Environment env, Address address, Map<String, Object> resource) {
        return TagMarker.INSTANCE.owner(AzureKind.tags(resource.get("tags")), env.name()).filter(address::equals).isPresent();
    }

    /**
     * mlctl's deployments of the endpoint, the one serving its traffic first. Of an endpoint being imported (no marker yet),
     * the deployment serving most of its traffic, which the import takes over; the others stay someone else's.
     */
    private static List<Map<String, Object>> own(Environment env, Address address, Map<String, Object> endpoint, List<Map<String, Object>> deployments) {
        Map<String, Integer> traffic = traffic(endpoint);
        List<Map<String, Object>> out = new ArrayList<>(deployments.stream().filter(x -> ours(env, address, x)).toList());
        if (!TagMarker.INSTANCE.marked(AzureKind.tags(endpoint.get("tags")))) {
            deployments.stream().filter(x -> !TagMarker.INSTANCE.marked(AzureKind.tags(x.get("tags"))))
                .filter(x -> traffic.getOrDefault(String.valueOf(x.get("name")), 0) > 0)
                .max(Comparator.comparing((Map<String, Object> x) -> traffic.getOrDefault(String.valueOf(x.get("name")), 0))
                    .thenComparing(x -> String.valueOf(x.get("name")), Comparator.reverseOrder()))
                .ifPresent(out::add);
        }
        out.sort(Comparator.comparing((Map<String, Object> x) -> -traffic.getOrDefault(String.valueOf(x.get("name")), 0))
            .thenComparing(x -> String.valueOf(x.get("name"))));
        return out;
    }

    /** mlctl's profile of an autoscale setting (the first one when someone renamed it), when the setting is enabled. */
    private static Optional<Map<String, Object>> profile(Map<String, Object> setting) {
        Map<String, Object> p = AzureKind.properties(setting);
        if (!Boolean.TRUE.equals(p.get("enabled"))) return Optional.empty();
        List<?> profiles = p.get("profiles") instanceof List<?> l ? l : List.of();
        return profiles.stream().map(EndpointKind::map).filter(x -> PROFILE.equals(x.get("name"))).findFirst()
            .or(() -> profiles.stream().map(EndpointKind::map).findFirst());
    }

    private static long capacity(Map<String, Object> profile, String bound) {
        try {
            return Long.parseLong(String.valueOf(map(profile.get("capacity")).get(bound)).strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static long skuCapacity(Map<String, Object> deployment) {
        return map(deployment.get("sku")).get("capacity") instanceof Number n ? n.longValue() : 1L;
    }

    /**
     * The endpoint's attributes as the spec writes them, from the endpoint, its deployments and the
     * autoscale settings by target id (lowercase) (Graph rows or GETs, which have the same shape): the
     * serving deployment's model and instance type, its replicas (the bounds of an enabled autoscale
     * setting on it, whoever made it, else its instance count for both), the identity it runs as, region
     * and labels. {@code status} says what is not as mlctl leaves it (no deployment, two of them after an
     * unfinished rollout, traffic not all on mlctl's, scale settings other than Default).
     */
    static Map<String, Object> observe(AzureClients cloud, Environment env, Address address, Map<String, Object> endpoint,
                                       List<Map<String, Object>> deployments, Map<String, Map<String, Object>> settings) {
        Map<String, Object> m = new TreeMap<>();
        Map<String, Object> identity = map(endpoint.get("identity"));
        if (String.valueOf(identity.get("type")).contains("UserAssigned")) {
            for (String id : map(identity.get("userAssignedIdentities")).keySet()) {
                boolean inGroup = id.toLowerCase(Locale.ROOT).startsWith(AzureKind.groupId(cloud, env).toLowerCase(Locale.ROOT) + "/");
                m.put("identity", inGroup ? AzureKind.lastSegment(id) : id);
            }
        }
        List<Map<String, Object>> own = own(env, address, endpoint, deployments);
        if (own.isEmpty()) {
            m.put("status", "no model deployed");
        } else {
            Map<String, Object> d = own.get(0);
            Map<String, Object> p = AzureKind.properties(d);
            Map<String, Integer> traffic = traffic(endpoint);
            int foreign = 0;
            for (Map.Entry<String, Integer> t : traffic.entrySet()) {
                if (own.stream().noneMatch(x -> String.valueOf(x.get("name")).equalsIgnoreCase(t.getKey()))) foreign += t.getValue();
            }
            String state = MachineLearningWorkspace.state(d);
            String scaleType = String.valueOf(map(p.get("scaleSettings")).getOrDefault("scaleType", "Default"));
            if (own.size() > 1) m.put("status", own.size() + " deployments (a rollout did not finish)");
            else if (state.equals("Failed") || state.equals("Canceled")) m.put("status", "deployment " + d.get("name") + " is " + state);
            else if (traffic.getOrDefault(String.valueOf(d.get("name")), 0) != Math.max(0, 100 - foreign)) {
                m.put("status", "deployment " + d.get("name") + " does not have mlctl's share of the traffic");
            } else if (!scaleType.equalsIgnoreCase("Default")) {
                m.put("status", "deployment " + d.get("name") + " has scale type " + scaleType + " (a managed deployment takes Default)");
            }
            String model = String.valueOf(p.get("model"));
            Optional<String> specUri = env.resources().stream().filter(s -> s.address().equals(address)).findFirst()
                .map(s -> String.valueOf(s.attributes().get("modelUri")));
            // A registered https:// model reads back as the URI it was registered from (its id is derived from it).
            m.put("modelUri", specUri.filter(u -> model.equalsIgnoreCase(model(cloud, env, address.name(), u))).orElse(model));
            m.put("machineType", String.valueOf(p.get("instanceType")));
            // Whoever made the setting on the deployment (Azure allows one), its bounds are how the deployment scales.
            Optional<Map<String, Object>> bounds = Optional.ofNullable(settings.get(String.valueOf(d.get("id")).toLowerCase(Locale.ROOT)))
                .flatMap(EndpointKind::profile);
            if (bounds.isPresent()) {
                m.put("minReplicas", capacity(bounds.get(), "minimum"));
                m.put("maxReplicas", capacity(bounds.get(), "maximum"));
            } else {
                m.put("minReplicas", skuCapacity(d));
                m.put("maxReplicas", skuCapacity(d));
            }
        }
        return AzureKind.attrs(String.valueOf(endpoint.get("location")), m, AzureKind.tags(endpoint.get("tags")));
    }

    private ObservedResource observed(AzureClients cloud, Environment env, Address address, Map<String, Object> endpoint, List<Map<String, Object>> deployments,
                                      Map<String, Map<String, Object>> settings) {
        return new ObservedResource(address, String.valueOf(endpoint.get("id")), observe(cloud, env, address, endpoint, deployments, settings),
            AzureKind.tags(endpoint.get("tags")));
    }

    private static String lower(Object o) {
        return String.valueOf(o).toLowerCase(Locale.ROOT);
    }

    /**
     * One page of the environment's endpoints: a Graph query for the endpoints and, when there are any,
     * one each for all their deployments and all their autoscale settings. Resource Graph lags ARM writes
     * (seconds, sometimes more), so where its answer would make a wrong plan, what it lacks is read
     * directly, each read answered at steady state only where something is to be done anyway: with the
     * listing on one page, an endpoint of the spec Graph did not return (one GET; also its deployments and
     * their settings); an endpoint whose traffic names a deployment Graph did not return, or without one of
     * mlctl's (its deployments, one GET); a serving deployment whose autoscale setting the spec needs and
     * Graph did not return (one GET).
     */
    @Override
    public Page list(AzureClients cloud, Environment env, Optional<String> pageToken) {
        AzureClients.GraphPage page = cloud.query("list online endpoints", AzureKind.graphQuery(env, GRAPH_ENDPOINTS), pageToken);
        Map<Address, Map<String, Object>> rows = new java.util.LinkedHashMap<>();
        for (Map<String, Object> row : page.rows()) {
            TagMarker.INSTANCE.owner(AzureKind.tags(row.get("tags")), env.name())
                .filter(x -> x.type() == ResourceType.INFERENCE_ENDPOINT && !x.isComponent()).ifPresent(a -> rows.putIfAbsent(a, row));
        }
        Set<Address> direct = new java.util.HashSet<>();
        if (pageToken.isEmpty() && page.skipToken().isEmpty()) {
            for (ResourceSpec spec : env.resources()) {
                Address a = spec.address();
                if (a.type() != ResourceType.INFERENCE_ENDPOINT || a.isComponent() || rows.containsKey(a)) continue;
                // An imported endpoint has a workspace and name of its own: its id is in the spec's import list, when that still names it.
                String id = AzureKind.importedId(env, a).flatMap(x -> AzureKind.parseId(x, "Microsoft.MachineLearningServices", "workspaces", "onlineEndpoints"))
                    .filter(r -> r.group().equalsIgnoreCase(AzureKind.resourceGroup(env)))
                    .map(r -> AzureKind.resourceId(cloud, env, MachineLearningWorkspace.WORKSPACES, r.names().get(0) + "/onlineEndpoints/" + r.name()))
                    .orElseGet(() -> MachineLearningWorkspace.endpointId(cloud, env, a.name()));
                MachineLearningWorkspace.get(cloud, "read online endpoint " + AzureKind.lastSegment(id), id, API).filter(e -> ours(env, a, e))
                    .ifPresent(e -> {
                        rows.put(a, e);
                        direct.add(a);
                    });
            }
        }
        List<ObservedResource> items = new ArrayList<>();
        if (rows.isEmpty()) return new Page(items, page.skipToken());
        // Deployments and autoscale settings are tracked resources with the endpoint's marker: all of the environment's in one query each.
        Map<String, List<Map<String, Object>>> byEndpoint = new TreeMap<>();
        for (Map<String, Object> row : cloud.queryAll("list online deployments", AzureKind.graphQuery(env, GRAPH_DEPLOYMENTS))) {
            String id = lower(row.get("id"));
            byEndpoint.computeIfAbsent(id.substring(0, id.lastIndexOf("/deployments/")), k -> new ArrayList<>()).add(row);
        }
        // Autoscale settings by target, whoever made them (someone's own on mlctl's deployment is how it scales): the resource group's.
        Map<String, Map<String, Object>> settings = new TreeMap<>();
        String autoscaleQuery = "resources | where type =~ '" + GRAPH_AUTOSCALE + "' | where resourceGroup =~ '" + AzureKind.resourceGroup(env)
            + "' | order by id asc";
        for (Map<String, Object> row : cloud.queryAll("list autoscale settings", autoscaleQuery)) {
            settings.putIfAbsent(lower(AzureKind.properties(row).get("targetResourceUri")), row);
        }
        for (Map.Entry<Address, Map<String, Object>> e : rows.entrySet()) {
            Address a = e.getKey();
            Map<String, Object> endpoint = e.getValue();
            String id = String.valueOf(endpoint.get("id"));
            List<Map<String, Object>> deployments = byEndpoint.getOrDefault(lower(id), List.of());
            Set<String> listed = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
            deployments.forEach(x -> listed.add(String.valueOf(x.get("name"))));
            boolean missing = traffic(endpoint).entrySet().stream().anyMatch(t -> t.getValue() > 0 && !listed.contains(t.getKey()));
            if (direct.contains(a) || missing || own(env, a, endpoint, deployments).isEmpty()) deployments = deployments(cloud, id);
            List<Map<String, Object>> own = own(env, a, endpoint, deployments);
            Optional<ResourceSpec> spec = env.resources().stream().filter(s -> s.address().equals(a)).findFirst();
            if (!own.isEmpty() && spec.isPresent() && max(spec.get().attributes()) > min(spec.get().attributes())) {
                String target = lower(own.get(0).get("id"));
                if (!settings.containsKey(target)) {
                    String setting = autoscaleId(cloud, env, id, String.valueOf(own.get(0).get("name")));
                    MachineLearningWorkspace.get(cloud, "read autoscale setting " + AzureKind.lastSegment(setting), setting, AUTOSCALE_API)
                        .ifPresent(s -> settings.put(target, s));
                }
            }
            items.add(observed(cloud, env, a, endpoint, deployments, settings));
        }
        return new Page(items, page.skipToken());
    }

    @Override
    public Optional<Existing> find(AzureClients cloud, Environment env, Address address, Optional<String> knownCloudId) {
        String id = knownCloudId.orElse(MachineLearningWorkspace.endpointId(cloud, env, address.name()));
        return MachineLearningWorkspace.get(cloud, "read online endpoint " + AzureKind.lastSegment(id), id, API)
            .map(e -> new Existing(String.valueOf(e.get("id")), "Azure ML online endpoint " + e.get("name") + " (workspace "
                + MachineLearningWorkspace.name(env) + ")", AzureKind.tags(e.get("tags"))));
    }

    /**
     * The online endpoint {@code cloudId} ({@code .../Microsoft.MachineLearningServices/workspaces/<workspace>/onlineEndpoints/<name>}),
     * observed as {@link #list} observes one: the endpoint, its deployments and the resource group's autoscale settings on them.
     * Any workspace and name (mlctl derives them only for endpoints it makes), in the environment's resource group.
     */
    @Override
    public Optional<ObservedResource> read(AzureClients cloud, Environment env, Address address, String cloudId) {
        AzureKind.ArmRef ref = AzureKind.parseId(cloudId, "Microsoft.MachineLearningServices", "workspaces", "onlineEndpoints").orElseThrow(() ->
            AzureKind.notAnId(address, cloudId, "an Azure ML online endpoint",
                AzureKind.idForm("Microsoft.MachineLearningServices", "workspaces", "onlineEndpoints")));
        String what = "online endpoint " + ref.name();
        AzureKind.requireHere(cloud, env, address, ref, what);
        String id = AzureKind.resourceId(cloud, env, MachineLearningWorkspace.WORKSPACES, ref.names().get(0) + "/onlineEndpoints/" + ref.name());
        Optional<Map<String, Object>> endpoint = MachineLearningWorkspace.get(cloud, "read " + what, id, API);
        if (endpoint.isEmpty()) return Optional.empty();
        List<Map<String, Object>> deployments = deployments(cloud, String.valueOf(endpoint.get().get("id")));
        return Optional.of(observed(cloud, env, address, endpoint.get(), deployments, settingsOf(cloud, env, own(env, address, endpoint.get(), deployments))));
    }

    /** {@code invokeUrl}: the endpoint's scoring URI (callers authenticate with its key or an Entra token). */
    @Override
    public Map<String, String> outputs(AzureClients cloud, Environment env, ObservedResource r) {
        Map<String, Object> endpoint = MachineLearningWorkspace.get(cloud, "read online endpoint " + AzureKind.lastSegment(r.cloudId()), r.cloudId(), API)
            .orElseThrow(() -> AzureKind.gone(r));
        Object uri = AzureKind.properties(endpoint).get("scoringUri");
        return uri == null ? Map.of() : Map.of("invokeUrl", String.valueOf(uri));
    }

    // ---------------------------------------------------------------- create, converge

    @Override
    public String create(AzureClients cloud, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        validate(d);
        String id = MachineLearningWorkspace.endpointId(cloud, env, d.address().name());
        String name = AzureKind.lastSegment(id);
        GenericResourceInner body = endpointBody(cloud, env, d.address(), d.attributes(), AzureKind.allTags(marker, d.attributes()));
        synchronized (MachineLearningWorkspace.lock(cloud, env)) {
            MachineLearningWorkspace.ensure(cloud, env, waiter, timeout);
            // Only the first call here: its operation is waited for in complete, outside the workspace's lock.
            pending.put(id.toLowerCase(Locale.ROOT), AzureErrors.call("create online endpoint " + name,
                () -> cloud.resources().serviceClient().getResources().beginCreateOrUpdateById(MachineLearningWorkspace.strip(id), API, body)));
        }
        return id;
    }

    @Override
    public ObservedResource complete(AzureClients cloud, Environment env, String cloudId, ResourceSpec d, Map<String, String> marker) {
        validate(d);
        var poller = pending.remove(cloudId.toLowerCase(Locale.ROOT));
        if (poller != null) MachineLearningWorkspace.await(cloud, "create online endpoint " + AzureKind.lastSegment(cloudId), cloudId, API, poller, timeout);
        return converge(cloud, env, cloudId, d, marker, true);
    }

    /**
     * Only what the planner's changes name: labels alone are the endpoint's tags (PUT back as last read);
     * anything else (model, machine type, replicas, status) is the deployment, its autoscale setting and
     * the traffic, brought to the spec by {@link #converge}, with labels synced too when they changed.
     */
    @Override
    public ObservedResource update(AzureClients cloud, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        validate(d);
        Map<String, String> marker = TagMarker.INSTANCE.marker(env.name(), d.address());
        boolean labels = changes.stream().anyMatch(c -> c.path().equals("tags") || c.path().startsWith("tags."));
        boolean deployment = changes.stream().anyMatch(c -> !(c.path().equals("tags") || c.path().startsWith("tags.")));
        // An import (no marker yet) marks the deployment it takes over too: converge does, before the endpoint's own tags.
        if (deployment || !TagMarker.INSTANCE.marked(current.tags())) return converge(cloud, env, current.cloudId(), d, marker, labels);
        String id = current.cloudId();
        String what = "online endpoint " + AzureKind.lastSegment(id);
        Map<String, Object> endpoint = read(cloud, d, id);
        if (labels) {
            Map<String, String> now = AzureKind.tags(endpoint.get("tags"));
            Optional<Map<String, String>> tags = AzureKind.tagsAfterSync(now, marker, d.attributes());
            if (tags.isPresent() && !tags.get().equals(now)) {
                MachineLearningWorkspace.put(cloud, "update tags of " + what, id, API, asRead(endpoint, tags.get(), traffic(endpoint)), timeout);
                endpoint = read(cloud, d, id);
            }
        }
        List<Map<String, Object>> deployments = deployments(cloud, id);
        return observed(cloud, env, d.address(), endpoint, deployments, settingsOf(cloud, env, own(env, d.address(), endpoint, deployments)));
    }

    private static Map<String, Object> read(AzureClients cloud, ResourceSpec d, String id) {
        String what = "online endpoint " + AzureKind.lastSegment(id);
        return MachineLearningWorkspace.get(cloud, "read " + what, id, API)
            .orElseThrow(() -> new DriverException(d.address() + ": " + what + " no longer exists; run plan again", false));
    }

    /** The resource group's autoscale settings by target, whoever made them (one listing; none without {@code own} deployments). */
    private static Map<String, Map<String, Object>> settingsOf(AzureClients cloud, Environment env, List<Map<String, Object>> own) {
        Map<String, Map<String, Object>> out = new TreeMap<>();
        if (own.isEmpty()) return out;
        for (Map<String, Object> s : autoscaleSettings(cloud, env)) out.putIfAbsent(lower(AzureKind.properties(s).get("targetResourceUri")), s);
        return out;
    }

    /**
     * Brings the endpoint to the spec from whatever an earlier (interrupted) attempt left, reading first so
     * any retry is safe: the https model registered, mlctl's deployment made or changed in place (a new
     * color when the instance type changes), its autoscale setting, all of mlctl's traffic on it, the
     * endpoint's labels synced ({@code labels}), mlctl's other deployments deleted. Someone else's
     * deployments keep their traffic and are never touched; the endpoint is only ever PUT back as read
     * with its traffic and tags changed.
     */
    private ObservedResource converge(AzureClients cloud, Environment env, String id, ResourceSpec d, Map<String, String> marker, boolean labels) {
        String name = AzureKind.lastSegment(id);
        String what = "online endpoint " + name;
        Map<String, Object> found = read(cloud, d, id);
        if (List.of("Failed", "Canceled").contains(MachineLearningWorkspace.state(found))) {
            // An endpoint whose last operation failed is put again as it is: that is how Azure ML repairs one.
            MachineLearningWorkspace.put(cloud, "repair " + what, id, API, asRead(found, AzureKind.tags(found.get("tags")), traffic(found)), timeout);
        } else {
            MachineLearningWorkspace.awaitReady(cloud, waiter, "Azure ML " + what, id, API);
        }
        Map<String, Object> endpoint = read(cloud, d, id);
        List<Map<String, Object>> deployments = deployments(cloud, id);
        List<Map<String, Object>> own = own(env, d.address(), endpoint, deployments);
        long min = min(d.attributes());
        long max = max(d.attributes());
        String instanceType = String.valueOf(d.attributes().get("machineType"));
        String uri = String.valueOf(d.attributes().get("modelUri"));
        if (uri.startsWith("https://")) registerModel(cloud, env, d, uri);
        String model = model(cloud, env, d.address().name(), uri);
        List<Map<String, Object>> settings = new ArrayList<>(autoscaleSettings(cloud, env));

        Optional<Map<String, Object>> serving = own.stream().findFirst();
        String keep;
        if (serving.isPresent() && sameInstanceType(serving.get(), instanceType)) {
            Map<String, Object> s = serving.get();
            keep = String.valueOf(s.get("name"));
            long capacity = capacityToRun(env, d.address(), s, settings, min, max);
            if (failed(s) || !sameDeployment(s, model, instanceType, capacity, marker)) {
                putDeployment(cloud, id, keep, deploymentAsRead(s, model, instanceType, capacity, marker));
            }
        } else {
            // A new instance type is a new deployment: under the color the serving one does not have, starting from the
            // serving one's settings and tags (the spec's when there is none), with minReplicas instances.
            String taken = serving.map(s -> String.valueOf(s.get("name"))).orElse("");
            keep = COLORS.stream().filter(c -> !c.equalsIgnoreCase(taken)).findFirst().orElseThrow();
            String k = keep;
            Optional<Map<String, Object>> stale = own.stream().filter(x -> String.valueOf(x.get("name")).equalsIgnoreCase(k)).findFirst();
            GenericResourceInner fresh = serving.map(s -> deploymentAsRead(s, model, instanceType, min, marker))
                .orElseGet(() -> deploymentBody(cloud, env, d, marker, min));
            if (stale.isPresent() && sameInstanceType(stale.get(), instanceType)) {
                long capacity = capacityToRun(env, d.address(), stale.get(), settings, min, max);
                if (failed(stale.get()) || !sameDeployment(stale.get(), model, instanceType, capacity, marker)) {
                    putDeployment(cloud, id, keep, deploymentAsRead(stale.get(), model, instanceType, capacity, marker));
                }
            } else if (stale.isPresent()) {
                // Left by an earlier rollout to another instance type, and without traffic (the serving one has it).
                deleteDeployment(cloud, env, d.address(), id, keep, endpoint);
                String gone = lower(autoscaleId(cloud, env, id, keep));
                settings.removeIf(x -> lower(x.get("id")).equals(gone));
                putDeployment(cloud, id, keep, fresh);
            } else {
                if (deployments.stream().anyMatch(x -> String.valueOf(x.get("name")).equalsIgnoreCase(k))) {
                    throw new DriverException(d.address() + ": " + what + " has a deployment '" + k + "' that mlctl did not make; mlctl needs that name: "
                        + "rename or delete it", false);
                }
                putDeployment(cloud, id, keep, fresh);
            }
        }
        autoscale(cloud, env, d, id, keep, min, max, marker, settings);

        // All of mlctl's share of the traffic to the deployment kept; someone else's deployments keep theirs.
        Map<String, Integer> traffic = new TreeMap<>();
        int foreign = 0;
        Set<String> ownNames = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        own.forEach(x -> ownNames.add(String.valueOf(x.get("name"))));
        ownNames.add(keep);
        for (Map.Entry<String, Integer> t : traffic(endpoint).entrySet()) {
            if (ownNames.contains(t.getKey()) || t.getValue() == 0) continue;
            traffic.put(t.getKey(), t.getValue());
            foreign += t.getValue();
        }
        traffic.put(keep, Math.max(0, 100 - foreign));
        Map<String, String> now = AzureKind.tags(endpoint.get("tags"));
        Map<String, String> tags = labels ? AzureKind.tagsAfterSync(now, marker, d.attributes()).orElse(now) : now;
        if (!traffic.equals(traffic(endpoint)) || !tags.equals(now)) {
            MachineLearningWorkspace.put(cloud, "update " + what, id, API, asRead(endpoint, tags, traffic), timeout);
            endpoint = read(cloud, d, id);
        }
        for (Map<String, Object> old : own) {
            String n = String.valueOf(old.get("name"));
            if (!n.equalsIgnoreCase(keep)) deleteDeployment(cloud, env, d.address(), id, n, endpoint);
        }
        List<Map<String, Object>> after = deployments(cloud, id);
        return observed(cloud, env, d.address(), endpoint, after, settingsOf(cloud, env, own(env, d.address(), endpoint, after)));
    }

    private static boolean sameInstanceType(Map<String, Object> deployment, String instanceType) {
        return String.valueOf(AzureKind.properties(deployment).get("instanceType")).equalsIgnoreCase(instanceType);
    }

    private static boolean failed(Map<String, Object> resource) {
        return List.of("Failed", "Canceled").contains(MachineLearningWorkspace.state(resource));
    }

    /**
     * The instance count a deployment is to run: the count it has while someone else's enabled autoscale
     * setting scales it (the count is that autoscaler's, never reset), else its count kept within the spec's bounds.
     */
    private static long capacityToRun(Environment env, Address address, Map<String, Object> deployment, List<Map<String, Object>> settings,
                                      long min, long max) {
        long now = skuCapacity(deployment);
        boolean theirs = targeting(settings, String.valueOf(deployment.get("id"))).filter(s -> !ours(env, address, s))
            .flatMap(EndpointKind::profile).isPresent();
        return theirs ? now : Math.max(min, Math.min(max, now));
    }

    /**
     * The autoscale settings of the environment's resource group, whoever made them: where mlctl makes its
     * own, and where the portal and the Azure ML CLI put one for a deployment there (one listing, every page).
     */
    private static List<Map<String, Object>> autoscaleSettings(AzureClients cloud, Environment env) {
        return MachineLearningWorkspace.children(cloud, "list autoscale settings of resource group " + AzureKind.resourceGroup(env),
            AzureKind.groupId(cloud, env) + "/providers/" + AUTOSCALE_TYPE, AUTOSCALE_API);
    }

    /** The setting among {@code settings} whose target is {@code resourceId} (Azure Monitor allows one per resource). */
    private static Optional<Map<String, Object>> targeting(List<Map<String, Object>> settings, String resourceId) {
        String target = lower(resourceId);
        return settings.stream().filter(s -> lower(AzureKind.properties(s).get("targetResourceUri")).equals(target)).findFirst();
    }

    private static List<Map<String, Object>> deployments(AzureClients cloud, String endpointId) {
        return MachineLearningWorkspace.children(cloud, "list deployments of online endpoint " + AzureKind.lastSegment(endpointId),
            endpointId + "/deployments", API);
    }

    /**
     * Whether a deployment already is what the spec asks: model, instance type, Default scale settings, the
     * instance count to run ({@link #capacityToRun}) and the marker's tags (other tags are someone's, e.g.
     * copied by Azure Policy, and never roll it).
     */
    private static boolean sameDeployment(Map<String, Object> have, String model, String instanceType, long capacity, Map<String, String> marker) {
        Map<String, Object> p = AzureKind.properties(have);
        return String.valueOf(p.get("model")).equals(model)
            && sameInstanceType(have, instanceType)
            && String.valueOf(map(p.get("scaleSettings")).getOrDefault("scaleType", "Default")).equalsIgnoreCase("Default")
            && skuCapacity(have) == capacity
            && AzureKind.tags(have.get("tags")).entrySet().containsAll(marker.entrySet());
    }

    private void putDeployment(AzureClients cloud, String endpointId, String name, GenericResourceInner body) {
        MachineLearningWorkspace.put(cloud, "deploy " + map(body.properties()).get("model") + " to online endpoint " + AzureKind.lastSegment(endpointId)
            + " as deployment " + name, endpointId + "/deployments/" + name, API, body, timeout);
    }

    /**
     * The deployment's autoscale setting, from {@code settings} (the resource group's, as listed): made or
     * brought to the spec's bounds when they differ ({@code max > min}), deleted when they do not (the
     * deployment then runs exactly {@code min}). Someone else's setting on the deployment is left as it is
     * (Azure allows no second one): fine when it does what the spec asks, else a one-line refusal naming it.
     * A setting of mlctl's name that is not mlctl's is in the way only when one is needed.
     */
    private void autoscale(AzureClients cloud, Environment env, ResourceSpec d, String endpointId, String deployment, long min, long max,
                           Map<String, String> marker, List<Map<String, Object>> settings) {
        String target = endpointId + "/deployments/" + deployment;
        Optional<Map<String, Object>> current = targeting(settings, target);
        if (current.isPresent() && !ours(env, d.address(), current.get())) {
            requireAsSpec(d, "deployment " + deployment + " of online endpoint " + AzureKind.lastSegment(endpointId), current.get(), min, max);
            return;
        }
        String id = current.map(s -> String.valueOf(s.get("id"))).orElseGet(() -> autoscaleId(cloud, env, endpointId, deployment));
        String name = AzureKind.lastSegment(id);
        Optional<Map<String, Object>> have = current.or(() -> settings.stream().filter(s -> lower(s.get("id")).equals(lower(id))).findFirst());
        if (max <= min) {
            if (have.isPresent() && ours(env, d.address(), have.get())) {
                MachineLearningWorkspace.delete(cloud, "delete autoscale setting " + name, id, AUTOSCALE_API, timeout);
            }
            return;
        }
        if (have.isPresent() && !ours(env, d.address(), have.get())) {
            throw new DriverException(d.address() + ": autoscale setting " + name + " already exists in resource group " + AzureKind.resourceGroup(env)
                + " and is not mlctl's; mlctl needs that name for deployment " + deployment + ": rename or delete it", false);
        }
        boolean same = have.isPresent() && AzureKind.properties(have.get()).get("targetResourceUri") instanceof String t && t.equalsIgnoreCase(target)
            && profile(have.get()).filter(p -> capacity(p, "minimum") == min && capacity(p, "maximum") == max && capacity(p, "default") == min).isPresent()
            && PROFILE.equals(profile(have.get()).map(p -> p.get("name")).orElse(null));
        if (same) return;
        MachineLearningWorkspace.put(cloud, "set autoscale of deployment " + deployment + " of online endpoint " + AzureKind.lastSegment(endpointId)
            + " to " + min + "-" + max + " instances", id, AUTOSCALE_API, autoscaleBody(env, target, name, min, max, marker, have), timeout);
    }

    /**
     * Someone else's autoscale setting on mlctl's deployment: fine when it does what the spec asks (enabled
     * with the spec's bounds, or disabled while the spec asks a fixed count, which mlctl then sets itself),
     * else refused with one line naming it. mlctl never changes it, and cannot add its own beside it.
     */
    private static void requireAsSpec(ResourceSpec d, String what, Map<String, Object> setting, long min, long max) {
        Optional<Map<String, Object>> p = profile(setting);
        if (p.isPresent() && capacity(p.get(), "minimum") == min && capacity(p.get(), "maximum") == max) return;
        if (p.isEmpty() && max <= min) return;
        String does = p.map(x -> "scales it within " + capacity(x, "minimum") + "-" + capacity(x, "maximum") + " instances").orElse("is disabled");
        String fix = max > min ? "give it the bounds " + min + "-" + max + ", or delete it and mlctl makes its own"
            : "delete it and mlctl runs exactly " + min + ", or give it the bounds " + min + "-" + max;
        throw new DriverException(d.address() + ": " + what + " has autoscale setting " + setting.get("name") + " that mlctl did not make (it " + does
            + "); Azure Monitor allows one autoscale setting per resource and mlctl does not change someone else's: " + fix, false);
    }

    /** Deletes one of mlctl's deployments (and its autoscale setting); its traffic, if it still has any, is taken off it first (Azure refuses otherwise). */
    private void deleteDeployment(AzureClients cloud, Environment env, Address address, String endpointId, String name, Map<String, Object> endpoint) {
        String what = "delete deployment " + name + " of online endpoint " + AzureKind.lastSegment(endpointId);
        if (traffic(endpoint).getOrDefault(name, 0) > 0) {
            throw new DriverException(what + ": it still has traffic; run apply again", true);
        }
        deleteAutoscale(cloud, env, address, endpointId, name);
        MachineLearningWorkspace.delete(cloud, what, endpointId + "/deployments/" + name, API, timeout);
    }

    /** Deletes the autoscale setting mlctl keeps for a deployment, if there is one and it is mlctl's (it outlives its target otherwise). */
    private void deleteAutoscale(AzureClients cloud, Environment env, Address address, String endpointId, String deployment) {
        String id = autoscaleId(cloud, env, endpointId, deployment);
        String name = AzureKind.lastSegment(id);
        Optional<Map<String, Object>> have = MachineLearningWorkspace.get(cloud, "read autoscale setting " + name, id, AUTOSCALE_API);
        if (have.isPresent() && ours(env, address, have.get())) {
            MachineLearningWorkspace.delete(cloud, "delete autoscale setting " + name, id, AUTOSCALE_API, timeout);
        }
    }

    /**
     * Registers an https:// model as a version of the workspace model named after the endpoint (both PUTs
     * idempotent); the model's asset tags carry the endpoint's marker, so a release of the workspace knows
     * it for mlctl's.
     */
    private void registerModel(AzureClients cloud, Environment env, ResourceSpec d, String uri) {
        String version = modelVersionId(cloud, env, d.address().name(), uri);
        String container = version.substring(0, version.lastIndexOf("/versions/"));
        Optional<Map<String, Object>> found = MachineLearningWorkspace.get(cloud, "read model version " + version, version, API);
        if (found.isPresent()) return;
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("description", "mlctl: the model of " + d.address() + " in environment " + env.name());
        props.put("tags", TagMarker.INSTANCE.marker(env.name(), d.address()));
        GenericResourceInner model = new GenericResourceInner().withProperties(props);
        MachineLearningWorkspace.put(cloud, "register model " + AzureKind.lastSegment(container), container, API, model, timeout);
        GenericResourceInner v = new GenericResourceInner().withProperties(Map.of("modelUri", uri, "modelType", "custom_model",
            "description", "mlctl: registered from " + uri));
        MachineLearningWorkspace.put(cloud, "register model " + AzureKind.lastSegment(container) + " version " + AzureKind.lastSegment(version)
            + " from " + uri, version, API, v, timeout);
    }

    // ---------------------------------------------------------------- delete

    /**
     * Deletes the endpoint (its deployments go with it) and the autoscale settings of its deployments,
     * refusing while it serves a deployment mlctl did not make. The workspace stays: it is released only
     * when the environment is destroyed ({@link #released}), so a replaced endpoint never takes it down.
     */
    @Override
    public void delete(AzureClients cloud, Environment env, ObservedResource current) {
        String id = current.cloudId();
        String what = "online endpoint " + AzureKind.lastSegment(id);
        Optional<Map<String, Object>> endpoint = MachineLearningWorkspace.get(cloud, "read " + what, id, API);
        if (endpoint.isPresent()) {
            for (Map<String, Object> dep : deployments(cloud, id)) {
                if (!ours(env, current.address(), dep)) {
                    throw new DriverException(current.address() + ": Azure ML " + what + " also serves deployment '" + dep.get("name")
                        + "' that mlctl did not make; delete it first (mlctl never does)", false);
                }
            }
        }
        for (String color : COLORS) deleteAutoscale(cloud, env, current.address(), id, color);
        if (endpoint.isPresent()) MachineLearningWorkspace.delete(cloud, "delete " + what, id, API, timeout);
    }

    /**
     * After a destroy: the environment's workspace (with its vault and storage), unless anything of anyone
     * is in it; a workspace kept so is not an error of the destroy.
     */
    static void released(AzureClients cloud, Environment env) {
        synchronized (MachineLearningWorkspace.lock(cloud, env)) {
            MachineLearningWorkspace.releaseIfEmpty(cloud, env, Waiter.of(Duration.ofSeconds(10), Duration.ofMinutes(30)), Duration.ofMinutes(30));
        }
    }
}
