package io.mlctl.provider.sandbox;

import io.mlctl.MlctlException;
import io.mlctl.catalog.Catalog;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.Driver;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.Target;
import io.mlctl.spec.Address;
import io.mlctl.spec.Cidr;
import io.mlctl.spec.Environment;
import io.mlctl.spec.Provider;
import io.mlctl.spec.References;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.spec.Values;
import io.mlctl.util.Hashing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * An embedded cloud that keeps its inventory on disk, one JSON file per resource under
 * {@code <root>/<provider>/<kind>/}. It behaves like a real cloud where it matters to mlctl: it
 * assigns cloud-like ids, checks machine types against the same catalogs, refuses in-place changes
 * of immutable fields, refuses to delete what is still in use, lists in pages, and can be edited out
 * of band (files or {@code mlctl sandbox}) to show drift. Faults can be injected through
 * {@code <root>/faults.json} to exercise retries.
 */
public final class SandboxCloud implements Driver {
    public static final String ACCOUNT = "000000000000";
    public static final String PROJECT = "sandbox-project";
    public static final String SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";

    private final Path root;
    private final Catalog catalog;
    private final Clock clock;
    private final ObjectMapper mapper = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private final AtomicLong requests = new AtomicLong();
    private final SandboxFaults faults;
    private final int pageSize;
    private final long latencyMillis;
    private final long settleMillis;

    public SandboxCloud(Path root, Catalog catalog, Clock clock) {
        this.root = root;
        this.catalog = catalog;
        this.clock = clock;
        JsonNode config = readConfig();
        this.pageSize = config.path("pageSize").asInt(1000);
        this.latencyMillis = config.path("latencyMillis").asLong(0);
        // Time a change takes to report back after it is made: widens the window in which a killed
        // apply has changed the cloud but not yet journaled it.
        this.settleMillis = config.path("settleMillis").asLong(0);
        this.faults = new SandboxFaults(root.resolve("faults.json"), mapper);
    }

    public Path root() {
        return root;
    }

    @Override
    public String name() {
        return "sandbox";
    }

    /** Like the clouds it stands in for: the network's range, where a machine runs and as whom cannot change in place. */
    private static final Map<ResourceType, ResourceRules> RULES = Map.of(
        ResourceType.NETWORK, new ResourceRules(java.util.Set.of("region", "cidr", "subnets[].cidr", "subnets[].zone")),
        ResourceType.BUCKET, new ResourceRules(java.util.Set.of("region")),
        ResourceType.IDENTITY, new ResourceRules(java.util.Set.of("region")),
        ResourceType.INSTANCE, new ResourceRules(java.util.Set.of("region", "subnet", "spot", "accelerator")),
        ResourceType.KUBERNETES_CLUSTER, new ResourceRules(java.util.Set.of("region", "subnet", "identity", "nodePools[].machineType",
            "nodePools[].spot")),
        ResourceType.INFERENCE_ENDPOINT, new ResourceRules(java.util.Set.of("region")));

    public static ResourceRules rulesOf(ResourceType kind) {
        return RULES.get(kind);
    }

    @Override
    public ResourceRules rules(ResourceType kind) {
        return RULES.get(kind);
    }

    @Override
    public Target target(Environment env) {
        String account = switch (env.provider()) {
            case AWS -> ACCOUNT;
            case GCP -> PROJECT;
            case AZURE -> SUBSCRIPTION;
        };
        return new Target(account, env.region());
    }

    @Override
    public long requestCount() {
        return requests.get();
    }

    /** Listing cursors: a listing reads the kind once and serves its pages from that snapshot, like a cloud's cursor. */
    private final Map<String, List<ObservedResource>> cursors = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong cursorIds = new AtomicLong();

