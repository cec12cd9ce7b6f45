package io.mlctl.provider.aws;

import io.mlctl.catalog.Catalog;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
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
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.util.Hashing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ec2.model.SecurityGroup;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.eks.model.AMITypes;
import software.amazon.awssdk.services.eks.model.CapacityTypes;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.ClusterStatus;
import software.amazon.awssdk.services.eks.model.ListClustersResponse;
import software.amazon.awssdk.services.eks.model.Nodegroup;
import software.amazon.awssdk.services.eks.model.NodegroupStatus;
import software.amazon.awssdk.services.iam.model.Role;

/**
 * kubernetes_cluster → an EKS cluster named {@code <env>-<name>} across the subnets of the
 * referenced network, with the network's firewall, a service role mlctl keeps for it, and one
 * managed node group per pool (instance type, min/max, SPOT capacity, the GPU AMI type for GPU
 * machine types) in the referenced subnet, running as a node role mlctl keeps per cluster: the
 * three AWS-managed worker policies plus a copy of the identity's grants.
 */
final class ClusterKind implements AwsKind {
    private static final List<String> SERVICE_POLICIES = List.of("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy");
    static final List<String> NODE_POLICIES = List.of("arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy");
    private static final String EKS_TRUST = """
        {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}""";
    private static final String NODE_TRUST = """
        {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}""";
    /** Node group states that will not become healthy on their own. */
    private static final Set<NodegroupStatus> BROKEN = Set.of(NodegroupStatus.CREATE_FAILED, NodegroupStatus.DELETE_FAILED, NodegroupStatus.DEGRADED);
    private static final Pattern POOL_PATH = Pattern.compile("nodePools\\[([^\\]]+)\\](?:\\.(.+))?");
    static final String IDENTITY_TAG = "mlctl-identity";
    private final Catalog.ProviderCatalog catalog;
    private final Waiter waiter;

    ClusterKind(Catalog.ProviderCatalog catalog) {
        this(catalog, Waiter.of(Duration.ofSeconds(20), Duration.ofMinutes(40)));
    }

    ClusterKind(Catalog.ProviderCatalog catalog, Waiter waiter) {
        this.catalog = catalog;
        this.waiter = waiter;
    }

    @Override
    public ResourceType type() {
        return ResourceType.KUBERNETES_CLUSTER;
    }

    @Override
    public ResourceRules rules() {
        // EKS cannot change a node group's instance types or capacity type in place, nor a cluster's subnets or roles.
        // The control plane spans every subnet of the network (EKS wants two zones): it goes with any of them.
        // The identity is not one of EKS's roles: its grants are copied onto mlctl's node role, which a change rewrites.
        return new ResourceRules(Set.of("region", "subnet", "nodePools[].machineType", "nodePools[].spot"), Set.of(), Set.of("subnet"));
    }

    @Override
    public Page list(AwsClients c, Environment env, Optional<String> pageToken) {
        ListClustersResponse r = AwsErrors.call("eks:ListClusters", () -> c.eks.listClusters(b -> b.maxResults(100).nextToken(pageToken.orElse(null))));
        List<ObservedResource> items = new ArrayList<>();
        String prefix = env.name() + "-";
        for (String name : r.clusters()) {
            // A cluster's name is the one mlctl gives its address (an import must have it too): others are not read.
            if (!name.startsWith(prefix)) continue;
            Cluster cl = AwsErrors.call("eks:DescribeCluster " + name, () -> c.eks.describeCluster(b -> b.name(name)).cluster());
            Optional<Address> a = Ownership.ownedAddress(cl.tags(), env.name());
            if (a.isEmpty() || a.get().type() != ResourceType.KUBERNETES_CLUSTER) continue;
            items.add(observed(c, env, cl, a.get()));
        }
        return new Page(items, Optional.ofNullable(r.nextToken()).filter(t -> !t.isEmpty()));
    }

