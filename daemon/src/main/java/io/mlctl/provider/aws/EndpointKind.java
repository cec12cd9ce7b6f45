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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.applicationautoscaling.model.ScalableDimension;
import software.amazon.awssdk.services.applicationautoscaling.model.ScalableTarget;
import software.amazon.awssdk.services.applicationautoscaling.model.ServiceNamespace;
import software.amazon.awssdk.services.sagemaker.model.DescribeEndpointConfigResponse;
import software.amazon.awssdk.services.sagemaker.model.DescribeEndpointResponse;
import software.amazon.awssdk.services.sagemaker.model.DescribeModelResponse;
import software.amazon.awssdk.services.sagemaker.model.EndpointConfigSummary;
import software.amazon.awssdk.services.sagemaker.model.EndpointStatus;
import software.amazon.awssdk.services.sagemaker.model.EndpointSummary;
import software.amazon.awssdk.services.sagemaker.model.ListEndpointsResponse;
import software.amazon.awssdk.services.sagemaker.model.ProductionVariant;
import software.amazon.awssdk.services.sagemaker.model.Tag;

/**
 * inference_endpoint → SageMaker Model + EndpointConfig (named {@code <env>-<name>-<hash>} by a
 * hash of what they hold, since both are immutable) + Endpoint {@code <env>-<name>}, the initial
 * instance count being minReplicas, and min/max replicas registered with Application Auto Scaling.
 * The container is the spec's {@code image}, or the default image of its {@code framework} in the
 * region (the GPU build on GPU machine types).
 */
final class EndpointKind implements AwsKind {
    static final String VARIANT = "AllTraffic";
    /** Set when the image is a framework's default, so the framework (not the image URI) is read back. */
    static final String FRAMEWORK_TAG = "mlctl-framework";
    private static final Set<String> REVISION_FIELDS = Set.of("modelUri", "machineType", "identity", "image", "framework");
    /** AWS Deep Learning Containers' registry in every region of the catalog. */
    private static final String DLC_ACCOUNT = "763104351884";
    /** The SageMaker scikit-learn container has a registry per region (sagemaker-python-sdk image_uri_config/sklearn.json). */
    private static final Map<String, String> SKLEARN_ACCOUNT = Map.of("us-east-1", "683313688378", "us-east-2", "257758044811",
        "us-west-1", "746614075791", "us-west-2", "246618743249", "eu-west-1", "141502667606", "eu-central-1", "492215442770",
        "ap-southeast-1", "121021644041", "ap-northeast-1", "354813040037");
    private final Catalog.ProviderCatalog catalog;
    private final Waiter waiter;

    EndpointKind(Catalog.ProviderCatalog catalog) {
        this(catalog, Waiter.of(Duration.ofSeconds(15), Duration.ofMinutes(45)));
    }

    EndpointKind(Catalog.ProviderCatalog catalog, Waiter waiter) {
        this.catalog = catalog;
        this.waiter = waiter;
    }

    /** The documented default serving image of a framework in a region, CPU or GPU build. */
    static String defaultImage(String framework, String region, boolean gpu) {
        String dlc = DLC_ACCOUNT + ".dkr.ecr." + region + ".amazonaws.com/";
        return switch (framework) {
            case "pytorch" -> dlc + (gpu ? "pytorch-inference:2.1.0-gpu-py310-cu118-ubuntu20.04-sagemaker"
                : "pytorch-inference:2.1.0-cpu-py310-ubuntu20.04-sagemaker");
            case "tensorflow" -> dlc + (gpu ? "tensorflow-inference:2.14.1-gpu" : "tensorflow-inference:2.14.1-cpu");
            case "huggingface" -> dlc + (gpu ? "huggingface-pytorch-inference:2.1.0-transformers4.37.0-gpu-py310-cu118-ubuntu20.04"
                : "huggingface-pytorch-inference:2.1.0-transformers4.37.0-cpu-py310-ubuntu22.04");
            case "sklearn" -> {
                String account = SKLEARN_ACCOUNT.get(region);
                if (account == null) throw new DriverException("no scikit-learn image is known for region " + region + "; give the endpoint an image", false);
                // Validation refuses sklearn on GPU machine types: this image has no GPU build.
                yield account + ".dkr.ecr." + region + ".amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3";
            }
            default -> throw new DriverException("unknown framework '" + framework + "'", false);
        };
    }

