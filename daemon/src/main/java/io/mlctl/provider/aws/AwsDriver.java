package io.mlctl.provider.aws;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.Driver;
import io.mlctl.provider.ManagedResources;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.TagMarker;
import io.mlctl.provider.Target;
import io.mlctl.provider.Page;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** The AWS driver: each spec type on its AWS service, on the official SDK v2. */
public final class AwsDriver implements Driver {
    private final AwsSettings settings;
    private final Map<String, AwsClients> clients = new ConcurrentHashMap<>();
    private final ManagedResources<AwsClients> kinds;

    public AwsDriver(AwsSettings settings, io.mlctl.catalog.Catalog catalog) {
        this.settings = settings;
        this.kinds = new ManagedResources<>(TagMarker.INSTANCE, List.of(new NetworkKind(), new BucketKind(), new IdentityKind(),
            new InstanceKind(catalog.of(io.mlctl.spec.Provider.AWS)), new ClusterKind(catalog.of(io.mlctl.spec.Provider.AWS)),
            new EndpointKind(catalog.of(io.mlctl.spec.Provider.AWS))));
    }

    private AwsClients clients(Environment env) {
        return clients.computeIfAbsent(env.region(), r -> new AwsClients(r, settings));
    }

    @Override
    public String name() {
        return "aws";
    }

    @Override
    public ResourceRules rules(ResourceType kind) {
        return kinds.rules(kind);
    }

    @Override
    public Target target(Environment env) {
        return new Target("", env.region()); // TODO(framework): the caller's account from STS
    }

    @Override
    public Page list(Environment env, ResourceType kind, Optional<String> pageToken) {
        return kinds.list(clients(env), env, kind, pageToken);
    }

    @Override
    public ObservedResource create(Environment env, ResourceSpec desired, CreateRequest request) {
        return kinds.create(clients(env), env, desired, request);
    }

    @Override
    public ObservedResource update(Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
        return kinds.update(clients(env), env, current, desired, changes);
    }

    @Override
    public void delete(Environment env, ObservedResource current) {
        kinds.delete(clients(env), env, current);
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
