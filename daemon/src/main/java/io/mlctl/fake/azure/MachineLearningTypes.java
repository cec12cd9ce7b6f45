package io.mlctl.fake.azure;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Azure Machine Learning (api-version 2024-04-01) and the key vault a workspace needs. No SDK model of
 * these types is available here, so each PUT body is checked against a hand-written {@link Shape} taken
 * from the published REST definitions: an unknown or read-only property, a missing required one, or a
 * value of the wrong kind is refused with a 400 as ARM words it. On top of the shape, each type refuses
 * what the service refuses: a workspace without its storage account and key vault (which never change),
 * an online endpoint name taken in the region, traffic that does not sum to 100 or names a missing
 * deployment, a deployment's instance type changed in place, a deployment deleted while it has traffic,
 * a key vault name taken (also by a soft-deleted vault, until it is recovered or purged).
 */
public final class MachineLearningTypes {
    static final String WORKSPACES = "Microsoft.MachineLearningServices/workspaces";
    static final String ENDPOINTS = WORKSPACES + "/onlineEndpoints";
    static final String DEPLOYMENTS = ENDPOINTS + "/deployments";
    static final String MODELS = WORKSPACES + "/models";
    static final String MODEL_VERSIONS = MODELS + "/versions";
    static final String VAULTS = "Microsoft.KeyVault/vaults";
    static final String DELETED_VAULTS = "Microsoft.KeyVault/locations/deletedVaults";
    static final String DATASTORES = WORKSPACES + "/datastores";
    static final String AUTOSCALE = "Microsoft.Insights/autoscalesettings";
    /** What Azure ML registers in every new workspace: its blob container and file share, and (v2) its artifact and working directory stores. */
    static final List<String> DEFAULT_DATASTORES = List.of("workspaceblobstore", "workspacefilestore", "workspaceartifactstore", "workspaceworkingdirectory");

    private MachineLearningTypes() {
    }

    static List<ArmType> all() {
        return List.of(new Workspaces(), new OnlineEndpoints(), new OnlineDeployments(), new Models(), new ModelVersions(), new Vaults(),
            new DeletedVaults(), new AutoscaleSettings(), new ReadOnly(WORKSPACES + "/batchEndpoints", true),
            new ReadOnly(WORKSPACES + "/serverlessEndpoints", true), new ReadOnly(WORKSPACES + "/computes", true), new ReadOnly(WORKSPACES + "/jobs", false),
            new ReadOnly(WORKSPACES + "/data", false), new ReadOnly(WORKSPACES + "/connections", false), new ReadOnly(DATASTORES, false));
    }

    // ---- shapes ------------------------------------------------------------------------------------

    /**
     * A request shape: what a property may hold. Objects list their properties, each optional, required
     * or read-only (never sent); anything else is refused.
     */
    public static final class Shape {
        enum Kind { STRING, INT, NUM, BOOL, OBJECT, MAP, LIST, ANY }

        record Field(String name, Shape shape, boolean required, boolean readOnly) {
        }

        final Kind kind;
        final String model;
        final Map<String, Field> fields;
        final Shape element;
        final Set<String> values;

        private Shape(Kind kind, String model, Map<String, Field> fields, Shape element, Set<String> values) {
            this.kind = kind;
            this.model = model;
            this.fields = fields;
            this.element = element;
            this.values = values;
        }

        static Shape str(String... values) {
            return new Shape(Kind.STRING, null, Map.of(), null, new TreeSet<>(Arrays.asList(values)));
        }

        static final Shape STR = str();
        static final Shape INT = new Shape(Kind.INT, null, Map.of(), null, Set.of());
        static final Shape NUM = new Shape(Kind.NUM, null, Map.of(), null, Set.of());
        static final Shape BOOL = new Shape(Kind.BOOL, null, Map.of(), null, Set.of());
        static final Shape ANY = new Shape(Kind.ANY, null, Map.of(), null, Set.of());

        static Shape mapOf(Shape values) {
            return new Shape(Kind.MAP, null, Map.of(), values, Set.of());
        }

        static Shape listOf(Shape items) {
            return new Shape(Kind.LIST, null, Map.of(), items, Set.of());
        }

        static Shape obj(String model, Field... fields) {
            Map<String, Field> m = new LinkedHashMap<>();
            for (Field f : fields) m.put(f.name(), f);
            return new Shape(Kind.OBJECT, model, m, null, Set.of());
        }

        static Field req(String name, Shape shape) {
            return new Field(name, shape, true, false);
        }

        static Field opt(String name, Shape shape) {
            return new Field(name, shape, false, false);
        }

        static Field ro(String name) {
            return new Field(name, ANY, false, true);
        }

        /** Refuses {@code body} (400) where it does not fit this shape. */
        public void check(Object body) {
            check("", body, model);
        }