    @Override
    public Page list(Environment env, ResourceType kind, Optional<String> pageToken) {
        call("list", kind.id());
        String cursor;
        int from;
        List<ObservedResource> owned;
        if (pageToken.isEmpty()) {
            owned = new ArrayList<>();
            for (StoredResource r : all(env.provider(), kind)) {
                Optional<Address> a = Ownership.ownedAddress(r.tags(), env.name());
                if (a.isPresent()) owned.add(new ObservedResource(a.get(), r.cloudId(), r.attributes(), r.tags()));
            }
            owned.sort(Comparator.comparing(ObservedResource::cloudId));
            cursor = Long.toString(cursorIds.incrementAndGet());
            from = 0;
        } else {
            String[] parts = pageToken.get().split(":", 2);
            cursor = parts[0];
            owned = cursors.get(cursor);
            if (owned == null || parts.length < 2) throw new DriverException("list " + kind.id() + ": invalid or expired page token", false);
            from = Integer.parseInt(parts[1]);
        }
        int to = Math.min(owned.size(), from + pageSize);
        List<ObservedResource> items = owned.subList(Math.min(from, owned.size()), to);
        if (to < owned.size()) {
            cursors.put(cursor, owned);
            return new Page(items, Optional.of(cursor + ":" + to));
        }
        cursors.remove(cursor);
        return new Page(items, Optional.empty());
    }

    @Override
    public ObservedResource create(Environment env, ResourceSpec desired, CreateRequest request) {
        return create(env, desired, Ownership.tags(env.name(), desired.address()), request.token());
    }

    /** A create with the tags given (tests use it to make resources that are not mlctl's). */
    public ObservedResource create(Environment env, ResourceSpec desired, Map<String, String> tags, String token) {
        Address a = desired.address();
        call("create", a.toString());
        checkCatalog(env.provider(), desired);
        Path tokenFile = root.resolve(env.provider().id()).resolve("tokens").resolve(Hashing.sha256Text(token));
        synchronized (this) {
            // Same token: the earlier create went through; return what it made instead of a second copy.
            if (Files.exists(tokenFile)) {
                String id = read(tokenFile);
                Optional<StoredResource> existing = find(env.provider(), a.type(), id)
                    .filter(r -> a.equals(Ownership.ownedAddress(r.tags(), env.name()).orElse(null)));
                if (existing.isPresent()) return observed(env, existing.get(), a);
            }
            String id = cloudId(env, a, token);
            Optional<StoredResource> clash = find(env.provider(), a.type(), id);
            if (clash.isPresent()) {
                Optional<Address> owner = Ownership.ownedAddress(clash.get().tags(), env.name());
                if (owner.isPresent() && owner.get().equals(a)) return observed(env, clash.get(), a);
                String who = clash.get().tags().containsKey(Ownership.ENVIRONMENT_TAG)
                    ? "owned by mlctl environment '" + clash.get().tags().get(Ownership.ENVIRONMENT_TAG) + "'" : "not managed by mlctl";
                throw new DriverException(a + ": the name " + physicalName(env, a) + " is already taken by " + id + " (" + who + ")", false);
            }
            StoredResource r = new StoredResource(id, a.type(), desired.attributes(), tags, clock.instant().toString());
            write(env.provider(), r);
            writeText(tokenFile, id);
            settle();
            return observed(env, r, a);
        }
    }

