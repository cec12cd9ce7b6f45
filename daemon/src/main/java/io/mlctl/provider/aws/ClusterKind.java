package io.mlctl.provider.aws;

import io.mlctl.catalog.Catalog;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Page;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.util.Hashing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.eks.model.AMITypes;
import software.amazon.awssdk.services.eks.model.CapacityTypes;
import software.amazon.awssdk.services.eks.model.Cluster;
import software.amazon.awssdk.services.eks.model.ListClustersResponse;
import software.amazon.awssdk.services.eks.model.Nodegroup;
import software.amazon.awssdk.services.iam.model.Role;

/**
 * kubernetes_cluster → an EKS cluster named {@code <env>-<name>} in the subnets of the referenced
 * network, with a service role mlctl keeps for it, and one managed node group per pool (instance
 * type, min/max, SPOT capacity, the GPU AMI type for GPU machine types) in the referenced subnet,
 * running as the cluster's identity when it has one.
 */
final class ClusterKind implements AwsKind {
    private static final List<String> SERVICE_POLICIES = List.of(
        "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly");
    static final String IDENTITY_TAG = "mlctl-identity";
    private final Catalog.ProviderCatalog catalog;

    ClusterKind(Catalog.ProviderCatalog catalog) {
        this.catalog = catalog;
    }

    @Override
    public Page list(AwsClients c, Environment env, Optional<String> pageToken) {
        ListClustersResponse r = AwsErrors.call("eks:ListClusters", () -> c.eks.listClusters(b -> b.maxResults(100).nextToken(pageToken.orElse(null))));
        List<ObservedResource> items = new ArrayList<>();
        String prefix = env.name() + "-";
        for (String name : r.clusters()) {
            if (!name.startsWith(prefix)) continue;
            Cluster cl = AwsErrors.call("eks:DescribeCluster " + name, () -> c.eks.describeCluster(b -> b.name(name)).cluster());
            Map<String, String> tags = new TreeMap<>(cl.tags());
            Optional<Address> a = Ownership.ownedAddress(tags, env.name());
            if (a.isEmpty() || a.get().type() != io.mlctl.spec.ResourceType.KUBERNETES_CLUSTER) continue;
            Map<String, Object> attrs = new TreeMap<>();
            attrs.put("version", cl.version());
            attrs.put("subnet", tags.getOrDefault(NetworkKind.SUBNET_TAG, ""));
            List<Object> pools = new ArrayList<>();
            String identity = null;
            for (String ng : AwsErrors.call("eks:ListNodegroups " + name, () -> c.eks.listNodegroups(b -> b.clusterName(name)).nodegroups())) {
                Nodegroup g = AwsErrors.call("eks:DescribeNodegroup " + ng, () -> c.eks.describeNodegroup(b -> b.clusterName(name).nodegroupName(ng)).nodegroup());
                Map<String, Object> pool = new TreeMap<>();
                pool.put("name", g.nodegroupName());
                pool.put("machineType", g.instanceTypes().isEmpty() ? "" : g.instanceTypes().get(0));
                pool.put("min", (long) g.scalingConfig().minSize());
                pool.put("max", (long) g.scalingConfig().maxSize());
                pool.put("spot", g.capacityType() == CapacityTypes.SPOT);
                pools.add(pool);
                String role = g.nodeRole() == null ? "" : g.nodeRole().substring(g.nodeRole().lastIndexOf('/') + 1);
                if (role.startsWith(prefix) && !role.equals(serviceRole(env, a.get().name()))) identity = role.substring(prefix.length());
            }
            // The cluster's tag says it even when it has no node group to read a role from (identity is immutable).
            identity = tags.getOrDefault(IDENTITY_TAG, identity);
            if (identity != null) attrs.put("identity", identity);
            attrs.put("nodePools", pools);
            items.add(new ObservedResource(a.get(), cl.arn(), AwsKind.attrs(env, attrs, tags), tags));
        }
        return new Page(items, Optional.ofNullable(r.nextToken()).filter(t -> !t.isEmpty()));
    }

    static String serviceRole(Environment env, String cluster) {
        return env.name() + "-" + cluster + "-eks";
    }

