package io.mlctl.provider;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One resource type on one cloud, reached through that cloud's clients {@code C}. A kind writes
 * only what is particular to it; {@link ManagedResources} does what every kind repeats (looking
 * before creating, ownership checks, adoption of its own pending create, recording the id).
 */
public interface ResourceKind<C> {
    ResourceType type();

    /**
     * Whether the call that makes the resource also writes its marker. Then a same-named resource
     * without a marker can never be this create's own work, even after a lost answer: it is refused.
     * A kind whose cloud marks in a later call answers false, and an unmarked resource found after
     * its making call went out is taken as that call's work.
     */
    default boolean markedAtCreation() {
        return true;
    }

    /** Which attribute paths of this kind cannot change in place on this cloud. */
    ResourceRules rules();

    /** One page of the environment's resources of this kind, found by marker, in bulk. */
    Page list(C cloud, Environment env, Optional<String> pageToken);

    /**
     * What exists at {@code address}: under {@code knownCloudId} when given (an earlier attempt's
     * or inventory's id), else under the physical name the address takes, or carrying its marker.
     * Owned or not: the caller decides. Empty when nothing is there.
     */
    Optional<Existing> find(C cloud, Environment env, Address address, Optional<String> knownCloudId);

    /**
     * The call that brings the resource into being, with {@code marker} set in that call where the
     * API allows and {@code token} as the client token where it takes one. Returns the cloud id.
     */
    String create(C cloud, Environment env, ResourceSpec desired, Map<String, String> marker, String token);

    /**
     * Everything after the first call (sub-resources, settings, waiting), idempotent: it also
     * finishes a create that an earlier attempt or a killed process left half done, and writes the
     * marker on a resource adopted as this environment's own pending create.
     */
    ObservedResource complete(C cloud, Environment env, String cloudId, ResourceSpec desired, Map<String, String> marker);

    /** Applies the planner's {@code changes} (never a re-diff of current against desired). */
    ObservedResource update(C cloud, Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes);

    /**
     * The resource whose cloud id is {@code cloudId} (as {@code mlctl import} takes it), observed exactly as {@link #list}
     * observes an owned one: attributes, and all its tags (marker included, so the caller sees who owns it). Owned or not.
     * Empty when nothing has that id. An id of a form this kind never uses is a {@link DriverException} saying what form
     * it takes.
     */
    default Optional<ObservedResource> read(C cloud, Environment env, Address address, String cloudId) {
        throw new DriverException(address + ": import of " + type().id() + " resources is not supported on this cloud yet", false);
    }

    /** What a person needs after an apply (see {@link Driver#outputs}); may read the cloud. */
    default Map<String, String> outputs(C cloud, Environment env, ObservedResource resource) {
        return Map.of();
    }

    /** Deletes; succeeds when already gone. */
    void delete(C cloud, Environment env, ObservedResource current);
}
