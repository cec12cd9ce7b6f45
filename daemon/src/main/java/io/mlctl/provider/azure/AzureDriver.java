package io.mlctl.provider.azure;

import com.azure.resourcemanager.resources.fluent.models.ResourceGroupInner;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.Driver;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.ManagedResources;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceKind;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.TagMarker;
import io.mlctl.provider.Target;
import io.mlctl.provider.Waiter;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Azure driver: each spec type on its Azure service through the Azure SDK for Java management
 * libraries, every resource of an environment in one resource group. The subscription is the spec's
 * {@code account}, else {@code AZURE_SUBSCRIPTION_ID}, else the Azure CLI's default; the region is the
 * spec's. A resource group is created when missing (tagged as this environment's) and deleted after
 * a destroy only if mlctl created it and nothing else lives in it.
 */
public final class AzureDriver implements Driver {
    private final AzureSettings settings;
    private final ManagedResources<AzureClients> kinds;
    private final Map<String, AzureClients> clients = new ConcurrentHashMap<>();
    private final Set<String> groupsReady = ConcurrentHashMap.newKeySet();
    /** A resource group's delete takes minutes (it deletes everything in it). */
    private final Waiter groupWait;

    public AzureDriver(AzureSettings settings) {
        this(settings, List.of(new NetworkKind(), new BucketKind(), new IdentityKind(), new InstanceKind(), new ClusterKind(), new EndpointKind()));
    }

    AzureDriver(AzureSettings settings, List<ResourceKind<AzureClients>> kinds) {
        this(settings, kinds, Waiter.of(java.time.Duration.ofSeconds(10), java.time.Duration.ofMinutes(30)));
    }

    AzureDriver(AzureSettings settings, List<ResourceKind<AzureClients>> kinds, Waiter groupWait) {
        this.groupWait = groupWait;
        this.settings = settings;
        this.kinds = new ManagedResources<>(TagMarker.INSTANCE, kinds);
    }

    @Override
    public String name() {
        return "azure";
    }

    @Override
    public ResourceRules rules(ResourceType kind) {
        return kinds.rules(kind);
    }

    @Override
    public Target target(Environment env) {
        return new Target(subscription(env), env.region());
    }

    String subscription(Environment env) {
        if (env.account().isPresent()) return env.account().get();
        return settings.subscriptionFromEnvironment().orElseThrow(() -> new DriverException(
            "no Azure subscription for environment " + env.name() + ": set spec.account, AZURE_SUBSCRIPTION_ID, or 'az account set'", false));
    }

    AzureClients clients(Environment env) {
        String subscription = subscription(env);
        return clients.computeIfAbsent(subscription + "/" + env.region(), k -> new AzureClients(settings, subscription, env.region()));
    }

    @Override
    public Page list(Environment env, ResourceType kind, Optional<String> pageToken) {
        return kinds.list(clients(env), env, kind, pageToken);
    }

    @Override
    public ObservedResource create(Environment env, ResourceSpec desired, CreateRequest request) {
        AzureClients cloud = clients(env);
        ensureGroup(cloud, env);
        return kinds.create(cloud, env, desired, request);
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

    /**
     * The environment's resource group, made when missing: tagged as this environment's, in the spec's
     * region. An existing group (someone else's, or named in the spec) is used as it is and never changed.
     */
    private void ensureGroup(AzureClients cloud, Environment env) {
        String group = AzureKind.resourceGroup(env);
        if (groupsReady.contains(cloud.subscription() + "/" + group)) return;
        var groups = cloud.resources().serviceClient().getResourceGroups();
        Optional<ResourceGroupInner> found = AzureErrors.find("read resource group " + group, () -> groups.get(group));
        if (found.isPresent() && deleting(found.get())) {
            // A destroy (perhaps a killed one) is deleting it: wait until it is gone, then make it anew.
            groupWait.until("resource group " + group + " to finish deleting", () -> AzureErrors.find("read resource group " + group, () -> groups.get(group))
                .map(g -> deleting(g) ? Waiter.Status.pending("Deleting") : Waiter.Status.ready(g.properties() == null ? "?" : g.properties().provisioningState()))
                .orElse(Waiter.Status.ready("gone")));
            found = AzureErrors.find("read resource group " + group, () -> groups.get(group));
        }
        if (found.isEmpty()) {
            ResourceGroupInner rg = new ResourceGroupInner().withLocation(env.region())
                .withTags(Map.of(Ownership.ENVIRONMENT_TAG, env.name(), Ownership.MANAGED_BY_TAG, "mlctl"));
            AzureErrors.call("create resource group " + group, () -> groups.createOrUpdate(group, rg));
        }
        groupsReady.add(cloud.subscription() + "/" + group);
    }

    private static boolean deleting(ResourceGroupInner g) {
        return g.properties() != null && "Deleting".equalsIgnoreCase(g.properties().provisioningState());
    }

    /** Whether mlctl made this group for {@code env} (it carries the environment's tags). */
    static boolean ourGroup(Map<String, String> tags, Environment env) {
        return env.name().equals(tags.get(Ownership.ENVIRONMENT_TAG)) && "mlctl".equals(tags.get(Ownership.MANAGED_BY_TAG))
            && !tags.containsKey(Ownership.ADDRESS_TAG);
    }

    /** After a destroy: deletes the environment's resource group if mlctl made it and it is empty. */
    @Override
    public void released(Environment env) {
        AzureClients cloud = clients(env);
        String group = AzureKind.resourceGroup(env);
        var groups = cloud.resources().serviceClient().getResourceGroups();
        Optional<ResourceGroupInner> found = AzureErrors.find("read resource group " + group, () -> groups.get(group));
        if (found.isEmpty()) return;
        // The environment's Azure ML workspace (with its vault and storage): released only here, at the end of a destroy, and kept
        // (not an error) while anything of anyone is in it.
        EndpointKind.released(cloud, env);
        if (!ourGroup(AzureKind.tags(found.get().tags()), env)) return;
        // Anything left in it (someone else's, or ours that failed to go) keeps the group, and so does anyone's
        // role assignment made on the group itself, which would go with it.
        boolean empty = AzureErrors.call("list resource group " + group, () -> cloud.resources().serviceClient().getResources()
            .listByResourceGroup(group, null, null, 1, com.azure.core.util.Context.NONE).stream().findAny().isEmpty());
        if (!empty) return;
        String scope = AzureKind.groupId(cloud, env);
        boolean granted = AzureErrors.call("list role assignments on resource group " + group, () -> cloud.authorization().roleServiceClient()
            .getRoleAssignments().listByResourceGroup(group).stream().anyMatch(a -> scope.equalsIgnoreCase(a.scope())));
        if (granted) return;
        AzureErrors.run("delete resource group " + group, () -> groups.delete(group, null, com.azure.core.util.Context.NONE));
        groupsReady.remove(cloud.subscription() + "/" + group);
    }

    @Override
    public long requestCount() {
        return clients.values().stream().mapToLong(AzureClients::requestCount).sum();
    }

    @Override
    public void close() {
        clients.values().forEach(AzureClients::close);
        clients.clear();
    }
}
