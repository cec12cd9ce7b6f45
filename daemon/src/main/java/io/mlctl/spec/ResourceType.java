package io.mlctl.spec;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;

/**
 * The cloud-agnostic kinds of resource. Each driver maps a kind to its cloud's own service and
 * says which of its fields cannot change in place there ({@code provider.ResourceRules}).
 */
public enum ResourceType {
    NETWORK("network", Map.of("subnets", "subnet")),
    BUCKET("bucket", Map.of()),
    IDENTITY("identity", Map.of()),
    INSTANCE("instance", Map.of()),
    KUBERNETES_CLUSTER("kubernetes_cluster", Map.of("nodePools", "node_pool")),
    INFERENCE_ENDPOINT("inference_endpoint", Map.of());

    private final String id;
    private final Map<String, String> components;

    ResourceType(String id, Map<String, String> components) {
        this.id = id;
        this.components = components;
    }

    /**
     * Lists of named elements that a plan names on its own (list attribute → component kind): a
     * subnet or a node pool can be replaced without replacing its network or cluster.
     */
    public Map<String, String> components() {
        return components;
    }

    public String id() {
        return id;
    }

    public static Optional<ResourceType> of(String id) {
        return Arrays.stream(values()).filter(t -> t.id.equals(id)).findFirst();
    }

    @Override
    public String toString() {
        return id;
    }
}
