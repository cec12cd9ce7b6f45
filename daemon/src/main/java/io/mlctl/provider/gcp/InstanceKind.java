package io.mlctl.provider.gcp;

import com.google.cloud.compute.v1.AcceleratorConfig;
import com.google.cloud.compute.v1.AccessConfig;
import com.google.cloud.compute.v1.AddAccessConfigInstanceRequest;
import com.google.cloud.compute.v1.AggregatedListInstancesRequest;
import com.google.cloud.compute.v1.AttachedDisk;
import com.google.cloud.compute.v1.AttachedDiskInitializeParams;
import com.google.cloud.compute.v1.DeleteAccessConfigInstanceRequest;
import com.google.cloud.compute.v1.DeleteInstanceRequest;
import com.google.cloud.compute.v1.GetInstanceRequest;
import com.google.cloud.compute.v1.InsertInstanceRequest;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.InstanceAggregatedList;
import com.google.cloud.compute.v1.InstancesScopedList;
import com.google.cloud.compute.v1.InstancesSetLabelsRequest;
import com.google.cloud.compute.v1.InstancesSetMachineTypeRequest;
import com.google.cloud.compute.v1.InstancesSetServiceAccountRequest;
import com.google.cloud.compute.v1.NetworkInterface;
import com.google.cloud.compute.v1.Scheduling;
import com.google.cloud.compute.v1.ServiceAccount;
import com.google.cloud.compute.v1.SetLabelsInstanceRequest;
import com.google.cloud.compute.v1.SetMachineTypeInstanceRequest;
import com.google.cloud.compute.v1.SetServiceAccountInstanceRequest;
import com.google.cloud.compute.v1.SetTagsInstanceRequest;
import com.google.cloud.compute.v1.StartInstanceRequest;
import com.google.cloud.compute.v1.StopInstanceRequest;
import com.google.cloud.compute.v1.Tags;
import io.mlctl.catalog.Catalog;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * instance → a Compute Engine instance {@code <env>-<name>} in its subnet's region: in the subnet's
 * {@code zone} when the spec gives one, else the region's first zone. Machine type, GPUs as
 * {@code guestAccelerators} (accelerator-optimized types such as a2 and g2 come with theirs),
 * Spot as {@code provisioningModel: SPOT} with {@code instanceTerminationAction: STOP}, a boot disk
 * of {@code diskGb} (pd-balanced) from the Deep Learning VM image family {@link #IMAGE}, the
 * identity's service account with the cloud-platform scope, the network tag the network's firewall
 * rules target, an external IP only in a subnet that is not private, and the environment's labels
 * with the ownership marker, all in the insert call (whose request id comes from the apply's token,
 * so a retried insert is one instance). Instances with GPUs and Spot instances terminate on host
 * maintenance, as Compute Engine requires.
 *
 * <p>The machine type and the identity change in place: the instance is stopped, changed and
 * started again (if it was running). Subnet, GPUs, Spot and the boot disk size need a new instance.
 */
final class InstanceKind implements GcpKind {
    /** Deep Learning VM, Base CUDA 12.9 on Ubuntu 22.04 with the NVIDIA 580 driver (supported to August 2028); boots on CPU machine types too. */
    static final String IMAGE = "projects/deeplearning-platform-release/global/images/family/common-cu129-ubuntu-2204-nvidia-580";
    static final String DISK_TYPE = "pd-balanced";
    /** Accelerator-optimized machine series, whose GPUs come with the machine type. */
    private static final List<String> GPU_SERIES = List.of("a2-", "a3-", "g2-");
    private static final ResourceRules RULES = new ResourceRules(Set.of("region", "subnet", "spot", "accelerator", "diskGb"));

    private final Catalog.ProviderCatalog catalog;

    InstanceKind() {
        this(Catalog.loadDefault().of(Provider.GCP));
    }

    InstanceKind(Catalog.ProviderCatalog catalog) {
        this.catalog = catalog;
    }

    @Override
    public ResourceType type() {
        return ResourceType.INSTANCE;
    }

    @Override
    public ResourceRules rules() {
        return RULES;
    }

    static boolean builtInGpus(String machineType) {
        return GPU_SERIES.stream().anyMatch(machineType::startsWith);
    }

    /** Whether the instance has GPUs (then it must terminate on host maintenance). */
    boolean hasGpus(String machineType, Map<String, Object> attrs) {
        if (attrs.get("accelerator") != null) return true;
        Catalog.MachineType t = catalog.machineTypes().get(machineType);
        return t != null ? t.gpus() > 0 : builtInGpus(machineType);
    }

    // ------------------------------------------------------------------ inventory

    @Override
    public Page list(GcpClients c, Environment env, Optional<String> pageToken) {
        AggregatedListInstancesRequest.Builder req = AggregatedListInstancesRequest.newBuilder().setProject(c.project())
            .setFilter("labels." + GcpMarker.ENVIRONMENT + "=" + env.name()).setMaxResults(500).setReturnPartialSuccess(true);
        pageToken.ifPresent(req::setPageToken);
        InstanceAggregatedList page = GcpErrors.call("compute.instances.aggregatedList", () -> c.instances().aggregatedListCallable().call(req.build()));
        // A zone that did not answer may hold instances of ours: an inventory without them would plan them away or call destroy done.
        if (page.getUnreachablesCount() > 0) {
            throw new io.mlctl.provider.DriverException("compute.instances.aggregatedList: Compute Engine did not answer for "
                + String.join(", ", page.getUnreachablesList()) + "; try again", true);
        }
        List<ObservedResource> items = new ArrayList<>();
        for (InstancesScopedList scope : new TreeMap<>(page.getItemsMap()).values()) {
            for (Instance i : scope.getInstancesList()) {
                Map<String, String> labels = i.getLabelsMap();
                Optional<Address> a = GcpMarker.INSTANCE.owner(labels, env.name());
                if (a.isEmpty() || a.get().type() != ResourceType.INSTANCE || a.get().isComponent()) continue;
                items.add(observe(c, env, a.get(), i));
            }
        }
        return new Page(items, Optional.of(page.getNextPageToken()).filter(t -> !t.isEmpty()));
    }

    /** One instance as inventory (and import) shows it: its settings, and all its labels. */
    private ObservedResource observe(GcpClients c, Environment env, Address address, Instance i) {
        return new ObservedResource(address, cloudId(i), GcpKind.attrs(env, observed(c, env, i), i.getLabelsMap()), i.getLabelsMap());
    }

    private static final java.util.regex.Pattern ZONE_NAME = java.util.regex.Pattern.compile("([a-z]+-[a-z]+[0-9]+-[a-z])/([a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)");
    private static final java.util.regex.Pattern RESOURCE_NAME = java.util.regex.Pattern.compile("projects/([^/]+)/zones/([^/]+)/instances/([^/]+)");

    /**
     * Import by {@code ZONE/NAME} (the id inventory shows, e.g. {@code us-central1-a/prod-trainer}) or the resource name
     * {@code projects/P/zones/Z/instances/N} (or its URL). An unmarked instance is taken only under the name mlctl gives the
     * address: the environment's {@code instance.read} grants name it.
     */
    @Override
    public Optional<ObservedResource> read(GcpClients c, Environment env, Address address, String cloudId) {
        String id = GcpKind.relativeName(cloudId.trim());
        java.util.regex.Matcher r = RESOURCE_NAME.matcher(id);
        if (r.matches()) {
            if (!r.group(1).equals(c.project())) throw GcpKind.otherProject(address, "instance " + r.group(3), r.group(1), c.project());
            id = r.group(2) + "/" + r.group(3);
        }
        java.util.regex.Matcher m = ZONE_NAME.matcher(id);
        if (!m.matches()) {
            throw GcpKind.badId(address, cloudId, "ZONE/NAME, e.g. " + zone(env, "", "") + "/" + GcpKind.physicalName(env, address)
                + " (or projects/" + c.project() + "/zones/ZONE/instances/NAME)");
        }
        Optional<Instance> found = instance(c, id);
        if (found.isEmpty()) return Optional.empty();
        Instance i = found.get();
        String expected = GcpKind.physicalName(env, address);
        if (GcpKind.unmarked(i.getLabelsMap()) && !i.getName().equals(expected)) {
            throw GcpKind.wrongName(env, address, "instance " + id, i.getName(), expected, n -> GcpKind.physicalName(env, n));
        }
        return Optional.of(observe(c, env, address, i));
    }

    /** Its internal IP, and its external one when it has one. */
    @Override
    public Map<String, String> outputs(GcpClients c, Environment env, ObservedResource resource) {
        Instance i = live(c, resource.cloudId(), resource.address());
        Map<String, String> out = new TreeMap<>();
        if (i.getNetworkInterfacesCount() == 0) return out;
        NetworkInterface nic = i.getNetworkInterfaces(0);
        if (!nic.getNetworkIP().isEmpty()) out.put("privateIp", nic.getNetworkIP());
        nic.getAccessConfigsList().stream().map(AccessConfig::getNatIP).filter(ip -> !ip.isEmpty()).findFirst().ifPresent(ip -> out.put("publicIp", ip));
        return out;
    }

    /** {@code <zone>/<name>}: where the instance is and what it is called. */
    static String cloudId(Instance i) {
        return GcpKind.lastSegment(i.getZone()) + "/" + i.getName();
    }

    private Map<String, Object> observed(GcpClients c, Environment env, Instance i) {
        Map<String, Object> attrs = new TreeMap<>();
        String machineType = GcpKind.lastSegment(i.getMachineType());
        attrs.put("machineType", machineType);
        if (!builtInGpus(machineType) && i.getGuestAcceleratorsCount() > 0) {
            AcceleratorConfig g = i.getGuestAccelerators(0);
            attrs.put("accelerator", Map.of("type", GcpKind.lastSegment(g.getAcceleratorType()), "count", (long) g.getAcceleratorCount()));
        }
        attrs.put("spot", "SPOT".equals(i.getScheduling().getProvisioningModel()) || i.getScheduling().getPreemptible());
        i.getDisksList().stream().filter(AttachedDisk::getBoot).findFirst().ifPresent(d -> attrs.put("diskGb", d.getDiskSizeGb()));
        if (i.getServiceAccountsCount() > 0) attrs.put("identity", identity(c, env, i.getServiceAccounts(0).getEmail()));
        if (i.getNetworkInterfacesCount() > 0) {
            NetworkInterface nic = i.getNetworkInterfaces(0);
            Optional<String[]> ref = subnetRef(env, nic.getSubnetwork());
            attrs.put("subnet", ref.map(r -> r[0] + "/" + r[1]).orElse(GcpKind.lastSegment(nic.getSubnetwork())));
            if (ref.isPresent()) {
                // Neither has an attribute in the spec: each shows only when wrong, so update puts it right.
                String tag = NetworkKind.networkTag(env, ref.get()[0]);
                if (!i.getTags().getItemsList().contains(tag)) {
                    attrs.put("firewall", "network tag " + tag + " missing: the firewall rules of network " + ref.get()[0] + " do not apply");
                }
                boolean external = nic.getAccessConfigsCount() > 0;
                boolean wantExternal = !privateSubnet(env, ref.get()[0], ref.get()[1]);
                if (external != wantExternal) {
                    attrs.put("externalIp", external ? "external IP " + nic.getAccessConfigs(0).getNatIP() + " in private subnet " + ref.get()[0] + "/" + ref.get()[1]
                        : "no external IP in public subnet " + ref.get()[0] + "/" + ref.get()[1]);
                }
            }
        }
        return attrs;
    }

    /** The spec name of the identity whose service account this is; the email itself when none of the spec's. */
    private static String identity(GcpClients c, Environment env, String email) {
        for (ResourceSpec r : env.resources()) {
            if (r.address().type() != ResourceType.IDENTITY) continue;
            if (GcpKind.serviceAccountEmail(c.project(), GcpKind.serviceAccountId(env, r.address().name())).equals(email)) return r.address().name();
        }
        return email;
    }

    /** {network, subnet} of the spec whose subnetwork this is (by the name NetworkKind gives it), if any. */
    @SuppressWarnings("unchecked")
    private static Optional<String[]> subnetRef(Environment env, String subnetworkUrl) {
        String name = GcpKind.lastSegment(subnetworkUrl);
        if (!subnetworkUrl.contains("/regions/" + env.region() + "/")) return Optional.empty();
        for (ResourceSpec r : env.resources()) {
            if (r.address().type() != ResourceType.NETWORK) continue;
            for (Object s : (List<Object>) r.attributes().getOrDefault("subnets", List.of())) {
                String subnet = (String) ((Map<String, Object>) s).get("name");
                if (GcpKind.subnetworkName(env, r.address().name(), subnet).equals(name)) return Optional.of(new String[] {r.address().name(), subnet});
            }
        }
        return Optional.empty();
    }

    @SuppressWarnings("unchecked")
    private static Optional<Map<String, Object>> subnetSpec(Environment env, String network, String subnet) {
        return env.resource(new Address(ResourceType.NETWORK, network)).flatMap(r -> ((List<Object>) r.attributes().getOrDefault("subnets", List.of()))
            .stream().map(s -> (Map<String, Object>) s).filter(s -> subnet.equals(s.get("name"))).findFirst());
    }

    private static boolean privateSubnet(Environment env, String network, String subnet) {
        return subnetSpec(env, network, subnet).map(s -> !Boolean.FALSE.equals(s.get("private"))).orElse(true);
    }

    /** Where a new instance goes: its subnet's zone when the spec names one in the region, else the region's first zone. */
    String zone(Environment env, String network, String subnet) {
        Optional<String> z = subnetSpec(env, network, subnet).map(s -> (String) s.get("zone")).filter(s -> s.startsWith(env.region() + "-"));
        if (z.isPresent()) return z.get();
        List<String> zones = catalog.regions().get(env.region());
        return zones != null && !zones.isEmpty() ? zones.get(0) : env.region() + "-a";
    }

    // ------------------------------------------------------------------ find, create, complete

    @Override
    public Optional<Existing> find(GcpClients c, Environment env, Address address, Optional<String> knownCloudId) {
        String id = knownCloudId.orElseGet(() -> {
            String[] ref = ((String) env.resource(address).map(r -> r.attributes().get("subnet")).orElse("/")).split("/", 2);
            return zone(env, ref[0], ref.length > 1 ? ref[1] : "") + "/" + GcpKind.physicalName(env, address);
        });
        return instance(c, id).map(i -> new Existing(cloudId(i), "instance " + i.getName() + " in " + GcpKind.lastSegment(i.getZone()), i.getLabelsMap()));
    }

    static Optional<Instance> instance(GcpClients c, String cloudId) {
        String[] zn = cloudId.split("/", 2);
        if (zn.length != 2) return Optional.empty();
        return GcpErrors.call("compute.instances.get " + zn[1], () -> {
            try {
                return Optional.of(c.instances().get(GetInstanceRequest.newBuilder().setProject(c.project()).setZone(zn[0]).setInstance(zn[1]).build()));
            } catch (RuntimeException e) {
                if (GcpErrors.notFound(e)) return Optional.empty();
                throw e;
            }
        });
    }

    @Override
    public String create(GcpClients c, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        Map<String, Object> a = d.attributes();
        String[] ref = ((String) a.get("subnet")).split("/", 2);
        String zone = zone(env, ref[0], ref[1]);
        String name = GcpKind.physicalName(env, d.address());
        String machineType = (String) a.get("machineType");
        boolean spot = Boolean.TRUE.equals(a.get("spot"));
        boolean gpus = hasGpus(machineType, a);
        long disk = ((Number) a.getOrDefault("diskGb", 100L)).longValue();
        NetworkInterface.Builder nic = NetworkInterface.newBuilder()
            .setSubnetwork(NetworkKind.subnetworkUrl(c, env.region(), GcpKind.subnetworkName(env, ref[0], ref[1])));
        if (!privateSubnet(env, ref[0], ref[1])) nic.addAccessConfigs(externalAccess());
        Scheduling.Builder scheduling = Scheduling.newBuilder();
        if (spot) {
            scheduling.setProvisioningModel("SPOT").setInstanceTerminationAction("STOP").setOnHostMaintenance("TERMINATE").setAutomaticRestart(false);
        } else {
            scheduling.setProvisioningModel("STANDARD").setOnHostMaintenance(gpus ? "TERMINATE" : "MIGRATE").setAutomaticRestart(true);
        }
        Instance.Builder b = Instance.newBuilder().setName(name).setMachineType("zones/" + zone + "/machineTypes/" + machineType)
            .putAllLabels(GcpKind.allLabels(marker, a))
            .setTags(Tags.newBuilder().addItems(NetworkKind.networkTag(env, ref[0])))
            .addNetworkInterfaces(nic)
            .addDisks(AttachedDisk.newBuilder().setBoot(true).setAutoDelete(true).setType("PERSISTENT")
                .setInitializeParams(AttachedDiskInitializeParams.newBuilder().setSourceImage(IMAGE).setDiskSizeGb(disk)
                    .setDiskType("zones/" + zone + "/diskTypes/" + DISK_TYPE)))
            .setScheduling(scheduling);
        if (a.get("accelerator") instanceof Map<?, ?> acc) {
            b.addGuestAccelerators(AcceleratorConfig.newBuilder().setAcceleratorType("projects/" + c.project() + "/zones/" + zone + "/acceleratorTypes/" + acc.get("type"))
                .setAcceleratorCount(((Number) acc.get("count")).intValue()));
        }
        if (a.get("identity") != null) b.addServiceAccounts(serviceAccount(c, env, (String) a.get("identity")));
        NetworkKind.await("compute.instances.insert " + name + " in " + zone, c.instances().insertAsync(InsertInstanceRequest.newBuilder()
            .setProject(c.project()).setZone(zone).setInstanceResource(b).setRequestId(NetworkKind.requestId(token)).build()));
        return zone + "/" + name;
    }

    private static AccessConfig externalAccess() {
        return AccessConfig.newBuilder().setName("External NAT").setType("ONE_TO_ONE_NAT").setNetworkTier("PREMIUM").build();
    }

    private static ServiceAccount serviceAccount(GcpClients c, Environment env, String identity) {
        return ServiceAccount.newBuilder().setEmail(GcpKind.serviceAccountEmail(c.project(), GcpKind.serviceAccountId(env, identity)))
            .addScopes(NetworkKind.SCOPE_CLOUD_PLATFORM).build();
    }

    @Override
    public ObservedResource complete(GcpClients c, Environment env, String id, ResourceSpec d, Map<String, String> marker) {
        Instance i = instance(c, id).orElseThrow(() -> new DriverException(d.address() + ": instance " + id + " is not visible yet", true));
        syncLabels(c, i, marker, d.attributes());
        return new ObservedResource(d.address(), id, d.attributes(), GcpKind.allLabels(marker, d.attributes()));
    }

    /** Writes the marker and the spec's labels (others' stay); returns the labels the instance carries after. */
    private static Map<String, String> syncLabels(GcpClients c, Instance i, Map<String, String> marker, Map<String, Object> want) {
        Optional<Map<String, String>> labels = GcpKind.labelsAfterSync(i.getLabelsMap(), marker, want);
        labels.ifPresent(l -> NetworkKind.await("compute.instances.setLabels " + i.getName(),
            c.instances().setLabelsAsync(SetLabelsInstanceRequest.newBuilder().setProject(c.project()).setZone(GcpKind.lastSegment(i.getZone()))
                .setInstance(i.getName()).setInstancesSetLabelsRequestResource(InstancesSetLabelsRequest.newBuilder()
                    .putAllLabels(l).setLabelFingerprint(i.getLabelFingerprint())).build())));
        return labels.orElse(i.getLabelsMap());
    }

    // ------------------------------------------------------------------ update, delete

    @Override
    public ObservedResource update(GcpClients c, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        String id = current.cloudId();
        Map<String, Object> want = d.attributes();
        Set<String> changed = new TreeSet<>();
        changes.forEach(ch -> changed.add(NetworkKind.top(ch.path())));
        Instance i = live(c, id, d.address());
        String zone = GcpKind.lastSegment(i.getZone());
        String[] ref = ((String) want.get("subnet")).split("/", 2);
        Map<String, String> labels = current.tags();
        if (changed.contains("tags")) labels = syncLabels(c, i, GcpMarker.INSTANCE.marker(env.name(), d.address()), want);
        if (changed.contains("firewall")) {
            i = live(c, id, d.address());
            String tag = NetworkKind.networkTag(env, ref[0]);
            if (!i.getTags().getItemsList().contains(tag)) {
                // The other tags stay: someone may route or firewall on them.
                Tags tags = Tags.newBuilder().addAllItems(i.getTags().getItemsList()).addItems(tag).setFingerprint(i.getTags().getFingerprint()).build();
                NetworkKind.await("compute.instances.setTags " + i.getName(), c.instances().setTagsAsync(SetTagsInstanceRequest.newBuilder()
                    .setProject(c.project()).setZone(zone).setInstance(i.getName()).setTagsResource(tags).build()));
            }
        }
        if (changed.contains("externalIp")) {
            i = live(c, id, d.address());
            NetworkInterface nic = i.getNetworkInterfaces(0);
            boolean wantExternal = !privateSubnet(env, ref[0], ref[1]);
            if (wantExternal && nic.getAccessConfigsCount() == 0) {
                NetworkKind.await("compute.instances.addAccessConfig " + i.getName(), c.instances().addAccessConfigAsync(AddAccessConfigInstanceRequest.newBuilder()
                    .setProject(c.project()).setZone(zone).setInstance(i.getName()).setNetworkInterface(nic.getName())
                    .setAccessConfigResource(externalAccess()).build()));
            } else if (!wantExternal) {
                for (AccessConfig ac : nic.getAccessConfigsList()) {
                    String instanceName = i.getName();
                    NetworkKind.await("compute.instances.deleteAccessConfig " + instanceName, c.instances().deleteAccessConfigAsync(
                        DeleteAccessConfigInstanceRequest.newBuilder().setProject(c.project()).setZone(zone).setInstance(instanceName)
                            .setNetworkInterface(nic.getName()).setAccessConfig(ac.getName()).build()));
                }
            }
        }
        if (changed.contains("machineType") || changed.contains("identity")) {
            i = live(c, id, d.address());
            String from = GcpKind.lastSegment(i.getMachineType());
            String to = (String) want.get("machineType");
            if (changed.contains("machineType") && builtInGpus(from) != builtInGpus(to)) {
                throw new DriverException(d.address() + ": Compute Engine cannot change machine type " + from + " to " + to + " in place (GPUs of "
                    + "accelerator-optimized types come with the machine); give the instance a new name to replace it", false);
            }
            boolean running = !"TERMINATED".equals(i.getStatus()) && !"STOPPING".equals(i.getStatus()) && !"SUSPENDED".equals(i.getStatus());
            String name = i.getName();
            // Both change only while the instance is stopped.
            NetworkKind.await("compute.instances.stop " + name, c.instances().stopAsync(StopInstanceRequest.newBuilder().setProject(c.project())
                .setZone(zone).setInstance(name).build()));
            try {
                if (changed.contains("machineType") && !from.equals(to)) {
                    NetworkKind.await("compute.instances.setMachineType " + name, c.instances().setMachineTypeAsync(SetMachineTypeInstanceRequest.newBuilder()
                        .setProject(c.project()).setZone(zone).setInstance(name).setInstancesSetMachineTypeRequestResource(InstancesSetMachineTypeRequest
                            .newBuilder().setMachineType("zones/" + zone + "/machineTypes/" + to)).build()));
                }
                if (changed.contains("identity")) {
                    InstancesSetServiceAccountRequest.Builder sa = InstancesSetServiceAccountRequest.newBuilder();
                    if (want.get("identity") != null) {
                        ServiceAccount account = serviceAccount(c, env, (String) want.get("identity"));
                        sa.setEmail(account.getEmail()).addAllScopes(account.getScopesList());
                    }
                    NetworkKind.await("compute.instances.setServiceAccount " + name, c.instances().setServiceAccountAsync(SetServiceAccountInstanceRequest
                        .newBuilder().setProject(c.project()).setZone(zone).setInstance(name).setInstancesSetServiceAccountRequestResource(sa).build()));
                }
            } finally {
                // Changed or refused, a machine that was running is not left stopped.
                if (running) {
                    NetworkKind.await("compute.instances.start " + name, c.instances().startAsync(StartInstanceRequest.newBuilder().setProject(c.project())
                        .setZone(zone).setInstance(name).build()));
                }
            }
        }
        return new ObservedResource(d.address(), id, want, labels);
    }

    private static Instance live(GcpClients c, String id, Address address) {
        return instance(c, id).orElseThrow(() -> new DriverException(address + ": instance " + id + " no longer exists; run plan again", false));
    }

    @Override
    public void delete(GcpClients c, Environment env, ObservedResource current) {
        String[] zn = current.cloudId().split("/", 2);
        if (zn.length != 2) return;
        // Waited for: the subnetwork it sits in can only go once it is gone.
        NetworkKind.ignoreMissing("compute.instances.delete " + zn[1], () -> c.instances().deleteAsync(DeleteInstanceRequest.newBuilder()
            .setProject(c.project()).setZone(zn[0]).setInstance(zn[1]).build()));
    }
}
