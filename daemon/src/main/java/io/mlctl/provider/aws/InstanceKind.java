package io.mlctl.provider.aws;

import io.mlctl.catalog.Catalog;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.TagMarker;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.util.Hashing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesResponse;
import software.amazon.awssdk.services.ec2.model.GroupIdentifier;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceLifecycleType;
import software.amazon.awssdk.services.ec2.model.InstanceType;
import software.amazon.awssdk.services.ec2.model.MarketType;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.ec2.model.Volume;

/**
 * instance → an EC2 instance launched with its tags (instance and root volume) in the same call,
 * a client token derived from the apply's idempotency token (a retried launch returns the first
 * instance), its network's security group, spot through InstanceMarketOptions, the root volume
 * size, and the instance profile of its identity. The image is the newest Amazon Deep Learning AMI
 * of the region for the machine type's architecture (arm64 on Graviton) and GPU, and the root
 * volume is mapped on that image's own root device.
 */
final class InstanceKind implements AwsKind {
    private static final String[] LIVE = {"pending", "running", "stopping", "stopped"};
    /**
     * Placement, purchase model and attached accelerators are fixed at launch. The machine type is
     * not: update stops the instance, changes it and starts it again.
     */
    private static final ResourceRules RULES = new ResourceRules(Set.of("region", "subnet", "spot", "accelerator"));
    /** Graviton families have a 'g' among the letters after the generation: m6g, c7gn, g5g, r6gd, t4g, im4gn. */
    private static final Pattern FAMILY = Pattern.compile("^[a-z]+\\d+([a-z-]*)$");

    /** The image chosen for one region, architecture and GPU need. */
    record ImageChoice(String imageId, String name, String rootDevice) {
    }

    private final Catalog.ProviderCatalog catalog;
    private final List<String> imageOwners;
    private final Map<String, ImageChoice> images = new ConcurrentHashMap<>();

    InstanceKind(Catalog.ProviderCatalog catalog) {
        this(catalog, List.of("amazon"));
    }

    /** {@code imageOwners}: whose Deep Learning AMIs to consider ({@code amazon}; tests register their own as {@code self}). */
    InstanceKind(Catalog.ProviderCatalog catalog, List<String> imageOwners) {
        this.catalog = catalog;
        this.imageOwners = List.copyOf(imageOwners);
    }

    @Override
    public io.mlctl.spec.ResourceType type() {
        return io.mlctl.spec.ResourceType.INSTANCE;
    }

    @Override
    public ResourceRules rules() {
        return RULES;
    }

    @Override
    public Page list(AwsClients c, Environment env, Optional<String> pageToken) {
        DescribeInstancesResponse r = AwsErrors.call("ec2:DescribeInstances", () -> c.ec2.describeInstances(b -> b
            .filters(NetworkKind.owned(env), NetworkKind.filter("instance-state-name", LIVE))
            .maxResults(500).nextToken(pageToken.orElse(null))));
        List<Instance> instances = new ArrayList<>();
        r.reservations().stream().map(Reservation::instances).forEach(instances::addAll);
        List<ObservedResource> items = instances.isEmpty() ? List.of() : observeAll(c.ec2, env, instances, subnetAddresses(c.ec2, env), i -> {
            Optional<Address> a = Ownership.ownedAddress(NetworkKind.tagMap(i.tags()), env.name());
            return a.filter(x -> x.type() == io.mlctl.spec.ResourceType.INSTANCE);
        });
        return new Page(items, Optional.ofNullable(r.nextToken()).filter(t -> !t.isEmpty()));
    }

