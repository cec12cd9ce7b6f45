package io.mlctl.spec;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The addresses a resource's attributes refer to (subnet, identity, grants). */
public final class References {
    private References() {
    }

    public static Set<Address> of(ResourceType type, Map<String, Object> attrs) {
        Set<Address> out = new TreeSet<>();
        if (attrs.get("subnet") instanceof String s && s.contains("/")) {
            out.add(new Address(ResourceType.NETWORK, s.substring(0, s.indexOf('/'))));
        }
        if (attrs.get("identity") instanceof String id) out.add(new Address(ResourceType.IDENTITY, id));
        if (attrs.get("grants") instanceof List<?> grants) {
            for (Object g : grants) {
                if (g instanceof Map<?, ?> m && m.get("resource") instanceof String r && r.contains("/")) {
                    ResourceType.of(r.substring(0, r.indexOf('/')))
                        .ifPresent(t -> out.add(new Address(t, r.substring(r.indexOf('/') + 1))));
                }
            }
        }
        return out;
    }

    /** The subnet component a {@code subnet: network/subnet} reference points at. */
    public static java.util.Optional<Address> subnet(Map<String, Object> attrs) {
        if (attrs.get("subnet") instanceof String s && s.contains("/")) {
            return java.util.Optional.of(new Address(ResourceType.NETWORK, s.substring(0, s.indexOf('/')), "subnet." + s.substring(s.indexOf('/') + 1)));
        }
        return java.util.Optional.empty();
    }
}