    private boolean gpu(String machineType) {
        Catalog.MachineType m = catalog.endpointMachineTypes().get(machineType);
        return m != null && m.gpus() > 0;
    }

    /** The image the endpoint's model runs: the spec's, else its framework's default. */
    String image(Environment env, Map<String, Object> a) {
        if (a.get("image") instanceof String image) return image;
        return defaultImage(String.valueOf(a.getOrDefault("framework", "pytorch")), env.region(), gpu((String) a.get("machineType")));
    }

    static String resourceId(String endpoint) {
        return "endpoint/" + endpoint + "/variant/" + VARIANT;
    }

    @Override
    public ResourceType type() {
        return ResourceType.INFERENCE_ENDPOINT;
    }

    @Override
    public ResourceRules rules() {
        // A Failed endpoint cannot be updated (SageMaker refuses): it shows as drift in "status" and is replaced.
        return new ResourceRules(Set.of("region", "status"));
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
            Map<String, String> tags = tags(c, e.endpointName(), e.endpointArn());
            Optional<Address> a = Ownership.ownedAddress(tags, env.name());
            if (a.isEmpty() || a.get().type() != ResourceType.INFERENCE_ENDPOINT) continue;
            items.add(observed(c, env, a.get(), e.endpointName(), e.endpointArn(), tags, Optional.ofNullable(scaling.get(resourceId(e.endpointName())))));
        }
        return new Page(items, Optional.ofNullable(r.nextToken()).filter(t -> !t.isEmpty()));
    }

    /**
     * An endpoint as listed (and as read for an import) at {@code address}: what its live config and model hold, and its
     * scaling limits. One that is not (yet) that address's carries no record of a framework: its image reads as the spec's
     * framework when it is that framework's default image, as it would on an endpoint mlctl made.
     */
    private ObservedResource observed(AwsClients c, Environment env, Address address, String name, String arn, Map<String, String> tags,
                                      Optional<ScalableTarget> scaling) {
        String prefix = env.name() + "-";
        DescribeEndpointResponse ep = AwsErrors.call("sagemaker:DescribeEndpoint " + name, () -> c.sagemaker.describeEndpoint(b -> b.endpointName(name)));
        DescribeEndpointConfigResponse cfg = AwsErrors.call("sagemaker:DescribeEndpointConfig " + ep.endpointConfigName(),
            () -> c.sagemaker.describeEndpointConfig(b -> b.endpointConfigName(ep.endpointConfigName())));
        ProductionVariant v = cfg.productionVariants().get(0);
        DescribeModelResponse model = AwsErrors.call("sagemaker:DescribeModel " + v.modelName(),
            () -> c.sagemaker.describeModel(b -> b.modelName(v.modelName())));
        Map<String, Object> attrs = new TreeMap<>();
        if (ep.endpointStatus() == software.amazon.awssdk.services.sagemaker.model.EndpointStatus.FAILED) {
            attrs.put("status", "Failed" + (ep.failureReason() == null ? "" : ": " + ep.failureReason()));
        }
        attrs.put("modelUri", model.primaryContainer().modelDataUrl());
        attrs.put("machineType", v.instanceTypeAsString());
        String image = String.valueOf(model.primaryContainer().image());
        String framework = tags.get(FRAMEWORK_TAG);
        boolean importing = TagMarker.INSTANCE.owner(tags, env.name()).filter(address::equals).isEmpty();
        if (framework == null && importing) {
            framework = env.resource(address).map(ResourceSpec::attributes).filter(x -> x.get("framework") instanceof String)
                .map(x -> (String) x.get("framework")).orElse(null);
        }
        if (framework != null && image.equals(defaultImageOrEmpty(framework, env.region(), gpu(v.instanceTypeAsString())))) {
            attrs.put("framework", framework);
        } else {
            attrs.put("image", image);
        }
        attrs.put("minReplicas", (long) scaling.map(ScalableTarget::minCapacity).orElse(v.initialInstanceCount()));
        attrs.put("maxReplicas", (long) scaling.map(ScalableTarget::maxCapacity).orElse(v.initialInstanceCount()));
        String role = model.executionRoleArn() == null ? "" : model.executionRoleArn().substring(model.executionRoleArn().lastIndexOf('/') + 1);
        if (role.startsWith(prefix)) attrs.put("identity", role.substring(prefix.length()));
        Map<String, String> labels = new TreeMap<>(tags);
        labels.remove(FRAMEWORK_TAG);
        return new ObservedResource(address, arn, AwsKind.attrs(env, attrs, labels), tags);
    }

    /** SageMaker endpoint names: letters, digits and single or repeated hyphens between them, up to 63. */
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");

    /** By endpoint name, which must be the one mlctl gives the address: grants reach the endpoint by it. */
    @Override
    public Optional<ObservedResource> read(AwsClients c, Environment env, Address address, String id) {
        String name = AwsKind.physicalName(env, address.name());
        if (!NAME.matcher(id).matches() || id.length() > 63) {
            throw AwsKind.malformed(address, id, "a SageMaker endpoint name", "its name (" + name + ")");
        }
        Optional<DescribeEndpointResponse> ep = describe(c, id);
        if (ep.isEmpty()) return Optional.empty();
        if (!id.equals(name)) throw AwsKind.misnamed(env, address, "SageMaker endpoint", id);
        Optional<ScalableTarget> scaling = AwsErrors.call("application-autoscaling:DescribeScalableTargets " + id, () -> c.autoscaling
            .describeScalableTargets(b -> b.serviceNamespace(ServiceNamespace.SAGEMAKER).resourceIds(resourceId(id))
                .scalableDimension(ScalableDimension.SAGEMAKER_VARIANT_DESIRED_INSTANCE_COUNT)).scalableTargets()).stream().findFirst();
        return Optional.of(observed(c, env, address, id, ep.get().endpointArn(), tags(c, id, ep.get().endpointArn()), scaling));
    }

    /** The URL that InvokeEndpoint answers on (SageMaker Runtime, signed with SigV4 as service "sagemaker"). */
    @Override
    public Map<String, String> outputs(AwsClients c, Environment env, ObservedResource resource) {
        String domain = env.region().startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
        return Map.of("invokeUrl", "https://runtime.sagemaker." + env.region() + "." + domain + "/endpoints/"
            + AwsKind.physicalName(env, resource.address().name()) + "/invocations");
    }

    private static String defaultImageOrEmpty(String framework, String region, boolean gpu) {
        try {
            return defaultImage(framework, region, gpu);
        } catch (DriverException e) {
            return "";
        }
    }

    private static Map<String, String> tags(AwsClients c, String name, String arn) {
        Map<String, String> tags = new TreeMap<>();
        AwsErrors.call("sagemaker:ListTags " + name, () -> c.sagemaker.listTags(b -> b.resourceArn(arn)).tags())
            .forEach(t -> tags.put(t.key(), t.value()));
        return tags;
    }

    @Override
    public Optional<Existing> find(AwsClients c, Environment env, Address address, Optional<String> knownCloudId) {
        String name = AwsKind.physicalName(env, address.name());
        Optional<DescribeEndpointResponse> ep = describe(c, name);
        return ep.map(e -> new Existing(e.endpointArn(), "SageMaker endpoint " + name, tags(c, name, e.endpointArn())));
    }

    private static Optional<DescribeEndpointResponse> describe(AwsClients c, String name) {
        try {
            return Optional.of(c.sagemaker.describeEndpoint(b -> b.endpointName(name)));
        } catch (SdkException e) {
            if (notFound(e)) return Optional.empty();
            throw AwsErrors.translate("sagemaker:DescribeEndpoint " + name, e);
        }
    }

    /** Model and config names: the endpoint's name plus a hash of what they contain. */
    String revision(Environment env, ResourceSpec d) {
        Map<String, Object> a = d.attributes();
        String h = Hashing.sha256(Map.of("modelUri", a.get("modelUri"), "machineType", a.get("machineType"),
            "identity", String.valueOf(a.get("identity")), "image", image(env, a))).substring(0, 8);
        return AwsKind.physicalName(env, d.address().name()) + "-" + h;
    }

    private static Pattern revisionPattern(String endpoint) {
        return Pattern.compile(Pattern.quote(endpoint) + "-[0-9a-f]{8}");
    }

    private static List<Tag> smTags(Map<String, String> tags) {
        return tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
    }

    private Map<String, String> endpointTags(Map<String, String> marker, ResourceSpec d) {
        Map<String, String> tags = AwsKind.allTags(marker, d.attributes());
        if (!d.attributes().containsKey("image")) tags.put(FRAMEWORK_TAG, String.valueOf(d.attributes().getOrDefault("framework", "pytorch")));
        return tags;
    }

    /**
     * The model and endpoint config of this revision, each made once (SageMaker takes no client
     * token, so a name that already exists is checked to be this endpoint's own before it is used).
     */
    private String ensureRevision(AwsClients c, Environment env, ResourceSpec d, Map<String, String> marker) {
        Map<String, Object> a = d.attributes();
        String rev = revision(env, d);
        if (a.get("identity") == null) {
            throw new DriverException(d.address() + ": a SageMaker endpoint needs an execution role; give it an identity", false);
        }
        List<Tag> tags = smTags(AwsKind.allTags(marker, a));
        String role = AwsErrors.call("iam:GetRole", () -> c.iam.getRole(b -> b.roleName(AwsKind.physicalName(env, (String) a.get("identity")))).role().arn());
        String image = image(env, a);
        try {
            c.sagemakerOnce.createModel(b -> b.modelName(rev).executionRoleArn(role).tags(tags)
                .primaryContainer(pc -> pc.image(image).modelDataUrl((String) a.get("modelUri"))));
        } catch (SdkException e) {
            if (!alreadyExists(e)) throw AwsErrors.translate("sagemaker:CreateModel " + rev, e);
            String arn = AwsErrors.call("sagemaker:DescribeModel " + rev, () -> c.sagemaker.describeModel(b -> b.modelName(rev)).modelArn());
            requireOwn(env, d.address(), "SageMaker model " + rev, tags(c, rev, arn));
        }
        int initial = Math.max(1, ((Number) a.get("minReplicas")).intValue());
        try {
            c.sagemakerOnce.createEndpointConfig(b -> b.endpointConfigName(rev).tags(tags).productionVariants(ProductionVariant.builder()
                .variantName(VARIANT).modelName(rev).initialInstanceCount(initial).instanceType((String) a.get("machineType")).build()));
        } catch (SdkException e) {
            if (!alreadyExists(e)) throw AwsErrors.translate("sagemaker:CreateEndpointConfig " + rev, e);
            String arn = AwsErrors.call("sagemaker:DescribeEndpointConfig " + rev,
                () -> c.sagemaker.describeEndpointConfig(b -> b.endpointConfigName(rev)).endpointConfigArn());
            requireOwn(env, d.address(), "SageMaker endpoint config " + rev, tags(c, rev, arn));
        }
        return rev;
    }

    /** A sub-resource found under the name this endpoint would use must carry this endpoint's marker. */
    private static void requireOwn(Environment env, Address address, String what, Map<String, String> tags) {
        if (TagMarker.INSTANCE.owner(tags, env.name()).filter(address::equals).isEmpty()) {
            throw new NotOwnedException(address + ": " + what + " already exists and is " + TagMarker.INSTANCE.describeOwner(tags)
                + "; mlctl does not take over resources it did not create (rename it in the spec)");
        }
    }

    private static boolean alreadyExists(SdkException e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        return m.contains("already exist") || m.contains("Cannot create already existing");
    }

    @Override
    public String create(AwsClients c, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        String name = AwsKind.physicalName(env, d.address().name());
        String rev = ensureRevision(c, env, d, marker);
        // No client token: a lost answer is found by name (with its marker) on the engine's retry, never sent twice blindly.
        return AwsErrors.call("sagemaker:CreateEndpoint " + name, () -> c.sagemakerOnce.createEndpoint(b -> b.endpointName(name)
            .endpointConfigName(rev).tags(smTags(endpointTags(marker, d)))).endpointArn());
    }

    @Override
    public ObservedResource complete(AwsClients c, Environment env, String cloudId, ResourceSpec d, Map<String, String> marker) {
        String name = AwsKind.physicalName(env, d.address().name());
        Map<String, String> tags = endpointTags(marker, d);
        Map<String, String> have = tags(c, name, cloudId);
        Map<String, String> missing = new TreeMap<>();
        tags.forEach((k, v) -> {
            if (!v.equals(have.get(k))) missing.put(k, v);
        });
        // An adopted pending create carries no marker yet.
        if (!missing.isEmpty()) AwsErrors.run("sagemaker:AddTags " + name, () -> c.sagemaker.addTags(b -> b.resourceArn(cloudId).tags(smTags(missing))));
        waitInService(c, name);
        scale(c, name, d);
        return new ObservedResource(d.address(), cloudId, d.attributes(), tags);
    }

    /** Waits until the endpoint serves; {@code Failed} is an error with SageMaker's reason, once. */
    private DescribeEndpointResponse waitInService(AwsClients c, String name) {
        DescribeEndpointResponse[] last = new DescribeEndpointResponse[1];
        waiter.until("SageMaker endpoint " + name, () -> {
            DescribeEndpointResponse ep = AwsErrors.call("sagemaker:DescribeEndpoint " + name, () -> c.sagemaker.describeEndpoint(b -> b.endpointName(name)));
            last[0] = ep;
            EndpointStatus s = ep.endpointStatus();
            if (s == EndpointStatus.IN_SERVICE) return Waiter.Status.ready(ep.endpointStatusAsString());
            if (s == EndpointStatus.FAILED) return Waiter.Status.failed(ep.endpointStatusAsString(), String.valueOf(ep.failureReason()));
            return Waiter.Status.pending(ep.endpointStatusAsString());
        });
        return last[0];
    }

    private static void scale(AwsClients c, String name, ResourceSpec d) {
        int min = Math.max(1, ((Number) d.attributes().get("minReplicas")).intValue());
        int max = Math.max(min, ((Number) d.attributes().get("maxReplicas")).intValue());
        AwsErrors.run("application-autoscaling:RegisterScalableTarget " + name, () -> c.autoscaling.registerScalableTarget(b -> b
            .serviceNamespace(ServiceNamespace.SAGEMAKER).resourceId(resourceId(name))
            .scalableDimension(ScalableDimension.SAGEMAKER_VARIANT_DESIRED_INSTANCE_COUNT).minCapacity(min).maxCapacity(max)));
    }

    @Override
    public ObservedResource update(AwsClients c, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        String name = AwsKind.physicalName(env, d.address().name());
        Map<String, String> marker = TagMarker.INSTANCE.marker(env.name(), d.address());
        boolean revision = false;
        boolean scaling = false;
        boolean tags = false;
        for (AttributeChange ch : changes) {
            String top = ch.path().split("[.\\[]", 2)[0];
            if (REVISION_FIELDS.contains(top)) revision = true;
            else if (top.equals("minReplicas") || top.equals("maxReplicas")) scaling = true;
            else if (top.equals("tags")) tags = true;
        }
        if (tags) {
            // The cloud's tags, not the plan's: only the marker and mlctl's labels are written or removed.
            Map<String, String> cloud = tags(c, name, current.cloudId());
            // An import: its replica limits registered as a created endpoint's are, before its marker says it is done.
            if (TagMarker.INSTANCE.owner(cloud, env.name()).filter(d.address()::equals).isEmpty()) scale(c, name, d);
            Map<String, String> set = new TreeMap<>();
            Set<String> remove = new java.util.TreeSet<>();
            AwsKind.tagSync(cloud, marker, d.attributes()).ifPresent(ch -> {
                set.putAll(ch.set());
                remove.addAll(ch.remove());
            });
            // An imported endpoint gets, with its marker, the framework record a created one carries (see observed()).
            if (!d.attributes().containsKey("image")) {
                String fw = String.valueOf(d.attributes().getOrDefault("framework", "pytorch"));
                if (!fw.equals(cloud.get(FRAMEWORK_TAG))) set.put(FRAMEWORK_TAG, fw);
            }
            if (!remove.isEmpty()) AwsErrors.run("sagemaker:DeleteTags " + name, () -> c.sagemaker.deleteTags(b -> b.resourceArn(current.cloudId()).tagKeys(remove)));
            if (!set.isEmpty()) AwsErrors.run("sagemaker:AddTags " + name, () -> c.sagemaker.addTags(b -> b.resourceArn(current.cloudId()).tags(smTags(set))));
        }
        if (revision) switchRevision(c, env, d, name, current.cloudId(), marker);
        if (scaling || revision) scale(c, name, d);
        return new ObservedResource(d.address(), current.cloudId(), d.attributes(), current.tags());
    }

    /**
     * Points the endpoint at the new revision. Safe to retry at any point: the live config is read
     * from SageMaker each time, and an old revision is deleted only once the endpoint serves the
     * new one, never the one in use.
     */
    private void switchRevision(AwsClients c, Environment env, ResourceSpec d, String name, String arn, Map<String, String> marker) {
        String rev = ensureRevision(c, env, d, marker);
        DescribeEndpointResponse ep = waitInService(c, name); // an update a lost answer left running finishes first
        if (!rev.equals(ep.endpointConfigName())) {
            AwsErrors.run("sagemaker:UpdateEndpoint " + name, () -> c.sagemaker.updateEndpoint(b -> b.endpointName(name).endpointConfigName(rev)));
            ep = waitInService(c, name);
        }
        if (!rev.equals(ep.endpointConfigName())) {
            // SageMaker rolled back: the endpoint is InService on its old config.
            throw new DriverException("SageMaker endpoint " + name + " could not switch to " + rev + " and still serves " + ep.endpointConfigName()
                + (ep.failureReason() == null ? "" : ": " + ep.failureReason()), false);
        }
        if (d.attributes().containsKey("image")) {
            AwsErrors.run("sagemaker:DeleteTags " + name, () -> c.sagemaker.deleteTags(b -> b.resourceArn(arn).tagKeys(FRAMEWORK_TAG)));
        } else {
            String fw = String.valueOf(d.attributes().getOrDefault("framework", "pytorch"));
            AwsErrors.run("sagemaker:AddTags " + name, () -> c.sagemaker.addTags(b -> b.resourceArn(arn)
                .tags(Tag.builder().key(FRAMEWORK_TAG).value(fw).build())));
        }
        deleteRevisions(c, env, d.address(), name, rev);
    }

    /** Deletes this endpoint's own earlier configs and models, keeping {@code inUse}. */
    private static void deleteRevisions(AwsClients c, Environment env, Address address, String endpoint, String inUse) {
        Pattern mine = revisionPattern(endpoint);
        List<EndpointConfigSummary> configs = new ArrayList<>();
        AwsErrors.run("sagemaker:ListEndpointConfigs", () -> c.sagemaker.listEndpointConfigsPaginator(b -> b.nameContains(endpoint))
            .forEach(p -> configs.addAll(p.endpointConfigs())));
        for (EndpointConfigSummary cfg : configs) {
            String rev = cfg.endpointConfigName();
            if (rev.equals(inUse) || !mine.matcher(rev).matches()) continue;
            if (TagMarker.INSTANCE.owner(tags(c, rev, cfg.endpointConfigArn()), env.name()).filter(address::equals).isEmpty()) continue;
            deleteRevision(c, rev);
        }
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
        Optional<DescribeEndpointResponse> ep = describe(c, name);
        try {
            c.autoscaling.deregisterScalableTarget(b -> b.serviceNamespace(ServiceNamespace.SAGEMAKER).resourceId(resourceId(name))
                .scalableDimension(ScalableDimension.SAGEMAKER_VARIANT_DESIRED_INSTANCE_COUNT));
        } catch (SdkException e) {
            if (!AwsErrors.is(e, "ObjectNotFoundException")) throw AwsErrors.translate("application-autoscaling:DeregisterScalableTarget " + name, e);
        }
        if (ep.isPresent()) {
            try {
                c.sagemaker.deleteEndpoint(b -> b.endpointName(name));
            } catch (SdkException e) {
                if (!notFound(e)) throw AwsErrors.translate("sagemaker:DeleteEndpoint " + name, e);
            }
        }
        deleteRevisions(c, env, current.address(), name, "");
    }
}