    /**
     * Instances as listed (and as read for an import), each at the address {@code addressOf} gives it (none: left out), with
     * the reads they share done once for all: root volume sizes, the environment's network firewalls. {@code subnets}: subnet
     * id to its "network/subnet" reference.
     */
    private static List<ObservedResource> observeAll(Ec2Client ec2, Environment env, List<Instance> instances, Map<String, String> subnets,
                                                     java.util.function.Function<Instance, Optional<Address>> addressOf) {
        List<ObservedResource> items = new ArrayList<>();
        Map<String, Integer> rootSizes = new HashMap<>();
        Map<String, String> rootDevices = new HashMap<>();
        instances.forEach(i -> rootDevices.put(i.instanceId(), String.valueOf(i.rootDeviceName())));
        String[] ids = instances.stream().map(Instance::instanceId).toArray(String[]::new);
        AwsErrors.run("ec2:DescribeVolumes", () -> ec2.describeVolumesPaginator(b -> b.filters(NetworkKind.filter("attachment.instance-id", ids)))
            .forEach(p -> {
                for (Volume v : p.volumes()) {
                    v.attachments().forEach(a -> rootDevices.forEach((inst, dev) -> {
                        // The root volume's size only: a data volume someone attached is not the spec's diskGb.
                        if (inst.equals(a.instanceId()) && dev.equals(a.device())) rootSizes.put(inst, v.size());
                    }));
                }
            }));
        // The environment's network firewalls, by VPC and group name, to tell an instance that lost its own.
        Map<String, String> firewalls = new HashMap<>();
        AwsErrors.run("ec2:DescribeSecurityGroups", () -> ec2.describeSecurityGroupsPaginator(b -> b.filters(NetworkKind.owned(env)))
            .forEach(p -> p.securityGroups().forEach(g -> firewalls.put(g.vpcId() + "/" + g.groupName(), g.groupId()))));
        for (Instance i : instances) {
            Map<String, String> tags = NetworkKind.tagMap(i.tags());
            Optional<Address> a = addressOf.apply(i);
            if (a.isEmpty()) continue;
            Map<String, Object> attrs = new TreeMap<>();
            attrs.put("machineType", i.instanceTypeAsString());
            attrs.put("spot", i.instanceLifecycle() == InstanceLifecycleType.SPOT);
            String subnetRef = subnets.getOrDefault(i.subnetId(), i.subnetId());
            attrs.put("subnet", subnetRef);
            if (i.iamInstanceProfile() != null && i.iamInstanceProfile().arn() != null) {
                String profile = i.iamInstanceProfile().arn().substring(i.iamInstanceProfile().arn().lastIndexOf('/') + 1);
                attrs.put("identity", profile.startsWith(env.name() + "-") ? profile.substring(env.name().length() + 1) : profile);
            }
            Integer size = rootSizes.get(i.instanceId());
            if (size != null) attrs.put("diskGb", (long) size);
            if (subnetRef.contains("/")) {
                String groupName = AwsKind.physicalName(env, subnetRef.substring(0, subnetRef.indexOf('/')));
                String groupId = firewalls.get(i.vpcId() + "/" + groupName);
                // The spec has no attribute for it: present only when wrong, so it shows as drift and update fixes it.
                if (groupId != null && i.securityGroups().stream().noneMatch(g -> groupId.equals(g.groupId()))) {
                    attrs.put("firewall", "network firewall " + groupName + " (" + groupId + ") not attached");
                }
            }
            items.add(new ObservedResource(a.get(), i.instanceId(), NetworkKind.observed(env, attrs, tags), tags));
        }
        return items;
    }

    /** EC2 instance ids: {@code i-} and 8 or 17 hex digits. */
    private static final Pattern ID = Pattern.compile("i-[0-9a-f]{8}(?:[0-9a-f]{9})?");

