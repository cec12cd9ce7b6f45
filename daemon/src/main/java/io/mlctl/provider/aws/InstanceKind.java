package io.mlctl.provider.aws;

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
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesResponse;
import software.amazon.awssdk.services.ec2.model.Image;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceLifecycleType;
import software.amazon.awssdk.services.ec2.model.InstanceType;
import software.amazon.awssdk.services.ec2.model.MarketType;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Subnet;
import software.amazon.awssdk.services.ec2.model.Volume;

/**
 * instance → an EC2 instance launched with its tags (instance and root volume) in the same call,
 * a client token derived from the apply's idempotency token (a retried launch returns the first
 * instance), spot through InstanceMarketOptions, the root volume size, and the instance profile of
 * its identity. The image is the newest Amazon Deep Learning AMI of the region.
 */
final class InstanceKind implements AwsKind {
    private static final String LIVE = "pending,running,stopping,stopped";
    private volatile String image;

    @Override
    public Page list(AwsClients c, Environment env, Optional<String> pageToken) {
        DescribeInstancesResponse r = AwsErrors.call("ec2:DescribeInstances", () -> c.ec2.describeInstances(b -> b
            .filters(NetworkKind.owned(env), NetworkKind.filter("instance-state-name", LIVE.split(",")))
            .maxResults(500).nextToken(pageToken.orElse(null))));
        List<Instance> instances = new ArrayList<>();
        r.reservations().stream().map(Reservation::instances).forEach(instances::addAll);
        List<ObservedResource> items = new ArrayList<>();
        if (!instances.isEmpty()) {
            Map<String, String> subnets = subnetAddresses(c.ec2, env);
            Map<String, Integer> rootSizes = new HashMap<>();
            String[] ids = instances.stream().map(Instance::instanceId).toArray(String[]::new);
            AwsErrors.run("ec2:DescribeVolumes", () -> c.ec2.describeVolumesPaginator(b -> b.filters(NetworkKind.filter("attachment.instance-id", ids)))
                .forEach(p -> {
                    for (Volume v : p.volumes()) {
                        v.attachments().forEach(a -> rootSizes.merge(a.instanceId(), v.size(), Math::max));
                    }
                }));
            for (Instance i : instances) {
                Map<String, String> tags = NetworkKind.tagMap(i.tags());
                Optional<Address> a = Ownership.ownedAddress(tags, env.name());
                if (a.isEmpty() || a.get().type() != io.mlctl.spec.ResourceType.INSTANCE) continue;
                Map<String, Object> attrs = new TreeMap<>();
                attrs.put("machineType", i.instanceTypeAsString());
                attrs.put("spot", i.instanceLifecycle() == InstanceLifecycleType.SPOT);
                attrs.put("subnet", subnets.getOrDefault(i.subnetId(), i.subnetId()));
                if (i.iamInstanceProfile() != null && i.iamInstanceProfile().arn() != null) {
                    String profile = i.iamInstanceProfile().arn().substring(i.iamInstanceProfile().arn().lastIndexOf('/') + 1);
                    attrs.put("identity", profile.startsWith(env.name() + "-") ? profile.substring(env.name().length() + 1) : profile);
                }
                Integer size = rootSizes.get(i.instanceId());
                if (size != null) attrs.put("diskGb", (long) size);
                items.add(new ObservedResource(a.get(), i.instanceId(), AwsKind.attrs(env, attrs, tags), tags));
            }
        }
        return new Page(items, Optional.ofNullable(r.nextToken()).filter(t -> !t.isEmpty()));
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

    static String subnetId(Ec2Client ec2, Environment env, String ref, Address forWhat) {
        List<Subnet> s = AwsErrors.call("ec2:DescribeSubnets " + ref, () -> ec2.describeSubnets(b -> b.filters(NetworkKind.owned(env),
            NetworkKind.filter("tag:" + NetworkKind.SUBNET_TAG, ref))).subnets());
        if (s.isEmpty()) throw new DriverException(forWhat + ": subnet " + ref + " does not exist yet", true);
        return s.get(0).subnetId();
    }

    private String image(Ec2Client ec2) {
        String img = image;
        if (img != null) return img;
        List<Image> images = AwsErrors.call("ec2:DescribeImages", () -> ec2.describeImages(b -> b.owners("amazon")
            .filters(NetworkKind.filter("name", "Deep Learning*"), NetworkKind.filter("state", "available"))).images());
        img = images.stream().max(Comparator.comparing(i -> String.valueOf(i.creationDate()))).map(Image::imageId)
            .orElseThrow(() -> new DriverException("no Amazon Deep Learning AMI found in this region", false));
        image = img;
        return img;
    }

    @Override
    public io.mlctl.spec.ResourceType type() {
        return io.mlctl.spec.ResourceType.INSTANCE;
    }

    @Override
    public io.mlctl.provider.ResourceRules rules() {
        return new io.mlctl.provider.ResourceRules(java.util.Set.of("region", "subnet", "spot", "accelerator"));
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
        Map<String, Object> a = d.attributes();
        String subnet = subnetId(c.ec2, env, (String) a.get("subnet"), d.address());
        String name = AwsKind.physicalName(env, d.address().name());
        String ami = image(c.ec2);
        int disk = ((Number) a.getOrDefault("diskGb", 100L)).intValue();
        // RunInstances dedups on ClientToken (up to 64 ASCII characters).
        String clientToken = Hashing.sha256Text(token).substring(0, 64);
        Instance i = AwsErrors.call("ec2:RunInstances " + name, () -> c.ec2.runInstances(b -> {
            b.imageId(ami).instanceType(InstanceType.fromValue((String) a.get("machineType"))).minCount(1).maxCount(1)
                .subnetId(subnet).clientToken(clientToken)
                .blockDeviceMappings(m -> m.deviceName("/dev/xvda").ebs(e -> e.volumeSize(disk).volumeType("gp3").deleteOnTermination(true)))
                .tagSpecifications(NetworkKind.spec(ResourceType.INSTANCE, tags, name), NetworkKind.spec(ResourceType.VOLUME, tags, name));
            if (Boolean.TRUE.equals(a.get("spot"))) b.instanceMarketOptions(o -> o.marketType(MarketType.SPOT));
            if (a.get("identity") != null) b.iamInstanceProfile(p -> p.name(AwsKind.physicalName(env, (String) a.get("identity"))));
        }).instances().get(0));
        return new ObservedResource(d.address(), i.instanceId(), a, tags);
    }

    @Override
    public ObservedResource update(AwsClients c, Environment env, ObservedResource current, ResourceSpec d,
                                   java.util.List<io.mlctl.plan.AttributeChange> changes) {
        Ec2Client ec2 = c.ec2;
        String id = current.cloudId();
        Map<String, Object> want = d.attributes();
        Map<String, Object> have = current.attributes();
        NetworkKind.retag(ec2, id, have, want);
        if (!want.get("machineType").equals(have.get("machineType"))) {
            // The instance type changes only while stopped.
            AwsErrors.run("ec2:StopInstances " + id, () -> ec2.stopInstances(b -> b.instanceIds(id)));
            AwsErrors.run("ec2:wait stopped " + id, () -> ec2.waiter().waitUntilInstanceStopped(b -> b.instanceIds(id),
                w -> w.waitTimeout(Duration.ofMinutes(10))));
            AwsErrors.run("ec2:ModifyInstanceAttribute " + id, () -> ec2.modifyInstanceAttribute(b -> b.instanceId(id)
                .instanceType(v -> v.value((String) want.get("machineType")))));
            AwsErrors.run("ec2:StartInstances " + id, () -> ec2.startInstances(b -> b.instanceIds(id)));
        }
        if (!java.util.Objects.equals(want.get("identity"), have.get("identity"))) {
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
        if (!java.util.Objects.equals(want.get("diskGb"), have.get("diskGb"))) {
            int size = ((Number) want.get("diskGb")).intValue();
            List<Volume> vols = AwsErrors.call("ec2:DescribeVolumes " + id, () -> ec2.describeVolumes(b -> b
                .filters(NetworkKind.filter("attachment.instance-id", id))).volumes());
            if (!vols.isEmpty() && vols.get(0).size() > size) {
                throw new DriverException(d.address() + ": an EBS volume cannot shrink (" + vols.get(0).size() + " GB to " + size + " GB)", false);
            }
            for (Volume v : vols) AwsErrors.run("ec2:ModifyVolume " + v.volumeId(), () -> ec2.modifyVolume(b -> b.volumeId(v.volumeId()).size(size)));
        }
        return new ObservedResource(d.address(), id, want, current.tags());
    }

    @Override
    public void delete(AwsClients c, Environment env, ObservedResource current) {
        String id = current.cloudId();
        List<Instance> found;
        try {
            found = c.ec2.describeInstances(b -> b.instanceIds(id)).reservations().stream().flatMap(r -> r.instances().stream()).toList();
        } catch (SdkException e) {
            if (AwsErrors.is(e, "InvalidInstanceID.NotFound")) return;
            throw AwsErrors.translate("ec2:DescribeInstances " + id, e);
        }
        if (found.isEmpty() || "terminated".equals(found.get(0).state().nameAsString())) return;
        if (!current.address().equals(Ownership.ownedAddress(NetworkKind.tagMap(found.get(0).tags()), env.name()).orElse(null))) {
            throw new DriverException(current.address() + ": instance " + id + " is not owned by environment " + env.name() + "; refusing to delete it", false);
        }
        AwsErrors.run("ec2:TerminateInstances " + id, () -> c.ec2.terminateInstances(b -> b.instanceIds(id)));
        // The network it sits in can only go once it is gone.
        AwsErrors.run("ec2:wait terminated " + id, () -> c.ec2.waiter().waitUntilInstanceTerminated(b -> b.instanceIds(id),
            w -> w.waitTimeout(Duration.ofMinutes(10))));
    }
}
