package io.mlctl.fake.azure;

import com.azure.resourcemanager.network.fluent.models.NetworkSecurityGroupInner;
import com.azure.resourcemanager.network.fluent.models.PublicIpAddressInner;
import com.azure.resourcemanager.network.fluent.models.SubnetInner;
import com.azure.resourcemanager.network.fluent.models.VirtualNetworkInner;
import com.azure.resourcemanager.network.models.TagsObject;
import io.mlctl.spec.Cidr;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The fake's Microsoft.Network types (see {@link ArmType}): virtual networks, their subnets, and
 * network security groups, with the rules Azure enforces between them.
 *
 * <ul>
 * <li>A virtual network keeps its subnets inline ({@code properties.subnets}) and as child resources
 * ({@code .../virtualNetworks/v/subnets/s}); a write to either updates the other. A VNet PUT that
 * carries {@code subnets} makes the VNet hold exactly those (the others are deleted); one without the
 * property keeps them (the behaviour since api-version 2023-11-01).</li>
 * <li>Every subnet lies inside the VNet's address space ({@code NetcfgSubnetRangeOutsideVnet}, also
 * when a new address space would orphan one), subnets never overlap ({@code NetcfgSubnetRangesOverlap}),
 * prefixes are CIDR blocks without host bits ({@code InvalidCIDRNotation}).</li>
 * <li>A subnet in use (its {@code ipConfigurations}, or any other resource naming it, such as a NIC or
 * an AKS agent pool) cannot be deleted ({@code InUseSubnetCannotBeDeleted}) nor have its prefix
 * changed ({@code InUsePrefixCannotBeDeleted}).</li>
 * <li>A network security group a subnet points at must exist in the VNet's region
 * ({@code InvalidResourceReference}); one still associated with a subnet or NIC cannot be deleted
 * ({@code InUseNetworkSecurityGroupCannotBeDeleted}). Security rules need protocol, access, direction,
 * a priority 100–4096 unique per direction ({@code SecurityRuleConflict}), one of the singular or
 * plural form of each address and port field, and valid values in them.</li>
 * </ul>
 * Azure answers these refusals with 400 Bad Request (not 409), as the fake does. A write of a subnet
 * (or of what sits in it) gives its VNet a new etag, so a VNet PUT conditional on the etag read before
 * ({@code If-Match}) is refused with 412 and cannot drop a subnet added since. A PATCH of a VNet or
 * security group takes {@code tags} only (Azure's "Update Tags", body {@code TagsObject}); everything
 * else changes by PUT. A public IP address is allocated its address when made ({@code Static}) or only once
 * something uses it ({@code Dynamic}), and cannot be deleted while a network interface names it.
 */
final class NetworkTypes {
    static final String VNET = "Microsoft.Network/virtualNetworks";
    static final String SUBNET = "Microsoft.Network/virtualNetworks/subnets";
    static final String NSG = "Microsoft.Network/networkSecurityGroups";
    static final String RULE = "Microsoft.Network/networkSecurityGroups/securityRules";
    static final String PUBLIC_IP = "Microsoft.Network/publicIPAddresses";
    private static final Set<String> PROTOCOLS = Set.of("tcp", "udp", "icmp", "esp", "ah", "*");

    private NetworkTypes() {
    }

    static List<ArmType> all() {
        return List.of(new VirtualNetworks(), new Subnets(), new SecurityGroups(), new PublicIpAddresses());
    }

    // ---- for other service fakes and tests ------------------------------------------------------

    /**
     * Records that {@code ipConfigurationId} (a NIC's or a scale set's IP configuration) sits in the
     * subnet, as Azure shows it in the subnet's {@code ipConfigurations}: the subnet is then in use.
     */
    static void attach(ArmFake arm, String subnetId, String ipConfigurationId) {
        synchronized (arm) {
            editIpConfigurations(arm, subnetId, ids -> ids.add(ipConfigurationId));
        }
    }

    /** Removes an IP configuration {@link #attach} recorded. */
    static void detach(ArmFake arm, String subnetId, String ipConfigurationId) {
        synchronized (arm) {
            editIpConfigurations(arm, subnetId, ids -> ids.removeIf(x -> x.equalsIgnoreCase(ipConfigurationId)));
        }
    }

    @SuppressWarnings("unchecked")
    private static void editIpConfigurations(ArmFake arm, String subnetId, java.util.function.Consumer<Set<String>> edit) {
        Map<String, Object> subnet = arm.get(subnetId).orElseThrow(() -> new IllegalArgumentException("no subnet " + subnetId));
        Set<String> ids = new LinkedHashSet<>();
        if (ArmFake.properties(subnet).get("ipConfigurations") instanceof List<?> l) {
            for (Object o : l) if (o instanceof Map<?, ?> m && m.get("id") != null) ids.add(String.valueOf(m.get("id")));
        }
        edit.accept(ids);
        List<Object> out = new ArrayList<>();
        ids.forEach(i -> out.add(new LinkedHashMap<>(Map.of("id", i))));
        if (out.isEmpty()) ArmFake.properties(subnet).remove("ipConfigurations");
        else ArmFake.properties(subnet).put("ipConfigurations", out);
        arm.put(subnetId, subnet);
        syncIntoVnet(arm, ArmId.parse(subnetId), Optional.of(subnet));
    }

    /**
     * What uses a subnet: its recorded IP configurations, and every other resource (not a network, a
     * subnet or a security group) that names it, e.g. a NIC's {@code ipConfigurations[].properties.subnet.id}
     * or an AKS pool's {@code vnetSubnetID}.
     */
    static List<String> subnetUsers(ArmFake arm, String subnetId, Map<String, Object> subnet) {
        Set<String> users = new LinkedHashSet<>();
        if (ArmFake.properties(subnet).get("ipConfigurations") instanceof List<?> l) {
            for (Object o : l) if (o instanceof Map<?, ?> m && m.get("id") != null) users.add(String.valueOf(m.get("id")));
        }
        for (Map<String, Object> r : arm.all()) {
            String type = String.valueOf(r.get("type"));
            if (type.equalsIgnoreCase(VNET) || type.equalsIgnoreCase(SUBNET) || type.equalsIgnoreCase(NSG)) continue;
            if (mentions(r, subnetId)) users.add(String.valueOf(r.get("id")));
        }
        return new ArrayList<>(users);
    }

    /** Subnets and other resources (NICs) whose {@code networkSecurityGroup.id} is {@code nsgId}. */
    static List<String> securityGroupUsers(ArmFake arm, String nsgId) {
        List<String> users = new ArrayList<>();
        for (Map<String, Object> r : arm.all()) {
            String type = String.valueOf(r.get("type"));
            if (type.equalsIgnoreCase(VNET) || type.equalsIgnoreCase(NSG)) continue; // a VNet's inline subnets are the subnets again
            if (pointsAtGroup(r, nsgId)) users.add(String.valueOf(r.get("id")));
        }
        return users;
    }

    @SuppressWarnings("unchecked")
    private static boolean mentions(Object o, String id) {
        if (o instanceof String s) return s.equalsIgnoreCase(id);
        if (o instanceof Map<?, ?> m) {
            for (Object v : ((Map<String, Object>) m).values()) if (mentions(v, id)) return true;
        }
        if (o instanceof List<?> l) for (Object x : l) if (mentions(x, id)) return true;
        return false;
    }

    @SuppressWarnings("unchecked")
    private static boolean pointsAtGroup(Object o, String nsgId) {
        if (o instanceof Map<?, ?> m) {
            for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
                if (e.getKey().equals("networkSecurityGroup") && e.getValue() instanceof Map<?, ?> ref
                    && nsgId.equalsIgnoreCase(String.valueOf(ref.get("id")))) return true;
                if (pointsAtGroup(e.getValue(), nsgId)) return true;
            }
        }
        if (o instanceof List<?> l) for (Object x : l) if (pointsAtGroup(x, nsgId)) return true;
        return false;
    }

    /** Every security group's read-only {@code subnets} and {@code networkInterfaces}, from what points at it. */
    static void refreshAssociations(ArmFake arm) {
        for (Map<String, Object> nsg : arm.list(NSG)) {
            String id = String.valueOf(nsg.get("id"));
            List<Object> subnets = new ArrayList<>();
            List<Object> nics = new ArrayList<>();
            for (String user : securityGroupUsers(arm, id)) {
                String t = ArmId.parse(user).type();
                (t.equalsIgnoreCase(SUBNET) ? subnets : nics).add(new LinkedHashMap<>(Map.of("id", user)));
            }
            Map<String, Object> p = ArmFake.properties(nsg);
            if (subnets.equals(p.getOrDefault("subnets", List.of())) && nics.equals(p.getOrDefault("networkInterfaces", List.of()))) continue;
            if (subnets.isEmpty()) p.remove("subnets");
            else p.put("subnets", subnets);
            if (nics.isEmpty()) p.remove("networkInterfaces");
            else p.put("networkInterfaces", nics);
            arm.put(id, nsg);
        }
    }

    // ---- shared checks ---------------------------------------------------------------------------

    /** The objects of a JSON list (nothing when it is not one). */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> objects(Object list) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (list instanceof List<?> l) for (Object o : l) if (o instanceof Map<?, ?> m) out.add((Map<String, Object>) m);
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> props(Map<String, Object> resource) {
        return resource.get("properties") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    /** A prefix as Azure takes it: a CIDR block whose host bits are zero. */
    static Cidr cidr(String prefix, String owner) {
        try {
            return Cidr.parse(prefix);
        } catch (IllegalArgumentException e) {
            String why = String.valueOf(e.getMessage());
            if (why.contains("host bits")) {
                String fixed = why.replaceAll(".*did you mean ([0-9./]+)\\?.*", "$1");
                throw ArmError.badRequest("InvalidCIDRNotation", "The address prefix " + prefix + " in resource " + owner
                    + " has an invalid CIDR notation. For the given prefix length, the address prefix should be " + fixed + ".");
            }
            throw ArmError.badRequest("InvalidAddressPrefixFormat", "Address prefix " + prefix + " of resource " + owner + " is not formatted correctly. "
                + "It should follow CIDR notation, for example 10.0.0.0/24.");
        }
    }

    /** A subnet's prefixes: {@code addressPrefix} or {@code addressPrefixes}, exactly one of them. */
    @SuppressWarnings("unchecked")
    static List<String> subnetPrefixes(String vnetName, Map<String, Object> subnet) {
        Map<String, Object> p = props(subnet);
        String name = String.valueOf(subnet.get("name"));
        boolean one = p.get("addressPrefix") instanceof String s && !s.isBlank();
        boolean many = p.get("addressPrefixes") instanceof List<?> l && !l.isEmpty();
        if (one && many) {
            throw ArmError.badRequest("SubnetAddressPrefixAndAddressPrefixesBothSpecified", "Subnet '" + name + "' specifies both addressPrefix and "
                + "addressPrefixes; only one of them may be set.");
        }
        if (!one && !many) {
            throw ArmError.badRequest("NetcfgInvalidSubnet", "Subnet '" + name + "' is not valid in virtual network '" + vnetName + "': it has no address prefix.");
        }
        return one ? List.of((String) p.get("addressPrefix")) : ((List<Object>) p.get("addressPrefixes")).stream().map(String::valueOf).toList();
    }

    @SuppressWarnings("unchecked")
    static List<String> addressSpace(String vnetName, Map<String, Object> vnet) {
        Object space = props(vnet).get("addressSpace");
        Object prefixes = space instanceof Map<?, ?> m ? ((Map<String, Object>) m).get("addressPrefixes") : null;
        if (!(prefixes instanceof List<?> l) || l.isEmpty()) {
            throw ArmError.badRequest("InvalidAddressSpace", "Virtual network " + vnetName + " must have at least one address prefix in addressSpace.addressPrefixes.");
        }
        return l.stream().map(String::valueOf).toList();
    }

    /**
     * The checks of one VNet's subnets as a whole: inside the address space, not overlapping, their
     * security groups existing in the VNet's region.
     */
    static void checkSubnets(ArmFake arm, String vnetId, String vnetName, String location, List<String> space, List<Map<String, Object>> subnets) {
        List<Cidr> ranges = new ArrayList<>();
        for (String s : space) ranges.add(cidr(s, vnetId));
        List<Map.Entry<String, Cidr>> seen = new ArrayList<>();
        Set<String> names = new java.util.HashSet<>();
        for (Map<String, Object> subnet : subnets) {
            String name = String.valueOf(subnet.get("name"));
            if (subnet.get("name") == null || name.isBlank()) throw ArmError.badRequest("InvalidRequestFormat", "Cannot parse the request: a subnet has no name.");
            if (!names.add(name.toLowerCase(Locale.ROOT))) {
                throw ArmError.badRequest("InvalidRequestFormat", "Cannot parse the request: subnet '" + name + "' is given twice in virtual network '" + vnetName + "'.");
            }
            for (String prefix : subnetPrefixes(vnetName, subnet)) {
                Cidr c = cidr(prefix, vnetId + "/subnets/" + name);
                if (ranges.stream().noneMatch(r -> r.contains(c))) {
                    throw ArmError.badRequest("NetcfgSubnetRangeOutsideVnet", "Subnet '" + name + "' is not valid because its IP address range is outside "
                        + "the IP address range of virtual network '" + vnetName + "'.");
                }
                for (Map.Entry<String, Cidr> other : seen) {
                    if (other.getValue().overlaps(c)) {
                        throw ArmError.badRequest("NetcfgSubnetRangesOverlap", "Subnet '" + name + "' is not valid because its IP address range overlaps "
                            + "with that of an existing subnet in virtual network '" + vnetName + "'.");
                    }
                }
                seen.add(Map.entry(name, c));
            }
            checkGroupReference(arm, vnetId + "/subnets/" + name, location, props(subnet).get("networkSecurityGroup"));
            checkServiceEndpoints(vnetId + "/subnets/" + name, props(subnet).get("serviceEndpoints"));
        }
    }

    private static void checkGroupReference(ArmFake arm, String subnetId, String location, Object ref) {
        if (!(ref instanceof Map<?, ?> m)) return;
        String nsgId = String.valueOf(m.get("id"));
        Optional<Map<String, Object>> nsg = m.get("id") == null ? Optional.empty() : arm.get(nsgId);
        boolean sameRegion = nsg.isPresent() && ArmFake.norm(String.valueOf(nsg.get().get("location"))).equals(ArmFake.norm(location));
        if (nsg.isEmpty() || !sameRegion || !String.valueOf(nsg.get().get("type")).equalsIgnoreCase(NSG)) {
            throw ArmError.badRequest("InvalidResourceReference", "Resource " + nsgId + " referenced by resource " + subnetId + " was not found. "
                + "Please make sure that the referenced resource exists, and that both resources are in the same region.");
        }
    }

    private static final Set<String> ENDPOINT_SERVICES = Set.of("microsoft.storage", "microsoft.storage.global", "microsoft.sql", "microsoft.keyvault",
        "microsoft.containerregistry", "microsoft.azurecosmosdb", "microsoft.servicebus", "microsoft.eventhub", "microsoft.web",
        "microsoft.cognitiveservices");

    private static void checkServiceEndpoints(String subnetId, Object endpoints) {
        if (!(endpoints instanceof List<?> l)) return;
        Set<String> seen = new java.util.HashSet<>();
        for (Object o : l) {
            String service = o instanceof Map<?, ?> m ? String.valueOf(m.get("service")) : "null";
            if (!ENDPOINT_SERVICES.contains(service.toLowerCase(Locale.ROOT))) {
                throw ArmError.badRequest("InvalidServiceNameOnServiceEndpoint", "Subnet " + subnetId + " has a service endpoint with an invalid service "
                    + "name " + service + ".");
            }
            if (!seen.add(service.toLowerCase(Locale.ROOT))) {
                throw ArmError.badRequest("DuplicateServiceEndpointsOnSubnet", "Subnet " + subnetId + " has duplicate service endpoints for " + service + ".");
            }
        }
    }

    /** A subnet as stored: its id, type and etag, Azure's defaults, and what stays from before (IP configurations). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> storedSubnet(String subnetId, String location, Map<String, Object> given, Optional<Map<String, Object>> before) {
        Map<String, Object> s = ArmFake.copy(given);
        ArmId id = ArmId.parse(subnetId);
        s.put("name", id.name());
        s.put("id", subnetId);
        s.put("type", SUBNET);
        s.put("etag", "W/\"" + UUID.randomUUID() + "\"");
        Map<String, Object> p = ArmFake.properties(s);
        p.putIfAbsent("privateEndpointNetworkPolicies", "Disabled");
        p.putIfAbsent("privateLinkServiceNetworkPolicies", "Enabled");
        if (p.get("serviceEndpoints") instanceof List<?> l) {
            for (Object o : l) {
                if (!(o instanceof Map<?, ?>)) continue;
                Map<String, Object> e = (Map<String, Object>) o;
                // Azure fills the regions a storage endpoint reaches: the VNet's own.
                if (!(e.get("locations") instanceof List<?> locs) || locs.isEmpty()) e.put("locations", new ArrayList<>(List.of(ArmFake.norm(location))));
                e.put("provisioningState", "Succeeded");
            }
        }
        before.map(NetworkTypes::props).map(b -> b.get("ipConfigurations")).ifPresent(ip -> p.put("ipConfigurations", ip));
        p.put("provisioningState", "Succeeded");
        return s;
    }

    /** Keeps the VNet's inline copy of one subnet as the child resource is ({@code now} empty: deleted), with a new etag. */
    @SuppressWarnings("unchecked")
    static void syncIntoVnet(ArmFake arm, ArmId subnetId, Optional<Map<String, Object>> now) {
        Optional<Map<String, Object>> vnet = arm.get(subnetId.parent());
        if (vnet.isEmpty()) return;
        Map<String, Object> v = vnet.get();
        List<Object> subnets = ArmFake.properties(v).get("subnets") instanceof List<?> l ? new ArrayList<>(l) : new ArrayList<>();
        boolean replaced = false;
        for (int i = 0; i < subnets.size(); i++) {
            Object o = subnets.get(i);
            if (o instanceof Map<?, ?> m && subnetId.name().equalsIgnoreCase(String.valueOf(m.get("name")))) {
                if (now.isPresent()) subnets.set(i, now.get());
                else subnets.remove(i);
                replaced = true;
                break;
            }
        }
        if (!replaced && now.isPresent()) subnets.add(now.get());
        ArmFake.properties(v).put("subnets", subnets);
        // The VNet as read has changed with its subnet: a write conditional on its earlier etag is refused (412).
        v.put("etag", "W/\"" + UUID.randomUUID() + "\"");
        arm.put(subnetId.parent(), v);
    }

    private static String inUse(String what, List<String> users) {
        return what + " is in use by " + String.join(", ", users);
    }

    // ---- Microsoft.Network/virtualNetworks -------------------------------------------------------

    static final class VirtualNetworks implements ArmType {
        @Override
        public String type() {
            return VNET;
        }

        @Override
        public Class<?> model() {
            return VirtualNetworkInner.class;
        }

        /** Azure's PATCH of a VNet ("Update Tags") takes {@code tags} alone. */
        @Override
        public Class<?> patchModel() {
            return TagsObject.class;
        }

        /** The subnets the VNet holds after this PUT: those it sends, or (without the property) those it has. */
        private static List<Map<String, Object>> subnetsAfter(Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Object given = props(body).get("subnets");
            if (given == null && existing.isPresent()) given = props(existing.get()).get("subnets");
            return objects(given);
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            List<String> space = addressSpace(id.name(), body);
            List<Map<String, Object>> after = subnetsAfter(body, existing);
            checkSubnets(arm, id.id(), id.name(), String.valueOf(body.get("location")), space, after);
            if (existing.isEmpty()) return;
            // Subnets it drops are deleted, and a subnet in use keeps its prefix: both refused while in use.
            Map<String, Map<String, Object>> kept = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            after.forEach(s -> kept.put(String.valueOf(s.get("name")), s));
            for (Map<String, Object> old : subnetsAfter(Map.of(), existing)) {
                String name = String.valueOf(old.get("name"));
                String subnetId = id.id() + "/subnets/" + name;
                Map<String, Object> now = kept.get(name);
                boolean prefixChanged = now != null && !subnetPrefixes(id.name(), now).equals(subnetPrefixes(id.name(), old));
                if (now != null && !prefixChanged) continue;
                List<String> users = subnetUsers(arm, subnetId, arm.get(subnetId).orElse(old));
                if (users.isEmpty()) continue;
                if (now == null) {
                    throw ArmError.badRequest("InUseSubnetCannotBeDeleted", inUse("Subnet " + name, users) + " and cannot be deleted. In order to delete "
                        + "the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.");
                }
                throw ArmError.badRequest("InUsePrefixCannotBeDeleted", "IpPrefix " + String.join(", ", subnetPrefixes(id.name(), old)) + " on Subnet "
                    + name + " has active allocations and cannot be deleted.");
            }
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> p = ArmFake.properties(body);
            String location = String.valueOf(body.get("location"));
            Map<String, Map<String, Object>> before = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            existing.ifPresent(e -> subnetsAfter(Map.of(), existing).forEach(s -> before.put(String.valueOf(s.get("name")), s)));
            List<Object> subnets = new ArrayList<>();
            for (Map<String, Object> s : subnetsAfter(body, existing)) {
                String name = String.valueOf(s.get("name"));
                subnets.add(storedSubnet(id.id() + "/subnets/" + name, location, s, Optional.ofNullable(before.get(name))));
            }
            p.put("subnets", subnets);
            p.put("resourceGuid", existing.map(e -> props(e).get("resourceGuid")).orElse(UUID.randomUUID().toString()));
            p.putIfAbsent("enableDdosProtection", false);
            p.putIfAbsent("virtualNetworkPeerings", new ArrayList<>());
            return body;
        }

        @Override
        public void checkDelete(ArmFake arm, ArmId id, Map<String, Object> existing) {
            for (Map<String, Object> s : subnetsAfter(Map.of(), Optional.of(existing))) {
                String subnetId = id.id() + "/subnets/" + s.get("name");
                List<String> users = subnetUsers(arm, subnetId, arm.get(subnetId).orElse(s));
                if (!users.isEmpty()) {
                    throw ArmError.badRequest("InUseSubnetCannotBeDeleted", inUse("Subnet " + s.get("name"), users) + " and cannot be deleted. In order "
                        + "to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.");
                }
            }
        }

        @Override
        @SuppressWarnings("unchecked")
        public void afterWrite(ArmFake arm, ArmId id, Optional<Map<String, Object>> now) {
            if (now.isPresent()) {
                Set<String> names = new java.util.TreeSet<>(String.CASE_INSENSITIVE_ORDER);
                for (Map<String, Object> s : subnetsAfter(Map.of(), now)) {
                    names.add(String.valueOf(s.get("name")));
                    arm.put(String.valueOf(s.get("id")), s);
                }
                for (Map<String, Object> child : arm.list(SUBNET)) {
                    ArmId c = ArmId.parse(String.valueOf(child.get("id")));
                    if (ArmId.key(c.parent()).equals(id.key()) && !names.contains(c.name())) arm.remove(c.id());
                }
            }
            refreshAssociations(arm);
        }
    }

    // ---- Microsoft.Network/virtualNetworks/subnets -----------------------------------------------

    static final class Subnets implements ArmType {
        @Override
        public String type() {
            return SUBNET;
        }

        @Override
        public Class<?> model() {
            return SubnetInner.class;
        }

        @Override
        public boolean tracked() {
            return false;
        }

        @Override
        public boolean patchable() {
            return false;
        }

        @Override
        @SuppressWarnings("unchecked")
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> vnet = arm.get(id.parent()).orElseThrow();
            String vnetName = ArmId.parse(id.parent()).name();
            List<Map<String, Object>> siblings = new ArrayList<>();
            if (props(vnet).get("subnets") instanceof List<?> l) {
                for (Object o : l) {
                    if (o instanceof Map<?, ?> m && !id.name().equalsIgnoreCase(String.valueOf(m.get("name")))) siblings.add((Map<String, Object>) m);
                }
            }
            Map<String, Object> self = ArmFake.copy(body);
            self.put("name", id.name());
            siblings.add(self);
            checkSubnets(arm, id.parent(), vnetName, String.valueOf(vnet.get("location")), addressSpace(vnetName, vnet), siblings);
            if (existing.isPresent() && !subnetPrefixes(vnetName, self).equals(subnetPrefixes(vnetName, existing.get()))) {
                if (!subnetUsers(arm, id.id(), existing.get()).isEmpty()) {
                    throw ArmError.badRequest("InUsePrefixCannotBeDeleted", "IpPrefix " + String.join(", ", subnetPrefixes(vnetName, existing.get()))
                        + " on Subnet " + id.name() + " has active allocations and cannot be deleted.");
                }
            }
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            String location = arm.get(id.parent()).map(v -> String.valueOf(v.get("location"))).orElse("");
            return storedSubnet(id.id(), location, body, existing);
        }

        @Override
        public void checkDelete(ArmFake arm, ArmId id, Map<String, Object> existing) {
            List<String> users = subnetUsers(arm, id.id(), existing);
            if (!users.isEmpty()) {
                throw ArmError.badRequest("InUseSubnetCannotBeDeleted", inUse("Subnet " + id.name(), users) + " and cannot be deleted. In order to delete "
                    + "the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.");
            }
        }

        @Override
        public void afterWrite(ArmFake arm, ArmId id, Optional<Map<String, Object>> now) {
            syncIntoVnet(arm, id, now);
            refreshAssociations(arm);
        }
    }

    // ---- Microsoft.Network/networkSecurityGroups -------------------------------------------------

    static final class SecurityGroups implements ArmType {
        @Override
        public String type() {
            return NSG;
        }

        @Override
        public Class<?> model() {
            return NetworkSecurityGroupInner.class;
        }

        /** Azure's PATCH of a network security group ("Update Tags") takes {@code tags} alone. */
        @Override
        public Class<?> patchModel() {
            return TagsObject.class;
        }

        private static List<Map<String, Object>> rules(Map<String, Object> nsg) {
            return objects(props(nsg).get("securityRules"));
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, String> byPriority = new LinkedHashMap<>();
            Set<String> names = new java.util.HashSet<>();
            for (Map<String, Object> rule : rules(body)) {
                String name = rule.get("name") == null ? "" : String.valueOf(rule.get("name"));
                String ruleId = id.id() + "/securityRules/" + name;
                if (name.isBlank()) throw ArmError.badRequest("InvalidRequestFormat", "Cannot parse the request: a security rule has no name.");
                if (!names.add(name.toLowerCase(Locale.ROOT))) {
                    throw ArmError.badRequest("InvalidRequestFormat", "Cannot parse the request: security rule " + name + " is given twice.");
                }
                Map<String, Object> p = props(rule);
                require(ruleId, p, "protocol", PROTOCOLS);
                require(ruleId, p, "access", Set.of("allow", "deny"));
                String direction = require(ruleId, p, "direction", Set.of("inbound", "outbound"));
                if (!(p.get("priority") instanceof Number n) || n.intValue() < 100 || n.intValue() > 4096) {
                    throw ArmError.badRequest("SecurityRuleInvalidPriority", "Security rule " + ruleId + " has invalid Priority. Value provided: "
                        + p.get("priority") + " Allowed range 100-4096.");
                }
                String other = byPriority.put(direction + "/" + ((Number) p.get("priority")).intValue(), name);
                if (other != null) {
                    throw ArmError.badRequest("SecurityRuleConflict", "Security rule " + other + " conflicts with rule " + name
                        + ". Rules cannot have the same Priority and Direction. To learn more, see aka.ms/nsgrules.");
                }
                addresses(ruleId, p, "sourceAddressPrefix", "sourceAddressPrefixes", "sourceApplicationSecurityGroups");
                addresses(ruleId, p, "destinationAddressPrefix", "destinationAddressPrefixes", "destinationApplicationSecurityGroups");
                ports(ruleId, p, "sourcePortRange", "sourcePortRanges");
                ports(ruleId, p, "destinationPortRange", "destinationPortRanges");
            }
        }

        private static String require(String ruleId, Map<String, Object> p, String field, Set<String> allowed) {
            Object v = p.get(field);
            if (v == null) {
                throw ArmError.badRequest("InvalidRequestFormat", "Cannot parse the request: security rule " + ruleId + " has no " + field
                    + ", which is required.");
            }
            String s = String.valueOf(v).toLowerCase(Locale.ROOT);
            if (!allowed.contains(s)) {
                throw ArmError.badRequest("InvalidRequestFormat", "Cannot parse the request: security rule " + ruleId + " has " + field + " '" + v
                    + "', not one of " + allowed + ".");
            }
            return s;
        }

        /** Exactly one of the singular prefix, the plural prefixes (addresses only: no '*' nor tags) or application security groups. */
        private static void addresses(String ruleId, Map<String, Object> p, String one, String many, String groups) {
            boolean hasOne = p.get(one) instanceof String s && !s.isBlank();
            boolean hasMany = p.get(many) instanceof List<?> l && !l.isEmpty();
            boolean hasGroups = p.get(groups) instanceof List<?> l && !l.isEmpty();
            int given = (hasOne ? 1 : 0) + (hasMany ? 1 : 0) + (hasGroups ? 1 : 0);
            if (given != 1) {
                throw ArmError.badRequest("SecurityRuleParameterContainsUnsupportedValue", "Security rule " + ruleId + " must specify exactly one of "
                    + one + ", " + many + " or " + groups + (given == 0 ? "; none was given." : "; more than one was given."));
            }
            if (hasOne) {
                String v = (String) p.get(one);
                if (!v.equals("*") && !v.matches("[A-Za-z][A-Za-z0-9.]*") && !validAddress(v)) {
                    throw ArmError.badRequest("SecurityRuleInvalidAddressPrefix", "Security rule " + ruleId + " has invalid Address prefix. Value provided: " + v);
                }
            }
            if (hasMany) {
                for (Object o : (List<?>) p.get(many)) {
                    String v = String.valueOf(o);
                    if (v.equals("*") || v.matches("[A-Za-z][A-Za-z0-9.]*")) {
                        throw ArmError.badRequest("SecurityRuleParameterContainsUnsupportedValue", "Security rule parameter " + capitalize(many)
                            + " for rule with Id " + ruleId + " cannot specify existing VIRTUALNETWORK, INTERNET, AZURELOADBALANCER, '*' or system tags. "
                            + "Unsupported value used: " + v + ".");
                    }
                    if (!validAddress(v)) {
                        throw ArmError.badRequest("SecurityRuleInvalidAddressPrefix", "Security rule " + ruleId + " has invalid Address prefix. Value provided: " + v);
                    }
                }
            }
        }

        private static boolean validAddress(String v) {
            try {
                Cidr.parse(v.contains("/") ? v : v + "/32");
                return true;
            } catch (IllegalArgumentException e) {
                return false;
            }
        }

        /** Exactly one of the singular range ('*', 'n' or 'n-m') or the plural ranges ('n' or 'n-m', no '*'). */
        private static void ports(String ruleId, Map<String, Object> p, String one, String many) {
            boolean hasOne = p.get(one) instanceof String s && !s.isBlank();
            boolean hasMany = p.get(many) instanceof List<?> l && !l.isEmpty();
            if (hasOne == hasMany) {
                throw ArmError.badRequest("SecurityRuleParameterContainsUnsupportedValue", "Security rule " + ruleId + " must specify exactly one of "
                    + one + " or " + many + (hasOne ? "; both were given." : "; neither was given."));
            }
            List<String> values = hasOne ? List.of((String) p.get(one)) : ((List<?>) p.get(many)).stream().map(String::valueOf).toList();
            for (String v : values) {
                if (v.equals("*") && hasOne) continue;
                if (!validPorts(v)) {
                    throw ArmError.badRequest("SecurityRuleInvalidPortRange", "Security rule has invalid Port range. Value provided: " + v
                        + ". Value should be an integer OR integer range with '-' delimiter. Valid range 0-65535.");
                }
            }
        }

        private static boolean validPorts(String v) {
            if (!v.matches("[0-9]{1,5}(-[0-9]{1,5})?")) return false;
            String[] b = v.split("-");
            int from = Integer.parseInt(b[0]);
            int to = b.length > 1 ? Integer.parseInt(b[1]) : from;
            return from <= to && to <= 65535;
        }

        private static String capitalize(String s) {
            return Character.toUpperCase(s.charAt(0)) + s.substring(1);
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> p = ArmFake.properties(body);
            List<Object> rules = new ArrayList<>();
            for (Map<String, Object> r : rules(body)) {
                Map<String, Object> rule = ArmFake.copy(r);
                rule.put("id", id.id() + "/securityRules/" + r.get("name"));
                rule.put("type", RULE);
                rule.put("etag", "W/\"" + UUID.randomUUID() + "\"");
                ArmFake.properties(rule).put("provisioningState", "Succeeded");
                rules.add(rule);
            }
            p.put("securityRules", rules);
            p.put("defaultSecurityRules", defaultRules(id.id()));
            p.put("resourceGuid", existing.map(e -> props(e).get("resourceGuid")).orElse(UUID.randomUUID().toString()));
            // Associations are Azure's to report (read-only): kept from before, refreshed after the write.
            existing.map(NetworkTypes::props).ifPresent(e -> {
                if (e.containsKey("subnets")) p.put("subnets", e.get("subnets"));
                if (e.containsKey("networkInterfaces")) p.put("networkInterfaces", e.get("networkInterfaces"));
            });
            return body;
        }

        /** The six rules every NSG has below all others (65000 and up), as Azure reports them. */
        private static List<Object> defaultRules(String nsgId) {
            List<Object> out = new ArrayList<>();
            Object[][] rows = {
                {"AllowVnetInBound", "Inbound", 65000, "VirtualNetwork", "VirtualNetwork", "Allow"},
                {"AllowAzureLoadBalancerInBound", "Inbound", 65001, "AzureLoadBalancer", "*", "Allow"},
                {"DenyAllInBound", "Inbound", 65500, "*", "*", "Deny"},
                {"AllowVnetOutBound", "Outbound", 65000, "VirtualNetwork", "VirtualNetwork", "Allow"},
                {"AllowInternetOutBound", "Outbound", 65001, "*", "Internet", "Allow"},
                {"DenyAllOutBound", "Outbound", 65500, "*", "*", "Deny"},
            };
            for (Object[] r : rows) {
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("protocol", "*");
                p.put("sourcePortRange", "*");
                p.put("destinationPortRange", "*");
                p.put("sourceAddressPrefix", r[3]);
                p.put("destinationAddressPrefix", r[4]);
                p.put("access", r[5]);
                p.put("priority", r[2]);
                p.put("direction", r[1]);
                p.put("provisioningState", "Succeeded");
                Map<String, Object> rule = new LinkedHashMap<>();
                rule.put("name", r[0]);
                rule.put("id", nsgId + "/defaultSecurityRules/" + r[0]);
                rule.put("type", "Microsoft.Network/networkSecurityGroups/defaultSecurityRules");
                rule.put("properties", p);
                out.add(rule);
            }
            return out;
        }

        @Override
        public void checkDelete(ArmFake arm, ArmId id, Map<String, Object> existing) {
            List<String> users = securityGroupUsers(arm, id.id());
            if (!users.isEmpty()) {
                throw ArmError.badRequest("InUseNetworkSecurityGroupCannotBeDeleted", "Network security group " + id.id() + " cannot be deleted because "
                    + "it is in use by the following resources: " + String.join(", ", users) + ". In order to delete the Network security group, "
                    + "remove the association with the resource(s). To learn more, see aka.ms/deletensg.");
            }
        }

        @Override
        public void afterWrite(ArmFake arm, ArmId id, Optional<Map<String, Object>> now) {
            refreshAssociations(arm);
        }
    }

    // ---- Microsoft.Network/publicIPAddresses -----------------------------------------------------

    static final class PublicIpAddresses implements ArmType {
        private static final Set<String> ALLOCATION = Set.of("static", "dynamic");

        @Override
        public String type() {
            return PUBLIC_IP;
        }

        @Override
        public Class<?> model() {
            return PublicIpAddressInner.class;
        }

        /** Azure's PATCH of a public IP address ("Update Tags") takes {@code tags} alone. */
        @Override
        public Class<?> patchModel() {
            return TagsObject.class;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Object method = props(body).get("publicIPAllocationMethod");
            if (method != null && !ALLOCATION.contains(String.valueOf(method).toLowerCase(Locale.ROOT))) {
                throw ArmError.badRequest("InvalidRequestFormat", "Cannot parse the request: public IP address " + id.id() + " has "
                    + "publicIPAllocationMethod '" + method + "', not one of Static, Dynamic.");
            }
        }

        /** A static address is the same for the resource's life, derived from its id so tests can expect it. */
        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> p = ArmFake.properties(body);
            p.putIfAbsent("publicIPAllocationMethod", "Dynamic");
            p.putIfAbsent("publicIPAddressVersion", "IPv4");
            Object before = existing.map(e -> props(e).get("ipAddress")).orElse(null);
            if (before != null) p.put("ipAddress", before);
            else if ("static".equalsIgnoreCase(String.valueOf(p.get("publicIPAllocationMethod")))) p.put("ipAddress", address(id));
            else p.remove("ipAddress");
            p.put("resourceGuid", existing.map(e -> props(e).get("resourceGuid")).orElse(UUID.randomUUID().toString()));
            return body;
        }

        static String address(ArmId id) {
            int h = id.key().hashCode();
            return "20." + ((h >>> 16) & 0xff) + "." + ((h >>> 8) & 0xff) + "." + Math.max(1, h & 0xfe);
        }

        @Override
        public void checkDelete(ArmFake arm, ArmId id, Map<String, Object> existing) {
            for (Map<String, Object> nic : arm.list("Microsoft.Network/networkInterfaces")) {
                for (Map<String, Object> c : objects(props(nic).get("ipConfigurations"))) {
                    if (props(c).get("publicIPAddress") instanceof Map<?, ?> pip && id.id().equalsIgnoreCase(String.valueOf(pip.get("id")))) {
                        throw ArmError.badRequest("PublicIPAddressCannotBeDeleted", "Public IP address " + id.id() + " can not be deleted since it is "
                            + "still allocated to resource " + c.get("id") + ". In order to delete the public IP, disassociate/detach the Public IP "
                            + "address from the resource.");
                    }
                }
            }
        }
    }
}
