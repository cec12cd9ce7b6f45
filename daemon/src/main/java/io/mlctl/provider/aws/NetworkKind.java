package io.mlctl.provider.aws;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Labels;
import io.mlctl.provider.NotOwnedException;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.TagMarker;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
import software.amazon.awssdk.services.ec2.model.RouteTableAssociation;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ec2.model.Vpc;
import software.amazon.awssdk.services.ec2.model.VpcEndpoint;

/**
 * network → a VPC with DNS support, one subnet per spec subnet (public ones routed through an
 * internet gateway and given public IPs), one security group {@code <env>-<name>} holding the
 * firewall rules (each IP range described with its rule name; instances launched in the network
 * get it), and an S3 gateway endpoint for privateStorageAccess.
 *
 * <p>None of these creates takes a client token, so each is sent once (no SDK retry) with its tags
 * in the same call, and every later attempt looks for the tagged sub-resource before creating it.
 * Subnets, groups and tags that are not mlctl's are never changed nor listed.
 */
final class NetworkKind implements AwsKind {
    static final String SUBNET_TAG = "mlctl-subnet";
    /** EC2 tag keys take ':' and not ',' or ';' everywhere: the list of label keys mlctl manages. */
    static final Labels LABELS = new Labels(TagMarker.INSTANCE, ":");
    /** A VPC's and a subnet's CIDR and a subnet's zone are fixed at creation in EC2. */
    /** EC2 fixes a subnet's range and zone at creation; it picks the zone when the spec does not. */
    private static final ResourceRules RULES = new ResourceRules(Set.of("region", "cidr", "subnets[].cidr", "subnets[].zone"),
        Set.of("subnets[].zone"));

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

    static Filter ownedBy(Address address) {
        return filter("tag:" + Ownership.ADDRESS_TAG, address.toString());
    }

    static Map<String, String> tagMap(List<Tag> tags) {
        Map<String, String> m = new TreeMap<>();
        tags.forEach(t -> m.put(t.key(), t.value()));
        return m;
    }

    /** The environment's labels as the spec carries them (attribute {@code tags}). */
    static Map<String, String> labels(Map<String, Object> attrs) {
        Map<String, String> out = new TreeMap<>();
        if (attrs.get("tags") instanceof Map<?, ?> m) m.forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
        return out;
    }

    /** Marker, labels and the record of which keys are labels: what a create writes. */
    static Map<String, String> createTags(Map<String, String> mark, Map<String, Object> attrs) {
        return LABELS.atCreate(mark, labels(attrs));
    }

    /** Listed attributes: the region and, under {@code tags}, only the labels mlctl manages (never someone else's tags). */
    static Map<String, Object> observed(Environment env, Map<String, Object> attrs, Map<String, String> cloudTags) {
        Map<String, Object> out = new TreeMap<>(attrs);
        out.put("region", env.region());
        Map<String, String> labels = LABELS.observed(cloudTags);
        if (!labels.isEmpty()) out.put("tags", labels);
        return out;
    }

    /** Writes the marker and the wanted labels, removes labels mlctl set that are no longer wanted, leaves other tags alone. */
    static void syncTags(Ec2Client ec2, String id, Map<String, String> cloudTags, Map<String, String> mark, Map<String, Object> attrs) {
        LABELS.sync(cloudTags, mark, labels(attrs)).ifPresent(s -> {
            if (!s.set().isEmpty()) {
                List<Tag> set = s.set().entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
                AwsErrors.run("ec2:CreateTags " + id, () -> ec2.createTags(b -> b.resources(id).tags(set)));
            }
            if (!s.remove().isEmpty()) {
                List<Tag> rm = s.remove().stream().map(k -> Tag.builder().key(k).build()).toList();
                AwsErrors.run("ec2:DeleteTags " + id, () -> ec2.deleteTags(b -> b.resources(id).tags(rm)));
            }
        });
    }

    /** The top attribute a planner path is under: {@code subnets[a].cidr} → {@code subnets}. */
    static String top(String path) {
        int i = 0;
        while (i < path.length() && path.charAt(i) != '.' && path.charAt(i) != '[') i++;
        return path.substring(0, i);
    }

    /** Whether a subnet is one this network's create made (carries the marker of {@code network} and a subnet name). */
    static Optional<String> ownSubnetName(Subnet s, Environment env, Address network) {
        Map<String, String> st = tagMap(s.tags());
        String full = st.getOrDefault(SUBNET_TAG, "");
        if (!full.startsWith(network.name() + "/") || !Ownership.ownedAddress(st, env.name()).equals(Optional.of(network))) {
            return Optional.empty();
        }
        return Optional.of(full.substring(network.name().length() + 1));
    }

    @Override
    public io.mlctl.spec.ResourceType type() {
        return io.mlctl.spec.ResourceType.NETWORK;
    }

    @Override
    public ResourceRules rules() {
        return RULES;
    }

