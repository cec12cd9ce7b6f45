package io.mlctl.provider.gcp;

import io.mlctl.provider.OwnershipMarker;
import io.mlctl.spec.Address;
import io.mlctl.spec.ResourceType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ownership marker on GCP. Labels allow only lowercase letters, digits, {@code -} and {@code _}
 * (no dots, 63 characters), so the address is split over two labels: {@code mlctl-type}
 * ({@code kubernetes_cluster}) and {@code mlctl-name}, with {@code mlctl-component}
 * ({@code node_pool_gpu}) for a component, next to {@code mlctl-environment} and
 * {@code managed-by=mlctl}. GCE networks, subnetworks, firewall rules and service accounts take no
 * labels: they carry the same marker as a structured description,
 * {@code mlctl: environment=vision-gcp address=network.vision-net}, which {@link #fromDescription}
 * reads back into the same map, so one ownership rule serves both.
 */
public final class GcpMarker implements OwnershipMarker {
    public static final GcpMarker INSTANCE = new GcpMarker();
    public static final String ENVIRONMENT = "mlctl-environment";
    public static final String TYPE = "mlctl-type";
    public static final String NAME = "mlctl-name";
    public static final String COMPONENT = "mlctl-component";
    public static final String MANAGED_BY = "managed-by";
    private static final Pattern DESCRIPTION = Pattern.compile("^mlctl: environment=([a-z0-9-]+) address=(\\S+)");

    private GcpMarker() {
    }

    @Override
    public Map<String, String> marker(String environment, Address address) {
        Map<String, String> m = new TreeMap<>();
        m.put(MANAGED_BY, "mlctl");
        m.put(ENVIRONMENT, environment);
        m.put(TYPE, address.type().id());
        m.put(NAME, address.name());
        if (address.isComponent()) m.put(COMPONENT, address.component().replace('.', '_'));
        return m;
    }

    @Override
    public Optional<Address> owner(Map<String, String> tags, String environment) {
        if (!environment.equals(tags.get(ENVIRONMENT))) return Optional.empty();
        return address(tags);
    }

    private static Optional<Address> address(Map<String, String> tags) {
        Optional<ResourceType> type = ResourceType.of(tags.getOrDefault(TYPE, ""));
        String name = tags.get(NAME);
        if (type.isEmpty() || name == null || name.isEmpty()) return Optional.empty();
        String component = tags.get(COMPONENT);
        try {
            if (component == null) return Optional.of(new Address(type.get(), name));
            int cut = component.lastIndexOf('_'); // names hold no '_', component kinds may (node_pool)
            if (cut <= 0) return Optional.empty();
            return Optional.of(new Address(type.get(), name, component.substring(0, cut) + "." + component.substring(cut + 1)));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    @Override
    public boolean marked(Map<String, String> tags) {
        return tags.containsKey(ENVIRONMENT) || tags.containsKey(TYPE) || tags.containsKey(NAME);
    }

    @Override
    public String describeOwner(Map<String, String> tags) {
        if (!marked(tags)) return "not managed by mlctl";
        return "managed by mlctl environment " + tags.getOrDefault(ENVIRONMENT, "?") + " as "
            + address(tags).map(Address::toString).orElse("?");
    }

    @Override
    public boolean isMarkerKey(String key) {
        return key.equals(ENVIRONMENT) || key.equals(TYPE) || key.equals(NAME) || key.equals(COMPONENT) || key.equals(MANAGED_BY);
    }

    /** The marker as a description, for kinds that take no labels. */
    public String description(String environment, Address address) {
        return "mlctl: environment=" + environment + " address=" + address + " (managed by mlctl; do not edit)";
    }

    /** The marker a description carries, as the same map labels would; empty when it carries none. */
    public Map<String, String> fromDescription(String description) {
        if (description == null) return Map.of();
        Matcher m = DESCRIPTION.matcher(description);
        if (!m.find()) return Map.of();
        try {
            Address a = Address.parse(m.group(2));
            return marker(m.group(1), a);
        } catch (RuntimeException e) {
            Map<String, String> partial = new LinkedHashMap<>();
            partial.put(ENVIRONMENT, m.group(1)); // marked, but not at an address this build knows
            return partial;
        }
    }
}
