package io.mlctl.provider;

import io.mlctl.spec.Address;
import java.util.Map;
import java.util.Optional;

/**
 * How a provider marks what mlctl owns. AWS and Azure use tags, GCP labels (which cannot hold
 * dots) or, for resources that take no labels, a description; the engine never sees the keys.
 */
public interface OwnershipMarker {
    /** The marker to write on a resource at {@code address} of {@code environment}. */
    Map<String, String> marker(String environment, Address address);

    /** The address a resource claims in {@code environment}, if it carries that environment's marker. */
    Optional<Address> owner(Map<String, String> tags, String environment);

    /** Whether the resource carries any mlctl marker at all (of any environment). */
    boolean marked(Map<String, String> tags);

    /** Who owns it, for an error: "mlctl environment prod (bucket.data)", or "not managed by mlctl". */
    String describeOwner(Map<String, String> tags);

    /** Keys of the marker itself: never reported as labels, never removed by label sync. */
    boolean isMarkerKey(String key);
}