    @Override
    public ObservedResource update(Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
        call("update", desired.address().toString());
        checkCatalog(env.provider(), desired);
        StoredResource r = find(env.provider(), desired.address().type(), current.cloudId())
            .orElseThrow(() -> new DriverException(desired.address() + ": " + current.cloudId() + " no longer exists", false));
        if (!current.address().equals(Ownership.ownedAddress(r.tags(), env.name()).orElse(null))) {
            throw new DriverException(current.cloudId() + " is not owned by environment " + env.name() + "; refusing to change it", false);
        }
        for (AttributeChange ch : changes) {
            // A subnet or node pool is replaced by the update of its network or cluster; anything else forced cannot be.
            if (rules(desired.address().type()).forcesReplace(ch.path()) && current.address().componentAt(ch.path()).isEmpty()) {
                throw new DriverException(desired.address() + ": " + ch.path() + " of " + current.cloudId() + " cannot be changed in place", false);
            }
        }
        // Like a real cloud: a subnet that is replaced must be empty first.
        for (AttributeChange ch : changes) {
            Optional<Address> component = current.address().componentAt(ch.path());
            if (component.isEmpty() || !ch.forcesReplacement() || !component.get().component().startsWith("subnet.")) continue;
            String ref = current.address().name() + "/" + component.get().component().substring("subnet.".length());
            for (ResourceType kind : List.of(ResourceType.INSTANCE, ResourceType.KUBERNETES_CLUSTER)) {
                for (StoredResource other : all(env.provider(), kind)) {
                    if (ref.equals(other.attributes().get("subnet"))) {
                        throw new DriverException(component.get() + " cannot be replaced: " + other.cloudId() + " still runs in it", false);
                    }
                }
            }
        }
        StoredResource updated = new StoredResource(r.cloudId(), r.kind(), desired.attributes(), r.tags(), r.createdAt());
        write(env.provider(), updated);
        return observed(env, updated, desired.address());
    }

    @Override
    public Optional<ObservedResource> read(Environment env, Address address, String cloudId) {
        call("read", address.toString());
        return find(env.provider(), address.type(), cloudId).map(r -> new ObservedResource(address, r.cloudId(), r.attributes(), r.tags()));
    }

    @Override
    public Optional<String> markedBy(Map<String, String> tags) {
        return Optional.ofNullable(tags.get(Ownership.ENVIRONMENT_TAG))
            .map(e -> "owned by mlctl environment '" + e + "' (" + tags.get(Ownership.ADDRESS_TAG) + ")");
    }

    @Override
    public ObservedResource adopt(Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
        call("adopt", desired.address().toString());
        checkCatalog(env.provider(), desired);
        synchronized (this) {
            StoredResource r = find(env.provider(), desired.address().type(), current.cloudId())
                .orElseThrow(() -> new DriverException(desired.address() + ": " + current.cloudId() + " no longer exists; run plan again", false));
            Optional<Address> owner = Ownership.ownedAddress(r.tags(), env.name());
            if (r.tags().containsKey(Ownership.ENVIRONMENT_TAG) && !desired.address().equals(owner.orElse(null))) {
                throw new io.mlctl.provider.NotOwnedException(desired.address() + ": " + r.cloudId() + " is owned by mlctl environment '"
                    + r.tags().get(Ownership.ENVIRONMENT_TAG) + "' (" + r.tags().get(Ownership.ADDRESS_TAG) + "); it cannot be imported");
            }
            for (AttributeChange ch : changes) {
                if (rules(desired.address().type()).forcesReplace(ch.path())) {
                    throw new DriverException(desired.address() + ": " + ch.path() + " of " + r.cloudId() + " cannot be changed in place", false);
                }
            }
            Map<String, String> tags = new java.util.TreeMap<>(r.tags());
            tags.putAll(Ownership.tags(env.name(), desired.address()));
            StoredResource adopted = new StoredResource(r.cloudId(), r.kind(), desired.attributes(), tags, r.createdAt());
            write(env.provider(), adopted);
            return observed(env, adopted, desired.address());
        }
    }

