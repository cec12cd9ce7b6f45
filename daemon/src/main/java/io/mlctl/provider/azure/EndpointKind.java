package io.mlctl.provider.azure;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** TODO(foundation stub): replaced by the real kind. */
final class EndpointKind implements AzureKind {
    @Override
    public ResourceType type() {
        return ResourceType.INFERENCE_ENDPOINT;
    }

    @Override
    public ResourceRules rules() {
        return new ResourceRules(Set.of("region"));
    }

    @Override
    public Page list(AzureClients cloud, Environment env, Optional<String> pageToken) {
        if (true) return new Page(List.of(), Optional.empty()); // stand-in until the kind is written
        throw new DriverException("azure INFERENCE_ENDPOINT not built yet", false);
    }

    @Override
    public Optional<Existing> find(AzureClients cloud, Environment env, Address address, Optional<String> knownCloudId) {
        throw new DriverException("azure INFERENCE_ENDPOINT not built yet", false);
    }

    @Override
    public String create(AzureClients cloud, Environment env, ResourceSpec desired, Map<String, String> marker, String token) {
        throw new DriverException("azure INFERENCE_ENDPOINT not built yet", false);
    }

    @Override
    public ObservedResource complete(AzureClients cloud, Environment env, String cloudId, ResourceSpec desired, Map<String, String> marker) {
        throw new DriverException("azure INFERENCE_ENDPOINT not built yet", false);
    }

    @Override
    public ObservedResource update(AzureClients cloud, Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
        throw new DriverException("azure INFERENCE_ENDPOINT not built yet", false);
    }

    @Override
    public void delete(AzureClients cloud, Environment env, ObservedResource current) {
        throw new DriverException("azure INFERENCE_ENDPOINT not built yet", false);
    }
}