    /**
     * A cluster as listed (and as read for an import) at {@code address}. One that is not (yet) that address's is observed as
     * an import takes it over: its unmarked node groups are its pools, and its subnet is the spec's when that is in the
     * cluster's network (see {@link #subnetOfImport}).
     */
    private static ObservedResource observed(AwsClients c, Environment env, Cluster cl, Address address) {
        String name = cl.name();
        Map<String, String> tags = new TreeMap<>(cl.tags());
        boolean importing = TagMarker.INSTANCE.owner(tags, env.name()).filter(address::equals).isEmpty();
        Map<String, Object> attrs = new TreeMap<>();
        attrs.put("version", cl.version());
        attrs.put("subnet", tags.containsKey(NetworkKind.SUBNET_TAG) || !importing ? tags.getOrDefault(NetworkKind.SUBNET_TAG, "")
            : subnetOfImport(c, env, address, cl));
        List<Object> pools = new ArrayList<>();
        for (String ng : AwsErrors.call("eks:ListNodegroups " + name, () -> c.eks.listNodegroups(b -> b.clusterName(name)).nodegroups())) {
            Nodegroup g = AwsErrors.call("eks:DescribeNodegroup " + ng, () -> c.eks.describeNodegroup(b -> b.clusterName(name).nodegroupName(ng)).nodegroup());
            // A node group someone else added to the cluster is theirs: not listed, never changed or deleted.
            if (!ownPool(g, env, address) && !(importing && !TagMarker.INSTANCE.marked(g.tags() == null ? Map.of() : g.tags()))) continue;
            Map<String, Object> pool = new TreeMap<>();
            pool.put("name", g.nodegroupName());
            pool.put("machineType", g.instanceTypes().isEmpty() ? "" : g.instanceTypes().get(0));
            pool.put("min", (long) g.scalingConfig().minSize());
            pool.put("max", (long) g.scalingConfig().maxSize());
            pool.put("spot", g.capacityType() == CapacityTypes.SPOT);
            // A pool that will not recover shows as drift (the spec never has a status) rather than looking healthy.
            if (BROKEN.contains(g.status())) pool.put("status", g.statusAsString());
            pools.add(pool);
        }
        // The identity is mlctl's record on the cluster (the node role is mlctl's, not the identity's).
        if (tags.containsKey(IDENTITY_TAG)) attrs.put("identity", tags.get(IDENTITY_TAG));
        attrs.put("nodePools", pools);
        return new ObservedResource(address, cl.arn(), AwsKind.attrs(env, attrs, tags), tags);
    }

    /**
     * The "network/subnet" of a cluster being imported, which carries no record of it: the spec's, when the cluster's own
     * subnets (mlctl's, or of a network the spec imports with it) are in the same network; else the first of those, or none.
     */
    private static String subnetOfImport(AwsClients c, Environment env, Address address, Cluster cl) {
        List<String> ids = cl.resourcesVpcConfig() == null ? List.of() : cl.resourcesVpcConfig().subnetIds();
        Map<String, String> owned = InstanceKind.subnetAddresses(c.ec2, env);
        Set<String> refs = new TreeSet<>();
        for (String id : ids) {
            String ref = owned.containsKey(id) ? owned.get(id) : NetworkKind.importedSubnetRef(c.ec2, env, id).orElse(null);
            if (ref != null) refs.add(ref);
        }
        Object want = env.resource(address).map(r -> r.attributes().get("subnet")).orElse(null);
        if (want instanceof String w && refs.stream().anyMatch(ref -> ref.substring(0, ref.indexOf('/')).equals(w.substring(0, w.indexOf('/'))))) return w;
        return refs.isEmpty() ? "" : refs.iterator().next();
    }

    /** EKS cluster names: a letter or digit, then letters, digits, hyphens and underscores, up to 100. */
    private static final Pattern NAME = Pattern.compile("[0-9A-Za-z][A-Za-z0-9_-]{0,99}");

    /** By cluster name, which must be the one mlctl gives the address: grants and the node roles reach the cluster by it. */
    @Override
    public Optional<ObservedResource> read(AwsClients c, Environment env, Address address, String id) {
        String name = AwsKind.physicalName(env, address.name());
        if (!NAME.matcher(id).matches()) throw AwsKind.malformed(address, id, "an EKS cluster name", "its name (" + name + ")");
        Optional<Cluster> cl = describe(c, id);
        if (cl.isEmpty()) return Optional.empty();
        if (!id.equals(name)) throw AwsKind.misnamed(env, address, "EKS cluster", id);
        return Optional.of(observed(c, env, cl.get(), address));
    }