    /**
     * What each cloud would report, shaped like it and derived from the cloud id (so an imported resource, named as its maker
     * chose, gets its own), the attributes and the region: the same resource always has the same outputs.
     */
    @Override
    public Map<String, String> outputs(Environment env, ObservedResource resource) {
        call("outputs", resource.address().toString());
        String id = resource.cloudId();
        Map<String, Object> attrs = resource.attributes();
        String region = attrs.get("region") instanceof String r ? r : env.region();
        String name = id.substring(id.lastIndexOf('/') + 1);
        Map<String, String> out = new LinkedHashMap<>();
        switch (resource.address().type()) {
            case BUCKET -> out.put("uri", switch (env.provider()) {
                case AWS -> "s3://" + id;
                case GCP -> "gs://" + id;
                case AZURE -> "https://" + segment(id, "storageAccounts") + ".blob.core.windows.net/" + name;
            });
            case INSTANCE -> {
                Optional<Map<String, Object>> subnet = subnetOf(env, attrs.get("subnet"));
                Cidr cidr = subnet.map(sn -> Cidr.parse((String) sn.get("cidr"))).orElse(Cidr.parse("10.0.0.0/8"));
                // Clouds keep a subnet's first addresses for themselves (AWS four, GCP two, Azure four) and the last for broadcast.
                out.put("privateIp", ip(cidr.base() + 4 + Long.remainderUnsigned(number(id), Math.max(1, cidr.size() - 5))));
                boolean isPublic = subnet.map(sn -> Boolean.FALSE.equals(sn.get("private"))).orElse(false);
                // Azure VMs get no public IP from mlctl; AWS and GCP give one in a public subnet.
                if (isPublic && env.provider() != Provider.AZURE) {
                    long first = env.provider() == Provider.AWS ? 54 : 34;
                    out.put("publicIp", ip((first << 24) + Long.remainderUnsigned(number("public:" + id), 1L << 24)));
                }
            }
            case KUBERNETES_CLUSTER -> {
                String version = String.valueOf(attrs.getOrDefault("version", "1.29"));
                switch (env.provider()) {
                    case AWS -> {
                        out.put("endpoint", "https://" + Hashing.sha256Text(id).substring(0, 32).toUpperCase(java.util.Locale.ROOT) + ".gr7." + region
                            + ".eks.amazonaws.com");
                        out.put("credentials", "aws eks update-kubeconfig --region " + region + " --name " + name);
                        out.put("version", version);
                    }
                    case GCP -> {
                        out.put("endpoint", "https://" + ip((34L << 24) + Long.remainderUnsigned(number(id), 1L << 24)));
                        out.put("credentials", "gcloud container clusters get-credentials " + name + " --region " + segment(id, "locations")
                            + " --project " + segment(id, "projects"));
                        out.put("version", version + ".8-gke.1000000");
                    }
                    case AZURE -> {
                        out.put("endpoint", "https://" + name + "-" + Hashing.sha256Text(id).substring(0, 8) + ".hcp." + region + ".azmk8s.io:443");
                        out.put("credentials", "az aks get-credentials --resource-group " + segment(id, "resourceGroups") + " --name " + name);
                        out.put("version", version + ".9");
                    }
                }
            }
            case INFERENCE_ENDPOINT -> out.put("invokeUrl", switch (env.provider()) {
                case AWS -> "https://runtime.sagemaker." + region + ".amazonaws.com/endpoints/" + name + "/invocations";
                case GCP -> "https://" + segment(id, "locations") + "-aiplatform.googleapis.com/v1/" + id + ":predict";
                case AZURE -> "https://" + name + "." + region + ".inference.ml.azure.com/score";
            });
            case IDENTITY -> {
                switch (env.provider()) {
                    case AWS -> {
                        out.put("arn", id);
                        out.put("instanceProfile", id.replace(":role/", ":instance-profile/"));
                    }
                    case GCP -> out.put("email", name);
                    case AZURE -> {
                        out.put("clientId", uuid("client:" + id));
                        out.put("principalId", uuid("principal:" + id));
                    }
                }
            }
            case NETWORK -> {
                List<String> subnets = new ArrayList<>();
                for (Object o : attrs.get("subnets") instanceof List<?> l ? l : List.of()) {
                    if (!(o instanceof Map<?, ?> sn) || !(sn.get("name") instanceof String sub)) continue;
                    subnets.add(sub + "=" + switch (env.provider()) {
                        case AWS -> "subnet-" + Hashing.sha256Text(id + "/" + sub).substring(0, 17);
                        case GCP -> "projects/" + segment(id, "projects") + "/regions/" + region + "/subnetworks/" + name + "-" + sub;
                        case AZURE -> id + "/subnets/" + sub;
                    });
                }
                out.put("subnets", String.join(",", subnets));
                if (env.provider() == Provider.AWS && attrs.get("firewall") instanceof List<?> rules && !rules.isEmpty()) {
                    out.put("securityGroup", "sg-" + Hashing.sha256Text("sg:" + id).substring(0, 17));
                }
            }
        }
        return out;
    }

