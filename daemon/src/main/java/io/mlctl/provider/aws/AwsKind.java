package io.mlctl.provider.aws;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.provider.Page;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import java.util.Map;
import java.util.Optional;

/** One resource type on AWS: its bulk listing and its three idempotent verbs. */
interface AwsKind {
    Page list(AwsClients c, Environment env, Optional<String> pageToken);

    ObservedResource create(AwsClients c, Environment env, ResourceSpec desired, Map<String, String> tags, String token);

    ObservedResource update(AwsClients c, Environment env, ObservedResource current, ResourceSpec desired);

    void delete(AwsClients c, Environment env, ObservedResource current);

    /** AWS names that must be unique in an account or region: {@code <env>-<name>}. */
    static String physicalName(Environment env, String name) {
        return env.name() + "-" + name;
    }

    static Map<String, Object> attrs(Environment env, Map<String, Object> m) {
        java.util.Map<String, Object> out = new java.util.TreeMap<>(m);
        out.put("region", env.region());
        return out;
    }
}
