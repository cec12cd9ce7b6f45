package io.mlctl.provider.aws;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.provider.Page;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeVpcsResponse;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.InternetGateway;
import software.amazon.awssdk.services.ec2.model.IpPermission;
import software.amazon.awssdk.services.ec2.model.IpRange;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RouteTable;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ec2.model.Vpc;
import software.amazon.awssdk.services.ec2.model.VpcEndpoint;

/**
 * network → a VPC with DNS support, one subnet per spec subnet (public ones routed through an
 * internet gateway and given public IPs), one security group holding the firewall rules (each IP
 * range described with its rule name), and an S3 gateway endpoint for privateStorageAccess.
 */
final class NetworkKind implements AwsKind {
    static final String SUBNET_TAG = "mlctl-subnet";
    /** On subnets whose zone the spec chose: otherwise AWS picks one and it is not the spec's to compare. */
    static final String ZONE_TAG = "mlctl-zone";

    static List<Tag> ec2Tags(Map<String, String> tags, String name) {
        List<Tag> out = new ArrayList<>();
        tags.forEach((k, v) -> out.add(Tag.builder().key(k).value(v).build()));
        out.add(Tag.builder().key("Name").value(name).build());
        return out;
    }

    static TagSpecification spec(ResourceType type, Map<String, String> tags, String name) {
        return TagSpecification.builder().resourceType(type).tags(ec2Tags(tags, name)).build();
    }

    static Filter filter(String name, String... values) {
        return Filter.builder().name(name).values(values).build();
    }

    static Filter owned(Environment env) {
        return filter("tag:" + Ownership.ENVIRONMENT_TAG, env.name());
    }

    static Map<String, String> tagMap(List<Tag> tags) {
        Map<String, String> m = new TreeMap<>();
        tags.forEach(t -> m.put(t.key(), t.value()));
        return m;
    }

    @Override
    public Page list(AwsClients c, Environment env, Optional<String> pageToken) {
        DescribeVpcsResponse vpcs = AwsErrors.call("ec2:DescribeVpcs", () -> c.ec2.describeVpcs(b -> b.filters(owned(env))
            .maxResults(200).nextToken(pageToken.orElse(null))));
        List<ObservedResource> items = new ArrayList<>();
        if (!vpcs.vpcs().isEmpty()) {
            String[] ids = vpcs.vpcs().stream().map(Vpc::vpcId).toArray(String[]::new);
            // Everything else about these networks in one paged call per kind, not one per network.
            List<Subnet> subnets = new ArrayList<>();
            AwsErrors.run("ec2:DescribeSubnets", () -> c.ec2.describeSubnetsPaginator(b -> b.filters(filter("vpc-id", ids)))
                .forEach(p -> subnets.addAll(p.subnets())));
            List<SecurityGroup> groups = new ArrayList<>();
            AwsErrors.run("ec2:DescribeSecurityGroups", () -> c.ec2.describeSecurityGroupsPaginator(b -> b.filters(filter("vpc-id", ids), owned(env)))
                .forEach(p -> groups.addAll(p.securityGroups())));
            List<VpcEndpoint> endpoints = new ArrayList<>();
            AwsErrors.run("ec2:DescribeVpcEndpoints", () -> c.ec2.describeVpcEndpointsPaginator(b -> b.filters(filter("vpc-id", ids)))
                .forEach(p -> endpoints.addAll(p.vpcEndpoints())));
            for (Vpc vpc : vpcs.vpcs()) {
                Map<String, String> tags = tagMap(vpc.tags());
                Optional<Address> a = Ownership.ownedAddress(tags, env.name());
                if (a.isEmpty() || a.get().type() != io.mlctl.spec.ResourceType.NETWORK) continue;
                Map<String, Object> attrs = new LinkedHashMap<>();
                attrs.put("cidr", vpc.cidrBlock());
                attrs.put("privateStorageAccess", endpoints.stream().anyMatch(e -> e.vpcId().equals(vpc.vpcId())
                    && e.serviceName().endsWith(".s3") && !"deleted".equals(e.stateAsString())));
                List<Object> sn = new ArrayList<>();
                for (Subnet s : subnets) {
                    if (!s.vpcId().equals(vpc.vpcId())) continue;
                    Map<String, String> st = tagMap(s.tags());
                    String full = st.getOrDefault(SUBNET_TAG, "");
                    Map<String, Object> m = new TreeMap<>();
                    m.put("name", full.contains("/") ? full.substring(full.indexOf('/') + 1) : s.subnetId());
                    m.put("cidr", s.cidrBlock());
                    if (st.containsKey(ZONE_TAG)) m.put("zone", s.availabilityZone());
                    m.put("private", !Boolean.TRUE.equals(s.mapPublicIpOnLaunch()));
                    sn.add(m);
                }
                attrs.put("subnets", sn);
                attrs.put("firewall", groups.stream().filter(g -> g.vpcId().equals(vpc.vpcId())).findFirst()
                    .map(NetworkKind::rules).orElse(List.of()));
                items.add(new ObservedResource(a.get(), vpc.vpcId(), AwsKind.attrs(env, attrs, tags), tags));
            }
        }
        return new Page(items, Optional.ofNullable(vpcs.nextToken()).filter(t -> !t.isEmpty()));
    }