    /** The API server, the running version, and the command that writes a kubeconfig for it. */
    @Override
    public Map<String, String> outputs(AwsClients c, Environment env, ObservedResource resource) {
        String name = AwsKind.physicalName(env, resource.address().name());
        Cluster cl = describe(c, name).orElseThrow(() -> new DriverException(resource.address() + ": EKS cluster " + name
            + " no longer exists; run plan again", false));
        Map<String, String> out = new TreeMap<>();
        if (cl.endpoint() != null) out.put("endpoint", cl.endpoint());
        out.put("version", cl.version());
        out.put("credentials", "aws eks update-kubeconfig --region " + env.region() + " --name " + name);
        return out;
    }

    static String serviceRole(Environment env, String cluster) {
        return env.name() + "-" + cluster + "-eks";
    }

    static String nodeRole(Environment env, String cluster) {
        return env.name() + "-" + cluster + "-node";
    }

    /** Roles mlctl keeps for a cluster live under a sub-path, so they are never listed as identities. */
    static String rolePath(Environment env) {
        return IdentityKind.path(env) + "eks/";
    }

    @Override
    public Optional<Existing> find(AwsClients c, Environment env, Address address, Optional<String> knownCloudId) {
        String name = AwsKind.physicalName(env, address.name());
        return describe(c, name).map(cl -> new Existing(cl.arn(), "EKS cluster " + name, cl.tags()));
    }

    private static Optional<Cluster> describe(AwsClients c, String name) {
        try {
            return Optional.of(c.eks.describeCluster(b -> b.name(name)).cluster());
        } catch (SdkException e) {
            if (AwsErrors.is(e, "ResourceNotFoundException")) return Optional.empty();
            throw AwsErrors.translate("eks:DescribeCluster " + name, e);
        }
    }