    /**
     * By instance id, whatever its Name: nothing else reaches an instance by name. Its subnet shows as "network/subnet" when the
     * network is mlctl's, or is imported by the same spec and has a subnet of that range (see {@link NetworkKind#importedSubnetRef}).
     */
    @Override
    public Optional<ObservedResource> read(AwsClients c, Environment env, Address address, String id) {
        if (!ID.matcher(id).matches()) throw AwsKind.malformed(address, id, "an EC2 instance id", "its id (i-0123456789abcdef0)");
        Optional<Instance> found = live(c.ec2, id);
        if (found.isEmpty()) return Optional.empty();
        Instance i = found.get();
        Map<String, String> subnets = new HashMap<>(subnetAddresses(c.ec2, env));
        Optional<String> imported = Optional.empty();
        if (i.subnetId() != null && !subnets.containsKey(i.subnetId())) {
            imported = NetworkKind.importedSubnetRef(c.ec2, env, i.subnetId());
            imported.ifPresent(ref -> subnets.put(i.subnetId(), ref));
        }
        ObservedResource r = observeAll(c.ec2, env, List.of(i), subnets, x -> Optional.of(address)).get(0);
        if (imported.isEmpty() || r.attributes().containsKey("firewall")) return Optional.of(r);
        // In a network imported with it whose spec has firewall rules: that import makes the network's group, which
        // this instance does not carry yet. Shown now, so the plan attaches it rather than the next plan.
        String network = imported.get().substring(0, imported.get().indexOf('/'));
        String group = AwsKind.physicalName(env, network);
        boolean rules = env.resource(new Address(io.mlctl.spec.ResourceType.NETWORK, network))
            .map(n -> n.attributes().get("firewall") instanceof List<?> l && !l.isEmpty()).orElse(false);
        if (!rules || i.securityGroups().stream().anyMatch(g -> group.equals(g.groupName()))) return Optional.of(r);
        Map<String, Object> attrs = new TreeMap<>(r.attributes());
        attrs.put("firewall", "network firewall " + group + " not attached");
        return Optional.of(new ObservedResource(address, r.cloudId(), attrs, r.tags()));
    }

    @Override
    public Map<String, String> outputs(AwsClients c, Environment env, ObservedResource resource) {
        Instance i = live(c.ec2, resource.cloudId()).orElseThrow(() -> new DriverException(resource.address() + ": instance "
            + resource.cloudId() + " no longer exists; run plan again", false));
        Map<String, String> out = new TreeMap<>();
        if (i.privateIpAddress() != null) out.put("privateIp", i.privateIpAddress());
        if (i.publicIpAddress() != null) out.put("publicIp", i.publicIpAddress());
        return out;
    }

    /** subnet id → "network/subnet", from the tags NetworkKind puts on every subnet it creates. */
    static Map<String, String> subnetAddresses(Ec2Client ec2, Environment env) {
        Map<String, String> m = new HashMap<>();
        AwsErrors.run("ec2:DescribeSubnets", () -> ec2.describeSubnetsPaginator(b -> b.filters(NetworkKind.owned(env)))
            .forEach(p -> p.subnets().forEach(s -> {
                String ref = NetworkKind.tagMap(s.tags()).get(NetworkKind.SUBNET_TAG);
                if (ref != null) m.put(s.subnetId(), ref);
            })));
        return m;
    }

    static Subnet subnet(Ec2Client ec2, Environment env, String ref, Address forWhat) {
        List<Subnet> s = AwsErrors.call("ec2:DescribeSubnets " + ref, () -> ec2.describeSubnets(b -> b.filters(NetworkKind.owned(env),
            NetworkKind.filter("tag:" + NetworkKind.SUBNET_TAG, ref))).subnets());
        if (s.isEmpty()) throw new DriverException(forWhat + ": subnet " + ref + " does not exist yet", true);
        return s.get(0);
    }

    static String subnetId(Ec2Client ec2, Environment env, String ref, Address forWhat) {
        return subnet(ec2, env, ref, forWhat).subnetId();
    }

    /** The firewall of the network a subnet reference ({@code network/subnet}) belongs to, if that network has one. */
    private static Optional<SecurityGroup> firewall(Ec2Client ec2, Environment env, String subnetRef, String vpcId) {
        Address network = new Address(io.mlctl.spec.ResourceType.NETWORK, subnetRef.substring(0, subnetRef.indexOf('/')));
        return NetworkKind.firewallGroup(ec2, env, vpcId, network);
    }

    /** EC2's processor architecture of a machine type, from its family name. */
    static String architecture(String machineType) {
        String family = machineType.contains(".") ? machineType.substring(0, machineType.indexOf('.')) : machineType;
        if (family.equals("a1")) return "arm64"; // the first Graviton, before the suffix convention
        Matcher m = FAMILY.matcher(family);
        return m.matches() && m.group(1).contains("g") ? "arm64" : "x86_64";
    }

