package io.mlctl.spec;

import java.util.Arrays;
import java.util.Optional;
import java.util.Set;

/**
 * The cloud-agnostic kinds of resource. Each driver maps a kind to its cloud's own service. The
 * immutable fields are those no cloud can change in place: changing one plans a replace.
 */
public enum ResourceType {
    NETWORK("network", Set.of("region", "cidr")),
    BUCKET("bucket", Set.of("region")),
    IDENTITY("identity", Set.of("region")),
    INSTANCE("instance", Set.of("region", "subnet", "spot", "accelerator")),
    KUBERNETES_CLUSTER("kubernetes_cluster", Set.of("region", "subnet", "identity")),
    INFERENCE_ENDPOINT("inference_endpoint", Set.of("region"));

    private final String id;
    private final Set<String> immutableFields;

    ResourceType(String id, Set<String> immutableFields) {
        this.id = id;
        this.immutableFields = immutableFields;
    }

    public String id() {
        return id;
    }

    public Set<String> immutableFields() {
        return immutableFields;
    }

    public static Optional<ResourceType> of(String id) {
        return Arrays.stream(values()).filter(t -> t.id.equals(id)).findFirst();
    }

    @Override
    public String toString() {
        return id;
    }
}