    /** Firewall rules back from a security group: ranges grouped by the rule name in their description. */
    static List<Object> rules(SecurityGroup g) {
        Map<String, Map<String, Object>> byName = new TreeMap<>();
        collect(g.ipPermissions(), "ingress", byName);
        collect(g.ipPermissionsEgress(), "egress", byName);
        for (Map<String, Object> rule : byName.values()) {
            rule.put("ports", new ArrayList<>((TreeSet<?>) rule.get("ports")));
            rule.put("sources", new ArrayList<>((TreeSet<?>) rule.get("sources")));
        }
        return new ArrayList<>(byName.values());
    }

    @SuppressWarnings("unchecked")
    private static void collect(List<IpPermission> perms, String direction, Map<String, Map<String, Object>> byName) {
        for (IpPermission p : perms) {
            for (IpRange r : p.ipRanges()) {
                if (r.description() == null || r.description().isBlank()) continue; // not one of ours (e.g. default egress)
                Map<String, Object> rule = byName.computeIfAbsent(r.description(), n -> {
                    Map<String, Object> m = new TreeMap<>();
                    m.put("name", n);
                    m.put("direction", direction);
                    m.put("protocol", p.ipProtocol());
                    m.put("ports", new TreeSet<Long>());
                    m.put("sources", new TreeSet<String>());
                    return m;
                });
                if (p.fromPort() != null) {
                    for (int port = p.fromPort(); port <= p.toPort(); port++) ((TreeSet<Long>) rule.get("ports")).add((long) port);
                }
                ((TreeSet<String>) rule.get("sources")).add(r.cidrIp());
            }
        }
    }

    @Override
    public io.mlctl.spec.ResourceType type() {
        return io.mlctl.spec.ResourceType.NETWORK;
    }

    @Override
    public io.mlctl.provider.ResourceRules rules() {
        return new io.mlctl.provider.ResourceRules(java.util.Set.of("region", "cidr"));
    }

    @Override
    public Optional<io.mlctl.provider.Existing> find(AwsClients c, Environment env, Address address, Optional<String> knownCloudId) {
        // TODO(framework): look up by id, name or marker
        return knownCloudId.map(id -> new io.mlctl.provider.Existing(id, address.toString(), io.mlctl.provider.TagMarker.INSTANCE.marker(env.name(), address)));
    }

    @Override
    public String create(AwsClients c, Environment env, ResourceSpec d, Map<String, String> ownership, String token) {
        return createAll(c, env, d, ownership, token).cloudId();
    }

    @Override
    public ObservedResource complete(AwsClients c, Environment env, String cloudId, ResourceSpec d, Map<String, String> ownership) {
        return new ObservedResource(d.address(), cloudId, d.attributes(), ownership);
    }

