package io.mlctl.provider.aws;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.provider.Driver;
import io.mlctl.provider.Page;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** The AWS driver: each spec type on its AWS service, on the official SDK v2. */
public final class AwsDriver implements Driver {
    private final AwsSettings settings;
    private final Map<String, AwsClients> clients = new ConcurrentHashMap<>();
    private final Map<ResourceType, AwsKind> kinds = new EnumMap<>(ResourceType.class);

    public AwsDriver(AwsSettings settings, io.mlctl.catalog.Catalog catalog) {
        this.settings = settings;
        kinds.put(ResourceType.NETWORK, new NetworkKind());
        kinds.put(ResourceType.BUCKET, new BucketKind());
        kinds.put(ResourceType.IDENTITY, new IdentityKind());
        kinds.put(ResourceType.INSTANCE, new InstanceKind());
        kinds.put(ResourceType.KUBERNETES_CLUSTER, new ClusterKind(catalog.of(io.mlctl.spec.Provider.AWS)));
        kinds.put(ResourceType.INFERENCE_ENDPOINT, new EndpointKind());
    }

    private AwsClients clients(Environment env) {
        return clients.computeIfAbsent(env.region(), r -> new AwsClients(r, settings));
    }

    @Override
    public String name() {
        return "aws";
    }

    @Override
    public Page list(Environment env, ResourceType kind, Optional<String> pageToken) {
        return kinds.get(kind).list(clients(env), env, pageToken);
    }

    @Override
    public ObservedResource create(Environment env, ResourceSpec desired, Map<String, String> tags, String token) {
        return kinds.get(desired.address().type()).create(clients(env), env, desired, tags, token);
    }

    @Override
    public ObservedResource update(Environment env, ObservedResource current, ResourceSpec desired) {
        return kinds.get(desired.address().type()).update(clients(env), env, current, desired);
    }

    @Override
    public void delete(Environment env, ObservedResource current) {
        kinds.get(current.address().type()).delete(clients(env), env, current);
    }

    @Override
    public long requestCount() {
        return clients.values().stream().mapToLong(AwsClients::requestCount).sum();
    }

    @Override
    public void close() {
        clients.values().forEach(AwsClients::close);
        clients.clear();
    }
}
