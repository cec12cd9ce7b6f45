package io.mlctl.fake.gcp;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Stateful local fakes of the Google Cloud APIs the GCP driver uses, for tests and for trying mlctl
 * without a Google account. REST (Compute, Storage, GKE, Resource Manager, and REST reads of IAM
 * and Vertex AI) on one loopback port, gRPC (IAM admin, Vertex AI, their long-running operations)
 * on another. Requests are parsed with the vendor's generated classes and refused when the real API
 * would refuse them; long-running operations are pending first and done when polled again.
 *
 * <p>Run on its own: {@code bin/gcp-fakes [--port 8085] [--grpc-port 8086]} prints the environment
 * that points gcloud-compatible tools (and mlctl) at it.
 */
public final class GcpFakes implements AutoCloseable {
    private final Faults faults = new Faults();
    private final FakeHttp http;
    private final Server grpc;
    private final ComputeFake compute;
    private final StorageFake storage;
    private final ContainerFake container;
    private final IamFake iam;
    private final ResourceManagerFake resourceManager;
    private final VertexFake vertex;
    private volatile Duration operationTime = Duration.ZERO;

    public GcpFakes(int httpPort, int grpcPort) throws IOException {
        this.http = new FakeHttp(httpPort, faults);
        this.compute = new ComputeFake(this);
        this.storage = new StorageFake(this);
        this.container = new ContainerFake(this);
        this.iam = new IamFake(this);
        this.resourceManager = new ResourceManagerFake(this);
        this.vertex = new VertexFake(this);
        List<FakeService> services = List.of(compute, storage, container, iam, resourceManager, vertex);
        NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", grpcPort));
        GrpcFaults interceptor = new GrpcFaults(faults);
        for (FakeService s : services) {
            s.routes(http);
            for (BindableService g : s.grpc()) b.addService(ServerInterceptors.intercept(g, interceptor));
        }
        admin();
        this.grpc = b.build();
    }

    /** Both servers on free loopback ports. */
    public static GcpFakes start() throws IOException {
        GcpFakes f = new GcpFakes(0, 0);
        f.startServers();
        return f;
    }

    public void startServers() throws IOException {
        http.start();
        grpc.start();
    }

    public int httpPort() {
        return http.port();
    }

    public int grpcPort() {
        return grpc.getPort();
    }

    public Faults faults() {
        return faults;
    }

    public ComputeFake compute() {
        return compute;
    }

    public StorageFake storage() {
        return storage;
    }

    public ContainerFake container() {
        return container;
    }

    public IamFake iam() {
        return iam;
    }

    public ResourceManagerFake resourceManager() {
        return resourceManager;
    }

    public VertexFake vertex() {
        return vertex;
    }

    /** How long a long-running operation stays pending (zero: done at its first poll). */
    public Duration operationTime() {
        return operationTime;
    }

    public void operationTime(Duration d) {
        this.operationTime = d;
    }

    /** The number of a project (an id, or already a number), one for every fake: Storage, Resource Manager and Vertex agree on it. */
    public static String projectNumber(String project) {
        if (project.matches("[0-9]+")) return project;
        return String.valueOf(100_000_000_000L + Math.floorMod(project.hashCode() * 2_654_435_761L, 899_999_999_999L));
    }

    /** The variables that point the GCP driver (and gcloud) at these fakes. */
    public Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        String rest = "http://127.0.0.1:" + httpPort() + "/";
        String rpc = "http://127.0.0.1:" + grpcPort() + "/";
        env.put("CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE", rest);
        env.put("CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER", rest);
        env.put("CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER", rest);
        env.put("CLOUDSDK_API_ENDPOINT_OVERRIDES_IAM", rpc);
        env.put("CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM", rpc);
        env.put("CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE", rest);
        env.put("STORAGE_EMULATOR_HOST", "http://127.0.0.1:" + httpPort());
        return env;
    }

    /** Answers a unary gRPC call; a {@link GoogleError} becomes its status. */
    static <T> void answer(StreamObserver<T> observer, Supplier<T> work) {
        T value;
        try {
            value = work.get();
        } catch (GoogleError e) {
            observer.onError(e.grpcException());
            return;
        } catch (RuntimeException e) {
            observer.onError(io.grpc.Status.INTERNAL.withDescription("fake: " + e).asRuntimeException());
            return;
        }
        observer.onNext(value);
        observer.onCompleted();
    }

    /** {@code GET /_fake/requests}, {@code POST /_fake/faults}, {@code POST /_fake/reset}: for scripts and other processes. */
    private void admin() {
        http.route("GET", "/_fake/requests", r -> FakeHttp.Response.ok("{\"total\":" + faults.total() + "}"));
        http.route("POST", "/_fake/reset", r -> {
            faults.clear();
            faults.resetCounts();
            return FakeHttp.Response.empty();
        });
        http.route("POST", "/_fake/faults", r -> {
            // {"match": "POST .*/instances$", "times": 1, "kind": "drop"} or {"match": ..., "status": 503}
            com.google.gson.JsonObject o = com.google.gson.JsonParser.parseString(r.body()).getAsJsonObject();
            String match = o.get("match").getAsString();
            int times = o.has("times") ? o.get("times").getAsInt() : 1;
            if (o.has("kind") && "drop".equals(o.get("kind").getAsString())) {
                faults.dropResponse(match, times);
            } else {
                int status = o.has("status") ? o.get("status").getAsInt() : 503;
                faults.fail(match, times, status == 429 ? Faults.rateLimited() : status == 503 ? Faults.unavailable()
                    : new GoogleError(status, "UNKNOWN", "fault", "injected " + status, Map.of()));
            }
            return FakeHttp.Response.empty();
        });
        http.route("POST", "/_fake/operation-time", r -> {
            operationTime(Duration.ofMillis(Long.parseLong(r.query().getOrDefault("millis", "0"))));
            return FakeHttp.Response.empty();
        });
    }

    @Override
    public void close() {
        grpc.shutdownNow();
        http.close();
    }

    public static void main(String[] args) throws Exception {
        int port = 8085;
        int grpcPort = 8086;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--grpc-port" -> grpcPort = Integer.parseInt(args[++i]);
                case "-h", "--help" -> {
                    System.out.println("usage: gcp-fakes [--port 8085] [--grpc-port 8086]\n"
                        + "Local fakes of Compute, Storage, GKE, IAM, Resource Manager and Vertex AI on 127.0.0.1.");
                    return;
                }
                default -> {
                    System.err.println("gcp-fakes: unknown argument " + args[i] + " (see --help)");
                    System.exit(1);
                }
            }
        }
        GcpFakes fakes = new GcpFakes(port, grpcPort);
        fakes.startServers();
        System.out.println("# GCP fakes listening on 127.0.0.1:" + fakes.httpPort() + " (REST) and 127.0.0.1:" + fakes.grpcPort() + " (gRPC)");
        System.out.println("# point mlctl at them with:");
        fakes.environment().forEach((k, v) -> System.out.println("export " + k + "=" + v));
        System.out.println("export GOOGLE_CLOUD_PROJECT=mlctl-fake-project");
        System.out.flush();
        Runtime.getRuntime().addShutdownHook(new Thread(fakes::close));
        Thread.currentThread().join();
    }
}