        @SuppressWarnings("unchecked")
        private void check(String path, Object value, String owner) {
            if (value == null) return;
            switch (kind) {
                case ANY -> { }
                case STRING -> {
                    if (!(value instanceof String s)) throw convert(path, value, "String");
                    if (!values.isEmpty() && values.stream().noneMatch(v -> v.equalsIgnoreCase(s))) {
                        throw ArmError.badRequest("InvalidRequestContent", "The value '" + s + "' is not valid for '" + path + "': expected one of "
                            + String.join(", ", values) + ".");
                    }
                }
                case INT -> {
                    if (!(value instanceof Integer || value instanceof Long)) throw convert(path, value, "Int32");
                }
                case NUM -> {
                    if (!(value instanceof Number)) throw convert(path, value, "Double");
                }
                case BOOL -> {
                    if (!(value instanceof Boolean)) throw convert(path, value, "Boolean");
                }
                case MAP -> {
                    if (!(value instanceof Map<?, ?> m)) throw convert(path, value, "Dictionary");
                    ((Map<String, Object>) m).forEach((k, v) -> element.check(join(path, k), v, owner));
                }
                case LIST -> {
                    if (!(value instanceof List<?> l)) throw convert(path, value, "List");
                    for (int i = 0; i < l.size(); i++) element.check(path + "[" + i + "]", l.get(i), owner);
                }
                case OBJECT -> {
                    if (!(value instanceof Map<?, ?> m)) throw convert(path, value, model);
                    String type = model == null ? owner : model;
                    for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
                        Field f = fields.get(e.getKey());
                        if (e.getValue() == null) continue;
                        if (f == null || f.readOnly()) {
                            throw ArmError.badRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                                + "'Could not find member '" + e.getKey() + "' on object of type '" + type + "'. Path '" + join(path, e.getKey())
                                + "'.' (an unknown or read-only property)");
                        }
                        f.shape().check(join(path, e.getKey()), e.getValue(), type);
                    }
                    for (Field f : fields.values()) {
                        if (f.required() && m.get(f.name()) == null) {
                            throw ArmError.badRequest("InvalidRequestContent", "The request content was invalid: Required property '" + f.name()
                                + "' not found in JSON. Path '" + path + "'.");
                        }
                    }
                }
            }
        }

        private static String join(String path, String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        private static ArmError convert(String path, Object value, String to) {
            return ArmError.badRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: 'Error converting "
                + "value " + ArmModels.write(value) + " to type '" + to + "'. Path '" + path + "'.'");
        }
    }

    static final Shape TAGS = Shape.mapOf(Shape.STR);
    static final Shape IDENTITY = Shape.obj("ManagedServiceIdentity",
        Shape.req("type", Shape.str("None", "SystemAssigned", "UserAssigned", "SystemAssigned,UserAssigned")),
        Shape.opt("userAssignedIdentities", Shape.mapOf(Shape.obj("UserAssignedIdentity", Shape.ro("principalId"), Shape.ro("clientId")))),
        Shape.ro("principalId"), Shape.ro("tenantId"));
    static final Shape SKU = Shape.obj("Sku", Shape.req("name", Shape.STR), Shape.opt("tier", Shape.str("Free", "Basic", "Standard", "Premium")),
        Shape.opt("size", Shape.STR), Shape.opt("family", Shape.STR), Shape.opt("capacity", Shape.INT));
    static final Shape PROBE = Shape.obj("ProbeSettings", Shape.opt("failureThreshold", Shape.INT), Shape.opt("initialDelay", Shape.STR),
        Shape.opt("period", Shape.STR), Shape.opt("successThreshold", Shape.INT), Shape.opt("timeout", Shape.STR));

    static final Shape WORKSPACE = Shape.obj("Workspace", Shape.opt("location", Shape.STR), Shape.opt("tags", TAGS), Shape.opt("kind", Shape.STR),
        Shape.opt("identity", IDENTITY), Shape.opt("sku", SKU), Shape.ro("systemData"),
        Shape.opt("properties", Shape.obj("WorkspaceProperties",
            Shape.opt("allowPublicAccessWhenBehindVnet", Shape.BOOL), Shape.opt("applicationInsights", Shape.STR),
            Shape.opt("associatedWorkspaces", Shape.listOf(Shape.STR)), Shape.opt("containerRegistry", Shape.STR),
            Shape.opt("description", Shape.STR), Shape.opt("discoveryUrl", Shape.STR), Shape.opt("enableDataIsolation", Shape.BOOL),
            Shape.opt("encryption", Shape.ANY), Shape.opt("featureStoreSettings", Shape.ANY), Shape.opt("friendlyName", Shape.STR),
            Shape.opt("hbiWorkspace", Shape.BOOL), Shape.opt("hubResourceId", Shape.STR), Shape.opt("imageBuildCompute", Shape.STR),
            Shape.opt("keyVault", Shape.STR), Shape.opt("managedNetwork", Shape.ANY), Shape.ro("mlFlowTrackingUri"), Shape.ro("notebookInfo"),
            Shape.opt("primaryUserAssignedIdentity", Shape.STR), Shape.ro("privateEndpointConnections"), Shape.ro("privateLinkCount"),
            Shape.ro("provisioningState"), Shape.opt("publicNetworkAccess", Shape.str("Enabled", "Disabled")),
            Shape.opt("serverlessComputeSettings", Shape.ANY), Shape.opt("serviceManagedResourcesSettings", Shape.ANY),
            Shape.ro("serviceProvisionedResourceGroup"), Shape.opt("sharedPrivateLinkResources", Shape.listOf(Shape.ANY)),
            Shape.opt("storageAccount", Shape.STR), Shape.ro("storageHnsEnabled"), Shape.ro("tenantId"), Shape.opt("v1LegacyMode", Shape.BOOL),
            Shape.opt("workspaceHubConfig", Shape.ANY), Shape.ro("workspaceId"))));
    static final Shape ENDPOINT = Shape.obj("OnlineEndpoint", Shape.req("location", Shape.STR), Shape.opt("tags", TAGS), Shape.opt("kind", Shape.STR),
        Shape.opt("identity", IDENTITY), Shape.opt("sku", SKU), Shape.ro("systemData"),
        Shape.req("properties", Shape.obj("OnlineEndpointProperties",
            Shape.req("authMode", Shape.str("AADToken", "AMLToken", "Key")), Shape.opt("compute", Shape.STR), Shape.opt("description", Shape.STR),
            Shape.opt("keys", Shape.obj("EndpointAuthKeys", Shape.opt("primaryKey", Shape.STR), Shape.opt("secondaryKey", Shape.STR))),
            Shape.opt("mirrorTraffic", Shape.mapOf(Shape.INT)), Shape.opt("properties", Shape.mapOf(Shape.STR)), Shape.ro("provisioningState"),
            Shape.opt("publicNetworkAccess", Shape.str("Enabled", "Disabled")), Shape.ro("scoringUri"), Shape.ro("swaggerUri"),
            Shape.opt("traffic", Shape.mapOf(Shape.INT)))));
    static final Shape DEPLOYMENT = Shape.obj("OnlineDeployment", Shape.req("location", Shape.STR), Shape.opt("tags", TAGS),
        Shape.opt("kind", Shape.STR), Shape.opt("identity", IDENTITY), Shape.opt("sku", SKU), Shape.ro("systemData"),
        Shape.req("properties", Shape.obj("ManagedOnlineDeployment",
            // The fake serves managed online deployments only (Kubernetes ones take containerResourceRequirements too).
            Shape.req("endpointComputeType", Shape.str("Managed")), Shape.opt("appInsightsEnabled", Shape.BOOL),
            Shape.opt("codeConfiguration", Shape.obj("CodeConfiguration", Shape.opt("codeId", Shape.STR), Shape.req("scoringScript", Shape.STR))),
            Shape.opt("dataCollector", Shape.ANY), Shape.opt("description", Shape.STR),
            Shape.opt("egressPublicNetworkAccess", Shape.str("Enabled", "Disabled")), Shape.opt("environmentId", Shape.STR),
            Shape.opt("environmentVariables", Shape.mapOf(Shape.STR)), Shape.opt("instanceType", Shape.STR), Shape.opt("livenessProbe", PROBE),
            Shape.opt("model", Shape.STR), Shape.opt("modelMountPath", Shape.STR), Shape.opt("properties", Shape.mapOf(Shape.STR)),
            Shape.ro("provisioningState"), Shape.opt("readinessProbe", PROBE),
            Shape.opt("requestSettings", Shape.obj("OnlineRequestSettings", Shape.opt("maxConcurrentRequestsPerInstance", Shape.INT),
                Shape.opt("maxQueueWait", Shape.STR), Shape.opt("requestTimeout", Shape.STR))),
            Shape.opt("scaleSettings", Shape.obj("OnlineScaleSettings", Shape.req("scaleType", Shape.str("Default", "TargetUtilization")),
                Shape.opt("minInstances", Shape.INT), Shape.opt("maxInstances", Shape.INT), Shape.opt("pollingInterval", Shape.STR),
                Shape.opt("targetUtilizationPercentage", Shape.INT))))));
    static final Shape MODEL = Shape.obj("ModelContainer", Shape.ro("systemData"), Shape.req("properties", Shape.obj("ModelContainerProperties",
        Shape.opt("description", Shape.STR), Shape.opt("isArchived", Shape.BOOL), Shape.ro("latestVersion"), Shape.ro("nextVersion"),
        Shape.opt("properties", Shape.mapOf(Shape.STR)), Shape.ro("provisioningState"), Shape.opt("tags", TAGS))));
    static final Shape MODEL_VERSION = Shape.obj("ModelVersion", Shape.ro("systemData"), Shape.req("properties", Shape.obj("ModelVersionProperties",
        Shape.opt("description", Shape.STR), Shape.opt("flavors", Shape.ANY), Shape.opt("isAnonymous", Shape.BOOL), Shape.opt("isArchived", Shape.BOOL),
        Shape.opt("jobName", Shape.STR), Shape.opt("modelType", Shape.STR), Shape.opt("modelUri", Shape.STR),
        Shape.opt("properties", Shape.mapOf(Shape.STR)), Shape.ro("provisioningState"), Shape.opt("stage", Shape.STR), Shape.opt("tags", TAGS))));
    static final Shape VAULT = Shape.obj("VaultCreateOrUpdateParameters", Shape.req("location", Shape.STR), Shape.opt("tags", TAGS),
        Shape.req("properties", Shape.obj("VaultProperties",
            Shape.req("tenantId", Shape.STR),
            Shape.req("sku", Shape.obj("Sku", Shape.req("family", Shape.str("A")), Shape.req("name", Shape.str("standard", "premium")))),
            Shape.opt("accessPolicies", Shape.listOf(Shape.obj("AccessPolicyEntry", Shape.req("tenantId", Shape.STR), Shape.req("objectId", Shape.STR),
                Shape.opt("applicationId", Shape.STR), Shape.req("permissions", Shape.ANY)))),
            Shape.opt("vaultUri", Shape.STR), Shape.ro("hsmPoolResourceId"), Shape.opt("enabledForDeployment", Shape.BOOL),
            Shape.opt("enabledForDiskEncryption", Shape.BOOL), Shape.opt("enabledForTemplateDeployment", Shape.BOOL),
            Shape.opt("enableSoftDelete", Shape.BOOL), Shape.opt("softDeleteRetentionInDays", Shape.INT), Shape.opt("enableRbacAuthorization", Shape.BOOL),
            Shape.opt("createMode", Shape.str("default", "recover")), Shape.opt("enablePurgeProtection", Shape.BOOL), Shape.opt("networkAcls", Shape.ANY),
            Shape.ro("provisioningState"), Shape.ro("privateEndpointConnections"), Shape.opt("publicNetworkAccess", Shape.STR))));

    static final Shape METRIC_TRIGGER = Shape.obj("MetricTrigger", Shape.req("metricName", Shape.STR), Shape.opt("metricNamespace", Shape.STR),
        Shape.req("metricResourceUri", Shape.STR), Shape.opt("metricResourceLocation", Shape.STR), Shape.req("timeGrain", Shape.STR),
        Shape.req("statistic", Shape.str("Average", "Min", "Max", "Sum", "Count")), Shape.req("timeWindow", Shape.STR),
        Shape.req("timeAggregation", Shape.str("Average", "Minimum", "Maximum", "Total", "Count", "Last")),
        Shape.req("operator", Shape.str("Equals", "NotEquals", "GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual")),
        Shape.req("threshold", Shape.NUM), Shape.opt("dimensions", Shape.listOf(Shape.ANY)), Shape.opt("dividePerInstance", Shape.BOOL));
    static final Shape SCALE_ACTION = Shape.obj("ScaleAction", Shape.req("direction", Shape.str("None", "Increase", "Decrease")),
        Shape.req("type", Shape.str("ChangeCount", "PercentChangeCount", "ExactCount", "ServiceAllowedNextValue")), Shape.opt("value", Shape.STR),
        Shape.req("cooldown", Shape.STR));
    static final Shape AUTOSCALE_SETTING = Shape.obj("AutoscaleSettingResource", Shape.req("location", Shape.STR), Shape.opt("tags", TAGS),
        Shape.ro("systemData"), Shape.req("properties", Shape.obj("AutoscaleSetting",
            Shape.req("profiles", Shape.listOf(Shape.obj("AutoscaleProfile", Shape.req("name", Shape.STR),
                Shape.req("capacity", Shape.obj("ScaleCapacity", Shape.req("minimum", Shape.STR), Shape.req("maximum", Shape.STR), Shape.req("default", Shape.STR))),
                Shape.req("rules", Shape.listOf(Shape.obj("ScaleRule", Shape.req("metricTrigger", METRIC_TRIGGER), Shape.req("scaleAction", SCALE_ACTION)))),
                Shape.opt("fixedDate", Shape.ANY), Shape.opt("recurrence", Shape.ANY)))),
            Shape.opt("notifications", Shape.listOf(Shape.ANY)), Shape.opt("enabled", Shape.BOOL), Shape.opt("predictiveAutoscalePolicy", Shape.ANY),
            Shape.opt("name", Shape.STR), Shape.opt("targetResourceUri", Shape.STR), Shape.opt("targetResourceLocation", Shape.STR))));

    private static final Pattern WORKSPACE_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}");
    private static final Pattern ENDPOINT_NAME = Pattern.compile("[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]");
    private static final Pattern DEPLOYMENT_NAME = Pattern.compile("[a-zA-Z][a-zA-Z0-9-]{2,31}");
    private static final Pattern VAULT_NAME = Pattern.compile("[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]");
    private static final Pattern GUID = Pattern.compile("[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}");

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static ArmError userError(String message) {
        return ArmError.badRequest("UserError", message);
    }

    /** A referenced resource must exist and be of the type named. */
    private static void requireResource(ArmFake arm, String what, Object id, String type) {
        String ref = String.valueOf(id);
        Optional<Map<String, Object>> found = ref.startsWith("/") ? arm.get(ref) : Optional.empty();
        if (found.isEmpty() || !type.equalsIgnoreCase(String.valueOf(found.get().get("type")))) {
            throw userError("The " + what + " '" + ref + "' does not exist or is not a " + type + ".");
        }
    }

    /** A managed identity: user-assigned ones must exist; system-assigned ones get a principal (kept across PUTs). */
    private static void checkIdentity(ArmFake arm, Map<String, Object> identity) {
        String type = String.valueOf(identity.get("type"));
        Map<String, Object> users = map(identity.get("userAssignedIdentities"));
        if (type.contains("UserAssigned") == users.isEmpty()) {
            throw ArmError.badRequest("BadRequest", "The identity type '" + type + "' requires userAssignedIdentities exactly when it is UserAssigned.");
        }
        for (String id : users.keySet()) requireResource(arm, "user assigned identity", id, IdentityTypes.IDENTITIES);
    }

    private static void fillIdentity(ArmFake arm, Map<String, Object> body, Optional<Map<String, Object>> existing) {
        Map<String, Object> identity = map(body.get("identity"));
        if (identity.isEmpty()) return;
        Map<String, Object> out = new LinkedHashMap<>(identity);
        if (String.valueOf(identity.get("type")).contains("SystemAssigned")) {
            Object before = existing.map(e -> map(e.get("identity")).get("principalId")).orElse(null);
            out.put("principalId", before != null ? before : UUID.randomUUID().toString());
            out.put("tenantId", ArmFake.TENANT);
        }
        Map<String, Object> users = new LinkedHashMap<>();
        map(identity.get("userAssignedIdentities")).forEach((id, v) -> {
            Map<String, Object> p = arm.get(id).map(ArmFake::properties).orElse(Map.of());
            users.put(id, Map.of("principalId", String.valueOf(p.get("principalId")), "clientId", String.valueOf(p.get("clientId"))));
        });
        if (!users.isEmpty()) out.put("userAssignedIdentities", users);
        body.put("identity", out);
    }

    private static String lastSegment(String id) {
        return id.substring(id.lastIndexOf('/') + 1);
    }

    private static Object same(Optional<Map<String, Object>> existing, String key, Object fallback) {
        return existing.map(e -> ArmFake.properties(e).get(key)).orElse(fallback);
    }

    // ---- workspaces --------------------------------------------------------------------------------

    /** A workspace: its storage account and key vault must exist and can never change. */
    static final class Workspaces implements ArmType {
        @Override
        public String type() {
            return WORKSPACES;
        }

        @Override
        public Class<?> model() {
            return null;
        }

        @Override
        public boolean patchable() {
            return false;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            WORKSPACE.check(body);
            if (!WORKSPACE_NAME.matcher(id.name()).matches()) {
                throw userError("Workspace name '" + id.name() + "' is invalid: 3 to 33 letters, digits, '-' or '_', starting with a letter or digit.");
            }
            Map<String, Object> p = map(body.get("properties"));
            if (p.get("storageAccount") == null || p.get("keyVault") == null) {
                throw userError("A workspace needs an associated storage account and key vault (properties.storageAccount, properties.keyVault).");
            }
            requireResource(arm, "storage account", p.get("storageAccount"), "Microsoft.Storage/storageAccounts");
            requireResource(arm, "key vault", p.get("keyVault"), VAULTS);
            if (p.get("applicationInsights") != null) requireResource(arm, "application insights", p.get("applicationInsights"), "Microsoft.Insights/components");
            if (existing.isPresent()) {
                Map<String, Object> was = ArmFake.properties(existing.get());
                for (String fixed : List.of("storageAccount", "keyVault")) {
                    if (!String.valueOf(was.get(fixed)).equalsIgnoreCase(String.valueOf(p.get(fixed)))) {
                        throw userError("The " + fixed + " of a workspace cannot be changed once the workspace has been created.");
                    }
                }
            }
            checkIdentity(arm, map(body.get("identity")).isEmpty() ? Map.of("type", "None") : map(body.get("identity")));
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> p = ArmFake.properties(body);
            p.put("workspaceId", same(existing, "workspaceId", UUID.randomUUID().toString()));
            p.put("tenantId", ArmFake.TENANT);
            p.put("storageHnsEnabled", false);
            p.put("mlFlowTrackingUri", "azureml://" + ArmFake.norm(String.valueOf(body.get("location"))) + ".api.azureml.ms/mlflow/v1.0" + id.id());
            p.putIfAbsent("discoveryUrl", "https://" + ArmFake.norm(String.valueOf(body.get("location"))) + ".api.azureml.ms/discovery");
            fillIdentity(arm, body, existing);
            return body;
        }

        /** A new workspace has Azure ML's default datastores, on its storage account. */
        @Override
        public void afterWrite(ArmFake arm, ArmId id, Optional<Map<String, Object>> now) {
            if (now.isEmpty()) return;
            String account = lastSegment(String.valueOf(ArmFake.properties(now.get()).get("storageAccount")));
            for (String name : DEFAULT_DATASTORES) {
                String ds = id.id() + "/datastores/" + name;
                if (arm.get(ds).isPresent()) continue;
                Map<String, Object> props = new LinkedHashMap<>();
                props.put("datastoreType", name.equals("workspacefilestore") ? "AzureFile" : "AzureBlob");
                props.put("accountName", account);
                props.put("isDefault", name.equals("workspaceblobstore"));
                arm.put(ds, new LinkedHashMap<>(Map.of("id", ds, "name", name, "type", DATASTORES, "properties", props)));
            }
        }
    }

    // ---- online endpoints --------------------------------------------------------------------------

    /** An online endpoint: a name unique in its region, traffic over its own deployments summing to 100 (or 0). */
    static final class OnlineEndpoints implements ArmType {
        @Override
        public String type() {
            return ENDPOINTS;
        }

        @Override
        public Class<?> model() {
            return null;
        }

        @Override
        public boolean patchable() {
            return false;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            ENDPOINT.check(body);
            if (!ENDPOINT_NAME.matcher(id.name()).matches()) {
                throw userError("Online endpoint name '" + id.name() + "' is invalid: 3 to 32 letters, digits and '-', starting with a letter "
                    + "and ending with a letter or digit.");
            }
            String location = ArmFake.norm(String.valueOf(body.get("location")));
            String workspaceLocation = arm.get(id.parent()).map(w -> ArmFake.norm(String.valueOf(w.get("location")))).orElse(location);
            if (!workspaceLocation.equals(location)) {
                throw userError("An online endpoint must be in its workspace's region (" + workspaceLocation + "), not " + location + ".");
            }
            for (Map<String, Object> other : arm.list(ENDPOINTS)) {
                if (!ArmId.key(String.valueOf(other.get("id"))).equals(id.key()) && id.name().equalsIgnoreCase(String.valueOf(other.get("name")))
                    && location.equals(ArmFake.norm(String.valueOf(other.get("location"))))) {
                    throw ArmError.conflict("Conflict", "Online endpoint name '" + id.name() + "' is already in use in region " + location
                        + "; endpoint names are unique per region across Azure.");
                }
            }
            Map<String, Object> identity = map(body.get("identity"));
            checkIdentity(arm, identity.isEmpty() ? Map.of("type", "None") : identity);
            if (existing.isPresent()) {
                String before = String.valueOf(map(existing.get().get("identity")).getOrDefault("type", "None"));
                String now = String.valueOf(identity.getOrDefault("type", "None"));
                Set<String> beforeUsers = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
                beforeUsers.addAll(map(map(existing.get().get("identity")).get("userAssignedIdentities")).keySet());
                Set<String> nowUsers = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
                nowUsers.addAll(map(identity.get("userAssignedIdentities")).keySet());
                if (!before.equalsIgnoreCase(now) || !beforeUsers.equals(nowUsers)) {
                    throw userError("The identity of an online endpoint cannot be changed after it is created; create a new endpoint.");
                }
            }
            Map<String, Object> traffic = map(map(body.get("properties")).get("traffic"));
            long sum = 0;
            for (Map.Entry<String, Object> t : traffic.entrySet()) {
                long v = ((Number) t.getValue()).longValue();
                if (v < 0 || v > 100) throw userError("Traffic for deployment '" + t.getKey() + "' must be between 0 and 100.");
                if (v > 0 && arm.get(id.id() + "/deployments/" + t.getKey()).isEmpty()) {
                    throw userError("Traffic is set for deployment '" + t.getKey() + "', which does not exist in endpoint '" + id.name() + "'.");
                }
                sum += v;
            }
            if (sum != 0 && sum != 100) throw userError("Traffic values need to sum to 100 (they sum to " + sum + ").");
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> p = ArmFake.properties(body);
            p.remove("keys"); // write-only: read through listKeys
            p.putIfAbsent("traffic", new LinkedHashMap<>());
            String region = ArmFake.norm(String.valueOf(body.get("location")));
            p.put("scoringUri", "https://" + id.name() + "." + region + ".inference.ml.azure.com/score");
            p.put("swaggerUri", "https://" + id.name() + "." + region + ".inference.ml.azure.com/swagger.json");
            fillIdentity(arm, body, existing);
            return body;
        }

        @Override
        public Object action(ArmFake arm, ArmId id, String action, Map<String, Object> body) {
            if (!action.equalsIgnoreCase("listKeys")) return ArmType.super.action(arm, id, action, body);
            return Map.of("primaryKey", "fake-primary-key", "secondaryKey", "fake-secondary-key");
        }
    }

    /** A managed online deployment: its instance type fixed once made; deleted only once it has no traffic. */
    static final class OnlineDeployments implements ArmType {
        @Override
        public String type() {
            return DEPLOYMENTS;
        }

        @Override
        public Class<?> model() {
            return null;
        }

        @Override
        public boolean patchable() {
            return false;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            DEPLOYMENT.check(body);
            if (!DEPLOYMENT_NAME.matcher(id.name()).matches()) {
                throw userError("Deployment name '" + id.name() + "' is invalid: 3 to 32 letters, digits and '-', starting with a letter.");
            }
            Map<String, Object> endpoint = arm.get(id.parent()).orElseThrow();
            if (!ArmFake.norm(String.valueOf(endpoint.get("location"))).equals(ArmFake.norm(String.valueOf(body.get("location"))))) {
                throw userError("A deployment must be in its endpoint's region (" + endpoint.get("location") + ").");
            }
            Map<String, Object> p = map(body.get("properties"));
            if (p.get("instanceType") == null) throw userError("A managed online deployment needs an instanceType.");
            if (p.get("model") == null) throw userError("A managed online deployment needs a model.");
            checkModel(arm, id, String.valueOf(p.get("model")));
            Map<String, Object> scale = map(p.get("scaleSettings"));
            long capacity = ((Number) map(body.get("sku")).getOrDefault("capacity", 1)).longValue();
            // Managed online deployments scale only by their instance count (sku.capacity), changed by hand or by an
            // Azure Monitor autoscale setting: TargetUtilization is a Kubernetes online deployment's.
            if ("TargetUtilization".equalsIgnoreCase(String.valueOf(scale.get("scaleType")))) {
                throw userError("Scale type 'TargetUtilization' is not supported for managed online deployments; use 'Default' and scale the "
                    + "instance count (sku.capacity), or autoscale it with an Azure Monitor autoscale setting.");
            }
            if (scale.size() > 1) throw userError("Default scale settings take no other property than scaleType.");
            if (capacity < 1) throw userError("A managed online deployment runs at least 1 instance (sku.capacity " + capacity + ").");
            if (existing.isPresent()) {
                Object before = ArmFake.properties(existing.get()).get("instanceType");
                if (!String.valueOf(before).equalsIgnoreCase(String.valueOf(p.get("instanceType")))) {
                    throw userError("Updating the instance type of a deployment is not supported (" + before + " to " + p.get("instanceType")
                        + "); create a new deployment.");
                }
            }
        }

        /** A model is a registry asset ({@code azureml://registries/...}), a workspace asset ({@code azureml:name:version}), or a model version's id. */
        private static void checkModel(ArmFake arm, ArmId id, String model) {
            if (model.startsWith("azureml://registries/") || model.matches("azureml:[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+")) return;
            if (model.startsWith("/")) {
                requireResource(arm, "model version", model, MODEL_VERSIONS);
                return;
            }
            throw userError("Model '" + model + "' is not a model asset: use azureml://registries/<registry>/models/<name>/versions/<version>, "
                + "azureml:<name>:<version>, or a model version's resource id.");
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            fillIdentity(arm, body, existing);
            return body;
        }

        @Override
        public void checkDelete(ArmFake arm, ArmId id, Map<String, Object> existing) {
            Object traffic = arm.get(id.parent()).map(e -> map(ArmFake.properties(e).get("traffic")).get(id.name())).orElse(null);
            if (traffic instanceof Number n && n.intValue() > 0) {
                throw ArmError.badRequest("UserError", "Deployment '" + id.name() + "' has " + n + "% of the endpoint's traffic; set its traffic "
                    + "to 0 before deleting it.");
            }
        }
    }

    /** A workspace model (container): a name its versions hang under. */
    static final class Models implements ArmType {
        @Override
        public String type() {
            return MODELS;
        }

        @Override
        public Class<?> model() {
            return null;
        }

        @Override
        public boolean tracked() {
            return false;
        }

        @Override
        public Lro lro() {
            return Lro.SYNC;
        }

        @Override
        public boolean patchable() {
            return false;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            MODEL.check(body);
        }
    }

    /** A model version: where its files are; immutable once registered. */
    static final class ModelVersions implements ArmType {
        @Override
        public String type() {
            return MODEL_VERSIONS;
        }

        @Override
        public Class<?> model() {
            return null;
        }

        @Override
        public boolean tracked() {
            return false;
        }

        @Override
        public Lro lro() {
            return Lro.SYNC;
        }

        @Override
        public boolean patchable() {
            return false;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            MODEL_VERSION.check(body);
            Object uri = map(body.get("properties")).get("modelUri");
            if (uri == null) throw userError("A model version needs a modelUri.");
            if (existing.isPresent() && !String.valueOf(ArmFake.properties(existing.get()).get("modelUri")).equals(String.valueOf(uri))) {
                throw ArmError.conflict("Conflict", "Model version '" + id.name() + "' already exists with another modelUri; versions are immutable.");
            }
        }
    }

    // ---- key vaults --------------------------------------------------------------------------------

    /** A key vault: a name unique across Azure, kept by a soft-deleted vault until it is recovered or purged. */
    static final class Vaults implements ArmType {
        @Override
        public String type() {
            return VAULTS;
        }

        @Override
        public Class<?> model() {
            return null;
        }

        @Override
        public Lro lro() {
            return Lro.SYNC;
        }

        @Override
        public boolean patchable() {
            return false;
        }

        static String deletedId(String subscription, String location, String name) {
            return "/subscriptions/" + subscription + "/providers/Microsoft.KeyVault/locations/" + ArmFake.norm(location) + "/deletedVaults/" + name;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            VAULT.check(body);
            if (!VAULT_NAME.matcher(id.name()).matches()) {
                throw ArmError.badRequest("VaultNameNotValid", "The vault name '" + id.name() + "' is invalid. A vault's name must be between 3-24 "
                    + "alphanumeric characters. The name must begin with a letter, end with a letter or digit, and not contain consecutive hyphens.");
            }
            Map<String, Object> p = map(body.get("properties"));
            if (!GUID.matcher(String.valueOf(p.get("tenantId"))).matches()) throw ArmError.badRequest("BadRequest", "tenantId must be a GUID.");
            Object days = p.get("softDeleteRetentionInDays");
            if (days instanceof Number n && (n.intValue() < 7 || n.intValue() > 90)) {
                throw ArmError.badRequest("BadRequest", "softDeleteRetentionInDays must be between 7 and 90.");
            }
            for (Map<String, Object> other : arm.list(VAULTS)) {
                if (!ArmId.key(String.valueOf(other.get("id"))).equals(id.key()) && id.name().equalsIgnoreCase(String.valueOf(other.get("name")))) {
                    throw ArmError.conflict("VaultAlreadyExists", "The vault name '" + id.name() + "' is already in use. Vault names are globally unique.");
                }
            }
            boolean recover = "recover".equalsIgnoreCase(String.valueOf(p.get("createMode")));
            String deleted = deletedId(id.subscription(), String.valueOf(body.get("location")), id.name());
            boolean softDeleted = arm.get(deleted).isPresent();
            if (existing.isEmpty() && softDeleted && !recover) {
                throw ArmError.conflict("ConflictError", "A vault with the same name already exists in deleted state. You need to either recover or "
                    + "purge existing key vault.");
            }
            if (existing.isEmpty() && recover && !softDeleted) {
                throw new ArmError(404, "NotFound", "No deleted vault '" + id.name() + "' to recover in " + body.get("location") + ".");
            }
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> p = ArmFake.properties(body);
            if ("recover".equalsIgnoreCase(String.valueOf(p.remove("createMode")))) {
                arm.remove(deletedId(id.subscription(), String.valueOf(body.get("location")), id.name()));
            }
            p.put("vaultUri", "https://" + id.name().toLowerCase(Locale.ROOT) + ".vault.azure.net/");
            p.putIfAbsent("enableSoftDelete", true);
            p.putIfAbsent("softDeleteRetentionInDays", 90);
            p.putIfAbsent("accessPolicies", new ArrayList<>());
            return body;
        }

        /** Soft delete: the vault's name stays taken, as a deleted vault of its location, until purged or recovered. */
        @Override
        public void checkDelete(ArmFake arm, ArmId id, Map<String, Object> existing) {
            Map<String, Object> deleted = new LinkedHashMap<>();
            String deletedId = deletedId(id.subscription(), String.valueOf(existing.get("location")), id.name());
            deleted.put("id", deletedId);
            deleted.put("name", id.name());
            deleted.put("type", DELETED_VAULTS);
            deleted.put("properties", new LinkedHashMap<>(Map.of("vaultId", id.id(), "location", String.valueOf(existing.get("location")),
                "tags", map(existing.get("tags")))));
            arm.put(deletedId, deleted);
        }
    }

    /** A soft-deleted vault: read, and purged by {@code POST .../purge}; never written. */
    static final class DeletedVaults implements ArmType {
        @Override
        public String type() {
            return DELETED_VAULTS;
        }

        @Override
        public Class<?> model() {
            return null;
        }

        @Override
        public boolean tracked() {
            return false;
        }

        @Override
        public Graph graph() {
            return Graph.NONE;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            throw new ArmError(405, "MethodNotAllowed", "Deleted vaults cannot be written; recover one by creating the vault with createMode 'recover'.");
        }

        @Override
        public Object action(ArmFake arm, ArmId id, String action, Map<String, Object> body) {
            if (!action.equalsIgnoreCase("purge")) return ArmType.super.action(arm, id, action, body);
            arm.remove(id.id());
            return Map.of();
        }
    }

    // ---- what else a workspace holds -----------------------------------------------------------------

    /**
     * Contents of a workspace mlctl never writes (batch and serverless endpoints, computes, jobs, data,
     * connections, datastores): read and listed as Azure serves them; a PUT is refused so a driver that
     * starts writing one fails a test until the fake learns the type's rules.
     */
    record ReadOnly(String type, boolean tracked) implements ArmType {
        @Override
        public Class<?> model() {
            return null;
        }

        @Override
        public Lro lro() {
            return Lro.SYNC;
        }

        @Override
        public boolean patchable() {
            return false;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            throw ArmError.badRequest("NotSupportedByFake", "The fake serves " + type + " for reading only (tests seed them with arm.put).");
        }
    }

    // ---- autoscale settings (Azure Monitor) ----------------------------------------------------------

    /**
     * An Azure Monitor autoscale setting: 1 to 20 profiles, each with integer bounds
     * {@code minimum <= default <= maximum} (at most 1000) and at most 10 rules whose time grain is at least a
     * minute, time window 5 minutes to 12 hours and cooldown 1 minute to a week; its target must exist, and
     * a resource has at most one autoscale setting.
     */
    static final class AutoscaleSettings implements ArmType {
        @Override
        public String type() {
            return AUTOSCALE;
        }

        @Override
        public Class<?> model() {
            return null;
        }

        @Override
        public Lro lro() {
            return Lro.SYNC;
        }

        @Override
        public boolean patchable() {
            return false;
        }

        private static long bound(Map<String, Object> capacity, String name) {
            try {
                return Long.parseLong(String.valueOf(capacity.get(name)));
            } catch (NumberFormatException e) {
                throw ArmError.badRequest("InvalidAutoscaleSettingCapacity", "The " + name + " capacity '" + capacity.get(name) + "' is not an integer.");
            }
        }

        private static java.time.Duration duration(Object iso, String what, java.time.Duration min, java.time.Duration max) {
            java.time.Duration d;
            try {
                d = java.time.Duration.parse(String.valueOf(iso));
            } catch (java.time.format.DateTimeParseException e) {
                throw ArmError.badRequest("InvalidRequestContent", "The " + what + " '" + iso + "' is not an ISO 8601 duration.");
            }
            if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
                throw ArmError.badRequest("InvalidAutoscaleSetting", "The " + what + " " + iso + " must be between " + min + " and " + max + ".");
            }
            return d;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            AUTOSCALE_SETTING.check(body);
            Map<String, Object> p = map(body.get("properties"));
            List<?> profiles = (List<?>) p.get("profiles");
            if (profiles.isEmpty() || profiles.size() > 20) {
                throw ArmError.badRequest("InvalidAutoscaleSetting", "An autoscale setting has 1 to 20 profiles (got " + profiles.size() + ").");
            }
            for (Object o : profiles) {
                Map<String, Object> profile = map(o);
                Map<String, Object> capacity = map(profile.get("capacity"));
                long min = bound(capacity, "minimum");
                long max = bound(capacity, "maximum");
                long def = bound(capacity, "default");
                if (min < 0 || max > 1000 || min > def || def > max) {
                    throw ArmError.badRequest("InvalidAutoscaleSettingCapacity", "Profile '" + profile.get("name") + "': the capacity needs 0 <= minimum "
                        + "<= default <= maximum <= 1000 (got " + min + ", " + def + ", " + max + ").");
                }
                List<?> rules = (List<?>) profile.get("rules");
                if (rules.size() > 10) throw ArmError.badRequest("InvalidAutoscaleSetting", "A profile has at most 10 rules.");
                for (Object r : rules) {
                    Map<String, Object> trigger = map(map(r).get("metricTrigger"));
                    java.time.Duration grain = duration(trigger.get("timeGrain"), "time grain", java.time.Duration.ofMinutes(1), java.time.Duration.ofHours(12));
                    java.time.Duration window = duration(trigger.get("timeWindow"), "time window", java.time.Duration.ofMinutes(5), java.time.Duration.ofHours(12));
                    if (window.compareTo(grain) < 0) throw ArmError.badRequest("InvalidAutoscaleSetting", "The time window must not be shorter than the time grain.");
                    duration(map(map(r).get("scaleAction")).get("cooldown"), "cooldown", java.time.Duration.ofMinutes(1), java.time.Duration.ofDays(7));
                }
            }
            Object target = p.get("targetResourceUri");
            if (target == null || arm.get(String.valueOf(target)).isEmpty()) {
                throw ArmError.badRequest("TargetResourceNotFound", "The target resource id '" + target + "' was not found.");
            }
            for (Map<String, Object> other : arm.list(AUTOSCALE)) {
                if (!ArmId.key(String.valueOf(other.get("id"))).equals(id.key())
                    && String.valueOf(target).equalsIgnoreCase(String.valueOf(ArmFake.properties(other).get("targetResourceUri")))) {
                    throw ArmError.conflict("Conflict", "The target resource '" + target + "' already has autoscale setting '" + other.get("name")
                        + "'; a resource can have only one autoscale setting.");
                }
            }
        }
    }
}
