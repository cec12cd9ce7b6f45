package io.mlctl.provider.gcp;

import com.google.api.client.http.javanet.DefaultConnectionFactory;
import com.google.api.client.http.javanet.NetHttpTransport;
import com.google.api.gax.core.BackgroundResource;
import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.GrpcTransportChannel;
import com.google.api.gax.grpc.InstantiatingGrpcChannelProvider;
import com.google.api.gax.httpjson.InstantiatingHttpJsonChannelProvider;
import com.google.api.gax.rpc.ClientSettings;
import com.google.api.gax.rpc.FixedTransportChannelProvider;
import com.google.api.gax.rpc.TransportChannelProvider;
import com.google.cloud.NoCredentials;
import com.google.cloud.aiplatform.v1.EndpointServiceClient;
import com.google.cloud.aiplatform.v1.EndpointServiceSettings;
import com.google.cloud.aiplatform.v1.ModelServiceClient;
import com.google.cloud.aiplatform.v1.ModelServiceSettings;
import com.google.cloud.compute.v1.FirewallsClient;
import com.google.cloud.compute.v1.FirewallsSettings;
import com.google.cloud.compute.v1.InstancesClient;
import com.google.cloud.compute.v1.InstancesSettings;
import com.google.cloud.compute.v1.NetworksClient;
import com.google.cloud.compute.v1.NetworksSettings;
import com.google.cloud.compute.v1.SubnetworksClient;
import com.google.cloud.compute.v1.SubnetworksSettings;
import com.google.cloud.container.v1.ClusterManagerClient;
import com.google.cloud.container.v1.ClusterManagerSettings;
import com.google.cloud.http.HttpTransportOptions;
import com.google.cloud.iam.admin.v1.IAMClient;
import com.google.cloud.iam.admin.v1.IAMSettings;
import com.google.cloud.resourcemanager.v3.ProjectsClient;
import com.google.cloud.resourcemanager.v3.ProjectsSettings;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageOptions;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.mlctl.provider.DriverException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Google Cloud clients of one environment (project and region), made on first use and counted:
 * every HTTP request (REST clients, including operation polls) and every gRPC call goes through a
 * counter, for benchmarks and metrics. Compute, Storage, GKE and Resource Manager speak HTTP/JSON;
 * IAM admin and Vertex AI are gRPC-only in their Java clients.
 */
public final class GcpClients implements AutoCloseable {
    private final GcpSettings settings;
    private final String project;
    private final String region;
    private final AtomicLong requests = new AtomicLong();
    private final NetHttpTransport http;
    private final List<AutoCloseable> open = new ArrayList<>();
    private NetworksClient networks;
    private SubnetworksClient subnetworks;
    private FirewallsClient firewalls;
    private InstancesClient instances;
    private Storage storage;
    private ClusterManagerClient clusters;
    private ProjectsClient projects;
    private IAMClient iam;
    private EndpointServiceClient endpoints;
    private ModelServiceClient models;

    public GcpClients(GcpSettings settings, String project, String region) {
        this.settings = settings;
        this.project = project;
        this.region = region;
        DefaultConnectionFactory direct = new DefaultConnectionFactory();
        this.http = new NetHttpTransport.Builder().setConnectionFactory(url -> {
            requests.incrementAndGet();
            return direct.openConnection(url);
        }).build();
    }

    public String project() {
        return project;
    }

    public String region() {
        return region;
    }

    public long requestCount() {
        return requests.get();
    }

    public synchronized NetworksClient networks() {
        if (networks == null) networks = track(build("compute", () -> NetworksClient.create(
            rest(NetworksSettings.newBuilder(), NetworksSettings.defaultHttpJsonTransportProviderBuilder(), "compute").build())));
        return networks;
    }

    public synchronized SubnetworksClient subnetworks() {
        if (subnetworks == null) subnetworks = track(build("compute", () -> SubnetworksClient.create(
            rest(SubnetworksSettings.newBuilder(), SubnetworksSettings.defaultHttpJsonTransportProviderBuilder(), "compute").build())));
        return subnetworks;
    }

    public synchronized FirewallsClient firewalls() {
        if (firewalls == null) firewalls = track(build("compute", () -> FirewallsClient.create(
            rest(FirewallsSettings.newBuilder(), FirewallsSettings.defaultHttpJsonTransportProviderBuilder(), "compute").build())));
        return firewalls;
    }

    public synchronized InstancesClient instances() {
        if (instances == null) instances = track(build("compute", () -> InstancesClient.create(
            rest(InstancesSettings.newBuilder(), InstancesSettings.defaultHttpJsonTransportProviderBuilder(), "compute").build())));
        return instances;
    }

    public synchronized ClusterManagerClient clusters() {
        if (clusters == null) clusters = track(build("container", () -> ClusterManagerClient.create(
            rest(ClusterManagerSettings.newHttpJsonBuilder(), ClusterManagerSettings.defaultHttpJsonTransportProviderBuilder(), "container").build())));
        return clusters;
    }

