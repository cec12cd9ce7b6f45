package io.mlctl.provider;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The registry of a provider's resource kinds and the machinery every kind shares (after
 * crossplane-runtime's managed reconciler): before creating, look; adopt only this environment's
 * own resource at this address, or an unmarked one that this create's earlier attempt may have
 * made; refuse anything else naming it and its owner; record the id the moment the cloud returns it.
 */
public final class ManagedResources<C> {
    private final Map<ResourceType, ResourceKind<C>> kinds = new EnumMap<>(ResourceType.class);
    private final OwnershipMarker marker;

    public ManagedResources(OwnershipMarker marker, List<ResourceKind<C>> kinds) {
        this.marker = marker;
        for (ResourceKind<C> k : kinds) {
            if (this.kinds.put(k.type(), k) != null) throw new IllegalArgumentException("two kinds for " + k.type());
        }
    }

    public OwnershipMarker marker() {
        return marker;
    }

    public ResourceKind<C> kind(ResourceType type) {
        ResourceKind<C> k = kinds.get(type);
        if (k == null) throw new DriverException("this provider has no " + type.id() + " resources", false);
        return k;
    }

    public ResourceRules rules(ResourceType type) {
        return kind(type).rules();
    }

    public Page list(C cloud, Environment env, ResourceType type, Optional<String> pageToken) {
        return kind(type).list(cloud, env, pageToken);
    }

    public ObservedResource create(C cloud, Environment env, ResourceSpec desired, CreateRequest request) {
        ResourceKind<C> kind = kind(desired.address().type());
        Map<String, String> mark = marker.marker(env.name(), desired.address());
        Optional<Existing> found = kind.find(cloud, env, desired.address(), request.knownCloudId());
        if (found.isEmpty() && request.knownCloudId().isPresent()) {
            // Made a moment ago but not listed yet: wait for it rather than make a second one.
            if (request.idMayLag()) {
                throw new DriverException(desired.address() + ": created as " + request.knownCloudId().get() + " but not visible yet", true);
            }
            found = kind.find(cloud, env, desired.address(), Optional.empty()); // gone since: look as for any create
        }
        if (found.isPresent()) {
            Existing e = found.get();
            boolean ours = marker.owner(e.tags(), env.name()).filter(desired.address()::equals).isPresent();
            // Unmarked, made by a call that marks only later, and possibly this very create's (a lost answer, a killed run).
            boolean pendingCreate = request.maybeSent() && !marker.marked(e.tags()) && !kind.markedAtCreation();
            if (!ours && !pendingCreate) {
                throw new NotOwnedException(desired.address() + ": " + e.description() + " already exists and is "
                    + marker.describeOwner(e.tags()) + "; mlctl does not take over resources it did not create (rename it in the spec)");
            }
            request.created().accept(e.cloudId());
            return kind.complete(cloud, env, e.cloudId(), desired, mark);
        }
        request.sending().run();
        String id = kind.create(cloud, env, desired, mark, request.token());
        request.created().accept(id);
        return kind.complete(cloud, env, id, desired, mark);
    }

    public ObservedResource update(C cloud, Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
        ResourceKind<C> kind = kind(desired.address().type());
        Existing e = kind.find(cloud, env, current.address(), Optional.of(current.cloudId()))
            .orElseThrow(() -> new DriverException(current.address() + ": " + current.cloudId() + " no longer exists; run plan again", false));
        requireOwned(env, current, e);
        return kind.update(cloud, env, current, desired, changes);
    }

    public void delete(C cloud, Environment env, ObservedResource current) {
        ResourceKind<C> kind = kind(current.address().type());
        Optional<Existing> e = kind.find(cloud, env, current.address(), Optional.of(current.cloudId()));
        if (e.isEmpty()) return; // already gone
        requireOwned(env, current, e.get());
        kind.delete(cloud, env, current);
    }

    public Optional<ObservedResource> read(C cloud, Environment env, io.mlctl.spec.Address address, String cloudId) {
        return kind(address.type()).read(cloud, env, address, cloudId);
    }

    public Map<String, String> outputs(C cloud, Environment env, ObservedResource resource) {
        return kind(resource.address().type()).outputs(cloud, env, resource);
    }

    /**
     * Import: looks again by id; refuses what carries another marker (another environment's, or this one's for another
     * address), then writes this address's marker and the planned changes through the kind's update. Every kind's update
     * writes marker and labels together when "tags" changes, so adoption always includes a tags change.
     */
    /** The names of the node pools (or subnets) a resource held when the plan read it: an import takes over those and no others. */
    @SuppressWarnings("unchecked")
    public static java.util.Set<String> namesIn(Map<String, Object> attributes, String list) {
        java.util.Set<String> out = new java.util.TreeSet<>();
        if (attributes.get(list) instanceof List<?> l) {
            for (Object o : l) if (o instanceof Map<?, ?> m && m.get("name") instanceof String n) out.add(n);
        }
        return out;
    }

    public ObservedResource adopt(C cloud, Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
        ResourceKind<C> kind = kind(desired.address().type());
        Existing e = kind.find(cloud, env, desired.address(), Optional.of(current.cloudId()))
            .orElseThrow(() -> new DriverException(desired.address() + ": " + current.cloudId() + " no longer exists; run plan again", false));
        boolean ours = marker.owner(e.tags(), env.name()).filter(desired.address()::equals).isPresent();
        if (marker.marked(e.tags()) && !ours) {
            throw new NotOwnedException(desired.address() + ": " + e.description() + " is " + marker.describeOwner(e.tags())
                + "; it cannot be imported (only a resource no mlctl environment manages can be)");
        }
        List<AttributeChange> all = new java.util.ArrayList<>(changes);
        if (all.stream().noneMatch(c -> c.path().equals("tags") || c.path().startsWith("tags."))) {
            all.add(new AttributeChange("tags", current.attributes().get("tags"), desired.attributes().get("tags"), false));
        }
        return kind.update(cloud, env, new ObservedResource(current.address(), current.cloudId(), current.attributes(), e.tags()), desired, all);
    }

    /** Only this address's own resource is ever changed, whatever inventory said a moment ago. */
    private void requireOwned(Environment env, ObservedResource current, Existing e) {
        if (marker.owner(e.tags(), env.name()).filter(current.address()::equals).isEmpty()) {
            throw new NotOwnedException(current.address() + ": " + e.description() + " is " + marker.describeOwner(e.tags())
                + "; refusing to change it");
        }
    }
}
