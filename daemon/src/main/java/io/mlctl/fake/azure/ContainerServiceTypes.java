package io.mlctl.fake.azure;

import static io.mlctl.fake.azure.ComputeTypes.at;
import static io.mlctl.fake.azure.ComputeTypes.listAt;
import static io.mlctl.fake.azure.ComputeTypes.mapAt;
import static io.mlctl.fake.azure.ComputeTypes.sameText;
import static io.mlctl.fake.azure.ComputeTypes.text;

import com.azure.resourcemanager.containerservice.fluent.models.AgentPoolInner;
import com.azure.resourcemanager.containerservice.fluent.models.ManagedClusterInner;
import io.mlctl.spec.Cidr;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The fake's AKS: {@code Microsoft.ContainerService/managedClusters} and their {@code agentPools}, which
 * AKS shows twice (the cluster's {@code agentPoolProfiles} and the pool resources) and the fake keeps
 * alike. It refuses what AKS refuses: a cluster without a System pool, a Spot System pool, pool names
 * AKS does not take, autoscaler counts out of order, a subnet or identity that does not exist, pools in
 * two virtual networks, a service CIDR over a node subnet, a change of {@code dnsPrefix}, network plugin
 * or service CIDR, of a pool's VM size, subnet or priority, a downgrade or a skipped minor version, the
 * deletion of the last System pool, and every change while another operation on the cluster or one of
 * its pools runs (409 {@code OperationNotAllowed}, "Another operation ... is in progress"). Spot pools
 * get the taint and label AKS adds.
 */
final class ContainerServiceTypes {
    static final String CLUSTER = "Microsoft.ContainerService/managedClusters";
    static final String POOL = CLUSTER + "/agentPools";
    static final String SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule";
    static final String SPOT_LABEL = "kubernetes.azure.com/scalesetpriority";
    /** The minors the fake's AKS offers, each with the patch a MAJOR.MINOR alias resolves to. */
    static final Map<String, String> VERSIONS = Map.of("1.28", "1.28.15", "1.29", "1.29.9", "1.30", "1.30.5", "1.31", "1.31.1");
    private static final String POOL_NAME = "[a-z][a-z0-9]{0,11}";
    private static final Set<String> BUSY = Set.of("Creating", "Updating", "Deleting", "Scaling", "Upgrading", "Starting", "Stopping");

    private ContainerServiceTypes() {
    }

    static List<ArmType> all() {
        return List.of(new ManagedClusters(), new AgentPools());
    }

    private static String minor(String version) {
        if (version == null) return null;
        String[] p = version.split("\\.");
        return p.length >= 2 ? p[0] + "." + p[1] : version;
    }

    private static int minorNumber(String version) {
        return Integer.parseInt(minor(version).split("\\.")[1]);
    }

    private static ArmError busy(String what, String state) {
        return ArmError.conflict("OperationNotAllowed", "Operation is not allowed: Another " + what + " (" + state + ") is in progress, please wait "
            + "for it to finish before starting a new operation. See https://aka.ms/aks-pending-operation for more details");
    }

    private static String state(Map<String, Object> r) {
        return text(r, "properties.provisioningState");
    }

    /** 409 while the cluster or any of its pools (other than {@code except}) is busy. */
    private static void requireIdle(ArmFake arm, String clusterId, String except, boolean checkCluster) {
        if (checkCluster) {
            arm.get(clusterId).filter(c -> BUSY.contains(state(c))).ifPresent(c -> {
                throw busy("operation", state(c));
            });
        }
        for (Map<String, Object> p : pools(arm, clusterId)) {
            if (p.get("name").toString().equalsIgnoreCase(except)) continue;
            if (BUSY.contains(state(p))) throw busy("agentpool operation", p.get("name") + " - " + state(p));
        }
    }

    private static List<Map<String, Object>> pools(ArmFake arm, String clusterId) {
        String prefix = ArmId.key(clusterId) + "/agentpools/";
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> p : arm.list(POOL)) if (ArmId.key(String.valueOf(p.get("id"))).startsWith(prefix)) out.add(p);
        return out;
    }

    /** A pool as the cluster lists it ({@code name} with the pool's properties), from a pool resource or body. */
    private static Map<String, Object> profile(String name, Map<String, Object> properties) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("name", name);
        p.putAll(properties);
        return p;
    }

    private static String vnetOf(String subnetId) {
        int at = subnetId.toLowerCase(Locale.ROOT).indexOf("/subnets/");
        return at < 0 ? subnetId : subnetId.substring(0, at);
    }

    private static Cidr cidr(String field, String value) {
        try {
            return Cidr.parse(value);
        } catch (IllegalArgumentException e) {
            throw ArmError.badRequest("InvalidParameter", "The value of parameter networkProfile." + field + " is invalid: " + e.getMessage());
        }
    }

    private static ArmError changeNotAllowed(String property, String pool) {
        return ArmError.badRequest("PropertyChangeNotAllowed", "Changing property '" + property + "' is not allowed"
            + (pool == null ? "" : " on agent pool '" + pool + "'") + ".");
    }

    /** What AKS refuses in one pool; {@code existing} is the pool as it is, when it exists. */
    private static void checkPool(ArmFake arm, Map<String, Object> p, Optional<Map<String, Object>> existing, String controlPlane) {
        String name = String.valueOf(p.get("name"));
        if (!name.matches(POOL_NAME)) {
            throw ArmError.badRequest("InvalidParameter", "The value of parameter agentPoolProfile.name is invalid: '" + name + "'. Agent pool "
                + "names must start with a lowercase letter, have max length of 12, and only have characters a-z0-9.");
        }
        String size = text(p, "vmSize");
        if (size == null) throw ArmError.badRequest("InvalidParameter", "Required parameter 'vmSize' of agent pool '" + name + "' is missing.");
        ComputeTypes.Size known = ComputeTypes.SIZES.get(size.toLowerCase(Locale.ROOT));
        if (known == null) throw ArmError.badRequest("InvalidParameter", "The VM size of " + size + " is not allowed in your subscription in location.");
        boolean system = "System".equalsIgnoreCase(text(p, "mode"));
        boolean spot = "Spot".equalsIgnoreCase(text(p, "scaleSetPriority"));
        if (system && spot) throw ArmError.badRequest("InvalidParameter", "Spot agent pool '" + name + "' cannot be a System mode agent pool.");
        if (system && known.cores() < 2) {
            throw ArmError.badRequest("InvalidParameter", "System node pool '" + name + "' must use a VM SKU with at least 2 vCPUs and 4GB of memory.");
        }
        Object count = p.get("count");
        int min = p.get("minCount") instanceof Number n ? n.intValue() : -1;
        int max = p.get("maxCount") instanceof Number n ? n.intValue() : -1;
        if (Boolean.TRUE.equals(p.get("enableAutoScaling"))) {
            if (min < 0 || max < 0) {
                throw ArmError.badRequest("InvalidParameter", "Agent pool '" + name + "': minCount and maxCount are required when autoscaling is on.");
            }
            if (min > max) throw ArmError.badRequest("InvalidParameter", "Agent pool '" + name + "': minCount (" + min + ") must be <= maxCount (" + max + ").");
            if (max > 1000) throw ArmError.badRequest("InvalidParameter", "Agent pool '" + name + "': maxCount must be at most 1000.");
            if (count instanceof Number c && (c.intValue() < min || c.intValue() > max)) {
                throw ArmError.badRequest("InvalidParameter", "Agent pool '" + name + "': count (" + c + ") must be between minCount (" + min
                    + ") and maxCount (" + max + ").");
            }
        } else if (min >= 0 || max >= 0) {
            throw ArmError.badRequest("InvalidParameter", "Agent pool '" + name + "': minCount and maxCount can be set only with enableAutoScaling.");
        }
        int nodes = count instanceof Number c ? c.intValue() : Math.max(min, 1);
        if (system && (nodes < 1 || (min >= 0 && min < 1))) {
            throw ArmError.badRequest("InvalidParameter", "System agent pool '" + name + "' must have at least 1 node (minCount >= 1).");
        }
        if (spot) {
            String eviction = text(p, "scaleSetEvictionPolicy");
            if (eviction != null && !eviction.equals("Delete") && !eviction.equals("Deallocate")) {
                throw ArmError.badRequest("InvalidParameter", "Agent pool '" + name + "': scaleSetEvictionPolicy must be Delete or Deallocate.");
            }
            if (p.get("spotMaxPrice") instanceof Number price && price.doubleValue() != -1 && price.doubleValue() <= 0) {
                throw ArmError.badRequest("InvalidParameter", "Agent pool '" + name + "': spotMaxPrice must be -1 or above 0.");
            }
        }
        String subnet = text(p, "vnetSubnetID");
        if (subnet != null && arm.get(subnet).isEmpty()) throw ComputeTypes.missingReference("agent pool " + name, subnet);
        String version = text(p, "orchestratorVersion");
        if (version != null && controlPlane != null) {
            if (!VERSIONS.containsKey(minor(version)) || minorNumber(version) > minorNumber(controlPlane) || minorNumber(version) < minorNumber(controlPlane) - 2) {
                throw ArmError.badRequest("InvalidParameter", "Agent pool '" + name + "': orchestratorVersion " + version + " must be within two minor "
                    + "versions of the control plane's " + controlPlane + " and not above it.");
            }
        }
        if (existing.isPresent()) {
            Map<String, Object> e = existing.get();
            for (String f : List.of("vmSize", "vnetSubnetID", "scaleSetPriority", "osType")) {
                Object now = p.get(f);
                boolean defaulted = now == null && !f.equals("vmSize");
                if (!defaulted && !sameText(now, e.get(f))) {
                    throw changeNotAllowed(f, name);
                }
            }
        }
    }

    /** Defaults and read-only values of a pool, as AKS fills them. */
    @SuppressWarnings("unchecked")
    private static void storePool(Map<String, Object> p, Map<String, Object> cluster, Optional<Map<String, Object>> existing, boolean first) {
        String version = text(cluster, "properties.kubernetesVersion");
        String current = text(cluster, "properties.currentKubernetesVersion");
        p.putIfAbsent("osType", "Linux");
        p.putIfAbsent("osSKU", "Ubuntu");
        p.putIfAbsent("type", "VirtualMachineScaleSets");
        p.putIfAbsent("mode", existing.map(e -> e.get("mode")).orElse(first ? "System" : "User"));
        p.putIfAbsent("osDiskSizeGB", 128);
        p.putIfAbsent("scaleSetPriority", "Regular");
        if (!p.containsKey("count")) p.put("count", existing.map(e -> e.get("count")).orElse(p.get("minCount") instanceof Number n ? n : 1));
        p.putIfAbsent("orchestratorVersion", existing.map(e -> e.get("orchestratorVersion")).orElse(version));
        String pv = String.valueOf(p.get("orchestratorVersion"));
        p.put("currentOrchestratorVersion", pv.split("\\.").length >= 3 ? pv
            : minor(pv).equals(minor(current)) && current != null ? current : VERSIONS.getOrDefault(minor(pv), pv + ".0"));
        p.put("nodeImageVersion", "AKSUbuntu-2204gen2containerd-202410.09.0");
        p.put("powerState", Map.of("code", "Running"));
        String plugin = text(cluster, "properties.networkProfile.networkPlugin");
        boolean overlay = "overlay".equalsIgnoreCase(text(cluster, "properties.networkProfile.networkPluginMode"));
        p.putIfAbsent("maxPods", "azure".equals(plugin) && !overlay ? 30 : overlay ? 250 : 110);
        if ("Spot".equals(p.get("scaleSetPriority"))) {
            p.putIfAbsent("scaleSetEvictionPolicy", "Delete");
            p.putIfAbsent("spotMaxPrice", -1);
            List<Object> taints = new ArrayList<>(p.get("nodeTaints") instanceof List<?> l ? (List<Object>) l : List.of());
            if (!taints.contains(SPOT_TAINT)) taints.add(SPOT_TAINT);
            p.put("nodeTaints", taints);
            Map<String, Object> labels = new LinkedHashMap<>(p.get("nodeLabels") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of());
            labels.put(SPOT_LABEL, "spot");
            p.put("nodeLabels", labels);
        }
    }

    // ---- managed clusters ------------------------------------------------------------------------

    static final class ManagedClusters implements ArmType {
        @Override
        public String type() {
            return CLUSTER;
        }

        @Override
        public Class<?> model() {
            return ManagedClusterInner.class;
        }

        @Override
        public Class<?> patchModel() {
            return com.azure.resourcemanager.containerservice.models.TagsObject.class; // AKS's PATCH (updateTags) takes tags only
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            requireIdle(arm, id.id(), null, false);
            String dns = text(body, "properties.dnsPrefix");
            if (existing.isEmpty() && dns == null && text(body, "properties.fqdnSubdomain") == null) {
                throw ArmError.badRequest("InvalidParameter", "Either dnsPrefix or fqdnSubdomain must be specified.");
            }
            if (dns != null && !dns.matches("[a-zA-Z0-9]|[a-zA-Z0-9][-a-zA-Z0-9]{0,52}[a-zA-Z0-9]")) {
                throw ArmError.badRequest("InvalidDnsPrefix", "DNS prefix '" + dns + "' is invalid: 1 to 54 letters, digits and hyphens, starting and "
                    + "ending with a letter or digit.");
            }
            if (existing.isPresent() && dns != null && !dns.equalsIgnoreCase(text(existing.get(), "properties.dnsPrefix"))) {
                throw changeNotAllowed("dnsPrefix", null);
            }
            String version = text(body, "properties.kubernetesVersion");
            if (version != null && !VERSIONS.containsKey(minor(version))) {
                throw ArmError.badRequest("AgentPoolK8sVersionNotSupported", "Version " + version + " is not supported in this region. Please use "
                    + "[az aks get-versions] command to get the supported version list in this region.");
            }
            String was = existing.map(e -> text(e, "properties.currentKubernetesVersion")).orElse(null);
            if (was != null && version != null && minorNumber(version) != minorNumber(was)) {
                if (minorNumber(version) < minorNumber(was)) {
                    throw ArmError.badRequest("NotAllowedUpgrade", "Upgrading Kubernetes version " + was + " to " + version + " is not allowed: "
                        + "downgrades are not supported.");
                }
                if (minorNumber(version) > minorNumber(was) + 1) {
                    throw ArmError.badRequest("NotAllowedUpgrade", "Upgrading Kubernetes version " + was + " to " + version + " is not allowed: "
                        + "minor versions cannot be skipped.");
                }
            }
            ComputeTypes.requireIdentities(arm, body, id.id());
            Object ids = at(body, "identity.userAssignedIdentities");
            if (ids instanceof Map<?, ?> m && m.values().stream().filter(v -> v != null).count() > 1) {
                throw ArmError.badRequest("BadRequest", "The managed cluster takes only one user assigned identity for its control plane.");
            }
            checkNetwork(body, existing);
            List<Map<String, Object>> profiles = listAt(body, "properties.agentPoolProfiles");
            if (existing.isEmpty() && profiles.isEmpty()) {
                throw ArmError.badRequest("InvalidParameter", "The agentPoolProfiles of a new managed cluster must name at least one agent pool.");
            }
            Map<String, Map<String, Object>> before = new LinkedHashMap<>();
            existing.ifPresent(e -> listAt(e, "properties.agentPoolProfiles").forEach(p -> before.put(String.valueOf(p.get("name")), p)));
            if (!profiles.isEmpty()) {
                for (String old : before.keySet()) {
                    if (profiles.stream().noneMatch(p -> old.equals(p.get("name")))) {
                        throw ArmError.badRequest("InvalidParameter", "Agent pool '" + old + "' is missing from agentPoolProfiles: a managed cluster "
                            + "PUT cannot delete agent pools (use the agent pools API).");
                    }
                }
                String controlPlane = version != null ? version : was != null ? was : "1.30";
                List<String> names = new ArrayList<>();
                boolean system = false;
                for (int i = 0; i < profiles.size(); i++) {
                    Map<String, Object> p = new LinkedHashMap<>(profiles.get(i));
                    if (names.contains(String.valueOf(p.get("name")))) {
                        throw ArmError.badRequest("InvalidParameter", "Agent pool name '" + p.get("name") + "' is used twice.");
                    }
                    names.add(String.valueOf(p.get("name")));
                    if (!p.containsKey("mode") && existing.isEmpty() && i == 0) p.put("mode", "System");
                    if (!p.containsKey("mode")) p.put("mode", Optional.ofNullable(before.get(String.valueOf(p.get("name")))).map(b -> b.get("mode")).orElse("User"));
                    checkPool(arm, p, Optional.ofNullable(before.get(String.valueOf(p.get("name")))), controlPlane);
                    system |= "System".equalsIgnoreCase(String.valueOf(p.get("mode")));
                }
                if (!system) throw ArmError.badRequest("InvalidParameter", "A managed cluster must have at least one agent pool in System mode.");
                checkSubnets(arm, body, profiles);
            }
        }

        private static void checkNetwork(Map<String, Object> body, Optional<Map<String, Object>> existing) {
            String plugin = text(body, "properties.networkProfile.networkPlugin");
            if (plugin != null && !Set.of("azure", "kubenet", "none").contains(plugin)) {
                throw ArmError.badRequest("InvalidParameter", "The value of parameter networkProfile.networkPlugin is invalid: " + plugin + ".");
            }
            String service = text(body, "properties.networkProfile.serviceCidr");
            String dns = text(body, "properties.networkProfile.dnsServiceIP");
            if (service != null && dns != null && !cidr("serviceCidr", service).contains(cidr("dnsServiceIP", dns + "/32"))) {
                throw ArmError.badRequest("InvalidParameter", "The DNS service IP " + dns + " must be within the service CIDR " + service + ".");
            }
            if (existing.isEmpty()) return;
            for (String f : List.of("networkPlugin", "networkPluginMode", "serviceCidr", "podCidr")) {
                Object now = at(body, "properties.networkProfile." + f);
                if (now != null && !sameText(now, at(existing.get(), "properties.networkProfile." + f))) throw changeNotAllowed("networkProfile." + f, null);
            }
        }

        /** One virtual network for all pools, and service and pod ranges clear of the node subnets. */
        private static void checkSubnets(ArmFake arm, Map<String, Object> body, List<Map<String, Object>> profiles) {
            String vnet = null;
            int withSubnet = 0;
            for (Map<String, Object> p : profiles) {
                String s = text(p, "vnetSubnetID");
                if (s == null) continue;
                withSubnet++;
                if (vnet != null && !vnet.equalsIgnoreCase(vnetOf(s))) {
                    throw ArmError.badRequest("InvalidParameter", "All agent pools must use subnets of the same virtual network.");
                }
                vnet = vnetOf(s);
                String prefix = arm.get(s).map(x -> text(x, "properties.addressPrefix")).orElse(null);
                if (prefix == null) continue;
                for (String f : List.of("serviceCidr", "podCidr")) {
                    String range = text(body, "properties.networkProfile." + f);
                    if (range != null && cidr(f, range).overlaps(cidr("addressPrefix", prefix))) {
                        String code = f.equals("serviceCidr") ? "ServiceCidrOverlapExistingSubnetsCidr" : "PodCidrOverlapExistingSubnetsCidr";
                        throw ArmError.badRequest(code, "The specified " + f + " " + range + " is invalid as it overlaps with subnet " + s + " ("
                            + prefix + ").");
                    }
                }
            }
            if (withSubnet > 0 && withSubnet < profiles.size()) {
                throw ArmError.badRequest("InvalidParameter", "Either all agent pools or none must give a vnetSubnetID.");
            }
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> p = ArmFake.properties(body);
            String version = text(body, "properties.kubernetesVersion");
            if (version == null) p.put("kubernetesVersion", version = existing.map(e -> text(e, "properties.kubernetesVersion")).orElse("1.30"));
            String was = existing.map(e -> text(e, "properties.currentKubernetesVersion")).orElse(null);
            p.put("currentKubernetesVersion", version.split("\\.").length >= 3 ? version
                : was != null && minor(was).equals(minor(version)) ? was : VERSIONS.get(minor(version)));
            if (p.get("dnsPrefix") == null) p.put("dnsPrefix", existing.map(e -> at(e, "properties.dnsPrefix")).orElse(id.name()));
            p.put("fqdn", p.get("dnsPrefix") + "-" + UUID.nameUUIDFromBytes(id.key().getBytes()).toString().substring(0, 8) + ".hcp."
                + ArmFake.norm(String.valueOf(body.get("location"))) + ".azmk8s.io");
            p.putIfAbsent("nodeResourceGroup", "MC_" + id.resourceGroup() + "_" + id.name() + "_" + ArmFake.norm(String.valueOf(body.get("location"))));
            p.putIfAbsent("enableRBAC", true);
            p.put("powerState", Map.of("code", "Running"));
            Map<String, Object> net = mapAt(body, "properties.networkProfile");
            existing.ifPresent(e -> {
                if (at(e, "properties.networkProfile") instanceof Map<?, ?> old) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> o = (Map<String, Object>) old;
                    o.forEach(net::putIfAbsent);
                }
            });
            net.putIfAbsent("networkPlugin", "kubenet");
            net.putIfAbsent("serviceCidr", "10.0.0.0/16");
            net.putIfAbsent("dnsServiceIP", "10.0.0.10");
            if ("kubenet".equals(net.get("networkPlugin")) || "overlay".equalsIgnoreCase(String.valueOf(net.get("networkPluginMode")))) {
                net.putIfAbsent("podCidr", "10.244.0.0/16");
            }
            net.putIfAbsent("loadBalancerSku", "standard");
            net.putIfAbsent("outboundType", "loadBalancer");
            if (!(body.get("identity") instanceof Map<?, ?>)) {
                body.put("identity", existing.map(e -> e.get("identity")).orElseGet(() -> new LinkedHashMap<>(Map.of("type", "SystemAssigned"))));
            }
            ComputeTypes.storeIdentities(arm, body);
            if (body.get("identity") instanceof Map<?, ?> identity && "SystemAssigned".equals(identity.get("type"))) {
                Map<String, Object> sys = mapAt(body, "identity");
                sys.putIfAbsent("principalId", UUID.nameUUIDFromBytes(("p" + id.key()).getBytes()).toString());
                sys.putIfAbsent("tenantId", "72f988bf-86f1-41af-91ab-2d7cd011db47");
            }
            Map<String, Object> kubelet = mapAt(body, "properties.identityProfile.kubeletidentity");
            kubelet.put("resourceId", "/subscriptions/" + id.subscription() + "/resourcegroups/" + p.get("nodeResourceGroup")
                + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + id.name() + "-agentpool");
            kubelet.putIfAbsent("clientId", UUID.nameUUIDFromBytes(("k" + id.key()).getBytes()).toString());
            kubelet.putIfAbsent("objectId", UUID.nameUUIDFromBytes(("o" + id.key()).getBytes()).toString());
            Map<String, Map<String, Object>> before = new LinkedHashMap<>();
            existing.ifPresent(e -> listAt(e, "properties.agentPoolProfiles").forEach(x -> before.put(String.valueOf(x.get("name")), x)));
            List<Map<String, Object>> profiles = listAt(body, "properties.agentPoolProfiles");
            if (profiles.isEmpty()) profiles = new ArrayList<>(before.values());
            for (int i = 0; i < profiles.size(); i++) {
                storePool(profiles.get(i), body, Optional.ofNullable(before.get(String.valueOf(profiles.get(i).get("name")))), i == 0 && existing.isEmpty());
            }
            p.put("agentPoolProfiles", profiles);
            return body;
        }

        /** The pool resources follow the cluster's profiles (made with it, upgraded with it, in its state). */
        @Override
        public void afterWrite(ArmFake arm, ArmId id, Optional<Map<String, Object>> now) {
            if (now.isEmpty()) return; // its pools went with it
            Map<String, Object> cluster = now.get();
            String clusterState = state(cluster);
            List<String> names = new ArrayList<>();
            for (Map<String, Object> profile : listAt(cluster, "properties.agentPoolProfiles")) {
                String name = String.valueOf(profile.get("name"));
                names.add(name.toLowerCase(Locale.ROOT));
                Map<String, Object> pool = new LinkedHashMap<>();
                String poolId = id.id() + "/agentPools/" + name;
                pool.put("id", poolId);
                pool.put("name", name);
                pool.put("type", POOL);
                Map<String, Object> props = new LinkedHashMap<>(profile);
                props.remove("name");
                props.put("provisioningState", clusterState);
                pool.put("properties", props);
                arm.put(poolId, pool);
            }
            for (Map<String, Object> p : pools(arm, id.id())) {
                if (!names.contains(String.valueOf(p.get("name")).toLowerCase(Locale.ROOT))) arm.remove(String.valueOf(p.get("id")));
            }
        }
    }

    // ---- agent pools ------------------------------------------------------------------------------

    static final class AgentPools implements ArmType {
        @Override
        public String type() {
            return POOL;
        }

        @Override
        public Class<?> model() {
            return AgentPoolInner.class;
        }

        @Override
        public boolean tracked() {
            return false;
        }

        /** AKS's agent pools API has no PATCH: a change is a PUT of the whole pool. */
        @Override
        public boolean patchable() {
            return false;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            String clusterId = id.parent();
            requireIdle(arm, clusterId, id.name(), true);
            Map<String, Object> cluster = arm.get(clusterId).orElseThrow();
            Map<String, Object> p = profile(id.name(), ArmFake.properties(body));
            if (!p.containsKey("mode")) p.put("mode", existing.map(e -> text(e, "properties.mode")).orElse("User"));
            Optional<Map<String, Object>> before = existing.map(e -> profile(id.name(), ArmFake.properties(e)));
            checkPool(arm, p, before, text(cluster, "properties.currentKubernetesVersion"));
            List<Map<String, Object>> all = new ArrayList<>();
            boolean system = "System".equalsIgnoreCase(String.valueOf(p.get("mode")));
            for (Map<String, Object> other : listAt(cluster, "properties.agentPoolProfiles")) {
                if (String.valueOf(other.get("name")).equalsIgnoreCase(id.name())) continue;
                all.add(other);
                system |= "System".equalsIgnoreCase(text(other, "mode"));
            }
            if (!system) throw ArmError.badRequest("InvalidParameter", "A managed cluster must have at least one agent pool in System mode.");
            all.add(p);
            ManagedClusters.checkSubnets(arm, cluster, all);
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> cluster = arm.get(id.parent()).orElseThrow();
            Map<String, Object> props = ArmFake.properties(body);
            storePool(props, cluster, existing.map(ArmFake::properties), false);
            return body;
        }

        @Override
        public void checkDelete(ArmFake arm, ArmId id, Map<String, Object> existing) {
            requireIdle(arm, id.parent(), id.name(), true);
            if (!"System".equalsIgnoreCase(text(existing, "properties.mode"))) return;
            boolean another = pools(arm, id.parent()).stream()
                .anyMatch(p -> !String.valueOf(p.get("name")).equalsIgnoreCase(id.name()) && "System".equalsIgnoreCase(text(p, "properties.mode")));
            if (!another) {
                throw ArmError.badRequest("OperationNotAllowed", "Cannot delete agent pool '" + id.name() + "': there has to be at least one "
                    + "system agent pool in the managed cluster.");
            }
        }

        /** The cluster's {@code agentPoolProfiles} follow the pool resources. */
        @Override
        public void afterWrite(ArmFake arm, ArmId id, Optional<Map<String, Object>> now) {
            Optional<Map<String, Object>> cluster = arm.get(id.parent());
            if (cluster.isEmpty()) return;
            Map<String, Object> c = cluster.get();
            List<Map<String, Object>> profiles = new ArrayList<>();
            boolean replaced = false;
            for (Map<String, Object> p : listAt(c, "properties.agentPoolProfiles")) {
                if (!String.valueOf(p.get("name")).equalsIgnoreCase(id.name())) {
                    profiles.add(p);
                } else if (now.isPresent()) {
                    profiles.add(profile(id.name(), ArmFake.properties(now.get())));
                    replaced = true;
                }
            }
            if (now.isPresent() && !replaced) profiles.add(profile(id.name(), ArmFake.properties(now.get())));
            ArmFake.properties(c).put("agentPoolProfiles", profiles);
            arm.put(id.parent(), c);
        }
    }
}