    private ObservedResource createAll(AwsClients c, Environment env, ResourceSpec d, Map<String, String> ownership, String token) {
        Map<String, String> tags = AwsKind.allTags(ownership, d.attributes());
        String name = AwsKind.physicalName(env, d.address().name());
        String cidr = (String) d.attributes().get("cidr");
        String vpcId = AwsErrors.call("ec2:CreateVpc " + name, () -> c.ec2.createVpc(b -> b.cidrBlock(cidr)
            .tagSpecifications(spec(ResourceType.VPC, tags, name))).vpc().vpcId());
        AwsErrors.run("ec2:ModifyVpcAttribute " + vpcId, () -> {
            c.ec2.modifyVpcAttribute(b -> b.vpcId(vpcId).enableDnsSupport(v -> v.value(true)));
            c.ec2.modifyVpcAttribute(b -> b.vpcId(vpcId).enableDnsHostnames(v -> v.value(true)));
        });
        converge(c, env, vpcId, d, tags);
        return new ObservedResource(d.address(), vpcId, d.attributes(), tags);
    }

    @Override
    public ObservedResource update(AwsClients c, Environment env, ObservedResource current, ResourceSpec d,
                                   java.util.List<io.mlctl.plan.AttributeChange> changes) {
        retag(c.ec2, current.cloudId(), current.attributes(), d.attributes());
        converge(c, env, current.cloudId(), d, AwsKind.allTags(Ownership.tags(env.name(), d.address()), d.attributes()));
        return new ObservedResource(d.address(), current.cloudId(), d.attributes(), current.tags());
    }

    /** Brings subnets, routing, firewall and the storage endpoint of an existing VPC to the spec. */
    @SuppressWarnings("unchecked")
    private void converge(AwsClients c, Environment env, String vpcId, ResourceSpec d, Map<String, String> tags) {
        Ec2Client ec2 = c.ec2;
        String network = d.address().name();
        String name = AwsKind.physicalName(env, network);
        Map<String, Subnet> existing = new HashMap<>();
        AwsErrors.run("ec2:DescribeSubnets", () -> ec2.describeSubnetsPaginator(b -> b.filters(filter("vpc-id", vpcId)))
            .forEach(p -> p.subnets().forEach(s -> {
                String full = tagMap(s.tags()).getOrDefault(SUBNET_TAG, "");
                existing.put(full.contains("/") ? full.substring(full.indexOf('/') + 1) : s.subnetId(), s);
            })));
        List<Map<String, Object>> wanted = (List<Map<String, Object>>) d.attributes().getOrDefault("subnets", List.of());
        Map<String, Map<String, Object>> wantedByName = new LinkedHashMap<>();
        wanted.forEach(w -> wantedByName.put((String) w.get("name"), w));
        for (Map.Entry<String, Subnet> e : existing.entrySet()) {
            Map<String, Object> w = wantedByName.get(e.getKey());
            Subnet s = e.getValue();
            if (w == null || !w.get("cidr").equals(s.cidrBlock()) || (w.get("zone") != null && !w.get("zone").equals(s.availabilityZone()))) {
                AwsErrors.run("ec2:DeleteSubnet " + s.subnetId(), () -> ignoreMissing(() -> ec2.deleteSubnet(b -> b.subnetId(s.subnetId()))));
            }
        }
        boolean anyPublic = wanted.stream().anyMatch(w -> Boolean.FALSE.equals(w.get("private")));
        String routeTable = anyPublic ? publicRouteTable(c, vpcId, tags, name) : null;
        for (Map<String, Object> w : wanted) {
            Subnet s = existing.get((String) w.get("name"));
            String subnetId;
            if (s == null || !w.get("cidr").equals(s.cidrBlock()) || (w.get("zone") != null && !w.get("zone").equals(s.availabilityZone()))) {
                Map<String, String> st = new TreeMap<>(tags);
                st.put(SUBNET_TAG, network + "/" + w.get("name"));
                if (w.get("zone") != null) st.put(ZONE_TAG, (String) w.get("zone"));
                subnetId = AwsErrors.call("ec2:CreateSubnet " + w.get("cidr"), () -> ec2.createSubnet(b -> b.vpcId(vpcId)
                    .cidrBlock((String) w.get("cidr")).availabilityZone((String) w.get("zone"))
                    .tagSpecifications(spec(ResourceType.SUBNET, st, name + "-" + w.get("name")))).subnet().subnetId());
            } else {
                subnetId = s.subnetId();
                if (w.get("zone") != null && !tagMap(s.tags()).containsKey(ZONE_TAG)) {
                    // The spec now names the zone the subnet already has: record that it is the spec's.
                    AwsErrors.run("ec2:CreateTags " + subnetId, () -> ec2.createTags(b -> b.resources(subnetId)
                        .tags(Tag.builder().key(ZONE_TAG).value((String) w.get("zone")).build())));
                }
            }
            boolean pub = Boolean.FALSE.equals(w.get("private"));
            if (s == null || pub != Boolean.TRUE.equals(s.mapPublicIpOnLaunch())) {
                AwsErrors.run("ec2:ModifySubnetAttribute " + subnetId, () -> ec2.modifySubnetAttribute(b -> b.subnetId(subnetId)
                    .mapPublicIpOnLaunch(v -> v.value(pub))));
            }
            if (pub) {
                AwsErrors.run("ec2:AssociateRouteTable " + subnetId, () -> {
                    try {
                        ec2.associateRouteTable(b -> b.routeTableId(routeTable).subnetId(subnetId));
                    } catch (SdkException e) {
                        if (!AwsErrors.is(e, "Resource.AlreadyAssociated")) throw e;
                    }
                });
            }
        }
        firewall(c, env, vpcId, d, tags, name);
        storageEndpoint(c, env, vpcId, Boolean.TRUE.equals(d.attributes().get("privateStorageAccess")), tags, name);
    }