    /** Whether a machine type has GPUs: the catalog says; a type it does not list is judged by its family (p, g). */
    boolean hasGpu(String machineType) {
        Catalog.MachineType t = catalog.machineTypes().get(machineType);
        if (t != null) return t.gpus() > 0;
        return machineType.startsWith("p") || machineType.startsWith("g");
    }

    /**
     * The newest image of the right kind: GPU images (name says GPU) for GPU types, the others for
     * CPU types; the other kind only when a region has none of the right one (a GPU image boots on
     * a CPU type, and the generic DLAMIs carry the drivers). Neuron images only fit Inferentia.
     */
    static Optional<Image> pick(List<Image> candidates, boolean gpu) {
        return candidates.stream().filter(i -> !String.valueOf(i.name()).toUpperCase().contains("NEURON"))
            .max(Comparator.<Image>comparingInt(i -> String.valueOf(i.name()).toUpperCase().contains("GPU") == gpu ? 1 : 0)
                .thenComparing(i -> String.valueOf(i.creationDate())));
    }

    ImageChoice image(AwsClients c, String machineType) {
        String arch = architecture(machineType);
        boolean gpu = hasGpu(machineType);
        String key = c.region.id() + "/" + arch + "/" + gpu;
        ImageChoice known = images.get(key);
        if (known != null) return known;
        List<Image> found = AwsErrors.call("ec2:DescribeImages", () -> c.ec2.describeImages(b -> b.owners(imageOwners)
            .filters(NetworkKind.filter("name", "Deep Learning*"), NetworkKind.filter("state", "available"),
                NetworkKind.filter("architecture", arch))).images());
        Image img = pick(found, gpu).orElseThrow(() -> new DriverException("no Amazon Deep Learning AMI for " + arch + " (machine type "
            + machineType + ") found in " + c.region.id(), false));
        ImageChoice choice = new ImageChoice(img.imageId(), img.name(), img.rootDeviceName() == null ? "/dev/xvda" : img.rootDeviceName());
        images.put(key, choice);
        return choice;
    }

    @Override
    public Optional<Existing> find(AwsClients c, Environment env, Address address, Optional<String> knownCloudId) {
        if (knownCloudId.isPresent()) {
            Optional<Instance> byId = live(c.ec2, knownCloudId.get());
            if (byId.isPresent()) return byId.map(InstanceKind::existing);
        }
        DescribeInstancesResponse r = AwsErrors.call("ec2:DescribeInstances " + address, () -> c.ec2.describeInstances(b -> b
            .filters(NetworkKind.owned(env), NetworkKind.ownedBy(address), NetworkKind.filter("instance-state-name", LIVE))));
        return r.reservations().stream().flatMap(x -> x.instances().stream()).min(Comparator.comparing(Instance::instanceId))
            .map(InstanceKind::existing);
    }

    private static Existing existing(Instance i) {
        Map<String, String> tags = NetworkKind.tagMap(i.tags());
        return new Existing(i.instanceId(), "instance " + i.instanceId() + (tags.containsKey("Name") ? " (" + tags.get("Name") + ")" : ""), tags);
    }

    /** The instance under this id unless it is gone or going (terminated, shutting down). */
    private static Optional<Instance> live(Ec2Client ec2, String id) {
        List<Instance> found = AwsErrors.call("ec2:DescribeInstances " + id, () -> {
            try {
                return ec2.describeInstances(b -> b.instanceIds(id)).reservations().stream().flatMap(r -> r.instances().stream()).toList();
            } catch (SdkException e) {
                if (AwsErrors.is(e, "InvalidInstanceID.NotFound")) return List.of();
                throw e;
            }
        });
        return found.stream().filter(i -> Set.of(LIVE).contains(i.state().nameAsString())).findFirst();
    }