    @Override
    public Page list(AwsClients c, Environment env, Optional<String> pageToken) {
        DescribeVpcsResponse vpcs = AwsErrors.call("ec2:DescribeVpcs", () -> c.ec2.describeVpcs(b -> b.filters(owned(env))
            .maxResults(200).nextToken(pageToken.orElse(null))));
        List<ObservedResource> items = vpcs.vpcs().isEmpty() ? List.of() : observeAll(c.ec2, env, vpcs.vpcs(), vpc ->
            Ownership.ownedAddress(tagMap(vpc.tags()), env.name()).filter(a -> a.type() == io.mlctl.spec.ResourceType.NETWORK));
        return new Page(items, Optional.ofNullable(vpcs.nextToken()).filter(t -> !t.isEmpty()));
    }

    /**
     * VPCs as listed (and as read for an import), each at the address {@code addressOf} gives it (none: left out), with
     * everything else about them read in one paged call per kind, not one per network. A VPC that is not (yet) its address's
     * is observed as an import would take it over: its unmarked subnets named by the spec subnet of their range (see
     * {@link #specSubnetName}), and an unmarked S3 gateway endpoint counted as its private storage access.
     */
    private static List<ObservedResource> observeAll(Ec2Client ec2, Environment env, List<Vpc> vpcs, java.util.function.Function<Vpc, Optional<Address>> addressOf) {
        String[] ids = vpcs.stream().map(Vpc::vpcId).toArray(String[]::new);
        List<Subnet> subnets = new ArrayList<>();
        AwsErrors.run("ec2:DescribeSubnets", () -> ec2.describeSubnetsPaginator(b -> b.filters(filter("vpc-id", ids)))
            .forEach(p -> subnets.addAll(p.subnets())));
        List<SecurityGroup> groups = new ArrayList<>();
        AwsErrors.run("ec2:DescribeSecurityGroups", () -> ec2.describeSecurityGroupsPaginator(b -> b.filters(filter("vpc-id", ids), owned(env)))
            .forEach(p -> groups.addAll(p.securityGroups())));
        List<VpcEndpoint> endpoints = new ArrayList<>();
        AwsErrors.run("ec2:DescribeVpcEndpoints", () -> ec2.describeVpcEndpointsPaginator(b -> b.filters(filter("vpc-id", ids)))
            .forEach(p -> endpoints.addAll(p.vpcEndpoints())));
        List<ObservedResource> items = new ArrayList<>();
        for (Vpc vpc : vpcs) {
            Map<String, String> tags = tagMap(vpc.tags());
            Optional<Address> a = addressOf.apply(vpc);
            if (a.isEmpty()) continue;
            boolean importing = !isOurs(tags, env, a.get());
            Map<String, Object> spec = env.resource(a.get()).map(ResourceSpec::attributes).orElse(Map.of());
            Map<String, Object> attrs = new LinkedHashMap<>();
            attrs.put("cidr", vpc.cidrBlock());
            // Only this network's own endpoint: another team's in the VPC is theirs, not this setting. An import takes an unmarked
            // one over only when the spec asks for one; else it stays whoever's it is, untouched (an import never deletes).
            boolean wantsEndpoint = Boolean.TRUE.equals(spec.get("privateStorageAccess"));
            attrs.put("privateStorageAccess", endpoints.stream().anyMatch(e -> e.vpcId().equals(vpc.vpcId()) && e.serviceName().endsWith(".s3")
                && !"deleted".equals(e.stateAsString())
                && (isOurs(tagMap(e.tags()), env, a.get()) || importing && wantsEndpoint && !TagMarker.INSTANCE.marked(tagMap(e.tags())))));
            List<Object> sn = new ArrayList<>();
            for (Subnet s : subnets) {
                if (!s.vpcId().equals(vpc.vpcId())) continue;
                Optional<String> name = ownSubnetName(s, env, a.get());
                if (name.isEmpty() && importing && !TagMarker.INSTANCE.marked(tagMap(s.tags()))) name = specSubnetName(spec, s);
                if (name.isEmpty()) continue; // another team's subnet in this VPC: not ours to show or touch
                Map<String, Object> m = new TreeMap<>();
                m.put("name", name.get());
                m.put("cidr", s.cidrBlock());
                m.put("zone", s.availabilityZone());
                m.put("private", !Boolean.TRUE.equals(s.mapPublicIpOnLaunch()));
                sn.add(m);
            }
            attrs.put("subnets", sn);
            String groupName = AwsKind.physicalName(env, a.get().name());
            attrs.put("firewall", groups.stream().filter(g -> g.vpcId().equals(vpc.vpcId()) && g.groupName().equals(groupName))
                .findFirst().map(NetworkKind::rules).orElse(List.of()));
            items.add(new ObservedResource(a.get(), vpc.vpcId(), observed(env, attrs, tags), tags));
        }
        return items;
    }