    /** The spec subnet ("network/subnet") of an instance, from the network this environment owns in the sandbox. */
    private Optional<Map<String, Object>> subnetOf(Environment env, Object ref) {
        if (!(ref instanceof String s) || s.indexOf('/') < 0) return Optional.empty();
        Address network = Address.parse("network." + s.substring(0, s.indexOf('/')));
        String sub = s.substring(s.indexOf('/') + 1);
        for (StoredResource r : all(env.provider(), ResourceType.NETWORK)) {
            if (!network.equals(Ownership.ownedAddress(r.tags(), env.name()).orElse(null))) continue;
            for (Object o : r.attributes().get("subnets") instanceof List<?> l ? l : List.of()) {
                if (o instanceof Map<?, ?> m && sub.equals(m.get("name")) && m.get("cidr") instanceof String) {
                    @SuppressWarnings("unchecked") Map<String, Object> found = (Map<String, Object>) m;
                    return Optional.of(found);
                }
            }
        }
        return Optional.empty();
    }

    /** The path segment after {@code key} in a cloud id ("projects/P/..." -> P for "projects"), or "" when there is none. */
    private static String segment(String id, String key) {
        String[] parts = id.split("/");
        for (int i = 0; i + 1 < parts.length; i++) if (parts[i].equals(key)) return parts[i + 1];
        return "";
    }

    private static long number(String seed) {
        return Long.parseUnsignedLong(Hashing.sha256Text(seed).substring(0, 15), 16);
    }

    private static String ip(long v) {
        return ((v >> 24) & 255) + "." + ((v >> 16) & 255) + "." + ((v >> 8) & 255) + "." + (v & 255);
    }

    /** A version-4-shaped UUID from a hash, as Azure's identity ids look. */
    private static String uuid(String seed) {
        String h = Hashing.sha256Text(seed);
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-4" + h.substring(13, 16) + "-a" + h.substring(17, 20) + "-" + h.substring(20, 32);
    }

