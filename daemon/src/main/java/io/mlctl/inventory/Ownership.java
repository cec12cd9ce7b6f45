package io.mlctl.inventory;

import io.mlctl.spec.Address;
import java.util.Map;
import java.util.Optional;

/**
 * The tags (labels on GCP) that mark a cloud resource as mlctl's. Only resources carrying both are
 * ever updated or deleted; anything else in the account is invisible to the planner.
 */
public final class Ownership {
    public static final String ENVIRONMENT_TAG = "mlctl-environment";
    public static final String ADDRESS_TAG = "mlctl-address";
    public static final String MANAGED_BY_TAG = "managed-by";

    private Ownership() {
    }

    public static Map<String, String> tags(String environment, Address address) {
        return Map.of(ENVIRONMENT_TAG, environment, ADDRESS_TAG, address.toString(), MANAGED_BY_TAG, "mlctl");
    }

    /** The address a resource claims, if it is owned by {@code environment}. */
    public static Optional<Address> ownedAddress(Map<String, String> tags, String environment) {
        if (!environment.equals(tags.get(ENVIRONMENT_TAG)) || tags.get(ADDRESS_TAG) == null) return Optional.empty();
        try {
            return Optional.of(Address.parse(tags.get(ADDRESS_TAG)));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
