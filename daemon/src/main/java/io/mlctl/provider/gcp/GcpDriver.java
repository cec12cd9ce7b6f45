package io.mlctl.provider.gcp;

import com.google.cloud.ServiceOptions;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.Driver;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.ManagedResources;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceKind;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.Target;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The GCP driver: each spec type on its Google Cloud service through the official client libraries.
 * The project is the spec's {@code account}, else gcloud's (environment, then Application Default
 * Credentials); the region is the spec's. See {@link GcpMarker} for how ownership is marked where
 * GCP takes no labels.
 */
public final class GcpDriver implements Driver {
    private final GcpSettings settings;
    private final ManagedResources<GcpClients> kinds;
    private final Map<String, GcpClients> clients = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicReference<String> defaultProject = new java.util.concurrent.atomic.AtomicReference<>();

    public GcpDriver(GcpSettings settings) {
        this(settings, List.of(new NetworkKind(), new BucketKind(), new IdentityKind(), new InstanceKind(), new ClusterKind(), new EndpointKind()));
    }

    GcpDriver(GcpSettings settings, List<ResourceKind<GcpClients>> kinds) {
        this.settings = settings;
        this.kinds = new ManagedResources<>(GcpMarker.INSTANCE, kinds);
    }

    @Override
    public String name() {
        return "gcp";
    }

    @Override
    public ResourceRules rules(ResourceType kind) {
        return kinds.rules(kind);
    }

    @Override
    public Target target(Environment env) {
        return new Target(project(env), env.region());
    }

    /** The spec's project, else the one gcloud would use (found once per driver: it may ask the metadata server). */
    String project(Environment env) {
        if (env.account().isPresent()) return env.account().get();
        return defaultProject.updateAndGet(p -> p != null ? p : defaultProject(env));
    }

    private String defaultProject(Environment env) {
        Optional<String> fromEnv = settings.projectFromEnvironment();
        if (fromEnv.isPresent()) return fromEnv.get();
        String adc = null;
        try {
            adc = ServiceOptions.getDefaultProjectId();
        } catch (RuntimeException e) {
            // no project anywhere: said below
        }
        if (adc == null || adc.isBlank()) {
            throw new DriverException("no GCP project for environment " + env.name() + ": set spec.account, GOOGLE_CLOUD_PROJECT, "
                + "or 'gcloud config set project'", false);
        }
        return adc;
    }

    GcpClients clients(Environment env) {
        String project = project(env);
        return clients.computeIfAbsent(project + "/" + env.region(), k -> new GcpClients(settings, project, env.region()));
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
    public java.util.Optional<ObservedResource> read(Environment env, io.mlctl.spec.Address address, String cloudId) {
        return kinds.read(clients(env), env, address, cloudId);
    }

    @Override
    public java.util.Optional<String> markedBy(java.util.Map<String, String> tags) {
        return kinds.marker().marked(tags) ? java.util.Optional.of(kinds.marker().describeOwner(tags)) : java.util.Optional.empty();
    }

    @Override
    public ObservedResource adopt(Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
        return kinds.adopt(clients(env), env, current, desired, changes);
    }

    @Override
    public java.util.Map<String, String> outputs(Environment env, ObservedResource resource) {
        return kinds.outputs(clients(env), env, resource);
    }

    @Override
    public void delete(Environment env, ObservedResource current) {
        kinds.delete(clients(env), env, current);
    }

    @Override
    public long requestCount() {
        return clients.values().stream().mapToLong(GcpClients::requestCount).sum();
    }

    @Override
    public void close() {
        clients.values().forEach(GcpClients::close);
        clients.clear();
    }
}