    /** The role EKS itself runs as; kept under a sub-path so it is never mistaken for an identity. */
    private String ensureServiceRole(AwsClients c, Environment env, String cluster, Map<String, String> tags) {
        String name = serviceRole(env, cluster);
        Role role;
        try {
            role = c.iam.createRole(b -> b.roleName(name).path(IdentityKind.path(env) + "eks/").assumeRolePolicyDocument(IdentityKind.TRUST)
                .tags(tags.entrySet().stream().map(e -> software.amazon.awssdk.services.iam.model.Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList())
                .description("EKS service role of " + cluster + " (mlctl)")).role();
        } catch (SdkException e) {
            if (!AwsErrors.is(e, "EntityAlreadyExists")) throw AwsErrors.translate("iam:CreateRole " + name, e);
            role = AwsErrors.call("iam:GetRole " + name, () -> c.iam.getRole(b -> b.roleName(name)).role());
        }
        for (String p : SERVICE_POLICIES) AwsErrors.run("iam:AttachRolePolicy " + name, () -> c.iam.attachRolePolicy(b -> b.roleName(name).policyArn(p)));
        return role.arn();
    }

    private static String roleArn(AwsClients c, String name) {
        return AwsErrors.call("iam:GetRole " + name, () -> c.iam.getRole(b -> b.roleName(name)).role().arn());
    }

    @Override
    public io.mlctl.spec.ResourceType type() {
        return io.mlctl.spec.ResourceType.KUBERNETES_CLUSTER;
    }

    @Override
    public io.mlctl.provider.ResourceRules rules() {
        return new io.mlctl.provider.ResourceRules(java.util.Set.of("region", "subnet", "identity"));
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
        String subnetRef = (String) d.attributes().get("subnet");
        String network = subnetRef.substring(0, subnetRef.indexOf('/'));
        // The control plane spans every subnet of the network (EKS wants two zones); node groups use the named one.
        List<String> subnets = AwsErrors.call("ec2:DescribeSubnets", () -> c.ec2.describeSubnets(b -> b.filters(NetworkKind.owned(env),
            NetworkKind.filter("tag:" + NetworkKind.SUBNET_TAG, network + "/*"))).subnets()).stream().map(Subnet::subnetId).sorted().toList();
        if (subnets.isEmpty()) throw new DriverException(d.address() + ": network " + network + " has no subnets yet", true);
        String serviceRole = ensureServiceRole(c, env, d.address().name(), tags);
        Map<String, String> clusterTags = new TreeMap<>(tags);
        clusterTags.put(NetworkKind.SUBNET_TAG, subnetRef);
        if (d.attributes().get("identity") instanceof String identity) clusterTags.put(IDENTITY_TAG, identity);
        Cluster cl;
        try {
            cl = c.eks.createCluster(b -> b.name(name).version((String) d.attributes().get("version")).roleArn(serviceRole)
                .resourcesVpcConfig(v -> v.subnetIds(subnets)).tags(clusterTags).clientRequestToken(Hashing.sha256Text(token).substring(0, 36))).cluster();
        } catch (SdkException e) {
            if (!AwsErrors.is(e, "ResourceInUseException")) throw AwsErrors.translate("eks:CreateCluster " + name, e);
            cl = AwsErrors.call("eks:DescribeCluster " + name, () -> c.eks.describeCluster(b -> b.name(name)).cluster());
            if (!d.address().equals(Ownership.ownedAddress(cl.tags(), env.name()).orElse(null))) {
                throw new DriverException(d.address() + ": EKS cluster " + name + " already exists and is not owned by mlctl", false);
            }
        }
        AwsErrors.run("eks:wait active " + name, () -> c.eks.waiter().waitUntilClusterActive(b -> b.name(name), w -> w.waitTimeout(Duration.ofMinutes(30))));
        pools(c, env, d, name, tags, Map.of());
        return new ObservedResource(d.address(), cl.arn(), d.attributes(), clusterTags);
    }

    @SuppressWarnings("unchecked")
    private void pools(AwsClients c, Environment env, ResourceSpec d, String cluster, Map<String, String> tags, Map<String, Map<String, Object>> have) {
        EksClient eks = c.eks;
        Map<String, Map<String, Object>> want = new TreeMap<>();
        ((List<Map<String, Object>>) d.attributes().getOrDefault("nodePools", List.of())).forEach(p -> want.put((String) p.get("name"), p));
        Object identity = d.attributes().get("identity");
        String nodeRole = identity != null ? roleArn(c, AwsKind.physicalName(env, (String) identity)) : roleArn(c, serviceRole(env, d.address().name()));
        String subnetRef = (String) d.attributes().get("subnet");
        List<String> toDelete = new ArrayList<>();
        for (Map.Entry<String, Map<String, Object>> h : have.entrySet()) {
            Map<String, Object> w = want.get(h.getKey());
            if (w == null || !w.get("machineType").equals(h.getValue().get("machineType")) || !w.get("spot").equals(h.getValue().get("spot"))) {
                toDelete.add(h.getKey());
            }
        }
        for (String ng : toDelete) {
            AwsErrors.run("eks:DeleteNodegroup " + ng, () -> eks.deleteNodegroup(b -> b.clusterName(cluster).nodegroupName(ng)));
            AwsErrors.run("eks:wait nodegroup deleted " + ng, () -> eks.waiter().waitUntilNodegroupDeleted(b -> b.clusterName(cluster).nodegroupName(ng),
                w -> w.waitTimeout(Duration.ofMinutes(30))));
        }
        String subnet = want.isEmpty() ? null : InstanceKind.subnetId(c.ec2, env, subnetRef, d.address());
        for (Map<String, Object> w : want.values()) {
            String ng = (String) w.get("name");
            int min = ((Number) w.get("min")).intValue();
            int max = ((Number) w.get("max")).intValue();
            Map<String, Object> h = have.get(ng);
            if (h != null && !toDelete.contains(ng)) {
                if (!h.get("min").equals(w.get("min")) || !h.get("max").equals(w.get("max"))) {
                    AwsErrors.run("eks:UpdateNodegroupConfig " + ng, () -> eks.updateNodegroupConfig(b -> b.clusterName(cluster).nodegroupName(ng)
                        .scalingConfig(s -> s.minSize(min).maxSize(max).desiredSize(Math.max(min, 1)))));
                }
                continue;
            }
            String machine = (String) w.get("machineType");
            boolean gpu = catalog.machineTypes().containsKey(machine) && catalog.machineTypes().get(machine).gpus() > 0;
            try {
                eks.createNodegroup(b -> b.clusterName(cluster).nodegroupName(ng).instanceTypes(machine).subnets(subnet).nodeRole(nodeRole)
                    .scalingConfig(s -> s.minSize(min).maxSize(max).desiredSize(Math.max(min, 1)))
                    .capacityType(Boolean.TRUE.equals(w.get("spot")) ? CapacityTypes.SPOT : CapacityTypes.ON_DEMAND)
                    .amiType(gpu ? AMITypes.AL2_X86_64_GPU : AMITypes.AL2_X86_64).tags(tags));
            } catch (SdkException e) {
                if (!AwsErrors.is(e, "ResourceInUseException")) throw AwsErrors.translate("eks:CreateNodegroup " + ng, e);
            }
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public ObservedResource update(AwsClients c, Environment env, ObservedResource current, ResourceSpec d,
                                   java.util.List<io.mlctl.plan.AttributeChange> changes) {
        String name = AwsKind.physicalName(env, d.address().name());
        AwsKind.tagChange(current.attributes(), d.attributes()).ifPresent(ch -> {
            if (!ch.getKey().isEmpty()) AwsErrors.run("eks:TagResource " + name, () -> c.eks.tagResource(b -> b.resourceArn(current.cloudId()).tags(ch.getKey())));
            if (!ch.getValue().isEmpty()) AwsErrors.run("eks:UntagResource " + name, () -> c.eks.untagResource(b -> b.resourceArn(current.cloudId()).tagKeys(ch.getValue())));
        });
        if (!d.attributes().get("version").equals(current.attributes().get("version"))) {
            AwsErrors.run("eks:UpdateClusterVersion " + name, () -> c.eks.updateClusterVersion(b -> b.name(name).version((String) d.attributes().get("version"))));
        }
        Map<String, Map<String, Object>> have = new HashMap<>();
        ((List<Map<String, Object>>) current.attributes().getOrDefault("nodePools", List.of())).forEach(p -> have.put((String) p.get("name"), p));
        pools(c, env, d, name, AwsKind.allTags(Ownership.tags(env.name(), d.address()), d.attributes()), have);
        return new ObservedResource(d.address(), current.cloudId(), d.attributes(), current.tags());
    }

    @Override
    public void delete(AwsClients c, Environment env, ObservedResource current) {
        String name = AwsKind.physicalName(env, current.address().name());
        Cluster cl;
        try {
            cl = c.eks.describeCluster(b -> b.name(name)).cluster();
        } catch (SdkException e) {
            if (AwsErrors.is(e, "ResourceNotFoundException")) {
                deleteServiceRole(c, env, current.address().name());
                return;
            }
            throw AwsErrors.translate("eks:DescribeCluster " + name, e);
        }
        if (!current.address().equals(Ownership.ownedAddress(cl.tags(), env.name()).orElse(null))) {
            throw new DriverException(current.address() + ": EKS cluster " + name + " is not owned by environment " + env.name() + "; refusing to delete it", false);
        }
        for (String ng : AwsErrors.call("eks:ListNodegroups " + name, () -> c.eks.listNodegroups(b -> b.clusterName(name)).nodegroups())) {
            AwsErrors.run("eks:DeleteNodegroup " + ng, () -> c.eks.deleteNodegroup(b -> b.clusterName(name).nodegroupName(ng)));
            AwsErrors.run("eks:wait nodegroup deleted " + ng, () -> c.eks.waiter().waitUntilNodegroupDeleted(b -> b.clusterName(name).nodegroupName(ng),
                w -> w.waitTimeout(Duration.ofMinutes(30))));
        }
        AwsErrors.run("eks:DeleteCluster " + name, () -> c.eks.deleteCluster(b -> b.name(name)));
        AwsErrors.run("eks:wait deleted " + name, () -> c.eks.waiter().waitUntilClusterDeleted(b -> b.name(name), w -> w.waitTimeout(Duration.ofMinutes(30))));
        deleteServiceRole(c, env, current.address().name());
    }

    private static void deleteServiceRole(AwsClients c, Environment env, String cluster) {
        IdentityKind.deleteRole(c.iam, serviceRole(env, cluster));
    }
}
