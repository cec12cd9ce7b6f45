package io.mlctl.spec;

import io.mlctl.MlctlException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A resource's address within its environment: {@code type.name}, as terraform writes it, or a
 * component of one ({@code network.ml-vpc.subnet.training}, {@code kubernetes_cluster.ml.node_pool.gpu}):
 * an element of a resource's list that a plan can name and replace on its own.
 */
public record Address(ResourceType type, String name, String component) implements Comparable<Address> {
    private static final Pattern ELEMENT = Pattern.compile("^([A-Za-z]+)\\[([^\\]]+)\\]");

    public Address {
        if (component != null && !type.components().containsValue(component.substring(0, Math.max(0, component.indexOf('.'))))) {
            throw new MlctlException("invalid component '" + component + "' of " + type.id());
        }
    }

    public Address(ResourceType type, String name) {
        this(type, name, null);
    }

    public static Address parse(String text) {
        int dot = text.indexOf('.');
        if (dot <= 0) throw new MlctlException("invalid resource address '" + text + "': expected type.name, e.g. bucket.ml-data");
        ResourceType type = ResourceType.of(text.substring(0, dot))
            .orElseThrow(() -> new MlctlException("invalid resource address '" + text + "': unknown type '" + text.substring(0, dot) + "'"));
        String rest = text.substring(dot + 1);
        // Names hold no dots, so a second dot starts a component: name.kind.element.
        int second = rest.indexOf('.');
        if (second < 0) return new Address(type, rest);
        String component = rest.substring(second + 1);
        int third = component.indexOf('.');
        if (third <= 0 || !type.components().containsValue(component.substring(0, third))) {
            throw new MlctlException("invalid resource address '" + text + "': " + type.id() + " has no component '" + component + "'");
        }
        return new Address(type, rest.substring(0, second), component);
    }

    public boolean isComponent() {
        return component != null;
    }

    /** The resource a component belongs to; itself for a resource. */
    public Address resource() {
        return component == null ? this : new Address(type, name);
    }

    /** The component a changed attribute path falls in ({@code subnets[training].cidr} → {@code network.x.subnet.training}). */
    public Optional<Address> componentAt(String path) {
        Matcher m = ELEMENT.matcher(path);
        if (component != null || !m.find()) return Optional.empty();
        String kind = type.components().get(m.group(1));
        return kind == null ? Optional.empty() : Optional.of(new Address(type, name, kind + "." + m.group(2)));
    }

    @Override
    public String toString() {
        return type.id() + "." + name + (component == null ? "" : "." + component);
    }

    @Override
    public int compareTo(Address o) {
        int c = Integer.compare(type.ordinal(), o.type.ordinal());
        if (c != 0) return c;
        c = name.compareTo(o.name);
        if (c != 0) return c;
        if (component == null || o.component == null) return component == null ? (o.component == null ? 0 : -1) : 1;
        return component.compareTo(o.component);
    }
}
