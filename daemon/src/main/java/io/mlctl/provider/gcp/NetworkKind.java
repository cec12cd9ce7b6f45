package io.mlctl.provider.gcp;

import com.google.api.gax.longrunning.OperationFuture;
import com.google.api.gax.longrunning.OperationSnapshot;
import com.google.cloud.compute.v1.Allowed;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.FirewallList;
import com.google.cloud.compute.v1.InsertFirewallRequest;
import com.google.cloud.compute.v1.InsertNetworkRequest;
import com.google.cloud.compute.v1.InsertSubnetworkRequest;
import com.google.cloud.compute.v1.ListFirewallsRequest;
import com.google.cloud.compute.v1.ListNetworksRequest;
import com.google.cloud.compute.v1.ListSubnetworksRequest;
import com.google.cloud.compute.v1.Network;
import com.google.cloud.compute.v1.NetworkList;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.Subnetwork;
import com.google.cloud.compute.v1.SubnetworkList;
import com.google.cloud.compute.v1.SubnetworksExpandIpCidrRangeRequest;
import com.google.cloud.compute.v1.SubnetworksSetPrivateIpGoogleAccessRequest;
import com.google.cloud.compute.v1.UpdateFirewallRequest;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.NotOwnedException;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.spec.Address;
import io.mlctl.spec.Cidr;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * network → a custom-mode VPC network {@code <env>-<name>} (no automatic subnetworks), one regional
 * subnetwork {@code <env>-<network>-<subnet>} per spec subnet in the environment's region (Private
 * Google Access on when {@code privateStorageAccess} is true), and one VPC firewall rule
 * {@code <env>-<network>-<rule>} per spec rule. The rules apply to instances and GKE nodes that carry
 * the network tag {@link #networkTag} (the network's own name), which mlctl puts on every instance
 * it creates in the network.
 *
 * <p>Networks, subnetworks and firewall rules take no labels, so each carries the marker in its
 * description ({@link GcpMarker#description}), which Compute Engine fixes at creation; inventory
 * lists them with a regular-expression filter on that description (one request per page for each
 * of networks, the region's subnetworks and firewall rules). A custom-mode network has no address
 * range of its own: the spec's {@code cidr} is recorded in the network's description
 * ({@code cidr=10.10.0.0/16}) and reported from there, so changing it replaces the network, as on
 * AWS; the subnets are checked to lie inside it when the spec is loaded. A GCP subnetwork is
 * regional, so a subnet's {@code zone} only says where instances in it go by default, and a
 * subnet's {@code private} says whether instances in it get an external IP: neither is a property
 * of a GCP subnetwork, and the network never compares them.
 *
 * <p>A changed subnet range shows as a replacement of the subnet (a range can move, which GCP
 * cannot do in place, and whatever runs in the subnet goes with it); when the new range only
 * widens the old one, apply widens it with {@code expandIpCidrRange} instead of recreating it.
 */
final class NetworkKind implements GcpKind {
    static final String SCOPE_CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
    /** A subnetwork's, a firewall rule's or an instance's own name in the spec, after the marker in its description. */
    private static final Pattern RULE = Pattern.compile(" rule=([a-z0-9-]+)");
    private static final Pattern CIDR = Pattern.compile(" cidr=([0-9./]+)");
    /** Port ranges wider than this are reported as text, not one number per port. */
    private static final int MAX_EXPANDED_PORTS = 1024;
    private static final ResourceRules RULES = new ResourceRules(Set.of("region", "cidr", "subnets[].cidr"), Set.of(), Set.of(),
        Set.of("tags", "subnets[].zone", "subnets[].private"));

    @Override
    public ResourceType type() {
        return ResourceType.NETWORK;
    }

    @Override
    public ResourceRules rules() {
        return RULES;
    }

    /** The network tag firewall rules target: instances and GKE nodes in the network carry it. */
    static String networkTag(Environment env, String network) {
        return GcpKind.physicalName(env, network);
    }

    static String networkUrl(GcpClients c, String name) {
        return "projects/" + c.project() + "/global/networks/" + name;
    }

    static String subnetworkUrl(GcpClients c, String region, String name) {
        return "projects/" + c.project() + "/regions/" + region + "/subnetworks/" + name;
    }

    /** A Compute Engine list filter: this environment's marker at the start of a description. */
    static String ownedByDescription(Environment env) {
        return "description eq \"mlctl: environment=" + env.name() + " address=network[.].*\"";
    }

    private static String inNetwork(String network) {
        return "network eq \".*/global/networks/" + network + "\"";
    }

    /** A request id for a create: the apply's token for the resource's own create, so a retried insert is the same request. */
    static String requestId(String token) {
        return UUID.nameUUIDFromBytes(token.getBytes(StandardCharsets.UTF_8)).toString();
    }

    static Address subnetAddress(Address network, String subnet) {
        return new Address(ResourceType.NETWORK, network.name(), "subnet." + subnet);
    }

    // ------------------------------------------------------------------ inventory

    @Override
    public Page list(GcpClients c, Environment env, Optional<String> pageToken) {
        ListNetworksRequest.Builder req = ListNetworksRequest.newBuilder().setProject(c.project()).setFilter(ownedByDescription(env)).setMaxResults(500);
        pageToken.ifPresent(req::setPageToken);
        NetworkList page = GcpErrors.call("compute.networks.list", () -> c.networks().listCallable().call(req.build()));
        List<ObservedResource> items = new ArrayList<>();
        if (page.getItemsCount() > 0) {
            // Everything else about these networks in one request (per page) per kind, never one per network.
            List<Subnetwork> subnets = subnetworks(c, env.region(), ownedByDescription(env));
            List<Firewall> rules = firewalls(c, ownedByDescription(env));
            for (Network n : page.getItemsList()) {
                Map<String, String> marker = GcpMarker.INSTANCE.fromDescription(n.getDescription());
                Optional<Address> a = GcpMarker.INSTANCE.owner(marker, env.name());
                if (a.isEmpty() || a.get().type() != ResourceType.NETWORK || a.get().isComponent()) continue;
                items.add(observe(env, a.get(), n, subnets, rules));
            }
        }
        return new Page(items, Optional.of(page.getNextPageToken()).filter(t -> !t.isEmpty()));
    }

    /** One network as inventory (and import) shows it: its own subnets and rules among those given, and the marker of its description. */
    private static ObservedResource observe(Environment env, Address address, Network n, List<Subnetwork> subnets, List<Firewall> rules) {
        return new ObservedResource(address, n.getName(), GcpKind.attrs(env, observed(env, address, n, subnets, rules), Map.of()),
            GcpMarker.INSTANCE.fromDescription(n.getDescription()));
    }

    private static final Pattern NETWORK_NAME = Pattern.compile("[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern RESOURCE_NAME = Pattern.compile("projects/([^/]+)/global/networks/([^/]+)");

    /**
     * Read by the network's name or resource name {@code projects/P/global/networks/N}. A network no mlctl environment marked
     * cannot be imported: Compute Engine fixes a network's description (where mlctl keeps the marker: networks take no labels)
     * at creation, so mlctl could never mark it as its own; that is said at plan time. A marked one is returned for the
     * caller to name its owner.
     */
    @Override
    public Optional<ObservedResource> read(GcpClients c, Environment env, Address address, String cloudId) {
        String id = GcpKind.relativeName(cloudId.trim());
        Matcher r = RESOURCE_NAME.matcher(id);
        if (r.matches()) {
            if (!r.group(1).equals(c.project())) throw GcpKind.otherProject(address, "VPC network " + r.group(2), r.group(1), c.project());
            id = r.group(2);
        }
        if (!NETWORK_NAME.matcher(id).matches()) {
            throw GcpKind.badId(address, cloudId, "the network's name, e.g. " + GcpKind.physicalName(env, address) + " (or projects/" + c.project()
                + "/global/networks/NAME)");
        }
        Optional<Network> n = network(c, id);
        if (n.isEmpty()) return Optional.empty();
        if (GcpKind.unmarked(GcpMarker.INSTANCE.fromDescription(n.get().getDescription()))) throw notImportable(address, id);
        return Optional.of(observe(env, address, n.get(), subnetworks(c, env.region(), inNetwork(id)), firewalls(c, inNetwork(id))));
    }

    private static DriverException notImportable(Address address, String network) {
        return new DriverException(address + ": VPC network " + network + " cannot be imported: mlctl marks a network in its description, "
            + "which Compute Engine fixes when the network is made (networks take no labels); let mlctl create the network", false);
    }

    /** The spec subnets' ids, {@code name=projects/P/regions/R/subnetworks/N}, comma-separated in name order. */
    @Override
    public Map<String, String> outputs(GcpClients c, Environment env, ObservedResource resource) {
        Network n = network(c, resource.cloudId())
            .orElseThrow(() -> new DriverException(resource.address() + ": VPC network " + resource.cloudId() + " no longer exists", false));
        Map<String, Subnetwork> own = ownSubnets(env, resource.address(), n.getSelfLink(), subnetworks(c, env.region(), inNetwork(n.getName())));
        List<String> ids = new ArrayList<>();
        own.forEach((name, s) -> ids.add(name + "=" + relative(s.getSelfLink().isEmpty()
            ? subnetworkUrl(c, GcpKind.lastSegment(s.getRegion()), s.getName()) : s.getSelfLink())));
        return Map.of("subnets", String.join(",", ids));
    }

    private static Map<String, Object> observed(Environment env, Address network, Network n, List<Subnetwork> subnets, List<Firewall> rules) {
        Map<String, Object> attrs = new TreeMap<>();
        recordedCidr(n).ifPresent(cidr -> attrs.put("cidr", cidr));
        List<Object> sn = new ArrayList<>();
        Map<String, Boolean> access = new TreeMap<>();
        for (Subnetwork s : ownSubnets(env, network, n.getSelfLink(), subnets).values()) {
            String name = subnetName(s).orElseThrow();
            sn.add(Map.of("name", name, "cidr", s.getIpCidrRange()));
            access.put(name, s.getPrivateIpGoogleAccess());
        }
        attrs.put("subnets", sn);
        attrs.put("privateStorageAccess", privateStorageAccess(env, network, access));
        List<Object> fw = new ArrayList<>();
        for (Firewall f : ownRules(env, network, n.getSelfLink(), rules).values()) fw.add(rule(env, network, f));
        attrs.put("firewall", fw);
        return attrs;
    }

    /**
     * Private Google Access is a setting of each subnetwork: true or false when all of this network's
     * agree, a description of the mix otherwise (so either spec value shows a difference). A network
     * without subnetworks has nowhere to hold it: then the spec's value stands.
     */
    private static Object privateStorageAccess(Environment env, Address network, Map<String, Boolean> access) {
        if (access.isEmpty()) {
            return env.resource(network).map(r -> r.attributes().get("privateStorageAccess")).orElse(false);
        }
        Set<Boolean> values = new TreeSet<>(access.values());
        if (values.size() == 1) return values.iterator().next();
        List<String> on = new ArrayList<>();
        List<String> off = new ArrayList<>();
        access.forEach((k, v) -> (v ? on : off).add(k));
        return "on in subnet " + String.join(", ", on) + ", off in " + String.join(", ", off);
    }

    static Optional<String> recordedCidr(Network n) {
        Matcher m = CIDR.matcher(n.getDescription());
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** The subnet's spec name, from the marker in its description. */
    private static Optional<String> subnetName(Subnetwork s) {
        Map<String, String> marker = GcpMarker.INSTANCE.fromDescription(s.getDescription());
        String component = marker.getOrDefault(GcpMarker.COMPONENT, "");
        return component.startsWith("subnet_") ? Optional.of(component.substring("subnet_".length())) : Optional.empty();
    }

    /** This network's own subnetworks (its marker, its component), by spec name; anyone else's in it are not listed. */
    private static Map<String, Subnetwork> ownSubnets(Environment env, Address network, String networkSelfLink, List<Subnetwork> subnets) {
        Map<String, Subnetwork> out = new TreeMap<>();
        for (Subnetwork s : subnets) {
            if (!sameResource(s.getNetwork(), networkSelfLink)) continue;
            Optional<String> name = subnetName(s);
            if (name.isEmpty()) continue;
            Optional<Address> owner = GcpMarker.INSTANCE.owner(GcpMarker.INSTANCE.fromDescription(s.getDescription()), env.name());
            if (owner.equals(Optional.of(subnetAddress(network, name.get())))) out.put(name.get(), s);
        }
        return out;
    }

    /** This network's own firewall rules, by spec rule name. */
    private static Map<String, Firewall> ownRules(Environment env, Address network, String networkSelfLink, List<Firewall> rules) {
        Map<String, Firewall> out = new TreeMap<>();
        for (Firewall f : rules) {
            if (!sameResource(f.getNetwork(), networkSelfLink)) continue;
            Optional<Address> owner = GcpMarker.INSTANCE.owner(GcpMarker.INSTANCE.fromDescription(f.getDescription()), env.name());
            Matcher m = RULE.matcher(f.getDescription());
            if (owner.equals(Optional.of(network)) && m.find()) out.put(m.group(1), f);
        }
        return out;
    }

    /** Two Compute Engine URLs (full or partial) of the same resource. */
    static boolean sameResource(String a, String b) {
        return relative(a).equals(relative(b));
    }

    static String relative(String url) {
        int i = url.indexOf("projects/");
        return i < 0 ? url : url.substring(i);
    }

    /**
     * A firewall rule as the spec writes it. What the spec cannot say (a deny rule, other targets, a
     * disabled rule, another priority, source tags) appears only when it is so, as a difference the
     * next update corrects.
     */
    static Map<String, Object> rule(Environment env, Address network, Firewall f) {
        Map<String, Object> m = new TreeMap<>();
        Matcher rm = RULE.matcher(f.getDescription());
        m.put("name", rm.find() ? rm.group(1) : f.getName());
        boolean egress = "EGRESS".equals(f.getDirection());
        m.put("direction", egress ? "egress" : "ingress");
        List<Allowed> allowed = f.getAllowedList();
        Set<String> protocols = new TreeSet<>();
        TreeSet<Long> ports = new TreeSet<>();
        String wide = null;
        for (Allowed a : allowed) {
            protocols.add(a.getIPProtocol());
            for (String p : a.getPortsList()) {
                String[] bounds = p.split("-", 2);
                long from = Long.parseLong(bounds[0]);
                long to = bounds.length > 1 ? Long.parseLong(bounds[1]) : from;
                if (to - from >= MAX_EXPANDED_PORTS) wide = p;
                else for (long x = from; x <= to; x++) ports.add(x);
            }
            if (a.getPortsCount() == 0) wide = "all";
        }
        if (!protocols.isEmpty()) m.put("protocol", String.join(",", protocols));
        if (wide != null) m.put("ports", "ports " + wide);
        else if (!ports.isEmpty()) m.put("ports", new ArrayList<>(ports));
        List<String> sources = new ArrayList<>(egress ? f.getDestinationRangesList() : f.getSourceRangesList());
        f.getSourceTagsList().forEach(t -> sources.add("tag:" + t));
        f.getSourceServiceAccountsList().forEach(s -> sources.add("serviceAccount:" + s));
        if (egress) f.getSourceRangesList().forEach(s -> sources.add("source:" + s));
        else f.getDestinationRangesList().forEach(s -> sources.add("destination:" + s));
        m.put("sources", sources);
        if (f.getDeniedCount() > 0) m.put("action", "deny");
        String tag = networkTag(env, network.name());
        if (!f.getTargetTagsList().equals(List.of(tag)) || f.getTargetServiceAccountsCount() > 0) {
            List<String> targets = new ArrayList<>(f.getTargetTagsList());
            f.getTargetServiceAccountsList().forEach(s -> targets.add("serviceAccount:" + s));
            m.put("appliesTo", targets.isEmpty() ? "every instance in the network" : String.join(", ", targets));
        }
        if (f.getDisabled()) m.put("disabled", true);
        if (f.getPriority() != 1000) m.put("priority", (long) f.getPriority());
        return m;
    }

    private static List<Subnetwork> subnetworks(GcpClients c, String region, String filter) {
        List<Subnetwork> out = new ArrayList<>();
        String token = "";
        do {
            ListSubnetworksRequest.Builder req = ListSubnetworksRequest.newBuilder().setProject(c.project()).setRegion(region).setFilter(filter).setMaxResults(500);
            if (!token.isEmpty()) req.setPageToken(token);
            SubnetworkList page = GcpErrors.call("compute.subnetworks.list " + region, () -> c.subnetworks().listCallable().call(req.build()));
            out.addAll(page.getItemsList());
            token = page.getNextPageToken();
        } while (!token.isEmpty());
        return out;
    }

    private static List<Firewall> firewalls(GcpClients c, String filter) {
        List<Firewall> out = new ArrayList<>();
        String token = "";
        do {
            ListFirewallsRequest.Builder req = ListFirewallsRequest.newBuilder().setProject(c.project()).setFilter(filter).setMaxResults(500);
            if (!token.isEmpty()) req.setPageToken(token);
            FirewallList page = GcpErrors.call("compute.firewalls.list", () -> c.firewalls().listCallable().call(req.build()));
            out.addAll(page.getItemsList());
            token = page.getNextPageToken();
        } while (!token.isEmpty());
        return out;
    }

    // ------------------------------------------------------------------ find, create, complete

    @Override
    public Optional<Existing> find(GcpClients c, Environment env, Address address, Optional<String> knownCloudId) {
        String name = knownCloudId.orElse(GcpKind.physicalName(env, address));
        return network(c, name).map(n -> new Existing(n.getName(), "VPC network " + n.getName(), GcpMarker.INSTANCE.fromDescription(n.getDescription())));
    }

    static Optional<Network> network(GcpClients c, String name) {
        return GcpErrors.call("compute.networks.get " + name, () -> {
            try {
                return Optional.of(c.networks().get(com.google.cloud.compute.v1.GetNetworkRequest.newBuilder().setProject(c.project()).setNetwork(name).build()));
            } catch (RuntimeException e) {
                if (GcpErrors.notFound(e)) return Optional.empty();
                throw e;
            }
        });
    }

    @Override
    public String create(GcpClients c, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        String name = GcpKind.physicalName(env, d.address());
        Network n = Network.newBuilder().setName(name).setAutoCreateSubnetworks(false)
            .setDescription(GcpMarker.INSTANCE.description(env.name(), d.address()) + " cidr=" + d.attributes().get("cidr")).build();
        await("compute.networks.insert " + name, c.networks().insertAsync(InsertNetworkRequest.newBuilder().setProject(c.project())
            .setNetworkResource(n).setRequestId(requestId(token)).build()));
        return name;
    }

    @Override
    public ObservedResource complete(GcpClients c, Environment env, String name, ResourceSpec d, Map<String, String> marker) {
        Network n = network(c, name).orElseThrow(() -> new DriverException(d.address() + ": VPC network " + name + " is not visible yet", true));
        if (n.hasAutoCreateSubnetworks() && n.getAutoCreateSubnetworks()) {
            throw new DriverException(d.address() + ": VPC network " + name + " is in auto mode; mlctl makes custom-mode networks", false);
        }
        subnets(c, env, n, d);
        firewall(c, env, n, d);
        return new ObservedResource(d.address(), name, d.attributes(), marker);
    }

    @Override
    public ObservedResource update(GcpClients c, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        Set<String> changed = new TreeSet<>();
        changes.forEach(ch -> changed.add(top(ch.path())));
        Network n = network(c, current.cloudId())
            .orElseThrow(() -> new DriverException(d.address() + ": VPC network " + current.cloudId() + " no longer exists; run plan again", false));
        // A "tags" change is an import: only a network already carrying this address's marker can be one (see read).
        if (changed.contains("tags") && GcpMarker.INSTANCE.owner(GcpMarker.INSTANCE.fromDescription(n.getDescription()), env.name())
                .filter(d.address()::equals).isEmpty()) {
            throw notImportable(d.address(), n.getName());
        }
        if (changed.contains("subnets") || changed.contains("privateStorageAccess")) subnets(c, env, n, d);
        if (changed.contains("firewall")) firewall(c, env, n, d);
        return new ObservedResource(d.address(), current.cloudId(), d.attributes(), current.tags());
    }

    /** The top attribute a planner path is under: {@code subnets[a].cidr} → {@code subnets}. */
    static String top(String path) {
        int i = 0;
        while (i < path.length() && path.charAt(i) != '.' && path.charAt(i) != '[') i++;
        return path.substring(0, i);
    }

    /**
     * Brings this network's own subnetworks to the spec: removes the ones it no longer names, widens
     * or recreates those whose range changed, creates the missing ones, and sets Private Google
     * Access. Subnetworks of the network that are not its own are left exactly as they are.
     */
    @SuppressWarnings("unchecked")
    private void subnets(GcpClients c, Environment env, Network n, ResourceSpec d) {
        Address network = d.address();
        String region = env.region();
        boolean access = Boolean.TRUE.equals(d.attributes().get("privateStorageAccess"));
        Map<String, Subnetwork> existing = new TreeMap<>(ownSubnets(env, network, n.getSelfLink(), subnetworks(c, region, inNetwork(n.getName()))));
        Map<String, Map<String, Object>> wanted = new LinkedHashMap<>();
        ((List<Map<String, Object>>) d.attributes().getOrDefault("subnets", List.of())).forEach(w -> wanted.put((String) w.get("name"), w));
        for (Map.Entry<String, Subnetwork> e : new ArrayList<>(existing.entrySet())) {
            Map<String, Object> w = wanted.get(e.getKey());
            Subnetwork s = e.getValue();
            boolean widens = w != null && widens(s.getIpCidrRange(), (String) w.get("cidr"));
            if (w == null || (!s.getIpCidrRange().equals(w.get("cidr")) && !widens)) {
                // A range can move or shrink only by a new subnetwork; what ran in it was replaced with it first.
                deleteSubnetwork(c, region, s.getName());
                existing.remove(e.getKey());
            }
        }
        for (Map<String, Object> w : wanted.values()) {
            String subnet = (String) w.get("name");
            String cidr = (String) w.get("cidr");
            String name = GcpKind.subnetworkName(env, network.name(), subnet);
            Subnetwork s = existing.get(subnet);
            if (s == null) {
                Subnetwork.Builder body = Subnetwork.newBuilder().setName(name).setNetwork(n.getSelfLink()).setIpCidrRange(cidr).setRegion(region)
                    .setPrivateIpGoogleAccess(access).setDescription(GcpMarker.INSTANCE.description(env.name(), subnetAddress(network, subnet)));
                s = createOnce("compute.subnetworks.insert " + name,
                    id -> c.subnetworks().insertAsync(InsertSubnetworkRequest.newBuilder().setProject(c.project()).setRegion(region)
                        .setSubnetworkResource(body).setRequestId(id).build()),
                    () -> subnetwork(c, region, name),
                    found -> ownedSubnet(env, network, subnet, found));
            }
            if (!s.getIpCidrRange().equals(cidr)) {
                String what = "compute.subnetworks.expandIpCidrRange " + name;
                await(what, c.subnetworks().expandIpCidrRangeAsync(c.project(), region, name,
                    SubnetworksExpandIpCidrRangeRequest.newBuilder().setIpCidrRange(cidr).build()));
            }
            if (s.getPrivateIpGoogleAccess() != access) {
                await("compute.subnetworks.setPrivateIpGoogleAccess " + name, c.subnetworks().setPrivateIpGoogleAccessAsync(c.project(), region, name,
                    SubnetworksSetPrivateIpGoogleAccessRequest.newBuilder().setPrivateIpGoogleAccess(access).build()));
            }
        }
    }

    /** Whether {@code to} contains {@code from} and is larger: what expandIpCidrRange can do. */
    static boolean widens(String from, String to) {
        try {
            Cidr a = Cidr.parse(from);
            Cidr b = Cidr.parse(to);
            return b.prefix() < a.prefix() && b.contains(a);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static Subnetwork ownedSubnet(Environment env, Address network, String subnet, Subnetwork s) {
        Map<String, String> marker = GcpMarker.INSTANCE.fromDescription(s.getDescription());
        if (!GcpMarker.INSTANCE.owner(marker, env.name()).equals(Optional.of(subnetAddress(network, subnet)))) {
            throw new NotOwnedException(network + ": subnetwork " + s.getName() + " (" + s.getIpCidrRange() + ") already exists and is "
                + GcpMarker.INSTANCE.describeOwner(marker) + "; mlctl does not take over resources it did not create (rename the subnet in the spec)");
        }
        return s;
    }

    static Optional<Subnetwork> subnetwork(GcpClients c, String region, String name) {
        return GcpErrors.call("compute.subnetworks.get " + name, () -> {
            try {
                return Optional.of(c.subnetworks().get(c.project(), region, name));
            } catch (RuntimeException e) {
                if (GcpErrors.notFound(e)) return Optional.empty();
                throw e;
            }
        });
    }

    private static void deleteSubnetwork(GcpClients c, String region, String name) {
        String what = "compute.subnetworks.delete " + name;
        ignoreMissing(what, () -> c.subnetworks().deleteAsync(c.project(), region, name));
    }

    /** Brings this network's own firewall rules to the spec; rules that are not its own are never touched. */
    @SuppressWarnings("unchecked")
    private void firewall(GcpClients c, Environment env, Network n, ResourceSpec d) {
        Address network = d.address();
        Map<String, Firewall> existing = ownRules(env, network, n.getSelfLink(), firewalls(c, inNetwork(n.getName())));
        Map<String, Map<String, Object>> wanted = new LinkedHashMap<>();
        ((List<Map<String, Object>>) d.attributes().getOrDefault("firewall", List.of())).forEach(w -> wanted.put((String) w.get("name"), w));
        for (Map.Entry<String, Firewall> e : existing.entrySet()) {
            if (!wanted.containsKey(e.getKey())) ignoreMissing("compute.firewalls.delete " + e.getValue().getName(),
                () -> c.firewalls().deleteAsync(c.project(), e.getValue().getName()));
        }
        for (Map<String, Object> w : wanted.values()) {
            String ruleName = (String) w.get("name");
            Firewall body = firewallRule(c, env, network, n, w);
            Firewall current = existing.get(ruleName);
            if (current == null) {
                current = createOnce("compute.firewalls.insert " + body.getName(),
                    id -> c.firewalls().insertAsync(InsertFirewallRequest.newBuilder().setProject(c.project()).setFirewallResource(body).setRequestId(id).build()),
                    () -> firewallRule(c, body.getName()),
                    found -> ownedRule(env, network, found));
            }
            if (io.mlctl.spec.Normalizer.normalize(rule(env, network, current)).equals(io.mlctl.spec.Normalizer.normalize(w))) continue;
            if (!current.getDirection().equals(body.getDirection())) {
                // Compute Engine cannot turn a rule around: a new rule of the same name.
                String rule = current.getName();
                ignoreMissing("compute.firewalls.delete " + rule, () -> c.firewalls().deleteAsync(c.project(), rule));
                createOnce("compute.firewalls.insert " + rule,
                    id -> c.firewalls().insertAsync(InsertFirewallRequest.newBuilder().setProject(c.project()).setFirewallResource(body).setRequestId(id).build()),
                    () -> firewallRule(c, rule), found -> ownedRule(env, network, found));
            } else {
                await("compute.firewalls.update " + body.getName(), c.firewalls().updateAsync(UpdateFirewallRequest.newBuilder().setProject(c.project())
                    .setFirewall(body.getName()).setFirewallResource(body).build()));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Firewall firewallRule(GcpClients c, Environment env, Address network, Network n, Map<String, Object> w) {
        String ruleName = (String) w.get("name");
        boolean egress = "egress".equals(w.get("direction"));
        List<String> ports = ((List<Object>) w.get("ports")).stream().map(p -> String.valueOf(((Number) p).longValue())).toList();
        List<String> ranges = ((List<Object>) w.get("sources")).stream().map(String::valueOf).toList();
        Firewall.Builder f = Firewall.newBuilder().setName(GcpKind.firewallName(env, network.name(), ruleName)).setNetwork(n.getSelfLink())
            .setDescription(GcpMarker.INSTANCE.description(env.name(), network) + " rule=" + ruleName)
            .setDirection(egress ? "EGRESS" : "INGRESS").setPriority(1000)
            .addAllowed(Allowed.newBuilder().setIPProtocol((String) w.getOrDefault("protocol", "tcp")).addAllPorts(ports))
            .addTargetTags(networkTag(env, network.name()));
        if (egress) f.addAllDestinationRanges(ranges);
        else f.addAllSourceRanges(ranges);
        return f.build();
    }

    private static Firewall ownedRule(Environment env, Address network, Firewall f) {
        Map<String, String> marker = GcpMarker.INSTANCE.fromDescription(f.getDescription());
        if (!GcpMarker.INSTANCE.owner(marker, env.name()).equals(Optional.of(network)) || !RULE.matcher(f.getDescription()).find()) {
            throw new NotOwnedException(network + ": firewall rule " + f.getName() + " already exists and is " + GcpMarker.INSTANCE.describeOwner(marker)
                + "; mlctl does not take over resources it did not create (rename the rule in the spec)");
        }
        return f;
    }

    static Optional<Firewall> firewallRule(GcpClients c, String name) {
        return GcpErrors.call("compute.firewalls.get " + name, () -> {
            try {
                return Optional.of(c.firewalls().get(c.project(), name));
            } catch (RuntimeException e) {
                if (GcpErrors.notFound(e)) return Optional.empty();
                throw e;
            }
        });
    }

    // ------------------------------------------------------------------ delete

    /**
     * Deletes this network's own firewall rules and subnetworks, then the network. Anyone else's
     * rule, subnetwork or instance in it would keep Compute Engine from deleting the network: that is
     * said before anything is deleted, naming it.
     */
    @Override
    public void delete(GcpClients c, Environment env, ObservedResource current) {
        String name = current.cloudId();
        Optional<Network> n = network(c, name);
        if (n.isEmpty()) return;
        Address network = current.address();
        List<Subnetwork> subnets = new ArrayList<>();
        String token = "";
        do {
            com.google.cloud.compute.v1.AggregatedListSubnetworksRequest.Builder req = com.google.cloud.compute.v1.AggregatedListSubnetworksRequest.newBuilder()
                .setProject(c.project()).setFilter(inNetwork(name)).setMaxResults(500);
            if (!token.isEmpty()) req.setPageToken(token);
            var page = GcpErrors.call("compute.subnetworks.aggregatedList", () -> c.subnetworks().aggregatedListCallable().call(req.build()));
            page.getItemsMap().values().forEach(scope -> subnets.addAll(scope.getSubnetworksList()));
            token = page.getNextPageToken();
        } while (!token.isEmpty());
        List<Firewall> rules = firewalls(c, inNetwork(name));
        Map<String, Subnetwork> ownSubnets = ownSubnets(env, network, n.get().getSelfLink(), subnets);
        Map<String, Firewall> ownRules = ownRules(env, network, n.get().getSelfLink(), rules);
        String what = network + " (VPC network " + name + ")";
        for (Subnetwork s : subnets) {
            if (!ownSubnets.containsValue(s)) {
                throw new DriverException(what + " holds subnetwork " + s.getName() + " (" + s.getIpCidrRange() + ") that mlctl does not manage; "
                    + "move or delete it first", false);
            }
        }
        for (Firewall f : rules) {
            if (!ownRules.containsValue(f)) {
                throw new DriverException(what + " holds firewall rule " + f.getName() + " that mlctl does not manage; move or delete it first", false);
            }
        }
        for (Firewall f : ownRules.values()) ignoreMissing("compute.firewalls.delete " + f.getName(), () -> c.firewalls().deleteAsync(c.project(), f.getName()));
        for (Subnetwork s : ownSubnets.values()) deleteSubnetwork(c, GcpKind.lastSegment(s.getRegion()), s.getName());
        ignoreMissing("compute.networks.delete " + name, () -> c.networks().deleteAsync(c.project(), name));
    }

    // ------------------------------------------------------------------ errors and operations

    /**
     * Waits for a Compute Engine operation. A failed operation reports its errors ({@code error.errors}:
     * code and message, e.g. {@code QUOTA_EXCEEDED}) as one line, not the bare HTTP status the client
     * library puts in its exception ({@code httpErrorMessage}, e.g. "FORBIDDEN").
     */
    static Operation await(String what, OperationFuture<Operation, Operation> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DriverException("interrupted while waiting for " + what, true, e);
        } catch (ExecutionException e) {
            Optional<Operation> failed = finalOperation(future);
            if (failed.isPresent() && failed.get().getError().getErrorsCount() > 0) throw operationError(what, failed.get());
            throw GcpErrors.translate(what, e.getCause() == null ? e : e.getCause());
        } catch (RuntimeException e) {
            throw GcpErrors.translate(what, e);
        }
    }

    private static Optional<Operation> finalOperation(OperationFuture<Operation, Operation> future) {
        try {
            if (!future.getPollingFuture().isDone()) return Optional.empty();
            OperationSnapshot s = future.getPollingFuture().get();
            return s.getResponse() instanceof Operation op ? Optional.of(op) : Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (ExecutionException | RuntimeException e) {
            return Optional.empty();
        }
    }

    static DriverException operationError(String what, Operation op) {
        List<String> parts = new ArrayList<>();
        op.getError().getErrorsList().forEach(e -> parts.add(e.getCode() + ": " + e.getMessage()));
        String text = String.join("; ", parts);
        Optional<String> quota = GcpErrors.quota(text);
        if (quota.isPresent()) return new DriverException(what + ": " + quota.get(), false);
        int status = op.getHttpErrorStatusCode();
        boolean retry = status == 429 || status >= 500 || text.contains("RESOURCE_NOT_READY") || text.contains("ZONE_RESOURCE_POOL_EXHAUSTED");
        return new DriverException(what + ": " + GcpErrors.firstLine(text), retry);
    }

    /** Deletes through an operation; gone already (404) is done. */
    static void ignoreMissing(String what, Supplier<OperationFuture<Operation, Operation>> delete) {
        try {
            await(what, delete.get());
        } catch (DriverException e) {
            if (!GcpErrors.notFound(e.getCause() == null ? e : e.getCause())) throw e;
        } catch (RuntimeException e) {
            if (!GcpErrors.notFound(e)) throw GcpErrors.translate(what, e);
        }
    }

    private static final int SUB_CREATE_ATTEMPTS = 4;

    /**
     * A sub-resource create that the caller looked for first: one request id for all its attempts,
     * so a retry after a lost answer is the same request to Compute Engine; after a retryable
     * failure it looks again before sending again; a name already taken is adopted only when it
     * carries this network's marker ({@code owned} refuses otherwise).
     */
    static <T> T createOnce(String what, java.util.function.Function<String, OperationFuture<Operation, Operation>> insert,
                            Supplier<Optional<T>> lookAgain, java.util.function.Function<T, T> owned) {
        String id = UUID.randomUUID().toString();
        for (int attempt = 1; ; attempt++) {
            try {
                await(what, insert.apply(id));
                return lookAgain.get().orElseThrow(() -> new DriverException(what + ": created, but not visible yet", true));
            } catch (DriverException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                if (GcpErrors.alreadyExists(cause)) {
                    Optional<T> found = lookAgain.get();
                    if (found.isPresent()) return owned.apply(found.get());
                }
                if (!e.retryable() || attempt >= SUB_CREATE_ATTEMPTS) throw e;
                try {
                    Thread.sleep(100L << (attempt - 1));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                Optional<T> found = lookAgain.get();
                if (found.isPresent()) return owned.apply(found.get());
            }
        }
    }
}
