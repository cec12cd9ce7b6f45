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
import java.util.concurrent.ConcurrentHashMap;

/**
 * inference_endpoint → an Azure Machine Learning managed online endpoint ({@code authMode: Key}) in the
 * workspace mlctl keeps for the environment ({@link MachineLearningWorkspace}), named
 * {@link MachineLearningWorkspace#endpointName}, running as the spec's identity (UserAssigned) or its own
 * (SystemAssigned), with one managed deployment taking all of mlctl's traffic: the model, the instance
 * type ({@code machineType}), and TargetUtilization scale settings with min/max instances from
 * {@code minReplicas}/{@code maxReplicas} ({@code sku.capacity} = {@code minReplicas}).
 *
 * <p>The model: an {@code azureml://} URI is a model asset (a registry's
 * {@code azureml://registries/<r>/models/<m>/versions/<v>}) and is given to the deployment as it is; an
 * {@code https://} URI is registered in the workspace as a custom model version (model named after the
 * endpoint, version a number derived from the URI) and the deployment names that version.
 *
 * <p>Changes: model and replicas change the deployment in place (Azure rolls it); an instance type
 * cannot change on a deployment, so a new one is made under the other of the names {@code blue} and
 * {@code green}, given the traffic, and the old one deleted, inside the same endpoint (its scoring URI
 * and keys stay); region and identity replace the endpoint (Azure fixes both at creation).
 *
 * <p>Spec attributes without an Azure meaning: {@code framework} (Azure ML serves MLflow and registry
 * models with its own serving environment; there is no framework image to pick) is not compared;
 * {@code image} (a custom container needs an Azure ML environment with routes mlctl cannot infer) is
 * refused with one line; {@code accelerator} is refused by the spec checker on Azure (GPUs come with the
 * instance type); {@code minReplicas: 0} is refused (managed online deployments run at least one instance).
 *
 * <p>Inventory is two Resource Graph queries per page: the environment's endpoints, and its deployments
 * (tagged with the endpoint's marker, so found in bulk too).
 */
final class EndpointKind implements AzureKind {
    static final String GRAPH_ENDPOINTS = "microsoft.machinelearningservices/workspaces/onlineendpoints";
    static final String GRAPH_DEPLOYMENTS = GRAPH_ENDPOINTS + "/deployments";
    static final List<String> COLORS = List.of("blue", "green");
    private static final String API = MachineLearningWorkspace.ML_API;

    private final Waiter waiter;
    /** Endpoint PUTs this process sent and has not waited for yet: their operation's own error is the best message. */
    private final Map<String, SyncPoller<PollResult<GenericResourceInner>, GenericResourceInner>> pending = new ConcurrentHashMap<>();

    EndpointKind() {
        // A deployment takes minutes (tens for a large GPU model): polled every 10 s, for up to an hour and a half.
        this(Waiter.of(Duration.ofSeconds(10), Duration.ofMinutes(90)));
    }

    EndpointKind(Waiter waiter) {
        this.waiter = waiter;
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

    private static Identity identity(AzureClients cloud, Environment env, Map<String, Object> a) {
        if (a.get("identity") instanceof String id) {
            return new Identity().withType(ResourceIdentityType.USER_ASSIGNED)
                .withUserAssignedIdentities(Map.of(AzureKind.identityId(cloud, env, id), new IdentityUserAssignedIdentitiesValue()));
        }
        return new Identity().withType(ResourceIdentityType.SYSTEM_ASSIGNED);
    }

    private static GenericResourceInner endpointBody(AzureClients cloud, Environment env, Address address, Map<String, Object> a,
                                                     Map<String, String> tags, Map<String, Integer> traffic) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("authMode", "Key");
        p.put("description", "mlctl " + address + " of environment " + env.name());
        p.put("publicNetworkAccess", "Enabled");
        p.put("traffic", traffic);
        GenericResourceInner body = new GenericResourceInner().withProperties(p).withIdentity(identity(cloud, env, a));
        body.withLocation(env.region()).withTags(tags);
        return body;
    }

