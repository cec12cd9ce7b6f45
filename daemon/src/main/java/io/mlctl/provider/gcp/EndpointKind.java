package io.mlctl.provider.gcp;

import com.google.cloud.aiplatform.v1.AcceleratorType;
import com.google.cloud.aiplatform.v1.CreateEndpointRequest;
import com.google.cloud.aiplatform.v1.DedicatedResources;
import com.google.cloud.aiplatform.v1.DeleteEndpointRequest;
import com.google.cloud.aiplatform.v1.DeleteModelRequest;
import com.google.cloud.aiplatform.v1.DeployModelRequest;
import com.google.cloud.aiplatform.v1.DeployModelResponse;
import com.google.cloud.aiplatform.v1.DeployedModel;
import com.google.cloud.aiplatform.v1.Endpoint;
import com.google.cloud.aiplatform.v1.GetEndpointRequest;
import com.google.cloud.aiplatform.v1.ListEndpointsRequest;
import com.google.cloud.aiplatform.v1.ListEndpointsResponse;
import com.google.cloud.aiplatform.v1.ListModelsRequest;
import com.google.cloud.aiplatform.v1.ListModelsResponse;
import com.google.cloud.aiplatform.v1.MachineSpec;
import com.google.cloud.aiplatform.v1.Model;
import com.google.cloud.aiplatform.v1.ModelContainerSpec;
import com.google.cloud.aiplatform.v1.MutateDeployedModelRequest;
import com.google.cloud.aiplatform.v1.UndeployModelRequest;
import com.google.cloud.aiplatform.v1.UpdateEndpointRequest;
import com.google.cloud.aiplatform.v1.UploadModelRequest;
import com.google.cloud.aiplatform.v1.UploadModelResponse;
import com.google.longrunning.Operation;
import com.google.longrunning.OperationsClient;
import com.google.protobuf.FieldMask;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.Waiter;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.util.Hashing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * inference_endpoint → Vertex AI (v1, regional): an Endpoint (display name {@code <env>-<name>},
 * the marker and the environment's labels set in CreateEndpoint), a Model uploaded from the spec's
 * {@code gs://} {@code modelUri} with the spec's serving {@code image} or its {@code framework}'s
 * prebuilt Vertex image (GPU build when the machine has GPUs), and that model deployed into the
 * endpoint with dedicated resources: machine type, accelerator, min/max replicas, running as the
 * identity's service account, with all of mlctl's traffic.
 *
 * <p>Vertex ids are server-assigned numbers, so endpoints and models are found by their labels
 * ({@code mlctl-environment}, {@code mlctl-type}, {@code mlctl-name}; models also carry
 * {@code mlctl-revision}, a hash of model URI and image): a create retried after a lost answer finds
 * what the first call made. Models are immutable, deployed models nearly so: a change of model
 * URI, image, framework, machine type, accelerator or identity is a rolling replace inside the same
 * endpoint (the new revision is deployed and given the traffic, then the old one undeployed and its
 * model deleted); replicas change in place (MutateDeployedModel); labels by UpdateEndpoint.
 * Deployed models of models mlctl did not upload for this endpoint are someone else's: never
 * undeployed, never given or robbed of traffic, and destroy refuses while they are there.
 *
 * <p>Inventory is one ListEndpoints per page (deployed models come inside the endpoint) and one
 * ListModels per page, both filtered on the environment's labels.
 */
final class EndpointKind implements GcpKind {
    /** On models: the hash of model URI and image a model was uploaded for. */
    static final String REVISION = "mlctl-revision";
    /** On models: the framework whose default image the model runs (absent when the spec names an image). */
    static final String FRAMEWORK = "mlctl-framework";
    /** On endpoints: the identity the deployment runs as, read back when the account id was shortened. */
    static final String IDENTITY = "mlctl-identity";
    private static final Set<String> DEPLOYMENT_FIELDS = Set.of("modelUri", "image", "framework", "machineType", "accelerator", "identity", "status");
    private static final Set<String> REPLICA_FIELDS = Set.of("minReplicas", "maxReplicas");
    private static final int PAGE = 100;
    /** Machine types with GPUs built in: Vertex wants them named as the accelerator, with this count. */
    private static final List<Map.Entry<Pattern, AcceleratorType>> GPU_MACHINES = List.of(
        Map.entry(Pattern.compile("a2-(?:highgpu-(\\d+)g|megagpu-(16)g)"), AcceleratorType.NVIDIA_TESLA_A100),
        Map.entry(Pattern.compile("a2-ultragpu-(\\d+)g"), AcceleratorType.NVIDIA_A100_80GB),
        Map.entry(Pattern.compile("a3-highgpu-(\\d+)g"), AcceleratorType.NVIDIA_H100_80GB),
        Map.entry(Pattern.compile("g2-standard-(\\d+)"), AcceleratorType.NVIDIA_L4));

    /** Vertex's quota answer ("The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_serving_nvidia_t4_gpus"). */
    private static final Pattern VERTEX_QUOTA = Pattern.compile("quota metrics exceed quota limits: ([a-z0-9._-]+/[a-z0-9_]+|[a-z0-9_]+)");

    private final Waiter waiter;

    EndpointKind() {
        // A deployment takes minutes (a large GPU model, tens): polled every 10 s for up to an hour.
        this(Waiter.of(Duration.ofSeconds(10), Duration.ofMinutes(60)));
    }

    EndpointKind(Waiter waiter) {
        this.waiter = waiter;
    }

    @Override
    public ResourceType type() {
        return ResourceType.INFERENCE_ENDPOINT;
    }

    @Override
    public ResourceRules rules() {
        // Everything but the region changes inside the same endpoint (the endpoint's URL stays).
        return new ResourceRules(Set.of("region"));
    }

    // ---------------------------------------------------------------- images and machines

    /**
     * The documented default serving image of a framework: Vertex AI's prebuilt prediction containers
     * (PyTorch, TensorFlow, scikit-learn) and Google's Hugging Face PyTorch inference DLC, from the
     * Artifact Registry multi-region nearest the region, CPU or GPU build.
     */
    static String defaultImage(String framework, String region, boolean gpu) {
        // Artifact Registry serves these images from three multi-regions: the nearest one.
        String host = region.startsWith("europe-") || region.startsWith("me-") ? "europe-docker.pkg.dev"
            : region.startsWith("asia-") || region.startsWith("australia-") ? "asia-docker.pkg.dev" : "us-docker.pkg.dev";
        String prediction = host + "/vertex-ai/prediction/";
        return switch (framework) {
            case "pytorch" -> prediction + (gpu ? "pytorch-gpu.2-4:latest" : "pytorch-cpu.2-4:latest");
            case "tensorflow" -> prediction + (gpu ? "tf2-gpu.2-15:latest" : "tf2-cpu.2-15:latest");
            // scikit-learn has no GPU build; the CPU image runs on any machine.
            case "sklearn" -> prediction + "sklearn-cpu.1-6:latest";
            case "huggingface" -> host + "/deeplearning-platform-release/gcr.io/huggingface-pytorch-inference-"
                + (gpu ? "cu121" : "cpu") + ".2-3.transformers.4-48.ubuntu2204.py311";
            default -> throw new DriverException("unknown framework '" + framework + "'", false);
        };
    }

    private static Optional<String> defaultImageOf(String framework, String region, boolean gpu) {
        try {
            return Optional.of(defaultImage(framework, region, gpu));
        } catch (DriverException e) {
            return Optional.empty();
        }
    }

    /** The GPUs a machine type has built in (A2, A3, G2), as Vertex names them. */
    static Optional<Map.Entry<AcceleratorType, Integer>> builtInGpus(String machineType) {
        for (Map.Entry<Pattern, AcceleratorType> g : GPU_MACHINES) {
            Matcher m = g.getKey().matcher(machineType);
            if (!m.matches()) continue;
            int n = Integer.parseInt(m.group(1) != null ? m.group(1) : m.group(m.groupCount()));
            if (g.getValue() == AcceleratorType.NVIDIA_L4) n = n == 24 ? 2 : n == 48 ? 4 : n == 96 ? 8 : 1; // g2-standard-4 to -32: 1
            return Optional.of(Map.entry(g.getValue(), n));
        }
        return Optional.empty();
    }

    /** {@code nvidia-tesla-t4} → {@code NVIDIA_TESLA_T4}. */
    static AcceleratorType acceleratorType(String specType) {
        try {
            return AcceleratorType.valueOf(specType.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new DriverException("Vertex AI has no accelerator " + specType, false);
        }
    }

    static String specAccelerator(AcceleratorType type) {
        return type.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    @SuppressWarnings("unchecked")
    private static Optional<Map<String, Object>> accelerator(Map<String, Object> a) {
        return a.get("accelerator") instanceof Map<?, ?> m ? Optional.of((Map<String, Object>) m) : Optional.empty();
    }

    static MachineSpec machineSpec(Map<String, Object> a) {
        String type = (String) a.get("machineType");
        MachineSpec.Builder b = MachineSpec.newBuilder().setMachineType(type);
        Optional<Map<String, Object>> acc = accelerator(a);
        if (acc.isPresent()) {
            b.setAcceleratorType(acceleratorType(String.valueOf(acc.get().get("type"))))
                .setAcceleratorCount(((Number) acc.get().getOrDefault("count", 1L)).intValue());
        } else {
            builtInGpus(type).ifPresent(g -> b.setAcceleratorType(g.getKey()).setAcceleratorCount(g.getValue()));
        }
        return b.build();
    }

    private static boolean gpu(MachineSpec spec) {
        return spec.getAcceleratorType() != AcceleratorType.ACCELERATOR_TYPE_UNSPECIFIED && spec.getAcceleratorCount() > 0;
    }

    /** The image the model runs: the spec's, else its framework's default (GPU build on GPU machines). */
    static String image(Environment env, Map<String, Object> a) {
        if (a.get("image") instanceof String image) return image;
        return defaultImage(String.valueOf(a.getOrDefault("framework", "pytorch")), env.region(), gpu(machineSpec(a)));
    }

    /** What a model is uploaded for: its URI and image. */
    static String revision(Environment env, Map<String, Object> a) {
        return revision(String.valueOf(a.get("modelUri")), image(env, a));
    }

    static String revision(String modelUri, String image) {
        return Hashing.sha256(Map.of("modelUri", modelUri, "image", image)).substring(0, 12);
    }

    private static String serviceAccount(GcpClients c, Environment env, Map<String, Object> a) {
        return a.get("identity") instanceof String id ? GcpKind.serviceAccountEmail(c.project(), GcpKind.serviceAccountId(env, id)) : "";
    }

    private static int min(Map<String, Object> a) {
        return ((Number) a.getOrDefault("minReplicas", 1L)).intValue();
    }

    private static int max(Map<String, Object> a) {
        return Math.max(min(a), ((Number) a.getOrDefault("maxReplicas", 1L)).intValue());
    }

    private static void validate(ResourceSpec d) {
        if (min(d.attributes()) < 1) {
            throw new DriverException(d.address() + ": Vertex AI dedicated resources run at least 1 replica; minReplicas 0 is not supported on GCP", false);
        }
        String uri = String.valueOf(d.attributes().get("modelUri"));
        if (!uri.startsWith("gs://")) throw new DriverException(d.address() + ": Vertex AI reads models from Cloud Storage; modelUri must start with gs://", false);
    }

    // ---------------------------------------------------------------- names, labels, filters

    private static String parent(GcpClients c) {
        return "projects/" + c.project() + "/locations/" + c.region();
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** Vertex's list filter on the environment's labels (keys quoted: they hold '-'). */
    static String filter(Environment env, Optional<Address> address) {
        String f = "labels." + quote(GcpMarker.ENVIRONMENT) + "=" + quote(env.name()) + " AND labels." + quote(GcpMarker.TYPE) + "="
            + quote(ResourceType.INFERENCE_ENDPOINT.id());
        return address.map(a -> f + " AND labels." + quote(GcpMarker.NAME) + "=" + quote(a.name())).orElse(f);
    }

    /** The endpoint's labels at creation: marker, the environment's labels, and the identity the deployment runs as. */
    private static Map<String, String> endpointLabels(Map<String, String> marker, Map<String, Object> a) {
        Map<String, String> labels = new TreeMap<>(GcpKind.allLabels(marker, a));
        if (a.get("identity") instanceof String id) labels.put(IDENTITY, id);
        return labels;
    }

    /** The full label map to write on the endpoint so it carries what the spec asks; empty when it already does. */
    private static Optional<Map<String, String>> endpointLabelsAfterSync(Map<String, String> cloud, Map<String, String> marker, Map<String, Object> a) {
        Map<String, String> out = new TreeMap<>(GcpKind.labelsAfterSync(cloud, marker, a).orElse(cloud));
        if (a.get("identity") instanceof String id) out.put(IDENTITY, id);
        else out.remove(IDENTITY);
        return out.equals(cloud) ? Optional.empty() : Optional.of(out);
    }

    private static String stripVersion(String model) {
        int at = model.indexOf('@');
        return at < 0 ? model : model.substring(0, at);
    }

    // ---------------------------------------------------------------- reads

    @Override
    public Page list(GcpClients c, Environment env, Optional<String> pageToken) {
        ListEndpointsResponse r = GcpErrors.call("aiplatform.endpoints.list", () -> c.endpoints().listEndpointsCallable().call(
            ListEndpointsRequest.newBuilder().setParent(parent(c)).setFilter(filter(env, Optional.empty())).setPageSize(PAGE)
                .setPageToken(pageToken.orElse("")).build()));
        List<ObservedResource> items = new ArrayList<>();
        if (r.getEndpointsCount() > 0) {
            Map<String, Model> models = models(c, env, Optional.empty());
            for (Endpoint e : r.getEndpointsList()) {
                Optional<Address> a = GcpMarker.INSTANCE.owner(e.getLabelsMap(), env.name());
                if (a.isEmpty() || a.get().type() != ResourceType.INFERENCE_ENDPOINT || a.get().isComponent()) continue;
                items.add(observed(c, env, a.get(), e, models, false));
            }
        }
        return new Page(items, Optional.of(r.getNextPageToken()).filter(t -> !t.isEmpty()));
    }

    /** One endpoint as inventory (and import, {@code adopting} its unmarked deployed models) shows it, with all its labels. */
    private static ObservedResource observed(GcpClients c, Environment env, Address address, Endpoint e, Map<String, Model> models, boolean adopting) {
        return new ObservedResource(address, e.getName(), GcpKind.attrs(env, observe(c, env, address, e, models, adopting), e.getLabelsMap()),
            e.getLabelsMap());
    }

    private static final Pattern RESOURCE_NAME = Pattern.compile("projects/([^/]+)/locations/([^/]+)/endpoints/([^/]+)");

    /**
     * Import by the endpoint's numeric id or its resource name {@code projects/P/locations/R/endpoints/ID}, in the environment's
     * region. Its display name does not matter (mlctl finds its endpoints by their labels). The models deployed in it that no
     * mlctl environment marked are taken over with it: the plan compares the one serving the traffic with the spec.
     */
    @Override
    public Optional<ObservedResource> read(GcpClients c, Environment env, Address address, String cloudId) {
        String id = cloudId.trim();
        Matcher r = RESOURCE_NAME.matcher(id);
        if (r.matches()) {
            String project = r.group(1);
            if (!project.equals(c.project())) {
                // Vertex names carry the project's number: a number is this project only when it is this project's.
                String ours = GcpErrors.call("resourcemanager.projects.get " + c.project(), () -> c.projects().getProject("projects/" + c.project())).getName();
                if (!project.matches("[0-9]+") || !("projects/" + project).equals(ours)) {
                    throw GcpKind.otherProject(address, "Vertex AI endpoint " + r.group(3), project, c.project());
                }
            }
            if (!r.group(2).equals(c.region())) {
                throw new DriverException(address + ": Vertex AI endpoint " + r.group(3) + " is in " + r.group(2) + ", but environment " + env.name()
                    + " is in region " + c.region() + "; an endpoint cannot move between regions", false);
            }
            id = r.group(3);
        }
        if (!id.matches("[0-9]{1,25}")) {
            throw GcpKind.badId(address, cloudId, "the endpoint's numeric id, e.g. 1234567890123456789 (or projects/" + c.project() + "/locations/"
                + c.region() + "/endpoints/ID)");
        }
        Optional<Endpoint> found = get(c, parent(c) + "/endpoints/" + id);
        if (found.isEmpty()) return Optional.empty();
        Endpoint e = found.get();
        boolean adopting = GcpKind.unmarked(e.getLabelsMap());
        Map<String, Model> models = models(c, env, Optional.of(address));
        if (adopting) {
            for (DeployedModel d : e.getDeployedModelsList()) models.computeIfAbsent(stripVersion(d.getModel()), m -> model(c, m).orElse(null));
        }
        return Optional.of(observed(c, env, address, e, models, adopting));
    }

    private static Optional<Model> model(GcpClients c, String name) {
        try {
            return Optional.of(c.models().getModelCallable().call(com.google.cloud.aiplatform.v1.GetModelRequest.newBuilder().setName(name).build()));
        } catch (RuntimeException e) {
            if (GcpErrors.notFound(e)) return Optional.empty();
            throw GcpErrors.translate("aiplatform.models.get " + name, e);
        }
    }

    /** The URL that serves predictions. */
    @Override
    public Map<String, String> outputs(GcpClients c, Environment env, ObservedResource resource) {
        Matcher r = RESOURCE_NAME.matcher(resource.cloudId());
        if (!r.matches()) return Map.of();
        String region = r.group(2);
        return Map.of("invokeUrl", "https://" + region + "-aiplatform.googleapis.com/v1/projects/" + c.project() + "/locations/" + region
            + "/endpoints/" + r.group(3) + ":predict");
    }

    /**
     * An import: marks the models deployed in the endpoint that no mlctl environment marked as this endpoint's, with the
     * revision of what they serve (so an unchanged spec keeps them deployed) and, when their image is the default one of the
     * spec's framework, that framework.
     */
    private static void adoptModels(GcpClients c, Environment env, ResourceSpec d, String endpoint) {
        Map<String, String> marker = GcpMarker.INSTANCE.marker(env.name(), d.address());
        for (DeployedModel dm : require(c, endpoint).getDeployedModelsList()) {
            Optional<Model> found = model(c, stripVersion(dm.getModel()));
            if (found.isEmpty() || !GcpKind.unmarked(found.get().getLabelsMap())) continue;
            Model m = found.get();
            Map<String, String> labels = new TreeMap<>(m.getLabelsMap());
            labels.putAll(marker);
            labels.put(REVISION, revision(m.getArtifactUri(), m.getContainerSpec().getImageUri()));
            specFramework(env, d.address(), m, dm.getDedicatedResources().getMachineSpec()).ifPresent(f -> labels.put(FRAMEWORK, f));
            Model patch = Model.newBuilder().setName(m.getName()).setEtag(m.getEtag()).putAllLabels(labels).build();
            GcpErrors.call("aiplatform.models.update " + m.getDisplayName(), () -> c.models().updateModelCallable().call(
                com.google.cloud.aiplatform.v1.UpdateModelRequest.newBuilder().setModel(patch).setUpdateMask(FieldMask.newBuilder().addPaths("labels")).build()));
        }
    }

    /** The spec's framework, when the spec names no image and the model runs that framework's default image. */
    private static Optional<String> specFramework(Environment env, Address address, Model m, MachineSpec machine) {
        Optional<Map<String, Object>> spec = env.resource(address).map(ResourceSpec::attributes);
        if (spec.isEmpty() || spec.get().get("image") != null) return Optional.empty();
        String framework = String.valueOf(spec.get().getOrDefault("framework", "pytorch"));
        return defaultImageOf(framework, env.region(), gpu(machine)).filter(m.getContainerSpec().getImageUri()::equals).map(x -> framework);
    }

    /** The environment's models (of one endpoint when {@code address} is given), by resource name, all pages. */
    private static Map<String, Model> models(GcpClients c, Environment env, Optional<Address> address) {
        Map<String, Model> out = new TreeMap<>();
        String token = "";
        do {
            String t = token;
            ListModelsResponse r = GcpErrors.call("aiplatform.models.list", () -> c.models().listModelsCallable().call(ListModelsRequest.newBuilder()
                .setParent(parent(c)).setFilter(filter(env, address)).setPageSize(PAGE).setPageToken(t).build()));
            r.getModelsList().forEach(m -> out.put(m.getName(), m));
            token = r.getNextPageToken();
        } while (!token.isEmpty());
        return out;
    }

    /** Whether a model is this endpoint's own: uploaded by mlctl for this address of this environment. */
    private static boolean owns(Environment env, Address address, Model m) {
        return m != null && GcpMarker.INSTANCE.owner(m.getLabelsMap(), env.name()).filter(address::equals).isPresent();
    }

    private static List<DeployedModel> own(Environment env, Address address, Endpoint e, Map<String, Model> models) {
        return e.getDeployedModelsList().stream().filter(d -> owns(env, address, models.get(stripVersion(d.getModel())))).toList();
    }

    /** The deployment's attributes as the spec writes them; {@code adopting}: unmarked deployed models count as the endpoint's own. */
    private static Map<String, Object> observe(GcpClients c, Environment env, Address address, Endpoint e, Map<String, Model> models, boolean adopting) {
        Map<String, Object> m = new TreeMap<>();
        List<DeployedModel> own = e.getDeployedModelsList().stream().filter(d -> {
            Model model = models.get(stripVersion(d.getModel()));
            return owns(env, address, model) || adopting && model != null && GcpKind.unmarked(model.getLabelsMap());
        }).toList();
        if (own.isEmpty()) {
            m.put("status", "no model deployed");
            return m;
        }
        // The revision serving the traffic is what the endpoint is; a second one means a rollout did not finish.
        DeployedModel d = own.stream().max(Comparator.comparingInt((DeployedModel x) -> e.getTrafficSplitOrDefault(x.getId(), 0))
            .thenComparing(x -> x.getCreateTime().getSeconds())).orElseThrow();
        if (own.size() > 1) m.put("status", own.size() + " revisions deployed (a rollout did not finish)");
        Model model = models.get(stripVersion(d.getModel()));
        m.put("modelUri", model.getArtifactUri());
        MachineSpec spec = d.getDedicatedResources().getMachineSpec();
        String image = model.getContainerSpec().getImageUri();
        String framework = model.getLabelsMap().get(FRAMEWORK);
        if (framework == null && adopting && GcpKind.unmarked(model.getLabelsMap())) framework = specFramework(env, address, model, spec).orElse(null);
        if (framework != null && defaultImageOf(framework, env.region(), gpu(spec)).filter(image::equals).isPresent()) {
            m.put("framework", framework);
        } else {
            m.put("image", image);
        }
        m.put("machineType", spec.getMachineType());
        if (gpu(spec) && builtInGpus(spec.getMachineType()).isEmpty()) {
            m.put("accelerator", Map.of("type", specAccelerator(spec.getAcceleratorType()), "count", (long) spec.getAcceleratorCount()));
        }
        m.put("minReplicas", (long) d.getDedicatedResources().getMinReplicaCount());
        m.put("maxReplicas", (long) d.getDedicatedResources().getMaxReplicaCount());
        String sa = d.getServiceAccount();
        if (!sa.isEmpty()) {
            String named = e.getLabelsMap().get(IDENTITY);
            String suffix = "@" + c.project() + ".iam.gserviceaccount.com";
            String prefix = env.name() + "-";
            if (named != null && sa.equals(GcpKind.serviceAccountEmail(c.project(), GcpKind.serviceAccountId(env, named)))) {
                m.put("identity", named);
            } else if (sa.endsWith(suffix) && sa.startsWith(prefix)) {
                m.put("identity", sa.substring(prefix.length(), sa.length() - suffix.length()));
            } else {
                m.put("identity", sa);
            }
        }
        return m;
    }

    @Override
    public Optional<Existing> find(GcpClients c, Environment env, Address address, Optional<String> knownCloudId) {
        if (knownCloudId.isPresent()) return get(c, knownCloudId.get()).map(EndpointKind::existing);
        List<Endpoint> mine = endpoints(c, filter(env, Optional.of(address)));
        if (!mine.isEmpty()) return Optional.of(existing(mine.get(0)));
        // An endpoint of the display name this one takes, made by someone else: never adopted, refused naming it.
        List<Endpoint> named = endpoints(c, "display_name=" + quote(GcpKind.physicalName(env, address.name())));
        return named.stream().findFirst().map(EndpointKind::existing);
    }

    private static Existing existing(Endpoint e) {
        return new Existing(e.getName(), "Vertex AI endpoint " + e.getDisplayName() + " (" + GcpKind.lastSegment(e.getName()) + ")", e.getLabelsMap());
    }

    private static List<Endpoint> endpoints(GcpClients c, String filter) {
        List<Endpoint> out = new ArrayList<>();
        String token = "";
        do {
            String t = token;
            ListEndpointsResponse r = GcpErrors.call("aiplatform.endpoints.list", () -> c.endpoints().listEndpointsCallable().call(
                ListEndpointsRequest.newBuilder().setParent(parent(c)).setFilter(filter).setPageSize(PAGE).setPageToken(t).build()));
            out.addAll(r.getEndpointsList());
            token = r.getNextPageToken();
        } while (!token.isEmpty());
        out.sort(Comparator.comparing(Endpoint::getName));
        return out;
    }

    private static Optional<Endpoint> get(GcpClients c, String name) {
        try {
            return Optional.of(c.endpoints().getEndpointCallable().call(GetEndpointRequest.newBuilder().setName(name).build()));
        } catch (RuntimeException e) {
            if (GcpErrors.notFound(e)) return Optional.empty();
            throw GcpErrors.translate("aiplatform.endpoints.get " + name, e);
        }
    }

    private static Endpoint require(GcpClients c, String name) {
        return get(c, name).orElseThrow(() -> new DriverException("Vertex AI endpoint " + name + " no longer exists; run plan again", false));
    }

    // ---------------------------------------------------------------- long-running operations

    /**
     * Waits for a Vertex operation (polled through {@code google.longrunning.Operations} on the same
     * channel) and returns its answer. An operation that finished with an error is one line, with
     * Vertex's reason; retried only when Vertex's code says trying again may help. (The client's
     * own OperationFuture gives up after 5 minutes, less than a GPU deployment can take.)
     */
    private <T extends Message> T await(OperationsClient ops, String region, String what, Operation first, Class<T> type) {
        Operation[] op = {first};
        if (!first.getDone()) {
            waiter.until(what, () -> {
                op[0] = GcpErrors.call("aiplatform.operations.get " + op[0].getName(), () -> ops.getOperation(op[0].getName()));
                return op[0].getDone() ? Waiter.Status.ready("done") : Waiter.Status.pending("running");
            });
        }
        if (op[0].hasError()) throw failed(what, op[0].getError(), region);
        try {
            return op[0].getResponse().unpack(type);
        } catch (InvalidProtocolBufferException e) {
            throw new DriverException(what + ": unexpected answer from Vertex AI: " + e.getMessage(), false, e);
        }
    }

    /** A quota Vertex refused, as one line naming the quota and the region; never retried (waiting does not raise a quota). */
    static Optional<String> quota(String message, String region) {
        if (message == null) return Optional.empty();
        Matcher m = VERTEX_QUOTA.matcher(message);
        if (m.find()) {
            return Optional.of("quota " + m.group(1) + " exceeded in region " + region + "; request more in the console under IAM & Admin > Quotas");
        }
        return GcpErrors.quota(message);
    }

    /** One Vertex call: {@link GcpErrors#call}, with Vertex's quota answers named as quotas. */
    private static <T> T call(GcpClients c, String what, Supplier<T> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                Optional<String> q = quota(t.getMessage(), c.region());
                if (q.isPresent()) throw new DriverException(what + ": " + q.get(), false, e);
            }
            throw GcpErrors.translate(what, e);
        }
    }

    static DriverException failed(String what, com.google.rpc.Status error, String region) {
        io.grpc.Status.Code code = io.grpc.Status.fromCodeValue(error.getCode()).getCode();
        String message = GcpErrors.firstLine(error.getMessage());
        Optional<String> quota = quota(message, region);
        if (quota.isPresent()) return new DriverException(what + " failed: " + quota.get(), false);
        if (code == io.grpc.Status.Code.PERMISSION_DENIED) return new DriverException(what + " failed: permission denied: " + message, false);
        boolean retry = Set.of(io.grpc.Status.Code.UNAVAILABLE, io.grpc.Status.Code.INTERNAL, io.grpc.Status.Code.DEADLINE_EXCEEDED,
            io.grpc.Status.Code.ABORTED, io.grpc.Status.Code.RESOURCE_EXHAUSTED, io.grpc.Status.Code.UNKNOWN).contains(code);
        return new DriverException(what + " failed: " + code + ": " + message, retry);
    }

    // ---------------------------------------------------------------- create

    @Override
    public String create(GcpClients c, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        validate(d);
        String display = GcpKind.physicalName(env, d.address().name());
        Endpoint endpoint = Endpoint.newBuilder().setDisplayName(display)
            .setDescription("mlctl: " + d.address() + " of environment " + env.name() + " (managed by mlctl)")
            .putAllLabels(endpointLabels(marker, d.attributes())).build();
        // No request id on Vertex: a lost answer is found by its labels on the engine's retry, never sent twice blindly.
        Operation op = call(c, "aiplatform.endpoints.create " + display, () -> c.endpoints().createEndpointCallable().call(
            CreateEndpointRequest.newBuilder().setParent(parent(c)).setEndpoint(endpoint).build()));
        return await(c.endpoints().getOperationsClient(), c.region(), "Vertex AI endpoint " + display + " creation", op, Endpoint.class).getName();
    }

    @Override
    public ObservedResource complete(GcpClients c, Environment env, String cloudId, ResourceSpec d, Map<String, String> marker) {
        validate(d);
        Map<String, String> labels = converge(c, env, cloudId, d, marker);
        return new ObservedResource(d.address(), cloudId, d.attributes(), labels);
    }

    /**
     * Brings the endpoint to the spec, from whatever state an earlier (interrupted) attempt left:
     * this revision's model uploaded once, deployed once with the spec's resources and given the
     * traffic mlctl's revisions had, earlier revisions undeployed and their models deleted, labels
     * synced. Each step reads Vertex first, so any retry is safe. Returns the endpoint's labels.
     */
    private Map<String, String> converge(GcpClients c, Environment env, String name, ResourceSpec d, Map<String, String> marker) {
        Map<String, Object> a = d.attributes();
        Address address = d.address();
        String display = GcpKind.physicalName(env, address.name());
        Endpoint e = require(c, name);
        Map<String, Model> mine = models(c, env, Optional.of(address));
        Model model = ensureModel(c, env, d, marker, mine);
        mine.put(model.getName(), model);
        MachineSpec wantMachine = machineSpec(a);
        String wantAccount = serviceAccount(c, env, a);
        List<DeployedModel> own = own(env, address, e, mine);
        Optional<DeployedModel> keep = own.stream().filter(x -> stripVersion(x.getModel()).equals(model.getName())
            && x.getDedicatedResources().getMachineSpec().equals(wantMachine) && x.getServiceAccount().equals(wantAccount)).findFirst();
        String keepId;
        if (keep.isEmpty()) {
            keepId = deploy(c, e, own, model, d, display, wantMachine, wantAccount);
        } else {
            keepId = keep.get().getId();
            DedicatedResources r = keep.get().getDedicatedResources();
            if (r.getMinReplicaCount() != min(a) || r.getMaxReplicaCount() != max(a)) mutate(c, e, keepId, a, display);
        }
        for (DeployedModel old : own) {
            if (!old.getId().equals(keepId)) undeploy(c, require(c, name), old, Optional.of(keepId), display);
        }
        for (Model m : mine.values()) {
            if (!m.getName().equals(model.getName())) deleteModel(c, m, true);
        }
        return syncLabels(c, require(c, name), marker, a);
    }

    /** This revision's model: found by its labels (an earlier attempt's upload), else uploaded. */
    private Model ensureModel(GcpClients c, Environment env, ResourceSpec d, Map<String, String> marker, Map<String, Model> mine) {
        Map<String, Object> a = d.attributes();
        String revision = revision(env, a);
        String image = image(env, a);
        String uri = String.valueOf(a.get("modelUri"));
        Optional<Model> found = mine.values().stream().filter(m -> revision.equals(m.getLabelsMap().get(REVISION))
            && m.getArtifactUri().equals(uri) && m.getContainerSpec().getImageUri().equals(image)).findFirst();
        if (found.isPresent()) return found.get();
        String display = GcpKind.physicalName(env, d.address().name()) + "-" + revision.substring(0, 8);
        Map<String, String> labels = new TreeMap<>(GcpKind.allLabels(marker, a));
        labels.put(REVISION, revision);
        if (!a.containsKey("image")) labels.put(FRAMEWORK, String.valueOf(a.getOrDefault("framework", "pytorch")));
        Model model = Model.newBuilder().setDisplayName(display).setDescription("mlctl: model of " + d.address() + " (environment " + env.name() + ")")
            .setArtifactUri(uri).setContainerSpec(ModelContainerSpec.newBuilder().setImageUri(image)).putAllLabels(labels).build();
        Operation op = call(c, "aiplatform.models.upload " + display, () -> c.models().uploadModelCallable().call(
            UploadModelRequest.newBuilder().setParent(parent(c)).setModel(model).build()));
        String made = await(c.models().getOperationsClient(), c.region(), "Vertex AI model upload " + display + " from " + uri, op, UploadModelResponse.class).getModel();
        return model.toBuilder().setName(made).build();
    }

    /**
     * Deploys the model with mlctl's share of the traffic (what its earlier revisions had, all of it
     * on a new endpoint); someone else's deployed models keep theirs. Returns the deployed model's id.
     */
    private String deploy(GcpClients c, Endpoint e, List<DeployedModel> own, Model model, ResourceSpec d, String display,
                          MachineSpec machine, String account) {
        Map<String, Integer> split = new TreeMap<>();
        int foreign = 0;
        for (Map.Entry<String, Integer> t : e.getTrafficSplitMap().entrySet()) {
            if (own.stream().anyMatch(x -> x.getId().equals(t.getKey()))) continue;
            if (e.getDeployedModelsList().stream().noneMatch(x -> x.getId().equals(t.getKey()))) continue;
            split.put(t.getKey(), t.getValue());
            foreign += t.getValue();
        }
        split.put("0", Math.max(0, 100 - foreign));
        DeployedModel dm = DeployedModel.newBuilder().setModel(model.getName()).setDisplayName(display).setServiceAccount(account)
            .setDedicatedResources(DedicatedResources.newBuilder().setMachineSpec(machine).setMinReplicaCount(min(d.attributes()))
                .setMaxReplicaCount(max(d.attributes())))
            .build();
        String what = "Vertex AI deployment of model " + model.getDisplayName() + " to endpoint " + display;
        Operation op = call(c, "aiplatform.endpoints.deployModel " + display, () -> c.endpoints().deployModelCallable().call(
            DeployModelRequest.newBuilder().setEndpoint(e.getName()).setDeployedModel(dm).putAllTrafficSplit(split).build()));
        return await(c.endpoints().getOperationsClient(), c.region(), what, op, DeployModelResponse.class).getDeployedModel().getId();
    }

    private void mutate(GcpClients c, Endpoint e, String id, Map<String, Object> a, String display) {
        DeployedModel dm = DeployedModel.newBuilder().setId(id).setDedicatedResources(DedicatedResources.newBuilder()
            .setMinReplicaCount(min(a)).setMaxReplicaCount(max(a))).build();
        Operation op = call(c, "aiplatform.endpoints.mutateDeployedModel " + display, () -> c.endpoints().mutateDeployedModelCallable().call(
            MutateDeployedModelRequest.newBuilder().setEndpoint(e.getName()).setDeployedModel(dm).setUpdateMask(FieldMask.newBuilder()
                .addPaths("dedicated_resources.min_replica_count").addPaths("dedicated_resources.max_replica_count")).build()));
        await(c.endpoints().getOperationsClient(), c.region(), "Vertex AI replica change of endpoint " + display, op,
            com.google.cloud.aiplatform.v1.MutateDeployedModelResponse.class);
    }

    /** Undeploys one of mlctl's deployed models; traffic it still has goes to {@code heir} (or another model). */
    private void undeploy(GcpClients c, Endpoint e, DeployedModel dm, Optional<String> heir, String display) {
        UndeployModelRequest.Builder b = UndeployModelRequest.newBuilder().setEndpoint(e.getName()).setDeployedModelId(dm.getId());
        int traffic = e.getTrafficSplitOrDefault(dm.getId(), 0);
        List<String> others = e.getDeployedModelsList().stream().map(DeployedModel::getId).filter(id -> !id.equals(dm.getId())).toList();
        if (traffic > 0 && !others.isEmpty()) {
            Map<String, Integer> split = new TreeMap<>(e.getTrafficSplitMap());
            split.remove(dm.getId());
            split.merge(heir.filter(others::contains).orElse(others.get(0)), traffic, Integer::sum);
            b.putAllTrafficSplit(split);
        }
        Operation op;
        try {
            op = c.endpoints().undeployModelCallable().call(b.build());
        } catch (RuntimeException ex) {
            if (GcpErrors.notFound(ex)) return; // undeployed already (an earlier attempt's lost answer)
            throw GcpErrors.translate("aiplatform.endpoints.undeployModel " + display + " " + dm.getId(), ex);
        }
        await(c.endpoints().getOperationsClient(), c.region(), "Vertex AI undeployment of " + dm.getDisplayName() + " (" + dm.getId() + ") from endpoint " + display,
            op, com.google.cloud.aiplatform.v1.UndeployModelResponse.class);
    }

    /** Deletes one of mlctl's models; one still deployed somewhere is left (when {@code skipDeployed}) for a later run. */
    private void deleteModel(GcpClients c, Model m, boolean skipDeployed) {
        Operation op;
        try {
            op = c.models().deleteModelCallable().call(DeleteModelRequest.newBuilder().setName(m.getName()).build());
        } catch (RuntimeException ex) {
            if (GcpErrors.notFound(ex)) return;
            if (skipDeployed && failedPrecondition(ex)) return;
            throw GcpErrors.translate("aiplatform.models.delete " + m.getDisplayName(), ex);
        }
        try {
            await(c.models().getOperationsClient(), c.region(), "Vertex AI deletion of model " + m.getDisplayName(), op, com.google.protobuf.Empty.class);
        } catch (DriverException ex) {
            if (!ex.getMessage().contains("NOT_FOUND")) throw ex;
        }
    }

    private static boolean failedPrecondition(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof com.google.api.gax.rpc.ApiException a) {
                return a.getStatusCode().getCode() == com.google.api.gax.rpc.StatusCode.Code.FAILED_PRECONDITION;
            }
        }
        return false;
    }

    /** Writes the endpoint's labels when they differ from what the spec asks (marker, labels, identity); returns them. */
    private static Map<String, String> syncLabels(GcpClients c, Endpoint e, Map<String, String> marker, Map<String, Object> a) {
        Optional<Map<String, String>> want = endpointLabelsAfterSync(e.getLabelsMap(), marker, a);
        if (want.isEmpty()) return e.getLabelsMap();
        // The etag makes this a consistent read-modify-write: a concurrent change is an ABORTED answer, retried with a fresh read.
        Endpoint patch = Endpoint.newBuilder().setName(e.getName()).setEtag(e.getEtag()).putAllLabels(want.get()).build();
        return GcpErrors.call("aiplatform.endpoints.update " + e.getDisplayName(), () -> c.endpoints().updateEndpointCallable().call(
            UpdateEndpointRequest.newBuilder().setEndpoint(patch).setUpdateMask(FieldMask.newBuilder().addPaths("labels")).build())).getLabelsMap();
    }

    // ---------------------------------------------------------------- update, delete

    @Override
    public ObservedResource update(GcpClients c, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        validate(d);
        Map<String, String> marker = GcpMarker.INSTANCE.marker(env.name(), d.address());
        boolean deployment = false;
        boolean tags = false;
        for (AttributeChange ch : changes) {
            String top = ch.path().split("[.\\[]", 2)[0];
            if (DEPLOYMENT_FIELDS.contains(top) || REPLICA_FIELDS.contains(top)) deployment = true;
            if (top.equals("tags")) tags = true;
        }
        // An import: the deployed models become the endpoint's before its marker is written (the plan counted them as its own).
        if (tags && GcpMarker.INSTANCE.owner(current.tags(), env.name()).filter(d.address()::equals).isEmpty()) adoptModels(c, env, d, current.cloudId());
        Map<String, String> labels = deployment
            ? converge(c, env, current.cloudId(), d, marker)
            : syncLabels(c, require(c, current.cloudId()), marker, d.attributes());
        return new ObservedResource(d.address(), current.cloudId(), d.attributes(), labels);
    }

    @Override
    public void delete(GcpClients c, Environment env, ObservedResource current) {
        Address address = current.address();
        String display = GcpKind.physicalName(env, address.name());
        Map<String, Model> mine = models(c, env, Optional.of(address));
        Optional<Endpoint> found = get(c, current.cloudId());
        if (found.isPresent()) {
            Endpoint e = found.get();
            List<DeployedModel> theirs = e.getDeployedModelsList().stream().filter(x -> !owns(env, address, mine.get(stripVersion(x.getModel())))).toList();
            if (!theirs.isEmpty()) {
                DeployedModel t = theirs.get(0);
                throw new DriverException(address + ": Vertex AI endpoint " + e.getDisplayName() + " also serves deployed model '" + t.getDisplayName()
                    + "' (" + t.getId() + ", model " + t.getModel() + ") that mlctl did not deploy; undeploy it first (mlctl never does)", false);
            }
            while (true) {
                Endpoint now = require(c, current.cloudId());
                if (now.getDeployedModelsCount() == 0) break;
                // Checked again each round: a deployment of someone else's that finished meanwhile is never undeployed.
                Optional<DeployedModel> arrived = now.getDeployedModelsList().stream()
                    .filter(x -> !owns(env, address, mine.get(stripVersion(x.getModel())))).findFirst();
                if (arrived.isPresent()) {
                    throw new DriverException(address + ": Vertex AI endpoint " + now.getDisplayName() + " also serves deployed model '"
                        + arrived.get().getDisplayName() + "' (" + arrived.get().getId() + ") that mlctl did not deploy; undeploy it first (mlctl never does)", false);
                }
                // Models without traffic first; the last one takes the traffic with it.
                DeployedModel next = now.getDeployedModelsList().stream()
                    .min(Comparator.comparingInt(x -> now.getTrafficSplitOrDefault(x.getId(), 0))).orElseThrow();
                undeploy(c, now, next, Optional.empty(), display);
            }
            Operation op = null;
            try {
                op = c.endpoints().deleteEndpointCallable().call(DeleteEndpointRequest.newBuilder().setName(e.getName()).build());
            } catch (RuntimeException ex) {
                if (!GcpErrors.notFound(ex)) throw GcpErrors.translate("aiplatform.endpoints.delete " + display, ex);
            }
            if (op != null) await(c.endpoints().getOperationsClient(), c.region(), "Vertex AI deletion of endpoint " + display, op, com.google.protobuf.Empty.class);
        }
        for (Model m : mine.values()) deleteModel(c, m, false);
    }
}