    @Override
    public void delete(Environment env, ObservedResource current) {
        call("delete", current.address().toString());
        Optional<StoredResource> r = find(env.provider(), current.address().type(), current.cloudId());
        if (r.isEmpty()) return;
        if (!current.address().equals(Ownership.ownedAddress(r.get().tags(), env.name()).orElse(null))) {
            throw new DriverException(current.cloudId() + " is not owned by environment " + env.name() + "; refusing to delete it", false);
        }
        // Like a real cloud: a network or identity still in use cannot go. Only kinds that can point at it are read.
        List<ResourceType> referrers = switch (current.address().type()) {
            case NETWORK -> List.of(ResourceType.INSTANCE, ResourceType.KUBERNETES_CLUSTER);
            case IDENTITY -> List.of(ResourceType.INSTANCE, ResourceType.KUBERNETES_CLUSTER, ResourceType.INFERENCE_ENDPOINT);
            default -> List.of();
        };
        List<String> users = new ArrayList<>();
        for (ResourceType kind : referrers) {
            for (StoredResource other : all(env.provider(), kind)) {
                Optional<Address> oa = Ownership.ownedAddress(other.tags(), env.name());
                if (oa.isPresent() && References.of(kind, other.attributes()).contains(current.address())) users.add(oa.get().toString());
            }
        }
        if (!users.isEmpty() && hasOnlyOneClaimant(env, current)) {
            throw new DriverException(current.address() + " (" + current.cloudId() + ") is still in use by " + String.join(", ", users), false);
        }
        try {
            Files.deleteIfExists(file(env.provider(), current.address().type(), current.cloudId()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A duplicate can go while the resource it duplicates still serves the dependents. */
    private boolean hasOnlyOneClaimant(Environment env, ObservedResource current) {
        int n = 0;
        for (StoredResource r : all(env.provider(), current.address().type())) {
            if (current.address().equals(Ownership.ownedAddress(r.tags(), env.name()).orElse(null))) n++;
        }
        return n <= 1;
    }

    private void checkCatalog(Provider p, ResourceSpec desired) {
        Catalog.ProviderCatalog cat = catalog.of(p);
        Object mt = desired.attributes().get("machineType");
        Map<String, Catalog.MachineType> known = desired.address().type() == ResourceType.INFERENCE_ENDPOINT
            ? cat.endpointMachineTypes() : cat.machineTypes();
        if (mt instanceof String m && !known.containsKey(m)) {
            throw new DriverException(desired.address() + ": machine type " + m + " is not offered by " + p.id(), false);
        }
        if (desired.attributes().get("region") instanceof String region && !cat.regions().containsKey(region)) {
            throw new DriverException(desired.address() + ": region " + region + " does not exist in " + p.id(), false);
        }
    }

    private void settle() {
        if (settleMillis <= 0) return;
        try {
            Thread.sleep(settleMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void call(String op, String what) {
        requests.incrementAndGet();
        if (latencyMillis > 0) {
            try {
                Thread.sleep(latencyMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DriverException("interrupted", true);
            }
        }
        faults.maybeFail(op, what);
    }

    private ObservedResource observed(Environment env, StoredResource r, Address asked) {
        Address a = Ownership.ownedAddress(r.tags(), env.name()).orElse(asked);
        return new ObservedResource(a, r.cloudId(), r.attributes(), r.tags());
    }

    static String physicalName(Environment env, Address a) {
        return a.type() == ResourceType.BUCKET ? a.name() : env.name() + "-" + a.name();
    }

    /** Ids shaped like each cloud's; name-derived where the cloud derives them, else from the create token. */
    static String cloudId(Environment env, Address a, String token) {
        String hex = Hashing.sha256Text(token).substring(0, 17);
        String name = physicalName(env, a);
        String region = env.region();
        return switch (env.provider()) {
            case AWS -> switch (a.type()) {
                case NETWORK -> "vpc-" + hex;
                case BUCKET -> name;
                case IDENTITY -> "arn:aws:iam::" + ACCOUNT + ":role/" + name;
                case INSTANCE -> "i-" + hex;
                case KUBERNETES_CLUSTER -> "arn:aws:eks:" + region + ":" + ACCOUNT + ":cluster/" + name;
                case INFERENCE_ENDPOINT -> "arn:aws:sagemaker:" + region + ":" + ACCOUNT + ":endpoint/" + name;
            };
            case GCP -> switch (a.type()) {
                case NETWORK -> "projects/" + PROJECT + "/global/networks/" + name;
                case BUCKET -> name;
                case IDENTITY -> "projects/" + PROJECT + "/serviceAccounts/" + name + "@" + PROJECT + ".iam.gserviceaccount.com";
                case INSTANCE -> "projects/" + PROJECT + "/zones/" + region + "-b/instances/" + name;
                case KUBERNETES_CLUSTER -> "projects/" + PROJECT + "/locations/" + region + "/clusters/" + name;
                case INFERENCE_ENDPOINT -> "projects/" + PROJECT + "/locations/" + region + "/endpoints/"
                    + Long.parseUnsignedLong(hex.substring(0, 15), 16);
            };
            case AZURE -> {
                String rg = "/subscriptions/" + SUBSCRIPTION + "/resourceGroups/" + env.name() + "/providers/";
                yield switch (a.type()) {
                    case NETWORK -> rg + "Microsoft.Network/virtualNetworks/" + a.name();
                    case BUCKET -> rg + "Microsoft.Storage/storageAccounts/" + env.name().replace("-", "") + "/blobServices/default/containers/" + a.name();
                    case IDENTITY -> rg + "Microsoft.ManagedIdentity/userAssignedIdentities/" + a.name();
                    case INSTANCE -> rg + "Microsoft.Compute/virtualMachines/" + a.name();
                    case KUBERNETES_CLUSTER -> rg + "Microsoft.ContainerService/managedClusters/" + a.name();
                    case INFERENCE_ENDPOINT -> rg + "Microsoft.MachineLearningServices/workspaces/" + env.name() + "/onlineEndpoints/" + a.name();
                };
            }
        };
    }

    // ---- storage -------------------------------------------------------------------------------

    public record StoredResource(String cloudId, ResourceType kind, Map<String, Object> attributes, Map<String, String> tags, String createdAt) {
        public StoredResource {
            attributes = Values.freezeMap(attributes);
            tags = Map.copyOf(tags);
        }
    }

    /** Every resource of a kind in the sandbox, owned by anyone or no one. */
    public List<StoredResource> all(Provider p, ResourceType kind) {
        Path dir = root.resolve(p.id()).resolve(kind.id());
        List<StoredResource> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        removeLeftovers(dir);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
            for (Path f : files) {
                readResource(f, kind).ifPresent(out::add);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    public Optional<StoredResource> find(Provider p, ResourceType kind, String cloudId) {
        return readResource(file(p, kind, cloudId), kind);
    }

    public void write(Provider p, StoredResource r) {
        ObjectNode n = mapper.createObjectNode();
        n.put("cloudId", r.cloudId());
        n.put("kind", r.kind().id());
        n.put("createdAt", r.createdAt());
        n.set("attributes", Values.toJson(r.attributes()));
        n.set("tags", Values.toJson(new TreeMap<>(r.tags())));
        writeText(file(p, r.kind(), r.cloudId()), mapper.writeValueAsString(n) + "\n");
    }

    public void remove(Provider p, StoredResource r) {
        try {
            Files.deleteIfExists(file(p, r.kind(), r.cloudId()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Optional<StoredResource> readResource(Path f, ResourceType kind) {
        String text;
        try {
            text = Files.readString(f);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JsonNode n;
        try {
            n = mapper.readTree(text);
        } catch (RuntimeException e) {
            throw new MlctlException("sandbox file " + f + " is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        Map<String, String> tags = new LinkedHashMap<>();
        n.path("tags").properties().forEach(e -> tags.put(e.getKey(), e.getValue().asString()));
        @SuppressWarnings("unchecked")
        Map<String, Object> attrs = (Map<String, Object>) Values.fromJson(n.path("attributes"));
        return Optional.of(new StoredResource(n.path("cloudId").asString(), kind, attrs == null ? Map.of() : attrs, tags,
            n.path("createdAt").asString("")));
    }

    private Path file(Provider p, ResourceType kind, String cloudId) {
        // Cloud ids hold '/' and ':'; keep the file name readable and reversible enough for a person.
        String safe = cloudId.replaceAll("[^A-Za-z0-9._-]", "_");
        if (safe.length() > 120) safe = safe.substring(safe.length() - 100) + "-" + Hashing.sha256Text(cloudId).substring(0, 12);
        return root.resolve(p.id()).resolve(kind.id()).resolve(safe + ".json");
    }

    private JsonNode readConfig() {
        Path f = root.resolve("config.json");
        if (!Files.exists(f)) return mapper.createObjectNode();
        try {
            return mapper.readTree(Files.readString(f));
        } catch (IOException | RuntimeException e) {
            throw new MlctlException("sandbox config " + f + " is not valid JSON");
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static final String TEMP_SUFFIX = ".partial";

    /** Removes what killed writers left (old enough that no live writer can still be renaming it). */
    private static void removeLeftovers(Path dir) {
        long cutoff = System.currentTimeMillis() - 60_000;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + TEMP_SUFFIX)) {
            for (Path f : files) {
                try {
                    if (Files.getLastModifiedTime(f).toMillis() < cutoff) Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // another process cleaned it up first
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void writeText(Path f, String text) {
        try {
            Files.createDirectories(f.getParent());
            // Never *.json: a kill between write and rename must not leave something that lists as a resource.
            Path tmp = Files.createTempFile(f.getParent(), "." + f.getFileName() + "-", TEMP_SUFFIX);
            Files.writeString(tmp, text);
            try {
                Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