    private static GenericResourceInner deploymentBody(AzureClients cloud, Environment env, ResourceSpec d, Map<String, String> marker) {
        Map<String, Object> a = d.attributes();
        Map<String, Object> scale = new LinkedHashMap<>();
        scale.put("scaleType", "TargetUtilization");
        scale.put("minInstances", min(a));
        scale.put("maxInstances", max(a));
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("endpointComputeType", "Managed");
        p.put("description", "mlctl " + d.address() + " of environment " + env.name());
        p.put("model", model(cloud, env, d.address().name(), String.valueOf(a.get("modelUri"))));
        p.put("instanceType", a.get("machineType"));
        p.put("scaleSettings", scale);
        GenericResourceInner body = new GenericResourceInner().withProperties(p).withSku(new Sku().withName("Default").withCapacity((int) min(a)));
        // Deployments carry the marker only: found in bulk by it, and a label change never rolls the deployment.
        body.withLocation(env.region()).withTags(new TreeMap<>(marker));
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

    /** mlctl's deployments of the endpoint, the one serving its traffic first. */
    private static List<Map<String, Object>> own(Environment env, Address address, Map<String, Object> endpoint, List<Map<String, Object>> deployments) {
        Map<String, Integer> traffic = traffic(endpoint);
        List<Map<String, Object>> out = new ArrayList<>(deployments.stream().filter(x -> ours(env, address, x)).toList());
        out.sort(Comparator.comparing((Map<String, Object> x) -> -traffic.getOrDefault(String.valueOf(x.get("name")), 0))
            .thenComparing(x -> String.valueOf(x.get("name"))));
        return out;
    }

    /**
     * The endpoint's attributes as the spec writes them, from the endpoint and its deployments (Graph rows
     * or GETs, which have the same shape): the serving deployment's model, instance type and replicas, the
     * identity it runs as, region and labels. {@code status} says what is not as mlctl leaves it (no
     * deployment, two of them after an unfinished rollout, traffic not all on mlctl's).
     */
    static Map<String, Object> observe(AzureClients cloud, Environment env, Address address, Map<String, Object> endpoint,
                                       List<Map<String, Object>> deployments) {
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
            if (own.size() > 1) m.put("status", own.size() + " deployments (a rollout did not finish)");
            else if (state.equals("Failed") || state.equals("Canceled")) m.put("status", "deployment " + d.get("name") + " is " + state);
            else if (traffic.getOrDefault(String.valueOf(d.get("name")), 0) != Math.max(0, 100 - foreign)) {
                m.put("status", "deployment " + d.get("name") + " does not have mlctl's share of the traffic");
            }
            String model = String.valueOf(p.get("model"));
            Optional<String> specUri = env.resources().stream().filter(s -> s.address().equals(address)).findFirst()
                .map(s -> String.valueOf(s.attributes().get("modelUri")));
            // A registered https:// model reads back as the URI it was registered from (its id is derived from it).
            m.put("modelUri", specUri.filter(u -> model.equalsIgnoreCase(model(cloud, env, address.name(), u))).orElse(model));
            m.put("machineType", String.valueOf(p.get("instanceType")));
            Map<String, Object> scale = map(p.get("scaleSettings"));
            long capacity = map(d.get("sku")).get("capacity") instanceof Number n ? n.longValue() : 1L;
            if ("TargetUtilization".equalsIgnoreCase(String.valueOf(scale.get("scaleType")))) {
                m.put("minReplicas", scale.get("minInstances") instanceof Number n ? n.longValue() : capacity);
                m.put("maxReplicas", scale.get("maxInstances") instanceof Number n ? n.longValue() : capacity);
            } else {
                m.put("minReplicas", capacity);
                m.put("maxReplicas", capacity);
            }
        }
        return AzureKind.attrs(String.valueOf(endpoint.get("location")), m, AzureKind.tags(endpoint.get("tags")));
    }

    private ObservedResource observed(AzureClients cloud, Environment env, Address address, Map<String, Object> endpoint, List<Map<String, Object>> deployments) {
        return new ObservedResource(address, String.valueOf(endpoint.get("id")), observe(cloud, env, address, endpoint, deployments),
            AzureKind.tags(endpoint.get("tags")));
    }

