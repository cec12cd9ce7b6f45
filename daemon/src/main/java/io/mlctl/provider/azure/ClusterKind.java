package io.mlctl.provider.azure;

import com.azure.core.management.exception.ManagementException;
import com.azure.core.management.polling.PollResult;
import com.azure.core.util.polling.SyncPoller;
import com.azure.resourcemanager.containerservice.fluent.AgentPoolsClient;
import com.azure.resourcemanager.containerservice.fluent.ManagedClustersClient;
import com.azure.resourcemanager.containerservice.fluent.models.AgentPoolInner;
import com.azure.resourcemanager.containerservice.fluent.models.ManagedClusterInner;
import com.azure.resourcemanager.containerservice.models.AgentPoolMode;
import com.azure.resourcemanager.containerservice.models.AgentPoolType;
import com.azure.resourcemanager.containerservice.models.ContainerServiceNetworkProfile;
import com.azure.resourcemanager.containerservice.models.ManagedClusterAgentPoolProfile;
import com.azure.resourcemanager.containerservice.models.ManagedClusterIdentity;
import com.azure.resourcemanager.containerservice.models.ManagedServiceIdentityUserAssignedIdentitiesValue;
import com.azure.resourcemanager.containerservice.models.NetworkPlugin;
import com.azure.resourcemanager.containerservice.models.NetworkPluginMode;
import com.azure.resourcemanager.containerservice.models.OSType;
import com.azure.resourcemanager.containerservice.models.ResourceIdentityType;
import com.azure.resourcemanager.containerservice.models.ScaleSetEvictionPolicy;
import com.azure.resourcemanager.containerservice.models.ScaleSetPriority;
import com.azure.resourcemanager.containerservice.models.TagsObject;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.NotOwnedException;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.TagMarker;
import io.mlctl.provider.Waiter;
import io.mlctl.spec.Address;
import io.mlctl.spec.Cidr;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.util.Hashing;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * kubernetes_cluster → an AKS cluster {@code <cluster>} in the environment's resource group: the spec's
 * {@code version} as AKS's MAJOR.MINOR alias (AKS runs that minor's latest patch and never moves it to
 * another minor on its own), DNS prefix {@code <env>-<cluster>}, Azure CNI in overlay mode (pods take
 * addresses from a private range, not the subnet's) with service and pod ranges chosen clear of the spec
 * network's CIDR, every node pool in the spec's subnet, and the spec's identity as the control plane's
 * user-assigned identity (else AKS's system-assigned one). AKS changes the identity in place.
 *
 * <p>Node pools: one AKS agent pool per spec pool, autoscaled between {@code min} and {@code max}
 * (starting at {@code min}), in User mode; {@code spot: true} is Spot priority, evicted by deletion,
 * paying at most the on-demand price. AKS adds the taint {@code kubernetes.azure.com/scalesetpriority=spot:NoSchedule}
 * to Spot pools; mlctl neither sends nor reports taints, so it never shows as drift. AKS wants at least
 * one System pool, and a System pool cannot be Spot nor scale to zero, which GPU pools often do: so mlctl
 * adds one of its own, {@value #SYSTEM_POOL} ({@value #SYSTEM_SIZE}, 1 to 3 nodes), which the spec does not
 * show; a spec pool whose AKS name would be {@value #SYSTEM_POOL} is refused. AKS pool names are 1–12
 * lowercase letters and digits starting with a letter: a spec pool name that is one is used as it is,
 * any other becomes its first 8 letters and digits and 4 hex characters of a hash of the whole name
 * ({@code gpu-spot-a100} → {@code gpuspota} + hash). Each pool's tags carry the marker of its component
 * ({@code kubernetes_cluster.<c>.node_pool.<pool>}), which also records the spec's name; a pool someone
 * else added is never listed, changed or deleted, and the cluster is not deleted while it holds one.
 *
 * <p>A pool's VM size or Spot setting cannot change on AKS: the plan replaces that pool, not the
 * cluster. Min and max change in place; the node count itself is the autoscaler's, never drift (a pool
 * whose autoscaler someone turned off shows its fixed count as both min and max). The version moves one
 * minor at a time, control plane and this cluster's pools together; AKS cannot downgrade. A subnet or
 * region change needs a new cluster. AKS runs one operation at a time per cluster and refuses others
 * with 409 "Another operation ... is in progress": mlctl waits for it and sends its change again.
 *
 * <p>A cluster whose last operation failed or was canceled shows {@code provisioningState} in the plan;
 * the update repairs it first with AKS's documented repair, a PUT of the cluster as it is read, and only
 * then makes the other changes. Every wait has a deadline; one passed is a retryable failure naming what
 * was waited for and its last state.
 */
final class ClusterKind implements AzureKind {
    static final String ARM_TYPE = "microsoft.containerservice/managedclusters";
    /** The api-version the SDK uses for managed clusters, for the direct read of one Graph has not indexed yet. */
    static final String API_VERSION = "2025-09-01";
    static final String SYSTEM_POOL = "system";
    static final String SYSTEM_SIZE = "Standard_D2s_v3";
    private static final Pattern POOL_NAME = Pattern.compile("[a-z][a-z0-9]{0,11}");
    private static final Pattern POOL_PATH = Pattern.compile("nodePools\\[([^\\]]+)\\](?:\\.(.+))?");
    private static final Pattern MINOR = Pattern.compile("^(\\d+)\\.(\\d+)");
    private static final List<String> SERVICE_RANGES = List.of("10.0.0.0/16", "172.16.0.0/16");
    private static final List<String> POD_RANGES = List.of("10.244.0.0/16", "172.17.0.0/16");
    // A region or subnet change needs a new cluster (AKS cannot move one, nor a pool's subnet); a pool's
    // VM size and priority cannot change either, which replaces that pool alone.
    private static final ResourceRules RULES = new ResourceRules(Set.of("region", "subnet", "nodePools[].machineType", "nodePools[].spot"));

    private final Map<String, SyncPoller<? extends PollResult<?>, ?>> creating = new ConcurrentHashMap<>();
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
        return RULES;
    }

    private static ManagedClustersClient clusters(AzureClients cloud) {
        return cloud.containers().serviceClient().getManagedClusters();
    }

    private static AgentPoolsClient pools(AzureClients cloud) {
        return cloud.containers().serviceClient().getAgentPools();
    }

    // ---- names ----

    /** The AKS name of a spec pool: itself when AKS takes it, else 8 of its letters and digits and 4 hex of its hash. */
    static String poolName(String specName) {
        if (POOL_NAME.matcher(specName).matches()) return specName;
        String base = specName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
        if (base.length() > 8) base = base.substring(0, 8);
        return base + Hashing.sha256Text(specName).substring(0, 4);
    }

    /** {@code <env>-<cluster>}, at most 54 characters, ending in a letter or digit. */
    static String dnsPrefix(Environment env, String cluster) {
        String p = (env.name() + "-" + cluster);
        if (p.length() > 54) p = p.substring(0, 54);
        return p.replaceAll("-+$", "");
    }

    static String minor(String version) {
        Matcher m = MINOR.matcher(version == null ? "" : version);
        return m.find() ? m.group(1) + "." + m.group(2) : version;
    }

    private static int minorNumber(String version) {
        Matcher m = MINOR.matcher(version == null ? "" : version);
        return m.find() ? Integer.parseInt(m.group(2)) : 0;
    }

    private static Map<String, String> poolMarker(Environment env, Address cluster, String specPool) {
        return TagMarker.INSTANCE.marker(env.name(), new Address(cluster.type(), cluster.name(), "node_pool." + specPool));
    }

    /**
     * Whose a pool is: the spec pool it stands for ({@code Optional.of(name)}), {@link #SYSTEM_POOL} for the
     * System pool mlctl added (marked as the cluster itself), empty when it is not this cluster's.
     */
    static Optional<String> ownPool(Map<String, String> tags, Environment env, Address cluster, String aksName) {
        Optional<Address> a = TagMarker.INSTANCE.owner(tags, env.name());
        if (a.isEmpty() || !a.get().resource().equals(cluster)) return Optional.empty();
        // mlctl's System pool: the one it made ("system"), or the System pool of a cluster it imported, marked as the cluster itself.
        if (!a.get().isComponent()) return Optional.of(SYSTEM_POOL);
        String component = a.get().component();
        if (!component.startsWith("node_pool.")) return Optional.empty();
        String spec = component.substring("node_pool.".length());
        return poolName(spec).equals(aksName) ? Optional.of(spec) : Optional.empty();
    }

    /**
     * Whose a pool of a cluster being imported (no marker yet) is to be: the spec pool whose AKS name it has, else, for a
     * System pool, mlctl's System pool (the spec never shows it; AKS needs one); empty for a pool that is anyone's already or
     * that the spec does not name (someone else's from then on: never changed, and it keeps the cluster from being deleted).
     */
    static Optional<String> adoptablePool(Environment env, Address cluster, String aksName, Map<String, String> tags, Object mode) {
        if (TagMarker.INSTANCE.marked(tags)) return Optional.empty();
        Optional<String> spec = env.resource(cluster).stream().flatMap(r -> specPools(r).stream()).map(p -> (String) p.get("name"))
            .filter(n -> poolName(n).equals(aksName)).findFirst();
        if (spec.isPresent()) return spec;
        return AgentPoolMode.SYSTEM.equals(mode) ? Optional.of(SYSTEM_POOL) : Optional.empty();
    }

    /** Whether the cluster is being imported: it carries no marker yet, so its pools are taken as {@link #adoptablePool} says. */
    private static boolean importing(Map<String, String> clusterTags) {
        return !TagMarker.INSTANCE.marked(clusterTags);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> specPools(ResourceSpec d) {
        return (List<Map<String, Object>>) d.attributes().getOrDefault("nodePools", List.of());
    }

    /** The spec's pools by AKS name; a name AKS would see twice, or the System pool's, is refused. */
    private static Map<String, Map<String, Object>> poolsByAksName(ResourceSpec d) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (Map<String, Object> p : specPools(d)) {
            String spec = (String) p.get("name");
            String aks = poolName(spec);
            if (aks.equals(SYSTEM_POOL)) {
                throw new DriverException(d.address() + ": node pool name '" + spec + "' is AKS's name for the System pool mlctl adds to every "
                    + "cluster; rename the pool", false);
            }
            Map<String, Object> clash = out.put(aks, p);
            if (clash != null) {
                throw new DriverException(d.address() + ": node pools " + clash.get("name") + " and " + spec + " would both be AKS pool " + aks
                    + "; rename one", false);
            }
        }
        return out;
    }

    /** Service and pod ranges of the cluster, each the first candidate clear of the spec network's CIDR. */
    private static String[] ranges(Environment env, String subnetRef) {
        String network = subnetRef.substring(0, subnetRef.indexOf('/'));
        Optional<Cidr> net = env.resource(new Address(ResourceType.NETWORK, network)).map(r -> r.attributes().get("cidr"))
            .map(c -> Cidr.parse(String.valueOf(c)));
        String service = SERVICE_RANGES.stream().filter(r -> net.map(n -> !n.overlaps(Cidr.parse(r))).orElse(true)).findFirst().orElseThrow();
        String pods = POD_RANGES.stream().filter(r -> net.map(n -> !n.overlaps(Cidr.parse(r))).orElse(true)).findFirst().orElseThrow();
        return new String[] {service, service.substring(0, service.lastIndexOf('.')) + ".10", pods};
    }

    // ---- inventory ----

    @Override
    public Page list(AzureClients cloud, Environment env, Optional<String> pageToken) {
        // The cluster's row carries its agent pools (agentPoolProfiles): nothing else to read. A cluster of the
        // spec Graph does not show yet (it lags ARM writes) is read directly, when the listing is one page.
        return AzureKind.graphPage(cloud, env, ARM_TYPE, API_VERSION, pageToken,
            a -> AzureKind.resourceId(cloud, env, "Microsoft.ContainerService/managedClusters", a.name()), row -> {
                Optional<Address> a = TagMarker.INSTANCE.owner(AzureKind.tags(row.get("tags")), env.name());
                if (a.isEmpty() || a.get().type() != ResourceType.KUBERNETES_CLUSTER || a.get().isComponent()) return Optional.empty();
                return Optional.of(observe(cloud, env, a.get(), InstanceKind.model(row, ManagedClusterInner::fromJson)));
            }, ResourceType.KUBERNETES_CLUSTER);
    }

    private static ObservedResource observe(AzureClients cloud, Environment env, Address address, ManagedClusterInner mc) {
        Map<String, Object> m = new TreeMap<>();
        String version = mc.currentKubernetesVersion() != null ? mc.currentKubernetesVersion() : mc.kubernetesVersion();
        if (version != null) m.put("version", minor(version));
        if (mc.identity() != null && ResourceIdentityType.USER_ASSIGNED.equals(mc.identity().type()) && mc.identity().userAssignedIdentities() != null
            && !mc.identity().userAssignedIdentities().isEmpty()) {
            m.put("identity", InstanceKind.identityRef(cloud, env, new TreeSet<>(mc.identity().userAssignedIdentities().keySet()).first()));
        }
        List<Object> pools = new ArrayList<>();
        String subnet = null;
        boolean importing = importing(AzureKind.tags(mc.tags()));
        for (ManagedClusterAgentPoolProfile p : mc.agentPoolProfiles() == null ? List.<ManagedClusterAgentPoolProfile>of() : mc.agentPoolProfiles()) {
            Optional<String> spec = ownPool(AzureKind.tags(p.tags()), env, address, p.name());
            if (spec.isEmpty() && importing) spec = adoptablePool(env, address, p.name(), AzureKind.tags(p.tags()), p.mode());
            if (spec.isEmpty()) continue; // someone else's pool: not listed, never changed
            if (subnet == null || spec.get().equals(SYSTEM_POOL)) subnet = p.vnetSubnetId();
            if (spec.get().equals(SYSTEM_POOL)) continue; // mlctl's own System pool: not in the spec
            Map<String, Object> pool = new TreeMap<>();
            pool.put("name", spec.get());
            pool.put("machineType", p.vmSize());
            boolean auto = Boolean.TRUE.equals(p.enableAutoScaling());
            long count = p.count() == null ? 0 : p.count();
            pool.put("min", auto && p.minCount() != null ? (long) p.minCount() : count);
            pool.put("max", auto && p.maxCount() != null ? (long) p.maxCount() : count);
            pool.put("spot", ScaleSetPriority.SPOT.equals(p.scaleSetPriority()));
            pools.add(pool);
        }
        if (subnet != null) m.put("subnet", InstanceKind.subnetRef(cloud, env, subnet));
        if (!pools.isEmpty()) m.put("nodePools", pools);
        // A cluster whose last operation failed shows it, so the plan offers to repair it (AKS's repair: a PUT of the cluster as it is).
        if (InstanceKind.failedState(mc.provisioningState())) m.put("provisioningState", mc.provisioningState());
        Map<String, String> tags = AzureKind.tags(mc.tags());
        return new ObservedResource(address, mc.id(), AzureKind.attrs(mc.location(), m, tags), tags);
    }

    @Override
    public Optional<Existing> find(AzureClients cloud, Environment env, Address address, Optional<String> knownCloudId) {
        String group = knownCloudId.map(InstanceKind::groupOf).orElse(AzureKind.resourceGroup(env));
        String name = knownCloudId.map(AzureKind::lastSegment).orElse(address.name());
        return get(cloud, group, name).map(mc -> new Existing(mc.id(), "AKS cluster " + name + " in resource group " + group, AzureKind.tags(mc.tags())));
    }

    /**
     * The AKS cluster {@code cloudId} ({@code .../Microsoft.ContainerService/managedClusters/<name>}), observed as {@link #list}
     * observes one (its pools come inline). It must be in the environment's resource group under the address's name: grants
     * and references name it so. Not imported yet, its pools are read as the import will take them ({@link #adoptablePool}).
     */
    @Override
    public Optional<ObservedResource> read(AzureClients cloud, Environment env, Address address, String cloudId) {
        AzureKind.ArmRef ref = AzureKind.parseId(cloudId, "Microsoft.ContainerService", "managedClusters").orElseThrow(() ->
            AzureKind.notAnId(address, cloudId, "an AKS cluster", AzureKind.idForm("Microsoft.ContainerService", "managedClusters")));
        String what = "AKS cluster " + ref.name();
        AzureKind.requireHere(cloud, env, address, ref, what);
        AzureKind.requireName(address, what, ref.name());
        return get(cloud, AzureKind.resourceGroup(env), ref.name()).map(mc -> observe(cloud, env, address, mc));
    }

    /**
     * {@code endpoint}, the API server's URL (its private FQDN for a private cluster), {@code credentials}, the command that
     * writes a kubeconfig for it, and {@code version}, the Kubernetes version the control plane runs.
     */
    @Override
    public Map<String, String> outputs(AzureClients cloud, Environment env, ObservedResource r) {
        String group = InstanceKind.groupOf(r.cloudId());
        String name = AzureKind.lastSegment(r.cloudId());
        ManagedClusterInner mc = get(cloud, group, name).orElseThrow(() -> AzureKind.gone(r));
        Map<String, String> out = new TreeMap<>();
        String host = mc.fqdn() != null ? mc.fqdn() : mc.privateFqdn();
        if (host != null) out.put("endpoint", "https://" + host + ":443");
        out.put("credentials", "az aks get-credentials --resource-group " + group + " --name " + name);
        String version = mc.currentKubernetesVersion() != null ? mc.currentKubernetesVersion() : mc.kubernetesVersion();
        if (version != null) out.put("version", version);
        return out;
    }

    private static Optional<ManagedClusterInner> get(AzureClients cloud, String group, String name) {
        return AzureErrors.find("read AKS cluster " + name, () -> clusters(cloud).getByResourceGroup(group, name));
    }

    // ---- create ----

    @Override
    public String create(AzureClients cloud, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        String group = AzureKind.resourceGroup(env);
        String name = d.address().name();
        Map<String, Object> a = d.attributes();
        String subnetRef = (String) a.get("subnet");
        String subnetId = AzureKind.subnetId(cloud, env, subnetRef);
        List<ManagedClusterAgentPoolProfile> profiles = new ArrayList<>();
        profiles.add(new ManagedClusterAgentPoolProfile().withName(SYSTEM_POOL).withVmSize(SYSTEM_SIZE).withCount(1).withEnableAutoScaling(true)
            .withMinCount(1).withMaxCount(3).withMode(AgentPoolMode.SYSTEM).withOsType(OSType.LINUX).withType(AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS)
            .withVnetSubnetId(subnetId).withTags(new TreeMap<>(marker)));
        poolsByAksName(d).forEach((aks, p) -> profiles.add(profile(env, d.address(), subnetId, p)));
        String[] ranges = ranges(env, subnetRef);
        ManagedClusterInner mc = new ManagedClusterInner().withLocation(env.region()).withTags(AzureKind.allTags(marker, a))
            .withKubernetesVersion((String) a.get("version")).withDnsPrefix(dnsPrefix(env, name)).withEnableRbac(true)
            .withIdentity(identity(cloud, env, (String) a.get("identity")))
            .withNetworkProfile(new ContainerServiceNetworkProfile().withNetworkPlugin(NetworkPlugin.AZURE).withNetworkPluginMode(NetworkPluginMode.OVERLAY)
                .withServiceCidr(ranges[0]).withDnsServiceIp(ranges[1]).withPodCidr(ranges[2]))
            .withAgentPoolProfiles(profiles);
        String id = AzureKind.resourceId(cloud, env, "Microsoft.ContainerService/managedClusters", name);
        try {
            creating.put(id.toLowerCase(Locale.ROOT), clusters(cloud).beginCreateOrUpdate(group, name, mc));
        } catch (RuntimeException e) {
            // Made between the look and this call (a lost answer the SDK sent again): the next attempt finds it and checks its owner.
            if (busy(e)) throw new DriverException(d.address() + ": AKS cluster " + name + " is being created already; waiting for it", true, e);
            throw AzureErrors.translate("create AKS cluster " + name, e);
        }
        return id;
    }

    private static ManagedClusterAgentPoolProfile profile(Environment env, Address cluster, String subnetId, Map<String, Object> p) {
        String spec = (String) p.get("name");
        int min = ((Number) p.get("min")).intValue();
        ManagedClusterAgentPoolProfile profile = new ManagedClusterAgentPoolProfile().withName(poolName(spec)).withVmSize((String) p.get("machineType"))
            .withCount(min).withEnableAutoScaling(true).withMinCount(min).withMaxCount(((Number) p.get("max")).intValue())
            .withMode(AgentPoolMode.USER).withOsType(OSType.LINUX).withType(AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS).withVnetSubnetId(subnetId)
            .withTags(poolMarker(env, cluster, spec));
        if (Boolean.TRUE.equals(p.get("spot"))) {
            profile.withScaleSetPriority(ScaleSetPriority.SPOT).withScaleSetEvictionPolicy(ScaleSetEvictionPolicy.DELETE).withSpotMaxPrice(-1f);
        }
        return profile;
    }

    /** The same pool as an agent pool resource (a cluster's profile is the pool's properties with its name). */
    private static AgentPoolInner agentPool(ManagedClusterAgentPoolProfile profile) {
        try {
            Map<String, Object> props = new LinkedHashMap<>(InstanceKind.untyped(profile.toJsonString()));
            props.remove("name");
            return InstanceKind.model(Map.of("properties", props), AgentPoolInner::fromJson);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ManagedClusterIdentity identity(AzureClients cloud, Environment env, String identity) {
        if (identity == null) return new ManagedClusterIdentity().withType(ResourceIdentityType.SYSTEM_ASSIGNED);
        return new ManagedClusterIdentity().withType(ResourceIdentityType.USER_ASSIGNED)
            .withUserAssignedIdentities(Map.of(AzureKind.identityId(cloud, env, identity), new ManagedServiceIdentityUserAssignedIdentitiesValue()));
    }

    @Override
    public ObservedResource complete(AzureClients cloud, Environment env, String cloudId, ResourceSpec d, Map<String, String> marker) {
        String group = InstanceKind.groupOf(cloudId);
        String name = AzureKind.lastSegment(cloudId);
        SyncPoller<? extends PollResult<?>, ?> op = creating.remove(cloudId.toLowerCase(Locale.ROOT));
        if (op != null) finish("create AKS cluster " + name, op, clusterState(cloud, group, name));
        // A create an earlier run started may still be running: wait for it; one that failed is repaired.
        ManagedClusterInner mc = repairIfFailed(cloud, group, name, settledCluster(cloud, group, name));
        syncTags(cloud, group, name, mc, marker, d.attributes());
        // An adopted cluster (a killed run's) may lack pools the spec has: they are made now; another's of the same name is refused.
        Map<String, ManagedClusterAgentPoolProfile> have = new LinkedHashMap<>();
        mc.agentPoolProfiles().forEach(p -> have.put(p.name(), p));
        String subnetId = AzureKind.subnetId(cloud, env, (String) d.attributes().get("subnet"));
        for (Map.Entry<String, Map<String, Object>> e : poolsByAksName(d).entrySet()) {
            ManagedClusterAgentPoolProfile found = have.get(e.getKey());
            if (found == null) {
                createPool(cloud, group, name, profile(env, d.address(), subnetId, e.getValue()));
            } else if (ownPool(AzureKind.tags(found.tags()), env, d.address(), e.getKey()).isEmpty()) {
                throw new NotOwnedException(d.address() + ": node pool " + e.getKey() + " of AKS cluster " + name + " already exists and is "
                    + TagMarker.INSTANCE.describeOwner(AzureKind.tags(found.tags())) + "; refusing to change it");
            }
        }
        return observe(cloud, env, d.address(), awaitCluster(cloud, group, name));
    }

    private ManagedClusterInner awaitCluster(AzureClients cloud, String group, String name) {
        return InstanceKind.awaitSucceeded(timeout, "AKS cluster " + name, () -> get(cloud, group, name), ManagedClusterInner::provisioningState);
    }

    /** The cluster once no operation runs on it, in whatever state that left it. */
    private ManagedClusterInner settledCluster(AzureClients cloud, String group, String name) {
        return InstanceKind.settled(timeout, "AKS cluster " + name, () -> get(cloud, group, name), ManagedClusterInner::provisioningState);
    }

    private static Supplier<String> clusterState(AzureClients cloud, String group, String name) {
        return InstanceKind.stateOf("read AKS cluster " + name, () -> clusters(cloud).getByResourceGroup(group, name), ManagedClusterInner::provisioningState);
    }

    /**
     * A cluster whose last operation failed or was canceled is sent again as it is, AKS's documented
     * repair (a PUT of the current model makes AKS reconcile it); then it must succeed.
     */
    private ManagedClusterInner repairIfFailed(AzureClients cloud, String group, String name, ManagedClusterInner mc) {
        if (!InstanceKind.failedState(mc.provisioningState())) return mc;
        String what = "repair AKS cluster " + name + " (its last operation " + mc.provisioningState() + ")";
        finish(what, whenIdle(what, () -> clusters(cloud).beginCreateOrUpdate(group, name, mc)), clusterState(cloud, group, name));
        return awaitCluster(cloud, group, name);
    }

    private void syncTags(AzureClients cloud, String group, String name, ManagedClusterInner mc, Map<String, String> marker, Map<String, Object> want) {
        Optional<Map<String, String>> tags = AzureKind.tagsAfterSync(AzureKind.tags(mc.tags()), marker, want);
        if (tags.isEmpty()) return;
        finish("tags of AKS cluster " + name, whenIdle("update tags of AKS cluster " + name,
            () -> clusters(cloud).beginUpdateTags(group, name, new TagsObject().withTags(tags.get()))), clusterState(cloud, group, name));
    }

    // ---- operations ----

    /** Whether AKS refused because an operation on the cluster or one of its pools is running. */
    static boolean busy(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ManagementException m && m.getValue() != null) {
                String code = String.valueOf(m.getValue().getCode());
                String message = String.valueOf(m.getValue().getMessage());
                return code.equals("AnotherOperationInProgress") || code.equals("OperationNotAllowed") && message.contains("in progress");
            }
        }
        return false;
    }

    /**
     * Sends a change, waiting first for the operation AKS is running when it refuses with "Another operation
     * is in progress": someone else's, AKS's own (an upgrade), or this run's earlier attempt whose answer was lost.
     */
    private <T> T whenIdle(String what, Supplier<T> call) {
        List<T> out = new ArrayList<>(1);
        InstanceKind.until(timeout, what + " (AKS is busy with another operation on the cluster)", () -> {
            try {
                out.add(call.get());
                return Waiter.Status.ready("sent");
            } catch (RuntimeException e) {
                if (busy(e)) return Waiter.Status.pending("another operation in progress");
                throw AzureErrors.translate(what, e);
            }
        });
        return out.get(0);
    }

    /** Waits for an operation AKS accepted; its failure becomes one line, its timeout a retryable one naming {@code state}. */
    private void finish(String what, SyncPoller<? extends PollResult<?>, ?> op, Supplier<String> state) {
        InstanceKind.finish(timeout, what, op, state);
    }

    private static Supplier<String> poolState(AzureClients cloud, String group, String cluster, String pool) {
        return InstanceKind.stateOf("read node pool " + pool + " of AKS cluster " + cluster, () -> pools(cloud).get(group, cluster, pool),
            AgentPoolInner::provisioningState);
    }

    private void createPool(AzureClients cloud, String group, String cluster, ManagedClusterAgentPoolProfile profile) {
        String what = "create node pool " + profile.name() + " of AKS cluster " + cluster;
        finish(what, whenIdle(what, () -> pools(cloud).beginCreateOrUpdate(group, cluster, profile.name(), agentPool(profile))),
            poolState(cloud, group, cluster, profile.name()));
    }

    private void deletePool(AzureClients cloud, String group, String cluster, String pool) {
        String what = "delete node pool " + pool + " of AKS cluster " + cluster;
        Optional<SyncPoller<PollResult<Void>, Void>> op = whenIdle(what, () -> {
            try {
                return Optional.of(pools(cloud).beginDelete(group, cluster, pool));
            } catch (RuntimeException e) {
                if (AzureErrors.notFound(e)) return Optional.empty(); // already gone
                throw e;
            }
        });
        op.ifPresent(o -> finish(what, o, poolState(cloud, group, cluster, pool)));
    }

    // ---- update ----

    @Override
    public ObservedResource update(AzureClients cloud, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        String group = InstanceKind.groupOf(current.cloudId());
        String name = AzureKind.lastSegment(current.cloudId());
        Map<String, Map<String, Object>> want = poolsByAksName(d);
        Set<String> added = new TreeSet<>();
        Set<String> removed = new TreeSet<>();
        Set<String> rescaled = new TreeSet<>();
        Set<String> replaced = new TreeSet<>();
        boolean tags = false;
        boolean version = false;
        boolean identity = false;
        for (AttributeChange ch : changes) {
            Matcher m = POOL_PATH.matcher(ch.path());
            if (ch.path().equals("tags") || ch.path().startsWith("tags.")) {
                tags = true;
            } else if (ch.path().equals("version")) {
                version = true;
            } else if (ch.path().equals("identity")) {
                identity = true;
            } else if (ch.path().equals("provisioningState")) {
                continue; // a failed cluster: repaired below, before anything else
            } else if (ch.path().equals("nodePools")) {
                continue; // the same pools in another order
            } else if (m.matches() && ch.forcesReplacement()) {
                replaced.add(poolName(m.group(1))); // the plan's node_pool replace: AKS cannot change it in place
            } else if (m.matches() && m.group(2) == null) {
                (ch.after() == null ? removed : added).add(poolName(m.group(1)));
            } else if (m.matches() && (m.group(2).equals("min") || m.group(2).equals("max"))) {
                rescaled.add(poolName(m.group(1)));
            } else {
                // The planner replaces what AKS cannot change; anything else here is a rule missing from rules().
                throw new DriverException(d.address() + ": " + ch.path() + " cannot be changed in place on AKS", false);
            }
        }
        // A change a lost answer left running finishes first; a cluster it (or anything) left Failed is repaired before any change.
        ManagedClusterInner mc = repairIfFailed(cloud, group, name, settledCluster(cloud, group, name));
        Map<String, String> marker = TagMarker.INSTANCE.marker(env.name(), d.address());
        // An import marks the pools it takes before the cluster: a retry after a failure in between still sees an unmarked cluster.
        if (importing(current.tags())) markAdopted(cloud, env, d.address(), group, name, mc);
        if (tags) syncTags(cloud, group, name, mc, marker, d.attributes());
        if (version) upgrade(cloud, env, d, group, name);
        if (identity) {
            ManagedClusterInner now = awaitCluster(cloud, group, name);
            now.withIdentity(identity(cloud, env, (String) d.attributes().get("identity")));
            String what = "change the identity of AKS cluster " + name;
            finish(what, whenIdle(what, () -> clusters(cloud).beginCreateOrUpdate(group, name, now)), clusterState(cloud, group, name));
        }
        removed.addAll(replaced);
        added.addAll(replaced);
        rescaled.removeAll(replaced);
        Map<String, ManagedClusterAgentPoolProfile> have = new LinkedHashMap<>();
        awaitCluster(cloud, group, name).agentPoolProfiles().forEach(p -> have.put(p.name(), p));
        for (String pool : removed) {
            ManagedClusterAgentPoolProfile p = have.get(pool);
            if (p == null) continue;
            requireOwnPool(env, d.address(), name, p, "delete");
            deletePool(cloud, group, name, pool);
        }
        for (String pool : rescaled) {
            if (!want.containsKey(pool) || added.contains(pool)) continue;
            Optional.ofNullable(have.get(pool)).ifPresent(p -> requireOwnPool(env, d.address(), name, p, "change"));
            rescale(cloud, group, name, pool, want.get(pool));
        }
        String subnetId = AzureKind.subnetId(cloud, env, (String) d.attributes().get("subnet"));
        for (String pool : added) {
            if (!want.containsKey(pool)) continue;
            ManagedClusterAgentPoolProfile p = have.get(pool);
            if (p != null && !replaced.contains(pool)) {
                // There already (an earlier attempt's whose answer was lost, or someone else's): only this cluster's own is used.
                requireOwnPool(env, d.address(), name, p, "change");
                continue;
            }
            createPool(cloud, group, name, profile(env, d.address(), subnetId, want.get(pool)));
        }
        return observe(cloud, env, d.address(), awaitCluster(cloud, group, name));
    }

    /** The pools an import takes ({@link #adoptablePool}) get their marker: the spec pool's, or the cluster's own for the System pool. */
    private void markAdopted(AzureClients cloud, Environment env, Address cluster, String group, String name, ManagedClusterInner mc) {
        for (ManagedClusterAgentPoolProfile p : mc.agentPoolProfiles() == null ? List.<ManagedClusterAgentPoolProfile>of() : mc.agentPoolProfiles()) {
            Optional<String> spec = adoptablePool(env, cluster, p.name(), AzureKind.tags(p.tags()), p.mode());
            if (spec.isEmpty()) continue;
            Map<String, String> tags = new TreeMap<>(AzureKind.tags(p.tags()));
            tags.putAll(spec.get().equals(SYSTEM_POOL) ? TagMarker.INSTANCE.marker(env.name(), cluster) : poolMarker(env, cluster, spec.get()));
            String what = "mark node pool " + p.name() + " of AKS cluster " + name + " as " + cluster + "'s";
            AgentPoolInner pool = AzureErrors.call("read node pool " + p.name() + " of AKS cluster " + name, () -> pools(cloud).get(group, name, p.name()));
            finish(what, whenIdle(what, () -> pools(cloud).beginCreateOrUpdate(group, name, p.name(), pool.withTags(tags))),
                poolState(cloud, group, name, p.name()));
        }
    }

    private static void requireOwnPool(Environment env, Address cluster, String name, ManagedClusterAgentPoolProfile p, String verb) {
        if (ownPool(AzureKind.tags(p.tags()), env, cluster, p.name()).isEmpty()) {
            throw new NotOwnedException(cluster + ": node pool " + p.name() + " of AKS cluster " + name + " is "
                + TagMarker.INSTANCE.describeOwner(AzureKind.tags(p.tags())) + "; refusing to " + verb + " it");
        }
    }

    /** The autoscaler's new bounds; a node count outside them moves to the nearest bound, as AKS wants. */
    private void rescale(AzureClients cloud, String group, String cluster, String pool, Map<String, Object> spec) {
        String what = "change the autoscaler of node pool " + pool + " of AKS cluster " + cluster;
        AgentPoolInner p = AzureErrors.call("read node pool " + pool + " of AKS cluster " + cluster, () -> pools(cloud).get(group, cluster, pool));
        int min = ((Number) spec.get("min")).intValue();
        int max = ((Number) spec.get("max")).intValue();
        int count = p.count() == null ? min : Math.max(min, Math.min(max, p.count()));
        p.withEnableAutoScaling(true).withMinCount(min).withMaxCount(max).withCount(count);
        finish(what, whenIdle(what, () -> pools(cloud).beginCreateOrUpdate(group, cluster, pool, p)), poolState(cloud, group, cluster, pool));
    }

    /**
     * Moves the control plane and this cluster's pools to the spec's minor, one minor at a time (AKS
     * skips none). AKS never downgrades: asking for an older minor is an error that says so.
     */
    private ManagedClusterInner upgrade(AzureClients cloud, Environment env, ResourceSpec d, String group, String name) {
        String target = (String) d.attributes().get("version");
        ManagedClusterInner mc = awaitCluster(cloud, group, name);
        String running = mc.currentKubernetesVersion() != null ? mc.currentKubernetesVersion() : mc.kubernetesVersion();
        int from = minorNumber(running);
        int to = minorNumber(target);
        if (to < from) {
            throw new DriverException(d.address() + ": AKS cluster " + name + " runs " + running + " and AKS cannot downgrade it to " + target
                + "; set version: \"" + minor(running) + "\" in the spec, or rename the cluster to make a new one", false);
        }
        String major = target.substring(0, target.indexOf('.'));
        for (int m = from + 1; m <= to; m++) {
            String v = major + "." + m;
            ManagedClusterInner now = awaitCluster(cloud, group, name);
            now.withKubernetesVersion(v);
            for (ManagedClusterAgentPoolProfile p : now.agentPoolProfiles()) {
                if (ownPool(AzureKind.tags(p.tags()), env, d.address(), p.name()).isPresent()) p.withOrchestratorVersion(v);
            }
            String what = "upgrade AKS cluster " + name + " to " + v;
            finish(what, whenIdle(what, () -> clusters(cloud).beginCreateOrUpdate(group, name, now)), clusterState(cloud, group, name));
            mc = awaitCluster(cloud, group, name);
        }
        return mc;
    }

    // ---- delete ----

    @Override
    public void delete(AzureClients cloud, Environment env, ObservedResource current) {
        String group = InstanceKind.groupOf(current.cloudId());
        String name = AzureKind.lastSegment(current.cloudId());
        Optional<ManagedClusterInner> mc = get(cloud, group, name);
        if (mc.isEmpty()) return;
        // Checked before anything goes: deleting the cluster would take another team's node pool with it.
        List<String> foreign = mc.get().agentPoolProfiles().stream()
            .filter(p -> ownPool(AzureKind.tags(p.tags()), env, current.address(), p.name()).isEmpty())
            .map(ManagedClusterAgentPoolProfile::name).toList();
        if (!foreign.isEmpty()) {
            throw new DriverException(current.address() + ": AKS cluster " + name + " holds node pool " + String.join(", ", foreign)
                + " that mlctl does not manage; delete it first", false);
        }
        String what = "delete AKS cluster " + name;
        Optional<SyncPoller<PollResult<Void>, Void>> op = whenIdle(what, () -> {
            try {
                return Optional.of(clusters(cloud).beginDelete(group, name));
            } catch (RuntimeException e) {
                if (AzureErrors.notFound(e)) return Optional.empty();
                throw e;
            }
        });
        op.ifPresent(o -> finish(what, o, clusterState(cloud, group, name)));
    }
}