    @Override
    public String create(AwsClients c, Environment env, ResourceSpec d, Map<String, String> mark, String token) {
        Map<String, Object> a = d.attributes();
        Map<String, String> tags = NetworkKind.createTags(mark, a);
        String subnetRef = (String) a.get("subnet");
        Subnet subnet = subnet(c.ec2, env, subnetRef, d.address());
        Optional<SecurityGroup> group = firewall(c.ec2, env, subnetRef, subnet.vpcId());
        String name = AwsKind.physicalName(env, d.address().name());
        String machineType = (String) a.get("machineType");
        ImageChoice image = image(c, machineType);
        int disk = ((Number) a.getOrDefault("diskGb", 100L)).intValue();
        // RunInstances dedups on ClientToken (up to 64 ASCII characters): a retried launch returns the first instance.
        // Still sent once: a retry looks for the tagged instance first, which also holds where the token is not honoured.
        String clientToken = Hashing.sha256Text(token).substring(0, 64);
        Instance i = AwsErrors.call("ec2:RunInstances " + name, () -> c.ec2Once.runInstances(b -> {
            b.imageId(image.imageId()).instanceType(InstanceType.fromValue(machineType)).minCount(1).maxCount(1)
                .subnetId(subnet.subnetId()).clientToken(clientToken)
                .blockDeviceMappings(m -> m.deviceName(image.rootDevice()).ebs(e -> e.volumeSize(disk).volumeType("gp3").deleteOnTermination(true)))
                .tagSpecifications(NetworkKind.spec(ResourceType.INSTANCE, tags, name), NetworkKind.spec(ResourceType.VOLUME, tags, name));
            group.ifPresent(g -> b.securityGroupIds(g.groupId()));
            if (Boolean.TRUE.equals(a.get("spot"))) b.instanceMarketOptions(o -> o.marketType(MarketType.SPOT));
            if (a.get("identity") != null) b.iamInstanceProfile(p -> p.name(AwsKind.physicalName(env, (String) a.get("identity"))));
        }).instances().get(0));
        return i.instanceId();
    }

    @Override
    public ObservedResource complete(AwsClients c, Environment env, String id, ResourceSpec d, Map<String, String> mark) {
        // Just launched, it may not be visible yet (eventual consistency): the step is retried.
        Instance i = live(c.ec2, id).orElseThrow(() -> new DriverException(d.address() + ": instance " + id + " is not visible yet", true));
        NetworkKind.syncTags(c.ec2, id, NetworkKind.tagMap(i.tags()), mark, d.attributes());
        return new ObservedResource(d.address(), id, d.attributes(), NetworkKind.createTags(mark, d.attributes()));
    }

    @Override
    public ObservedResource update(AwsClients c, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        Ec2Client ec2 = c.ec2;
        String id = current.cloudId();
        Map<String, Object> want = d.attributes();
        Set<String> changed = new TreeSet<>();
        changes.forEach(ch -> changed.add(NetworkKind.top(ch.path())));
        if (changed.contains("tags")) {
            // The plan carries attributes, not the cloud's tags: read them, so only mlctl's labels are touched.
            Instance i = live(ec2, id).orElseThrow(() -> new DriverException(d.address() + ": instance " + id + " no longer exists; run plan again", false));
            NetworkKind.syncTags(ec2, id, NetworkKind.tagMap(i.tags()), TagMarker.INSTANCE.marker(env.name(), d.address()), want);
        }
        if (changed.contains("machineType")) {
            // The instance type changes only while stopped.
            AwsErrors.run("ec2:StopInstances " + id, () -> ec2.stopInstances(b -> b.instanceIds(id)));
            waitFor(ec2, id, "stopped");
            try {
                AwsErrors.run("ec2:ModifyInstanceAttribute " + id, () -> ec2.modifyInstanceAttribute(b -> b.instanceId(id)
                    .instanceType(v -> v.value((String) want.get("machineType")))));
            } finally {
                // Refused or not (an image of another architecture), the machine is not left stopped.
                AwsErrors.run("ec2:StartInstances " + id, () -> ec2.startInstances(b -> b.instanceIds(id)));
            }
        }
        if (changed.contains("identity")) {
            var assocs = AwsErrors.call("ec2:DescribeIamInstanceProfileAssociations", () -> ec2.describeIamInstanceProfileAssociations(b -> b
                .filters(NetworkKind.filter("instance-id", id))).iamInstanceProfileAssociations());
            for (var as : assocs) {
                if (!"disassociated".equals(as.stateAsString())) {
                    AwsErrors.run("ec2:DisassociateIamInstanceProfile " + id, () -> ec2.disassociateIamInstanceProfile(b -> b.associationId(as.associationId())));
                }
            }
            if (want.get("identity") != null) {
                String profile = AwsKind.physicalName(env, (String) want.get("identity"));
                AwsErrors.run("ec2:AssociateIamInstanceProfile " + id, () -> ec2.associateIamInstanceProfile(b -> b.instanceId(id)
                    .iamInstanceProfile(p -> p.name(profile))));
            }
        }
        if (changed.contains("diskGb")) {
            int size = ((Number) want.get("diskGb")).intValue();
            // The root volume only: a data volume someone attached is theirs.
            String root = live(ec2, id).map(Instance::rootDeviceName).orElse("");
            List<Volume> vols = AwsErrors.call("ec2:DescribeVolumes " + id, () -> ec2.describeVolumes(b -> b
                .filters(NetworkKind.filter("attachment.instance-id", id), NetworkKind.filter("attachment.device", root))).volumes());
            if (!vols.isEmpty() && vols.get(0).size() > size) {
                throw new DriverException(d.address() + ": an EBS volume cannot shrink (" + vols.get(0).size() + " GB to " + size + " GB)", false);
            }
            for (Volume v : vols) AwsErrors.run("ec2:ModifyVolume " + v.volumeId(), () -> ec2.modifyVolume(b -> b.volumeId(v.volumeId()).size(size)));
        }
        if (changed.contains("firewall")) attachFirewall(ec2, env, id, d);
        return new ObservedResource(d.address(), id, want, current.tags());
    }

