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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.applicationautoscaling.model.ScalableDimension;
import software.amazon.awssdk.services.applicationautoscaling.model.ScalableTarget;
import software.amazon.awssdk.services.applicationautoscaling.model.ServiceNamespace;
import software.amazon.awssdk.services.sagemaker.model.DescribeEndpointConfigResponse;
import software.amazon.awssdk.services.sagemaker.model.DescribeEndpointResponse;
import software.amazon.awssdk.services.sagemaker.model.DescribeModelResponse;
import software.amazon.awssdk.services.sagemaker.model.EndpointSummary;
import software.amazon.awssdk.services.sagemaker.model.ListEndpointsResponse;
import software.amazon.awssdk.services.sagemaker.model.ProductionVariant;
import software.amazon.awssdk.services.sagemaker.model.Tag;

/**
 * inference_endpoint → SageMaker Model + EndpointConfig (named by a hash of what they hold, since
 * both are immutable) + Endpoint {@code <env>-<name>}, the initial instance count being minReplicas,
 * and min/max replicas registered with Application Auto Scaling.
 */
final class EndpointKind implements AwsKind {
    static final String VARIANT = "AllTraffic";

    static String image(String region) {
        // AWS's prebuilt PyTorch inference container, which serves a model.tar.gz from modelDataUrl.
        return "763104351884.dkr.ecr." + region + ".amazonaws.com/pytorch-inference:2.1.0-cpu-py310-ubuntu20.04-sagemaker";
    }

    static String resourceId(String endpoint) {
        return "endpoint/" + endpoint + "/variant/" + VARIANT;
    }

    @Override
    public Page list(AwsClients c, Environment env, Optional<String> pageToken) {
        String prefix = env.name() + "-";
        ListEndpointsResponse r = AwsErrors.call("sagemaker:ListEndpoints", () -> c.sagemaker.listEndpoints(b -> b.nameContains(prefix)
            .maxResults(100).nextToken(pageToken.orElse(null))));
        List<EndpointSummary> mine = r.endpoints().stream().filter(e -> e.endpointName().startsWith(prefix)).toList();
        Map<String, ScalableTarget> scaling = new HashMap<>();
        if (!mine.isEmpty()) {
            List<String> ids = mine.stream().map(e -> resourceId(e.endpointName())).toList();
            AwsErrors.run("application-autoscaling:DescribeScalableTargets", () -> c.autoscaling.describeScalableTargetsPaginator(b -> b
                .serviceNamespace(ServiceNamespace.SAGEMAKER).resourceIds(ids).scalableDimension(ScalableDimension.SAGEMAKER_VARIANT_DESIRED_INSTANCE_COUNT))
                .forEach(p -> p.scalableTargets().forEach(t -> scaling.put(t.resourceId(), t))));
        }
        List<ObservedResource> items = new ArrayList<>();
        for (EndpointSummary e : mine) {
            Map<String, String> tags = new TreeMap<>();
            AwsErrors.call("sagemaker:ListTags " + e.endpointName(), () -> c.sagemaker.listTags(b -> b.resourceArn(e.endpointArn())).tags())
                .forEach(t -> tags.put(t.key(), t.value()));
            Optional<Address> a = Ownership.ownedAddress(tags, env.name());
            if (a.isEmpty() || a.get().type() != io.mlctl.spec.ResourceType.INFERENCE_ENDPOINT) continue;
            DescribeEndpointResponse ep = AwsErrors.call("sagemaker:DescribeEndpoint " + e.endpointName(),
                () -> c.sagemaker.describeEndpoint(b -> b.endpointName(e.endpointName())));
            DescribeEndpointConfigResponse cfg = AwsErrors.call("sagemaker:DescribeEndpointConfig " + ep.endpointConfigName(),
                () -> c.sagemaker.describeEndpointConfig(b -> b.endpointConfigName(ep.endpointConfigName())));
            ProductionVariant v = cfg.productionVariants().get(0);
            DescribeModelResponse model = AwsErrors.call("sagemaker:DescribeModel " + v.modelName(),
                () -> c.sagemaker.describeModel(b -> b.modelName(v.modelName())));
            Map<String, Object> attrs = new TreeMap<>();
            attrs.put("modelUri", model.primaryContainer().modelDataUrl());
            attrs.put("machineType", v.instanceTypeAsString());
            ScalableTarget t = scaling.get(resourceId(e.endpointName()));
            attrs.put("minReplicas", (long) (t != null ? t.minCapacity() : v.initialInstanceCount()));
            attrs.put("maxReplicas", (long) (t != null ? t.maxCapacity() : v.initialInstanceCount()));
            String role = model.executionRoleArn() == null ? "" : model.executionRoleArn().substring(model.executionRoleArn().lastIndexOf('/') + 1);
            if (role.startsWith(prefix)) attrs.put("identity", role.substring(prefix.length()));
            items.add(new ObservedResource(a.get(), e.endpointArn(), AwsKind.attrs(env, attrs, tags), tags));
        }
        return new Page(items, Optional.ofNullable(r.nextToken()).filter(t -> !t.isEmpty()));
    }