    public synchronized ProjectsClient projects() {
        if (projects == null) projects = track(build("cloudresourcemanager", () -> ProjectsClient.create(
            rest(ProjectsSettings.newHttpJsonBuilder(), ProjectsSettings.defaultHttpJsonTransportProviderBuilder(), "cloudresourcemanager").build())));
        return projects;
    }

    public synchronized IAMClient iam() {
        if (iam == null) iam = track(build("iam", () -> IAMClient.create(
            grpc(IAMSettings.newBuilder(), IAMSettings.defaultGrpcTransportProviderBuilder(), "iam", "iam.googleapis.com:443").build())));
        return iam;
    }

    /** Vertex AI answers on a regional endpoint ({@code us-central1-aiplatform.googleapis.com}). */
    public synchronized EndpointServiceClient endpoints() {
        if (endpoints == null) endpoints = track(build("aiplatform", () -> EndpointServiceClient.create(
            grpc(EndpointServiceSettings.newBuilder(), EndpointServiceSettings.defaultGrpcTransportProviderBuilder(), "aiplatform",
                region + "-aiplatform.googleapis.com:443").build())));
        return endpoints;
    }

    public synchronized ModelServiceClient models() {
        if (models == null) models = track(build("aiplatform", () -> ModelServiceClient.create(
            grpc(ModelServiceSettings.newBuilder(), ModelServiceSettings.defaultGrpcTransportProviderBuilder(), "aiplatform",
                region + "-aiplatform.googleapis.com:443").build())));
        return models;
    }

    public synchronized Storage storage() {
        if (storage == null) {
            StorageOptions.Builder b = StorageOptions.http().setProjectId(project)
                .setTransportOptions(HttpTransportOptions.newBuilder().setHttpTransportFactory(() -> http).build());
            settings.endpoint("storage").ifPresent(u -> b.setHost(u.getScheme() + "://" + u.getAuthority()));
            if (settings.plaintext("storage")) b.setCredentials(NoCredentials.getInstance());
            storage = build("storage", () -> b.build().getService());
            open.add(storage);
        }
        return storage;
    }

    /** A REST client: the counted transport, and the overridden endpoint without credentials when it is a local fake. */
    private <S extends ClientSettings<S>, B extends ClientSettings.Builder<S, B>> B rest(
            B builder, InstantiatingHttpJsonChannelProvider.Builder transport, String service) {
        builder.setTransportChannelProvider(transport.setHttpTransport(http).build());
        settings.endpoint(service).ifPresent(u -> builder.setEndpoint(u.getScheme() + "://" + u.getAuthority()));
        if (settings.plaintext(service)) builder.setCredentialsProvider(NoCredentialsProvider.create());
        return builder;
    }

    /** A gRPC client: counted calls; plaintext and no credentials on an overridden {@code http://} endpoint. */
    private <S extends ClientSettings<S>, B extends ClientSettings.Builder<S, B>> B grpc(
            B builder, InstantiatingGrpcChannelProvider.Builder transport, String service, String defaultEndpoint) {
        ClientInterceptor counter = new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                requests.incrementAndGet();
                return next.newCall(method, options);
            }
        };
        if (settings.plaintext(service)) {
            String[] hp = settings.hostPort(service).orElseThrow().split(":");
            ManagedChannel channel = ManagedChannelBuilder.forAddress(hp[0], Integer.parseInt(hp[1])).usePlaintext().intercept(counter).build();
            open.add(() -> channel.shutdownNow());
            TransportChannelProvider fixed = FixedTransportChannelProvider.create(GrpcTransportChannel.create(channel));
            builder.setTransportChannelProvider(fixed).setCredentialsProvider(NoCredentialsProvider.create());
        } else {
            String endpoint = settings.hostPort(service).orElse(defaultEndpoint);
            builder.setEndpoint(endpoint);
            builder.setTransportChannelProvider(transport.setEndpoint(endpoint).setInterceptorProvider(() -> List.of(counter)).build());
        }
        return builder;
    }

    private interface Make<T> {
        T make() throws IOException;
    }

    private static <T> T build(String service, Make<T> make) {
        try {
            return make.make();
        } catch (IOException e) {
            throw GcpErrors.credentials(service, e);
        } catch (RuntimeException e) {
            if (GcpErrors.isMissingCredentials(e)) throw GcpErrors.credentials(service, e);
            throw e;
        }
    }

    private <T extends BackgroundResource> T track(T client) {
        open.add(client);
        return client;
    }

    @Override
    public synchronized void close() {
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception e) {
                // closing is best effort: nothing is in flight when a driver is closed
            }
        }
        open.clear();
    }

    /** For messages: never credentials. */
    @Override
    public String toString() {
        return "GcpClients[" + project + "/" + region + "]";
    }

    static DriverException unreachable(String what, Throwable e) {
        return new DriverException(what + ": " + GcpErrors.firstLine(e.getMessage()), true, e);
    }
}