    /** Puts the network's security group back on an instance that lost it, keeping whatever else it carries. */
    private void attachFirewall(Ec2Client ec2, Environment env, String id, ResourceSpec d) {
        Instance i = live(ec2, id).orElseThrow(() -> new DriverException(d.address() + ": instance " + id + " no longer exists; run plan again", false));
        Optional<SecurityGroup> group = firewall(ec2, env, (String) d.attributes().get("subnet"), i.vpcId());
        if (group.isEmpty()) return;
        List<String> groups = new ArrayList<>(i.securityGroups().stream().map(GroupIdentifier::groupId).toList());
        if (groups.contains(group.get().groupId())) return;
        groups.add(group.get().groupId());
        AwsErrors.run("ec2:ModifyInstanceAttribute " + id, () -> ec2.modifyInstanceAttribute(b -> b.instanceId(id).groups(groups)));
    }

    @Override
    public void delete(AwsClients c, Environment env, ObservedResource current) {
        String id = current.cloudId();
        if (live(c.ec2, id).isEmpty()) return;
        AwsErrors.run("ec2:TerminateInstances " + id, () -> c.ec2.terminateInstances(b -> b.instanceIds(id)));
        // The network it sits in can only go once it is gone.
        waitFor(c.ec2, id, "terminated");
    }

    private static final io.mlctl.provider.Waiter WAITER = io.mlctl.provider.Waiter.of(Duration.ofSeconds(5), Duration.ofMinutes(10));

    /** Polls until the instance is in {@code wanted}; an instance going away while it should stop is an error, not a retry. */
    private static void waitFor(Ec2Client ec2, String id, String wanted) {
        WAITER.until("EC2 instance " + id + " to be " + wanted, () -> {
            String state;
            try {
                state = ec2.describeInstances(b -> b.instanceIds(id)).reservations().stream().flatMap(r -> r.instances().stream())
                    .map(i -> i.state().nameAsString()).findFirst().orElse("terminated");
            } catch (SdkException e) {
                if (!AwsErrors.is(e, "InvalidInstanceID.NotFound")) throw AwsErrors.translate("ec2:DescribeInstances " + id, e);
                state = "terminated";
            }
            if (state.equals(wanted)) return io.mlctl.provider.Waiter.Status.ready(state);
            if (!wanted.equals("terminated") && (state.equals("terminated") || state.equals("shutting-down"))) {
                return io.mlctl.provider.Waiter.Status.failed(state, "it is being terminated");
            }
            return io.mlctl.provider.Waiter.Status.pending(state);
        });
    }
}
