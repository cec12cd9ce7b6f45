package io.mlctl.provider.azure;

import com.azure.json.JsonProviders;
import com.azure.json.JsonReader;
import com.azure.json.JsonWriter;
import com.azure.json.ReadValueCallback;
import com.azure.resourcemanager.network.fluent.NetworkSecurityGroupsClient;
import com.azure.resourcemanager.network.fluent.VirtualNetworksClient;
import com.azure.resourcemanager.network.fluent.models.NetworkSecurityGroupInner;
import com.azure.resourcemanager.network.fluent.models.SecurityRuleInner;
import com.azure.resourcemanager.network.fluent.models.SubnetInner;
import com.azure.resourcemanager.network.fluent.models.VirtualNetworkInner;
import com.azure.resourcemanager.network.models.AddressSpace;
import com.azure.resourcemanager.network.models.ProvisioningState;
import com.azure.resourcemanager.network.models.SecurityRuleAccess;
import com.azure.resourcemanager.network.models.SecurityRuleDirection;
import com.azure.resourcemanager.network.models.SecurityRuleProtocol;
import com.azure.resourcemanager.network.models.ServiceEndpointPropertiesFormat;
import com.azure.resourcemanager.network.models.TagsObject;
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
import io.mlctl.spec.Environment;
import io.mlctl.spec.Normalizer;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.io.IOException;
import java.io.StringWriter;
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
import java.util.function.Supplier;

/**
 * network → a virtual network {@code <network>} whose address space is the spec's {@code cidr}, one
 * subnet per spec subnet, and one network security group {@code <network>-nsg} made from the
 * {@code firewall} list and associated with every subnet, so every VM and AKS node in them is covered.
 *
 * <ul>
 * <li>Firewall rules become security rules named {@code mlctl-<rule>}: {@code ingress} → Inbound from the
 * rule's sources to any address, {@code egress} → Outbound from any address to them, {@code tcp}/{@code udp},
 * the ports, access Allow. Priorities are 100, 101, … in rule-name order, skipping those another rule of
 * the same direction holds: deterministic, and since every rule allows, their order never changes what
 * passes. Azure's own default rules (allow inside the VNet and outbound, deny other inbound) stay below
 * them. Rules without the prefix are someone else's: kept as they are, never reported.</li>
 * <li>{@code privateStorageAccess: true} puts the {@code Microsoft.Storage} service endpoint on every
 * subnet: storage traffic stays on the Azure backbone and storage accounts can restrict access to these
 * subnets. Private endpoints are left out: each needs a storage account (another kind's resource), a
 * private DNS zone and its link to the VNet, which would make the network depend on the buckets.</li>
 * <li>{@code subnets[].private} is the subnet's {@code defaultOutboundAccess}: a private subnet
 * ({@code private: true}, the default) sets it to false, so VMs in it get no implicit outbound internet
 * address and need an explicit way out (NAT gateway, load balancer, public IP); {@code private: false}
 * keeps Azure's default outbound access. Inbound reachability is the firewall's business either way.
 * It changes in place (VMs already running keep their address until deallocated, as Azure says).</li>
 * <li>{@code subnets[].zone} is not held: an Azure subnet is regional and spans every availability zone
 * of the region, so the zone only tells the instance and cluster kinds where to put their machines.
 * It is an unsupported path ({@link ResourceRules#without}): never compared, never a perpetual update.</li>
 * </ul>
 *
 * <p>Replaces: {@code region} (a VNet's location is fixed) and a subnet's {@code cidr} (Azure refuses to
 * move a prefix that has IP configurations in it, so what runs in the subnet is replaced with it: the
 * planner deletes it first, then the network's update moves the now empty subnet in place). The
 * network's {@code cidr} changes in place: an address space can be replaced as long as every subnet
 * still lies in it, which the spec checker has already made sure of.
 *
 * <p>Other people's subnets in the VNet (another team's, a Bastion's) are theirs: the VNet records the
 * subnets mlctl manages in its tag {@code mlctl-subnets} (names joined by ':', continued in
 * {@code mlctl-subnets-2}, … past Azure's 256 characters of a tag value), only those are reported, and
 * every VNet write starts from the subnets it has and changes only those: the others, and the
 * address-space prefixes they sit in, stay as they are. So does a prefix with no subnet in it yet that
 * does not overlap the spec's cidr (another team widened the space ahead of its subnet), unless it is
 * the cidr mlctl wrote last (tag {@code mlctl-cidr}), left behind by a change of the spec's. The VNet
 * is not deleted while it holds someone else's subnet (Azure would delete it with the VNet). A VNet
 * without the tag (removed by hand) counts the subnets associated with its own security group as
 * mlctl's, and the next write records them again.
 *
 * <p>Every write of a VNet or security group that exists is a read, then a PUT of the whole resource
 * made from it, sent with {@code If-Match} the etag read: a subnet or rule someone adds in between
 * makes Azure refuse the PUT (412) rather than the PUT deleting it, and the write is made again from a
 * new read (a few times, then a retryable one-line failure).
 *
 * <p>Inventory is one Resource Graph query per page for both types (virtual networks and network
 * security groups of the environment, ordered by name, so {@code x-nsg} follows {@code x}); a VNet's
 * subnets come inline with it. Only a page boundary falling between a VNet and its NSG costs a GET, and
 * (one page only) a spec network Graph does not show yet, as the other kinds' listings do.
 * Subnets take no tags: they are owned through their VNet. The NSG carries the network's own marker.
 */
final class NetworkKind implements AzureKind {
    static final String VNET_TYPE = "microsoft.network/virtualnetworks";
    static final String NSG_TYPE = "microsoft.network/networksecuritygroups";
    static final String STORAGE_SERVICE = "Microsoft.Storage";
    static final int FIRST_PRIORITY = 100;
    /** The VNet tag naming the subnets mlctl manages in it; longer lists go on in {@code mlctl-subnets-2}, {@code -3}, …. */
    static final String SUBNETS_TAG = "mlctl-subnets";
    /** The VNet tag holding the cidr mlctl last wrote: a prefix that is neither it nor the spec's, with none of mlctl's subnets, is someone else's. */
    static final String CIDR_TAG = "mlctl-cidr";
    /** How many times a VNet or security group is read and written again when someone changes it between mlctl's read and its write. */
    static final int WRITE_ATTEMPTS = 5;
    /** Azure's limit on the length of a tag value. */
    private static final int MAX_TAG_VALUE = 256;
    /** The name prefix of the security rules mlctl manages in its group; rules without it are someone else's. */
    static final String RULE_PREFIX = "mlctl-";
    /** Port ranges wider than this are reported as text, not one number per port. */
    private static final int MAX_EXPANDED_PORTS = 1024;
    private static final Set<String> NETWORK_FIELDS = Set.of("cidr", "subnets", "privateStorageAccess");
    /** A VNet's location is fixed; a subnet's prefix cannot move while anything is in it; a subnet's zone is not Azure's to hold. */
    private static final ResourceRules RULES = new ResourceRules(Set.of("region", "subnets[].cidr"), Set.of(), Set.of())
        .without(Set.of("subnets[].zone"));
    private static final Waiter SETTLE = Waiter.of(Duration.ofSeconds(1), Duration.ofMinutes(15));

