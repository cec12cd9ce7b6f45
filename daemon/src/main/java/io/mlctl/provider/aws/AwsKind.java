package io.mlctl.provider.aws;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.provider.Page;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import java.util.Map;
import java.util.Optional;

/** One resource type on AWS, on the shared managed-resource machinery. */
interface AwsKind extends io.mlctl.provider.ResourceKind<AwsClients> {

    /** AWS names that must be unique in an account or region: {@code <env>-<name>}. */
    static String physicalName(Environment env, String name) {
        return env.name() + "-" + name;
    }

    /** Attributes as listed: the region, and the resource's own tags (the environment's labels) under "tags". */
    static Map<String, Object> attrs(Environment env, Map<String, Object> m, Map<String, String> cloudTags) {
        java.util.Map<String, Object> out = new java.util.TreeMap<>(m);
        out.put("region", env.region());
        Map<String, String> user = userTags(cloudTags);
        if (!user.isEmpty()) out.put("tags", user);
        return out;
    }

    java.util.Set<String> RESERVED = java.util.Set.of(io.mlctl.inventory.Ownership.ENVIRONMENT_TAG, io.mlctl.inventory.Ownership.ADDRESS_TAG,
        io.mlctl.inventory.Ownership.MANAGED_BY_TAG, "Name", NetworkKind.SUBNET_TAG,
        ClusterKind.IDENTITY_TAG);

    static Map<String, String> userTags(Map<String, String> cloudTags) {
        Map<String, String> out = new java.util.TreeMap<>();
        cloudTags.forEach((k, v) -> {
            if (!RESERVED.contains(k) && !k.startsWith("aws:")) out.put(k, v);
        });
        return out;
    }

    /** Ownership tags plus the labels the spec asks for. */
    @SuppressWarnings("unchecked")
    static Map<String, String> allTags(Map<String, String> ownership, Map<String, Object> attrs) {
        Map<String, String> out = new java.util.TreeMap<>(ownership);
        if (attrs.get("tags") instanceof Map<?, ?> m) ((Map<String, Object>) m).forEach((k, v) -> out.put(k, String.valueOf(v)));
        return out;
    }

    /** Label keys to set and to remove so that the resource carries exactly the wanted labels. */
    @SuppressWarnings("unchecked")
    static java.util.Optional<java.util.Map.Entry<Map<String, String>, java.util.Set<String>>> tagChange(Map<String, Object> have, Map<String, Object> want) {
        Map<String, Object> h = have.get("tags") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        Map<String, Object> w = want.get("tags") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        if (h.equals(w)) return java.util.Optional.empty();
        Map<String, String> set = new java.util.TreeMap<>();
        w.forEach((k, v) -> set.put(k, String.valueOf(v)));
        java.util.Set<String> remove = new java.util.TreeSet<>(h.keySet());
        remove.removeAll(w.keySet());
        return java.util.Optional.of(java.util.Map.entry(set, remove));
    }
}
