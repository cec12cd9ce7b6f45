package io.mlctl.provider;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.Map;
import java.util.Optional;

/**
 * What every cloud implements. Listing is bulk (by kind and page, filtered on ownership tags), never
 * one read per resource. Create, update and delete are idempotent: a create retried with the same
 * token returns the resource the first call made; deleting what is already gone succeeds.
 * The driver knows its cloud; the engine knows nothing of clouds.
 */
public interface Driver extends AutoCloseable {
    String name();

    /** One page of what {@code environment} owns of {@code kind}. */
    Page list(Environment environment, ResourceType kind, Optional<String> pageToken);

    /**
     * Creates the resource with {@code tags} set at creation (never in a second call, so a resource
     * is never untagged). {@code idempotencyToken} is stable across retries and resumed applies.
     */
    ObservedResource create(Environment environment, ResourceSpec desired, Map<String, String> tags, String idempotencyToken);

    /** Brings {@code current} to {@code desired} in place; only mutable fields differ. */
    ObservedResource update(Environment environment, ObservedResource current, ResourceSpec desired);

    /** Deletes {@code current}; succeeds if it is already gone. */
    void delete(Environment environment, ObservedResource current);

    /** Cloud API requests sent so far (for benchmarks and metrics). */
    long requestCount();

    @Override
    default void close() {
    }
}
