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

    /** The environment's labels as tags; the keys mlctl set are remembered so other tags are never touched. */
    io.mlctl.provider.Labels LABELS = new io.mlctl.provider.Labels(io.mlctl.provider.TagMarker.INSTANCE, ":");

    /** Attributes as listed: the region, and under "tags" only the labels mlctl manages (never other teams' tags). */
    static Map<String, Object> attrs(Environment env, Map<String, Object> m, Map<String, String> cloudTags) {
        java.util.Map<String, Object> out = new java.util.TreeMap<>(m);
        out.put("region", env.region());
        Map<String, String> labels = LABELS.observed(cloudTags);
        if (!labels.isEmpty()) out.put("tags", labels);
        return out;
    }

    /** The labels the spec asks for. */
    @SuppressWarnings("unchecked")
    static Map<String, String> labels(Map<String, Object> attrs) {
        Map<String, String> out = new java.util.TreeMap<>();
        if (attrs.get("tags") instanceof Map<?, ?> m) ((Map<String, Object>) m).forEach((k, v) -> out.put(k, String.valueOf(v)));
        return out;
    }

    /** What to write at creation: the marker, the labels, and the record of which keys are labels. */
    static Map<String, String> allTags(Map<String, String> ownership, Map<String, Object> attrs) {
        return LABELS.atCreate(ownership, labels(attrs));
    }

    /** An import id of a form this kind never uses: one line saying the form it takes. */
    static io.mlctl.provider.DriverException malformed(io.mlctl.spec.Address address, String id, String what, String form) {
        return new io.mlctl.provider.DriverException(address + ": '" + id + "' is not " + what + "; import it by " + form, false);
    }

    /**
     * An existing resource whose name is not the one mlctl gives {@code address}, on a service that cannot rename it: other
     * resources (grants, instance profiles, execution roles) reach it by that name, so it is refused rather than half managed.
     */
    static io.mlctl.provider.DriverException misnamed(Environment env, io.mlctl.spec.Address address, String what, String actual) {
        return new io.mlctl.provider.DriverException(address + ": " + what + " " + actual + " cannot be imported as " + address
            + ": in environment " + env.name() + " it must be named " + physicalName(env, address.name()) + ", and AWS cannot rename it", false);
    }

    /** Tags to set and keys to remove so the resource carries its marker and exactly the wanted labels; other tags stay. */
    static Optional<io.mlctl.provider.Labels.Sync> tagSync(Map<String, String> cloudTags, Map<String, String> marker, Map<String, Object> want) {
        return LABELS.sync(cloudTags, marker, labels(want));
    }
}