    @Override
    public Page list(AzureClients cloud, Environment env, Optional<String> pageToken) {
        AzureClients.GraphPage page = cloud.query("list online endpoints", AzureKind.graphQuery(env, GRAPH_ENDPOINTS), pageToken);
        List<ObservedResource> items = new ArrayList<>();
        if (page.rows().isEmpty()) return new Page(items, page.skipToken());
        // Deployments are tracked resources with the endpoint's marker: all of the environment's in one query.
        Map<String, List<Map<String, Object>>> byEndpoint = new TreeMap<>();
        for (Map<String, Object> row : cloud.queryAll("list online deployments", AzureKind.graphQuery(env, GRAPH_DEPLOYMENTS))) {
            String id = String.valueOf(row.get("id"));
            byEndpoint.computeIfAbsent(id.substring(0, id.toLowerCase(Locale.ROOT).lastIndexOf("/deployments/")).toLowerCase(Locale.ROOT),
                k -> new ArrayList<>()).add(row);
        }
        for (Map<String, Object> row : page.rows()) {
            Optional<Address> a = TagMarker.INSTANCE.owner(AzureKind.tags(row.get("tags")), env.name())
                .filter(x -> x.type() == ResourceType.INFERENCE_ENDPOINT && !x.isComponent());
            if (a.isEmpty()) continue;
            List<Map<String, Object>> deployments = byEndpoint.getOrDefault(String.valueOf(row.get("id")).toLowerCase(Locale.ROOT), List.of());
            items.add(observed(cloud, env, a.get(), row, deployments));
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

    // ---------------------------------------------------------------- create, converge

    @Override
    public String create(AzureClients cloud, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        validate(d);
        String id = MachineLearningWorkspace.endpointId(cloud, env, d.address().name());
        String name = AzureKind.lastSegment(id);
        GenericResourceInner body = endpointBody(cloud, env, d.address(), d.attributes(), AzureKind.allTags(marker, d.attributes()), Map.of());
        synchronized (MachineLearningWorkspace.lock(cloud, env)) {
            MachineLearningWorkspace.ensure(cloud, env, waiter);
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
        if (poller != null) MachineLearningWorkspace.await("create online endpoint " + AzureKind.lastSegment(cloudId), poller);
        return converge(cloud, env, cloudId, d, marker);
    }

    @Override
    public ObservedResource update(AzureClients cloud, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        validate(d);
        return converge(cloud, env, current.cloudId(), d, TagMarker.INSTANCE.marker(env.name(), d.address()));
    }

    /**
     * Brings the endpoint to the spec from whatever an earlier (interrupted) attempt left, reading first so
     * any retry is safe: the https model registered, mlctl's deployment made or changed in place (a new
     * color when the instance type changes), all of mlctl's traffic on it, the endpoint's labels synced,
     * mlctl's other deployments deleted. Someone else's deployments keep their traffic and are never touched.
     */
    private ObservedResource converge(AzureClients cloud, Environment env, String id, ResourceSpec d, Map<String, String> marker) {
        String name = AzureKind.lastSegment(id);
        String what = "online endpoint " + name;
        Map<String, Object> found = MachineLearningWorkspace.get(cloud, "read " + what, id, API)
            .orElseThrow(() -> new DriverException(d.address() + ": " + what + " no longer exists; run plan again", false));
        if (List.of("Failed", "Canceled").contains(MachineLearningWorkspace.state(found))) {
            // An endpoint whose last operation failed is put again as it is: that is how Azure ML repairs one.
            MachineLearningWorkspace.put(cloud, "repair " + what, id, API, endpointBody(cloud, env, d.address(), d.attributes(),
                AzureKind.tags(found.get("tags")), traffic(found)));
        } else {
            MachineLearningWorkspace.awaitReady(cloud, waiter, "Azure ML " + what, id, API);
        }
        Map<String, Object> endpoint = MachineLearningWorkspace.get(cloud, "read " + what, id, API)
            .orElseThrow(() -> new DriverException(d.address() + ": " + what + " no longer exists; run plan again", false));
        List<Map<String, Object>> deployments = deployments(cloud, id);
        List<Map<String, Object>> own = own(env, d.address(), endpoint, deployments);
        GenericResourceInner want = deploymentBody(cloud, env, d, marker);
        Map<String, Object> wantProps = map(want.properties());
        String uri = String.valueOf(d.attributes().get("modelUri"));
        if (uri.startsWith("https://")) registerModel(cloud, env, d, uri);

        Optional<Map<String, Object>> serving = own.stream().findFirst();
        String keep;
        if (serving.isPresent() && String.valueOf(AzureKind.properties(serving.get()).get("instanceType")).equalsIgnoreCase(String.valueOf(wantProps.get("instanceType")))) {
            keep = String.valueOf(serving.get().get("name"));
            boolean failed = List.of("Failed", "Canceled").contains(MachineLearningWorkspace.state(serving.get()));
            if (failed || !sameDeployment(serving.get(), want)) putDeployment(cloud, id, keep, want);
        } else {
            // A new instance type is a new deployment: under the color the serving one does not have.
            String taken = serving.map(s -> String.valueOf(s.get("name"))).orElse("");
            keep = COLORS.stream().filter(c -> !c.equalsIgnoreCase(taken)).findFirst().orElseThrow();
            String k = keep;
            Optional<Map<String, Object>> stale = own.stream().filter(x -> String.valueOf(x.get("name")).equalsIgnoreCase(k)).findFirst();
            if (stale.isPresent() && !sameDeployment(stale.get(), want)) {
                if (String.valueOf(AzureKind.properties(stale.get()).get("instanceType")).equalsIgnoreCase(String.valueOf(wantProps.get("instanceType")))) {
                    putDeployment(cloud, id, keep, want);
                } else {
                    // Left by an earlier rollout to another instance type, and without traffic (the serving one has it).
                    deleteDeployment(cloud, id, keep, endpoint);
                    putDeployment(cloud, id, keep, want);
                }
            } else if (stale.isEmpty()) {
                if (deployments.stream().anyMatch(x -> String.valueOf(x.get("name")).equalsIgnoreCase(k))) {
                    throw new DriverException(d.address() + ": " + what + " has a deployment '" + k + "' that mlctl did not make; mlctl needs that name: "
                        + "rename or delete it", false);
                }
                putDeployment(cloud, id, keep, want);
            }
        }

        // All of mlctl's share of the traffic to the deployment kept; someone else's deployments keep theirs.
        Map<String, Integer> traffic = new TreeMap<>();
        int foreign = 0;
        Set<String> ownNames = new java.util.TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        own.forEach(x -> ownNames.add(String.valueOf(x.get("name"))));
        ownNames.add(keep);
        for (Map.Entry<String, Integer> t : traffic(endpoint).entrySet()) {
            if (ownNames.contains(t.getKey()) || t.getValue() == 0) continue;
            traffic.put(t.getKey(), t.getValue());
            foreign += t.getValue();
        }
        traffic.put(keep, Math.max(0, 100 - foreign));
        Map<String, String> tags = AzureKind.tagsAfterSync(AzureKind.tags(endpoint.get("tags")), marker, d.attributes())
            .orElse(AzureKind.tags(endpoint.get("tags")));
        if (!traffic.equals(traffic(endpoint)) || !tags.equals(AzureKind.tags(endpoint.get("tags")))) {
            MachineLearningWorkspace.put(cloud, "update " + what, id, API, endpointBody(cloud, env, d.address(), d.attributes(), tags, traffic));
            endpoint = MachineLearningWorkspace.get(cloud, "read " + what, id, API).orElse(endpoint);
        }
        for (Map<String, Object> old : own) {
            String n = String.valueOf(old.get("name"));
            if (!n.equalsIgnoreCase(keep)) deleteDeployment(cloud, id, n, endpoint);
        }
        return observed(cloud, env, d.address(), endpoint, deployments(cloud, id));
    }

    private static List<Map<String, Object>> deployments(AzureClients cloud, String endpointId) {
        return MachineLearningWorkspace.children(cloud, "list deployments of online endpoint " + AzureKind.lastSegment(endpointId),
            endpointId + "/deployments", API);
    }

    /** Whether a deployment already is what {@code want} asks (model, instance type, scale, capacity, tags). */
    private static boolean sameDeployment(Map<String, Object> have, GenericResourceInner want) {
        Map<String, Object> p = AzureKind.properties(have);
        Map<String, Object> w = map(want.properties());
        Map<String, Object> scale = map(p.get("scaleSettings"));
        Map<String, Object> wantScale = map(w.get("scaleSettings"));
        Object capacity = map(have.get("sku")).get("capacity");
        return String.valueOf(p.get("model")).equals(String.valueOf(w.get("model")))
            && String.valueOf(p.get("instanceType")).equalsIgnoreCase(String.valueOf(w.get("instanceType")))
            && String.valueOf(scale.get("scaleType")).equalsIgnoreCase(String.valueOf(wantScale.get("scaleType")))
            && number(scale.get("minInstances")) == number(wantScale.get("minInstances"))
            && number(scale.get("maxInstances")) == number(wantScale.get("maxInstances"))
            && number(capacity) == want.sku().capacity()
            && AzureKind.tags(have.get("tags")).equals(want.tags());
    }

    private static long number(Object o) {
        return o instanceof Number n ? n.longValue() : -1;
    }

    private void putDeployment(AzureClients cloud, String endpointId, String name, GenericResourceInner body) {
        MachineLearningWorkspace.put(cloud, "deploy " + map(body.properties()).get("model") + " to online endpoint " + AzureKind.lastSegment(endpointId)
            + " as deployment " + name, endpointId + "/deployments/" + name, API, body);
    }

    /** Deletes one of mlctl's deployments; its traffic, if it still has any, is taken off it first (Azure refuses otherwise). */
    private void deleteDeployment(AzureClients cloud, String endpointId, String name, Map<String, Object> endpoint) {
        String what = "delete deployment " + name + " of online endpoint " + AzureKind.lastSegment(endpointId);
        if (traffic(endpoint).getOrDefault(name, 0) > 0) {
            throw new DriverException(what + ": it still has traffic; run apply again", true);
        }
        MachineLearningWorkspace.delete(cloud, what, endpointId + "/deployments/" + name, API);
    }

    /** Registers an https:// model as a version of the workspace model named after the endpoint (both PUTs idempotent). */
    private static void registerModel(AzureClients cloud, Environment env, ResourceSpec d, String uri) {
        String version = modelVersionId(cloud, env, d.address().name(), uri);
        String container = version.substring(0, version.lastIndexOf("/versions/"));
        Optional<Map<String, Object>> found = MachineLearningWorkspace.get(cloud, "read model version " + version, version, API);
        if (found.isPresent()) return;
        GenericResourceInner model = new GenericResourceInner().withProperties(Map.of("description", "mlctl: the model of " + d.address()
            + " in environment " + env.name()));
        MachineLearningWorkspace.put(cloud, "register model " + AzureKind.lastSegment(container), container, API, model);
        GenericResourceInner v = new GenericResourceInner().withProperties(Map.of("modelUri", uri, "modelType", "custom_model",
            "description", "mlctl: registered from " + uri));
        MachineLearningWorkspace.put(cloud, "register model " + AzureKind.lastSegment(container) + " version " + AzureKind.lastSegment(version)
            + " from " + uri, version, API, v);
    }

    // ---------------------------------------------------------------- delete

    /**
     * Deletes the endpoint (its deployments go with it), refusing while it serves a deployment mlctl did not
     * make; then the workspace, when nothing else is in it.
     */
    @Override
    public void delete(AzureClients cloud, Environment env, ObservedResource current) {
        String id = current.cloudId();
        String what = "online endpoint " + AzureKind.lastSegment(id);
        synchronized (MachineLearningWorkspace.lock(cloud, env)) {
            Optional<Map<String, Object>> endpoint = MachineLearningWorkspace.get(cloud, "read " + what, id, API);
            if (endpoint.isPresent()) {
                for (Map<String, Object> dep : deployments(cloud, id)) {
                    if (!ours(env, current.address(), dep)) {
                        throw new DriverException(current.address() + ": Azure ML " + what + " also serves deployment '" + dep.get("name")
                            + "' that mlctl did not make; delete it first (mlctl never does)", false);
                    }
                }
                MachineLearningWorkspace.delete(cloud, "delete " + what, id, API);
            }
            MachineLearningWorkspace.releaseIfEmpty(cloud, env, waiter);
        }
    }

    /** After a destroy: the environment's workspace, if nothing is left in it (a destroy whose last delete could not release it). */
    static void released(AzureClients cloud, Environment env) {
        synchronized (MachineLearningWorkspace.lock(cloud, env)) {
            MachineLearningWorkspace.releaseIfEmpty(cloud, env, Waiter.of(Duration.ofSeconds(10), Duration.ofMinutes(30)));
        }
    }
}