    private String publicRouteTable(AwsClients c, String vpcId, Map<String, String> tags, String name) {
        Ec2Client ec2 = c.ec2;
        List<InternetGateway> igws = AwsErrors.call("ec2:DescribeInternetGateways", () ->
            ec2.describeInternetGateways(b -> b.filters(filter("attachment.vpc-id", vpcId))).internetGateways());
        String igw;
        if (igws.isEmpty()) {
            igw = AwsErrors.call("ec2:CreateInternetGateway", () -> ec2.createInternetGateway(b -> b
                .tagSpecifications(spec(ResourceType.INTERNET_GATEWAY, tags, name))).internetGateway().internetGatewayId());
            AwsErrors.run("ec2:AttachInternetGateway", () -> ec2.attachInternetGateway(b -> b.internetGatewayId(igw).vpcId(vpcId)));
        } else {
            igw = igws.get(0).internetGatewayId();
        }
        List<RouteTable> tables = AwsErrors.call("ec2:DescribeRouteTables", () -> ec2.describeRouteTables(b -> b
            .filters(filter("vpc-id", vpcId), filter("tag:Name", name + "-public"))).routeTables());
        if (!tables.isEmpty()) return tables.get(0).routeTableId();
        String rt = AwsErrors.call("ec2:CreateRouteTable", () -> ec2.createRouteTable(b -> b.vpcId(vpcId)
            .tagSpecifications(spec(ResourceType.ROUTE_TABLE, tags, name + "-public"))).routeTable().routeTableId());
        AwsErrors.run("ec2:CreateRoute", () -> ec2.createRoute(b -> b.routeTableId(rt).destinationCidrBlock("0.0.0.0/0").gatewayId(igw)));
        return rt;
    }

