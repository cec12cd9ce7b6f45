package io.mlctl.spec;

import java.util.Arrays;
import java.util.Optional;

/**
 * The cloud-agnostic kinds of resource. Each driver maps a kind to its cloud's own service and
 * says which of its fields cannot change in place there ({@code provider.ResourceRules}).
 */
public enum ResourceType {
    NETWORK("network"),
    BUCKET("bucket"),
    IDENTITY("identity"),
    INSTANCE("instance"),
    KUBERNETES_CLUSTER("kubernetes_cluster"),
    INFERENCE_ENDPOINT("inference_endpoint");

    private final String id;
    ResourceType(String id) {
        this.id = id;
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