    /** Model and config names: the endpoint's name plus a hash of what they contain. */
    static String revision(Environment env, ResourceSpec d) {
        Map<String, Object> a = d.attributes();
        String h = Hashing.sha256(Map.of("modelUri", a.get("modelUri"), "machineType", a.get("machineType"),
            "identity", String.valueOf(a.get("identity")))).substring(0, 8);
        return AwsKind.physicalName(env, d.address().name()) + "-" + h;
    }

    private void ensureRevision(AwsClients c, Environment env, ResourceSpec d, List<Tag> tags) {
        Map<String, Object> a = d.attributes();
        String rev = revision(env, d);
        if (a.get("identity") == null) {
            throw new DriverException(d.address() + ": a SageMaker endpoint needs an execution role; give it an identity", false);
        }
        String role = AwsErrors.call("iam:GetRole", () -> c.iam.getRole(b -> b.roleName(AwsKind.physicalName(env, (String) a.get("identity")))).role().arn());
        try {
            c.sagemaker.createModel(b -> b.modelName(rev).executionRoleArn(role).tags(tags)
                .primaryContainer(pc -> pc.image(image(env.region())).modelDataUrl((String) a.get("modelUri"))));
        } catch (SdkException e) {
            if (!alreadyExists(e)) throw AwsErrors.translate("sagemaker:CreateModel " + rev, e);
        }
        int initial = Math.max(1, ((Number) a.get("minReplicas")).intValue());
        try {
            c.sagemaker.createEndpointConfig(b -> b.endpointConfigName(rev).tags(tags).productionVariants(ProductionVariant.builder()
                .variantName(VARIANT).modelName(rev).initialInstanceCount(initial).instanceType((String) a.get("machineType")).build()));
        } catch (SdkException e) {
            if (!alreadyExists(e)) throw AwsErrors.translate("sagemaker:CreateEndpointConfig " + rev, e);
        }
    }

    private static boolean alreadyExists(SdkException e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        return m.contains("already exist") || m.contains("Cannot create already existing");
    }

    @Override
    public io.mlctl.spec.ResourceType type() {
        return io.mlctl.spec.ResourceType.INFERENCE_ENDPOINT;
    }

    @Override
    public io.mlctl.provider.ResourceRules rules() {
        return new io.mlctl.provider.ResourceRules(java.util.Set.of("region"));
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
        List<Tag> smTags = tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
        ensureRevision(c, env, d, smTags);
        String arn;
        try {
            arn = c.sagemaker.createEndpoint(b -> b.endpointName(name).endpointConfigName(revision(env, d)).tags(smTags)).endpointArn();
        } catch (SdkException e) {
            if (!alreadyExists(e)) throw AwsErrors.translate("sagemaker:CreateEndpoint " + name, e);
            arn = AwsErrors.call("sagemaker:DescribeEndpoint " + name, () -> c.sagemaker.describeEndpoint(b -> b.endpointName(name)).endpointArn());
        }
        waitInService(c, name);
        scale(c, name, d);
        return new ObservedResource(d.address(), arn, d.attributes(), tags);
    }

    private static void waitInService(AwsClients c, String name) {
        AwsErrors.run("sagemaker:wait InService " + name, () -> c.sagemaker.waiter().waitUntilEndpointInService(b -> b.endpointName(name),
            w -> w.waitTimeout(Duration.ofMinutes(30))));
    }

    private static void scale(AwsClients c, String name, ResourceSpec d) {
        int min = Math.max(1, ((Number) d.attributes().get("minReplicas")).intValue());
        int max = Math.max(min, ((Number) d.attributes().get("maxReplicas")).intValue());
        AwsErrors.run("application-autoscaling:RegisterScalableTarget " + name, () -> c.autoscaling.registerScalableTarget(b -> b
            .serviceNamespace(ServiceNamespace.SAGEMAKER).resourceId(resourceId(name))
            .scalableDimension(ScalableDimension.SAGEMAKER_VARIANT_DESIRED_INSTANCE_COUNT).minCapacity(min).maxCapacity(max)));
    }

