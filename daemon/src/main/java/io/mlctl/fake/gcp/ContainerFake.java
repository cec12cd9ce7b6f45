package io.mlctl.fake.gcp;

import com.google.container.v1.AcceleratorConfig;
import com.google.container.v1.Cluster;
import com.google.container.v1.ClusterUpdate;
import com.google.container.v1.CreateClusterRequest;
import com.google.container.v1.CreateNodePoolRequest;
import com.google.container.v1.IPAllocationPolicy;
import com.google.container.v1.ListClustersResponse;
import com.google.container.v1.ListNodePoolsResponse;
import com.google.container.v1.ListOperationsResponse;
import com.google.container.v1.NodeConfig;
import com.google.container.v1.NodeManagement;
import com.google.container.v1.NodePool;
import com.google.container.v1.NodePoolAutoscaling;
import com.google.container.v1.Operation;
import com.google.container.v1.ReleaseChannel;
import com.google.container.v1.SetLabelsRequest;
import com.google.container.v1.SetNodePoolAutoscalingRequest;
import com.google.container.v1.SetNodePoolManagementRequest;
import com.google.container.v1.SetNodePoolSizeRequest;
import com.google.container.v1.StatusCondition;
import com.google.container.v1.UpdateClusterRequest;
import com.google.container.v1.UpdateMasterRequest;
import com.google.container.v1.UpdateNodePoolRequest;
import com.google.container.v1.WorkloadMetadataConfig;
import io.mlctl.util.Hashing;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Google Kubernetes Engine v1 over REST ({@code /v1/projects/{p}/locations/{l}/clusters...}): Standard
 * clusters and their node pools, typed on {@code com.google.container.v1}. Every change is a
 * {@link Operation} that is RUNNING when answered and DONE once {@link GcpFakes#operationTime()} has
 * passed (the change lands then), one at a time per cluster as GKE runs them: a second change while
 * one runs is refused {@code FAILED_PRECONDITION} "Cluster is running incompatible operation".
 * Validated as GKE validates: names, versions (known minors, no downgrade, one minor at a time),
 * machine and accelerator types, the network, subnetwork and service account existing, label and
 * network tag formats, autoscaling limits (per zone or total, not both; min ≤ max), Workload Identity
 * before GKE_METADATA, and the label fingerprint on setResourceLabels.
 *
 * <p>For tests: {@link #failOperations} makes the next matching operations end in an error (a stockout
 * or a GPU quota, as GKE reports them inside the operation), {@link #nodeCount} reads the nodes a
 * pool runs (GKE's NodePool carries no count; the console reads it from the instance groups), and a
 * person's out-of-band change goes through the same REST API ({@code :setSize}, {@code :setAutoscaling},
 * {@code :setResourceLabels}).
 */
public final class ContainerFake implements FakeService {
    private static final String V1 = "/v1/projects/([^/]+)/locations/([^/]+)";
    private static final String CLUSTER = V1 + "/clusters/([^/:]+)";
    private static final String POOL = CLUSTER + "/nodePools/([^/:]+)";
    private static final String VERB = "(?::|%3A)([A-Za-z]+)";
    private static final Pattern NAME = Pattern.compile("[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?");
    private static final Pattern LABEL_KEY = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
    private static final Pattern LABEL_VALUE = Pattern.compile("[a-z0-9_-]{0,63}");
    private static final Pattern NETWORK_TAG = Pattern.compile("[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern NODE_LABEL_KEY = Pattern.compile("(?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
    private static final Pattern NODE_LABEL_VALUE = Pattern.compile("(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");
    private static final Pattern VERSION = Pattern.compile("1\\.(\\d+)(?:\\.(\\d+)(?:-gke\\.(\\d+))?)?");
    private static final Pattern SERVICE_ACCOUNT = Pattern.compile("[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\\.iam\\.gserviceaccount\\.com"
        + "|\\d+-compute@developer\\.gserviceaccount\\.com");
    private static final Pattern MACHINE_TYPE = Pattern.compile("e2-(?:micro|small|medium|standard-(?:2|4|8|16|32)|highmem-(?:2|4|8|16)|highcpu-(?:2|4|8|16|32))"
        + "|n1-(?:standard-(?:1|2|4|8|16|32|64|96)|highmem-(?:2|4|8|16|32|64|96)|highcpu-(?:4|8|16|32|64|96))"
        + "|n2-(?:standard|highmem|highcpu)-(?:2|4|8|16|32|48|64|80|96|128)"
        + "|a2-highgpu-(?:1|2|4|8)g|a2-megagpu-16g|g2-standard-(?:4|8|12|16|24|32|48|96)");
    /** Regions and their zones; a regional cluster runs its nodes in the first three, as GKE picks three by default. */
    private static final Map<String, List<String>> REGIONS = Map.of(
        "us-central1", List.of("us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"),
        "us-east1", List.of("us-east1-b", "us-east1-c", "us-east1-d"),
        "us-west1", List.of("us-west1-a", "us-west1-b", "us-west1-c"),
        "europe-west1", List.of("europe-west1-b", "europe-west1-c", "europe-west1-d"),
        "europe-west4", List.of("europe-west4-a", "europe-west4-b", "europe-west4-c"),
        "asia-southeast1", List.of("asia-southeast1-a", "asia-southeast1-b", "asia-southeast1-c"));
    /** The patch GKE serves for each minor; "-" and "" mean the default minor, "latest" the newest. */
    private static final Map<Integer, String> VERSIONS = new TreeMap<>(Map.of(
        28, "1.28.15-gke.1503000", 29, "1.29.12-gke.1055000", 30, "1.30.8-gke.1051000", 31, "1.31.4-gke.1183000"));
    private static final int DEFAULT_MINOR = 30;
    /** GPUs: the machine family each attaches to and the counts GCE offers. */
    private record Gpu(String machinePrefix, List<Long> counts) {
    }

    private static final Map<String, Gpu> GPUS = Map.of(
        "nvidia-tesla-t4", new Gpu("n1-", List.of(1L, 2L, 4L)),
        "nvidia-tesla-v100", new Gpu("n1-", List.of(1L, 2L, 4L, 8L)),
        "nvidia-tesla-p100", new Gpu("n1-", List.of(1L, 2L, 4L)),
        "nvidia-tesla-p4", new Gpu("n1-", List.of(1L, 2L, 4L)),
        "nvidia-tesla-a100", new Gpu("a2-", List.of(1L, 2L, 4L, 8L, 16L)),
        "nvidia-l4", new Gpu("g2-", List.of(1L, 2L, 4L, 8L)));
    private static final List<String> DEFAULT_SCOPES = List.of("https://www.googleapis.com/auth/devstorage.read_only",
        "https://www.googleapis.com/auth/logging.write", "https://www.googleapis.com/auth/monitoring",
        "https://www.googleapis.com/auth/service.management.readonly", "https://www.googleapis.com/auth/servicecontrol",
        "https://www.googleapis.com/auth/trace.append");

    private final GcpFakes fakes;
    private final Map<String, Cluster.Builder> clusters = new LinkedHashMap<>();
    private final Map<String, Op> operations = new LinkedHashMap<>();
    private final Map<String, Integer> nodeCounts = new TreeMap<>();
    private final List<FailRule> failRules = new ArrayList<>();
    private long sequence;

    /** One operation: its resource, when it is done, what it changes then, and its error if it fails. */
    private static final class Op {
        final Operation.Builder op;
        final String clusterKey;
        final Instant doneAt;
        final Runnable effect;
        final Consumer<com.google.rpc.Status> failure;
        com.google.rpc.Status error;

        Op(Operation.Builder op, String clusterKey, Instant doneAt, Runnable effect, Consumer<com.google.rpc.Status> failure) {
            this.op = op;
            this.clusterKey = clusterKey;
            this.doneAt = doneAt;
            this.effect = effect;
            this.failure = failure;
        }
    }

    private record FailRule(Pattern match, int[] remaining, com.google.rpc.Status error) {
    }

    ContainerFake(GcpFakes fakes) {
        this.fakes = fakes;
    }

    // ---- test hooks ----

    /**
     * The next {@code times} operations whose {@code TYPE target} ({@code CREATE_NODE_POOL projects/p/locations/l/clusters/c/nodePools/gpu})
     * matches {@code regex} end DONE with this error, as GKE reports a stockout or an exhausted quota
     * inside the operation: a cluster or node pool being made is left in status ERROR.
     */
    public synchronized void failOperations(String regex, int times, com.google.rpc.Code code, String message) {
        failRules.add(new FailRule(Pattern.compile(regex), new int[] {times},
            com.google.rpc.Status.newBuilder().setCode(code.getNumber()).setMessage(message).build()));
    }

    /** The nodes a pool runs now (what {@code :setSize} sets), across its zones. */
    public synchronized int nodeCount(String project, String location, String cluster, String pool) {
        settle();
        return nodeCounts.getOrDefault(key(project, location, cluster) + "/" + pool, 0);
    }

    /** A cluster as GKE would answer a get, if it exists. */
    public synchronized Optional<Cluster> cluster(String project, String location, String name) {
        settle();
        return Optional.ofNullable(clusters.get(key(project, location, name))).map(Cluster.Builder::build);
    }

    /** Every cluster of the project. */
    public synchronized List<Cluster> clusters(String project) {
        settle();
        List<Cluster> out = new ArrayList<>();
        clusters.forEach((k, c) -> {
            if (k.startsWith(project + "/")) out.add(c.build());
        });
        return out;
    }

    // ---- routes ----

    @Override
    public void routes(FakeHttp http) {
        http.route("GET", V1 + "/clusters", r -> sync(() -> list(r)));
        http.route("POST", V1 + "/clusters", r -> sync(() -> createCluster(r)));
        http.route("GET", CLUSTER, r -> sync(() -> Json.print(clusterOf(r), r.enumsAsInts())));
        http.route("PUT", CLUSTER, r -> sync(() -> updateCluster(r)));
        http.route("DELETE", CLUSTER, r -> sync(() -> deleteCluster(r)));
        http.route("POST", CLUSTER + VERB, r -> sync(() -> clusterVerb(r)));
        http.route("GET", CLUSTER + "/nodePools", r -> sync(() -> Json.print(ListNodePoolsResponse.newBuilder()
            .addAllNodePools(clusterOf(r).getNodePoolsList()), r.enumsAsInts())));
        http.route("POST", CLUSTER + "/nodePools", r -> sync(() -> createNodePool(r)));
        http.route("GET", POOL, r -> sync(() -> Json.print(poolOf(clusterOf(r), r.group(4)), r.enumsAsInts())));
        http.route("PUT", POOL, r -> sync(() -> updateNodePool(r)));
        http.route("DELETE", POOL, r -> sync(() -> deleteNodePool(r)));
        http.route("POST", POOL + VERB, r -> sync(() -> poolVerb(r)));
        http.route("GET", V1 + "/operations/([^/:]+)", r -> sync(() -> getOperation(r)));
        http.route("GET", V1 + "/operations", r -> sync(() -> listOperations(r)));
    }

    private interface Work {
        String run();
    }

    private FakeHttp.Response sync(Work w) {
        synchronized (this) {
            settle();
            return FakeHttp.Response.ok(w.run());
        }
    }

    private static String key(String project, String location, String name) {
        return project + "/" + location + "/" + name;
    }

    private static String path(String project, String location) {
        return "projects/" + project + "/locations/" + location;
    }

    private static String link(String path) {
        return "https://container.googleapis.com/v1/" + path;
    }

    // ---- operations ----

    /** Ends every operation whose time has come: its change lands (or its error), in the order they started. */
    private void settle() {
        Instant now = Instant.now();
        for (Op o : operations.values()) {
            if (o.op.getStatus() == Operation.Status.DONE || now.isBefore(o.doneAt)) continue;
            if (o.error != null) {
                o.failure.accept(o.error);
                o.op.setError(o.error).setStatusMessage(o.error.getMessage());
            } else {
                o.effect.run();
            }
            o.op.setStatus(Operation.Status.DONE).setEndTime(now.toString());
        }
    }

    /** The operation running on a cluster, if any: GKE runs one at a time. */
    private void requireIdle(String clusterKey) {
        for (Op o : operations.values()) {
            if (o.clusterKey.equals(clusterKey) && o.op.getStatus() != Operation.Status.DONE) {
                throw new GoogleError(400, "FAILED_PRECONDITION", "failedPrecondition",
                    "Cluster is running incompatible operation " + o.op.getName() + ".", Map.of());
            }
        }
    }

    private String start(String project, String location, Operation.Type type, String target, String clusterKey,
                         Runnable effect, Consumer<com.google.rpc.Status> failure, boolean enums) {
        Instant now = Instant.now();
        String id = "operation-" + now.toEpochMilli() + "-" + Hashing.sha256Text(target + (++sequence)).substring(0, 8);
        Operation.Builder op = Operation.newBuilder().setName(id).setZone(location).setLocation(location).setOperationType(type)
            .setStatus(Operation.Status.RUNNING).setSelfLink(link(path(project, location) + "/operations/" + id))
            .setTargetLink(link(target)).setStartTime(now.toString());
        Op o = new Op(op, clusterKey, now.plus(fakes.operationTime()), effect, failure);
        String name = type.name() + " " + target;
        for (Iterator<FailRule> it = failRules.iterator(); it.hasNext(); ) {
            FailRule f = it.next();
            if (!f.match().matcher(name).find()) continue;
            o.error = f.error();
            if (--f.remaining()[0] <= 0) it.remove();
            break;
        }
        operations.put(key(project, location, id), o);
        return Json.print(op, enums);
    }

    private String getOperation(FakeHttp.Request r) {
        Op o = operations.get(key(r.group(1), r.group(2), r.group(3)));
        if (o == null) throw GoogleError.notFound(path(r.group(1), r.group(2)) + "/operations/" + r.group(3));
        return Json.print(o.op, r.enumsAsInts());
    }

    private String listOperations(FakeHttp.Request r) {
        ListOperationsResponse.Builder b = ListOperationsResponse.newBuilder();
        operations.forEach((k, o) -> {
            if (k.startsWith(r.group(1) + "/") && (r.group(2).equals("-") || o.op.getLocation().equals(r.group(2)))) b.addOperations(o.op);
        });
        return Json.print(b, r.enumsAsInts());
    }

    // ---- clusters ----

    private Cluster.Builder clusterOf(FakeHttp.Request r) {
        Cluster.Builder c = clusters.get(key(r.group(1), r.group(2), r.group(3)));
        if (c == null) throw GoogleError.notFound(path(r.group(1), r.group(2)) + "/clusters/" + r.group(3));
        return c;
    }

    private String list(FakeHttp.Request r) {
        String project = r.group(1);
        String location = r.group(2);
        if (!location.equals("-")) requireLocation(location);
        ListClustersResponse.Builder b = ListClustersResponse.newBuilder();
        clusters.forEach((k, c) -> {
            if (k.startsWith(project + "/") && (location.equals("-") || c.getLocation().equals(location))) b.addClusters(c);
        });
        return Json.print(b, r.enumsAsInts());
    }

    private static void requireLocation(String location) {
        if (REGIONS.containsKey(location)) return;
        for (List<String> zones : REGIONS.values()) if (zones.contains(location)) return;
        throw GoogleError.invalid("Location \"" + location + "\" does not exist.");
    }

    private static List<String> zonesOf(String location) {
        if (REGIONS.containsKey(location)) return REGIONS.get(location).subList(0, 3);
        return List.of(location);
    }

    private static String regionOf(String location) {
        if (REGIONS.containsKey(location)) return location;
        return location.substring(0, location.lastIndexOf('-'));
    }

    private String createCluster(FakeHttp.Request r) {
        String project = r.group(1);
        String location = r.group(2);
        requireLocation(location);
        CreateClusterRequest req = Json.parse(r.body(), CreateClusterRequest.newBuilder()).build();
        if (!req.hasCluster()) throw GoogleError.invalid("Cluster must be specified.");
        Cluster.Builder c = req.getCluster().toBuilder();
        String name = c.getName();
        if (name.isEmpty()) throw GoogleError.invalid("Cluster.name must be specified.");
        if (!NAME.matcher(name).matches()) {
            throw GoogleError.invalid("Invalid value for field 'cluster.name': '" + name + "'. Must be a match of regex "
                + "'(?:[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?)' (only alphanumerics and '-' allowed, must start with a letter and end with an alphanumeric, "
                + "and must be no longer than 40 characters).");
        }
        String k = key(project, location, name);
        if (clusters.containsKey(k)) throw GoogleError.alreadyExists(path(project, location) + "/clusters/" + name);
        if (c.getAutopilot().getEnabled()) throw GoogleError.invalid("fake: Autopilot clusters are not modeled");
        labels("cluster.resourceLabels", c.getResourceLabelsMap());
        if (c.getNodePoolsCount() > 0 && (c.getInitialNodeCount() > 0 || c.hasNodeConfig())) {
            throw GoogleError.invalid("Cannot specify both node_pools and initial_node_count or node_config.");
        }
        if (c.getNodePoolsCount() == 0 && c.getInitialNodeCount() <= 0) throw GoogleError.invalid("Cluster.initial_node_count must be greater than zero.");
        String version = resolve(c.getInitialClusterVersion(), "Master");
        // The network and subnetwork the nodes go in must exist (GKE reads them from Compute Engine).
        String network = c.getNetwork().isEmpty() ? "default" : last(c.getNetwork());
        if (!fakes.compute().hasNetwork(project, network)) throw GoogleError.invalid("Network \"" + network + "\" does not exist.");
        String subnetwork = c.getSubnetwork().isEmpty() ? network : last(c.getSubnetwork());
        if (!c.getSubnetwork().isEmpty() && !fakes.compute().hasSubnetwork(project, regionOf(location), subnetwork)) {
            throw GoogleError.invalid("Subnetwork \"" + subnetwork + "\" does not exist in region " + regionOf(location) + ".");
        }
        String pool = project + ".svc.id.goog";
        if (c.hasWorkloadIdentityConfig() && !c.getWorkloadIdentityConfig().getWorkloadPool().isEmpty()
            && !c.getWorkloadIdentityConfig().getWorkloadPool().equals(pool)) {
            throw GoogleError.invalid("Workload Identity pool \"" + c.getWorkloadIdentityConfig().getWorkloadPool()
                + "\" is not valid for project " + project + "; use \"" + pool + "\".");
        }
        if (c.getLocationsCount() > 0) {
            for (String z : c.getLocationsList()) {
                if (!REGIONS.getOrDefault(regionOf(location), List.of()).contains(z)) throw GoogleError.invalid("Location \"" + z + "\" is not a zone of " + location + ".");
            }
        } else {
            c.addAllLocations(zonesOf(location));
        }
        List<NodePool> pools = new ArrayList<>(c.getNodePoolsList());
        if (pools.isEmpty()) {
            pools.add(NodePool.newBuilder().setName("default-pool").setInitialNodeCount(c.getInitialNodeCount())
                .setConfig(c.hasNodeConfig() ? c.getNodeConfig() : NodeConfig.getDefaultInstance()).build());
            c.clearInitialNodeCount().clearNodeConfig();
        }
        if (pools.stream().noneMatch(p -> p.getInitialNodeCount() > 0)) {
            throw GoogleError.invalid("Cluster.initial_node_count must be greater than zero: at least one node pool must start with nodes.");
        }
        String clusterPath = path(project, location) + "/clusters/" + name;
        Instant now = Instant.now();
        c.setLocation(location).setZone(location).setSelfLink(link(clusterPath)).setStatus(Cluster.Status.PROVISIONING)
            .setCurrentMasterVersion(version).setCurrentNodeVersion(version).setCreateTime(now.toString())
            .setId(Hashing.sha256Text(clusterPath + now).substring(0, 32)).setEndpoint("34.118." + (sequence % 250 + 1) + "." + (name.length() % 250 + 1))
            .setNetwork(network).setSubnetwork(subnetwork).setLabelFingerprint(fingerprint(c.getResourceLabelsMap()))
            .setEtag(Hashing.sha256Text(clusterPath + "etag" + now).substring(0, 16)).setNodeIpv4CidrSize(24);
        if (!c.hasReleaseChannel()) c.setReleaseChannel(ReleaseChannel.newBuilder().setChannel(ReleaseChannel.Channel.REGULAR));
        if (!c.hasIpAllocationPolicy()) c.setIpAllocationPolicy(IPAllocationPolicy.newBuilder().setUseIpAliases(true));
        IPAllocationPolicy ip = c.getIpAllocationPolicy();
        if (ip.getUseIpAliases() && ip.getUseRoutes()) throw GoogleError.invalid("use_ip_aliases and use_routes cannot both be true.");
        c.setClusterIpv4Cidr(ip.getUseIpAliases() ? "10.96.0.0/14" : "10.100.0.0/14").setServicesIpv4Cidr("34.118.224.0/20");
        if (ip.getUseIpAliases()) c.setIpAllocationPolicy(ip.toBuilder().setClusterIpv4CidrBlock("10.96.0.0/14").setServicesIpv4CidrBlock("34.118.224.0/20"));
        c.clearNodePools();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (NodePool p : pools) {
            if (!names.add(p.getName())) throw GoogleError.invalid("Node pool \"" + p.getName() + "\" appears more than once.");
            c.addNodePools(newPool(project, location, c, p));
        }
        clusters.put(k, c);
        for (NodePool p : c.getNodePoolsList()) nodeCounts.put(k + "/" + p.getName(), p.getInitialNodeCount() * p.getLocationsCount());
        return start(project, location, Operation.Type.CREATE_CLUSTER, clusterPath, k, () -> {
            c.setStatus(Cluster.Status.RUNNING);
            for (NodePool.Builder p : c.getNodePoolsBuilderList()) p.setStatus(NodePool.Status.RUNNING);
        }, e -> {
            c.setStatus(Cluster.Status.ERROR).setStatusMessage(e.getMessage())
                .addConditions(StatusCondition.newBuilder().setMessage(e.getMessage()).setCanonicalCodeValue(e.getCode()));
            for (NodePool.Builder p : c.getNodePoolsBuilderList()) p.setStatus(NodePool.Status.ERROR).setStatusMessage(e.getMessage());
        }, r.enumsAsInts());
    }

    /** A node pool as GKE stores it, after checking it as GKE checks a create. */
    private NodePool newPool(String project, String location, Cluster.Builder cluster, NodePool req) {
        NodePool.Builder p = req.toBuilder();
        String clusterPath = path(project, location) + "/clusters/" + cluster.getName();
        if (p.getName().isEmpty()) throw GoogleError.invalid("NodePool.name must be specified.");
        if (!NAME.matcher(p.getName()).matches()) {
            throw GoogleError.invalid("Invalid value for field 'node_pool.name': '" + p.getName() + "'. Must be a match of regex "
                + "'(?:[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?)'.");
        }
        if (p.getInitialNodeCount() < 0) throw GoogleError.invalid("NodePool.initial_node_count must be non-negative.");
        NodeConfig.Builder cfg = p.getConfig().toBuilder();
        if (cfg.getMachineType().isEmpty()) cfg.setMachineType("e2-medium");
        machineType(cfg.getMachineType(), location);
        accelerators(cfg.getMachineType(), cfg.getAcceleratorsList(), location);
        if (cfg.getSpot() && cfg.getPreemptible()) throw GoogleError.invalid("Spot and preemptible cannot both be set on a node pool.");
        if (cfg.getServiceAccount().isEmpty()) cfg.setServiceAccount("default");
        serviceAccount(cfg.getServiceAccount());
        if (cfg.getOauthScopesCount() == 0) cfg.addAllOauthScopes(DEFAULT_SCOPES);
        for (String s : cfg.getOauthScopesList()) {
            if (!s.startsWith("https://www.googleapis.com/auth/")) throw GoogleError.invalid("Invalid OAuth scope \"" + s + "\": give the scope's URL.");
        }
        tags(cfg.getTagsList());
        labels("nodePool.config.resourceLabels", cfg.getResourceLabelsMap());
        nodeLabels(cfg.getLabelsMap());
        workloadMetadata(cluster, cfg.getWorkloadMetadataConfig());
        if (cfg.getDiskSizeGb() == 0) cfg.setDiskSizeGb(100);
        else if (cfg.getDiskSizeGb() < 10) throw GoogleError.invalid("Disk size must be at least 10 GB.");
        if (cfg.getDiskType().isEmpty()) cfg.setDiskType("pd-balanced");
        if (cfg.getImageType().isEmpty()) cfg.setImageType("COS_CONTAINERD");
        p.setConfig(cfg);
        autoscaling(p.getAutoscaling());
        if (p.getLocationsCount() == 0) {
            p.addAllLocations(cluster.getLocationsList());
        } else {
            for (String z : p.getLocationsList()) {
                if (!cluster.getLocationsList().contains(z) && !REGIONS.getOrDefault(regionOf(location), List.of()).contains(z)) {
                    throw GoogleError.invalid("Node pool location \"" + z + "\" is not a zone of " + location + ".");
                }
            }
        }
        String version = p.getVersion().isEmpty() ? cluster.getCurrentMasterVersion() : resolve(p.getVersion(), "Node");
        nodeVersion(version, cluster.getCurrentMasterVersion());
        if (!p.hasManagement()) p.setManagement(NodeManagement.newBuilder().setAutoUpgrade(true).setAutoRepair(true));
        String poolPath = clusterPath + "/nodePools/" + p.getName();
        p.setVersion(version).setStatus(NodePool.Status.PROVISIONING).setSelfLink(link(poolPath)).setPodIpv4CidrSize(24)
            .setEtag(Hashing.sha256Text(poolPath + Instant.now()).substring(0, 16)).clearInstanceGroupUrls();
        for (String z : p.getLocationsList()) {
            p.addInstanceGroupUrls("https://www.googleapis.com/compute/v1/projects/" + project + "/zones/" + z + "/instanceGroupManagers/gke-"
                + cluster.getName() + "-" + p.getName() + "-" + Hashing.sha256Text(poolPath + z).substring(0, 8) + "-grp");
        }
        return p.build();
    }

    private static void machineType(String machine, String location) {
        if (!MACHINE_TYPE.matcher(machine).matches()) {
            throw GoogleError.invalid("Machine type \"" + machine + "\" is not available in location " + location + ".");
        }
    }

    private static void accelerators(String machine, List<AcceleratorConfig> accelerators, String location) {
        for (AcceleratorConfig a : accelerators) {
            Gpu gpu = GPUS.get(a.getAcceleratorType());
            if (gpu == null) throw GoogleError.invalid("Accelerator type \"" + a.getAcceleratorType() + "\" does not exist in location " + location + ".");
            if (!gpu.counts().contains(a.getAcceleratorCount())) {
                throw GoogleError.invalid("Accelerator count " + a.getAcceleratorCount() + " is not valid for " + a.getAcceleratorType()
                    + " (allowed: " + gpu.counts() + ").");
            }
            if (!machine.startsWith(gpu.machinePrefix())) {
                throw GoogleError.invalid("Accelerator type \"" + a.getAcceleratorType() + "\" cannot be attached to machine type \"" + machine + "\".");
            }
        }
    }

    private void serviceAccount(String email) {
        if (email.equals("default")) return;
        if (!SERVICE_ACCOUNT.matcher(email).matches()) throw GoogleError.invalid("Invalid service account \"" + email + "\".");
        if (email.endsWith("@developer.gserviceaccount.com")) return;
        if (!fakes.iam().hasServiceAccount(email)) throw GoogleError.invalid("Service account \"" + email + "\" does not exist.");
    }

    private static void tags(List<String> tags) {
        if (tags.size() > 64) throw GoogleError.invalid("At most 64 network tags are allowed.");
        for (String t : tags) {
            if (!NETWORK_TAG.matcher(t).matches()) {
                throw GoogleError.invalid("Invalid network tag \"" + t + "\": must be 1-63 characters of lowercase letters, digits and '-', starting with a letter.");
            }
        }
    }

    private static void labels(String field, Map<String, String> labels) {
        if (labels.size() > 64) throw GoogleError.invalid("Invalid " + field + ": at most 64 labels are allowed.");
        labels.forEach((k, v) -> {
            if (!LABEL_KEY.matcher(k).matches()) throw GoogleError.invalid("Invalid " + field + " key \"" + k + "\".");
            if (!LABEL_VALUE.matcher(v).matches()) throw GoogleError.invalid("Invalid " + field + " value \"" + v + "\" for key \"" + k + "\".");
        });
    }

    private static void nodeLabels(Map<String, String> labels) {
        labels.forEach((k, v) -> {
            if (!NODE_LABEL_KEY.matcher(k).matches() || !NODE_LABEL_VALUE.matcher(v).matches()) {
                throw GoogleError.invalid("Invalid Kubernetes node label \"" + k + "=" + v + "\".");
            }
        });
    }

    private static void workloadMetadata(Cluster.Builder cluster, WorkloadMetadataConfig w) {
        if (w.getMode() == WorkloadMetadataConfig.Mode.GKE_METADATA && cluster.getWorkloadIdentityConfig().getWorkloadPool().isEmpty()) {
            throw GoogleError.invalid("Workload Identity must be enabled on the cluster to use the GKE_METADATA workload metadata mode.");
        }
    }

    private static void autoscaling(NodePoolAutoscaling a) {
        boolean perZone = a.getMinNodeCount() != 0 || a.getMaxNodeCount() != 0;
        boolean total = a.getTotalMinNodeCount() != 0 || a.getTotalMaxNodeCount() != 0;
        if (!a.getEnabled()) {
            if (perZone || total) throw GoogleError.invalid("Autoscaling limits are set but autoscaling is not enabled.");
            return;
        }
        if (perZone && total) throw GoogleError.invalid("Total and per zone limits cannot be specified together.");
        int min = total ? a.getTotalMinNodeCount() : a.getMinNodeCount();
        int max = total ? a.getTotalMaxNodeCount() : a.getMaxNodeCount();
        if (min < 0) throw GoogleError.invalid("Minimum node count must be non-negative.");
        if (max < 1) throw GoogleError.invalid("Maximum node count must be greater than zero.");
        if (min > max) throw GoogleError.invalid("Minimum node count (" + min + ") cannot be greater than maximum node count (" + max + ").");
        if (max > 1000 * (total ? 3 : 1)) throw GoogleError.invalid("Maximum node count " + max + " is too large.");
    }

    /** A version as the caller wrote it ("1.30", "1.30.8-gke.1051000", "latest", "-") as the release GKE runs. */
    private static String resolve(String asked, String what) {
        if (asked.isEmpty() || asked.equals("-")) return VERSIONS.get(DEFAULT_MINOR);
        if (asked.equals("latest")) return ((TreeMap<Integer, String>) VERSIONS).lastEntry().getValue();
        Matcher m = VERSION.matcher(asked);
        if (m.matches()) {
            String served = VERSIONS.get(Integer.parseInt(m.group(1)));
            if (served != null && (m.group(2) == null || served.equals(asked) || m.group(3) == null && served.startsWith(asked + "-"))) return served;
        }
        throw GoogleError.invalid(what + " version \"" + asked + "\" is unsupported.");
    }

    private static int minor(String version) {
        Matcher m = VERSION.matcher(version);
        if (!m.matches()) throw new IllegalStateException(version);
        return Integer.parseInt(m.group(1));
    }

    /** Nodes run the master's minor or up to two older, never newer. */
    private static void nodeVersion(String node, String master) {
        int n = minor(node);
        int m = minor(master);
        if (n > m) throw GoogleError.invalid("Node version \"" + node + "\" must not be newer than the master version \"" + master + "\".");
        if (m - n > 2) throw GoogleError.invalid("Node version \"" + node + "\" is more than two minor versions older than the master version \"" + master + "\".");
    }

    private static String fingerprint(Map<String, String> labels) {
        return Hashing.sha256Text(new TreeMap<>(labels).toString()).substring(0, 8);
    }

    private static String last(String url) {
        return url.substring(url.lastIndexOf('/') + 1);
    }

    private String updateCluster(FakeHttp.Request r) {
        Cluster.Builder c = clusterOf(r);
        String k = key(r.group(1), r.group(2), r.group(3));
        UpdateClusterRequest req = Json.parse(r.body(), UpdateClusterRequest.newBuilder()).build();
        if (!req.hasUpdate()) throw GoogleError.invalid("Update must be specified.");
        ClusterUpdate u = req.getUpdate();
        List<com.google.protobuf.Descriptors.FieldDescriptor> set = new ArrayList<>(u.getAllFields().keySet());
        set.removeIf(f -> f.getName().equals("etag") || f.getName().equals("desired_node_pool_id"));
        if (set.isEmpty()) throw GoogleError.invalid("Must specify a field to update.");
        if (set.size() > 1) throw GoogleError.invalid("At most one update can be modified at once.");
        if (!u.getEtag().isEmpty() && !u.getEtag().equals(c.getEtag())) throw GoogleError.conflict("The etag of cluster " + c.getName() + " does not match.");
        requireRunning(c);
        requireIdle(k);
        String clusterPath = path(r.group(1), r.group(2)) + "/clusters/" + c.getName();
        String field = set.get(0).getName();
        switch (field) {
            case "desired_master_version" -> {
                String v = masterUpgrade(c, u.getDesiredMasterVersion());
                c.setStatus(Cluster.Status.RECONCILING);
                return start(r.group(1), r.group(2), Operation.Type.UPGRADE_MASTER, clusterPath, k, () -> c.setCurrentMasterVersion(v)
                    .setStatus(Cluster.Status.RUNNING), e -> c.setStatus(Cluster.Status.RUNNING), r.enumsAsInts());
            }
            case "desired_node_pool_autoscaling" -> {
                NodePool.Builder p = poolBuilder(c, u.getDesiredNodePoolId().isEmpty() ? onlyPool(c) : u.getDesiredNodePoolId());
                autoscaling(u.getDesiredNodePoolAutoscaling());
                return start(r.group(1), r.group(2), Operation.Type.UPDATE_CLUSTER, clusterPath, k,
                    () -> p.setAutoscaling(u.getDesiredNodePoolAutoscaling()), e -> { }, r.enumsAsInts());
            }
            case "desired_node_version" -> {
                NodePool.Builder p = poolBuilder(c, u.getDesiredNodePoolId().isEmpty() ? onlyPool(c) : u.getDesiredNodePoolId());
                String v = u.getDesiredNodeVersion().equals("-") ? c.getCurrentMasterVersion() : resolve(u.getDesiredNodeVersion(), "Node");
                nodeVersion(v, c.getCurrentMasterVersion());
                return start(r.group(1), r.group(2), Operation.Type.UPGRADE_NODES, clusterPath, k, () -> p.setVersion(v), e -> { }, r.enumsAsInts());
            }
            default -> throw GoogleError.invalid("fake: ClusterUpdate." + field + " is not modeled");
        }
    }

    private static String onlyPool(Cluster.Builder c) {
        if (c.getNodePoolsCount() != 1) throw GoogleError.invalid("desired_node_pool_id must be specified when the cluster has more than one node pool.");
        return c.getNodePools(0).getName();
    }

    /** The release a master upgrade goes to: the same or the next minor, never older. */
    private static String masterUpgrade(Cluster.Builder c, String asked) {
        String v = resolve(asked, "Master");
        int from = minor(c.getCurrentMasterVersion());
        int to = minor(v);
        if (to < from) {
            throw GoogleError.invalid("Master version \"" + asked + "\" is older than the current version \"" + c.getCurrentMasterVersion()
                + "\": downgrading the control plane's minor version is not supported.");
        }
        if (to > from + 1) {
            throw GoogleError.invalid("Master version \"" + asked + "\" is more than one minor version newer than the current version \""
                + c.getCurrentMasterVersion() + "\": upgrade one minor version at a time.");
        }
        for (NodePool p : c.getNodePoolsList()) {
            if (to - minor(p.getVersion()) > 2) {
                throw GoogleError.invalid("Node pool \"" + p.getName() + "\" runs " + p.getVersion() + ": upgrade it before the master goes to " + v + ".");
            }
        }
        return v;
    }

    private static void requireRunning(Cluster.Builder c) {
        if (c.getStatus() == Cluster.Status.ERROR) throw GoogleError.failedPrecondition("Cluster " + c.getName() + " is in ERROR state: " + c.getStatusMessage());
        if (c.getStatus() == Cluster.Status.STOPPING) throw GoogleError.failedPrecondition("Cluster " + c.getName() + " is being deleted.");
    }

    private String deleteCluster(FakeHttp.Request r) {
        Cluster.Builder c = clusterOf(r);
        String k = key(r.group(1), r.group(2), r.group(3));
        requireIdle(k);
        c.setStatus(Cluster.Status.STOPPING);
        for (NodePool.Builder p : c.getNodePoolsBuilderList()) p.setStatus(NodePool.Status.STOPPING);
        return start(r.group(1), r.group(2), Operation.Type.DELETE_CLUSTER, path(r.group(1), r.group(2)) + "/clusters/" + c.getName(), k, () -> {
            clusters.remove(k);
            nodeCounts.keySet().removeIf(n -> n.startsWith(k + "/")); // a cluster's node pools go with it
        }, e -> c.setStatus(Cluster.Status.ERROR).setStatusMessage(e.getMessage()), r.enumsAsInts());
    }

    private String clusterVerb(FakeHttp.Request r) {
        Cluster.Builder c = clusterOf(r);
        String k = key(r.group(1), r.group(2), r.group(3));
        String clusterPath = path(r.group(1), r.group(2)) + "/clusters/" + c.getName();
        switch (r.group(4)) {
            case "setResourceLabels" -> {
                SetLabelsRequest req = Json.parse(r.body(), SetLabelsRequest.newBuilder()).build();
                labels("resourceLabels", req.getResourceLabelsMap());
                if (!req.getLabelFingerprint().equals(c.getLabelFingerprint())) {
                    throw GoogleError.failedPrecondition("Labels could not be set due to fingerprint mismatch: the cluster's labels changed "
                        + "since they were read (label_fingerprint " + (req.getLabelFingerprint().isEmpty() ? "missing" : req.getLabelFingerprint()) + ").");
                }
                requireRunning(c);
                requireIdle(k);
                Map<String, String> labels = new TreeMap<>(req.getResourceLabelsMap());
                return start(r.group(1), r.group(2), Operation.Type.UPDATE_CLUSTER, clusterPath, k, () -> c.clearResourceLabels()
                    .putAllResourceLabels(labels).setLabelFingerprint(fingerprint(labels)), e -> { }, r.enumsAsInts());
            }
            case "updateMaster" -> {
                UpdateMasterRequest req = Json.parse(r.body(), UpdateMasterRequest.newBuilder()).build();
                if (req.getMasterVersion().isEmpty()) throw GoogleError.invalid("master_version must be specified.");
                requireRunning(c);
                requireIdle(k);
                String v = masterUpgrade(c, req.getMasterVersion());
                c.setStatus(Cluster.Status.RECONCILING);
                return start(r.group(1), r.group(2), Operation.Type.UPGRADE_MASTER, clusterPath, k, () -> c.setCurrentMasterVersion(v)
                    .setStatus(Cluster.Status.RUNNING), e -> c.setStatus(Cluster.Status.RUNNING), r.enumsAsInts());
            }
            default -> throw new GoogleError(404, "NOT_FOUND", "notFound", "fake: no method :" + r.group(4) + " on clusters", Map.of());
        }
    }

    // ---- node pools ----

    private static NodePool.Builder poolBuilder(Cluster.Builder c, String name) {
        for (NodePool.Builder p : c.getNodePoolsBuilderList()) if (p.getName().equals(name)) return p;
        throw GoogleError.notFound(c.getSelfLink().replace("https://container.googleapis.com/v1/", "") + "/nodePools/" + name);
    }

    private static NodePool poolOf(Cluster.Builder c, String name) {
        return poolBuilder(c, name).build();
    }

    private String createNodePool(FakeHttp.Request r) {
        Cluster.Builder c = clusterOf(r);
        String k = key(r.group(1), r.group(2), r.group(3));
        CreateNodePoolRequest req = Json.parse(r.body(), CreateNodePoolRequest.newBuilder()).build();
        if (!req.hasNodePool()) throw GoogleError.invalid("NodePool must be specified.");
        for (NodePool p : c.getNodePoolsList()) {
            if (p.getName().equals(req.getNodePool().getName())) throw GoogleError.alreadyExists(path(r.group(1), r.group(2)) + "/clusters/"
                + c.getName() + "/nodePools/" + p.getName());
        }
        NodePool p = newPool(r.group(1), r.group(2), c, req.getNodePool());
        requireRunning(c);
        requireIdle(k);
        c.addNodePools(p);
        NodePool.Builder added = poolBuilder(c, p.getName());
        nodeCounts.put(k + "/" + p.getName(), p.getInitialNodeCount() * p.getLocationsCount());
        c.setStatus(Cluster.Status.RECONCILING);
        return start(r.group(1), r.group(2), Operation.Type.CREATE_NODE_POOL, path(r.group(1), r.group(2)) + "/clusters/" + c.getName()
            + "/nodePools/" + p.getName(), k, () -> {
                added.setStatus(NodePool.Status.RUNNING);
                c.setStatus(Cluster.Status.RUNNING);
            }, e -> {
                added.setStatus(NodePool.Status.ERROR).setStatusMessage(e.getMessage())
                    .addConditions(StatusCondition.newBuilder().setMessage(e.getMessage()).setCanonicalCodeValue(e.getCode()));
                c.setStatus(Cluster.Status.RUNNING);
            }, r.enumsAsInts());
    }

    private String deleteNodePool(FakeHttp.Request r) {
        Cluster.Builder c = clusterOf(r);
        String k = key(r.group(1), r.group(2), r.group(3));
        NodePool.Builder p = poolBuilder(c, r.group(4));
        requireIdle(k);
        requireRunning(c);
        p.setStatus(NodePool.Status.STOPPING);
        c.setStatus(Cluster.Status.RECONCILING);
        String name = p.getName();
        return start(r.group(1), r.group(2), Operation.Type.DELETE_NODE_POOL, path(r.group(1), r.group(2)) + "/clusters/" + c.getName()
            + "/nodePools/" + name, k, () -> {
                for (int i = 0; i < c.getNodePoolsCount(); i++) {
                    if (c.getNodePools(i).getName().equals(name)) {
                        c.removeNodePools(i);
                        break;
                    }
                }
                nodeCounts.remove(k + "/" + name);
                c.setStatus(Cluster.Status.RUNNING);
            }, e -> c.setStatus(Cluster.Status.RUNNING), r.enumsAsInts());
    }

    private String updateNodePool(FakeHttp.Request r) {
        Cluster.Builder c = clusterOf(r);
        String k = key(r.group(1), r.group(2), r.group(3));
        NodePool.Builder p = poolBuilder(c, r.group(4));
        UpdateNodePoolRequest req = Json.parse(r.body(), UpdateNodePoolRequest.newBuilder()).build();
        if (!req.getEtag().isEmpty() && !req.getEtag().equals(p.getEtag())) throw GoogleError.conflict("The etag of node pool " + p.getName() + " does not match.");
        NodePool.Builder after = p.build().toBuilder();
        NodeConfig.Builder cfg = after.getConfigBuilder();
        int changes = 0;
        if (!req.getNodeVersion().isEmpty()) {
            String v = req.getNodeVersion().equals("-") ? c.getCurrentMasterVersion() : resolve(req.getNodeVersion(), "Node");
            nodeVersion(v, c.getCurrentMasterVersion());
            after.setVersion(v);
            changes++;
        }
        if (!req.getImageType().isEmpty() && !req.getImageType().equalsIgnoreCase(cfg.getImageType())) {
            if (!List.of("COS_CONTAINERD", "UBUNTU_CONTAINERD").contains(req.getImageType().toUpperCase(java.util.Locale.ROOT))) {
                throw GoogleError.invalid("Image type \"" + req.getImageType() + "\" is not supported.");
            }
            cfg.setImageType(req.getImageType().toUpperCase(java.util.Locale.ROOT));
            changes++;
        }
        if (!req.getMachineType().isEmpty()) {
            machineType(req.getMachineType(), c.getLocation());
            accelerators(req.getMachineType(), cfg.getAcceleratorsList(), c.getLocation());
            cfg.setMachineType(req.getMachineType());
            changes++;
        }
        if (req.getDiskSizeGb() != 0) {
            if (req.getDiskSizeGb() < 10) throw GoogleError.invalid("Disk size must be at least 10 GB.");
            cfg.setDiskSizeGb((int) req.getDiskSizeGb());
            changes++;
        }
        if (!req.getDiskType().isEmpty()) {
            cfg.setDiskType(req.getDiskType());
            changes++;
        }
        if (req.hasResourceLabels()) {
            labels("resourceLabels", req.getResourceLabels().getLabelsMap());
            cfg.clearResourceLabels().putAllResourceLabels(req.getResourceLabels().getLabelsMap());
            changes++;
        }
        if (req.hasLabels()) {
            nodeLabels(req.getLabels().getLabelsMap());
            cfg.clearLabels().putAllLabels(req.getLabels().getLabelsMap());
            changes++;
        }
        if (req.hasTags()) {
            tags(req.getTags().getTagsList());
            cfg.clearTags().addAllTags(req.getTags().getTagsList());
            changes++;
        }
        if (req.hasWorkloadMetadataConfig()) {
            workloadMetadata(c, req.getWorkloadMetadataConfig());
            cfg.setWorkloadMetadataConfig(req.getWorkloadMetadataConfig());
            changes++;
        }
        if (req.getLocationsCount() > 0) {
            for (String z : req.getLocationsList()) {
                if (!REGIONS.getOrDefault(regionOf(c.getLocation()), List.of()).contains(z)) throw GoogleError.invalid("Node pool location \"" + z + "\" is not valid.");
            }
            after.clearLocations().addAllLocations(req.getLocationsList());
            changes++;
        }
        if (req.getAcceleratorsCount() > 0) {
            accelerators(cfg.getMachineType(), req.getAcceleratorsList(), c.getLocation());
            cfg.clearAccelerators().addAllAccelerators(req.getAcceleratorsList());
            changes++;
        }
        List<String> unmodeled = new ArrayList<>();
        req.getAllFields().keySet().forEach(f -> {
            if (!List.of("node_version", "image_type", "machine_type", "disk_size_gb", "disk_type", "resource_labels", "labels", "tags",
                "workload_metadata_config", "locations", "accelerators", "etag", "name", "project_id", "zone", "cluster_id", "node_pool_id").contains(f.getName())) {
                unmodeled.add(f.getName());
            }
        });
        if (!unmodeled.isEmpty()) throw GoogleError.invalid("fake: UpdateNodePoolRequest." + unmodeled.get(0) + " is not modeled");
        if (changes == 0) throw GoogleError.invalid("Must specify a field to update.");
        requireRunning(c);
        requireIdle(k);
        p.setStatus(NodePool.Status.RECONCILING);
        NodePool updated = after.setStatus(NodePool.Status.RUNNING).setEtag(Hashing.sha256Text(p.getSelfLink() + Instant.now() + sequence).substring(0, 16)).build();
        return start(r.group(1), r.group(2), req.getNodeVersion().isEmpty() ? Operation.Type.UPDATE_CLUSTER : Operation.Type.UPGRADE_NODES,
            path(r.group(1), r.group(2)) + "/clusters/" + c.getName() + "/nodePools/" + p.getName(), k,
            () -> p.clear().mergeFrom(updated), e -> p.setStatus(NodePool.Status.RUNNING), r.enumsAsInts());
    }

    private String poolVerb(FakeHttp.Request r) {
        Cluster.Builder c = clusterOf(r);
        String k = key(r.group(1), r.group(2), r.group(3));
        NodePool.Builder p = poolBuilder(c, r.group(4));
        String poolPath = path(r.group(1), r.group(2)) + "/clusters/" + c.getName() + "/nodePools/" + p.getName();
        switch (r.group(5)) {
            case "setAutoscaling" -> {
                SetNodePoolAutoscalingRequest req = Json.parse(r.body(), SetNodePoolAutoscalingRequest.newBuilder()).build();
                if (!req.hasAutoscaling()) throw GoogleError.invalid("Autoscaling must be specified.");
                autoscaling(req.getAutoscaling());
                requireRunning(c);
                requireIdle(k);
                NodePoolAutoscaling a = req.getAutoscaling();
                return start(r.group(1), r.group(2), Operation.Type.UPDATE_CLUSTER, poolPath, k, () -> p.setAutoscaling(a), e -> { }, r.enumsAsInts());
            }
            case "setSize" -> {
                SetNodePoolSizeRequest req = Json.parse(r.body(), SetNodePoolSizeRequest.newBuilder()).build();
                if (req.getNodeCount() < 0) throw GoogleError.invalid("node_count must be non-negative.");
                requireRunning(c);
                requireIdle(k);
                int nodes = req.getNodeCount() * p.getLocationsCount(); // per zone, as the API counts it
                return start(r.group(1), r.group(2), Operation.Type.SET_NODE_POOL_SIZE, poolPath, k,
                    () -> nodeCounts.put(k + "/" + p.getName(), nodes), e -> { }, r.enumsAsInts());
            }
            case "setManagement" -> {
                SetNodePoolManagementRequest req = Json.parse(r.body(), SetNodePoolManagementRequest.newBuilder()).build();
                if (!req.hasManagement()) throw GoogleError.invalid("Management must be specified.");
                requireRunning(c);
                requireIdle(k);
                NodeManagement m = req.getManagement();
                return start(r.group(1), r.group(2), Operation.Type.SET_NODE_POOL_MANAGEMENT, poolPath, k, () -> p.setManagement(m), e -> { }, r.enumsAsInts());
            }
            default -> throw new GoogleError(404, "NOT_FOUND", "notFound", "fake: no method :" + r.group(5) + " on node pools", Map.of());
        }
    }
}