    @SuppressWarnings("unchecked")
    private void firewall(AwsClients c, Environment env, String vpcId, ResourceSpec d, Map<String, String> tags, String name) {
        Ec2Client ec2 = c.ec2;
        List<Map<String, Object>> rules = (List<Map<String, Object>>) d.attributes().getOrDefault("firewall", List.of());
        List<SecurityGroup> groups = AwsErrors.call("ec2:DescribeSecurityGroups", () -> ec2.describeSecurityGroups(b -> b
            .filters(filter("vpc-id", vpcId), filter("group-name", name))).securityGroups());
        String groupId;
        SecurityGroup current = groups.isEmpty() ? null : groups.get(0);
        if (current == null) {
            if (rules.isEmpty()) return;
            groupId = AwsErrors.call("ec2:CreateSecurityGroup " + name, () -> ec2.createSecurityGroup(b -> b.groupName(name).vpcId(vpcId)
                .description("mlctl firewall of " + name).tagSpecifications(spec(ResourceType.SECURITY_GROUP, tags, name))).groupId());
        } else {
            groupId = current.groupId();
            if (rules(current).equals(io.mlctl.spec.Values.freeze(rules))) return;
            // Replace our described rules wholesale; ranges without a description are not ours and stay.
            List<IpPermission> in = ours(current.ipPermissions());
            List<IpPermission> out = ours(current.ipPermissionsEgress());
            if (!in.isEmpty()) AwsErrors.run("ec2:RevokeSecurityGroupIngress", () -> ec2.revokeSecurityGroupIngress(b -> b.groupId(groupId).ipPermissions(in)));
            if (!out.isEmpty()) AwsErrors.run("ec2:RevokeSecurityGroupEgress", () -> ec2.revokeSecurityGroupEgress(b -> b.groupId(groupId).ipPermissions(out)));
        }
        List<IpPermission> ingress = new ArrayList<>();
        List<IpPermission> egress = new ArrayList<>();
        for (Map<String, Object> r : rules) {
            for (Object port : (List<Object>) r.get("ports")) {
                int p = ((Number) port).intValue();
                List<IpRange> ranges = ((List<Object>) r.get("sources")).stream()
                    .map(s -> IpRange.builder().cidrIp((String) s).description((String) r.get("name")).build()).toList();
                IpPermission perm = IpPermission.builder().ipProtocol((String) r.get("protocol")).fromPort(p).toPort(p).ipRanges(ranges).build();
                ("egress".equals(r.get("direction")) ? egress : ingress).add(perm);
            }
        }
        if (!ingress.isEmpty()) AwsErrors.run("ec2:AuthorizeSecurityGroupIngress", () -> ec2.authorizeSecurityGroupIngress(b -> b.groupId(groupId).ipPermissions(ingress)));
        if (!egress.isEmpty()) AwsErrors.run("ec2:AuthorizeSecurityGroupEgress", () -> ec2.authorizeSecurityGroupEgress(b -> b.groupId(groupId).ipPermissions(egress)));
    }

    private static List<IpPermission> ours(List<IpPermission> perms) {
        List<IpPermission> out = new ArrayList<>();
        for (IpPermission p : perms) {
            List<IpRange> mine = p.ipRanges().stream().filter(r -> r.description() != null && !r.description().isBlank()).toList();
            if (!mine.isEmpty()) out.add(p.toBuilder().ipRanges(mine).ipv6Ranges(List.of()).prefixListIds(List.of()).userIdGroupPairs(List.of()).build());
        }
        return out;
    }

    private void storageEndpoint(AwsClients c, Environment env, String vpcId, boolean wanted, Map<String, String> tags, String name) {
        Ec2Client ec2 = c.ec2;
        String service = "com.amazonaws." + env.region() + ".s3";
        List<VpcEndpoint> eps = AwsErrors.call("ec2:DescribeVpcEndpoints", () -> ec2.describeVpcEndpoints(b -> b
            .filters(filter("vpc-id", vpcId), filter("service-name", service))).vpcEndpoints()).stream()
            .filter(e -> !"deleted".equals(e.stateAsString())).toList();
        if (wanted && eps.isEmpty()) {
            List<String> tables = AwsErrors.call("ec2:DescribeRouteTables", () -> ec2.describeRouteTables(b -> b.filters(filter("vpc-id", vpcId)))
                .routeTables().stream().map(RouteTable::routeTableId).toList());
            AwsErrors.run("ec2:CreateVpcEndpoint", () -> ec2.createVpcEndpoint(b -> b.vpcId(vpcId).serviceName(service)
                .vpcEndpointType("Gateway").routeTableIds(tables).tagSpecifications(spec(ResourceType.VPC_ENDPOINT, tags, name + "-s3"))));
        } else if (!wanted && !eps.isEmpty()) {
            AwsErrors.run("ec2:DeleteVpcEndpoints", () -> ec2.deleteVpcEndpoints(b -> b.vpcEndpointIds(eps.stream().map(VpcEndpoint::vpcEndpointId).toList())));
        }
    }

