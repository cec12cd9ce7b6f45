package io.mlctl.fake.gcp;

import com.google.cloud.compute.v1.AcceleratorConfig;
import com.google.cloud.compute.v1.AccessConfig;
import com.google.cloud.compute.v1.AttachedDisk;
import com.google.cloud.compute.v1.AttachedDiskInitializeParams;
import com.google.cloud.compute.v1.Error;
import com.google.cloud.compute.v1.ErrorDetails;
import com.google.cloud.compute.v1.Errors;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.FirewallList;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.InstanceAggregatedList;
import com.google.cloud.compute.v1.InstanceList;
import com.google.cloud.compute.v1.InstancesScopedList;
import com.google.cloud.compute.v1.InstancesSetLabelsRequest;
import com.google.cloud.compute.v1.InstancesSetMachineTypeRequest;
import com.google.cloud.compute.v1.InstancesSetServiceAccountRequest;
import com.google.cloud.compute.v1.Network;
import com.google.cloud.compute.v1.NetworkInterface;
import com.google.cloud.compute.v1.NetworkList;
import com.google.cloud.compute.v1.NetworkRoutingConfig;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.QuotaExceededInfo;
import com.google.cloud.compute.v1.Scheduling;
import com.google.cloud.compute.v1.ServiceAccount;
import com.google.cloud.compute.v1.Subnetwork;
import com.google.cloud.compute.v1.SubnetworkAggregatedList;
import com.google.cloud.compute.v1.SubnetworkList;
import com.google.cloud.compute.v1.SubnetworksExpandIpCidrRangeRequest;
import com.google.cloud.compute.v1.SubnetworksScopedList;
import com.google.cloud.compute.v1.SubnetworksSetPrivateIpGoogleAccessRequest;
import com.google.cloud.compute.v1.Tags;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.mlctl.catalog.Catalog;
import io.mlctl.spec.Cidr;
import io.mlctl.spec.Provider;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compute Engine v1 over REST, as far as mlctl's networks and instances need it: VPC networks,
 * subnetworks, firewall rules, instances, and their global, regional and zonal operations.
 *
 * <p>Requests are parsed with {@code com.google.cloud.compute.v1} messages (an unknown field is a
 * 400) and checked as Compute Engine checks them: resource names, duplicates (409), references to
 * networks, subnetworks, machine types, accelerator types, images and service accounts that must
 * exist, overlapping subnet ranges, resources still in use (400 resourceInUseByAnotherResource),
 * label formats, label and tag fingerprints (412), the scheduling rules of Spot and GPU instances,
 * machine changes only while stopped, and list filters (regular-expression {@code eq}/{@code ne} or
 * AIP-160 comparisons, on fields the resource has). Every change answers an {@link Operation} that
 * is {@code RUNNING}, then {@code DONE} once {@link GcpFakes#operationTime()} has passed; failures
 * that Compute Engine reports inside the operation (GPU quota) are answered there, with
 * {@code httpErrorStatusCode} and {@code error.errors}. A {@code requestId} seen before answers the
 * operation it started, without doing the work again.
 *
 * <p>The fake's world: the GCP catalog's regions and zones, its machine types (plus the accelerator
 * optimized ones it lists, whose GPUs come with the machine type), its accelerator types, and the
 * Deep Learning VM, Debian and Ubuntu image families. GPU quota per region is unlimited unless a
 * test sets it ({@link #gpuQuota}).
 */
public final class ComputeFake implements FakeService {
    /** How Compute Engine writes the URLs of its resources (selfLink, network, zone, ...). */
    public static final String BASE = "https://www.googleapis.com/compute/v1/";
    private static final String P = "/compute/v1/projects/([^/]+)";
    private static final Pattern NAME = Pattern.compile("[a-z]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern LABEL_KEY = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
    private static final Pattern LABEL_VALUE = Pattern.compile("[a-z0-9_-]{0,63}");
    private static final Pattern PORTS = Pattern.compile("(\\d{1,5})(?:-(\\d{1,5}))?");
    private static final Set<String> PROTOCOLS = Set.of("tcp", "udp", "icmp", "esp", "ah", "sctp", "ipip", "all");
    private static final Set<String> DISK_TYPES = Set.of("pd-standard", "pd-balanced", "pd-ssd", "pd-extreme", "hyperdisk-balanced");
    /** Image families the fake knows, by image project. */
    private static final Map<String, Set<String>> IMAGE_FAMILIES = Map.of(
        "deeplearning-platform-release", Set.of("common-cu129-ubuntu-2204-nvidia-580", "common-cu129-ubuntu-2404-nvidia-580",
            "common-cu128-ubuntu-2204-nvidia-570", "pytorch-2-9-cu129-ubuntu-2204-nvidia-580", "pytorch-2-9-cu129-ubuntu-2404-nvidia-580"),
        "debian-cloud", Set.of("debian-12", "debian-11"),
        "ubuntu-os-cloud", Set.of("ubuntu-2204-lts", "ubuntu-2404-lts-amd64"));
    /** GPUs an accelerator-optimized machine type comes with. */
    private static final Map<String, String> BUILT_IN_GPU = Map.of("a2-", "nvidia-tesla-a100", "g2-", "nvidia-l4", "a3-", "nvidia-h100-80gb");
    /** Accelerator types and the counts Compute Engine accepts for them on N1. */
    private static final Map<String, Set<Integer>> ACCELERATOR_COUNTS = Map.of(
        "nvidia-tesla-t4", Set.of(1, 2, 4), "nvidia-tesla-v100", Set.of(1, 2, 4, 8), "nvidia-tesla-p100", Set.of(1, 2, 4),
        "nvidia-tesla-p4", Set.of(1, 2, 4), "nvidia-tesla-a100", Set.of(1, 2, 4, 8, 16), "nvidia-l4", Set.of(1, 2, 4, 8),
        "nvidia-h100-80gb", Set.of(8));

    private final GcpFakes fakes;
    private final Catalog.ProviderCatalog catalog = Catalog.loadDefault().of(Provider.GCP);
    private final Map<String, Network> networks = new TreeMap<>();        // project/name
    private final Map<String, Subnetwork> subnetworks = new TreeMap<>();  // project/region/name
    private final Map<String, Firewall> firewalls = new TreeMap<>();      // project/name
    private final Map<String, Instance> instances = new TreeMap<>();      // project/zone/name
    private final Map<String, Op> operations = new HashMap<>();           // project/scope/name
    private final Map<String, Op> byRequestId = new HashMap<>();          // project/requestId
    private final Map<String, Set<String>> usedIps = new HashMap<>();     // subnetwork key -> addresses
    private final Map<String, Double> gpuQuota = new HashMap<>();         // region/METRIC -> limit
    private final AtomicLong ids = new AtomicLong(4_611_686_018_427_387_904L);
    private final AtomicLong natIps = new AtomicLong(1);

    /** One operation: answered RUNNING, DONE once its time has come (then {@code done} runs, or {@code error} is reported). */
    private static final class Op {
        final Operation.Builder op;
        final String key;
        final Instant doneAt;
        final Runnable done;
        final GoogleError error;
        final String errorCode;
        final QuotaExceededInfo quota;

        Op(Operation.Builder op, String key, Instant doneAt, Runnable done, GoogleError error, String errorCode, QuotaExceededInfo quota) {
            this.op = op;
            this.key = key;
            this.doneAt = doneAt;
            this.done = done;
            this.error = error;
            this.errorCode = errorCode;
            this.quota = quota;
        }
    }

    ComputeFake(GcpFakes fakes) {
        this.fakes = fakes;
    }

    // ------------------------------------------------------------------ public accessors (other fakes, tests)

    /** Whether the project has this network ({@code name}, or a full or partial URL). GKE and instances refer to it. */
    public synchronized boolean hasNetwork(String project, String network) {
        settle();
        return networkKey(project, network).map(networks::containsKey).orElse(false);
    }

    /** Whether the project has this subnetwork in the region ({@code name}, or a full or partial URL). */
    public synchronized boolean hasSubnetwork(String project, String region, String subnetwork) {
        settle();
        String ref = subnetwork.contains("/") ? subnetwork : "projects/" + project + "/regions/" + region + "/subnetworks/" + subnetwork;
        return subnetworkKey(project, ref).filter(k -> k.startsWith(project + "/" + region + "/")).map(subnetworks::containsKey).orElse(false);
    }

    /**
     * Sets the project's GPU quota in a region, e.g. {@code ("us-central1", "NVIDIA_T4_GPUS", 0)} (Spot GPUs count against
     * {@code PREEMPTIBLE_NVIDIA_T4_GPUS}). Unset quotas are unlimited.
     */
    public synchronized void gpuQuota(String region, String metric, double limit) {
        gpuQuota.put(region + "/" + metric, limit);
    }

    public synchronized Optional<Network> network(String project, String name) {
        settle();
        return Optional.ofNullable(networks.get(project + "/" + name));
    }

    public synchronized Optional<Subnetwork> subnetwork(String project, String region, String name) {
        settle();
        return Optional.ofNullable(subnetworks.get(project + "/" + region + "/" + name));
    }

    public synchronized Optional<Firewall> firewall(String project, String name) {
        settle();
        return Optional.ofNullable(firewalls.get(project + "/" + name));
    }

    public synchronized Optional<Instance> instance(String project, String zone, String name) {
        settle();
        return Optional.ofNullable(instances.get(project + "/" + zone + "/" + name));
    }

    public synchronized List<Network> networks(String project) {
        settle();
        return networks.entrySet().stream().filter(e -> e.getKey().startsWith(project + "/")).map(Map.Entry::getValue).toList();
    }

    public synchronized List<Subnetwork> subnetworks(String project) {
        settle();
        return subnetworks.entrySet().stream().filter(e -> e.getKey().startsWith(project + "/")).map(Map.Entry::getValue).toList();
    }

    public synchronized List<Firewall> firewalls(String project) {
        settle();
        return firewalls.entrySet().stream().filter(e -> e.getKey().startsWith(project + "/")).map(Map.Entry::getValue).toList();
    }

    public synchronized List<Instance> instances(String project) {
        settle();
        return instances.entrySet().stream().filter(e -> e.getKey().startsWith(project + "/")).map(Map.Entry::getValue).toList();
    }

    // ------------------------------------------------------------------ routes

    @Override
    public void routes(FakeHttp http) {
        http.route("POST", P + "/global/networks", r -> sync(r, () -> insertNetwork(r)));
        http.route("GET", P + "/global/networks", r -> sync(r, () -> listNetworks(r)));
        http.route("GET", P + "/global/networks/([^/]+)", r -> sync(r, () -> Json.print(requireNetwork(r.group(1), r.group(2)), r.enumsAsInts())));
        http.route("DELETE", P + "/global/networks/([^/]+)", r -> sync(r, () -> deleteNetwork(r)));
        http.route("PATCH", P + "/global/networks/([^/]+)", r -> sync(r, () -> patchNetwork(r)));

        http.route("POST", P + "/regions/([^/]+)/subnetworks", r -> sync(r, () -> insertSubnetwork(r)));
        http.route("GET", P + "/regions/([^/]+)/subnetworks", r -> sync(r, () -> listSubnetworks(r)));
        http.route("GET", P + "/aggregated/subnetworks", r -> sync(r, () -> aggregatedSubnetworks(r)));
        http.route("GET", P + "/regions/([^/]+)/subnetworks/([^/]+)", r -> sync(r, () -> Json.print(requireSubnetwork(r.group(1), r.group(2), r.group(3)), r.enumsAsInts())));
        http.route("DELETE", P + "/regions/([^/]+)/subnetworks/([^/]+)", r -> sync(r, () -> deleteSubnetwork(r)));
        http.route("PATCH", P + "/regions/([^/]+)/subnetworks/([^/]+)", r -> sync(r, () -> patchSubnetwork(r)));
        http.route("POST", P + "/regions/([^/]+)/subnetworks/([^/]+)/expandIpCidrRange", r -> sync(r, () -> expandIpCidrRange(r)));
        http.route("POST", P + "/regions/([^/]+)/subnetworks/([^/]+)/setPrivateIpGoogleAccess", r -> sync(r, () -> setPrivateIpGoogleAccess(r)));

        http.route("POST", P + "/global/firewalls", r -> sync(r, () -> insertFirewall(r)));
        http.route("GET", P + "/global/firewalls", r -> sync(r, () -> listFirewalls(r)));
        http.route("GET", P + "/global/firewalls/([^/]+)", r -> sync(r, () -> Json.print(requireFirewall(r.group(1), r.group(2)), r.enumsAsInts())));
        http.route("DELETE", P + "/global/firewalls/([^/]+)", r -> sync(r, () -> deleteFirewall(r)));
        http.route("PATCH", P + "/global/firewalls/([^/]+)", r -> sync(r, () -> changeFirewall(r, true)));
        http.route("PUT", P + "/global/firewalls/([^/]+)", r -> sync(r, () -> changeFirewall(r, false)));

        http.route("POST", P + "/zones/([^/]+)/instances", r -> sync(r, () -> insertInstance(r)));
        http.route("GET", P + "/zones/([^/]+)/instances", r -> sync(r, () -> listInstances(r)));
        http.route("GET", P + "/aggregated/instances", r -> sync(r, () -> aggregatedInstances(r)));
        http.route("GET", P + "/zones/([^/]+)/instances/([^/]+)", r -> sync(r, () -> Json.print(requireInstance(r.group(1), r.group(2), r.group(3)), r.enumsAsInts())));
        http.route("DELETE", P + "/zones/([^/]+)/instances/([^/]+)", r -> sync(r, () -> deleteInstance(r)));
        http.route("POST", P + "/zones/([^/]+)/instances/([^/]+)/setLabels", r -> sync(r, () -> setLabels(r)));
        http.route("POST", P + "/zones/([^/]+)/instances/([^/]+)/setTags", r -> sync(r, () -> setTags(r)));
        http.route("POST", P + "/zones/([^/]+)/instances/([^/]+)/setMachineType", r -> sync(r, () -> setMachineType(r)));
        http.route("POST", P + "/zones/([^/]+)/instances/([^/]+)/setScheduling", r -> sync(r, () -> setScheduling(r)));
        http.route("POST", P + "/zones/([^/]+)/instances/([^/]+)/setServiceAccount", r -> sync(r, () -> setServiceAccount(r)));
        http.route("POST", P + "/zones/([^/]+)/instances/([^/]+)/stop", r -> sync(r, () -> stop(r)));
        http.route("POST", P + "/zones/([^/]+)/instances/([^/]+)/start", r -> sync(r, () -> start(r)));
        http.route("POST", P + "/zones/([^/]+)/instances/([^/]+)/addAccessConfig", r -> sync(r, () -> addAccessConfig(r)));
        http.route("POST", P + "/zones/([^/]+)/instances/([^/]+)/deleteAccessConfig", r -> sync(r, () -> deleteAccessConfig(r)));

        http.route("GET", P + "/global/operations/([^/]+)", r -> sync(r, () -> getOperation(r.group(1), "global", r.group(2), r)));
        http.route("POST", P + "/global/operations/([^/]+)/wait", r -> waitOperation(r.group(1), "global", r.group(2), r));
        http.route("GET", P + "/regions/([^/]+)/operations/([^/]+)", r -> sync(r, () -> getOperation(r.group(1), "regions/" + r.group(2), r.group(3), r)));
        http.route("POST", P + "/regions/([^/]+)/operations/([^/]+)/wait", r -> waitOperation(r.group(1), "regions/" + r.group(2), r.group(3), r));
        http.route("GET", P + "/zones/([^/]+)/operations/([^/]+)", r -> sync(r, () -> getOperation(r.group(1), "zones/" + r.group(2), r.group(3), r)));
        http.route("POST", P + "/zones/([^/]+)/operations/([^/]+)/wait", r -> waitOperation(r.group(1), "zones/" + r.group(2), r.group(3), r));
    }

    private interface Work {
        String run();
    }

    /** Whether the request being served asked for enums as numbers (requests are served one at a time). */
    private boolean ints;

    /** One request at a time, after finishing whatever operations are due. */
    private synchronized FakeHttp.Response sync(FakeHttp.Request r, Work w) {
        settle();
        ints = r.enumsAsInts();
        return FakeHttp.Response.ok(w.run());
    }

    // ------------------------------------------------------------------ networks

    private String insertNetwork(FakeHttp.Request r) {
        String project = r.group(1);
        Network in = Json.parse(r.body(), Network.newBuilder()).build();
        return deduplicated(project, r, () -> {
            name(in.getName(), "resource.name");
            description(in.getDescription());
            if (in.hasIPv4Range()) throw GoogleError.invalid("Invalid value for field 'resource.IPv4Range': '" + in.getIPv4Range() + "'. Legacy networks can no longer be created.");
            if (!in.hasAutoCreateSubnetworks()) {
                throw GoogleError.invalid("Invalid value for field 'resource.autoCreateSubnetworks': ''. The fake models custom-mode networks only: set autoCreateSubnetworks to false.");
            }
            if (in.getAutoCreateSubnetworks()) {
                throw GoogleError.invalid("Invalid value for field 'resource.autoCreateSubnetworks': 'true'. The fake models custom-mode networks only.");
            }
            if (in.hasMtu() && (in.getMtu() < 1300 || in.getMtu() > 8896)) {
                throw GoogleError.invalid("Invalid value for field 'resource.mtu': '" + in.getMtu() + "'. Must be between 1300 and 8896.");
            }
            String key = project + "/" + in.getName();
            String rel = "projects/" + project + "/global/networks/" + in.getName();
            if (networks.containsKey(key)) throw GoogleError.alreadyExists(rel);
            long id = ids.incrementAndGet();
            Network.Builder n = in.toBuilder().clearSubnetworks().setKind("compute#network").setId(id).setSelfLink(BASE + rel)
                .setSelfLinkWithId(BASE + "projects/" + project + "/global/networks/" + id).setCreationTimestamp(now())
                .setRoutingConfig(in.hasRoutingConfig() && in.getRoutingConfig().hasRoutingMode() ? in.getRoutingConfig()
                    : NetworkRoutingConfig.newBuilder().setRoutingMode("REGIONAL").build())
                .setMtu(in.hasMtu() ? in.getMtu() : 1460).setNetworkFirewallPolicyEnforcementOrder("AFTER_CLASSIC_FIREWALL");
            networks.put(key, n.build());
            return operation(project, "global", "insert", BASE + rel, id, null);
        });
    }

    private String listNetworks(FakeHttp.Request r) {
        String project = r.group(1);
        List<Network> all = networks.entrySet().stream().filter(e -> e.getKey().startsWith(project + "/")).map(Map.Entry::getValue).toList();
        Page<Network> page = page(all, Network::getName, filter(r, Network.getDescriptor()), r);
        NetworkList.Builder b = NetworkList.newBuilder().setKind("compute#networkList").setId("projects/" + project + "/global/networks")
            .setSelfLink(BASE + "projects/" + project + "/global/networks").addAllItems(page.items);
        page.next.ifPresent(b::setNextPageToken);
        return Json.print(b, r.enumsAsInts());
    }

    private Network requireNetwork(String project, String name) {
        Network n = networks.get(project + "/" + name);
        if (n == null) throw GoogleError.notFound("projects/" + project + "/global/networks/" + name);
        return n;
    }

    private String deleteNetwork(FakeHttp.Request r) {
        String project = r.group(1);
        Network n = requireNetwork(project, r.group(2));
        List<String> users = new ArrayList<>();
        subnetworks.forEach((k, s) -> {
            if (s.getNetwork().equals(n.getSelfLink())) users.add(s.getSelfLink());
        });
        firewalls.forEach((k, f) -> {
            if (f.getNetwork().equals(n.getSelfLink())) users.add(f.getSelfLink());
        });
        instances.forEach((k, i) -> {
            if (i.getNetworkInterfacesList().stream().anyMatch(x -> x.getNetwork().equals(n.getSelfLink()))) users.add(i.getSelfLink());
        });
        if (!users.isEmpty()) throw inUse(n.getSelfLink(), users.get(0));
        String key = project + "/" + n.getName();
        return operation(project, "global", "delete", n.getSelfLink(), n.getId(), () -> networks.remove(key));
    }

    /** networks.patch: Compute Engine lets only the routing configuration (and MTU) change. */
    private String patchNetwork(FakeHttp.Request r) {
        String project = r.group(1);
        Network current = requireNetwork(project, r.group(2));
        Network patch = Json.parse(r.body(), Network.newBuilder()).build();
        refuseChanges(patch, current, Set.of("routingConfig", "mtu"), "networks.patch");
        Network.Builder next = current.toBuilder();
        if (patch.hasRoutingConfig()) next.setRoutingConfig(patch.getRoutingConfig());
        if (patch.hasMtu()) next.setMtu(patch.getMtu());
        networks.put(project + "/" + current.getName(), next.build());
        return operation(project, "global", "patch", current.getSelfLink(), current.getId(), null);
    }

    private void refreshNetworkSubnetworks(String networkSelfLink) {
        networks.replaceAll((k, n) -> {
            if (!n.getSelfLink().equals(networkSelfLink)) return n;
            List<String> links = subnetworks.values().stream().filter(s -> s.getNetwork().equals(networkSelfLink)).map(Subnetwork::getSelfLink).sorted().toList();
            return n.toBuilder().clearSubnetworks().addAllSubnetworks(links).build();
        });
    }

    // ------------------------------------------------------------------ subnetworks

    private String insertSubnetwork(FakeHttp.Request r) {
        String project = r.group(1);
        String region = region(r.group(2));
        Subnetwork in = Json.parse(r.body(), Subnetwork.newBuilder()).build();
        return deduplicated(project, r, () -> {
            name(in.getName(), "resource.name");
            description(in.getDescription());
            if (in.hasRegion() && !lastSegment(in.getRegion()).equals(region)) {
                throw GoogleError.invalid("Invalid value for field 'resource.region': '" + in.getRegion() + "'. The region must be " + region + ".");
            }
            if (!in.hasNetwork()) throw GoogleError.invalid("Invalid value for field 'resource.network': ''. The network is required.");
            String nKey = networkKey(project, in.getNetwork())
                .orElseThrow(() -> GoogleError.invalid("Invalid value for field 'resource.network': '" + in.getNetwork() + "'. The URL is malformed."));
            Network network = networks.get(nKey);
            if (network == null) throw GoogleError.notFound(relative(nKey, "global/networks"));
            if (!in.hasIpCidrRange()) throw GoogleError.invalid("Invalid value for field 'resource.ipCidrRange': ''. The IP CIDR range is required.");
            Cidr range = subnetRange(in.getIpCidrRange(), "resource.ipCidrRange");
            checkNoOverlap(network.getSelfLink(), range, null);
            String key = project + "/" + region + "/" + in.getName();
            String rel = "projects/" + project + "/regions/" + region + "/subnetworks/" + in.getName();
            if (subnetworks.containsKey(key)) throw GoogleError.alreadyExists(rel);
            long id = ids.incrementAndGet();
            Subnetwork s = in.toBuilder().setKind("compute#subnetwork").setId(id).setSelfLink(BASE + rel).setCreationTimestamp(now())
                .setRegion(BASE + "projects/" + project + "/regions/" + region).setNetwork(network.getSelfLink())
                .setGatewayAddress(ip(range.base() + 1)).setFingerprint(fingerprint())
                .setPrivateIpGoogleAccess(in.hasPrivateIpGoogleAccess() && in.getPrivateIpGoogleAccess())
                .setStackType(in.hasStackType() ? in.getStackType() : "IPV4_ONLY").setPurpose(in.hasPurpose() ? in.getPurpose() : "PRIVATE")
                .build();
            subnetworks.put(key, s);
            refreshNetworkSubnetworks(network.getSelfLink());
            return operation(project, "regions/" + region, "insert", BASE + rel, id, null);
        });
    }

    private Cidr subnetRange(String text, String field) {
        Cidr c;
        try {
            c = Cidr.parse(text);
        } catch (IllegalArgumentException e) {
            throw GoogleError.invalid("Invalid value for field '" + field + "': '" + text + "'. Invalid IPCidrRange: " + e.getMessage());
        }
        if (c.prefix() < 8 || c.prefix() > 29) {
            throw GoogleError.invalid("Invalid value for field '" + field + "': '" + text + "'. The prefix length must be between /8 and /29.");
        }
        return c;
    }

    private void checkNoOverlap(String networkSelfLink, Cidr range, String except) {
        for (Subnetwork other : subnetworks.values()) {
            if (!other.getNetwork().equals(networkSelfLink) || other.getSelfLink().equals(except)) continue;
            if (Cidr.parse(other.getIpCidrRange()).overlaps(range)) {
                throw GoogleError.invalid("Invalid IPCidrRange: " + range + " conflicts with existing subnetwork '" + other.getName()
                    + "' in region '" + lastSegment(other.getRegion()) + "'.");
            }
        }
    }

    private String listSubnetworks(FakeHttp.Request r) {
        String project = r.group(1);
        String region = region(r.group(2));
        List<Subnetwork> all = subnetworks.entrySet().stream().filter(e -> e.getKey().startsWith(project + "/" + region + "/"))
            .map(Map.Entry::getValue).toList();
        Page<Subnetwork> page = page(all, Subnetwork::getName, filter(r, Subnetwork.getDescriptor()), r);
        SubnetworkList.Builder b = SubnetworkList.newBuilder().setKind("compute#subnetworkList")
            .setId("projects/" + project + "/regions/" + region + "/subnetworks")
            .setSelfLink(BASE + "projects/" + project + "/regions/" + region + "/subnetworks").addAllItems(page.items);
        page.next.ifPresent(b::setNextPageToken);
        return Json.print(b, r.enumsAsInts());
    }

    private String aggregatedSubnetworks(FakeHttp.Request r) {
        String project = r.group(1);
        List<Subnetwork> all = subnetworks.entrySet().stream().filter(e -> e.getKey().startsWith(project + "/")).map(Map.Entry::getValue).toList();
        Page<Subnetwork> page = page(all, s -> lastSegment(s.getRegion()) + "/" + s.getName(), filter(r, Subnetwork.getDescriptor()), r);
        Map<String, SubnetworksScopedList.Builder> scopes = new TreeMap<>();
        for (Subnetwork s : page.items) {
            scopes.computeIfAbsent("regions/" + lastSegment(s.getRegion()), k -> SubnetworksScopedList.newBuilder()).addSubnetworks(s);
        }
        SubnetworkAggregatedList.Builder b = SubnetworkAggregatedList.newBuilder().setKind("compute#subnetworkAggregatedList")
            .setId("projects/" + project + "/aggregated/subnetworks").setSelfLink(BASE + "projects/" + project + "/aggregated/subnetworks");
        scopes.forEach((k, v) -> b.putItems(k, v.build()));
        page.next.ifPresent(b::setNextPageToken);
        return Json.print(b, r.enumsAsInts());
    }

    private Subnetwork requireSubnetwork(String project, String region, String name) {
        Subnetwork s = subnetworks.get(project + "/" + region(region) + "/" + name);
        if (s == null) throw GoogleError.notFound("projects/" + project + "/regions/" + region + "/subnetworks/" + name);
        return s;
    }

    private String deleteSubnetwork(FakeHttp.Request r) {
        String project = r.group(1);
        Subnetwork s = requireSubnetwork(project, r.group(2), r.group(3));
        for (Instance i : instances.values()) {
            if (i.getNetworkInterfacesList().stream().anyMatch(x -> x.getSubnetwork().equals(s.getSelfLink()))) {
                throw inUse(s.getSelfLink(), i.getSelfLink());
            }
        }
        String key = project + "/" + region(r.group(2)) + "/" + s.getName();
        return operation(project, "regions/" + region(r.group(2)), "delete", s.getSelfLink(), s.getId(), () -> {
            subnetworks.remove(key);
            usedIps.remove(key);
            refreshNetworkSubnetworks(s.getNetwork());
        });
    }

    /**
     * subnetworks.patch: the current fingerprint is required (412 when stale); range, description, network,
     * Private Google Access and name cannot change here (expandIpCidrRange and setPrivateIpGoogleAccess do those).
     */
    private String patchSubnetwork(FakeHttp.Request r) {
        String project = r.group(1);
        Subnetwork current = requireSubnetwork(project, r.group(2), r.group(3));
        Subnetwork patch = Json.parse(r.body(), Subnetwork.newBuilder()).build();
        if (!patch.hasFingerprint()) throw GoogleError.invalid("Invalid value for field 'resource.fingerprint': ''. The fingerprint is required to patch a subnetwork.");
        if (!patch.getFingerprint().equals(current.getFingerprint())) throw conditionNotMet("Supplied fingerprint does not match current metadata fingerprint.");
        refuseChanges(patch, current, Set.of("fingerprint", "logConfig", "enableFlowLogs", "secondaryIpRanges", "stackType", "ipv6AccessType",
            "allowSubnetCidrRoutesOverlap", "role", "privateIpv6GoogleAccess"), "subnetworks.patch");
        Subnetwork.Builder next = current.toBuilder();
        for (Map.Entry<FieldDescriptor, Object> e : patch.getAllFields().entrySet()) {
            if (!e.getKey().getJsonName().equals("fingerprint")) next.setField(e.getKey(), e.getValue());
        }
        Subnetwork s = next.setFingerprint(fingerprint()).build();
        subnetworks.put(project + "/" + region(r.group(2)) + "/" + s.getName(), s);
        return operation(project, "regions/" + region(r.group(2)), "patch", s.getSelfLink(), s.getId(), null);
    }

    private String expandIpCidrRange(FakeHttp.Request r) {
        String project = r.group(1);
        Subnetwork current = requireSubnetwork(project, r.group(2), r.group(3));
        SubnetworksExpandIpCidrRangeRequest in = Json.parse(r.body(), SubnetworksExpandIpCidrRangeRequest.newBuilder()).build();
        Cidr now = Cidr.parse(current.getIpCidrRange());
        Cidr wanted = subnetRange(in.getIpCidrRange(), "ipCidrRange");
        if (!wanted.contains(now) || wanted.prefix() >= now.prefix()) {
            throw GoogleError.invalid("Invalid value for field 'ipCidrRange': '" + in.getIpCidrRange() + "'. The new range must be larger than and contain the current range "
                + current.getIpCidrRange() + " (a subnetwork's range can only be expanded).");
        }
        checkNoOverlap(current.getNetwork(), wanted, current.getSelfLink());
        Subnetwork s = current.toBuilder().setIpCidrRange(wanted.toString()).setFingerprint(fingerprint()).build();
        subnetworks.put(project + "/" + region(r.group(2)) + "/" + s.getName(), s);
        return operation(project, "regions/" + region(r.group(2)), "expandIpCidrRange", s.getSelfLink(), s.getId(), null);
    }

    private String setPrivateIpGoogleAccess(FakeHttp.Request r) {
        String project = r.group(1);
        Subnetwork current = requireSubnetwork(project, r.group(2), r.group(3));
        SubnetworksSetPrivateIpGoogleAccessRequest in = Json.parse(r.body(), SubnetworksSetPrivateIpGoogleAccessRequest.newBuilder()).build();
        Subnetwork s = current.toBuilder().setPrivateIpGoogleAccess(in.getPrivateIpGoogleAccess()).setFingerprint(fingerprint()).build();
        subnetworks.put(project + "/" + region(r.group(2)) + "/" + s.getName(), s);
        return operation(project, "regions/" + region(r.group(2)), "setPrivateIpGoogleAccess", s.getSelfLink(), s.getId(), null);
    }

    // ------------------------------------------------------------------ firewalls

    private String insertFirewall(FakeHttp.Request r) {
        String project = r.group(1);
        Firewall in = Json.parse(r.body(), Firewall.newBuilder()).build();
        return deduplicated(project, r, () -> {
            name(in.getName(), "resource.name");
            String key = project + "/" + in.getName();
            String rel = "projects/" + project + "/global/firewalls/" + in.getName();
            Firewall f = validFirewall(project, in, null);
            if (firewalls.containsKey(key)) throw GoogleError.alreadyExists(rel);
            long id = ids.incrementAndGet();
            f = f.toBuilder().setKind("compute#firewall").setId(id).setSelfLink(BASE + rel).setCreationTimestamp(now()).build();
            firewalls.put(key, f);
            return operation(project, "global", "insert", BASE + rel, id, null);
        });
    }

    /** The rule as stored: references resolved, defaults applied, everything Compute Engine checks checked. */
    private Firewall validFirewall(String project, Firewall in, Firewall current) {
        description(in.getDescription());
        String networkRef = in.hasNetwork() ? in.getNetwork() : "global/networks/default";
        String nKey = networkKey(project, networkRef)
            .orElseThrow(() -> GoogleError.invalid("Invalid value for field 'resource.network': '" + networkRef + "'. The URL is malformed."));
        Network network = networks.get(nKey);
        if (network == null) throw GoogleError.notFound(relative(nKey, "global/networks"));
        String direction = in.hasDirection() ? in.getDirection() : "INGRESS";
        if (!direction.equals("INGRESS") && !direction.equals("EGRESS")) {
            throw GoogleError.invalid("Invalid value for field 'resource.direction': '" + direction + "'. Must be INGRESS or EGRESS.");
        }
        if (current != null) {
            if (!network.getSelfLink().equals(current.getNetwork())) {
                throw GoogleError.invalid("Invalid value for field 'resource.network': '" + in.getNetwork() + "'. The network of a firewall rule cannot be changed.");
            }
            if (!direction.equals(current.getDirection())) {
                throw GoogleError.invalid("Invalid value for field 'resource.direction': '" + direction + "'. The direction of a firewall rule cannot be changed.");
            }
        }
        if ((in.getAllowedCount() == 0) == (in.getDeniedCount() == 0)) {
            throw GoogleError.invalid("Invalid value for field 'resource': ''. Exactly one of 'allowed' or 'denied' must be specified.");
        }
        for (int i = 0; i < in.getAllowedCount(); i++) protocol(in.getAllowed(i).getIPProtocol(), in.getAllowed(i).getPortsList(), "resource.allowed[" + i + "]");
        for (int i = 0; i < in.getDeniedCount(); i++) protocol(in.getDenied(i).getIPProtocol(), in.getDenied(i).getPortsList(), "resource.denied[" + i + "]");
        int priority = in.hasPriority() ? in.getPriority() : 1000;
        if (priority < 0 || priority > 65535) throw GoogleError.invalid("Invalid value for field 'resource.priority': '" + priority + "'. Must be between 0 and 65535.");
        for (int i = 0; i < in.getSourceRangesCount(); i++) range(in.getSourceRanges(i), "resource.sourceRanges[" + i + "]");
        for (int i = 0; i < in.getDestinationRangesCount(); i++) range(in.getDestinationRanges(i), "resource.destinationRanges[" + i + "]");
        if (direction.equals("EGRESS") && (in.getSourceTagsCount() > 0 || in.getSourceServiceAccountsCount() > 0)) {
            throw GoogleError.invalid("Invalid value for field 'resource.sourceTags': ''. Source tags and source service accounts cannot be set on EGRESS rules.");
        }
        if (in.getTargetTagsCount() > 0 && in.getTargetServiceAccountsCount() > 0) {
            throw GoogleError.invalid("Invalid value for field 'resource.targetTags': ''. Target tags and target service accounts cannot both be set.");
        }
        for (int i = 0; i < in.getTargetTagsCount(); i++) networkTag(in.getTargetTags(i), "resource.targetTags[" + i + "]");
        for (int i = 0; i < in.getSourceTagsCount(); i++) networkTag(in.getSourceTags(i), "resource.sourceTags[" + i + "]");
        return in.toBuilder().setNetwork(network.getSelfLink()).setDirection(direction).setPriority(priority)
            .setDisabled(in.hasDisabled() && in.getDisabled())
            .setLogConfig(in.hasLogConfig() ? in.getLogConfig() : com.google.cloud.compute.v1.FirewallLogConfig.newBuilder().setEnable(false).build())
            .build();
    }

    private static void protocol(String protocol, List<String> ports, String field) {
        String p = protocol.toLowerCase(Locale.ROOT);
        if (!PROTOCOLS.contains(p) && !p.matches("\\d{1,3}")) {
            throw GoogleError.invalid("Invalid value for field '" + field + ".IPProtocol': '" + protocol + "'. Unknown protocol.");
        }
        if (!ports.isEmpty() && !Set.of("tcp", "udp", "sctp").contains(p)) {
            throw GoogleError.invalid("Invalid value for field '" + field + ".ports': '" + ports.get(0) + "'. Ports may only be given for tcp, udp and sctp.");
        }
        for (String port : ports) {
            Matcher m = PORTS.matcher(port);
            if (!m.matches() || Integer.parseInt(m.group(1)) > 65535 || (m.group(2) != null
                && (Integer.parseInt(m.group(2)) > 65535 || Integer.parseInt(m.group(2)) < Integer.parseInt(m.group(1))))) {
                throw GoogleError.invalid("Invalid value for field '" + field + ".ports': '" + port + "'. Ports must be a number or a range (e.g. 8000-8080) within 0-65535.");
            }
        }
    }

    private static void range(String cidr, String field) {
        try {
            Cidr.parse(cidr);
        } catch (IllegalArgumentException e) {
            throw GoogleError.invalid("Invalid value for field '" + field + "': '" + cidr + "'. Must be a CIDR-formatted IP range.");
        }
    }

    private static void networkTag(String tag, String field) {
        if (!NAME.matcher(tag).matches()) {
            throw GoogleError.invalid("Invalid value for field '" + field + "': '" + tag + "'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'");
        }
    }

    private String listFirewalls(FakeHttp.Request r) {
        String project = r.group(1);
        List<Firewall> all = firewalls.entrySet().stream().filter(e -> e.getKey().startsWith(project + "/")).map(Map.Entry::getValue).toList();
        Page<Firewall> page = page(all, Firewall::getName, filter(r, Firewall.getDescriptor()), r);
        FirewallList.Builder b = FirewallList.newBuilder().setKind("compute#firewallList").setId("projects/" + project + "/global/firewalls")
            .setSelfLink(BASE + "projects/" + project + "/global/firewalls").addAllItems(page.items);
        page.next.ifPresent(b::setNextPageToken);
        return Json.print(b, r.enumsAsInts());
    }

    private Firewall requireFirewall(String project, String name) {
        Firewall f = firewalls.get(project + "/" + name);
        if (f == null) throw GoogleError.notFound("projects/" + project + "/global/firewalls/" + name);
        return f;
    }

    private String deleteFirewall(FakeHttp.Request r) {
        String project = r.group(1);
        Firewall f = requireFirewall(project, r.group(2));
        String key = project + "/" + f.getName();
        return operation(project, "global", "delete", f.getSelfLink(), f.getId(), () -> firewalls.remove(key));
    }

    /** PATCH merges the given fields into the rule; PUT replaces the rule with the body. Network and direction stay. */
    private String changeFirewall(FakeHttp.Request r, boolean patch) {
        String project = r.group(1);
        Firewall current = requireFirewall(project, r.group(2));
        Firewall body = Json.parse(r.body(), Firewall.newBuilder()).build();
        if (body.hasName() && !body.getName().equals(current.getName())) {
            throw GoogleError.invalid("Invalid value for field 'resource.name': '" + body.getName() + "'. The name of a firewall rule cannot be changed.");
        }
        Firewall merged;
        if (patch) {
            Firewall.Builder b = current.toBuilder();
            for (Map.Entry<FieldDescriptor, Object> e : body.getAllFields().entrySet()) b.setField(e.getKey(), e.getValue());
            // The other list of a direction's ranges, or allowed/denied, is cleared by the patch that sets its counterpart.
            if (body.getAllowedCount() > 0 && body.getDeniedCount() == 0) b.clearDenied();
            if (body.getDeniedCount() > 0 && body.getAllowedCount() == 0) b.clearAllowed();
            merged = b.build();
        } else {
            merged = body.toBuilder().setName(current.getName()).build(); // all fields replaced: an omitted network means the default one
        }
        Firewall f = validFirewall(project, merged, current).toBuilder().setKind("compute#firewall").setId(current.getId())
            .setSelfLink(current.getSelfLink()).setCreationTimestamp(current.getCreationTimestamp()).build();
        firewalls.put(project + "/" + current.getName(), f);
        return operation(project, "global", patch ? "patch" : "update", f.getSelfLink(), f.getId(), null);
    }

    // ------------------------------------------------------------------ instances

    private String insertInstance(FakeHttp.Request r) {
        String project = r.group(1);
        String zone = zone(r.group(2));
        String region = regionOf(zone);
        Instance in = Json.parse(r.body(), Instance.newBuilder()).build();
        return deduplicated(project, r, () -> {
            name(in.getName(), "resource.name");
            description(in.getDescription());
            String key = project + "/" + zone + "/" + in.getName();
            String rel = "projects/" + project + "/zones/" + zone + "/instances/" + in.getName();
            if (instances.containsKey(key)) throw GoogleError.alreadyExists(rel);
            if (!in.hasMachineType()) throw GoogleError.invalid("Invalid value for field 'resource.machineType': ''. The machine type is required.");
            String machineType = machineType(project, zone, in.getMachineType(), "resource.machineType");
            List<AcceleratorConfig> accelerators = accelerators(project, zone, machineType, in.getGuestAcceleratorsList());
            Scheduling scheduling = scheduling(in.hasScheduling() ? in.getScheduling() : Scheduling.getDefaultInstance(), !accelerators.isEmpty(), "resource.scheduling");
            labels(in.getLabelsMap(), "resource.labels");
            if (in.hasTags()) {
                for (int i = 0; i < in.getTags().getItemsCount(); i++) networkTag(in.getTags().getItems(i), "resource.tags.items[" + i + "]");
            }
            List<ServiceAccount> accounts = serviceAccounts(project, in.getServiceAccountsList(), "resource.serviceAccounts");
            if (in.getNetworkInterfacesCount() == 0) {
                throw GoogleError.invalid("Invalid value for field 'resource.networkInterfaces': ''. At least one network interface is required.");
            }
            List<NetworkInterface> nics = new ArrayList<>();
            Map<String, String> claimed = new LinkedHashMap<>();
            for (int i = 0; i < in.getNetworkInterfacesCount(); i++) nics.add(networkInterface(project, region, in.getNetworkInterfaces(i), i, claimed));
            List<AttachedDisk> disks = disks(project, zone, machineType, in.getName(), in.getDisksList(), in.getLabelsMap());
            long id = ids.incrementAndGet();
            Instance.Builder b = in.toBuilder().setKind("compute#instance").setId(id).setSelfLink(BASE + rel).setCreationTimestamp(now())
                .setZone(BASE + "projects/" + project + "/zones/" + zone).setMachineType(BASE + "projects/" + project + "/zones/" + zone + "/machineTypes/" + machineType)
                .clearGuestAccelerators().addAllGuestAccelerators(accelerators).setScheduling(scheduling)
                .clearServiceAccounts().addAllServiceAccounts(accounts).clearNetworkInterfaces().addAllNetworkInterfaces(nics)
                .clearDisks().addAllDisks(disks).setStatus("PROVISIONING").setLabelFingerprint(fingerprint()).setFingerprint(fingerprint())
                .setTags((in.hasTags() ? in.getTags().toBuilder() : Tags.newBuilder()).setFingerprint(fingerprint()))
                .setCpuPlatform("Intel Broadwell").setCanIpForward(in.hasCanIpForward() && in.getCanIpForward())
                .setDeletionProtection(in.hasDeletionProtection() && in.getDeletionProtection()).setStartRestricted(false);
            Instance instance = b.build();
            Optional<QuotaExceededInfo> overQuota = quotaProblem(project, region, instance, key);
            if (overQuota.isPresent()) {
                QuotaExceededInfo q = overQuota.get();
                String metric = q.getLimitName();
                GoogleError e = new GoogleError(403, "FORBIDDEN", "QUOTA_EXCEEDED", "Quota '" + metric + "' exceeded.  Limit: " + q.getLimit()
                    + " in region " + region + ".", Map.of());
                return operation(project, "zones/" + zone, "insert", BASE + rel, id, null, e, "QUOTA_EXCEEDED", q);
            }
            instances.put(key, instance);
            claimed.forEach((subnet, address) -> usedIps.computeIfAbsent(subnet, k -> new HashSet<>()).add(address));
            return operation(project, "zones/" + zone, "insert", BASE + rel, id, () -> setStatus(key, "RUNNING", true));
        });
    }

    private void setStatus(String key, String status, boolean started) {
        Instance i = instances.get(key);
        if (i == null) return;
        Instance.Builder b = i.toBuilder().setStatus(status);
        if (started) b.setLastStartTimestamp(now());
        if (status.equals("TERMINATED")) b.setLastStopTimestamp(now());
        instances.put(key, b.build());
    }

    private String machineType(String project, String zone, String ref, String field) {
        Matcher m = Pattern.compile("projects/([^/]+)/zones/([^/]+)/machineTypes/([^/]+)").matcher(absolute(project, ref));
        if (!m.matches()) throw GoogleError.invalid("Invalid value for field '" + field + "': '" + ref + "'. The URL is malformed.");
        if (!m.group(2).equals(zone)) {
            throw GoogleError.invalid("Invalid value for field '" + field + "': '" + ref + "'. Machine type must be in the instance's zone " + zone + ".");
        }
        String type = m.group(3);
        if (!catalog.machineTypes().containsKey(type) && !catalog.endpointMachineTypes().containsKey(type)) {
            throw GoogleError.invalid("Invalid value for field '" + field + "': '" + ref + "'. Machine type with name '" + type
                + "' does not exist in zone '" + zone + "'.");
        }
        return type;
    }

    private static Optional<String> builtInGpu(String machineType) {
        return BUILT_IN_GPU.entrySet().stream().filter(e -> machineType.startsWith(e.getKey())).map(Map.Entry::getValue).findFirst();
    }

    /** GPUs as stored: explicit ones on N1 only; accelerator-optimized types come with theirs. */
    private List<AcceleratorConfig> accelerators(String project, String zone, String machineType, List<AcceleratorConfig> given) {
        Optional<String> builtIn = builtInGpu(machineType);
        if (builtIn.isPresent()) {
            int count = catalog.machineTypes().containsKey(machineType) ? Math.max(1, catalog.machineTypes().get(machineType).gpus()) : 1;
            AcceleratorConfig implied = AcceleratorConfig.newBuilder().setAcceleratorCount(count)
                .setAcceleratorType(BASE + "projects/" + project + "/zones/" + zone + "/acceleratorTypes/" + builtIn.get()).build();
            for (AcceleratorConfig a : given) {
                String type = lastSegment(a.getAcceleratorType());
                if (!type.equals(builtIn.get()) || a.getAcceleratorCount() != count) {
                    throw GoogleError.invalid("Invalid value for field 'resource.guestAccelerators': '" + type + "'. Machine type " + machineType
                        + " comes with " + count + " " + builtIn.get() + " and takes no other accelerators.");
                }
            }
            return List.of(implied);
        }
        List<AcceleratorConfig> out = new ArrayList<>();
        for (int i = 0; i < given.size(); i++) {
            AcceleratorConfig a = given.get(i);
            String field = "resource.guestAccelerators[" + i + "]";
            Matcher m = Pattern.compile("projects/([^/]+)/zones/([^/]+)/acceleratorTypes/([^/]+)").matcher(absolute(project, a.getAcceleratorType()));
            if (!m.matches()) throw GoogleError.invalid("Invalid value for field '" + field + ".acceleratorType': '" + a.getAcceleratorType() + "'. The URL is malformed.");
            if (!m.group(2).equals(zone)) {
                throw GoogleError.invalid("Invalid value for field '" + field + ".acceleratorType': '" + a.getAcceleratorType()
                    + "'. Accelerator type must be in the instance's zone " + zone + ".");
            }
            String type = m.group(3);
            Set<Integer> counts = ACCELERATOR_COUNTS.get(type);
            if (counts == null || (!catalog.accelerators().containsKey(type) && !BUILT_IN_GPU.containsValue(type))) {
                throw GoogleError.invalid("Invalid value for field '" + field + ".acceleratorType': '" + a.getAcceleratorType()
                    + "'. Accelerator type '" + type + "' does not exist in zone '" + zone + "'.");
            }
            if (!counts.contains(a.getAcceleratorCount())) {
                throw GoogleError.invalid("Invalid value for field '" + field + ".acceleratorCount': '" + a.getAcceleratorCount() + "'. " + type
                    + " can be attached in counts of " + new TreeSet<>(counts) + ".");
            }
            if (!machineType.startsWith("n1-")) {
                throw GoogleError.invalid("Invalid value for field '" + field + ".acceleratorType': '" + type + "'. Accelerators can only be attached to N1 machine types, not "
                    + machineType + ".");
            }
            out.add(AcceleratorConfig.newBuilder().setAcceleratorCount(a.getAcceleratorCount())
                .setAcceleratorType(BASE + "projects/" + project + "/zones/" + zone + "/acceleratorTypes/" + type).build());
        }
        return out;
    }

    /** Scheduling as stored: defaults filled in, Spot and GPU rules enforced. */
    private static Scheduling scheduling(Scheduling s, boolean gpus, String field) {
        String model = s.hasProvisioningModel() ? s.getProvisioningModel() : "STANDARD";
        if (!model.equals("STANDARD") && !model.equals("SPOT")) {
            throw GoogleError.invalid("Invalid value for field '" + field + ".provisioningModel': '" + model + "'. Must be STANDARD or SPOT.");
        }
        boolean spot = model.equals("SPOT");
        if (spot && s.hasPreemptible() && s.getPreemptible()) {
            throw GoogleError.invalid("Invalid value for field '" + field + ".preemptible': 'true'. Preemptible and the SPOT provisioning model cannot both be set.");
        }
        boolean preemptible = spot || (s.hasPreemptible() && s.getPreemptible());
        String onHostMaintenance = s.hasOnHostMaintenance() ? s.getOnHostMaintenance() : preemptible ? "TERMINATE" : "MIGRATE";
        if (!onHostMaintenance.equals("MIGRATE") && !onHostMaintenance.equals("TERMINATE")) {
            throw GoogleError.invalid("Invalid value for field '" + field + ".onHostMaintenance': '" + onHostMaintenance + "'. Must be MIGRATE or TERMINATE.");
        }
        if (preemptible && onHostMaintenance.equals("MIGRATE")) {
            throw GoogleError.invalid("Invalid value for field '" + field + ".onHostMaintenance': 'MIGRATE'. Spot and preemptible instances must terminate on host maintenance.");
        }
        if (gpus && onHostMaintenance.equals("MIGRATE")) {
            throw GoogleError.invalid("Invalid value for field '" + field + ".onHostMaintenance': 'MIGRATE'. Instances with guest accelerators do not support live migration.");
        }
        boolean automaticRestart = s.hasAutomaticRestart() ? s.getAutomaticRestart() : !preemptible;
        if (preemptible && automaticRestart) {
            throw GoogleError.invalid("Invalid value for field '" + field + ".automaticRestart': 'true'. Spot and preemptible instances cannot be restarted automatically.");
        }
        Scheduling.Builder out = s.toBuilder().setProvisioningModel(model).setOnHostMaintenance(onHostMaintenance)
            .setAutomaticRestart(automaticRestart).setPreemptible(s.hasPreemptible() && s.getPreemptible());
        if (s.hasInstanceTerminationAction()) {
            String action = s.getInstanceTerminationAction();
            if (!action.equals("STOP") && !action.equals("DELETE")) {
                throw GoogleError.invalid("Invalid value for field '" + field + ".instanceTerminationAction': '" + action + "'. Must be STOP or DELETE.");
            }
            if (!spot && !s.hasMaxRunDuration()) {
                throw GoogleError.invalid("Invalid value for field '" + field + ".instanceTerminationAction': '" + action
                    + "'. A termination action needs the SPOT provisioning model or a maximum run duration.");
            }
        } else if (spot) {
            out.setInstanceTerminationAction("STOP");
        }
        return out.build();
    }

    private static void labels(Map<String, String> labels, String field) {
        if (labels.size() > 64) throw GoogleError.invalid("Invalid value for field '" + field + "': ''. At most 64 labels are allowed.");
        labels.forEach((k, v) -> {
            if (!LABEL_KEY.matcher(k).matches()) {
                throw GoogleError.invalid("Invalid value for field '" + field + "': '" + k + "'. Label keys must start with a lowercase letter and hold only "
                    + "lowercase letters, digits, '_' and '-' (at most 63 characters).");
            }
            if (!LABEL_VALUE.matcher(v).matches()) {
                throw GoogleError.invalid("Invalid value for field '" + field + "." + k + "': '" + v + "'. Label values hold only lowercase letters, digits, "
                    + "'_' and '-' (at most 63 characters).");
            }
        });
    }

    private List<ServiceAccount> serviceAccounts(String project, List<ServiceAccount> given, String field) {
        if (given.size() > 1) throw GoogleError.invalid("Invalid value for field '" + field + "': ''. At most one service account per instance.");
        List<ServiceAccount> out = new ArrayList<>();
        for (ServiceAccount sa : given) {
            String email = sa.getEmail();
            if (email.equals("default")) email = "1234567890-compute@developer.gserviceaccount.com";
            else checkServiceAccount(email, field + "[0].email");
            for (String scope : sa.getScopesList()) {
                if (!scope.startsWith("https://www.googleapis.com/auth/")) {
                    throw GoogleError.invalid("Invalid value for field '" + field + "[0].scopes': '" + scope + "'. Scopes must be full URLs "
                        + "(https://www.googleapis.com/auth/...); aliases such as 'cloud-platform' exist only in gcloud.");
                }
            }
            out.add(sa.toBuilder().setEmail(email).build());
        }
        return out;
    }

    private void checkServiceAccount(String email, String field) {
        if (!fakes.iam().hasServiceAccount(email)) {
            throw GoogleError.invalid("Invalid value for field '" + field + "': '" + email + "'. The user does not have access to service account '"
                + email + "'. Ask a project owner to grant you the iam.serviceAccountUser role on the service account");
        }
    }

    private NetworkInterface networkInterface(String project, String region, NetworkInterface nic, int i, Map<String, String> claimed) {
        String field = "resource.networkInterfaces[" + i + "]";
        Network network = null;
        if (nic.hasNetwork()) {
            String nKey = networkKey(project, nic.getNetwork())
                .orElseThrow(() -> GoogleError.invalid("Invalid value for field '" + field + ".network': '" + nic.getNetwork() + "'. The URL is malformed."));
            network = networks.get(nKey);
            if (network == null) throw GoogleError.notFound(relative(nKey, "global/networks"));
        }
        if (!nic.hasSubnetwork()) {
            throw GoogleError.invalid("Invalid value for field '" + field + ".subnetwork': ''. Subnetwork should be specified for custom subnetmode network");
        }
        String sKey = subnetworkKey(project, nic.getSubnetwork())
            .orElseThrow(() -> GoogleError.invalid("Invalid value for field '" + field + ".subnetwork': '" + nic.getSubnetwork() + "'. The URL is malformed."));
        Subnetwork subnet = subnetworks.get(sKey);
        if (subnet == null) throw GoogleError.notFound(sKey.replaceFirst("^([^/]+)/([^/]+)/", "projects/$1/regions/$2/subnetworks/"));
        if (!lastSegment(subnet.getRegion()).equals(region)) {
            throw GoogleError.invalid("Invalid value for field '" + field + ".subnetwork': '" + nic.getSubnetwork()
                + "'. Subnetwork must be in the instance's region " + region + ".");
        }
        if (network != null && !network.getSelfLink().equals(subnet.getNetwork())) {
            throw GoogleError.invalid("Invalid value for field '" + field + ".subnetwork': '" + nic.getSubnetwork() + "'. The subnetwork is not in network "
                + network.getName() + ".");
        }
        Cidr range = Cidr.parse(subnet.getIpCidrRange());
        Set<String> used = new HashSet<>(usedIps.getOrDefault(sKey, Set.of()));
        String address = null;
        for (long a = range.base() + 2; a < range.last() - 1; a++) {
            if (!used.contains(ip(a)) && !claimed.containsValue(ip(a))) {
                address = ip(a);
                break;
            }
        }
        if (address == null) throw GoogleError.invalid("IP space of '" + subnet.getSelfLink() + "' is exhausted.");
        claimed.put(sKey, address);
        List<AccessConfig> access = new ArrayList<>();
        for (AccessConfig ac : nic.getAccessConfigsList()) access.add(accessConfig(ac, field + ".accessConfigs"));
        return nic.toBuilder().setName("nic" + i).setKind("compute#networkInterface").setNetwork(subnet.getNetwork()).setSubnetwork(subnet.getSelfLink())
            .setNetworkIP(address).setFingerprint(fingerprint()).setStackType("IPV4_ONLY").clearAccessConfigs().addAllAccessConfigs(access).build();
    }

    private AccessConfig accessConfig(AccessConfig ac, String field) {
        String type = ac.hasType() ? ac.getType() : "ONE_TO_ONE_NAT";
        if (!type.equals("ONE_TO_ONE_NAT")) throw GoogleError.invalid("Invalid value for field '" + field + ".type': '" + type + "'. Must be ONE_TO_ONE_NAT.");
        return ac.toBuilder().setKind("compute#accessConfig").setType(type).setName(ac.hasName() ? ac.getName() : "External NAT")
            .setNetworkTier(ac.hasNetworkTier() ? ac.getNetworkTier() : "PREMIUM").setNatIP(ac.hasNatIP() ? ac.getNatIP() : "34.118.0." + natIps.incrementAndGet() % 250)
            .build();
    }

    private List<AttachedDisk> disks(String project, String zone, String machineType, String instance, List<AttachedDisk> given, Map<String, String> instanceLabels) {
        long boots = given.stream().filter(AttachedDisk::getBoot).count();
        if (boots != 1) throw GoogleError.invalid("Invalid value for field 'resource.disks': ''. Exactly one boot disk must be specified.");
        List<AttachedDisk> out = new ArrayList<>();
        for (int i = 0; i < given.size(); i++) {
            AttachedDisk d = given.get(i);
            String field = "resource.disks[" + i + "]";
            if (!d.hasInitializeParams()) {
                throw GoogleError.invalid("Invalid value for field '" + field + ".initializeParams': ''. The fake creates disks from images only (initializeParams).");
            }
            AttachedDiskInitializeParams p = d.getInitializeParams();
            if (d.getBoot()) {
                if (!p.hasSourceImage()) throw GoogleError.invalid("Invalid value for field '" + field + ".initializeParams.sourceImage': ''. A boot disk needs a source image.");
                image(project, p.getSourceImage(), field + ".initializeParams.sourceImage");
            }
            long size = p.hasDiskSizeGb() ? p.getDiskSizeGb() : 10;
            if (size < 10) {
                throw GoogleError.invalid("Invalid value for field '" + field + ".initializeParams.diskSizeGb': '" + size
                    + "'. Requested disk size cannot be smaller than the image size (10 GB)");
            }
            if (size > 65536) throw GoogleError.invalid("Invalid value for field '" + field + ".initializeParams.diskSizeGb': '" + size + "'. At most 65536 GB.");
            String diskType = "pd-standard";
            if (p.hasDiskType()) {
                Matcher m = Pattern.compile("projects/([^/]+)/zones/([^/]+)/diskTypes/([^/]+)").matcher(absolute(project, p.getDiskType()));
                if (!m.matches() || !m.group(2).equals(zone) || !DISK_TYPES.contains(m.group(3))) {
                    throw GoogleError.invalid("Invalid value for field '" + field + ".initializeParams.diskType': '" + p.getDiskType()
                        + "'. Disk type must be one of " + new TreeSet<>(DISK_TYPES) + " in zone " + zone + ".");
                }
                diskType = m.group(3);
            }
            if (diskType.equals("pd-standard") && builtInGpu(machineType).isPresent()) {
                throw GoogleError.invalid("Invalid value for field '" + field + ".initializeParams.diskType': 'pd-standard'. Machine type " + machineType
                    + " does not support pd-standard disks.");
            }
            labels(p.getLabelsMap(), field + ".initializeParams.labels");
            String name = p.hasDiskName() ? p.getDiskName() : (i == 0 ? instance : instance + "-" + i);
            out.add(AttachedDisk.newBuilder().setKind("compute#attachedDisk").setType("PERSISTENT").setMode("READ_WRITE").setBoot(d.getBoot())
                .setAutoDelete(d.hasAutoDelete() ? d.getAutoDelete() : d.getBoot()).setIndex(i).setDeviceName(d.hasDeviceName() ? d.getDeviceName() : "persistent-disk-" + i)
                .setInterface("SCSI").setDiskSizeGb(size).setSource(BASE + "projects/" + project + "/zones/" + zone + "/disks/" + name).build());
        }
        return out;
    }

    private static void image(String project, String ref, String field) {
        Matcher m = Pattern.compile("projects/([^/]+)/global/images/(family/)?([^/]+)").matcher(absolute(project, ref));
        if (!m.matches()) throw GoogleError.invalid("Invalid value for field '" + field + "': '" + ref + "'. The URL is malformed.");
        Set<String> families = IMAGE_FAMILIES.getOrDefault(m.group(1), Set.of());
        boolean known = m.group(2) != null ? families.contains(m.group(3)) : families.stream().anyMatch(f -> m.group(3).startsWith(f + "-v"));
        if (!known) throw GoogleError.notFound("projects/" + m.group(1) + "/global/images/" + (m.group(2) == null ? "" : "family/") + m.group(3));
    }

    /** What a new or started instance would exceed of the region's GPU quotas, if anything. */
    private Optional<QuotaExceededInfo> quotaProblem(String project, String region, Instance candidate, String exceptKey) {
        Map<String, Integer> wanted = gpus(candidate);
        for (Map.Entry<String, Integer> w : wanted.entrySet()) {
            Double limit = gpuQuota.get(region + "/" + w.getKey());
            if (limit == null) continue;
            int used = 0;
            for (Map.Entry<String, Instance> e : instances.entrySet()) {
                if (e.getKey().equals(exceptKey) || !e.getKey().startsWith(project + "/" + region + "-")) continue;
                if (Set.of("TERMINATED", "STOPPING").contains(e.getValue().getStatus())) continue;
                used += gpus(e.getValue()).getOrDefault(w.getKey(), 0);
            }
            if (used + w.getValue() > limit) {
                return Optional.of(QuotaExceededInfo.newBuilder().setMetricName("compute.googleapis.com/" + w.getKey().toLowerCase(Locale.ROOT))
                    .setLimitName(w.getKey()).setLimit(limit).putDimensions("region", region).build());
            }
        }
        return Optional.empty();
    }

    /** Quota metric (NVIDIA_T4_GPUS, PREEMPTIBLE_NVIDIA_T4_GPUS for Spot) → GPUs of an instance. */
    private static Map<String, Integer> gpus(Instance i) {
        Map<String, Integer> out = new TreeMap<>();
        boolean spot = i.getScheduling().getProvisioningModel().equals("SPOT") || i.getScheduling().getPreemptible();
        for (AcceleratorConfig a : i.getGuestAcceleratorsList()) {
            String type = lastSegment(a.getAcceleratorType());
            String metric = (spot ? "PREEMPTIBLE_" : "") + type.replace("nvidia-tesla-", "nvidia-").replace("-80gb", "").replace('-', '_')
                .toUpperCase(Locale.ROOT) + "_GPUS";
            out.merge(metric, a.getAcceleratorCount(), Integer::sum);
        }
        return out;
    }

    private String listInstances(FakeHttp.Request r) {
        String project = r.group(1);
        String zone = zone(r.group(2));
        List<Instance> all = instances.entrySet().stream().filter(e -> e.getKey().startsWith(project + "/" + zone + "/")).map(Map.Entry::getValue).toList();
        Page<Instance> page = page(all, Instance::getName, filter(r, Instance.getDescriptor()), r);
        InstanceList.Builder b = InstanceList.newBuilder().setKind("compute#instanceList").setId("projects/" + project + "/zones/" + zone + "/instances")
            .setSelfLink(BASE + "projects/" + project + "/zones/" + zone + "/instances").addAllItems(page.items);
        page.next.ifPresent(b::setNextPageToken);
        return Json.print(b, r.enumsAsInts());
    }

    private String aggregatedInstances(FakeHttp.Request r) {
        String project = r.group(1);
        List<Instance> all = instances.entrySet().stream().filter(e -> e.getKey().startsWith(project + "/")).map(Map.Entry::getValue).toList();
        Page<Instance> page = page(all, i -> lastSegment(i.getZone()) + "/" + i.getName(), filter(r, Instance.getDescriptor()), r);
        Map<String, InstancesScopedList.Builder> scopes = new TreeMap<>();
        for (Instance i : page.items) scopes.computeIfAbsent("zones/" + lastSegment(i.getZone()), k -> InstancesScopedList.newBuilder()).addInstances(i);
        InstanceAggregatedList.Builder b = InstanceAggregatedList.newBuilder().setKind("compute#instanceAggregatedList")
            .setId("projects/" + project + "/aggregated/instances").setSelfLink(BASE + "projects/" + project + "/aggregated/instances");
        scopes.forEach((k, v) -> b.putItems(k, v.build()));
        page.next.ifPresent(b::setNextPageToken);
        return Json.print(b, r.enumsAsInts());
    }

    private Instance requireInstance(String project, String zone, String name) {
        Instance i = instances.get(project + "/" + zone(zone) + "/" + name);
        if (i == null) throw GoogleError.notFound("projects/" + project + "/zones/" + zone + "/instances/" + name);
        return i;
    }

    private String key(FakeHttp.Request r) {
        return r.group(1) + "/" + zone(r.group(2)) + "/" + r.group(3);
    }

    private String zonalOp(FakeHttp.Request r, Instance i, String type, Runnable done) {
        return operation(r.group(1), "zones/" + zone(r.group(2)), type, i.getSelfLink(), i.getId(), done);
    }

    private String deleteInstance(FakeHttp.Request r) {
        Instance i = requireInstance(r.group(1), r.group(2), r.group(3));
        if (i.getDeletionProtection()) throw GoogleError.invalid("Invalid resource usage: 'Resource cannot be deleted if it's protected against deletion.'.");
        String key = key(r);
        instances.put(key, i.toBuilder().setStatus("STOPPING").build());
        return zonalOp(r, i, "delete", () -> {
            Instance gone = instances.remove(key);
            if (gone != null) {
                for (NetworkInterface nic : gone.getNetworkInterfacesList()) {
                    subnetworkKey(r.group(1), nic.getSubnetwork()).ifPresent(s -> usedIps.getOrDefault(s, new HashSet<>()).remove(nic.getNetworkIP()));
                }
            }
        });
    }

    private String setLabels(FakeHttp.Request r) {
        Instance i = requireInstance(r.group(1), r.group(2), r.group(3));
        InstancesSetLabelsRequest in = Json.parse(r.body(), InstancesSetLabelsRequest.newBuilder()).build();
        if (!in.hasLabelFingerprint()) {
            throw GoogleError.invalid("Invalid value for field 'labelFingerprint': ''. The label fingerprint is required: read the instance first.");
        }
        if (!in.getLabelFingerprint().equals(i.getLabelFingerprint())) {
            throw conditionNotMet("Labels fingerprint either invalid or resource labels have changed");
        }
        labels(in.getLabelsMap(), "labels");
        instances.put(key(r), i.toBuilder().clearLabels().putAllLabels(in.getLabelsMap()).setLabelFingerprint(fingerprint()).build());
        return zonalOp(r, i, "setLabels", null);
    }

    private String setTags(FakeHttp.Request r) {
        Instance i = requireInstance(r.group(1), r.group(2), r.group(3));
        Tags in = Json.parse(r.body(), Tags.newBuilder()).build();
        if (!in.hasFingerprint()) throw GoogleError.invalid("Invalid value for field 'fingerprint': ''. The tags fingerprint is required: read the instance first.");
        if (!in.getFingerprint().equals(i.getTags().getFingerprint())) {
            throw conditionNotMet("Supplied fingerprint does not match current metadata fingerprint.");
        }
        for (int k = 0; k < in.getItemsCount(); k++) networkTag(in.getItems(k), "tags.items[" + k + "]");
        instances.put(key(r), i.toBuilder().setTags(in.toBuilder().setFingerprint(fingerprint())).build());
        return zonalOp(r, i, "setTags", null);
    }

    private static void requireStopped(Instance i, String what) {
        if (!i.getStatus().equals("TERMINATED")) {
            throw new GoogleError(400, "FAILED_PRECONDITION", "resourceNotReady", "The resource '" + i.getSelfLink().substring(BASE.length())
                + "' is not ready: the instance must be stopped (it is " + i.getStatus() + ") to " + what + ".", Map.of());
        }
    }

    private String setMachineType(FakeHttp.Request r) {
        Instance i = requireInstance(r.group(1), r.group(2), r.group(3));
        InstancesSetMachineTypeRequest in = Json.parse(r.body(), InstancesSetMachineTypeRequest.newBuilder()).build();
        String zone = zone(r.group(2));
        String type = machineType(r.group(1), zone, in.getMachineType(), "machineType");
        requireStopped(i, "change its machine type");
        String current = lastSegment(i.getMachineType());
        if (builtInGpu(type).isPresent() || builtInGpu(current).isPresent()) {
            if (!builtInGpu(type).equals(builtInGpu(current))) {
                throw GoogleError.invalid("Invalid value for field 'machineType': '" + in.getMachineType() + "'. Cannot change between machine series "
                    + current + " and " + type + " with setMachineType.");
            }
        } else if (i.getGuestAcceleratorsCount() > 0 && !type.startsWith("n1-")) {
            throw GoogleError.invalid("Invalid value for field 'machineType': '" + in.getMachineType() + "'. The instance has accelerators attached, "
                + "which need an N1 machine type.");
        }
        instances.put(key(r), i.toBuilder().setMachineType(BASE + "projects/" + r.group(1) + "/zones/" + zone + "/machineTypes/" + type)
            .setFingerprint(fingerprint()).build());
        return zonalOp(r, i, "setMachineType", null);
    }

    private String setScheduling(FakeHttp.Request r) {
        Instance i = requireInstance(r.group(1), r.group(2), r.group(3));
        Scheduling in = Json.parse(r.body(), Scheduling.newBuilder()).build();
        Scheduling s = scheduling(in, i.getGuestAcceleratorsCount() > 0, "scheduling");
        if (!s.getProvisioningModel().equals(i.getScheduling().getProvisioningModel())) requireStopped(i, "change its provisioning model");
        instances.put(key(r), i.toBuilder().setScheduling(s).build());
        return zonalOp(r, i, "setScheduling", null);
    }

    private String setServiceAccount(FakeHttp.Request r) {
        Instance i = requireInstance(r.group(1), r.group(2), r.group(3));
        InstancesSetServiceAccountRequest in = Json.parse(r.body(), InstancesSetServiceAccountRequest.newBuilder()).build();
        requireStopped(i, "change its service account");
        Instance.Builder b = i.toBuilder().clearServiceAccounts();
        if (in.hasEmail() && !in.getEmail().isEmpty()) {
            b.addAllServiceAccounts(serviceAccounts(r.group(1), List.of(ServiceAccount.newBuilder().setEmail(in.getEmail())
                .addAllScopes(in.getScopesList()).build()), "serviceAccounts"));
        } else if (in.getScopesCount() > 0) {
            throw GoogleError.invalid("Invalid value for field 'scopes': ''. Scopes need a service account.");
        }
        instances.put(key(r), b.build());
        return zonalOp(r, i, "setServiceAccount", null);
    }

    private String stop(FakeHttp.Request r) {
        Instance i = requireInstance(r.group(1), r.group(2), r.group(3));
        String key = key(r);
        if (!i.getStatus().equals("TERMINATED")) instances.put(key, i.toBuilder().setStatus("STOPPING").build());
        return zonalOp(r, i, "stop", () -> setStatus(key, "TERMINATED", false));
    }

    private String start(FakeHttp.Request r) {
        Instance i = requireInstance(r.group(1), r.group(2), r.group(3));
        String key = key(r);
        if (i.getStatus().equals("RUNNING")) return zonalOp(r, i, "start", null);
        if (!i.getStatus().equals("TERMINATED")) {
            throw new GoogleError(400, "FAILED_PRECONDITION", "resourceNotReady", "The resource '" + i.getSelfLink().substring(BASE.length())
                + "' is not ready (it is " + i.getStatus() + ").", Map.of());
        }
        String zone = zone(r.group(2));
        Optional<QuotaExceededInfo> q = quotaProblem(r.group(1), regionOf(zone), i, key);
        if (q.isPresent()) {
            GoogleError e = new GoogleError(403, "FORBIDDEN", "QUOTA_EXCEEDED", "Quota '" + q.get().getLimitName() + "' exceeded.  Limit: "
                + q.get().getLimit() + " in region " + regionOf(zone) + ".", Map.of());
            return operation(r.group(1), "zones/" + zone, "start", i.getSelfLink(), i.getId(), null, e, "QUOTA_EXCEEDED", q.get());
        }
        instances.put(key, i.toBuilder().setStatus("STAGING").build());
        return zonalOp(r, i, "start", () -> setStatus(key, "RUNNING", true));
    }

    private String addAccessConfig(FakeHttp.Request r) {
        Instance i = requireInstance(r.group(1), r.group(2), r.group(3));
        String nicName = r.query().getOrDefault("networkInterface", "");
        AccessConfig in = Json.parse(r.body(), AccessConfig.newBuilder()).build();
        int idx = nicIndex(i, nicName);
        if (i.getNetworkInterfaces(idx).getAccessConfigsCount() > 0) {
            throw GoogleError.invalid("Invalid value for field 'resource': ''. The network interface " + nicName + " already has an access config.");
        }
        NetworkInterface nic = i.getNetworkInterfaces(idx).toBuilder().addAccessConfigs(accessConfig(in, "resource")).setFingerprint(fingerprint()).build();
        instances.put(key(r), i.toBuilder().setNetworkInterfaces(idx, nic).build());
        return zonalOp(r, i, "addAccessConfig", null);
    }

    private String deleteAccessConfig(FakeHttp.Request r) {
        Instance i = requireInstance(r.group(1), r.group(2), r.group(3));
        String nicName = r.query().getOrDefault("networkInterface", "");
        String name = r.query().get("accessConfig");
        if (name == null) throw GoogleError.invalid("Required parameter 'accessConfig' is missing.");
        int idx = nicIndex(i, nicName);
        NetworkInterface current = i.getNetworkInterfaces(idx);
        List<AccessConfig> left = current.getAccessConfigsList().stream().filter(a -> !a.getName().equals(name)).toList();
        if (left.size() == current.getAccessConfigsCount()) throw GoogleError.notFound(i.getSelfLink().substring(BASE.length()) + "/accessConfigs/" + name);
        NetworkInterface nic = current.toBuilder().clearAccessConfigs().addAllAccessConfigs(left).setFingerprint(fingerprint()).build();
        instances.put(key(r), i.toBuilder().setNetworkInterfaces(idx, nic).build());
        return zonalOp(r, i, "deleteAccessConfig", null);
    }

    private static int nicIndex(Instance i, String name) {
        for (int k = 0; k < i.getNetworkInterfacesCount(); k++) {
            if (i.getNetworkInterfaces(k).getName().equals(name)) return k;
        }
        throw GoogleError.invalid("Invalid value for field 'networkInterface': '" + name + "'. No such network interface.");
    }

    // ------------------------------------------------------------------ operations

    private String operation(String project, String scope, String type, String target, long targetId, Runnable done) {
        return operation(project, scope, type, target, targetId, done, null, null, null);
    }

    /** A new operation, RUNNING; DONE once the fakes' operation time has passed (then {@code done} runs, or {@code error} is its outcome). */
    private String operation(String project, String scope, String type, String target, long targetId, Runnable done, GoogleError error,
                             String errorCode, QuotaExceededInfo quota) {
        long id = ids.incrementAndGet();
        String name = "operation-" + System.currentTimeMillis() + "-" + Long.toHexString(id);
        Operation.Builder op = Operation.newBuilder().setKind("compute#operation").setId(id).setName(name).setOperationType(type)
            .setTargetLink(target).setTargetId(targetId).setStatus(Operation.Status.RUNNING).setProgress(0).setInsertTime(now()).setStartTime(now())
            .setUser("mlctl@" + project + ".iam.gserviceaccount.com").setSelfLink(BASE + "projects/" + project + "/" + scope + "/operations/" + name);
        if (scope.startsWith("zones/")) op.setZone(BASE + "projects/" + project + "/" + scope);
        if (scope.startsWith("regions/")) op.setRegion(BASE + "projects/" + project + "/" + scope);
        String key = project + "/" + scope + "/" + name;
        Op o = new Op(op, key, Instant.now().plus(fakes.operationTime()), done, error, errorCode, quota);
        operations.put(key, o);
        lastOperation = o;
        return Json.print(op, ints);
    }

    private Op lastOperation;

    /**
     * Runs {@code insert} unless the request's {@code requestId} was seen: then answers that request's operation as it is now.
     * A requestId must be a UUID other than the zero UUID.
     */
    private String deduplicated(String project, FakeHttp.Request r, Work insert) {
        String requestId = r.query().get("requestId");
        if (requestId != null) {
            try {
                if (UUID.fromString(requestId).equals(new UUID(0, 0)) || !UUID.fromString(requestId).toString().equalsIgnoreCase(requestId)) {
                    throw new IllegalArgumentException();
                }
            } catch (IllegalArgumentException e) {
                throw GoogleError.invalid("Invalid value for field 'requestId': '" + requestId + "'. The request ID must be a valid UUID with the exception "
                    + "that zero UUID is not supported (00000000-0000-0000-0000-000000000000).");
            }
            Op seen = byRequestId.get(project + "/" + requestId);
            if (seen != null) return Json.print(seen.op, r.enumsAsInts());
        }
        lastOperation = null;
        String answer = insert.run();
        if (requestId != null && lastOperation != null) byRequestId.put(project + "/" + requestId, lastOperation);
        return answer;
    }

    /** Finishes every operation whose time has come. */
    private void settle() {
        Instant now = Instant.now();
        for (Op o : new ArrayList<>(operations.values())) {
            if (o.op.getStatus() == Operation.Status.DONE || now.isBefore(o.doneAt)) continue;
            o.op.setStatus(Operation.Status.DONE).setProgress(100).setEndTime(now());
            if (o.error != null) {
                Errors.Builder err = Errors.newBuilder().setCode(o.errorCode).setMessage(o.error.getMessage());
                if (o.quota != null) err.addErrorDetails(ErrorDetails.newBuilder().setQuotaInfo(o.quota));
                o.op.setError(Error.newBuilder().addErrors(err)).setHttpErrorStatusCode(o.error.httpStatus()).setHttpErrorMessage(o.error.status());
            } else if (o.done != null) {
                o.done.run();
            }
        }
    }

    private String getOperation(String project, String scope, String name, FakeHttp.Request r) {
        String s = scope.startsWith("zones/") ? "zones/" + zone(scope.substring(6)) : scope.startsWith("regions/") ? "regions/" + region(scope.substring(8)) : scope;
        Op o = operations.get(project + "/" + s + "/" + name);
        if (o == null) throw GoogleError.notFound("projects/" + project + "/" + s + "/operations/" + name);
        return Json.print(o.op, r.enumsAsInts());
    }

    /** operations.wait: answers when the operation is done, or after two minutes as Compute Engine does. */
    private FakeHttp.Response waitOperation(String project, String scope, String name, FakeHttp.Request r) {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
        while (true) {
            FakeHttp.Response answer = sync(r, () -> getOperation(project, scope, name, r));
            Operation op = Json.parse(answer.body(), Operation.newBuilder()).build();
            if (op.getStatus() == Operation.Status.DONE || Instant.now().isAfter(deadline)) return answer;
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return answer;
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private static GoogleError inUse(String resource, String user) {
        return new GoogleError(400, "FAILED_PRECONDITION", "resourceInUseByAnotherResource", "The " + kindOf(resource) + " resource '"
            + resource.substring(BASE.length()) + "' is already being used by '" + user.substring(BASE.length()) + "'", Map.of());
    }

    private static String kindOf(String selfLink) {
        String[] parts = selfLink.split("/");
        String plural = parts[parts.length - 2];
        return plural.endsWith("s") ? plural.substring(0, plural.length() - 1) : plural;
    }

    private static GoogleError conditionNotMet(String message) {
        return new GoogleError(412, "FAILED_PRECONDITION", "conditionNotMet", message, Map.of());
    }

    private static void name(String name, String field) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw GoogleError.invalid("Invalid value for field '" + field + "': '" + (name == null ? "" : name)
                + "'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'");
        }
    }

    private static void description(String d) {
        if (d != null && d.length() > 2048) throw GoogleError.invalid("Invalid value for field 'resource.description': ''. At most 2048 characters.");
    }

    /** Fields a change may not touch: any present in {@code patch} outside {@code allowed} that differs from {@code current}. */
    private static void refuseChanges(Message patch, Message current, Set<String> allowed, String method) {
        for (Map.Entry<FieldDescriptor, Object> e : patch.getAllFields().entrySet()) {
            String json = e.getKey().getJsonName();
            if (allowed.contains(json) || Set.of("kind", "id", "selfLink", "selfLinkWithId", "creationTimestamp").contains(json)) continue;
            if (!e.getValue().equals(current.getField(e.getKey()))) {
                throw GoogleError.invalid("Invalid value for field 'resource." + json + "': '" + e.getValue() + "'. Field " + json
                    + " cannot be changed by " + method + ".");
            }
        }
    }

    private String zone(String zone) {
        boolean known = catalog.regions().values().stream().anyMatch(z -> z.contains(zone));
        if (!known) throw GoogleError.notFound("zones/" + zone);
        return zone;
    }

    private String region(String region) {
        if (!catalog.regions().containsKey(region)) throw GoogleError.notFound("regions/" + region);
        return region;
    }

    private static String regionOf(String zone) {
        return zone.substring(0, zone.lastIndexOf('-'));
    }

    static String lastSegment(String url) {
        return url == null ? "" : url.substring(url.lastIndexOf('/') + 1);
    }

    /** A full or partial URL as {@code projects/...}, in {@code project} when it names none. */
    static String absolute(String project, String ref) {
        String r = ref;
        for (String prefix : List.of(BASE, "https://compute.googleapis.com/compute/v1/", "http://compute.googleapis.com/compute/v1/")) {
            if (r.startsWith(prefix)) r = r.substring(prefix.length());
        }
        return r.startsWith("projects/") ? r : "projects/" + project + "/" + r;
    }

    private static final Pattern NETWORK_REF = Pattern.compile("projects/([^/]+)/global/networks/([^/]+)");
    private static final Pattern SUBNETWORK_REF = Pattern.compile("projects/([^/]+)/regions/([^/]+)/subnetworks/([^/]+)");

    /** project/name of a network reference (a name alone means this project's). */
    static Optional<String> networkKey(String project, String ref) {
        if (ref == null || ref.isEmpty()) return Optional.empty();
        if (!ref.contains("/")) return Optional.of(project + "/" + ref);
        Matcher m = NETWORK_REF.matcher(absolute(project, ref));
        return m.matches() ? Optional.of(m.group(1) + "/" + m.group(2)) : Optional.empty();
    }

    static Optional<String> subnetworkKey(String project, String ref) {
        if (ref == null || ref.isEmpty()) return Optional.empty();
        Matcher m = SUBNETWORK_REF.matcher(absolute(project, ref));
        return m.matches() ? Optional.of(m.group(1) + "/" + m.group(2) + "/" + m.group(3)) : Optional.empty();
    }

    private static String relative(String key, String collection) {
        int slash = key.indexOf('/');
        return "projects/" + key.substring(0, slash) + "/" + collection + "/" + key.substring(slash + 1);
    }

    private static String ip(long a) {
        return ((a >> 24) & 255) + "." + ((a >> 16) & 255) + "." + ((a >> 8) & 255) + "." + (a & 255);
    }

    private static String now() {
        return OffsetDateTime.now(ZoneOffset.ofHours(-8)).withNano(0).toString();
    }

    private static String fingerprint() {
        byte[] b = new byte[8];
        new java.security.SecureRandom().nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }

    // ------------------------------------------------------------------ paging and filters

    private record Page<T>(List<T> items, Optional<String> next) {
    }

    private static <T> Page<T> page(List<T> all, Function<T, String> order, Predicate<Message> filter, FakeHttp.Request r) {
        int max = 500;
        if (r.query().containsKey("maxResults")) {
            try {
                max = Integer.parseInt(r.query().get("maxResults"));
            } catch (NumberFormatException e) {
                throw GoogleError.invalid("Invalid value for field 'maxResults': '" + r.query().get("maxResults") + "'.");
            }
            if (max < 0 || max > 500) throw GoogleError.invalid("Invalid value for field 'maxResults': '" + max + "'. Must be between 0 and 500.");
            if (max == 0) max = 500;
        }
        String orderBy = r.query().getOrDefault("orderBy", "");
        if (!orderBy.isEmpty() && !orderBy.equals("name") && !orderBy.equals("creationTimestamp desc")) {
            throw GoogleError.invalid("Invalid value for field 'orderBy': '" + orderBy + "'. Sorting is supported by name or creationTimestamp desc only.");
        }
        List<T> matching = all.stream().filter(x -> filter.test((Message) x)).sorted(Comparator.comparing(order)).toList();
        int from = 0;
        String token = r.query().get("pageToken");
        if (token != null && !token.isEmpty()) {
            try {
                from = Integer.parseInt(new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).replace("offset:", ""));
            } catch (RuntimeException e) {
                throw GoogleError.invalid("Invalid value for field 'pageToken': '" + token + "'.");
            }
        }
        int to = Math.min(matching.size(), from + max);
        Optional<String> next = to < matching.size()
            ? Optional.of(Base64.getUrlEncoder().withoutPadding().encodeToString(("offset:" + to).getBytes(StandardCharsets.UTF_8))) : Optional.empty();
        return new Page<>(from >= matching.size() ? List.of() : matching.subList(from, to), next);
    }

    private static Predicate<Message> filter(FakeHttp.Request r, Descriptor type) {
        String f = r.query().getOrDefault("filter", "").trim();
        return f.isEmpty() ? m -> true : ListFilter.parse(f, type);
    }

    /**
     * Compute Engine's list filters: either regular expressions ({@code name eq "a.*"}, {@code description ne x},
     * several in parentheses: {@code (f1 eq a) (f2 ne b)}; the whole field must match) or AIP-160 comparisons
     * ({@code labels.env = "prod"}, {@code name != x}, {@code labels.owner:*}, parenthesized expressions joined by
     * spaces or AND). The two kinds cannot be mixed; a field the resource does not have is refused.
     */
    static final class ListFilter {
        private static final Pattern REGEX = Pattern.compile("([A-Za-z][A-Za-z0-9_.]*)\\s+(eq|ne)\\s+(.+)");
        private static final Pattern AIP = Pattern.compile("([A-Za-z][A-Za-z0-9_.\\-]*)\\s*(!=|>=|<=|=|:|>|<)\\s*(.+)");

        private ListFilter() {
        }

        static Predicate<Message> parse(String filter, Descriptor type) {
            List<String> parts = split(filter);
            Boolean regex = null;
            List<Predicate<JsonObject>> tests = new ArrayList<>();
            for (String p : parts) {
                Matcher rm = REGEX.matcher(p);
                Matcher am = AIP.matcher(p);
                boolean isRegex = rm.matches();
                if (!isRegex && !am.matches()) throw invalid(filter);
                if (regex != null && regex != isRegex) {
                    throw GoogleError.invalid("Invalid list filter expression '" + filter + "': regular expressions and AIP-160 expressions cannot be mixed.");
                }
                regex = isRegex;
                Matcher m = isRegex ? rm : am;
                String field = m.group(1);
                checkField(field, type, filter);
                String op = m.group(2);
                String value = unquote(m.group(3).trim());
                if (isRegex) {
                    Pattern pattern = Pattern.compile(value);
                    boolean eq = op.equals("eq");
                    tests.add(o -> values(o, field).stream().anyMatch(v -> pattern.matcher(v).matches()) == eq);
                } else {
                    tests.add(aip(field, op, value));
                }
            }
            return msg -> {
                JsonObject o = JsonParser.parseString(Json.print(msg, false)).getAsJsonObject();
                return tests.stream().allMatch(t -> t.test(o));
            };
        }

        private static Predicate<JsonObject> aip(String field, String op, String value) {
            return o -> {
                List<String> vs = values(o, field);
                return switch (op) {
                    case ":" -> value.equals("*") ? !vs.isEmpty() : vs.stream().anyMatch(v -> v.contains(value));
                    case "=" -> vs.stream().anyMatch(v -> v.equals(value));
                    case "!=" -> vs.stream().noneMatch(v -> v.equals(value));
                    default -> vs.stream().anyMatch(v -> compare(v, value, op));
                };
            };
        }

        private static boolean compare(String a, String b, String op) {
            int c;
            try {
                c = Double.compare(Double.parseDouble(a), Double.parseDouble(b));
            } catch (NumberFormatException e) {
                c = a.compareTo(b);
            }
            return switch (op) {
                case ">" -> c > 0;
                case "<" -> c < 0;
                case ">=" -> c >= 0;
                default -> c <= 0;
            };
        }

        /** The string values at a dotted path (several for a list), none when absent. */
        private static List<String> values(JsonObject o, String path) {
            List<JsonElement> current = List.of(o);
            for (String seg : path.split("\\.")) {
                List<JsonElement> next = new ArrayList<>();
                for (JsonElement e : current) {
                    List<JsonElement> scope = new ArrayList<>();
                    if (e.isJsonArray()) e.getAsJsonArray().forEach(scope::add);
                    else scope.add(e);
                    for (JsonElement s : scope) {
                        if (s.isJsonObject() && s.getAsJsonObject().has(seg)) next.add(s.getAsJsonObject().get(seg));
                    }
                }
                current = next;
            }
            List<String> out = new ArrayList<>();
            for (JsonElement e : current) {
                if (e.isJsonArray()) {
                    JsonArray a = e.getAsJsonArray();
                    a.forEach(x -> {
                        if (x.isJsonPrimitive()) out.add(x.getAsString());
                    });
                } else if (e.isJsonPrimitive()) {
                    out.add(e.getAsString());
                }
            }
            return out;
        }

        private static void checkField(String field, Descriptor type, String filter) {
            String first = field.contains(".") ? field.substring(0, field.indexOf('.')) : field;
            boolean known = type.getFields().stream().anyMatch(f -> f.getJsonName().equals(first) || f.getName().equals(first));
            if (!known) throw GoogleError.invalid("Invalid list filter expression '" + filter + "': " + type.getName() + " has no field '" + first + "'.");
        }

        private static String unquote(String v) {
            if (v.length() >= 2 && ((v.startsWith("\"") && v.endsWith("\"")) || (v.startsWith("'") && v.endsWith("'")))) {
                return v.substring(1, v.length() - 1);
            }
            return v;
        }

        /** One expression, or parenthesized ones joined by whitespace or AND. */
        private static List<String> split(String filter) {
            String f = filter.trim();
            if (!f.startsWith("(")) return List.of(f);
            List<String> out = new ArrayList<>();
            int i = 0;
            while (i < f.length()) {
                char c = f.charAt(i);
                if (Character.isWhitespace(c)) {
                    i++;
                    continue;
                }
                if (f.startsWith("AND", i) && i + 3 < f.length() && Character.isWhitespace(f.charAt(i + 3))) {
                    i += 3;
                    continue;
                }
                if (f.startsWith("OR", i) && i + 2 < f.length() && Character.isWhitespace(f.charAt(i + 2))) {
                    throw GoogleError.invalid("Invalid list filter expression '" + filter + "': the fake supports AND only.");
                }
                if (c != '(') throw invalid(filter);
                int depth = 0;
                boolean quoted = false;
                char quote = 0;
                int start = i;
                for (; i < f.length(); i++) {
                    char d = f.charAt(i);
                    if (quoted) {
                        if (d == quote) quoted = false;
                    } else if (d == '"' || d == '\'') {
                        quoted = true;
                        quote = d;
                    } else if (d == '(') {
                        depth++;
                    } else if (d == ')') {
                        depth--;
                        if (depth == 0) break;
                    }
                }
                if (depth != 0) throw invalid(filter);
                out.add(f.substring(start + 1, i).trim());
                i++;
            }
            return out;
        }

        private static GoogleError invalid(String filter) {
            return GoogleError.invalid("Invalid list filter expression '" + filter + "'.");
        }
    }
}