    /** The spec subnet (of a network's attributes) an existing subnet is, by its range, and its zone where the spec gives one. */
    @SuppressWarnings("unchecked")
    static Optional<String> specSubnetName(Map<String, Object> network, Subnet s) {
        for (Map<String, Object> w : (List<Map<String, Object>>) network.getOrDefault("subnets", List.of())) {
            if (fits(s, w)) return Optional.of((String) w.get("name"));
        }
        return Optional.empty();
    }

    /**
     * The "network/subnet" reference of an unmarked subnet in a VPC the spec imports as one of its networks, matched by range
     * as that network's read names it: what an instance or cluster imported along with its network runs in.
     */
    static Optional<String> importedSubnetRef(Ec2Client ec2, Environment env, String subnetId) {
        List<Subnet> found = AwsErrors.call("ec2:DescribeSubnets " + subnetId, () -> ec2.describeSubnets(b -> b.filters(filter("subnet-id", subnetId))).subnets());
        if (found.isEmpty() || TagMarker.INSTANCE.marked(tagMap(found.get(0).tags()))) return Optional.empty();
        Subnet s = found.get(0);
        for (io.mlctl.spec.Environment.Import imp : env.imports()) {
            if (imp.to().type() != io.mlctl.spec.ResourceType.NETWORK || !imp.id().equals(s.vpcId())) continue;
            Optional<String> name = env.resource(imp.to()).flatMap(r -> specSubnetName(r.attributes(), s));
            if (name.isPresent()) return Optional.of(imp.to().name() + "/" + name.get());
        }
        return Optional.empty();
    }

    /** EC2 VPC ids: {@code vpc-} and 8 or 17 hex digits. */
    private static final java.util.regex.Pattern ID = java.util.regex.Pattern.compile("vpc-[0-9a-f]{8}(?:[0-9a-f]{9})?");

    /** By VPC id, whatever its Name tag (VPC names are not unique, and nothing reaches a network by name). */
    @Override
    public Optional<ObservedResource> read(AwsClients c, Environment env, Address address, String id) {
        if (!ID.matcher(id).matches()) throw AwsKind.malformed(address, id, "a VPC id", "its VPC id (vpc-0123456789abcdef0)");
        return vpc(c.ec2, id).flatMap(v -> observeAll(c.ec2, env, List.of(v), x -> Optional.of(address)).stream().findFirst());
    }

