package io.mlctl.provider.gcp;

import com.google.api.gax.rpc.ApiException;
import com.google.container.v1.AcceleratorConfig;
import com.google.container.v1.Cluster;
import com.google.container.v1.GPUDriverInstallationConfig;
import com.google.container.v1.IPAllocationPolicy;
import com.google.container.v1.ListClustersResponse;
import com.google.container.v1.NetworkTags;
import com.google.container.v1.NodeConfig;
import com.google.container.v1.NodeManagement;
import com.google.container.v1.NodePool;
import com.google.container.v1.NodePoolAutoscaling;
import com.google.container.v1.Operation;
import com.google.container.v1.ReleaseChannel;
import com.google.container.v1.ResourceLabels;
import com.google.container.v1.SetLabelsRequest;
import com.google.container.v1.SetNodePoolAutoscalingRequest;
import com.google.container.v1.StatusCondition;
import com.google.container.v1.UpdateMasterRequest;
import com.google.container.v1.UpdateNodePoolRequest;
import com.google.container.v1.WorkloadIdentityConfig;
import com.google.container.v1.WorkloadMetadataConfig;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.NotOwnedException;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.Waiter;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * kubernetes_cluster → a regional GKE Standard cluster {@code <env>-<name>} (at most 40 characters)
 * in the region, on the release the spec names (a minor version, no release channel, so GKE does
 * not move it to another minor on its own), in the network and subnetwork NetworkKind made,
 * VPC-native, with Workload Identity ({@code <project>.svc.id.goog}). One node pool per spec pool:
 * machine type, accelerators (with GKE's default GPU driver installed), spot, autoscaling between the
 * spec's min and max as totals across the pool's zones, running as the identity's service account with
 * the cloud-platform scope, GKE_METADATA, and the network's tag so its firewall rules apply.
 *
 * <p>Marker: the cluster's {@code resourceLabels} (set in the create call) carry the marker and the
 * environment's labels; each pool's {@code config.resourceLabels} carry the marker of its component
 * ({@code mlctl-component=node_pool_<pool>}), so a pool someone else added is never listed, changed or
 * deleted. The cluster's description records the spec's subnet and identity references, which GKE
 * cannot change afterwards; inventory reports them only while the cluster's network, subnetwork and
 * pools' service accounts still match them.
 *
 * <p>Every GKE change is an {@link Operation} polled until DONE (its error becomes one line); GKE
 * runs one at a time per cluster, so a call refused with "Cluster is running incompatible operation"
 * waits for the running one and is sent again.
 */
final class ClusterKind implements GcpKind {
    static final String CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
    /** GKE spreads a regional cluster's nodes over three of its region's zones unless told otherwise. */
    static final int DEFAULT_ZONES = 3;
    /** The pool a cluster without declared pools is made with (GKE wants nodes at creation); removed once the cluster runs. */
    static final String BOOTSTRAP_POOL = "default-pool";
    private static final Pattern POOL_PATH = Pattern.compile("nodePools\\[([^\\]]+)\\](?:\\.(.+))?");
    private static final Pattern REFS = Pattern.compile("\\bsubnet=(\\S+)(?: identity=(\\S+))?");
    private static final Pattern MINOR = Pattern.compile("^(\\d+\\.\\d+)");
    private static final Pattern BUSY = Pattern.compile("incompatible operation|Please wait and try again|CLUSTER_ALREADY_HAS_OPERATION");
    private final Duration timeout;

    ClusterKind() {
        this(Duration.ofMinutes(45));
    }

    ClusterKind(Duration timeout) {
        this.timeout = timeout;
    }

    @Override
    public ResourceType type() {
        return ResourceType.KUBERNETES_CLUSTER;
    }

    @Override
    public ResourceRules rules() {
        // GKE cannot move a cluster to another region, network or subnetwork, nor change the service account
        // or spot provisioning of a pool's nodes, nor its GPUs together with the driver setup; a cluster or pool
        // in ERROR can only be deleted. A machine type changes in place (GKE migrates the nodes).
        return new ResourceRules(Set.of("region", "subnet", "identity", "status", "nodePools[].spot", "nodePools[].accelerator",
            "nodePools[].status"));
    }

    // ---- names ----

    private static String parent(GcpClients c) {
        return "projects/" + c.project() + "/locations/" + c.region();
    }

    private static String clusterId(GcpClients c, Environment env, String name) {
        return parent(c) + "/clusters/" + GcpKind.clusterName(env, name);
    }

    private static String network(Map<String, Object> attrs) {
        String ref = (String) attrs.get("subnet");
        return ref.substring(0, ref.indexOf('/'));
    }

    private static String subnet(Map<String, Object> attrs) {
        String ref = (String) attrs.get("subnet");
        return ref.substring(ref.indexOf('/') + 1);
    }

    static String description(Environment env, ResourceSpec d) {
        return "Managed by mlctl (environment " + env.name() + ", " + d.address() + "): subnet=" + d.attributes().get("subnet")
            + (d.attributes().get("identity") instanceof String i ? " identity=" + i : "");
    }

    private static Map<String, String> poolMarker(Environment env, Address cluster, String pool) {
        return GcpMarker.INSTANCE.marker(env.name(), new Address(cluster.type(), cluster.name(), "node_pool." + pool));
    }

    /** Whether a pool carries this cluster's marker (a pool someone else added does not). */
    private static boolean ownPool(NodePool p, Environment env, Address cluster) {
        // This cluster's marker, for a pool of this very name (labels copied onto another pool do not make it ours).
        return GcpMarker.INSTANCE.owner(p.getConfig().getResourceLabelsMap(), env.name())
            .filter(a -> a.isComponent() && a.resource().equals(cluster) && a.component().equals("node_pool." + p.getName())).isPresent();
    }

    static String minor(String version) {
        Matcher m = MINOR.matcher(version == null ? "" : version);
        return m.find() ? m.group(1) : version;
    }

    private static int minorNumber(String version) {
        String m = minor(version);
        return Integer.parseInt(m.substring(m.indexOf('.') + 1));
    }

    private static String regionOf(String location) {
        return location.matches(".*-[a-z]$") ? location.substring(0, location.length() - 2) : location;
    }

    // ---- inventory ----

    @Override
    public Page list(GcpClients c, Environment env, Optional<String> pageToken) {
        // One request for every cluster of the project in every location; node pools come inside each cluster.
        String all = "projects/" + c.project() + "/locations/-";
        ListClustersResponse r = GcpErrors.call("container.clusters.list " + all, () -> c.clusters().listClusters(all));
        // A location that did not answer may hold clusters of ours: never plan without them.
        if (r.getMissingZonesCount() > 0) {
            throw new DriverException("container.clusters.list: GKE did not answer for " + String.join(", ", r.getMissingZonesList()) + "; try again", true);
        }
        List<ObservedResource> items = new ArrayList<>();
        for (Cluster cl : r.getClustersList()) {
            Map<String, String> labels = cl.getResourceLabelsMap();
            Optional<Address> a = GcpMarker.INSTANCE.owner(labels, env.name());
            if (a.isEmpty() || a.get().type() != ResourceType.KUBERNETES_CLUSTER || a.get().isComponent()) continue;
            items.add(observe(c, env, a.get(), cl, false));
        }
        return new Page(items, Optional.empty());
    }

    private static final Pattern CLUSTER_NAME = Pattern.compile("[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?");
    private static final Pattern RESOURCE_NAME = Pattern.compile("projects/([^/]+)/(?:locations|zones)/([a-z0-9-]+)/clusters/([^/]+)");

    /**
     * Import by the cluster's name (in the environment's region) or resource name {@code projects/P/locations/L/clusters/N}.
     * An unmarked cluster is taken only under the name mlctl gives the address (the environment's {@code kubernetes.access}
     * grants name it), with its node pools: the ones no mlctl environment marked are adopted with it, so the plan shows
     * every pool the spec does not name as removed.
     */
    @Override
    public Optional<ObservedResource> read(GcpClients c, Environment env, Address address, String cloudId) {
        String id = GcpKind.relativeName(cloudId.trim());
        String location = c.region();
        String name = id;
        Matcher r = RESOURCE_NAME.matcher(id);
        if (r.matches()) {
            if (!r.group(1).equals(c.project())) throw GcpKind.otherProject(address, "GKE cluster " + r.group(3), r.group(1), c.project());
            location = r.group(2);
            name = r.group(3);
        }
        if (!CLUSTER_NAME.matcher(name).matches()) {
            throw GcpKind.badId(address, cloudId, "the cluster's name, e.g. " + GcpKind.clusterName(env, address.name())
                + " (or projects/" + c.project() + "/locations/" + c.region() + "/clusters/NAME)");
        }
        Optional<Cluster> found = get(c, "projects/" + c.project() + "/locations/" + location + "/clusters/" + name);
        if (found.isEmpty()) return Optional.empty();
        Cluster cl = found.get();
        boolean unmarked = GcpKind.unmarked(cl.getResourceLabelsMap());
        String expected = GcpKind.clusterName(env, address.name());
        if (unmarked && !name.equals(expected)) throw GcpKind.wrongName(env, address, "GKE cluster " + name, name, expected, n -> GcpKind.clusterName(env, n));
        return Optional.of(observe(c, env, address, cl, unmarked));
    }

    /** The API server's URL, the gcloud command that writes a kubeconfig for it, and the version the control plane runs. */
    @Override
    public Map<String, String> outputs(GcpClients c, Environment env, ObservedResource resource) {
        Cluster cl = get(c, resource.cloudId())
            .orElseThrow(() -> new DriverException(resource.address() + ": GKE cluster " + resource.cloudId() + " no longer exists", false));
        Map<String, String> out = new TreeMap<>();
        if (!cl.getEndpoint().isEmpty()) out.put("endpoint", "https://" + cl.getEndpoint());
        String where = cl.getLocation().matches(".*-[a-z]$") ? "--zone " : "--region ";
        out.put("credentials", "gcloud container clusters get-credentials " + cl.getName() + " " + where + cl.getLocation() + " --project " + c.project());
        if (!cl.getCurrentMasterVersion().isEmpty()) out.put("version", cl.getCurrentMasterVersion());
        return out;
    }

    /**
     * One cluster as inventory (and import) shows it. {@code adopting}: a cluster no environment marked, read for an import,
     * whose unmarked pools the import takes over with it.
     */
    private ObservedResource observe(GcpClients c, Environment env, Address address, Cluster cl, boolean adopting) {
        Map<String, Object> attrs = new TreeMap<>();
        attrs.put("version", minor(cl.getCurrentMasterVersion()));
        Matcher refs = REFS.matcher(cl.getDescription());
        boolean recorded = refs.find();
        String network = GcpKind.lastSegment(cl.getNetwork());
        String subnetwork = GcpKind.lastSegment(cl.getSubnetwork());
        // The reference the cluster was made for, while it still names the cluster's real network and subnetwork.
        String subnetRef = network + "/" + subnetwork;
        if (recorded) {
            String ref = refs.group(1);
            int slash = ref.indexOf('/');
            if (slash > 0 && GcpKind.physicalName(env, ref.substring(0, slash)).equals(network)
                && GcpKind.subnetworkName(env, ref.substring(0, slash), ref.substring(slash + 1)).equals(subnetwork)) {
                subnetRef = ref;
            }
        } else {
            // An imported cluster records nothing (GKE fixes the description): the spec subnet whose subnetwork it runs in.
            subnetRef = GcpKind.specSubnet(env, network, subnetwork).orElse(subnetRef);
        }
        attrs.put("subnet", subnetRef);
        List<Object> pools = new ArrayList<>();
        Set<String> accounts = new TreeSet<>();
        for (NodePool p : cl.getNodePoolsList()) {
            // A pool someone else added to the cluster is theirs: not listed, never changed or deleted.
            if (!ownPool(p, env, address) && !(adopting && GcpKind.unmarked(p.getConfig().getResourceLabelsMap()))) continue;
            pools.add(pool(p));
            accounts.add(p.getConfig().getServiceAccount().isEmpty() ? "default" : p.getConfig().getServiceAccount());
        }
        accounts.remove("default");
        String identity = recorded ? refs.group(2) : null;
        if (identity != null) {
            String email = GcpKind.serviceAccountEmail(c.project(), GcpKind.serviceAccountId(env, identity));
            Optional<String> other = accounts.stream().filter(s -> !s.equals(email)).findFirst();
            attrs.put("identity", other.orElse(identity));
        } else if (accounts.size() == 1) {
            attrs.put("identity", GcpKind.identityName(c.project(), env, accounts.iterator().next()));
        } else if (!accounts.isEmpty()) {
            attrs.put("identity", String.join(", ", accounts)); // pools running as different accounts: no one identity of the spec
        }
        // A cluster GKE gave up on shows as such (the spec never has a status): it can only be replaced.
        if (cl.getStatus() == Cluster.Status.ERROR) attrs.put("status", "ERROR");
        attrs.put("nodePools", pools);
        Map<String, Object> out = new TreeMap<>(GcpKind.attrs(env, attrs, cl.getResourceLabelsMap()));
        out.put("region", regionOf(cl.getLocation()));
        String id = "projects/" + c.project() + "/locations/" + cl.getLocation() + "/clusters/" + cl.getName();
        return new ObservedResource(address, id, out, cl.getResourceLabelsMap());
    }

    /** A pool's attributes as the spec writes them; min and max are totals across the pool's zones. */
    private static Map<String, Object> pool(NodePool p) {
        Map<String, Object> m = new TreeMap<>();
        NodeConfig cfg = p.getConfig();
        m.put("name", p.getName());
        m.put("machineType", cfg.getMachineType());
        m.put("spot", cfg.getSpot());
        if (cfg.getAcceleratorsCount() > 0) {
            AcceleratorConfig a = cfg.getAccelerators(0);
            Map<String, Object> acc = new TreeMap<>();
            acc.put("type", a.getAcceleratorType());
            acc.put("count", a.getAcceleratorCount());
            m.put("accelerator", acc);
        }
        NodePoolAutoscaling s = p.getAutoscaling();
        if (s.getEnabled()) {
            boolean total = s.getTotalMaxNodeCount() > 0;
            // Limits someone set per zone (the console's default) are reported as the totals they amount to.
            int zones = Math.max(1, p.getLocationsCount());
            m.put("min", (long) (total ? s.getTotalMinNodeCount() : s.getMinNodeCount() * zones));
            m.put("max", (long) (total ? s.getTotalMaxNodeCount() : s.getMaxNodeCount() * zones));
        }
        if (p.getStatus() == NodePool.Status.ERROR) m.put("status", "ERROR");
        return m;
    }

    @Override
    public Optional<Existing> find(GcpClients c, Environment env, Address address, Optional<String> knownCloudId) {
        String id = knownCloudId.orElse(clusterId(c, env, address.name()));
        return get(c, id).map(cl -> new Existing(id, "GKE cluster " + cl.getName() + " in " + cl.getLocation(), cl.getResourceLabelsMap()));
    }

    private static Optional<Cluster> get(GcpClients c, String id) {
        try {
            return Optional.of(c.clusters().getCluster(id));
        } catch (RuntimeException e) {
            if (GcpErrors.notFound(e)) return Optional.empty();
            throw GcpErrors.translate("container.clusters.get " + id, e);
        }
    }

    // ---- create ----

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> pools(ResourceSpec d) {
        return (List<Map<String, Object>>) d.attributes().getOrDefault("nodePools", List.of());
    }

    @Override
    public String create(GcpClients c, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        String name = GcpKind.clusterName(env, d.address().name());
        Cluster.Builder cluster = Cluster.newBuilder().setName(name).setDescription(description(env, d))
            .setInitialClusterVersion((String) d.attributes().get("version"))
            .setNetwork(GcpKind.physicalName(env, network(d.attributes())))
            .setSubnetwork(GcpKind.subnetworkName(env, network(d.attributes()), subnet(d.attributes())))
            .putAllResourceLabels(GcpKind.allLabels(marker, d.attributes()))
            .setIpAllocationPolicy(IPAllocationPolicy.newBuilder().setUseIpAliases(true))
            .setWorkloadIdentityConfig(WorkloadIdentityConfig.newBuilder().setWorkloadPool(c.project() + ".svc.id.goog"))
            // No release channel: the cluster stays on the spec's minor until the spec says otherwise.
            .setReleaseChannel(ReleaseChannel.newBuilder().setChannel(ReleaseChannel.Channel.UNSPECIFIED));
        List<Map<String, Object>> pools = pools(d);
        if (pools.isEmpty()) {
            cluster.addNodePools(nodePool(c, env, d, Map.of("name", BOOTSTRAP_POOL, "machineType", "e2-medium", "min", 1L, "max", 1L), 1));
        } else {
            // GKE wants nodes somewhere at creation: a spec whose pools all start empty gets one node per zone in the first.
            boolean anyNodes = pools.stream().anyMatch(p -> initialNodes(p) > 0);
            for (int i = 0; i < pools.size(); i++) {
                cluster.addNodePools(nodePool(c, env, d, pools.get(i), !anyNodes && i == 0 ? 1 : initialNodes(pools.get(i))));
            }
        }
        String what = "container.clusters.create " + parent(c) + "/clusters/" + name;
        Operation op;
        try {
            op = c.clusters().createCluster(parent(c), cluster.build());
        } catch (RuntimeException e) {
            if (!GcpErrors.alreadyExists(e)) throw GcpErrors.translate(what, e);
            // Made between the look and the create: the engine's next attempt finds it and checks its owner.
            throw new DriverException(d.address() + ": GKE cluster " + name + " appeared while it was being created", true, e);
        }
        await(c, "creation of GKE cluster " + name, op);
        return clusterId(c, env, d.address().name());
    }

    /** Nodes per zone at creation: enough for the spec's minimum across GKE's three zones. */
    private static int initialNodes(Map<String, Object> p) {
        long min = ((Number) p.get("min")).longValue();
        return (int) ((min + DEFAULT_ZONES - 1) / DEFAULT_ZONES);
    }

    @SuppressWarnings("unchecked")
    private static NodePool nodePool(GcpClients c, Environment env, ResourceSpec d, Map<String, Object> p, int initial) {
        String name = (String) p.get("name");
        NodeConfig.Builder cfg = NodeConfig.newBuilder().setMachineType((String) p.get("machineType")).addOauthScopes(CLOUD_PLATFORM)
            .putAllResourceLabels(poolMarker(env, d.address(), name))
            // The network's tag: its firewall rules target the nodes of this network by it.
            .addTags(GcpKind.physicalName(env, network(d.attributes())))
            .setSpot(Boolean.TRUE.equals(p.get("spot")))
            .setWorkloadMetadataConfig(WorkloadMetadataConfig.newBuilder().setMode(WorkloadMetadataConfig.Mode.GKE_METADATA));
        if (d.attributes().get("identity") instanceof String identity) {
            cfg.setServiceAccount(GcpKind.serviceAccountEmail(c.project(), GcpKind.serviceAccountId(env, identity)));
        }
        if (p.get("accelerator") instanceof Map<?, ?> acc) {
            Map<String, Object> a = (Map<String, Object>) acc;
            cfg.addAccelerators(AcceleratorConfig.newBuilder().setAcceleratorType((String) a.get("type"))
                .setAcceleratorCount(((Number) a.getOrDefault("count", 1L)).longValue())
                .setGpuDriverInstallationConfig(GPUDriverInstallationConfig.newBuilder()
                    .setGpuDriverVersion(GPUDriverInstallationConfig.GPUDriverVersion.DEFAULT)));
        }
        return NodePool.newBuilder().setName(name).setConfig(cfg).setInitialNodeCount(initial)
            .setAutoscaling(autoscaling(p))
            .setManagement(NodeManagement.newBuilder().setAutoUpgrade(true).setAutoRepair(true))
            .build();
    }

    /** The spec's min and max are the pool's totals, whatever the number of zones. */
    private static NodePoolAutoscaling autoscaling(Map<String, Object> p) {
        return NodePoolAutoscaling.newBuilder().setEnabled(true)
            .setTotalMinNodeCount(((Number) p.get("min")).intValue()).setTotalMaxNodeCount(((Number) p.get("max")).intValue()).build();
    }

    @Override
    public ObservedResource complete(GcpClients c, Environment env, String cloudId, ResourceSpec d, Map<String, String> marker) {
        String name = GcpKind.clusterName(env, d.address().name());
        Cluster cl = waitCluster(c, cloudId, name);
        syncLabels(c, env, cloudId, name, d, marker);
        Map<String, NodePool> have = new LinkedHashMap<>();
        cl.getNodePoolsList().forEach(p -> have.put(p.getName(), p));
        for (Map<String, Object> p : pools(d)) {
            String pool = (String) p.get("name");
            NodePool found = have.get(pool);
            if (found == null) {
                createPool(c, env, d, cloudId, name, p);
            } else if (!ownPool(found, env, d.address())) {
                throw new NotOwnedException(d.address() + ": node pool " + pool + " of GKE cluster " + name + " already exists and is "
                    + GcpMarker.INSTANCE.describeOwner(found.getConfig().getResourceLabelsMap()) + "; refusing to change it");
            }
        }
        // The pool a cluster without declared pools was made with goes once the cluster runs.
        NodePool bootstrap = have.get(BOOTSTRAP_POOL);
        boolean declared = pools(d).stream().anyMatch(p -> BOOTSTRAP_POOL.equals(p.get("name")));
        if (bootstrap != null && !declared && ownPool(bootstrap, env, d.address())) deletePool(c, cloudId, name, BOOTSTRAP_POOL);
        return new ObservedResource(d.address(), cloudId, d.attributes(), GcpKind.allLabels(marker, d.attributes()));
    }

    private void createPool(GcpClients c, Environment env, ResourceSpec d, String cloudId, String cluster, Map<String, Object> p) {
        String pool = (String) p.get("name");
        NodePool np = nodePool(c, env, d, p, initialNodes(p));
        String what = "container.clusters.nodePools.create " + cluster + "/" + pool;
        Optional<Operation> op = whenIdle(what, () -> {
            try {
                return Optional.of(c.clusters().createNodePool(cloudId, np));
            } catch (RuntimeException e) {
                if (!GcpErrors.alreadyExists(e)) throw e;
                return Optional.empty();
            }
        });
        if (op.isPresent()) {
            await(c, "creation of node pool " + pool + " of GKE cluster " + cluster, op.get());
            return;
        }
        // Made by an earlier attempt whose answer was lost, or by someone else: only this cluster's own is used.
        NodePool found = GcpErrors.call("container.clusters.nodePools.get " + cluster + "/" + pool, () -> c.clusters().getNodePool(cloudId + "/nodePools/" + pool));
        if (!ownPool(found, env, d.address())) {
            throw new NotOwnedException(d.address() + ": node pool " + pool + " of GKE cluster " + cluster + " already exists and is "
                + GcpMarker.INSTANCE.describeOwner(found.getConfig().getResourceLabelsMap()) + "; refusing to change it");
        }
        if (found.getStatus() == NodePool.Status.ERROR) {
            throw new DriverException(d.address() + ": node pool " + pool + " of GKE cluster " + cluster + " is ERROR: " + reason(found), false);
        }
    }

    private void deletePool(GcpClients c, String cloudId, String cluster, String pool) {
        String what = "container.clusters.nodePools.delete " + cluster + "/" + pool;
        Optional<Operation> op = whenIdle(what, () -> {
            try {
                return Optional.of(c.clusters().deleteNodePool(cloudId + "/nodePools/" + pool));
            } catch (RuntimeException e) {
                if (!GcpErrors.notFound(e)) throw e;
                return Optional.empty(); // already gone
            }
        });
        op.ifPresent(o -> await(c, "deletion of node pool " + pool + " of GKE cluster " + cluster, o));
    }

    /** Waits until the cluster runs (GKE answers every change with RECONCILING meanwhile); a cluster in ERROR fails once with GKE's reason. */
    private Cluster waitCluster(GcpClients c, String cloudId, String name) {
        Cluster[] last = new Cluster[1];
        waiter().until("GKE cluster " + name, () -> {
            Optional<Cluster> cl = get(c, cloudId);
            if (cl.isEmpty()) throw new DriverException("GKE cluster " + name + " disappeared while mlctl waited for it", true);
            last[0] = cl.get();
            return switch (cl.get().getStatus()) {
                case RUNNING, DEGRADED -> Waiter.Status.ready(cl.get().getStatus().name());
                case ERROR -> Waiter.Status.failed("ERROR", reason(cl.get()));
                case STOPPING -> Waiter.Status.failed("STOPPING", "the cluster is being deleted");
                default -> Waiter.Status.pending(cl.get().getStatus().name());
            };
        });
        return last[0];
    }

    @SuppressWarnings("deprecation")
    private static String reason(Cluster cl) {
        List<String> parts = new ArrayList<>();
        if (!cl.getStatusMessage().isBlank()) parts.add(cl.getStatusMessage());
        for (StatusCondition s : cl.getConditionsList()) if (!parts.contains(s.getMessage()) && !s.getMessage().isBlank()) parts.add(s.getMessage());
        return parts.isEmpty() ? "no reason given; see the cluster's details in the console" : oneLine(String.join("; ", parts));
    }

    @SuppressWarnings("deprecation")
    private static String reason(NodePool p) {
        List<String> parts = new ArrayList<>();
        if (!p.getStatusMessage().isBlank()) parts.add(p.getStatusMessage());
        for (StatusCondition s : p.getConditionsList()) if (!parts.contains(s.getMessage()) && !s.getMessage().isBlank()) parts.add(s.getMessage());
        return parts.isEmpty() ? "no reason given" : oneLine(String.join("; ", parts));
    }

    private static String oneLine(String s) {
        String q = GcpErrors.quota(s).orElse(s);
        return GcpErrors.firstLine(q.replaceAll("\\s+", " "));
    }

    // ---- errors ----

    // ---- operations ----

    /** Polls until a few seconds at first, then every {@code 10 s}: operations of a fake end at once, GKE's take minutes. */
    private Waiter waiter() {
        long[] next = {100};
        return new Waiter(Duration.ofSeconds(10), timeout, d -> {
            long ms = Math.min(d.toMillis(), next[0]);
            next[0] = Math.min(d.toMillis(), next[0] * 2);
            Thread.sleep(ms);
        });
    }

    /** Polls a GKE operation until DONE; an error inside it becomes one line (a quota names the quota and region). */
    @SuppressWarnings("deprecation")
    private Operation await(GcpClients c, String what, Operation started) {
        String location = !started.getLocation().isEmpty() ? started.getLocation() : !started.getZone().isEmpty() ? started.getZone() : c.region();
        String name = "projects/" + c.project() + "/locations/" + location + "/operations/" + started.getName();
        Operation[] last = {started};
        waiter().until(what, () -> {
            if (last[0].getStatus() != Operation.Status.DONE) {
                last[0] = GcpErrors.call("container.operations.get " + name, () -> c.clusters().getOperation(name));
            }
            return last[0].getStatus() == Operation.Status.DONE ? Waiter.Status.ready("DONE") : Waiter.Status.pending(last[0].getStatus().name());
        });
        Operation done = last[0];
        if (done.hasError() && done.getError().getCode() != 0) {
            String message = done.getError().getMessage().isBlank() ? done.getStatusMessage() : done.getError().getMessage();
            com.google.rpc.Code code = com.google.rpc.Code.forNumber(done.getError().getCode());
            Optional<String> quota = GcpErrors.quota(message);
            throw new DriverException(what + " failed: " + quota.orElse((code == null ? "" : code.name() + ": ") + GcpErrors.firstLine(message.replaceAll("\\s+", " "))),
                false);
        }
        return done;
    }

    /**
     * Sends a change, waiting first for the operation GKE is running on the cluster when it refuses
     * with "Cluster is running incompatible operation" (one at a time per cluster): another person's
     * change, GKE's own auto-upgrade, or this run's earlier attempt whose answer was lost.
     */
    private <T> T whenIdle(String what, Supplier<T> call) {
        List<T> out = new ArrayList<>(1);
        waiter().until(what + " (the cluster is busy with another operation)", () -> {
            try {
                out.add(call.get());
                return Waiter.Status.ready("sent");
            } catch (RuntimeException e) {
                if (busy(e)) return Waiter.Status.pending("another operation in progress");
                throw GcpErrors.translate(what, e);
            }
        });
        return out.get(0);
    }

    private static boolean busy(Throwable e) {
        for (Throwable t = GcpErrors.google(e); t != null; t = t.getCause()) {
            if (t instanceof ApiException a) {
                String reason = a.getReason() == null ? "" : a.getReason();
                return BUSY.matcher(String.valueOf(a.getMessage())).find() || BUSY.matcher(reason).find();
            }
        }
        return false;
    }

    // ---- update ----

    /** Writes the marker and exactly the spec's labels (others' labels stay), with the fingerprint GKE requires; re-read when it moved. */
    private Map<String, String> syncLabels(GcpClients c, Environment env, String cloudId, String name, ResourceSpec d, Map<String, String> marker) {
        for (int attempt = 1; ; attempt++) {
            Cluster cl = GcpErrors.call("container.clusters.get " + name, () -> c.clusters().getCluster(cloudId));
            Optional<Map<String, String>> want = GcpKind.labelsAfterSync(cl.getResourceLabelsMap(), marker, d.attributes());
            if (want.isEmpty()) return cl.getResourceLabelsMap();
            SetLabelsRequest req = SetLabelsRequest.newBuilder().setName(cloudId).putAllResourceLabels(want.get())
                .setLabelFingerprint(cl.getLabelFingerprint()).build();
            try {
                Operation op = whenIdle("container.clusters.setResourceLabels " + name, () -> c.clusters().setLabels(req));
                await(c, "labels of GKE cluster " + name, op);
                return want.get();
            } catch (DriverException e) {
                // Someone changed the labels since they were read: read them again.
                if (attempt >= 3 || !String.valueOf(e.getMessage()).contains("fingerprint")) throw e;
            }
        }
    }

    @Override
    public ObservedResource update(GcpClients c, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        String name = GcpKind.clusterName(env, d.address().name());
        String id = current.cloudId();
        Map<String, String> marker = GcpMarker.INSTANCE.marker(env.name(), d.address());
        Map<String, Map<String, Object>> want = new LinkedHashMap<>();
        pools(d).forEach(p -> want.put((String) p.get("name"), p));
        Set<String> added = new TreeSet<>();
        Set<String> removed = new TreeSet<>();
        Set<String> rescaled = new TreeSet<>();
        Set<String> resized = new TreeSet<>();
        Set<String> replaced = new TreeSet<>();
        boolean labels = false;
        boolean version = false;
        for (AttributeChange ch : changes) {
            Matcher m = POOL_PATH.matcher(ch.path());
            if (ch.path().equals("tags") || ch.path().startsWith("tags.")) {
                labels = true;
            } else if (ch.path().equals("version")) {
                version = true;
            } else if (ch.path().equals("nodePools")) {
                continue; // the same pools in another order
            } else if (m.matches() && ch.forcesReplacement()) {
                replaced.add(m.group(1)); // the plan's kubernetes_cluster.x.node_pool.y replace: GKE cannot change it in place
            } else if (m.matches() && m.group(2) == null) {
                if (ch.after() == null) removed.add(m.group(1));
                else if (ch.before() == null) added.add(m.group(1));
            } else if (m.matches() && (m.group(2).equals("min") || m.group(2).equals("max"))) {
                rescaled.add(m.group(1));
            } else if (m.matches() && m.group(2).equals("machineType")) {
                resized.add(m.group(1));
            } else {
                // The planner replaces what GKE cannot change; anything else here is a rule missing from rules().
                throw new DriverException(d.address() + ": " + ch.path() + " cannot be changed in place on GKE", false);
            }
        }
        Cluster cl = waitCluster(c, id, name); // a change a lost answer left running finishes first
        // An import: the unmarked pools become this cluster's before anything else (the plan counted them as its own).
        if (labels && GcpMarker.INSTANCE.owner(current.tags(), env.name()).filter(d.address()::equals).isEmpty()) cl = adoptPools(c, env, d, id, name, cl,
            io.mlctl.provider.ManagedResources.namesIn(current.attributes(), "nodePools"));
        Map<String, String> tags = labels ? syncLabels(c, env, id, name, d, marker) : current.tags();
        if (version) cl = upgrade(c, env, d, id, name, cl);
        // Only a pool the spec no longer names, or one the plan replaces on its own, is deleted; a pool that is not ours never.
        removed.addAll(replaced);
        added.addAll(replaced);
        rescaled.removeAll(replaced);
        resized.removeAll(replaced);
        Map<String, NodePool> have = new LinkedHashMap<>();
        cl.getNodePoolsList().forEach(p -> have.put(p.getName(), p));
        for (String pool : removed) {
            NodePool p = have.get(pool);
            if (p == null) continue;
            requireOwnPool(env, d.address(), name, p, "delete");
            deletePool(c, id, name, pool);
        }
        for (String pool : resized) {
            NodePool p = have.get(pool);
            if (p == null || !want.containsKey(pool) || added.contains(pool)) continue;
            requireOwnPool(env, d.address(), name, p, "change");
            String machine = (String) want.get(pool).get("machineType");
            if (machine.equals(p.getConfig().getMachineType())) continue; // done by an attempt whose answer was lost
            UpdateNodePoolRequest req = UpdateNodePoolRequest.newBuilder().setName(id + "/nodePools/" + pool).setMachineType(machine).build();
            String what = "container.clusters.nodePools.update " + name + "/" + pool;
            await(c, "machine type change of node pool " + pool + " of GKE cluster " + name, whenIdle(what, () -> c.clusters().updateNodePool(req)));
        }
        for (String pool : rescaled) {
            NodePool p = have.get(pool);
            if (p == null || !want.containsKey(pool) || added.contains(pool)) continue;
            requireOwnPool(env, d.address(), name, p, "change");
            SetNodePoolAutoscalingRequest req = SetNodePoolAutoscalingRequest.newBuilder().setName(id + "/nodePools/" + pool)
                .setAutoscaling(autoscaling(want.get(pool))).build();
            String what = "container.clusters.nodePools.setAutoscaling " + name + "/" + pool;
            await(c, "autoscaling of node pool " + pool + " of GKE cluster " + name, whenIdle(what, () -> c.clusters().setNodePoolAutoscaling(req)));
        }
        for (String pool : added) {
            if (!want.containsKey(pool)) continue;
            createPool(c, env, d, id, name, want.get(pool));
        }
        return new ObservedResource(d.address(), id, d.attributes(), tags);
    }

    /**
     * Marks every pool the plan saw that no mlctl environment marked as this cluster's (its other resource labels stay), and gives its nodes the
     * network's tag, as mlctl's own pools have, so the network's firewall rules apply to them. Returns the cluster after.
     */
    private Cluster adoptPools(GcpClients c, Environment env, ResourceSpec d, String id, String name, Cluster cl, Set<String> planned) {
        String tag = NetworkKind.networkTag(env, network(d.attributes()));
        boolean changed = false;
        for (NodePool p : cl.getNodePoolsList()) {
            // Only the pools the plan saw: one made since was not shown, and is not taken over unseen.
            if (!planned.contains(p.getName()) || !GcpKind.unmarked(p.getConfig().getResourceLabelsMap())) continue;
            String pool = id + "/nodePools/" + p.getName();
            String what = "container.clusters.nodePools.update " + name + "/" + p.getName();
            Map<String, String> labels = new TreeMap<>(p.getConfig().getResourceLabelsMap());
            labels.putAll(poolMarker(env, d.address(), p.getName()));
            UpdateNodePoolRequest mark = UpdateNodePoolRequest.newBuilder().setName(pool).setResourceLabels(ResourceLabels.newBuilder().putAllLabels(labels)).build();
            await(c, "marking node pool " + p.getName() + " of GKE cluster " + name, whenIdle(what, () -> c.clusters().updateNodePool(mark)));
            if (!p.getConfig().getTagsList().contains(tag)) {
                // GKE replaces a pool's network tags as a whole: the ones it has stay.
                UpdateNodePoolRequest tags = UpdateNodePoolRequest.newBuilder().setName(pool)
                    .setTags(NetworkTags.newBuilder().addAllTags(p.getConfig().getTagsList()).addTags(tag)).build();
                await(c, "network tag of node pool " + p.getName() + " of GKE cluster " + name, whenIdle(what, () -> c.clusters().updateNodePool(tags)));
            }
            changed = true;
        }
        return changed ? waitCluster(c, id, name) : cl;
    }

    private static void requireOwnPool(Environment env, Address cluster, String name, NodePool p, String verb) {
        if (!ownPool(p, env, cluster)) {
            throw new NotOwnedException(cluster + ": node pool " + p.getName() + " of GKE cluster " + name + " is "
                + GcpMarker.INSTANCE.describeOwner(p.getConfig().getResourceLabelsMap()) + "; refusing to " + verb + " it");
        }
    }

    /**
     * Moves the control plane to the spec's minor one minor at a time (GKE allows no more), each step
     * followed by this cluster's pools (nodes may not fall more than two minors behind). GKE never
     * downgrades a control plane: asking for an older minor is an error that says so.
     */
    private Cluster upgrade(GcpClients c, Environment env, ResourceSpec d, String id, String name, Cluster cl) {
        String target = (String) d.attributes().get("version");
        int to = minorNumber(target);
        int from = minorNumber(cl.getCurrentMasterVersion());
        if (to < from) {
            throw new DriverException(d.address() + ": GKE cluster " + name + " runs " + cl.getCurrentMasterVersion() + " and GKE cannot downgrade "
                + "a control plane to " + target + "; set version: \"" + minor(cl.getCurrentMasterVersion()) + "\" in the spec, or rename the cluster to make a new one", false);
        }
        for (int m = from; m <= to; m++) {
            if (m > from) {
                String v = "1." + m;
                UpdateMasterRequest req = UpdateMasterRequest.newBuilder().setName(id).setMasterVersion(v).build();
                await(c, "upgrade of GKE cluster " + name + " to " + v, whenIdle("container.clusters.updateMaster " + name, () -> c.clusters().updateMaster(req)));
                cl = waitCluster(c, id, name);
            }
            for (NodePool p : cl.getNodePoolsList()) {
                if (!ownPool(p, env, d.address()) || minorNumber(p.getVersion()) >= m) continue;
                UpdateNodePoolRequest req = UpdateNodePoolRequest.newBuilder().setName(id + "/nodePools/" + p.getName())
                    .setNodeVersion("-").setImageType(p.getConfig().getImageType()).build();
                await(c, "upgrade of node pool " + p.getName() + " of GKE cluster " + name,
                    whenIdle("container.clusters.nodePools.update " + name + "/" + p.getName(), () -> c.clusters().updateNodePool(req)));
            }
            cl = waitCluster(c, id, name);
        }
        return cl;
    }

    // ---- delete ----

    @Override
    public void delete(GcpClients c, Environment env, ObservedResource current) {
        String id = current.cloudId();
        Optional<Cluster> cl = get(c, id);
        if (cl.isEmpty()) return;
        String name = cl.get().getName();
        // Checked before anything is deleted: deleting the cluster would take another team's node pool with it.
        List<String> foreign = cl.get().getNodePoolsList().stream().filter(p -> !ownPool(p, env, current.address())).map(NodePool::getName)
            .collect(Collectors.toList());
        if (!foreign.isEmpty()) {
            throw new DriverException(current.address() + ": GKE cluster " + name + " holds node pool " + String.join(", ", foreign)
                + " that mlctl does not manage; delete it first", false);
        }
        Optional<Operation> op = whenIdle("container.clusters.delete " + name, () -> {
            try {
                return Optional.of(c.clusters().deleteCluster(id));
            } catch (RuntimeException e) {
                if (!GcpErrors.notFound(e)) throw e;
                return Optional.empty();
            }
        });
        op.ifPresent(o -> await(c, "deletion of GKE cluster " + name, o));
        waiter().until("deletion of GKE cluster " + name, () -> get(c, id)
            .map(x -> x.getStatus() == Cluster.Status.STOPPING ? Waiter.Status.pending(x.getStatus().name())
                : Waiter.Status.failed(x.getStatus().name(), "the cluster is still there after its deletion finished"))
            .orElse(Waiter.Status.ready("deleted")));
    }
}