    /** What a create of this process just got back from ARM, by VNet id: its complete needs no second read. */
    private record Made(VirtualNetworkInner network, NetworkSecurityGroupInner securityGroup) {
    }

    private final Map<String, Made> justMade = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public ResourceType type() {
        return ResourceType.NETWORK;
    }

    @Override
    public ResourceRules rules() {
        return RULES;
    }

    private static VirtualNetworksClient vnets(AzureClients c) {
        return c.network().serviceClient().getVirtualNetworks();
    }

    private static NetworkSecurityGroupsClient groups(AzureClients c) {
        return c.network().serviceClient().getNetworkSecurityGroups();
    }

    /** The resource group of an ARM id ({@code /subscriptions/s/resourceGroups/<rg>/...}). */
    static String groupOf(String id) {
        String[] s = id.split("/");
        if (s.length < 5 || !s[3].equalsIgnoreCase("resourceGroups")) throw new DriverException("not a resource id in a resource group: " + id, false);
        return s[4];
    }

    /** The id of the security group {@code name} in the resource group of {@code anyId}. */
    static String groupIdBeside(String anyId, String name) {
        String[] s = anyId.split("/");
        return String.join("/", java.util.Arrays.copyOf(s, 5)) + "/providers/Microsoft.Network/networkSecurityGroups/" + name;
    }

    // ------------------------------------------------------------------ inventory

    static String graphQuery(Environment env) {
        return "resources | where type in~ ('" + VNET_TYPE + "', '" + NSG_TYPE + "') | where resourceGroup =~ '" + AzureKind.resourceGroup(env)
            + "' | where tags['" + io.mlctl.inventory.Ownership.ENVIRONMENT_TAG + "'] == '" + env.name() + "' | order by name asc";
    }

    @Override
    public Page list(AzureClients cloud, Environment env, Optional<String> pageToken) {
        AzureClients.GraphPage page = cloud.query("list virtual networks and network security groups", graphQuery(env), pageToken);
        Map<String, Address> owners = new LinkedHashMap<>();
        Map<String, VirtualNetworkInner> networks = new LinkedHashMap<>();
        Map<String, NetworkSecurityGroupInner> securityGroups = new LinkedHashMap<>();
        for (Map<String, Object> row : page.rows()) {
            Optional<Address> owner = TagMarker.INSTANCE.owner(AzureKind.tags(row.get("tags")), env.name())
                .filter(a -> a.type() == ResourceType.NETWORK && !a.isComponent());
            if (owner.isEmpty()) continue;
            String type = String.valueOf(row.get("type")).toLowerCase(Locale.ROOT);
            String key = key(groupOf(String.valueOf(row.get("id"))), owner.get().name());
            owners.put(key, owner.get());
            if (type.equals(VNET_TYPE)) networks.put(key, model(row, VirtualNetworkInner::fromJson));
            else if (type.equals(NSG_TYPE)) securityGroups.put(key, model(row, NetworkSecurityGroupInner::fromJson));
        }
        List<ObservedResource> items = new ArrayList<>();
        for (Map.Entry<String, VirtualNetworkInner> e : networks.entrySet()) {
            Address a = owners.get(e.getKey());
            String group = groupOf(e.getValue().id());
            NetworkSecurityGroupInner nsg = securityGroups.remove(e.getKey());
            // On another page (or untagged since): one GET, only then.
            if (nsg == null) nsg = ownGroup(cloud, env, a, group).orElse(null);
            items.add(observed(env, a, e.getValue(), nsg));
        }
        for (Map.Entry<String, NetworkSecurityGroupInner> e : securityGroups.entrySet()) {
            // A security group whose network is not on this page: an earlier page's, or left alone by a
            // delete or create that stopped half way. The latter is listed, so it is finished or removed.
            Address a = owners.get(e.getKey());
            if (network(cloud, groupOf(e.getValue().id()), a.name()).isEmpty()) items.add(observed(env, a, null, e.getValue()));
        }
        if (pageToken.isEmpty() && page.skipToken().isEmpty()) items.addAll(notIndexedYet(cloud, env, items));
        return new Page(items, page.skipToken());
    }

    /**
     * Resource Graph lags ARM writes by seconds: when the listing is one page, each network of the spec
     * it did not return is read directly (one GET, answered 404 at steady state only for what is still
     * to create), so a plan right after an apply does not offer to create again what the apply made.
     * With more pages a direct read could claim an address a later page holds, so it is not done; the
     * create then finds the network by name and finishes it instead.
     */
    private static List<ObservedResource> notIndexedYet(AzureClients cloud, Environment env, List<ObservedResource> listed) {
        Set<Address> seen = new java.util.HashSet<>();
        listed.forEach(r -> seen.add(r.address()));
        String group = AzureKind.resourceGroup(env);
        List<ObservedResource> out = new ArrayList<>();
        for (ResourceSpec spec : env.resources()) {
            Address a = spec.address();
            if (a.type() != ResourceType.NETWORK || seen.contains(a)) continue;
            Optional<VirtualNetworkInner> v = network(cloud, group, a.name())
                .filter(x -> TagMarker.INSTANCE.owner(AzureKind.tags(x.tags()), env.name()).filter(a::equals).isPresent());
            v.ifPresent(x -> out.add(observed(env, a, x, ownGroup(cloud, env, a, group).orElse(null))));
        }
        return out;
    }

    private static String key(String group, String network) {
        return (group + "/" + network).toLowerCase(Locale.ROOT);
    }

