package io.mlctl.spec;

import io.mlctl.MlctlException;

/** A resource's address within its environment: {@code type.name}, as terraform writes it. */
public record Address(ResourceType type, String name) implements Comparable<Address> {
    public static Address parse(String text) {
        int dot = text.indexOf('.');
        if (dot <= 0) throw new MlctlException("invalid resource address '" + text + "': expected type.name, e.g. bucket.ml-data");
        ResourceType type = ResourceType.of(text.substring(0, dot))
            .orElseThrow(() -> new MlctlException("invalid resource address '" + text + "': unknown type '" + text.substring(0, dot) + "'"));
        return new Address(type, text.substring(dot + 1));
    }

    @Override
    public String toString() {
        return type.id() + "." + name;
    }

    @Override
    public int compareTo(Address o) {
        int c = Integer.compare(type.ordinal(), o.type.ordinal());
        return c != 0 ? c : name.compareTo(o.name);
    }
}