    @Override
    public ObservedResource update(AwsClients c, Environment env, ObservedResource current, ResourceSpec d,
                                   java.util.List<io.mlctl.plan.AttributeChange> changes) {
        String name = AwsKind.physicalName(env, d.address().name());
        Map<String, Object> want = d.attributes();
        Map<String, Object> have = current.attributes();
        AwsKind.tagChange(have, want).ifPresent(ch -> {
            if (!ch.getKey().isEmpty()) {
                List<Tag> set = ch.getKey().entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
                AwsErrors.run("sagemaker:AddTags " + name, () -> c.sagemaker.addTags(b -> b.resourceArn(current.cloudId()).tags(set)));
            }
            if (!ch.getValue().isEmpty()) AwsErrors.run("sagemaker:DeleteTags " + name, () -> c.sagemaker.deleteTags(b -> b.resourceArn(current.cloudId()).tagKeys(ch.getValue())));
        });
        boolean revisionChanged = !want.get("modelUri").equals(have.get("modelUri")) || !want.get("machineType").equals(have.get("machineType"))
            || !java.util.Objects.equals(want.get("identity"), have.get("identity"));
        if (revisionChanged) {
            List<Tag> smTags = current.tags().entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
            ensureRevision(c, env, d, smTags);
            String old = AwsErrors.call("sagemaker:DescribeEndpoint " + name, () -> c.sagemaker.describeEndpoint(b -> b.endpointName(name)).endpointConfigName());
            AwsErrors.run("sagemaker:UpdateEndpoint " + name, () -> c.sagemaker.updateEndpoint(b -> b.endpointName(name).endpointConfigName(revision(env, d))));
            waitInService(c, name);
            deleteRevision(c, old);
        }
        scale(c, name, d);
        return new ObservedResource(d.address(), current.cloudId(), want, current.tags());
    }

    private static void deleteRevision(AwsClients c, String rev) {
        try {
            c.sagemaker.deleteEndpointConfig(b -> b.endpointConfigName(rev));
        } catch (SdkException e) {
            if (!notFound(e)) throw AwsErrors.translate("sagemaker:DeleteEndpointConfig " + rev, e);
        }
        try {
            c.sagemaker.deleteModel(b -> b.modelName(rev));
        } catch (SdkException e) {
            if (!notFound(e)) throw AwsErrors.translate("sagemaker:DeleteModel " + rev, e);
        }
    }

    private static boolean notFound(SdkException e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        return m.contains("Could not find") || m.contains("does not exist") || AwsErrors.is(e, "ValidationException") && m.contains("find");
    }

    @Override
    public void delete(AwsClients c, Environment env, ObservedResource current) {
        String name = AwsKind.physicalName(env, current.address().name());
        DescribeEndpointResponse ep;
        try {
            ep = c.sagemaker.describeEndpoint(b -> b.endpointName(name));
        } catch (SdkException e) {
            if (notFound(e)) return;
            throw AwsErrors.translate("sagemaker:DescribeEndpoint " + name, e);
        }
        Map<String, String> tags = new TreeMap<>();
        AwsErrors.call("sagemaker:ListTags " + name, () -> c.sagemaker.listTags(b -> b.resourceArn(ep.endpointArn())).tags())
            .forEach(t -> tags.put(t.key(), t.value()));
        if (!current.address().equals(Ownership.ownedAddress(tags, env.name()).orElse(null))) {
            throw new DriverException(current.address() + ": SageMaker endpoint " + name + " is not owned by environment " + env.name() + "; refusing to delete it", false);
        }
        try {
            c.autoscaling.deregisterScalableTarget(b -> b.serviceNamespace(ServiceNamespace.SAGEMAKER).resourceId(resourceId(name))
                .scalableDimension(ScalableDimension.SAGEMAKER_VARIANT_DESIRED_INSTANCE_COUNT));
        } catch (SdkException e) {
            if (!AwsErrors.is(e, "ObjectNotFoundException")) throw AwsErrors.translate("application-autoscaling:DeregisterScalableTarget " + name, e);
        }
        AwsErrors.run("sagemaker:DeleteEndpoint " + name, () -> c.sagemaker.deleteEndpoint(b -> b.endpointName(name)));
        deleteRevision(c, ep.endpointConfigName());
    }
}