    /** A Graph row (ARM's JSON shape) read into the SDK model, as a GET would give it. */
    static <T> T model(Map<String, Object> row, ReadValueCallback<JsonReader, T> read) {
        try {
            StringWriter out = new StringWriter();
            try (JsonWriter w = JsonProviders.createWriter(out)) {
                w.writeUntyped(row);
                w.flush();
            }
            try (JsonReader r = JsonProviders.createReader(out.toString())) {
                return read.read(r);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The attributes as the spec writes them, from the VNet (null: gone) and its security group (null:
     * none). What the spec cannot say appears only when it is so, as a difference the next update corrects:
     * a subnet not associated with the security group, a rule that denies, a provisioning that failed.
     */
    static ObservedResource observed(Environment env, Address address, VirtualNetworkInner v, NetworkSecurityGroupInner nsg) {
        Map<String, Object> m = new TreeMap<>();
        List<String> states = new ArrayList<>();
        if (v != null) {
            String ownGroup = groupIdBeside(v.id(), AzureKind.nsgName(address.name()));
            Optional<Set<String>> record = recordOrImport(AzureKind.tags(v.tags()), env.resource(address));
            List<SubnetInner> mine = new ArrayList<>();
            List<SubnetInner> others = new ArrayList<>();
            for (SubnetInner s : v.subnets() == null ? List.<SubnetInner>of() : v.subnets()) (ours(s, record, ownGroup) ? mine : others).add(s);
            String specCidr = env.resource(address).map(r -> String.valueOf(r.attributes().get("cidr"))).orElse(null);
            Optional<String> recorded = Optional.ofNullable(AzureKind.tags(v.tags()).get(CIDR_TAG));
            // A prefix someone added for their own subnets (there yet or not) is theirs, as the subnets are.
            List<String> space = space(v).stream().filter(p -> !theirs(p, specCidr, recorded, mine, others)).toList();
            if (!space.isEmpty()) m.put("cidr", String.join(", ", space));
            List<Object> subnets = new ArrayList<>();
            Map<String, Boolean> storage = new TreeMap<>();
            for (SubnetInner s : mine) {
                subnets.add(subnet(s, ownGroup));
                storage.put(s.name(), hasStorageEndpoint(s));
            }
            m.put("subnets", subnets);
            m.put("privateStorageAccess", privateStorageAccess(env, address, storage));
            if (failed(v.provisioningState())) states.add("virtual network " + v.provisioningState());
        }
        List<Object> firewall = new ArrayList<>();
        if (nsg != null) {
            for (SecurityRuleInner r : nsg.securityRules() == null ? List.<SecurityRuleInner>of() : nsg.securityRules()) {
                if (ourRule(r)) firewall.add(rule(r));
            }
            if (failed(nsg.provisioningState())) states.add("network security group " + nsg.provisioningState());
        }
        m.put("firewall", firewall);
        if (!states.isEmpty()) m.put("provisioningState", String.join(", ", states));
        Map<String, String> tags = AzureKind.tags(v != null ? v.tags() : nsg.tags());
        Map<String, Object> attrs = AzureKind.attrs(v != null ? v.location() : nsg.location(), m, tags);
        if (v != null && nsg != null) {
            Map<String, String> onGroup = LABELS.observed(AzureKind.tags(nsg.tags()));
            Map<String, String> onNetwork = LABELS.observed(tags);
            if (!onGroup.equals(onNetwork)) attrs.put("tags", disagreeing(onNetwork, onGroup, nsg.name()));
        }
        return new ObservedResource(address, v != null ? v.id() : nsg.id(), attrs, AzureKind.markerOf(tags));
    }

    /** Labels the VNet and its security group do not agree on, each shown with the group's value, so either spec value differs. */
    private static Map<String, String> disagreeing(Map<String, String> onNetwork, Map<String, String> onGroup, String groupName) {
        Map<String, String> out = new TreeMap<>();
        Set<String> keys = new TreeSet<>(onNetwork.keySet());
        keys.addAll(onGroup.keySet());
        for (String k : keys) {
            String a = onNetwork.get(k);
            String b = onGroup.get(k);
            out.put(k, java.util.Objects.equals(a, b) ? a : (a == null ? "(none)" : a) + " (on " + groupName + ": " + (b == null ? "none" : b) + ")");
        }
        return out;
    }

    // ------------------------------------------------------------------ whose subnets and rules

    static boolean isSubnetRecordKey(String key) {
        return key.equals(SUBNETS_TAG) || key.matches(java.util.regex.Pattern.quote(SUBNETS_TAG) + "-[0-9]+");
    }

    /** The subnets the VNet's tags record as mlctl's (any case); empty when the record is not there. */
    static Optional<Set<String>> subnetRecord(Map<String, String> tags) {
        if (!tags.containsKey(SUBNETS_TAG)) return Optional.empty();
        Set<String> out = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        tags.forEach((k, v) -> {
            if (isSubnetRecordKey(k) && !v.isBlank()) out.addAll(List.of(v.split(":")));
        });
        return Optional.of(out);
    }

    /** {@code tags} recording {@code names} as mlctl's subnets (and no earlier record), in values of at most 256 characters. */
    static Map<String, String> withSubnetRecord(Map<String, String> tags, java.util.Collection<String> names) {
        Map<String, String> out = new TreeMap<>(tags);
        out.keySet().removeIf(NetworkKind::isSubnetRecordKey);
        List<String> values = new ArrayList<>();
        StringBuilder value = new StringBuilder();
        for (String n : new TreeSet<>(names)) {
            if (!value.isEmpty() && value.length() + 1 + n.length() > MAX_TAG_VALUE) {
                values.add(value.toString());
                value.setLength(0);
            }
            if (!value.isEmpty()) value.append(':');
            value.append(n);
        }
        values.add(value.toString());
        for (int i = 0; i < values.size(); i++) out.put(i == 0 ? SUBNETS_TAG : SUBNETS_TAG + "-" + (i + 1), values.get(i));
        return out;
    }

    /**
     * The VNet's record of mlctl's subnets; for a VNet being imported (no marker, no record yet), the subnets the spec names,
     * which the import takes over (the others stay someone else's).
     */
    static Optional<Set<String>> recordOrImport(Map<String, String> tags, Optional<ResourceSpec> spec) {
        Optional<Set<String>> record = subnetRecord(tags);
        if (record.isPresent() || TagMarker.INSTANCE.marked(tags) || spec.isEmpty()) return record;
        Set<String> names = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        if (spec.get().attributes().get("subnets") instanceof List<?> l) {
            for (Object o : l) if (o instanceof Map<?, ?> m && m.get("name") != null) names.add(String.valueOf(m.get("name")));
        }
        return Optional.of(names);
    }

    /**
     * Whether mlctl manages the subnet: its VNet's record names it; without a record (the tag removed by
     * hand), when it is associated with the network's own security group, as every subnet mlctl makes is.
     */
    static boolean ours(SubnetInner s, Optional<Set<String>> record, String ownGroupId) {
        if (record.isPresent()) return record.get().contains(s.name());
        return s.networkSecurityGroup() != null && ownGroupId.equalsIgnoreCase(s.networkSecurityGroup().id());
    }

    /** A security rule of mlctl's (named {@code mlctl-<rule>}); the others in the group are someone else's. */
    static boolean ourRule(SecurityRuleInner r) {
        return r.name() != null && r.name().startsWith(RULE_PREFIX);
    }

    private static List<String> space(VirtualNetworkInner v) {
        return v.addressSpace() == null || v.addressSpace().addressPrefixes() == null ? List.of() : v.addressSpace().addressPrefixes();
    }

    private static List<String> prefixes(SubnetInner s) {
        if (s.addressPrefix() != null) return List.of(s.addressPrefix());
        return s.addressPrefixes() == null ? List.of() : s.addressPrefixes();
    }

    private static Optional<io.mlctl.spec.Cidr> cidr(String text) {
        try {
            return Optional.of(io.mlctl.spec.Cidr.parse(text));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static boolean anyIn(String prefix, List<SubnetInner> subnets) {
        Optional<io.mlctl.spec.Cidr> p = cidr(prefix);
        return p.isPresent() && subnets.stream().flatMap(s -> prefixes(s).stream()).map(NetworkKind::cidr)
            .anyMatch(c -> c.isPresent() && p.get().contains(c.get()));
    }

    /**
     * Whether an address-space prefix is someone else's, neither reported nor removed: not the spec's
     * cidr ({@code cidr}) and holding none of mlctl's subnets, and either holding someone else's, or
     * (none in it yet: another team widened the space ahead of adding its subnet) clear of the spec's
     * cidr and not the cidr mlctl wrote last ({@code recorded}, left behind when the spec's moved).
     */
    static boolean theirs(String prefix, String cidr, Optional<String> recorded, List<SubnetInner> mine, List<SubnetInner> others) {
        if (same(prefix, cidr) || anyIn(prefix, mine)) return false;
        if (anyIn(prefix, others)) return true;
        Optional<io.mlctl.spec.Cidr> p = cidr(prefix);
        boolean overlaps = p.isPresent() && cidr != null && cidr(cidr).filter(c -> c.overlaps(p.get())).isPresent();
        return !overlaps && recorded.filter(r -> same(prefix, r)).isEmpty();
    }

    /** The same prefix, however written. */
    private static boolean same(String a, String b) {
        if (a == null || b == null) return false;
        Optional<io.mlctl.spec.Cidr> x = cidr(a);
        return a.equals(b) || x.isPresent() && x.equals(cidr(b));
    }

    private static boolean failed(ProvisioningState s) {
        return ProvisioningState.FAILED.equals(s) || ProvisioningState.CANCELED.equals(s);
    }

    private static Map<String, Object> subnet(SubnetInner s, String ownGroup) {
        Map<String, Object> out = new TreeMap<>();
        out.put("name", s.name());
        if (s.addressPrefix() != null) out.put("cidr", s.addressPrefix());
        else if (s.addressPrefixes() != null && !s.addressPrefixes().isEmpty()) out.put("cidr", String.join(", ", s.addressPrefixes()));
        // Unset is Azure's default outbound access (API versions before 2025-07-01): not private.
        out.put("private", Boolean.FALSE.equals(s.defaultOutboundAccess()));
        String group = s.networkSecurityGroup() == null ? null : s.networkSecurityGroup().id();
        if (group == null) out.put("networkSecurityGroup", "none");
        else if (!group.equalsIgnoreCase(ownGroup)) out.put("networkSecurityGroup", AzureKind.lastSegment(group));
        return out;
    }

    private static boolean hasStorageEndpoint(SubnetInner s) {
        return s.serviceEndpoints() != null && s.serviceEndpoints().stream().anyMatch(e -> STORAGE_SERVICE.equalsIgnoreCase(e.service()));
    }

    /**
     * The storage endpoint is a setting of each subnet: true or false when all agree, a description of
     * the mix otherwise (so either spec value shows a difference). Without subnets nothing holds it: the
     * spec's value stands.
     */
    private static Object privateStorageAccess(Environment env, Address network, Map<String, Boolean> bySubnet) {
        if (bySubnet.isEmpty()) return env.resource(network).map(r -> r.attributes().get("privateStorageAccess")).orElse(false);
        Set<Boolean> values = new TreeSet<>(bySubnet.values());
        if (values.size() == 1) return values.iterator().next();
        List<String> on = new ArrayList<>();
        List<String> off = new ArrayList<>();
        bySubnet.forEach((k, x) -> (x ? on : off).add(k));
        return "Microsoft.Storage endpoint in subnet " + String.join(", ", on) + ", not in " + String.join(", ", off);
    }

    /** A security rule as the spec writes a firewall rule, plus whatever the spec cannot say, when it is so. */
    static Map<String, Object> rule(SecurityRuleInner r) {
        Map<String, Object> m = new TreeMap<>();
        m.put("name", ourRule(r) ? r.name().substring(RULE_PREFIX.length()) : r.name());
        boolean egress = SecurityRuleDirection.OUTBOUND.equals(r.direction());
        m.put("direction", egress ? "egress" : "ingress");
        String protocol = r.protocol() == null ? "" : r.protocol().toString().toLowerCase(Locale.ROOT);
        m.put("protocol", protocol.equals("*") ? "any" : protocol);
        Object ports = ports(joined(r.destinationPortRange(), r.destinationPortRanges()));
        if (ports != null) m.put("ports", ports);
        List<String> remote = joined(egress ? r.destinationAddressPrefix() : r.sourceAddressPrefix(),
            egress ? r.destinationAddressPrefixes() : r.sourceAddressPrefixes());
        m.put("sources", remote);
        List<String> local = joined(egress ? r.sourceAddressPrefix() : r.destinationAddressPrefix(),
            egress ? r.sourceAddressPrefixes() : r.destinationAddressPrefixes());
        if (!local.equals(List.of("*"))) m.put(egress ? "from" : "to", local);
        List<String> sourcePorts = joined(r.sourcePortRange(), r.sourcePortRanges());
        if (!sourcePorts.equals(List.of("*"))) m.put("sourcePorts", sourcePorts);
        if (SecurityRuleAccess.DENY.equals(r.access())) m.put("access", "deny");
        if (notEmpty(r.sourceApplicationSecurityGroups()) || notEmpty(r.destinationApplicationSecurityGroups())) {
            m.put("applicationSecurityGroups", "set");
        }
        return m;
    }

    private static boolean notEmpty(List<?> l) {
        return l != null && !l.isEmpty();
    }

    private static List<String> joined(String one, List<String> many) {
        List<String> out = new ArrayList<>();
        if (one != null && !one.isBlank()) out.add(one);
        if (many != null) out.addAll(many);
        return out;
    }

    /** Port ranges as the spec's list of numbers; '*' or a very wide range as text. */
    private static Object ports(List<String> ranges) {
        if (ranges.isEmpty()) return null;
        TreeSet<Long> out = new TreeSet<>();
        for (String p : ranges) {
            if (!p.matches("[0-9]+(-[0-9]+)?")) return "ports " + String.join(",", ranges);
            String[] b = p.split("-", 2);
            long from = Long.parseLong(b[0]);
            long to = b.length > 1 ? Long.parseLong(b[1]) : from;
            if (to - from >= MAX_EXPANDED_PORTS) return "ports " + String.join(",", ranges);
            for (long x = from; x <= to; x++) out.add(x);
        }
        return new ArrayList<>(out);
    }

    // ------------------------------------------------------------------ reads

    static Optional<VirtualNetworkInner> network(AzureClients c, String group, String name) {
        return AzureErrors.find("read virtual network " + name, () -> vnets(c).getByResourceGroup(group, name));
    }

    static Optional<NetworkSecurityGroupInner> securityGroup(AzureClients c, String group, String name) {
        return AzureErrors.find("read network security group " + name, () -> groups(c).getByResourceGroup(group, name));
    }

    /** The network's security group, if it is there and carries this network's marker. */
    private static Optional<NetworkSecurityGroupInner> ownGroup(AzureClients c, Environment env, Address network, String group) {
        return securityGroup(c, group, AzureKind.nsgName(network.name()))
            .filter(n -> TagMarker.INSTANCE.owner(AzureKind.tags(n.tags()), env.name()).filter(network::equals).isPresent());
    }

    private static boolean busy(ProvisioningState s) {
        return ProvisioningState.CREATING.equals(s) || ProvisioningState.UPDATING.equals(s) || ProvisioningState.DELETING.equals(s);
    }

    /** Reads until no operation is under way on it (a run killed mid-write may have left one); empty when gone. */
    private static <T> Optional<T> settled(String what, Supplier<Optional<T>> read, java.util.function.Function<T, ProvisioningState> state) {
        Object[] last = {Optional.empty()};
        SETTLE.until(what, () -> {
            Optional<T> now = read.get();
            last[0] = now;
            if (now.isPresent() && busy(state.apply(now.get()))) return Waiter.Status.pending(String.valueOf(state.apply(now.get())));
            return Waiter.Status.ready(now.map(x -> String.valueOf(state.apply(x))).orElse("gone"));
        });
        @SuppressWarnings("unchecked")
        Optional<T> out = (Optional<T>) last[0];
        return out;
    }

    // ------------------------------------------------------------------ import, outputs

    /**
     * The virtual network {@code cloudId} ({@code .../Microsoft.Network/virtualNetworks/<name>}) with its security group
     * {@code <name>-nsg} when that carries the same marker, observed as {@link #list} observes them, with all the VNet's tags.
     * It must be in the environment's resource group under the address's name (subnet references name it so).
     */
    @Override
    public Optional<ObservedResource> read(AzureClients c, Environment env, Address address, String cloudId) {
        AzureKind.ArmRef ref = AzureKind.parseId(cloudId, "Microsoft.Network", "virtualNetworks").orElseThrow(() ->
            AzureKind.notAnId(address, cloudId, "a virtual network", AzureKind.idForm("Microsoft.Network", "virtualNetworks")));
        String what = "virtual network " + ref.name();
        AzureKind.requireHere(c, env, address, ref, what);
        AzureKind.requireName(address, what, ref.name());
        String group = AzureKind.resourceGroup(env);
        Optional<VirtualNetworkInner> v = network(c, group, ref.name());
        if (v.isEmpty()) return Optional.empty();
        Map<String, String> tags = AzureKind.tags(v.get().tags());
        Optional<Address> owner = TagMarker.INSTANCE.owner(tags, env.name());
        NetworkSecurityGroupInner nsg = owner.isEmpty() ? null : securityGroup(c, group, AzureKind.nsgName(ref.name()))
            .filter(n -> TagMarker.INSTANCE.owner(AzureKind.tags(n.tags()), env.name()).equals(owner)).orElse(null);
        ObservedResource o = observed(env, address, v.get(), nsg);
        return Optional.of(new ObservedResource(address, o.cloudId(), o.attributes(), tags));
    }

    /** {@code subnets}: mlctl's subnets of the VNet as {@code name=id}, by name, joined by ','. */
    @Override
    public Map<String, String> outputs(AzureClients c, Environment env, ObservedResource r) {
        VirtualNetworkInner v = network(c, groupOf(r.cloudId()), AzureKind.lastSegment(r.cloudId())).orElseThrow(() -> AzureKind.gone(r));
        Optional<Set<String>> record = subnetRecord(AzureKind.tags(v.tags()));
        String ownGroup = groupIdBeside(v.id(), AzureKind.nsgName(r.address().name()));
        Map<String, String> byName = new TreeMap<>();
        for (SubnetInner s : v.subnets() == null ? List.<SubnetInner>of() : v.subnets()) if (ours(s, record, ownGroup)) byName.put(s.name(), s.id());
        List<String> out = new ArrayList<>();
        byName.forEach((n, id) -> out.add(n + "=" + id));
        return out.isEmpty() ? Map.of() : Map.of("subnets", String.join(",", out));
    }

    // ------------------------------------------------------------------ find, create, complete

    /**
     * The VNet at the address, or when it is not there its security group: a create or delete that
     * stopped between the two leaves one without the other, and the group's name must be free (or this
     * network's) for a create to go ahead.
     */
    @Override
    public Optional<Existing> find(AzureClients c, Environment env, Address address, Optional<String> knownCloudId) {
        String group = knownCloudId.map(NetworkKind::groupOf).orElse(AzureKind.resourceGroup(env));
        String name = address.name();
        Optional<VirtualNetworkInner> v = network(c, group, name);
        if (v.isPresent()) {
            return Optional.of(new Existing(v.get().id(), "virtual network " + name + " in resource group " + group, AzureKind.tags(v.get().tags())));
        }
        String nsgName = AzureKind.nsgName(name);
        return securityGroup(c, group, nsgName).map(n -> new Existing(n.id(), "network security group " + nsgName + " in resource group " + group,
            AzureKind.tags(n.tags())));
    }

    /** The security group first (the subnets point at it), then the VNet with its subnets in one PUT. */
    @Override
    public String create(AzureClients c, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        String group = AzureKind.resourceGroup(env);
        String name = d.address().name();
        NetworkSecurityGroupInner nsg = ensureGroup(c, env, group, d, marker);
        VirtualNetworkInner body = networkBody(null, env.region(), AzureKind.allTags(marker, d.attributes()), d, nsg.id());
        VirtualNetworkInner made = AzureErrors.call("create virtual network " + name, () -> vnets(c).createOrUpdate(group, name, body));
        justMade.put(made.id().toLowerCase(Locale.ROOT), new Made(made, nsg));
        return made.id();
    }

    /**
     * Waits out any operation left under way, then brings the security group and the VNet to the spec
     * where they are not (a create that stopped half way, or one adopted after a lost answer).
     */
    @Override
    public ObservedResource complete(AzureClients c, Environment env, String cloudId, ResourceSpec d, Map<String, String> marker) {
        String group = groupOf(cloudId);
        String name = d.address().name();
        Made made = justMade.remove(cloudId.toLowerCase(Locale.ROOT));
        if (made != null && ProvisioningState.SUCCEEDED.equals(made.network().provisioningState())) {
            return observed(env, d.address(), made.network(), made.securityGroup()); // as the create's own answers say, a moment ago
        }
        NetworkSecurityGroupInner nsg = ensureGroup(c, env, group, d, marker);
        Map<String, Object> want = desiredView(d);
        VirtualNetworkInner net = untilUnchanged("update virtual network " + name, () -> {
            VirtualNetworkInner now = settled("virtual network " + name, () -> network(c, group, name), VirtualNetworkInner::provisioningState).orElse(null);
            Map<String, Object> have = now == null ? Map.of() : Normalizer.normalize(observed(env, d.address(), now, nsg).attributes());
            boolean differs = now == null || failed(now.provisioningState()) || NETWORK_FIELDS.stream().anyMatch(f -> !java.util.Objects.equals(have.get(f), want.get(f)));
            Map<String, String> tags = now == null ? AzureKind.allTags(marker, d.attributes())
                : AzureKind.tagsAfterSync(AzureKind.tags(now.tags()), marker, d.attributes()).orElse(null);
            if (!differs && tags == null) return now;
            return writeNetwork(c, group, name, now, networkBody(now, env.region(), tags != null ? tags : AzureKind.tags(now.tags()), d, nsg.id()));
        });
        return observed(env, d.address(), net, nsg);
    }

    /** The spec's attributes as an observation of them would read: normalized, without what Azure does not hold. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> desiredView(ResourceSpec d) {
        Map<String, Object> out = new TreeMap<>(d.attributes());
        if (out.get("subnets") instanceof List<?> l) {
            List<Object> subnets = new ArrayList<>();
            for (Object o : l) {
                Map<String, Object> s = new TreeMap<>((Map<String, Object>) o);
                s.remove("zone");
                subnets.add(s);
            }
            out.put("subnets", subnets);
        }
        return Normalizer.normalize(out);
    }

    /**
     * Makes the security group hold the spec's rules, labels and this network's marker: created when
     * missing, left alone when it already does, refused when someone else's has the name.
     */
    private NetworkSecurityGroupInner ensureGroup(AzureClients c, Environment env, String group, ResourceSpec d, Map<String, String> marker) {
        String name = AzureKind.nsgName(d.address().name());
        return untilUnchanged("update network security group " + name, () -> ensureGroup(c, env, group, d, marker,
            settled("network security group " + name, () -> securityGroup(c, group, name), NetworkSecurityGroupInner::provisioningState)));
    }

    /** As above, for a group just read ({@code found}); {@link Changed} when someone changed it since. */
    private NetworkSecurityGroupInner ensureGroup(AzureClients c, Environment env, String group, ResourceSpec d, Map<String, String> marker,
                                                  Optional<NetworkSecurityGroupInner> found) {
        String name = AzureKind.nsgName(d.address().name());
        if (found.isPresent()) {
            Map<String, String> cloudTags = AzureKind.tags(found.get().tags());
            if (TagMarker.INSTANCE.owner(cloudTags, env.name()).filter(d.address()::equals).isEmpty()) {
                throw new NotOwnedException(d.address() + ": network security group " + name + " in resource group " + group + " already exists and is "
                    + TagMarker.INSTANCE.describeOwner(cloudTags) + "; mlctl does not take over resources it did not create (rename the network in the spec)");
            }
            Map<String, String> want = AzureKind.tagsAfterSync(cloudTags, marker, d.attributes()).orElse(cloudTags);
            boolean rulesDiffer = !firewallOf(found.get()).equals(desiredView(d).getOrDefault("firewall", List.of()));
            if (!rulesDiffer && want.equals(cloudTags) && !failed(found.get().provisioningState())) return found.get();
            NetworkSecurityGroupInner body = groupBody(found.get(), env.region(), want, d);
            return putIfUnchanged(c, "update network security group " + name, found.get().etag(), NetworkSecurityGroupInner.class,
                groups(c).createOrUpdateWithResponseAsync(group, name, body));
        }
        NetworkSecurityGroupInner body = groupBody(null, env.region(), AzureKind.allTags(marker, d.attributes()), d);
        return AzureErrors.call("create network security group " + name, () -> groups(c).createOrUpdate(group, name, body));
    }

    /** The group's rules of mlctl's as the planner compares them (normalized, empty list absent). */
    private static Object firewallOf(NetworkSecurityGroupInner n) {
        List<Object> rules = new ArrayList<>();
        for (SecurityRuleInner r : n.securityRules() == null ? List.<SecurityRuleInner>of() : n.securityRules()) {
            if (ourRule(r)) rules.add(rule(r));
        }
        return Normalizer.normalize(Map.of("firewall", rules)).getOrDefault("firewall", List.of());
    }

    /** The group with the spec's rules in place of mlctl's earlier ones; everyone else's rules stay as they are. */
    private static NetworkSecurityGroupInner groupBody(NetworkSecurityGroupInner current, String region, Map<String, String> tags, ResourceSpec d) {
        NetworkSecurityGroupInner g = current != null ? current : new NetworkSecurityGroupInner().withLocation(region);
        g.withTags(tags);
        List<SecurityRuleInner> theirs = current == null || current.securityRules() == null ? List.of()
            : current.securityRules().stream().filter(r -> !ourRule(r)).toList();
        List<SecurityRuleInner> rules = new ArrayList<>(theirs);
        rules.addAll(securityRules(d, theirs));
        g.withSecurityRules(rules);
        return g;
    }

    /**
     * The firewall list as security rules named {@code mlctl-<rule>}: priorities 100, 101, … in rule-name
     * order, skipping a priority one of {@code theirs} holds in the same direction (Azure refuses two).
     */
    @SuppressWarnings("unchecked")
    static List<SecurityRuleInner> securityRules(ResourceSpec d, List<SecurityRuleInner> theirs) {
        List<Map<String, Object>> wanted = new ArrayList<>((List<Map<String, Object>>) d.attributes().getOrDefault("firewall", List.of()));
        wanted.sort(java.util.Comparator.comparing(w -> String.valueOf(w.get("name"))));
        Set<String> taken = new java.util.HashSet<>();
        theirs.forEach(r -> taken.add(r.direction() + "/" + r.priority()));
        List<SecurityRuleInner> out = new ArrayList<>();
        int priority = FIRST_PRIORITY;
        for (Map<String, Object> w : wanted) {
            boolean egress = "egress".equals(w.get("direction"));
            SecurityRuleDirection direction = egress ? SecurityRuleDirection.OUTBOUND : SecurityRuleDirection.INBOUND;
            while (taken.contains(direction + "/" + priority)) priority++;
            List<String> addresses = ((List<Object>) w.get("sources")).stream().map(String::valueOf).toList();
            List<String> ports = portRanges((List<Object>) w.get("ports"));
            SecurityRuleInner r = new SecurityRuleInner().withName(RULE_PREFIX + w.get("name")).withPriority(priority++)
                .withDirection(direction).withAccess(SecurityRuleAccess.ALLOW)
                .withProtocol("udp".equals(w.get("protocol")) ? SecurityRuleProtocol.UDP : SecurityRuleProtocol.TCP)
                .withSourcePortRange("*");
            if (ports.size() == 1) r.withDestinationPortRange(ports.get(0));
            else r.withDestinationPortRanges(ports);
            // One address in the singular field, several in the plural one, as the portal writes them.
            if (egress) {
                r.withSourceAddressPrefix("*");
                if (addresses.size() == 1) r.withDestinationAddressPrefix(addresses.get(0));
                else r.withDestinationAddressPrefixes(addresses);
            } else {
                r.withDestinationAddressPrefix("*");
                if (addresses.size() == 1) r.withSourceAddressPrefix(addresses.get(0));
                else r.withSourceAddressPrefixes(addresses);
            }
            out.add(r);
        }
        return out;
    }

    /** Ports as Azure's ranges: runs of consecutive ports become "a-b". */
    static List<String> portRanges(List<Object> ports) {
        TreeSet<Long> sorted = new TreeSet<>();
        ports.forEach(p -> sorted.add(((Number) p).longValue()));
        List<String> out = new ArrayList<>();
        Long start = null;
        Long prev = null;
        for (Long p : sorted) {
            if (start != null && p == prev + 1) {
                prev = p;
                continue;
            }
            if (start != null) out.add(start.equals(prev) ? String.valueOf(start) : start + "-" + prev);
            start = p;
            prev = p;
        }
        if (start != null) out.add(start.equals(prev) ? String.valueOf(start) : start + "-" + prev);
        return out;
    }

    /**
     * The VNet as the spec wants it, from what it is now ({@code current}, null when new): every subnet it
     * has, mlctl's brought to the spec (each keeping whatever else Azure or another tool set on it, such as
     * a route table or delegations: associated with the security group, with the storage endpoint when
     * asked, private or not), mlctl's the spec no longer names left out (Azure deletes them), the spec's
     * new ones added, and everyone else's as they are; the address space is the spec's cidr and every
     * other prefix someone else's subnets sit in or someone added ahead of theirs ({@link #theirs}); the
     * tags record the spec's subnets as mlctl's, and its cidr as the one mlctl wrote. A subnet
     * of the spec's name that is someone else's is refused, not taken over.
     */
    @SuppressWarnings("unchecked")
    static VirtualNetworkInner networkBody(VirtualNetworkInner current, String region, Map<String, String> tags, ResourceSpec d, String nsgId) {
        VirtualNetworkInner v = current != null ? current : new VirtualNetworkInner().withLocation(region);
        String name = d.address().name();
        Optional<Set<String>> record = current == null ? Optional.of(Set.of()) : recordOrImport(AzureKind.tags(current.tags()), Optional.of(d));
        List<SubnetInner> before = current == null || current.subnets() == null ? List.of() : current.subnets();
        List<String> spaceBefore = current == null ? List.of() : space(current);
        boolean storage = Boolean.TRUE.equals(d.attributes().get("privateStorageAccess"));
        Map<String, Map<String, Object>> wanted = new java.util.LinkedHashMap<>();
        for (Map<String, Object> w : (List<Map<String, Object>>) d.attributes().getOrDefault("subnets", List.of())) wanted.put((String) w.get("name"), w);
        Set<String> present = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        List<SubnetInner> subnets = new ArrayList<>();
        List<SubnetInner> others = new ArrayList<>();
        List<SubnetInner> oursBefore = new ArrayList<>();
        for (SubnetInner s : before) {
            present.add(s.name());
            boolean mine = ours(s, record, nsgId);
            if (mine) oursBefore.add(s);
            Map<String, Object> w = wanted.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(s.name())).map(Map.Entry::getValue).findFirst().orElse(null);
            if (w != null && !mine) {
                throw new NotOwnedException(d.address() + ": subnet " + s.name() + " of virtual network " + name + " already exists and is not "
                    + "managed by mlctl; mlctl does not take over resources it did not create (rename the subnet in the spec)");
            }
            if (w != null) subnets.add(ourSubnet(s, w, nsgId, storage));
            else if (!mine) {
                subnets.add(s);
                others.add(s);
            }
        }
        for (Map.Entry<String, Map<String, Object>> w : wanted.entrySet()) {
            if (!present.contains(w.getKey())) subnets.add(ourSubnet(new SubnetInner().withName(w.getKey()), w.getValue(), nsgId, storage));
        }
        v.withSubnets(subnets);
        Optional<String> recorded = current == null ? Optional.empty() : Optional.ofNullable(AzureKind.tags(current.tags()).get(CIDR_TAG));
        v.withAddressSpace(new AddressSpace().withAddressPrefixes(addressSpace(d, name, spaceBefore, recorded, oursBefore, others)));
        Map<String, String> recordedTags = withSubnetRecord(tags, wanted.keySet());
        recordedTags.put(CIDR_TAG, (String) d.attributes().get("cidr"));
        v.withTags(recordedTags);
        return v;
    }

    /** One of mlctl's subnets as the spec wants it, from what it is now (everything else on it kept). */
    private static SubnetInner ourSubnet(SubnetInner s, Map<String, Object> w, String nsgId, boolean storage) {
        s.withAddressPrefix((String) w.get("cidr")).withAddressPrefixes(null)
            .withNetworkSecurityGroup(new NetworkSecurityGroupInner().withId(nsgId))
            .withDefaultOutboundAccess(!Boolean.TRUE.equals(w.getOrDefault("private", true)));
        List<ServiceEndpointPropertiesFormat> endpoints = new ArrayList<>();
        if (s.serviceEndpoints() != null) endpoints.addAll(s.serviceEndpoints());
        boolean has = endpoints.stream().anyMatch(e -> STORAGE_SERVICE.equalsIgnoreCase(e.service()));
        if (!storage) endpoints.removeIf(e -> STORAGE_SERVICE.equalsIgnoreCase(e.service()));
        else if (!has) endpoints.add(new ServiceEndpointPropertiesFormat().withService(STORAGE_SERVICE));
        return s.withServiceEndpoints(endpoints);
    }

    /**
     * The spec's cidr, and each prefix of the address space now that holds a subnet of someone else's the
     * cidr does not: without it their subnet would lie outside the VNet. Where such a prefix overlaps the
     * new cidr both cannot be (Azure refuses overlapping prefixes): refused, naming the subnet. A prefix
     * with no subnet in it yet that is someone else's ({@link #theirs}) stays too.
     */
    private static List<String> addressSpace(ResourceSpec d, String network, List<String> spaceBefore, Optional<String> recorded,
                                             List<SubnetInner> mine, List<SubnetInner> others) {
        String want = (String) d.attributes().get("cidr");
        List<String> out = new ArrayList<>(List.of(want));
        Optional<io.mlctl.spec.Cidr> wantCidr = cidr(want);
        for (SubnetInner s : others) {
            for (String prefix : prefixes(s)) {
                Optional<io.mlctl.spec.Cidr> c = cidr(prefix);
                if (c.isEmpty() || wantCidr.isEmpty() || wantCidr.get().contains(c.get())) continue;
                Optional<String> holder = spaceBefore.stream().filter(p -> cidr(p).filter(x -> x.contains(c.get())).isPresent()).findFirst();
                if (holder.isEmpty() || cidr(holder.get()).filter(x -> x.overlaps(wantCidr.get())).isPresent()) {
                    throw new DriverException(d.address() + ": subnet " + s.name() + " (" + prefix + ") of virtual network " + network + " is not mlctl's "
                        + "and would lie outside the address space " + want + "; move or delete it first, or keep the network's cidr", false);
                }
                if (!out.contains(holder.get())) out.add(holder.get());
            }
        }
        // Those holding someone else's subnets are in already (or refused); theirs() of the rest is about empty ones.
        for (String p : spaceBefore) {
            if (!out.contains(p) && theirs(p, want, recorded, mine, List.of())) out.add(p);
        }
        return out;
    }

    // ------------------------------------------------------------------ update

    /**
     * Applies the planner's changes: the firewall (or a missing or failed security group) by one PUT of
     * the group, the address space, subnets and storage endpoints by one PUT of the VNet (a missing one
     * is made again), labels alone by a tags PATCH of each.
     */
    @Override
    public ObservedResource update(AzureClients c, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        Set<String> changed = new TreeSet<>();
        changes.forEach(ch -> changed.add(top(ch.path())));
        String group = groupOf(current.cloudId());
        String name = d.address().name();
        String nsgName = AzureKind.nsgName(name);
        Map<String, String> marker = TagMarker.INSTANCE.marker(env.name(), d.address());
        boolean labels = changed.contains("tags");
        // An import writes the VNet whole: its record of the subnets taken over goes with the marker.
        boolean retry = changed.contains("provisioningState") || !TagMarker.INSTANCE.marked(current.tags());

        // A write still under way (a killed run's, or someone's) would refuse ours: wait it out first. A
        // write refused because someone changed the resource since it was read is made again from a new read.
        NetworkSecurityGroupInner nsg = untilUnchanged("update network security group " + nsgName, () -> {
            Optional<NetworkSecurityGroupInner> found = settled("network security group " + nsgName, () -> securityGroup(c, group, nsgName),
                NetworkSecurityGroupInner::provisioningState);
            if (found.isEmpty() || changed.contains("firewall") || retry) return ensureGroup(c, env, group, d, marker, found);
            requireOwnGroup(env, d.address(), group, found.get());
            if (!labels) return found.get();
            return retag("network security group " + nsgName, found.get(), marker, d, t -> groups(c).updateTags(group, nsgName, t));
        });

        VirtualNetworkInner v = untilUnchanged("update virtual network " + name, () -> {
            Optional<VirtualNetworkInner> found = settled("virtual network " + name, () -> network(c, group, name), VirtualNetworkInner::provisioningState);
            if (found.isEmpty() || retry || changed.stream().anyMatch(NETWORK_FIELDS::contains)) {
                VirtualNetworkInner now = found.orElse(null);
                Map<String, String> tags = now == null ? AzureKind.allTags(marker, d.attributes())
                    : AzureKind.tagsAfterSync(AzureKind.tags(now.tags()), marker, d.attributes()).filter(t -> labels).orElse(AzureKind.tags(now.tags()));
                return writeNetwork(c, group, name, now, networkBody(now, env.region(), tags, d, nsg.id()));
            }
            if (!labels) return found.get();
            return retag("virtual network " + name, found.get(), marker, d, t -> vnets(c).updateTags(group, name, t));
        });
        return observed(env, d.address(), v, nsg);
    }

    private static void requireOwnGroup(Environment env, Address network, String group, NetworkSecurityGroupInner nsg) {
        Map<String, String> tags = AzureKind.tags(nsg.tags());
        if (TagMarker.INSTANCE.owner(tags, env.name()).filter(network::equals).isEmpty()) {
            throw new NotOwnedException(network + ": network security group " + nsg.name() + " in resource group " + group + " is "
                + TagMarker.INSTANCE.describeOwner(tags) + "; refusing to change it");
        }
    }

    private interface TagsCall<T> {
        T patch(TagsObject tags);
    }

    /** The labels by a PATCH of the whole tag map (marker, wanted labels, and everyone else's tags as they are). */
    private static <T extends com.azure.core.management.Resource> T retag(String what, T resource, Map<String, String> marker, ResourceSpec d, TagsCall<T> call) {
        Optional<Map<String, String>> tags = AzureKind.tagsAfterSync(AzureKind.tags(resource.tags()), marker, d.attributes());
        if (tags.isEmpty()) return resource;
        return AzureErrors.call("tag " + what, () -> call.patch(new TagsObject().withTags(tags.get())));
    }

    /** The top attribute a planner path is under: {@code subnets[a].cidr} → {@code subnets}. */
    static String top(String path) {
        int i = 0;
        while (i < path.length() && path.charAt(i) != '.' && path.charAt(i) != '[') i++;
        return path.substring(0, i);
    }

    // ------------------------------------------------------------------ conditional writes

    /** A conditional write Azure refused (412 PreconditionFailed): the resource changed since it was read. */
    private static final class Changed extends RuntimeException {
        Changed(Throwable cause) {
            super(cause);
        }
    }

    /**
     * Runs a read and the write made from it, again from a new read while the write finds the resource
     * changed since (someone added a subnet or a rule in between: it is then in the next body, not dropped
     * by ours); after {@link #WRITE_ATTEMPTS} tries, one retryable line.
     */
    private static <T> T untilUnchanged(String what, Supplier<T> readAndWrite) {
        for (int attempt = 1; ; attempt++) {
            try {
                return readAndWrite.get();
            } catch (Changed e) {
                if (attempt >= WRITE_ATTEMPTS) {
                    throw new DriverException(what + ": changed by someone else between mlctl's read and its write, " + attempt + " times in a row; "
                        + "try again", true, e.getCause());
                }
            }
        }
    }

    /** The VNet's PUT: a create when there is none ({@code now} null), else conditional on the etag it was read with. */
    private static VirtualNetworkInner writeNetwork(AzureClients c, String group, String name, VirtualNetworkInner now, VirtualNetworkInner body) {
        if (now == null) return AzureErrors.call("create virtual network " + name, () -> vnets(c).createOrUpdate(group, name, body));
        return putIfUnchanged(c, "update virtual network " + name, now.etag(), VirtualNetworkInner.class,
            vnets(c).createOrUpdateWithResponseAsync(group, name, body));
    }

    /**
     * A PUT that replaces what was read ({@code put}, the SDK's first request of the long-running write),
     * sent with {@code If-Match: <etag read>}: if anyone changed the resource since, Azure refuses it (412,
     * {@link Changed}) instead of the PUT dropping what they added (a VNet PUT deletes the subnets it
     * omits). The header goes on the PUT alone: a Context would carry it onto the operation's polls and
     * final GET as well. Without an etag (none came back) the PUT is unconditional.
     */
    private static <T> T putIfUnchanged(AzureClients c, String what, String etag, Class<T> type,
                                        reactor.core.publisher.Mono<com.azure.core.http.rest.Response<reactor.core.publisher.Flux<java.nio.ByteBuffer>>> put) {
        com.azure.resourcemanager.resources.fluentcore.AzureServiceClient client =
            (com.azure.resourcemanager.resources.fluentcore.AzureServiceClient) c.network().serviceClient();
        var first = etag == null ? put : put.contextWrite(ctx -> ctx.put(com.azure.core.http.policy.AddHeadersFromContextPolicy.AZURE_REQUEST_HTTP_HEADERS_KEY,
            new com.azure.core.http.HttpHeaders().set(com.azure.core.http.HttpHeaderName.IF_MATCH, etag)));
        try {
            return client.<T, T>getLroResult(first, client.getHttpPipeline(), type, type, com.azure.core.util.Context.NONE).last()
                .flatMap(r -> client.<T, T>getLroFinalResultOrError(r)).block();
        } catch (RuntimeException e) {
            if (etag != null && AzureErrors.status(e) == 412) throw new Changed(e);
            throw AzureErrors.translate(what, e);
        }
    }

    // ------------------------------------------------------------------ delete

    /**
     * Deletes the VNet (its subnets go with it; Azure refuses while anything still sits in one, which
     * surfaces as one line naming it), then the security group, which no subnet points at any more. A
     * security group that is not this network's own is left alone. A VNet that holds someone else's
     * subnet is not deleted (the subnet would go with it): refused before anything is, naming them.
     */
    @Override
    public void delete(AzureClients c, Environment env, ObservedResource current) {
        String group = groupOf(current.cloudId());
        String name = current.address().name();
        String nsgName = AzureKind.nsgName(name);
        Optional<VirtualNetworkInner> v = network(c, group, name);
        if (v.isPresent()) {
            Optional<Set<String>> record = subnetRecord(AzureKind.tags(v.get().tags()));
            String ownGroup = groupIdBeside(v.get().id(), nsgName);
            List<String> others = (v.get().subnets() == null ? List.<SubnetInner>of() : v.get().subnets()).stream()
                .filter(s -> !ours(s, record, ownGroup)).map(s -> s.name() + " (" + String.join(", ", prefixes(s)) + ")").toList();
            if (!others.isEmpty()) {
                throw new DriverException(current.address() + ": virtual network " + name + " in resource group " + group + " holds subnet"
                    + (others.size() > 1 ? "s " : " ") + String.join(", ", others) + " that mlctl does not manage; move or delete "
                    + (others.size() > 1 ? "them" : "it") + " first", false);
            }
            deleteIfThere("delete virtual network " + name, () -> vnets(c).delete(group, name));
        }
        Optional<NetworkSecurityGroupInner> nsg = securityGroup(c, group, nsgName);
        if (nsg.isEmpty() || TagMarker.INSTANCE.owner(AzureKind.tags(nsg.get().tags()), env.name()).filter(current.address()::equals).isEmpty()) return;
        deleteIfThere("delete network security group " + nsgName, () -> groups(c).delete(group, nsgName));
    }

    /** A delete; already gone (or its resource group) is done. */
    private static void deleteIfThere(String what, Runnable delete) {
        try {
            delete.run();
        } catch (RuntimeException e) {
            if (!AzureErrors.notFound(e)) throw AzureErrors.translate(what, e);
        }
    }
}