    /**
     * A role of the cluster's, made once: CreateRole takes no client token, so after a lost answer
     * the name is found and used only if it carries this cluster's marker.
     */
    private static String ensureRole(AwsClients c, Environment env, Address cluster, String name, String trust, List<String> policies,
                                     Map<String, String> marker, String what) {
        Role role;
        try {
            role = c.iamOnce.createRole(b -> b.roleName(name).path(rolePath(env)).assumeRolePolicyDocument(trust)
                .tags(marker.entrySet().stream().map(e -> software.amazon.awssdk.services.iam.model.Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList())
                .description(what + " of " + cluster + " (mlctl)")).role();
        } catch (SdkException e) {
            if (!AwsErrors.is(e, "EntityAlreadyExists")) throw AwsErrors.translate("iam:CreateRole " + name, e);
            role = AwsErrors.call("iam:GetRole " + name, () -> c.iam.getRole(b -> b.roleName(name)).role());
            Map<String, String> tags = role.tags().stream().collect(Collectors.toMap(t -> t.key(), t -> t.value(), (x, y) -> y));
            if (TagMarker.INSTANCE.owner(tags, env.name()).filter(cluster::equals).isEmpty()) {
                throw new NotOwnedException(cluster + ": IAM role " + name + " already exists and is " + TagMarker.INSTANCE.describeOwner(tags)
                    + "; mlctl does not take over resources it did not create (rename the cluster in the spec)");
            }
        }
        for (String p : policies) AwsErrors.run("iam:AttachRolePolicy " + name, () -> c.iam.attachRolePolicy(b -> b.roleName(name).policyArn(p)));
        return role.arn();
    }

    /** The node role, with a copy of the identity's grants so pods on the nodes get what the identity may do. */
    private static String ensureNodeRole(AwsClients c, Environment env, ResourceSpec d, Map<String, String> marker) {
        String name = nodeRole(env, d.address().name());
        String arn = ensureRole(c, env, d.address(), name, NODE_TRUST, NODE_POLICIES, marker, "EKS node role");
        Optional<String> grants = Optional.empty();
        if (d.attributes().get("identity") instanceof String identity) {
            String from = AwsKind.physicalName(env, identity);
            try {
                grants = Optional.of(c.iam.getRolePolicy(b -> b.roleName(from).policyName(IdentityKind.POLICY)).policyDocument());
            } catch (SdkException e) {
                if (!AwsErrors.is(e, "NoSuchEntity")) throw AwsErrors.translate("iam:GetRolePolicy " + from, e);
            }
        }
        IdentityKind.putPolicy(c.iam, name, grants.map(g -> java.net.URLDecoder.decode(g, java.nio.charset.StandardCharsets.UTF_8)));
        // Which identity's grants it copies: the identity keeps the copy in step when its grants change.
        if (d.attributes().get("identity") instanceof String identity) {
            AwsErrors.run("iam:TagRole " + name, () -> c.iam.tagRole(b -> b.roleName(name)
                .tags(software.amazon.awssdk.services.iam.model.Tag.builder().key(IdentityKind.GRANTS_FROM_TAG).value(identity).build())));
        } else {
            AwsErrors.run("iam:UntagRole " + name, () -> c.iam.untagRole(b -> b.roleName(name).tagKeys(IdentityKind.GRANTS_FROM_TAG)));
        }
        return arn;
    }

    @Override
    public String create(AwsClients c, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        Map<String, String> tags = AwsKind.allTags(marker, d.attributes());
        String name = AwsKind.physicalName(env, d.address().name());
        String subnetRef = (String) d.attributes().get("subnet");
        String network = subnetRef.substring(0, subnetRef.indexOf('/'));
        // The control plane spans every subnet of the network (EKS wants two zones); node groups use the named one.
        List<Subnet> subnets = AwsErrors.call("ec2:DescribeSubnets", () -> c.ec2.describeSubnets(b -> b.filters(NetworkKind.owned(env),
            NetworkKind.filter("tag:" + NetworkKind.SUBNET_TAG, network + "/*"))).subnets());
        if (subnets.isEmpty()) throw new DriverException(d.address() + ": network " + network + " has no subnets yet", true);
        List<String> subnetIds = subnets.stream().map(Subnet::subnetId).sorted().toList();
        // The network's firewall goes on the cluster, so EKS puts it on the nodes' interfaces too.
        List<String> groups = AwsErrors.call("ec2:DescribeSecurityGroups", () -> c.ec2.describeSecurityGroups(b -> b.filters(
            NetworkKind.filter("vpc-id", subnets.get(0).vpcId()), NetworkKind.filter("group-name", AwsKind.physicalName(env, network)),
            NetworkKind.owned(env))).securityGroups()).stream().map(SecurityGroup::groupId).toList();
        String serviceRole = ensureRole(c, env, d.address(), serviceRole(env, d.address().name()), EKS_TRUST, SERVICE_POLICIES, marker, "EKS service role");
        Map<String, String> clusterTags = new TreeMap<>(tags);
        clusterTags.put(NetworkKind.SUBNET_TAG, subnetRef);
        if (d.attributes().get("identity") instanceof String identity) clusterTags.put(IDENTITY_TAG, identity);
        try {
            return c.eks.createCluster(b -> b.name(name).version((String) d.attributes().get("version")).roleArn(serviceRole)
                .resourcesVpcConfig(v -> v.subnetIds(subnetIds).securityGroupIds(groups)).tags(clusterTags)
                .clientRequestToken(Hashing.sha256Text(token).substring(0, 36))).cluster().arn();
        } catch (SdkException e) {
            if (!AwsErrors.is(e, "ResourceInUseException")) throw AwsErrors.translate("eks:CreateCluster " + name, e);
            // Made between the look and the create: the engine's next attempt finds it and checks its owner.
            throw new DriverException(d.address() + ": EKS cluster " + name + " appeared while it was being created", true, e);
        }
    }

    @Override
    public ObservedResource complete(AwsClients c, Environment env, String cloudId, ResourceSpec d, Map<String, String> marker) {
        String name = AwsKind.physicalName(env, d.address().name());
        Map<String, String> tags = AwsKind.allTags(marker, d.attributes());
        tags.put(NetworkKind.SUBNET_TAG, (String) d.attributes().get("subnet"));
        if (d.attributes().get("identity") instanceof String identity) tags.put(IDENTITY_TAG, identity);
        Cluster cl = waitCluster(c, name);
        Map<String, String> missing = new TreeMap<>();
        tags.forEach((k, v) -> {
            if (!v.equals(cl.tags().get(k))) missing.put(k, v);
        });
        // An adopted pending create carries no marker yet.
        if (!missing.isEmpty()) AwsErrors.run("eks:TagResource " + name, () -> c.eks.tagResource(b -> b.resourceArn(cloudId).tags(missing)));
        List<Map<String, Object>> pools = pools(d);
        if (!pools.isEmpty()) {
            String nodeRole = ensureNodeRole(c, env, d, marker);
            String subnet = InstanceKind.subnetId(c.ec2, env, (String) d.attributes().get("subnet"), d.address());
            Map<String, String> poolTags = AwsKind.allTags(marker, d.attributes());
            for (Map<String, Object> p : pools) ensurePool(c, env, d.address(), name, cloudId, p, nodeRole, subnet, poolTags);
            for (Map<String, Object> p : pools) waitPool(c, name, (String) p.get("name"));
        }
        return new ObservedResource(d.address(), cloudId, d.attributes(), tags);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> pools(ResourceSpec d) {
        return (List<Map<String, Object>>) d.attributes().getOrDefault("nodePools", List.of());
    }

    private Cluster waitCluster(AwsClients c, String name) {
        Cluster[] last = new Cluster[1];
        waiter.until("EKS cluster " + name, () -> {
            Cluster cl = AwsErrors.call("eks:DescribeCluster " + name, () -> c.eks.describeCluster(b -> b.name(name)).cluster());
            last[0] = cl;
            if (cl.status() == ClusterStatus.ACTIVE) return Waiter.Status.ready(cl.statusAsString());
            if (cl.status() == ClusterStatus.FAILED) return Waiter.Status.failed(cl.statusAsString(), "see the cluster's health in the EKS console");
            return Waiter.Status.pending(cl.statusAsString());
        });
        return last[0];
    }

    /** Whether a node group carries this cluster's marker. */
    private static boolean ownPool(Nodegroup g, Environment env, Address cluster) {
        return Ownership.ownedAddress(g.tags() == null ? Map.of() : g.tags(), env.name()).filter(cluster::equals).isPresent();
    }

    private static Optional<Nodegroup> describePool(AwsClients c, String cluster, String ng) {
        try {
            return Optional.of(c.eks.describeNodegroup(b -> b.clusterName(cluster).nodegroupName(ng)).nodegroup());
        } catch (SdkException e) {
            if (AwsErrors.is(e, "ResourceNotFoundException")) return Optional.empty();
            throw AwsErrors.translate("eks:DescribeNodegroup " + ng, e);
        }
    }

    /** Creates the pool's node group unless it exists; an existing one must be this cluster's own. */
    private void ensurePool(AwsClients c, Environment env, Address address, String cluster, String clusterArn, Map<String, Object> w,
                            String nodeRole, String subnet, Map<String, String> tags) {
        String ng = (String) w.get("name");
        Optional<Nodegroup> found = describePool(c, cluster, ng);
        if (found.isEmpty()) {
            String machine = (String) w.get("machineType");
            boolean gpu = catalog.machineTypes().containsKey(machine) && catalog.machineTypes().get(machine).gpus() > 0;
            int min = ((Number) w.get("min")).intValue();
            int max = ((Number) w.get("max")).intValue();
            // Same pool, same token: an SDK retry after a lost answer is answered with the first create.
            String token = Hashing.sha256(List.of(clusterArn, ng, machine, String.valueOf(w.get("spot")))).substring(0, 36);
            try {
                c.eks.createNodegroup(b -> b.clusterName(cluster).nodegroupName(ng).instanceTypes(machine).subnets(subnet).nodeRole(nodeRole)
                    .scalingConfig(s -> s.minSize(min).maxSize(max).desiredSize(Math.max(min, 1)))
                    .capacityType(Boolean.TRUE.equals(w.get("spot")) ? CapacityTypes.SPOT : CapacityTypes.ON_DEMAND)
                    .amiType(gpu ? AMITypes.AL2_X86_64_GPU : AMITypes.AL2_X86_64).tags(tags).clientRequestToken(token));
                return;
            } catch (SdkException e) {
                if (!AwsErrors.is(e, "ResourceInUseException")) throw AwsErrors.translate("eks:CreateNodegroup " + ng, e);
                found = describePool(c, cluster, ng);
                if (found.isEmpty()) throw AwsErrors.translate("eks:CreateNodegroup " + ng, e);
            }
        }
        Map<String, String> have = found.get().tags();
        if (TagMarker.INSTANCE.owner(have, env.name()).filter(address::equals).isEmpty()) {
            throw new NotOwnedException(address + ": EKS node group " + ng + " of cluster " + cluster + " already exists and is "
                + TagMarker.INSTANCE.describeOwner(have) + "; refusing to change it");
        }
    }

    /** Waits until the node group is ACTIVE; a failed one is an error with EKS's health issues, once. */
    private void waitPool(AwsClients c, String cluster, String ng) {
        waiter.until("EKS node group " + ng + " of cluster " + cluster, () -> {
            Nodegroup g = describePool(c, cluster, ng).orElse(null);
            if (g == null) return Waiter.Status.failed("deleted", "the node group disappeared while mlctl waited for it");
            if (g.status() == NodegroupStatus.ACTIVE) return Waiter.Status.ready(g.statusAsString());
            if (BROKEN.contains(g.status())) return Waiter.Status.failed(g.statusAsString(), health(g));
            return Waiter.Status.pending(g.statusAsString());
        });
    }

    private static String health(Nodegroup g) {
        if (g.health() == null || g.health().issues().isEmpty()) return "no health issues reported";
        return g.health().issues().stream().map(i -> i.codeAsString() + ": " + String.valueOf(i.message()).replaceAll("\\s+", " ").trim())
            .collect(Collectors.joining("; "));
    }

    private void waitPoolDeleted(AwsClients c, String cluster, String ng) {
        waiter.until("deletion of EKS node group " + ng + " of cluster " + cluster, () -> {
            Optional<Nodegroup> g = describePool(c, cluster, ng);
            if (g.isEmpty()) return Waiter.Status.ready("deleted");
            if (g.get().status() == NodegroupStatus.DELETE_FAILED) return Waiter.Status.failed(g.get().statusAsString(), health(g.get()));
            return Waiter.Status.pending(g.get().statusAsString());
        });
    }

    @Override
    public ObservedResource update(AwsClients c, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        String name = AwsKind.physicalName(env, d.address().name());
        Map<String, String> marker = TagMarker.INSTANCE.marker(env.name(), d.address());
        Map<String, Map<String, Object>> want = new LinkedHashMap<>();
        pools(d).forEach(p -> want.put((String) p.get("name"), p));
        Set<String> added = new TreeSet<>();
        Set<String> removed = new TreeSet<>();
        Set<String> rescaled = new TreeSet<>();
        Set<String> broken = new TreeSet<>();
        Set<String> replaced = new TreeSet<>();
        boolean tags = false;
        boolean version = false;
        boolean identity = false;
        for (AttributeChange ch : changes) {
            Matcher m = POOL_PATH.matcher(ch.path());
            if (ch.path().startsWith("tags")) {
                tags = true;
            } else if (ch.path().equals("version")) {
                version = true;
            } else if (ch.path().equals("identity")) {
                identity = true;
            } else if (ch.path().equals("nodePools")) {
                continue; // the same pools in another order
            } else if (m.matches() && ch.forcesReplacement()) {
                replaced.add(m.group(1)); // the plan's kubernetes_cluster.x.node_pool.y replace: EKS cannot change it in place
            } else if (m.matches() && m.group(2) == null) {
                if (ch.after() == null) removed.add(m.group(1));
                else if (ch.before() == null) added.add(m.group(1));
            } else if (m.matches() && (m.group(2).equals("min") || m.group(2).equals("max"))) {
                rescaled.add(m.group(1));
            } else if (m.matches() && m.group(2).equals("status")) {
                broken.add(m.group(1));
            } else {
                // The planner replaces what EKS cannot change; anything else here is a rule missing from rules().
                throw new DriverException(d.address() + ": " + ch.path() + " cannot be changed in place on EKS", false);
            }
        }
        broken.removeAll(removed);
        broken.removeAll(replaced);
        if (!broken.isEmpty()) {
            String ng = broken.iterator().next();
            Nodegroup g = describePool(c, name, ng).orElseThrow(() -> new DriverException(d.address() + ": node group " + ng + " no longer exists; run plan again", false));
            throw new DriverException(d.address() + ": EKS node group " + ng + " is " + g.statusAsString() + ": " + health(g)
                + "; remove the pool from the spec to delete it, then add it back", false);
        }
        if (tags || identity) {
            // The cloud's tags, not the plan's: only the marker, mlctl's labels and its records on the cluster are written or removed.
            Map<String, String> cloudTags = describe(c, name).map(Cluster::tags).orElse(Map.of());
            // An import: the node groups its read showed as the cluster's pools are marked first, so a marked cluster has them.
            if (TagMarker.INSTANCE.owner(cloudTags, env.name()).filter(d.address()::equals).isEmpty()) {
                adoptPools(c, env, d, name, io.mlctl.provider.ManagedResources.namesIn(current.attributes(), "nodePools"));
            }
            Map<String, String> set = new TreeMap<>();
            Set<String> remove = new TreeSet<>();
            AwsKind.tagSync(cloudTags, marker, d.attributes()).ifPresent(ch -> {
                set.putAll(ch.set());
                remove.addAll(ch.remove());
            });
            // What a created cluster carries from its creation: an imported one gets it with its marker.
            String subnet = (String) d.attributes().get("subnet");
            if (subnet != null && !subnet.equals(cloudTags.get(NetworkKind.SUBNET_TAG))) set.put(NetworkKind.SUBNET_TAG, subnet);
            if (d.attributes().get("identity") instanceof String id) {
                if (!id.equals(cloudTags.get(IDENTITY_TAG))) set.put(IDENTITY_TAG, id);
            } else if (cloudTags.containsKey(IDENTITY_TAG)) {
                remove.add(IDENTITY_TAG);
            }
            if (!remove.isEmpty()) AwsErrors.run("eks:UntagResource " + name, () -> c.eks.untagResource(b -> b.resourceArn(current.cloudId()).tagKeys(remove)));
            if (!set.isEmpty()) AwsErrors.run("eks:TagResource " + name, () -> c.eks.tagResource(b -> b.resourceArn(current.cloudId()).tags(set)));
        }
        if (identity && ownRole(c, env, d.address(), nodeRole(env, d.address().name()))) {
            // The nodes' copy of the identity's grants follows it; a cluster with no pool of mlctl's has no node role yet.
            ensureNodeRole(c, env, d, marker);
        }
        if (version) {
            Cluster cl = waitCluster(c, name); // a version update a lost answer left running finishes first
            if (!d.attributes().get("version").equals(cl.version())) {
                AwsErrors.run("eks:UpdateClusterVersion " + name, () -> c.eks.updateClusterVersion(b -> b.name(name).version((String) d.attributes().get("version"))));
                waitCluster(c, name);
            }
        }
        // Only a pool the spec no longer names, or one the plan replaces on its own, is deleted.
        removed.addAll(replaced);
        added.addAll(replaced);
        rescaled.removeAll(replaced);
        for (String ng : removed) {
            Optional<Nodegroup> g = describePool(c, name, ng);
            if (g.isEmpty()) continue;
            if (!ownPool(g.get(), env, d.address())) {
                throw new NotOwnedException(d.address() + ": node group " + ng + " of EKS cluster " + name + " is not managed by mlctl; refusing to delete it");
            }
            AwsErrors.run("eks:DeleteNodegroup " + ng, () -> c.eks.deleteNodegroup(b -> b.clusterName(name).nodegroupName(ng)));
            waitPoolDeleted(c, name, ng);
        }
        for (String ng : rescaled) {
            if (!want.containsKey(ng) || added.contains(ng)) continue;
            int min = ((Number) want.get(ng).get("min")).intValue();
            int max = ((Number) want.get(ng).get("max")).intValue();
            AwsErrors.run("eks:UpdateNodegroupConfig " + ng, () -> c.eks.updateNodegroupConfig(b -> b.clusterName(name).nodegroupName(ng)
                .scalingConfig(s -> s.minSize(min).maxSize(max).desiredSize(Math.max(min, 1)))));
        }
        if (!added.isEmpty()) {
            String nodeRole = ensureNodeRole(c, env, d, marker);
            String subnet = InstanceKind.subnetId(c.ec2, env, (String) d.attributes().get("subnet"), d.address());
            for (String ng : added) ensurePool(c, env, d.address(), name, current.cloudId(), want.get(ng), nodeRole, subnet, AwsKind.allTags(marker, d.attributes()));
        }
        for (String ng : added) waitPool(c, name, ng);
        for (String ng : rescaled) if (want.containsKey(ng)) waitPool(c, name, ng);
        return new ObservedResource(d.address(), current.cloudId(), d.attributes(), current.tags());
    }

    @Override
    public void delete(AwsClients c, Environment env, ObservedResource current) {
        String name = AwsKind.physicalName(env, current.address().name());
        if (describe(c, name).isPresent()) {
            List<Nodegroup> groups = new ArrayList<>();
            for (String ng : AwsErrors.call("eks:ListNodegroups " + name, () -> c.eks.listNodegroups(b -> b.clusterName(name)).nodegroups())) {
                describePool(c, name, ng).ifPresent(groups::add);
            }
            // Checked before anything is deleted: the cluster could not go with another team's node group in it.
            Optional<Nodegroup> foreign = groups.stream().filter(g -> !ownPool(g, env, current.address())).findFirst();
            if (foreign.isPresent()) {
                throw new DriverException(current.address() + ": EKS cluster " + name + " holds node group " + foreign.get().nodegroupName()
                    + " that mlctl does not manage; delete it first", false);
            }
            for (Nodegroup g : groups) {
                String ng = g.nodegroupName();
                AwsErrors.run("eks:DeleteNodegroup " + ng, () -> c.eks.deleteNodegroup(b -> b.clusterName(name).nodegroupName(ng)));
                waitPoolDeleted(c, name, ng);
            }
            try {
                c.eks.deleteCluster(b -> b.name(name));
            } catch (SdkException e) {
                if (!AwsErrors.is(e, "ResourceNotFoundException")) throw AwsErrors.translate("eks:DeleteCluster " + name, e);
            }
            waiter.until("deletion of EKS cluster " + name, () -> describe(c, name)
                .map(cl -> cl.status() == ClusterStatus.FAILED ? Waiter.Status.failed(cl.statusAsString(), "the cluster could not be deleted")
                    : Waiter.Status.pending(cl.statusAsString()))
                .orElse(Waiter.Status.ready("deleted")));
        }
        deleteOwnRole(c, env, current.address(), nodeRole(env, current.address().name()));
        deleteOwnRole(c, env, current.address(), serviceRole(env, current.address().name()));
    }

    /** A role of this cluster's name is deleted only if it carries this cluster's marker. */
    private static void deleteOwnRole(AwsClients c, Environment env, Address cluster, String name) {
        if (ownRole(c, env, cluster, name)) IdentityKind.deleteRole(c.iam, name);
    }

    /** Whether the role of that name exists and carries this cluster's marker. */
    private static boolean ownRole(AwsClients c, Environment env, Address cluster, String name) {
        Map<String, String> tags;
        try {
            tags = c.iam.getRole(b -> b.roleName(name)).role().tags().stream().collect(Collectors.toMap(t -> t.key(), t -> t.value(), (x, y) -> y));
        } catch (SdkException e) {
            if (AwsErrors.is(e, "NoSuchEntity")) return false;
            throw AwsErrors.translate("iam:GetRole " + name, e);
        }
        return TagMarker.INSTANCE.owner(tags, env.name()).filter(cluster::equals).isPresent();
    }

    /**
     * Marks the unmarked node groups of a cluster being imported that its read showed as the cluster's pools ({@code planned}):
     * one made since the plan was read was not in it, and is not taken over unseen.
     */
    private static void adoptPools(AwsClients c, Environment env, ResourceSpec d, String name, Set<String> planned) {
        Map<String, String> tags = AwsKind.allTags(TagMarker.INSTANCE.marker(env.name(), d.address()), d.attributes());
        for (String ng : AwsErrors.call("eks:ListNodegroups " + name, () -> c.eks.listNodegroups(b -> b.clusterName(name)).nodegroups())) {
            Optional<Nodegroup> g = describePool(c, name, ng);
            if (!planned.contains(ng) || g.isEmpty() || TagMarker.INSTANCE.marked(g.get().tags() == null ? Map.of() : g.get().tags())) continue;
            AwsErrors.run("eks:TagResource " + ng, () -> c.eks.tagResource(b -> b.resourceArn(g.get().nodegroupArn()).tags(tags)));
        }
    }
}