    /** Subnet ids by spec name ({@code name=id,...}), and the security group that holds the firewall when there is one. */
    @Override
    public Map<String, String> outputs(AwsClients c, Environment env, ObservedResource resource) {
        String vpcId = resource.cloudId();
        Map<String, String> byName = new TreeMap<>();
        AwsErrors.run("ec2:DescribeSubnets " + vpcId, () -> c.ec2.describeSubnetsPaginator(b -> b.filters(filter("vpc-id", vpcId), owned(env)))
            .forEach(p -> p.subnets().forEach(s -> ownSubnetName(s, env, resource.address()).ifPresent(n -> byName.put(n, s.subnetId())))));
        Map<String, String> out = new TreeMap<>();
        out.put("subnets", String.join(",", byName.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
        String group = AwsKind.physicalName(env, resource.address().name());
        AwsErrors.call("ec2:DescribeSecurityGroups " + group, () -> c.ec2.describeSecurityGroups(b -> b.filters(filter("vpc-id", vpcId),
            filter("group-name", group), owned(env), ownedBy(resource.address()))).securityGroups())
            .stream().findFirst().ifPresent(g -> out.put("securityGroup", g.groupId()));
        return out;
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

    /** VPC names are not unique: only the id or the marker say which VPC is this address's. */
    @Override
    public Optional<Existing> find(AwsClients c, Environment env, Address address, Optional<String> knownCloudId) {
        if (knownCloudId.isPresent()) {
            Optional<Vpc> byId = vpc(c.ec2, knownCloudId.get());
            if (byId.isPresent()) return byId.map(NetworkKind::existing);
        }
        List<Vpc> marked = AwsErrors.call("ec2:DescribeVpcs " + address, () -> c.ec2.describeVpcs(b -> b
            .filters(owned(env), ownedBy(address))).vpcs());
        return marked.stream().min(java.util.Comparator.comparing(Vpc::vpcId)).map(NetworkKind::existing);
    }

    private static Existing existing(Vpc v) {
        Map<String, String> tags = tagMap(v.tags());
        return new Existing(v.vpcId(), "VPC " + v.vpcId() + (tags.containsKey("Name") ? " (" + tags.get("Name") + ")" : ""), tags);
    }

    private static Optional<Vpc> vpc(Ec2Client ec2, String vpcId) {
        return AwsErrors.call("ec2:DescribeVpcs " + vpcId, () -> {
            try {
                return ec2.describeVpcs(b -> b.vpcIds(vpcId)).vpcs().stream().findFirst();
            } catch (SdkException e) {
                if (AwsErrors.is(e, "InvalidVpcID.NotFound")) return Optional.empty();
                throw e;
            }
        });
    }

    @Override
    public String create(AwsClients c, Environment env, ResourceSpec d, Map<String, String> mark, String token) {
        String name = AwsKind.physicalName(env, d.address().name());
        String cidr = (String) d.attributes().get("cidr");
        Map<String, String> tags = createTags(mark, d.attributes());
        // No client token: sent once; after a lost answer the retry finds the VPC by its marker.
        return AwsErrors.call("ec2:CreateVpc " + name, () -> c.ec2Once.createVpc(b -> b.cidrBlock(cidr)
            .tagSpecifications(spec(ResourceType.VPC, tags, name))).vpc().vpcId());
    }

    @Override
    public ObservedResource complete(AwsClients c, Environment env, String vpcId, ResourceSpec d, Map<String, String> mark) {
        // Just created, it may not be visible yet (eventual consistency): the step is retried.
        Vpc vpc = vpc(c.ec2, vpcId).orElseThrow(() -> new DriverException(d.address() + ": " + vpcId + " is not visible yet", true));
        syncTags(c.ec2, vpcId, tagMap(vpc.tags()), mark, d.attributes());
        AwsErrors.run("ec2:ModifyVpcAttribute " + vpcId, () -> {
            c.ec2.modifyVpcAttribute(b -> b.vpcId(vpcId).enableDnsSupport(v -> v.value(true)));
            c.ec2.modifyVpcAttribute(b -> b.vpcId(vpcId).enableDnsHostnames(v -> v.value(true)));
        });
        Map<String, String> tags = createTags(mark, d.attributes());
        String name = AwsKind.physicalName(env, d.address().name());
        subnets(c, env, vpcId, d, tags);
        firewall(c, env, vpcId, d, tags);
        storageEndpoint(c, env, vpcId, Boolean.TRUE.equals(d.attributes().get("privateStorageAccess")), tags, name);
        return new ObservedResource(d.address(), vpcId, d.attributes(), tags);
    }

    @Override
    public ObservedResource update(AwsClients c, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        String vpcId = current.cloudId();
        Map<String, String> mark = TagMarker.INSTANCE.marker(env.name(), d.address());
        Map<String, String> tags = createTags(mark, d.attributes());
        Set<String> changed = new TreeSet<>();
        changes.forEach(ch -> changed.add(top(ch.path())));
        if (changed.contains("tags")) {
            // The plan carries attributes, not the cloud's tags: read them, so only mlctl's labels are touched.
            Vpc vpc = vpc(c.ec2, vpcId).orElseThrow(() -> new DriverException(d.address() + ": " + vpcId + " no longer exists; run plan again", false));
            // An import: what its read showed as the network's is marked first, so a marked VPC always has its parts.
            if (!isOurs(tagMap(vpc.tags()), env, d.address())) adoptParts(c.ec2, env, vpcId, d, tags);
            syncTags(c.ec2, vpcId, tagMap(vpc.tags()), mark, d.attributes());
        }
        if (changed.contains("subnets")) subnets(c, env, vpcId, d, tags);
        if (changed.contains("firewall")) firewall(c, env, vpcId, d, tags);
        if (changed.contains("privateStorageAccess")) {
            storageEndpoint(c, env, vpcId, Boolean.TRUE.equals(d.attributes().get("privateStorageAccess")), tags,
                AwsKind.physicalName(env, d.address().name()));
        }
        return new ObservedResource(d.address(), vpcId, d.attributes(), current.tags());
    }

    /**
     * Takes over, with the VPC, what its read showed as the network's (see {@link #observeAll}): unmarked subnets of a spec
     * subnet's range, and an unmarked S3 gateway endpoint. Other subnets, gateways and route tables stay someone else's.
     */
    private static void adoptParts(Ec2Client ec2, Environment env, String vpcId, ResourceSpec d, Map<String, String> tags) {
        List<Subnet> subnets = AwsErrors.call("ec2:DescribeSubnets " + vpcId, () -> ec2.describeSubnets(b -> b.filters(filter("vpc-id", vpcId))).subnets());
        for (Subnet s : subnets) {
            if (TagMarker.INSTANCE.marked(tagMap(s.tags()))) continue;
            Optional<String> name = specSubnetName(d.attributes(), s);
            if (name.isEmpty()) continue;
            Map<String, String> st = new TreeMap<>(tags);
            st.put(SUBNET_TAG, d.address().name() + "/" + name.get());
            List<Tag> set = st.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
            AwsErrors.run("ec2:CreateTags " + s.subnetId(), () -> ec2.createTags(b -> b.resources(s.subnetId()).tags(set)));
        }
        // The S3 endpoint only when the spec wants one (as the read showed it): else it is left as someone else's.
        if (!Boolean.TRUE.equals(d.attributes().get("privateStorageAccess"))) return;
        List<Tag> set = tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
        AwsErrors.call("ec2:DescribeVpcEndpoints " + vpcId, () -> ec2.describeVpcEndpoints(b -> b.filters(filter("vpc-id", vpcId))).vpcEndpoints())
            .stream().filter(e -> e.serviceName().endsWith(".s3") && !"deleted".equals(e.stateAsString()) && !TagMarker.INSTANCE.marked(tagMap(e.tags())))
            .forEach(e -> AwsErrors.run("ec2:CreateTags " + e.vpcEndpointId(), () -> ec2.createTags(b -> b.resources(e.vpcEndpointId()).tags(set))));
    }

    /**
     * Brings this network's own subnets (and their routing) to the spec. Subnets without this
     * network's marker are someone else's and are left exactly as they are.
     */
    @SuppressWarnings("unchecked")
    private void subnets(AwsClients c, Environment env, String vpcId, ResourceSpec d, Map<String, String> tags) {
        Ec2Client ec2 = c.ec2;
        Address network = d.address();
        String name = AwsKind.physicalName(env, network.name());
        Map<String, Subnet> existing = new TreeMap<>();
        AwsErrors.run("ec2:DescribeSubnets", () -> ec2.describeSubnetsPaginator(b -> b.filters(filter("vpc-id", vpcId), owned(env)))
            .forEach(p -> p.subnets().forEach(s -> ownSubnetName(s, env, network).ifPresent(n -> existing.put(n, s)))));
        List<Map<String, Object>> wanted = (List<Map<String, Object>>) d.attributes().getOrDefault("subnets", List.of());
        Map<String, Map<String, Object>> wantedByName = new LinkedHashMap<>();
        wanted.forEach(w -> wantedByName.put((String) w.get("name"), w));
        for (Map.Entry<String, Subnet> e : existing.entrySet()) {
            Map<String, Object> w = wantedByName.get(e.getKey());
            Subnet s = e.getValue();
            if (w == null || !fits(s, w)) {
                AwsErrors.run("ec2:DeleteSubnet " + s.subnetId(), () -> ignoreMissing(() -> ec2.deleteSubnet(b -> b.subnetId(s.subnetId()))));
            }
        }
        boolean anyPublic = wanted.stream().anyMatch(w -> Boolean.FALSE.equals(w.get("private")));
        Optional<RouteTable> routeTable = anyPublic ? Optional.of(publicRouteTable(c, env, vpcId, network, tags, name))
            : findPublicRouteTable(ec2, env, network, vpcId, name);
        for (Map<String, Object> w : wanted) {
            Subnet s = existing.get((String) w.get("name"));
            String subnetId;
            if (s == null || !fits(s, w)) {
                s = null;
                Map<String, String> st = new TreeMap<>(tags);
                st.put(SUBNET_TAG, network.name() + "/" + w.get("name"));
                // Sent once with its tags: if the answer is lost, the next attempt finds it by them.
                subnetId = AwsErrors.createLooking(() -> AwsErrors.call("ec2:CreateSubnet " + w.get("cidr"), () -> c.ec2Once.createSubnet(b -> b.vpcId(vpcId)
                    .cidrBlock((String) w.get("cidr")).availabilityZone((String) w.get("zone"))
                    .tagSpecifications(spec(ResourceType.SUBNET, st, name + "-" + w.get("name")))).subnet().subnetId()),
                    () -> AwsErrors.call("ec2:DescribeSubnets", () -> ec2.describeSubnets(b -> b.filters(filter("vpc-id", vpcId), owned(env),
                        filter("tag:" + SUBNET_TAG, st.get(SUBNET_TAG)))).subnets()).stream()
                        .filter(x -> fits(x, w)).map(Subnet::subnetId).findFirst());
            } else {
                subnetId = s.subnetId();
            }
            boolean pub = Boolean.FALSE.equals(w.get("private"));
            boolean mapsPublic = s != null && Boolean.TRUE.equals(s.mapPublicIpOnLaunch());
            if (pub != mapsPublic) {
                AwsErrors.run("ec2:ModifySubnetAttribute " + subnetId, () -> ec2.modifySubnetAttribute(b -> b.subnetId(subnetId)
                    .mapPublicIpOnLaunch(v -> v.value(pub))));
            }
            Optional<RouteTableAssociation> assoc = routeTable.flatMap(t -> t.associations().stream()
                .filter(a -> subnetId.equals(a.subnetId())).findFirst());
            if (pub && assoc.isEmpty()) {
                String rt = routeTable.get().routeTableId();
                AwsErrors.run("ec2:AssociateRouteTable " + subnetId, () -> {
                    try {
                        ec2.associateRouteTable(b -> b.routeTableId(rt).subnetId(subnetId));
                    } catch (SdkException e) {
                        if (!AwsErrors.is(e, "Resource.AlreadyAssociated")) throw e;
                    }
                });
            } else if (!pub && assoc.isPresent()) {
                AwsErrors.run("ec2:DisassociateRouteTable " + subnetId, () -> ignoreMissing(() -> ec2.disassociateRouteTable(b -> b
                    .associationId(assoc.get().routeTableAssociationId()))));
            }
        }
    }

    private static boolean fits(Subnet s, Map<String, Object> w) {
        return w.get("cidr").equals(s.cidrBlock()) && (w.get("zone") == null || w.get("zone").equals(s.availabilityZone()));
    }

    private static Optional<RouteTable> findPublicRouteTable(Ec2Client ec2, Environment env, Address network, String vpcId, String name) {
        return AwsErrors.call("ec2:DescribeRouteTables", () -> ec2.describeRouteTables(b -> b
            .filters(filter("vpc-id", vpcId), filter("tag:Name", name + "-public"), owned(env), ownedBy(network))).routeTables()).stream()
            .min(java.util.Comparator.comparing(RouteTable::routeTableId));
    }

    /** The route table of public subnets, with its default route through the VPC's internet gateway; found or made. */
    private RouteTable publicRouteTable(AwsClients c, Environment env, String vpcId, Address network, Map<String, String> tags, String name) {
        Ec2Client ec2 = c.ec2;
        String igw = internetGateway(c, env, vpcId, network, tags, name);
        RouteTable rt = findPublicRouteTable(ec2, env, network, vpcId, name).orElseGet(() -> AwsErrors.createLooking(() -> AwsErrors.call("ec2:CreateRouteTable", () -> c.ec2Once
            .createRouteTable(b -> b.vpcId(vpcId).tagSpecifications(spec(ResourceType.ROUTE_TABLE, tags, name + "-public"))).routeTable()),
            () -> findPublicRouteTable(ec2, env, network, vpcId, name)));
        if (rt.routes().stream().noneMatch(r -> "0.0.0.0/0".equals(r.destinationCidrBlock()))) {
            AwsErrors.run("ec2:CreateRoute", () -> {
                try {
                    ec2.createRoute(b -> b.routeTableId(rt.routeTableId()).destinationCidrBlock("0.0.0.0/0").gatewayId(igw));
                } catch (SdkException e) {
                    if (!AwsErrors.is(e, "RouteAlreadyExists")) throw e;
                }
            });
        }
        return rt;
    }

    /** The gateway attached to the VPC; else this network's own unattached one (an earlier attempt's); else a new one. */
    private String internetGateway(AwsClients c, Environment env, String vpcId, Address network, Map<String, String> tags, String name) {
        Ec2Client ec2 = c.ec2;
        List<InternetGateway> attached = AwsErrors.call("ec2:DescribeInternetGateways", () ->
            ec2.describeInternetGateways(b -> b.filters(filter("attachment.vpc-id", vpcId))).internetGateways());
        if (!attached.isEmpty()) return attached.get(0).internetGatewayId();
        java.util.function.Supplier<Optional<String>> mine = () -> AwsErrors.call("ec2:DescribeInternetGateways", () ->
            ec2.describeInternetGateways(b -> b.filters(owned(env), ownedBy(network))).internetGateways()).stream()
            .filter(g -> g.attachments().isEmpty()).map(InternetGateway::internetGatewayId).sorted().findFirst();
        String igw = mine.get().orElseGet(() -> AwsErrors.createLooking(() -> AwsErrors.call("ec2:CreateInternetGateway", () -> c.ec2Once
            .createInternetGateway(b -> b.tagSpecifications(spec(ResourceType.INTERNET_GATEWAY, tags, name))).internetGateway().internetGatewayId()),
            mine));
        AwsErrors.run("ec2:AttachInternetGateway " + igw, () -> {
            try {
                ec2.attachInternetGateway(b -> b.internetGatewayId(igw).vpcId(vpcId));
            } catch (SdkException e) {
                if (!AwsErrors.is(e, "Resource.AlreadyAssociated")) throw e;
            }
        });
        return igw;
    }

    /**
     * The network's security group ({@code <env>-<network>} in its VPC), if there is one. A group of
     * that name that is not this network's is someone else's: refused, never changed.
     */
    static Optional<SecurityGroup> firewallGroup(Ec2Client ec2, Environment env, String vpcId, Address network) {
        String name = AwsKind.physicalName(env, network.name());
        List<SecurityGroup> groups = AwsErrors.call("ec2:DescribeSecurityGroups " + name, () -> ec2.describeSecurityGroups(b -> b
            .filters(filter("vpc-id", vpcId), filter("group-name", name))).securityGroups());
        if (groups.isEmpty()) return Optional.empty();
        SecurityGroup g = groups.get(0);
        Map<String, String> tags = tagMap(g.tags());
        if (!Ownership.ownedAddress(tags, env.name()).equals(Optional.of(network))) {
            throw new NotOwnedException(network + ": security group " + name + " (" + g.groupId() + ") in " + vpcId + " already exists and is "
                + TagMarker.INSTANCE.describeOwner(tags) + "; mlctl does not take over resources it did not create");
        }
        return Optional.of(g);
    }

    /** The group always exists, rules or not, so every instance in the network can carry it from its launch. */
    @SuppressWarnings("unchecked")
    private void firewall(AwsClients c, Environment env, String vpcId, ResourceSpec d, Map<String, String> tags) {
        Ec2Client ec2 = c.ec2;
        String name = AwsKind.physicalName(env, d.address().name());
        List<Map<String, Object>> rules = (List<Map<String, Object>>) d.attributes().getOrDefault("firewall", List.of());
        SecurityGroup current = firewallGroup(ec2, env, vpcId, d.address()).orElse(null);
        String groupId;
        if (current == null) {
            groupId = AwsErrors.createLooking(() -> AwsErrors.call("ec2:CreateSecurityGroup " + name, () -> c.ec2Once.createSecurityGroup(b -> b
                .groupName(name).vpcId(vpcId).description("mlctl firewall of " + name)
                .tagSpecifications(spec(ResourceType.SECURITY_GROUP, tags, name))).groupId()),
                () -> firewallGroup(ec2, env, vpcId, d.address()).map(SecurityGroup::groupId));
        } else {
            groupId = current.groupId();
            if (rules(current).equals(io.mlctl.spec.Values.freeze(rules))) return;
            // Replace our described rules wholesale; ranges without a description are not ours and stay.
            List<IpPermission> in = ours(current.ipPermissions());
            List<IpPermission> out = ours(current.ipPermissionsEgress());
            if (!in.isEmpty()) AwsErrors.run("ec2:RevokeSecurityGroupIngress", () -> tolerate("InvalidPermission.NotFound", () -> ec2.revokeSecurityGroupIngress(b -> b.groupId(groupId).ipPermissions(in))));
            if (!out.isEmpty()) AwsErrors.run("ec2:RevokeSecurityGroupEgress", () -> tolerate("InvalidPermission.NotFound", () -> ec2.revokeSecurityGroupEgress(b -> b.groupId(groupId).ipPermissions(out))));
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
        if (!ingress.isEmpty()) AwsErrors.run("ec2:AuthorizeSecurityGroupIngress", () -> tolerate("InvalidPermission.Duplicate", () -> ec2.authorizeSecurityGroupIngress(b -> b.groupId(groupId).ipPermissions(ingress))));
        if (!egress.isEmpty()) AwsErrors.run("ec2:AuthorizeSecurityGroupEgress", () -> tolerate("InvalidPermission.Duplicate", () -> ec2.authorizeSecurityGroupEgress(b -> b.groupId(groupId).ipPermissions(egress))));
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
        java.util.function.Supplier<List<VpcEndpoint>> find = () -> AwsErrors.call("ec2:DescribeVpcEndpoints", () -> ec2.describeVpcEndpoints(b -> b
            .filters(filter("vpc-id", vpcId), filter("service-name", service))).vpcEndpoints()).stream()
            .filter(e -> !"deleted".equals(e.stateAsString()) && tags.get(Ownership.ADDRESS_TAG).equals(tagMap(e.tags()).get(Ownership.ADDRESS_TAG))
                && env.name().equals(tagMap(e.tags()).get(Ownership.ENVIRONMENT_TAG))).toList();
        List<VpcEndpoint> eps = find.get();
        if (wanted && eps.isEmpty()) {
            // The VPC's main table (private subnets use it) and this network's own: never another team's table.
            List<String> tables = AwsErrors.call("ec2:DescribeRouteTables", () -> ec2.describeRouteTables(b -> b.filters(filter("vpc-id", vpcId)))
                .routeTables().stream().filter(t -> t.associations().stream().anyMatch(x -> Boolean.TRUE.equals(x.main()))
                    || tags.get(Ownership.ADDRESS_TAG).equals(tagMap(t.tags()).get(Ownership.ADDRESS_TAG)))
                .map(RouteTable::routeTableId).toList());
            // Sent once; an endpoint for this service in this VPC is what the next attempt looks for.
            AwsErrors.createLooking(() -> AwsErrors.call("ec2:CreateVpcEndpoint", () -> c.ec2Once.createVpcEndpoint(b -> b.vpcId(vpcId).serviceName(service)
                .vpcEndpointType("Gateway").routeTableIds(tables).tagSpecifications(spec(ResourceType.VPC_ENDPOINT, tags, name + "-s3")))
                .vpcEndpoint().vpcEndpointId()), () -> find.get().stream().map(VpcEndpoint::vpcEndpointId).findFirst());
        } else if (!wanted && !eps.isEmpty()) {
            AwsErrors.run("ec2:DeleteVpcEndpoints", () -> ec2.deleteVpcEndpoints(b -> b.vpcEndpointIds(eps.stream().map(VpcEndpoint::vpcEndpointId).toList())));
        }
    }

    @Override
    public void delete(AwsClients c, Environment env, ObservedResource current) {
        Ec2Client ec2 = c.ec2;
        String vpcId = current.cloudId();
        String what = current.address() + " (" + vpcId + ")";
        if (vpc(ec2, vpcId).isEmpty()) return;
        List<Subnet> subnets = AwsErrors.call("ec2:DescribeSubnets " + what, () -> ec2.describeSubnets(b -> b.filters(filter("vpc-id", vpcId))).subnets());
        List<Subnet> foreign = subnets.stream().filter(s -> ownSubnetName(s, env, current.address()).isEmpty()).toList();
        if (!foreign.isEmpty()) {
            // Checked before anything is deleted: the VPC could not go anyway, and half a network helps no one.
            throw new DriverException(what + " holds subnet " + foreign.get(0).subnetId() + " (" + foreign.get(0).cidrBlock()
                + ") that mlctl does not manage; move or delete it first", false);
        }
        List<VpcEndpoint> endpoints = AwsErrors.call("ec2:DescribeVpcEndpoints " + what, () -> ec2.describeVpcEndpoints(b -> b
            .filters(filter("vpc-id", vpcId))).vpcEndpoints()).stream().filter(e -> !"deleted".equals(e.stateAsString())).toList();
        List<RouteTable> tables = AwsErrors.call("ec2:DescribeRouteTables " + what, () -> ec2.describeRouteTables(b -> b
            .filters(filter("vpc-id", vpcId))).routeTables()).stream()
            .filter(t -> t.associations().stream().noneMatch(a -> Boolean.TRUE.equals(a.main()))).toList();
        List<InternetGateway> gateways = AwsErrors.call("ec2:DescribeInternetGateways " + what, () -> ec2.describeInternetGateways(b -> b
            .filters(filter("attachment.vpc-id", vpcId))).internetGateways());
        Address network = current.address();
        String strangers = java.util.stream.Stream.of(
                endpoints.stream().filter(e -> !isOurs(tagMap(e.tags()), env, network)).map(e -> "VPC endpoint " + e.vpcEndpointId()),
                tables.stream().filter(t -> !isOurs(tagMap(t.tags()), env, network)).map(t -> "route table " + t.routeTableId()),
                gateways.stream().filter(g -> !isOurs(tagMap(g.tags()), env, network)).map(g -> "internet gateway " + g.internetGatewayId()))
            .flatMap(x -> x).findFirst().orElse(null);
        if (strangers != null) {
            throw new DriverException(what + " holds " + strangers + " that mlctl does not manage; move or delete it first", false);
        }
        if (!endpoints.isEmpty()) {
            AwsErrors.run("ec2:DeleteVpcEndpoints " + what, () -> ec2.deleteVpcEndpoints(b -> b.vpcEndpointIds(endpoints.stream().map(VpcEndpoint::vpcEndpointId).toList())));
        }
        AwsErrors.run("ec2:DeleteSecurityGroup " + what, () -> ec2.describeSecurityGroups(b -> b.filters(filter("vpc-id", vpcId), owned(env)))
            .securityGroups().stream().filter(g -> !"default".equals(g.groupName()) && isOurs(tagMap(g.tags()), env, network))
            .forEach(g -> ignoreMissing(() -> ec2.deleteSecurityGroup(b -> b.groupId(g.groupId())))));
        subnets.forEach(s -> AwsErrors.run("ec2:DeleteSubnet " + s.subnetId(), () -> ignoreMissing(() -> ec2.deleteSubnet(b -> b.subnetId(s.subnetId())))));
        tables.forEach(t -> AwsErrors.run("ec2:DeleteRouteTable " + t.routeTableId(), () -> {
            t.associations().forEach(a -> ignoreMissing(() -> ec2.disassociateRouteTable(b -> b.associationId(a.routeTableAssociationId()))));
            ignoreMissing(() -> ec2.deleteRouteTable(b -> b.routeTableId(t.routeTableId())));
        }));
        gateways.forEach(g -> AwsErrors.run("ec2:DeleteInternetGateway " + g.internetGatewayId(), () -> {
            ignoreMissing(() -> ec2.detachInternetGateway(b -> b.internetGatewayId(g.internetGatewayId()).vpcId(vpcId)));
            ignoreMissing(() -> ec2.deleteInternetGateway(b -> b.internetGatewayId(g.internetGatewayId())));
        }));
        AwsErrors.run("ec2:DeleteVpc " + what, () -> ignoreMissing(() -> ec2.deleteVpc(b -> b.vpcId(vpcId))));
    }

    /** Whether a sub-resource carries this network's marker (its environment and address). */
    static boolean isOurs(Map<String, String> tags, Environment env, Address network) {
        return Ownership.ownedAddress(tags, env.name()).filter(network::equals).isPresent();
    }

    /** A rule change retried after a lost answer finds it already made: that is success. */
    static void tolerate(String code, Runnable r) {
        try {
            r.run();
        } catch (SdkException e) {
            if (!AwsErrors.is(e, code)) throw e;
        }
    }

    static void ignoreMissing(Runnable r) {
        try {
            r.run();
        } catch (SdkException e) {
            if (!AwsErrors.code(e).contains("NotFound")) throw e;
        }
    }
}
