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
 * What every cloud implements, and all the engine knows of one. Listing is bulk (by kind and page,
 * filtered on the provider's ownership marker), never one read per resource. Create, update and
 * delete are idempotent: a create retried after a lost answer finds what the first call made
 * (by token, recorded id or marker) instead of making a second one; deleting what is already gone
 * succeeds. What forces a replace, and how ownership is marked, is the provider's business.
 */
public interface Driver extends AutoCloseable {
    String name();

    /** This cloud's rules for one kind: which (nested) attribute paths cannot change in place. */
    ResourceRules rules(ResourceType kind);

    /**
     * Where this driver reads and writes for {@code environment}: the account (AWS account id, GCP
     * project, Azure subscription) of the credentials in use, and the region. Refuses with one line
     * when the spec names another account.
     */
    Target target(Environment environment);

    /** One page of what {@code environment} owns of {@code kind}. */
    Page list(Environment environment, ResourceType kind, Optional<String> pageToken);

    /**
     * Creates the resource with the ownership marker set at creation where the API allows. Never
     * takes over something that exists and is not this environment's resource at this address.
     */
    ObservedResource create(Environment environment, ResourceSpec desired, CreateRequest request);

    /** Applies the planner's attribute {@code changes} to {@code current}; only mutable paths change. */
    ObservedResource update(Environment environment, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes);

    /**
     * The resource of {@code address}'s type whose cloud id is {@code cloudId}, owned by anyone or no one, observed as
     * {@link #list} would observe it (attributes and all its tags, marker included); empty when there is none. For import:
     * the caller decides what an owner means.
     */
    default Optional<ObservedResource> read(Environment environment, Address address, String cloudId) {
        throw new DriverException(address + ": the " + name() + " provider cannot import resources", false);
    }

    /**
     * Who manages a resource {@link #read} returned, for an error ("mlctl environment prod (bucket.data)"), when it carries
     * any mlctl marker at all; empty when it carries none and may be imported.
     */
    default Optional<String> markedBy(Map<String, String> tags) {
        return Optional.empty();
    }

    /**
     * Takes over {@code current} (read by {@link #read}, carrying no mlctl marker) as {@code desired}: writes this
     * environment's marker for that address and applies the planner's {@code changes}. Refuses, naming the owner, a
     * resource that is marked by then; idempotent (a retry after a lost answer finds its own marker and goes on).
     */
    default ObservedResource adopt(Environment environment, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
        throw new DriverException(desired.address() + ": the " + name() + " provider cannot import resources", false);
    }

    /**
     * What a person needs of {@code resource} after an apply, read from the cloud (never stored): an endpoint URL, a
     * private IP, a bucket URI, an identity's ARN or email or client id, the command that fetches cluster credentials.
     * Keys are lower camel case and stable across clouds where the meaning is the same (see README, "mlctl output").
     */
    default Map<String, String> outputs(Environment environment, ObservedResource resource) {
        return Map.of();
    }

    /** Deletes {@code current}; succeeds if it is already gone; refuses what is not owned. */
    void delete(Environment environment, ObservedResource current);

    /**
     * Called once {@code environment} owns nothing on this cloud any more (a destroy finished):
     * removes what the provider keeps for the environment as a whole (an Azure resource group) if
     * it made it and nothing else lives in it. Idempotent; most clouds keep nothing of the kind.
     */
    default void released(Environment environment) {
    }

    /** Cloud API requests sent so far (for benchmarks and metrics). */
    long requestCount();

    @Override
    default void close() {
    }
}
