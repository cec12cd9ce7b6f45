package io.mlctl.provider;

import io.mlctl.inventory.Ownership;
import io.mlctl.spec.Address;
import java.util.Map;
import java.util.Optional;

/** The marker as three tags: {@code mlctl-environment}, {@code mlctl-address}, {@code managed-by=mlctl}. */
public final class TagMarker implements OwnershipMarker {
    public static final TagMarker INSTANCE = new TagMarker();

    @Override
    public Map<String, String> marker(String environment, Address address) {
        return Ownership.tags(environment, address);
    }

    @Override
    public Optional<Address> owner(Map<String, String> tags, String environment) {
        return Ownership.ownedAddress(tags, environment);
    }

    @Override
    public boolean marked(Map<String, String> tags) {
        return tags.containsKey(Ownership.ENVIRONMENT_TAG) || tags.containsKey(Ownership.ADDRESS_TAG);
    }

    @Override
    public String describeOwner(Map<String, String> tags) {
        if (!marked(tags)) return "not managed by mlctl";
        return "managed by mlctl environment " + tags.getOrDefault(Ownership.ENVIRONMENT_TAG, "?") + " as "
            + tags.getOrDefault(Ownership.ADDRESS_TAG, "?");
    }

    @Override
    public boolean isMarkerKey(String key) {
        return key.equals(Ownership.ENVIRONMENT_TAG) || key.equals(Ownership.ADDRESS_TAG) || key.equals(Ownership.MANAGED_BY_TAG);
    }
}