    @Override
    public void delete(AwsClients c, Environment env, ObservedResource current) {
        Ec2Client ec2 = c.ec2;
        String vpcId = current.cloudId();
        String what = current.address() + " (" + vpcId + ")";
        List<Vpc> vpcs = AwsErrors.call("ec2:DescribeVpcs", () -> {
            try {
                return ec2.describeVpcs(b -> b.vpcIds(vpcId)).vpcs();
            } catch (SdkException e) {
                if (AwsErrors.is(e, "InvalidVpcID.NotFound")) return List.of();
                throw e;
            }
        });
        if (vpcs.isEmpty()) return;
        if (!env.name().equals(tagMap(vpcs.get(0).tags()).get(Ownership.ENVIRONMENT_TAG))) {
            throw new io.mlctl.provider.DriverException(what + " is not owned by environment " + env.name() + "; refusing to delete it", false);
        }
        AwsErrors.run("ec2:DeleteVpcEndpoints " + what, () -> {
            List<String> eps = ec2.describeVpcEndpoints(b -> b.filters(filter("vpc-id", vpcId))).vpcEndpoints().stream()
                .filter(e -> !"deleted".equals(e.stateAsString())).map(VpcEndpoint::vpcEndpointId).toList();
            if (!eps.isEmpty()) ec2.deleteVpcEndpoints(b -> b.vpcEndpointIds(eps));
        });
        AwsErrors.run("ec2:DeleteSecurityGroup " + what, () -> ec2.describeSecurityGroups(b -> b.filters(filter("vpc-id", vpcId)))
            .securityGroups().stream().filter(g -> !"default".equals(g.groupName()))
            .forEach(g -> ignoreMissing(() -> ec2.deleteSecurityGroup(b -> b.groupId(g.groupId())))));
        AwsErrors.run("ec2:DeleteSubnet " + what, () -> ec2.describeSubnets(b -> b.filters(filter("vpc-id", vpcId))).subnets()
            .forEach(s -> ignoreMissing(() -> ec2.deleteSubnet(b -> b.subnetId(s.subnetId())))));
        AwsErrors.run("ec2:DeleteRouteTable " + what, () -> ec2.describeRouteTables(b -> b.filters(filter("vpc-id", vpcId))).routeTables()
            .stream().filter(t -> t.associations().stream().noneMatch(a -> Boolean.TRUE.equals(a.main())))
            .forEach(t -> {
                t.associations().forEach(a -> ignoreMissing(() -> ec2.disassociateRouteTable(b -> b.associationId(a.routeTableAssociationId()))));
                ignoreMissing(() -> ec2.deleteRouteTable(b -> b.routeTableId(t.routeTableId())));
            }));
        AwsErrors.run("ec2:DeleteInternetGateway " + what, () -> ec2.describeInternetGateways(b -> b.filters(filter("attachment.vpc-id", vpcId)))
            .internetGateways().forEach(g -> {
                ignoreMissing(() -> ec2.detachInternetGateway(b -> b.internetGatewayId(g.internetGatewayId()).vpcId(vpcId)));
                ignoreMissing(() -> ec2.deleteInternetGateway(b -> b.internetGatewayId(g.internetGatewayId())));
            }));
        AwsErrors.run("ec2:DeleteVpc " + what, () -> ignoreMissing(() -> ec2.deleteVpc(b -> b.vpcId(vpcId))));
    }

    static void retag(Ec2Client ec2, String id, Map<String, Object> have, Map<String, Object> want) {
        AwsKind.tagChange(have, want).ifPresent(ch -> {
            if (!ch.getKey().isEmpty()) {
                List<Tag> set = ch.getKey().entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
                AwsErrors.run("ec2:CreateTags " + id, () -> ec2.createTags(b -> b.resources(id).tags(set)));
            }
            if (!ch.getValue().isEmpty()) {
                List<Tag> rm = ch.getValue().stream().map(k -> Tag.builder().key(k).build()).toList();
                AwsErrors.run("ec2:DeleteTags " + id, () -> ec2.deleteTags(b -> b.resources(id).tags(rm)));
            }
        });
    }

    static void ignoreMissing(Runnable r) {
        try {
            r.run();
        } catch (SdkException e) {
            if (!AwsErrors.code(e).contains("NotFound")) throw e;
        }
    }
}
