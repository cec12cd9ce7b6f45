package io.mlctl.fake.gcp;

import com.google.cloud.aiplatform.v1.AcceleratorType;
import com.google.cloud.aiplatform.v1.CreateEndpointOperationMetadata;
import com.google.cloud.aiplatform.v1.CreateEndpointRequest;
import com.google.cloud.aiplatform.v1.DedicatedResources;
import com.google.cloud.aiplatform.v1.DeleteEndpointRequest;
import com.google.cloud.aiplatform.v1.DeleteModelRequest;
import com.google.cloud.aiplatform.v1.DeleteOperationMetadata;
import com.google.cloud.aiplatform.v1.DeployModelOperationMetadata;
import com.google.cloud.aiplatform.v1.DeployModelRequest;
import com.google.cloud.aiplatform.v1.DeployModelResponse;
import com.google.cloud.aiplatform.v1.DeployedModel;
import com.google.cloud.aiplatform.v1.DeployedModelRef;
import com.google.cloud.aiplatform.v1.Endpoint;
import com.google.cloud.aiplatform.v1.EndpointServiceProto;
import com.google.cloud.aiplatform.v1.GenericOperationMetadata;
import com.google.cloud.aiplatform.v1.GetEndpointRequest;
import com.google.cloud.aiplatform.v1.GetModelRequest;
import com.google.cloud.aiplatform.v1.ListEndpointsRequest;
import com.google.cloud.aiplatform.v1.ListEndpointsResponse;
import com.google.cloud.aiplatform.v1.ListModelsRequest;
import com.google.cloud.aiplatform.v1.ListModelsResponse;
import com.google.cloud.aiplatform.v1.MachineSpec;
import com.google.cloud.aiplatform.v1.Model;
import com.google.cloud.aiplatform.v1.ModelServiceProto;
import com.google.cloud.aiplatform.v1.MutateDeployedModelOperationMetadata;
import com.google.cloud.aiplatform.v1.MutateDeployedModelRequest;
import com.google.cloud.aiplatform.v1.MutateDeployedModelResponse;
import com.google.cloud.aiplatform.v1.UndeployModelOperationMetadata;
import com.google.cloud.aiplatform.v1.UndeployModelRequest;
import com.google.cloud.aiplatform.v1.UndeployModelResponse;
import com.google.cloud.aiplatform.v1.UpdateEndpointRequest;
import com.google.cloud.aiplatform.v1.UpdateModelRequest;
import com.google.cloud.aiplatform.v1.UploadModelOperationMetadata;
import com.google.cloud.aiplatform.v1.UploadModelRequest;
import com.google.cloud.aiplatform.v1.UploadModelResponse;
import com.google.longrunning.GetOperationRequest;
import com.google.longrunning.Operation;
import com.google.longrunning.OperationsProto;
import com.google.protobuf.Any;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Vertex AI v1 (regional, gRPC): {@code ModelService} (UploadModel, GetModel, UpdateModel, ListModels,
 * DeleteModel), {@code EndpointService} (CreateEndpoint, GetEndpoint, ListEndpoints,
 * UpdateEndpoint, DeleteEndpoint, DeployModel, UndeployModel, MutateDeployedModel) and their
 * long-running operations through {@code google.longrunning.Operations/GetOperation}, as the Java
 * client polls them on the same channel.
 *
 * <p>The services are bound on the vendor's own method names and message types: each method is
 * looked up in the service's descriptor from the generated {@code *Proto} classes (the client jars
 * ship no {@code *ImplBase}), so a method or message Vertex does not have cannot be served.
 *
 * <p>As Vertex does: ids are server-assigned numbers; names come back with the project number
 * (requests may use the project id or number); an operation is pending in the call's answer and
 * done once {@link GcpFakes#operationTime()} has passed (zero: at its first poll), its work or error
 * inside it; endpoints and models exist as soon as the making call is accepted, a deployment only
 * once its operation is done; a model cannot be deleted while deployed, an endpoint while it holds
 * deployed models; dedicated resources need a machine type Vertex serves on, accelerators that
 * machine takes, at least one replica and max ≥ min; model artifacts come from an existing
 * {@code gs://} bucket; the deployed model's service account must exist; labels as GCP allows them;
 * list filters in the subset the driver uses, anything else refused rather than ignored.
 * REST reads ({@code GET /v1/projects/p/locations/l/endpoints[/id]}, {@code .../models[/id]})
 * show the same state, for people.
 */
public final class VertexFake implements FakeService {
    /** Regions Vertex AI serves online prediction in. */
    static final Set<String> REGIONS = Set.of("us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2",
        "us-west3", "us-west4", "northamerica-northeast1", "northamerica-northeast2", "southamerica-east1", "southamerica-west1",
        "europe-west1", "europe-west2", "europe-west3", "europe-west4", "europe-west6", "europe-west8", "europe-west9", "europe-north1",
        "europe-central2", "europe-southwest1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3",
        "asia-south1", "asia-southeast1", "asia-southeast2", "australia-southeast1", "australia-southeast2", "me-west1", "me-central1",
        "africa-south1");
    private static final Pattern PROJECT = Pattern.compile("[a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{6,20}");
    private static final Pattern PARENT = Pattern.compile("projects/([^/]+)/locations/([^/]+)");
    private static final Pattern ENDPOINT = Pattern.compile("projects/([^/]+)/locations/([^/]+)/endpoints/([^/]+)");
    private static final Pattern MODEL = Pattern.compile("projects/([^/]+)/locations/([^/]+)/models/([^/@]+)(@[A-Za-z0-9_-]+)?");
    private static final Pattern LABEL_KEY = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
    private static final Pattern LABEL_VALUE = Pattern.compile("[a-z0-9_-]{0,63}");
    /** Machine families with GPUs built in: the accelerator they must be given, and how many per machine type. */
    private static final Map<Pattern, AcceleratorType> GPU_FAMILIES = Map.of(
        Pattern.compile("a2-(highgpu-(1|2|4|8)g|megagpu-16g)"), AcceleratorType.NVIDIA_TESLA_A100,
        Pattern.compile("a2-ultragpu-(1|2|4|8)g"), AcceleratorType.NVIDIA_A100_80GB,
        Pattern.compile("g2-standard-(4|8|12|16|24|32|48|96)"), AcceleratorType.NVIDIA_L4,
        Pattern.compile("a3-highgpu-(1|2|4|8)g"), AcceleratorType.NVIDIA_H100_80GB);
    private static final Pattern CPU_TYPES = Pattern.compile("n1-(standard|highmem)-(2|4|8|16|32|64|96)|n1-highcpu-(4|8|16|32|64|96)"
        + "|e2-(standard|highmem|highcpu)-(2|4|8|16|32)|n2-(standard|highmem|highcpu)-(2|4|8|16|32|48|64|80)|n2d-standard-(2|4|8|16|32|48|64|80|96)"
        + "|c2-standard-(4|8|16|30|60)|c2d-standard-(2|4|8|16|32|56|112)");
    /** GPUs an N1 machine takes, and the counts allowed. */
    private static final Map<AcceleratorType, Set<Integer>> N1_GPUS = Map.of(AcceleratorType.NVIDIA_TESLA_T4, Set.of(1, 2, 4),
        AcceleratorType.NVIDIA_TESLA_V100, Set.of(1, 2, 4, 8), AcceleratorType.NVIDIA_TESLA_P100, Set.of(1, 2, 4),
        AcceleratorType.NVIDIA_TESLA_P4, Set.of(1, 2, 4));

    private final GcpFakes fakes;
    private final Object lock = new Object();
    private final Map<String, Endpoint> endpoints = new TreeMap<>();
    private final Map<String, Model> models = new TreeMap<>();
    private final Map<String, Op> operations = new LinkedHashMap<>();
    private final Map<String, String> projectNumbers = new TreeMap<>();
    private final List<Map.Entry<Pattern, GoogleError>> failingDeployments = new ArrayList<>();
    private final AtomicLong ids = new AtomicLong(1_742_350_000_000_000_000L);
    private final AtomicLong etags = new AtomicLong(1);

    VertexFake(GcpFakes fakes) {
        this.fakes = fakes;
    }

    /** A long-running operation: pending until {@code doneAt}, then its work's answer or error, computed once. */
    private static final class Op {
        final String name;
        final Any metadata;
        final Instant doneAt;
        final Supplier<Message> work;
        Operation result;

        Op(String name, Any metadata, Instant doneAt, Supplier<Message> work) {
            this.name = name;
            this.metadata = metadata;
            this.doneAt = doneAt;
            this.work = work;
        }
    }

    // ---------------------------------------------------------------- for tests and scripts

    /** Deployments of a model whose artifact URI matches {@code artifactUriRegex} fail, as a model server that never becomes ready. */
    public void failDeployments(String artifactUriRegex, String message) {
        failDeployments(artifactUriRegex, GoogleError.failedPrecondition(message));
    }

    /** Deployments of a model whose artifact URI matches {@code artifactUriRegex} end with {@code error} inside their operation. */
    public void failDeployments(String artifactUriRegex, GoogleError error) {
        synchronized (lock) {
            failingDeployments.add(Map.entry(Pattern.compile(artifactUriRegex), error));
        }
    }

    /** Every endpoint, as GetEndpoint would answer (deployments whose operation is done included). */
    public List<Endpoint> endpoints() {
        synchronized (lock) {
            settle();
            return List.copyOf(endpoints.values());
        }
    }

    public List<Model> models() {
        synchronized (lock) {
            settle();
            return List.copyOf(models.values());
        }
    }

    /** The project number names carry for {@code project} (an id or a number). */
    public String projectNumber(String project) {
        synchronized (lock) {
            return number(project);
        }
    }

    // ---------------------------------------------------------------- gRPC

    @Override
    public List<BindableService> grpc() {
        Descriptors.ServiceDescriptor es = EndpointServiceProto.getDescriptor().findServiceByName("EndpointService");
        Descriptors.ServiceDescriptor ms = ModelServiceProto.getDescriptor().findServiceByName("ModelService");
        Descriptors.ServiceDescriptor os = OperationsProto.getDescriptor().findServiceByName("Operations");
        ServerServiceDefinition endpointService = new Binder(es)
            .unary("CreateEndpoint", CreateEndpointRequest.getDefaultInstance(), Operation.getDefaultInstance(), this::createEndpoint)
            .unary("GetEndpoint", GetEndpointRequest.getDefaultInstance(), Endpoint.getDefaultInstance(), this::getEndpoint)
            .unary("ListEndpoints", ListEndpointsRequest.getDefaultInstance(), ListEndpointsResponse.getDefaultInstance(), this::listEndpoints)
            .unary("UpdateEndpoint", UpdateEndpointRequest.getDefaultInstance(), Endpoint.getDefaultInstance(), this::updateEndpoint)
            .unary("DeleteEndpoint", DeleteEndpointRequest.getDefaultInstance(), Operation.getDefaultInstance(), this::deleteEndpoint)
            .unary("DeployModel", DeployModelRequest.getDefaultInstance(), Operation.getDefaultInstance(), this::deployModel)
            .unary("UndeployModel", UndeployModelRequest.getDefaultInstance(), Operation.getDefaultInstance(), this::undeployModel)
            .unary("MutateDeployedModel", MutateDeployedModelRequest.getDefaultInstance(), Operation.getDefaultInstance(), this::mutateDeployedModel)
            .build();
        ServerServiceDefinition modelService = new Binder(ms)
            .unary("UploadModel", UploadModelRequest.getDefaultInstance(), Operation.getDefaultInstance(), this::uploadModel)
            .unary("GetModel", GetModelRequest.getDefaultInstance(), Model.getDefaultInstance(), this::getModel)
            .unary("UpdateModel", UpdateModelRequest.getDefaultInstance(), Model.getDefaultInstance(), this::updateModel)
            .unary("ListModels", ListModelsRequest.getDefaultInstance(), ListModelsResponse.getDefaultInstance(), this::listModels)
            .unary("DeleteModel", DeleteModelRequest.getDefaultInstance(), Operation.getDefaultInstance(), this::deleteModel)
            .build();
        ServerServiceDefinition operationsService = new Binder(os)
            .unary("GetOperation", GetOperationRequest.getDefaultInstance(), Operation.getDefaultInstance(), this::getOperation)
            .build();
        return List.of(() -> endpointService, () -> modelService, () -> operationsService);
    }

    /**
     * Binds unary handlers on a service as its descriptor declares it: the method must exist there and
     * take and return exactly the given vendor messages (what a generated {@code *ImplBase} guarantees).
     */
    private static final class Binder {
        private final Descriptors.ServiceDescriptor service;
        private final ServerServiceDefinition.Builder builder;

        Binder(Descriptors.ServiceDescriptor service) {
            this.service = service;
            this.builder = ServerServiceDefinition.builder(service.getFullName());
        }

        <Q extends Message, R extends Message> Binder unary(String method, Q request, R response, Function<Q, R> handler) {
            Descriptors.MethodDescriptor m = service.findMethodByName(method);
            if (m == null || !m.getInputType().equals(request.getDescriptorForType()) || !m.getOutputType().equals(response.getDescriptorForType())) {
                throw new IllegalStateException(service.getFullName() + " has no method " + method + "(" + request.getDescriptorForType().getName() + ")");
            }
            MethodDescriptor<Q, R> md = MethodDescriptor.<Q, R>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(service.getFullName(), method))
                .setRequestMarshaller(ProtoUtils.marshaller(request))
                .setResponseMarshaller(ProtoUtils.marshaller(response))
                .build();
            builder.addMethod(md, ServerCalls.asyncUnaryCall((req, observer) -> GcpFakes.answer(observer, () -> handler.apply(req))));
            return this;
        }

        ServerServiceDefinition build() {
            return builder.build();
        }
    }

    // ---------------------------------------------------------------- REST reads

    @Override
    public void routes(FakeHttp http) {
        String loc = "/v1/projects/([^/]+)/locations/([^/]+)";
        http.route("GET", loc + "/endpoints", r -> FakeHttp.Response.ok(Json.print(listEndpoints(ListEndpointsRequest.newBuilder()
            .setParent("projects/" + r.group(1) + "/locations/" + r.group(2)).setFilter(r.query().getOrDefault("filter", ""))
            .setPageSize(Integer.parseInt(r.query().getOrDefault("pageSize", "0"))).setPageToken(r.query().getOrDefault("pageToken", ""))
            .build()), r.enumsAsInts())));
        http.route("GET", loc + "/endpoints/([^/:]+)", r -> FakeHttp.Response.ok(Json.print(getEndpoint(GetEndpointRequest.newBuilder()
            .setName("projects/" + r.group(1) + "/locations/" + r.group(2) + "/endpoints/" + r.group(3)).build()), r.enumsAsInts())));
        http.route("GET", loc + "/models", r -> FakeHttp.Response.ok(Json.print(listModels(ListModelsRequest.newBuilder()
            .setParent("projects/" + r.group(1) + "/locations/" + r.group(2)).setFilter(r.query().getOrDefault("filter", ""))
            .setPageSize(Integer.parseInt(r.query().getOrDefault("pageSize", "0"))).setPageToken(r.query().getOrDefault("pageToken", ""))
            .build()), r.enumsAsInts())));
        http.route("GET", loc + "/models/([^/:]+)", r -> FakeHttp.Response.ok(Json.print(getModel(GetModelRequest.newBuilder()
            .setName("projects/" + r.group(1) + "/locations/" + r.group(2) + "/models/" + r.group(3)).build()), r.enumsAsInts())));
    }

    // ---------------------------------------------------------------- names

    private String number(String project) {
        if (project.matches("[0-9]+")) return project;
        return projectNumbers.computeIfAbsent(project, GcpFakes::projectNumber);
    }

    /** {@code projects/<number>/locations/<l>} from a parent naming the project by id or number; refuses what Vertex refuses. */
    private String location(String parent) {
        if (parent.isEmpty()) throw GoogleError.invalid("parent is required (format: projects/{project}/locations/{location})");
        Matcher m = PARENT.matcher(parent);
        if (!m.matches()) throw GoogleError.invalid("Invalid parent '" + parent + "': expected projects/{project}/locations/{location}");
        return projectAndRegion(m.group(1), m.group(2));
    }

    private String projectAndRegion(String project, String region) {
        if (!PROJECT.matcher(project).matches()) throw GoogleError.invalid("Invalid project '" + project + "'");
        if (!REGIONS.contains(region)) {
            throw GoogleError.invalid("Location '" + region + "' is not supported by Vertex AI (or the request was sent to another region's endpoint)");
        }
        return "projects/" + number(project) + "/locations/" + region;
    }

    private String endpointName(String name) {
        Matcher m = ENDPOINT.matcher(name);
        if (!m.matches()) throw GoogleError.invalid("Invalid Endpoint resource name '" + name + "'");
        return projectAndRegion(m.group(1), m.group(2)) + "/endpoints/" + m.group(3);
    }

    private String modelName(String name) {
        Matcher m = MODEL.matcher(name);
        if (!m.matches()) throw GoogleError.invalid("Invalid Model resource name '" + name + "'");
        String version = m.group(4);
        if (version != null && !version.equals("@1") && !version.equals("@default")) throw GoogleError.notFound(name);
        return projectAndRegion(m.group(1), m.group(2)) + "/models/" + m.group(3);
    }

    private static String parentOf(String name) {
        Matcher m = Pattern.compile("(projects/[^/]+/locations/[^/]+)/.*").matcher(name);
        if (!m.matches()) throw new IllegalStateException(name);
        return m.group(1);
    }

    private String newId() {
        return String.valueOf(ids.addAndGet(1_000_003L));
    }

    private static Timestamp now() {
        Instant i = Instant.now();
        return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
    }

    private String etag() {
        return "AMEw9y" + Long.toString(etags.incrementAndGet(), 36);
    }

    // ---------------------------------------------------------------- operations

    /** Runs the work of every operation that is due, in the order they were started. */
    private void settle() {
        Instant now = Instant.now();
        for (Op op : operations.values()) {
            if (op.result == null && !now.isBefore(op.doneAt)) complete(op);
        }
    }

    private void complete(Op op) {
        Operation.Builder b = Operation.newBuilder().setName(op.name).setMetadata(op.metadata).setDone(true);
        try {
            b.setResponse(Any.pack(op.work.get()));
        } catch (GoogleError e) {
            b.setError(com.google.rpc.Status.newBuilder().setCode(io.grpc.Status.Code.valueOf(e.status()).value()).setMessage(e.getMessage()));
        }
        op.result = b.build();
    }

    private Operation start(String resource, Message metadata, Supplier<Message> work) {
        String name = resource + "/operations/" + newId();
        Op op = new Op(name, Any.pack(metadata), Instant.now().plus(fakes.operationTime()), work);
        operations.put(name, op);
        return Operation.newBuilder().setName(name).setMetadata(op.metadata).setDone(false).build();
    }

    private static GenericOperationMetadata generic() {
        Timestamp t = now();
        return GenericOperationMetadata.newBuilder().setCreateTime(t).setUpdateTime(t).build();
    }

    private Operation getOperation(GetOperationRequest r) {
        synchronized (lock) {
            if (r.getName().isEmpty()) throw GoogleError.invalid("name is required");
            settle();
            Op op = operations.get(r.getName());
            if (op == null) throw GoogleError.notFound(r.getName());
            if (op.result != null) return op.result;
            return Operation.newBuilder().setName(op.name).setMetadata(op.metadata).setDone(false).build();
        }
    }

    // ---------------------------------------------------------------- labels and filters

    private static void checkLabels(Map<String, String> labels) {
        if (labels.size() > 64) throw GoogleError.invalid("At most 64 labels are allowed, got " + labels.size());
        labels.forEach((k, v) -> {
            if (!LABEL_KEY.matcher(k).matches()) {
                throw GoogleError.invalid("Invalid label key '" + k + "': keys must start with a lowercase letter and contain only lowercase letters, "
                    + "digits, '_' and '-', at most 63 characters");
            }
            if (!LABEL_VALUE.matcher(v).matches()) {
                throw GoogleError.invalid("Invalid label value '" + v + "' for key '" + k + "': only lowercase letters, digits, '_' and '-', "
                    + "at most 63 characters");
            }
        });
    }

    /** One term of a list filter: {@code labels.k=v}, {@code labels."k"!="v"}, {@code labels.k:*}, {@code labels:k}, {@code display_name="x"}, {@code endpoint=1}. */
    private record Term(String field, String key, String op, String value) {
    }

    private static final Pattern TERM = Pattern.compile(
        "\\s*(?:(labels)\\s*\\.\\s*(\"[^\"]+\"|[A-Za-z0-9_-]+)|(labels)\\s*:\\s*(\"[^\"]+\"|[A-Za-z0-9_-]+)|(display_name|displayName|endpoint|model))"
            + "\\s*(?:(=|!=|:)\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|[^\\s\"()]+))?\\s*");

    /**
     * The conjunction of terms a Vertex list filter holds, in the subset this fake models. OR, NOT,
     * parentheses and other fields are refused, never silently ignored.
     */
    static List<Term> parseFilter(String filter, String idField) {
        List<Term> out = new ArrayList<>();
        if (filter == null || filter.isBlank()) return out;
        String[] parts = filter.trim().split("\\s+AND\\s+");
        for (String part : parts) {
            Matcher m = TERM.matcher(part);
            if (!m.matches() || part.contains(" OR ") || part.trim().startsWith("NOT ") || part.trim().startsWith("-")) {
                throw GoogleError.invalid("Unsupported filter: '" + filter + "' (near '" + part.trim() + "')");
            }
            if (m.group(1) != null) {
                if (m.group(6) == null) throw GoogleError.invalid("Unsupported filter: '" + filter + "': a label needs an operator");
                String value = unquote(m.group(7));
                if (m.group(6).equals(":") && !value.equals("*")) throw GoogleError.invalid("Unsupported filter: '" + filter + "': use labels.key:*");
                out.add(new Term("labels", unquote(m.group(2)), m.group(6), value));
            } else if (m.group(3) != null) {
                if (m.group(6) != null) throw GoogleError.invalid("Unsupported filter: '" + filter + "'");
                out.add(new Term("labels", unquote(m.group(4)), ":", "*"));
            } else {
                String field = m.group(5).equals("displayName") ? "display_name" : m.group(5);
                if (field.equals("endpoint") || field.equals("model")) {
                    if (!field.equals(idField)) throw GoogleError.invalid("Unsupported filter field '" + field + "' in '" + filter + "'");
                }
                if (m.group(6) == null || m.group(6).equals(":")) throw GoogleError.invalid("Unsupported filter: '" + filter + "': " + field + " supports = and !=");
                out.add(new Term(field, "", m.group(6), unquote(m.group(7))));
            }
        }
        return out;
    }

    private static String unquote(String s) {
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) return s.substring(1, s.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
        return s;
    }

    private static boolean matches(List<Term> terms, String id, String displayName, Map<String, String> labels) {
        for (Term t : terms) {
            String actual = switch (t.field()) {
                case "labels" -> labels.get(t.key());
                case "display_name" -> displayName;
                default -> id;
            };
            boolean ok = switch (t.op()) {
                case ":" -> actual != null;
                case "=" -> t.value().equals(actual);
                default -> !t.value().equals(actual);
            };
            if (!ok) return false;
        }
        return true;
    }

    /** Page tokens are opaque to clients: the offset, encoded with the filter it belongs to. */
    private static int offset(String token, String filter) {
        if (token.isEmpty()) return 0;
        try {
            String[] parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split("\n", 2);
            if (parts.length != 2 || !parts[1].equals(filter)) throw new IllegalArgumentException();
            return Integer.parseInt(parts[0]);
        } catch (IllegalArgumentException e) {
            throw GoogleError.invalid("Invalid page token '" + token + "'");
        }
    }

    private static String token(int offset, String filter) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString((offset + "\n" + filter).getBytes(StandardCharsets.UTF_8));
    }

    private static int pageSize(int requested) {
        if (requested < 0) throw GoogleError.invalid("page_size must not be negative");
        return requested == 0 ? 100 : Math.min(requested, 1000);
    }

    // ---------------------------------------------------------------- endpoints

    private Operation createEndpoint(CreateEndpointRequest r) {
        synchronized (lock) {
            settle();
            String parent = location(r.getParent());
            if (!r.hasEndpoint()) throw GoogleError.invalid("endpoint is required");
            Endpoint e = r.getEndpoint();
            checkDisplayName(e.getDisplayName(), "Endpoint");
            checkLabels(e.getLabelsMap());
            if (!e.getTrafficSplitMap().isEmpty()) throw GoogleError.invalid("traffic_split must be empty: the endpoint has no deployed models");
            String id = r.getEndpointId();
            if (id.isEmpty()) {
                id = newId();
            } else if (!id.matches("[a-z]([a-z0-9-]{0,61}[a-z0-9])?|[1-9][0-9]{0,8}")) {
                throw GoogleError.invalid("Invalid endpoint_id '" + id + "'");
            }
            String name = parent + "/endpoints/" + id;
            if (endpoints.containsKey(name)) throw GoogleError.alreadyExists(name);
            Timestamp t = now();
            // Output-only fields a client sends are ignored, as Google ignores them.
            Endpoint made = e.toBuilder().setName(name).clearDeployedModels().setEtag(etag()).setCreateTime(t).setUpdateTime(t).build();
            endpoints.put(name, made);
            return start(name, CreateEndpointOperationMetadata.newBuilder().setGenericMetadata(generic()).build(), () -> {
                Endpoint now = endpoints.get(name);
                if (now == null) throw GoogleError.notFound(name);
                return now;
            });
        }
    }

    private static void checkDisplayName(String displayName, String what) {
        if (displayName.isEmpty()) throw GoogleError.invalid(what + ".display_name is required");
        if (displayName.length() > 128) throw GoogleError.invalid(what + ".display_name is longer than 128 characters");
    }

    private Endpoint endpoint(String name) {
        String n = endpointName(name);
        Endpoint e = endpoints.get(n);
        if (e == null) throw GoogleError.notFound(n);
        return e;
    }

    private Endpoint getEndpoint(GetEndpointRequest r) {
        synchronized (lock) {
            settle();
            return endpoint(r.getName());
        }
    }

    private ListEndpointsResponse listEndpoints(ListEndpointsRequest r) {
        synchronized (lock) {
            settle();
            String parent = location(r.getParent());
            List<Term> filter = parseFilter(r.getFilter(), "endpoint");
            if (!r.getOrderBy().isEmpty()) throw GoogleError.invalid("order_by is not supported by this fake");
            List<Endpoint> all = new ArrayList<>();
            for (Endpoint e : endpoints.values()) {
                if (!parentOf(e.getName()).equals(parent)) continue;
                if (matches(filter, e.getName().substring(e.getName().lastIndexOf('/') + 1), e.getDisplayName(), e.getLabelsMap())) all.add(e);
            }
            int from = offset(r.getPageToken(), r.getFilter());
            int size = pageSize(r.getPageSize());
            ListEndpointsResponse.Builder b = ListEndpointsResponse.newBuilder();
            for (int i = from; i < Math.min(all.size(), from + size); i++) b.addEndpoints(all.get(i));
            if (from + size < all.size()) b.setNextPageToken(token(from + size, r.getFilter()));
            return b.build();
        }
    }

    private Endpoint updateEndpoint(UpdateEndpointRequest r) {
        synchronized (lock) {
            settle();
            if (!r.hasEndpoint()) throw GoogleError.invalid("endpoint is required");
            Endpoint current = endpoint(r.getEndpoint().getName());
            if (!r.hasUpdateMask() || r.getUpdateMask().getPathsCount() == 0) throw GoogleError.invalid("update_mask is required");
            if (!r.getEndpoint().getEtag().isEmpty() && !r.getEndpoint().getEtag().equals(current.getEtag())) {
                throw new GoogleError(409, "ABORTED", "aborted", "The etag " + r.getEndpoint().getEtag() + " does not match the current etag of "
                    + current.getName() + "; read it again", Map.of());
            }
            Endpoint.Builder b = current.toBuilder();
            for (String path : r.getUpdateMask().getPathsList()) {
                switch (path) {
                    case "display_name", "displayName" -> {
                        checkDisplayName(r.getEndpoint().getDisplayName(), "Endpoint");
                        b.setDisplayName(r.getEndpoint().getDisplayName());
                    }
                    case "description" -> b.setDescription(r.getEndpoint().getDescription());
                    case "labels" -> {
                        checkLabels(r.getEndpoint().getLabelsMap());
                        b.clearLabels().putAllLabels(r.getEndpoint().getLabelsMap());
                    }
                    case "traffic_split", "trafficSplit" -> {
                        checkTraffic(r.getEndpoint().getTrafficSplitMap(), current, null);
                        b.clearTrafficSplit().putAllTrafficSplit(r.getEndpoint().getTrafficSplitMap());
                    }
                    default -> throw GoogleError.invalid("Unsupported update_mask path '" + path + "': UpdateEndpoint updates display_name, "
                        + "description, labels and traffic_split");
                }
            }
            Endpoint updated = b.setEtag(etag()).setUpdateTime(now()).build();
            endpoints.put(current.getName(), updated);
            return updated;
        }
    }

    /** A traffic split names deployed models of the endpoint (or "0" for the one being deployed) and adds up to 100. */
    private static void checkTraffic(Map<String, Integer> split, Endpoint e, String deploying) {
        if (split.isEmpty()) return;
        int sum = 0;
        for (Map.Entry<String, Integer> s : split.entrySet()) {
            boolean known = e.getDeployedModelsList().stream().anyMatch(d -> d.getId().equals(s.getKey())) || s.getKey().equals(deploying);
            if (!known) throw GoogleError.invalid("traffic_split names '" + s.getKey() + "', which is not a DeployedModel of " + e.getName());
            if (s.getValue() < 0 || s.getValue() > 100) throw GoogleError.invalid("traffic_split percentages must be between 0 and 100");
            sum += s.getValue();
        }
        if (sum != 100) throw GoogleError.invalid("traffic_split percentages must add up to 100, got " + sum);
    }

    private Operation deleteEndpoint(DeleteEndpointRequest r) {
        synchronized (lock) {
            settle();
            Endpoint e = endpoint(r.getName());
            if (e.getDeployedModelsCount() > 0 || deploying(e.getName())) {
                throw GoogleError.failedPrecondition("Endpoint " + e.getName() + " has deployed models or models being deployed. "
                    + "Undeploy them before deleting the endpoint.");
            }
            String name = e.getName();
            return start(name, DeleteOperationMetadata.newBuilder().setGenericMetadata(generic()).build(), () -> {
                endpoints.remove(name);
                return Empty.getDefaultInstance();
            });
        }
    }

    private boolean deploying(String endpointName) {
        return operations.values().stream().anyMatch(op -> op.result == null && op.name.startsWith(endpointName + "/operations/")
            && op.metadata.is(DeployModelOperationMetadata.class));
    }

    // ---------------------------------------------------------------- deployments

    private void checkResources(DeployedModel d) {
        if (d.hasAutomaticResources()) {
            throw GoogleError.invalid("Model does not support AutomaticResources: custom-trained models are deployed with dedicated_resources");
        }
        if (!d.getSharedResources().isEmpty()) throw GoogleError.invalid("shared_resources is not supported for this model");
        if (!d.hasDedicatedResources()) throw GoogleError.invalid("deployed_model.dedicated_resources is required");
        DedicatedResources res = d.getDedicatedResources();
        checkMachine(res.getMachineSpec());
        if (res.getMinReplicaCount() < 1) {
            throw GoogleError.invalid("dedicated_resources.min_replica_count must be greater than or equal to 1, got " + res.getMinReplicaCount());
        }
        if (res.getMaxReplicaCount() != 0 && res.getMaxReplicaCount() < res.getMinReplicaCount()) {
            throw GoogleError.invalid("dedicated_resources.max_replica_count (" + res.getMaxReplicaCount() + ") must not be less than "
                + "min_replica_count (" + res.getMinReplicaCount() + ")");
        }
    }

    /** Machine types Vertex serves predictions on, and the accelerators each takes. */
    static void checkMachine(MachineSpec spec) {
        String type = spec.getMachineType();
        if (type.isEmpty()) throw GoogleError.invalid("dedicated_resources.machine_spec.machine_type is required");
        AcceleratorType acc = spec.getAcceleratorType();
        int count = spec.getAcceleratorCount();
        if (acc == AcceleratorType.UNRECOGNIZED) throw GoogleError.invalid("Unknown accelerator_type");
        if (acc == AcceleratorType.ACCELERATOR_TYPE_UNSPECIFIED && count != 0) {
            throw GoogleError.invalid("accelerator_count is set but accelerator_type is not");
        }
        for (Map.Entry<Pattern, AcceleratorType> f : GPU_FAMILIES.entrySet()) {
            if (!f.getKey().matcher(type).matches()) continue;
            int gpus = gpusOf(type);
            if (acc != f.getValue() || count != gpus) {
                throw GoogleError.invalid("Machine type " + type + " requires accelerator_type " + f.getValue() + " with accelerator_count "
                    + gpus + ", got " + acc + " x " + count);
            }
            return;
        }
        if (!CPU_TYPES.matcher(type).matches()) throw GoogleError.invalid("Machine type " + type + " is not supported for online prediction");
        if (acc == AcceleratorType.ACCELERATOR_TYPE_UNSPECIFIED) return;
        if (!type.startsWith("n1-")) {
            throw GoogleError.invalid("Accelerator " + acc + " cannot be attached to machine type " + type + ": GPUs attach to N1 machine types");
        }
        Set<Integer> counts = N1_GPUS.get(acc);
        if (counts == null) throw GoogleError.invalid("Accelerator " + acc + " is not supported with machine type " + type);
        if (!counts.contains(count)) throw GoogleError.invalid("accelerator_count " + count + " is not valid for " + acc + ": use one of " + new java.util.TreeSet<>(counts));
    }

    private static int gpusOf(String type) {
        if (type.startsWith("g2-standard-")) {
            int cpus = Integer.parseInt(type.substring("g2-standard-".length()));
            return cpus <= 16 ? 1 : cpus == 24 ? 2 : cpus == 48 ? 4 : cpus == 96 ? 8 : 1;
        }
        if (type.equals("a2-megagpu-16g")) return 16;
        Matcher m = Pattern.compile(".*-(\\d+)g").matcher(type);
        return m.matches() ? Integer.parseInt(m.group(1)) : 1;
    }

    private Operation deployModel(DeployModelRequest r) {
        synchronized (lock) {
            settle();
            Endpoint e = endpoint(r.getEndpoint());
            if (!r.hasDeployedModel()) throw GoogleError.invalid("deployed_model is required");
            DeployedModel d = r.getDeployedModel();
            if (d.getModel().isEmpty()) throw GoogleError.invalid("deployed_model.model is required");
            String modelName = modelName(d.getModel());
            Model model = models.get(modelName);
            if (model == null) throw GoogleError.notFound(d.getModel());
            if (!parentOf(modelName).equals(parentOf(e.getName()))) {
                throw GoogleError.invalid("Model " + modelName + " is not in the location of endpoint " + e.getName());
            }
            checkResources(d);
            if (!d.getServiceAccount().isEmpty() && !fakes.iam().hasServiceAccount(d.getServiceAccount())) {
                throw GoogleError.invalid("Service account " + d.getServiceAccount() + " does not exist.");
            }
            String id = d.getId();
            if (id.isEmpty()) {
                id = newId();
            } else if (!id.matches("[0-9]{1,10}")) {
                throw GoogleError.invalid("Invalid deployed_model.id '" + id + "': 1-10 digits");
            }
            String newId = id;
            if (e.getDeployedModelsList().stream().anyMatch(x -> x.getId().equals(newId))) {
                throw GoogleError.alreadyExists("DeployedModel " + id + " in " + e.getName());
            }
            checkTraffic(r.getTrafficSplitMap(), e, "0");
            Map<String, Integer> split = new TreeMap<>(r.getTrafficSplitMap());
            String endpointName = e.getName();
            DedicatedResources res = d.getDedicatedResources();
            DeployedModel deployed = d.toBuilder().setId(id).setModel(modelName).setModelVersionId("1")
                .setDisplayName(d.getDisplayName().isEmpty() ? model.getDisplayName() : d.getDisplayName())
                .setDedicatedResources(res.getMaxReplicaCount() == 0 ? res.toBuilder().setMaxReplicaCount(res.getMinReplicaCount()).build() : res)
                .setCreateTime(now()).build();
            Operation op = start(endpointName, DeployModelOperationMetadata.newBuilder().setGenericMetadata(generic()).build(), () -> {
                Endpoint current = endpoints.get(endpointName);
                if (current == null) throw GoogleError.notFound(endpointName);
                Model m = models.get(modelName);
                if (m == null) throw GoogleError.notFound(modelName);
                for (Map.Entry<Pattern, GoogleError> f : failingDeployments) {
                    if (f.getKey().matcher(m.getArtifactUri()).find()) throw f.getValue();
                }
                Endpoint.Builder b = current.toBuilder().addDeployedModels(deployed);
                if (!split.isEmpty()) {
                    b.clearTrafficSplit();
                    split.forEach((k, v) -> b.putTrafficSplit(k.equals("0") ? newId : k, v));
                }
                endpoints.put(endpointName, b.setEtag(etag()).setUpdateTime(now()).build());
                models.put(modelName, m.toBuilder().addDeployedModels(DeployedModelRef.newBuilder().setEndpoint(endpointName)
                    .setDeployedModelId(newId)).build());
                return DeployModelResponse.newBuilder().setDeployedModel(deployed).build();
            });
            pendingDeployModel.put(op.getName(), modelName);
            return op;
        }
    }

    private Operation undeployModel(UndeployModelRequest r) {
        synchronized (lock) {
            settle();
            Endpoint e = endpoint(r.getEndpoint());
            String id = r.getDeployedModelId();
            if (id.isEmpty()) throw GoogleError.invalid("deployed_model_id is required");
            DeployedModel d = e.getDeployedModelsList().stream().filter(x -> x.getId().equals(id)).findFirst()
                .orElseThrow(() -> GoogleError.notFound("DeployedModel " + id + " of " + e.getName()));
            Map<String, Integer> split = new TreeMap<>(r.getTrafficSplitMap());
            boolean last = e.getDeployedModelsCount() == 1;
            if (!split.isEmpty()) {
                if (split.getOrDefault(id, 0) != 0) throw GoogleError.invalid("traffic_split must not assign traffic to the DeployedModel being undeployed");
                Map<String, Integer> others = new TreeMap<>(split);
                others.remove(id);
                checkTraffic(others, e, null);
            } else if (!last && e.getTrafficSplitOrDefault(id, 0) > 0) {
                throw GoogleError.failedPrecondition("DeployedModel " + id + " receives " + e.getTrafficSplitOrDefault(id, 0)
                    + "% of the traffic of " + e.getName() + "; give its traffic to other models (traffic_split) before undeploying it");
            }
            String endpointName = e.getName();
            return start(endpointName, UndeployModelOperationMetadata.newBuilder().setGenericMetadata(generic()).build(), () -> {
                Endpoint current = endpoints.get(endpointName);
                if (current == null) throw GoogleError.notFound(endpointName);
                Endpoint.Builder b = current.toBuilder().clearDeployedModels();
                current.getDeployedModelsList().stream().filter(x -> !x.getId().equals(id)).forEach(b::addDeployedModels);
                Map<String, Integer> traffic = new TreeMap<>(current.getTrafficSplitMap());
                traffic.remove(id);
                if (!split.isEmpty()) {
                    traffic = new TreeMap<>(split);
                    traffic.remove(id);
                }
                if (b.getDeployedModelsCount() == 0) traffic.clear();
                b.clearTrafficSplit().putAllTrafficSplit(traffic);
                endpoints.put(endpointName, b.setEtag(etag()).setUpdateTime(now()).build());
                Model m = models.get(d.getModel());
                if (m != null) {
                    Model.Builder mb = m.toBuilder().clearDeployedModels();
                    m.getDeployedModelsList().stream().filter(ref -> !(ref.getEndpoint().equals(endpointName) && ref.getDeployedModelId().equals(id)))
                        .forEach(mb::addDeployedModels);
                    models.put(d.getModel(), mb.build());
                }
                return UndeployModelResponse.getDefaultInstance();
            });
        }
    }

    private Operation mutateDeployedModel(MutateDeployedModelRequest r) {
        synchronized (lock) {
            settle();
            Endpoint e = endpoint(r.getEndpoint());
            if (!r.hasDeployedModel() || r.getDeployedModel().getId().isEmpty()) throw GoogleError.invalid("deployed_model.id is required");
            String id = r.getDeployedModel().getId();
            DeployedModel d = e.getDeployedModelsList().stream().filter(x -> x.getId().equals(id)).findFirst()
                .orElseThrow(() -> GoogleError.notFound("DeployedModel " + id + " of " + e.getName()));
            if (!r.hasUpdateMask() || r.getUpdateMask().getPathsCount() == 0) throw GoogleError.invalid("update_mask is required");
            DedicatedResources want = r.getDeployedModel().getDedicatedResources();
            DedicatedResources.Builder res = d.getDedicatedResources().toBuilder();
            for (String path : r.getUpdateMask().getPathsList()) {
                switch (path) {
                    case "dedicated_resources.min_replica_count", "dedicatedResources.minReplicaCount" -> res.setMinReplicaCount(want.getMinReplicaCount());
                    case "dedicated_resources.max_replica_count", "dedicatedResources.maxReplicaCount" -> res.setMaxReplicaCount(want.getMaxReplicaCount());
                    case "dedicated_resources.required_replica_count" -> res.setRequiredReplicaCount(want.getRequiredReplicaCount());
                    case "dedicated_resources.autoscaling_metric_specs" -> res.clearAutoscalingMetricSpecs().addAllAutoscalingMetricSpecs(want.getAutoscalingMetricSpecsList());
                    default -> throw GoogleError.invalid("Unsupported update_mask path '" + path + "': only min_replica_count, max_replica_count, "
                        + "required_replica_count and autoscaling_metric_specs of dedicated_resources (and disable_container_logging) can be mutated");
                }
            }
            DedicatedResources mutated = res.build();
            checkResources(d.toBuilder().setDedicatedResources(mutated).build());
            String endpointName = e.getName();
            return start(endpointName, MutateDeployedModelOperationMetadata.newBuilder().setGenericMetadata(generic()).build(), () -> {
                Endpoint current = endpoints.get(endpointName);
                if (current == null) throw GoogleError.notFound(endpointName);
                Endpoint.Builder b = current.toBuilder();
                DeployedModel result = null;
                for (int i = 0; i < b.getDeployedModelsCount(); i++) {
                    if (b.getDeployedModels(i).getId().equals(id)) {
                        result = b.getDeployedModels(i).toBuilder().setDedicatedResources(mutated).build();
                        b.setDeployedModels(i, result);
                    }
                }
                if (result == null) throw GoogleError.notFound("DeployedModel " + id + " of " + endpointName);
                endpoints.put(endpointName, b.setEtag(etag()).setUpdateTime(now()).build());
                return MutateDeployedModelResponse.newBuilder().setDeployedModel(result).build();
            });
        }
    }

    // ---------------------------------------------------------------- models

    private Operation uploadModel(UploadModelRequest r) {
        synchronized (lock) {
            settle();
            String parent = location(r.getParent());
            if (!r.hasModel()) throw GoogleError.invalid("model is required");
            if (!r.getParentModel().isEmpty()) throw GoogleError.invalid("parent_model: uploading versions is not modelled by this fake");
            Model m = r.getModel();
            checkDisplayName(m.getDisplayName(), "Model");
            checkLabels(m.getLabelsMap());
            if (m.getContainerSpec().getImageUri().isEmpty()) {
                throw GoogleError.invalid("Model.container_spec.image_uri is required for a custom-trained model");
            }
            String uri = m.getArtifactUri();
            if (!uri.isEmpty()) {
                if (!uri.startsWith("gs://")) throw GoogleError.invalid("Model.artifact_uri must be a Cloud Storage URI (gs://...), got '" + uri + "'");
                String bucket = uri.substring(5).split("/", 2)[0];
                if (bucket.isEmpty() || !fakes.storage().hasBucket(bucket)) {
                    throw GoogleError.failedPrecondition("Model.artifact_uri " + uri + ": bucket '" + bucket + "' does not exist or is not readable");
                }
            }
            String id = r.getModelId();
            if (id.isEmpty()) {
                id = newId();
            } else if (!id.matches("[a-z_][a-z0-9_-]{0,62}")) {
                throw GoogleError.invalid("Invalid model_id '" + id + "'");
            }
            String name = parent + "/models/" + id;
            if (models.containsKey(name)) throw GoogleError.alreadyExists(name);
            Timestamp t = now();
            Model made = m.toBuilder().setName(name).setVersionId("1").clearVersionAliases().addVersionAliases("default")
                .clearDeployedModels().clearSupportedDeploymentResourcesTypes()
                .addSupportedDeploymentResourcesTypes(Model.DeploymentResourcesType.DEDICATED_RESOURCES)
                .setCreateTime(t).setUpdateTime(t).setVersionCreateTime(t).setVersionUpdateTime(t).setEtag(etag()).build();
            models.put(name, made);
            return start(name, UploadModelOperationMetadata.newBuilder().setGenericMetadata(generic()).build(), () -> {
                if (!models.containsKey(name)) throw GoogleError.notFound(name);
                return UploadModelResponse.newBuilder().setModel(name).setModelVersionId("1").build();
            });
        }
    }

    private Model getModel(GetModelRequest r) {
        synchronized (lock) {
            settle();
            String n = modelName(r.getName());
            Model m = models.get(n);
            if (m == null) throw GoogleError.notFound(n);
            return m;
        }
    }

    /** UpdateModel: display name, description and labels, named in the update mask; an etag, when given, must be the current one. */
    private Model updateModel(UpdateModelRequest r) {
        synchronized (lock) {
            settle();
            if (!r.hasModel()) throw GoogleError.invalid("model is required");
            String n = modelName(r.getModel().getName());
            Model current = models.get(n);
            if (current == null) throw GoogleError.notFound(n);
            if (!r.hasUpdateMask() || r.getUpdateMask().getPathsCount() == 0) throw GoogleError.invalid("update_mask is required");
            if (!r.getModel().getEtag().isEmpty() && !r.getModel().getEtag().equals(current.getEtag())) {
                throw new GoogleError(409, "ABORTED", "aborted", "The etag " + r.getModel().getEtag() + " does not match the current etag of "
                    + n + "; read it again", Map.of());
            }
            Model.Builder b = current.toBuilder();
            for (String path : r.getUpdateMask().getPathsList()) {
                switch (path) {
                    case "display_name", "displayName" -> {
                        checkDisplayName(r.getModel().getDisplayName(), "Model");
                        b.setDisplayName(r.getModel().getDisplayName());
                    }
                    case "description" -> b.setDescription(r.getModel().getDescription());
                    case "labels" -> {
                        checkLabels(r.getModel().getLabelsMap());
                        b.clearLabels().putAllLabels(r.getModel().getLabelsMap());
                    }
                    default -> throw GoogleError.invalid("Unsupported update_mask path '" + path + "' (this fake updates display_name, description "
                        + "and labels of a model; artifact, container and other immutable fields cannot be updated)");
                }
            }
            Model updated = b.setEtag(etag()).setUpdateTime(now()).build();
            models.put(n, updated);
            return updated;
        }
    }

    private ListModelsResponse listModels(ListModelsRequest r) {
        synchronized (lock) {
            settle();
            String parent = location(r.getParent());
            List<Term> filter = parseFilter(r.getFilter(), "model");
            if (!r.getOrderBy().isEmpty()) throw GoogleError.invalid("order_by is not supported by this fake");
            List<Model> all = new ArrayList<>();
            for (Model m : models.values()) {
                if (!parentOf(m.getName()).equals(parent)) continue;
                if (matches(filter, m.getName().substring(m.getName().lastIndexOf('/') + 1), m.getDisplayName(), m.getLabelsMap())) all.add(m);
            }
            int from = offset(r.getPageToken(), r.getFilter());
            int size = pageSize(r.getPageSize());
            ListModelsResponse.Builder b = ListModelsResponse.newBuilder();
            for (int i = from; i < Math.min(all.size(), from + size); i++) b.addModels(all.get(i));
            if (from + size < all.size()) b.setNextPageToken(token(from + size, r.getFilter()));
            return b.build();
        }
    }

    private Operation deleteModel(DeleteModelRequest r) {
        synchronized (lock) {
            settle();
            String name = modelName(r.getName());
            Model m = models.get(name);
            if (m == null) throw GoogleError.notFound(name);
            boolean beingDeployed = operations.values().stream().anyMatch(op -> op.result == null && op.metadata.is(DeployModelOperationMetadata.class)
                && pendingDeployOf(op, name));
            if (m.getDeployedModelsCount() > 0 || beingDeployed) {
                StringBuilder where = new StringBuilder();
                m.getDeployedModelsList().forEach(ref -> where.append(where.length() == 0 ? "" : ", ").append(ref.getEndpoint()));
                throw GoogleError.failedPrecondition("The model " + name + " is deployed or being deployed at the following endpoints: "
                    + where + ". Undeploy the model from the endpoints before deleting it.");
            }
            return start(name, DeleteOperationMetadata.newBuilder().setGenericMetadata(generic()).build(), () -> {
                models.remove(name);
                return Empty.getDefaultInstance();
            });
        }
    }

    private final Map<String, String> pendingDeployModel = new TreeMap<>();

    private boolean pendingDeployOf(Op op, String model) {
        return model.equals(pendingDeployModel.get(op.name));
    }
}
