package io.mlctl.provider.gcp;

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

/** STUB: to be written. */
final class BucketKind implements GcpKind {
    @Override
    public ResourceType type() {
        return ResourceType.BUCKET;
    }

    @Override
    public ResourceRules rules() {
        return new ResourceRules(Set.of());
    }

    @Override
    public Page list(GcpClients cloud, Environment env, Optional<String> pageToken) {
        throw new DriverException("not yet", false);
    }

    @Override
    public Optional<Existing> find(GcpClients cloud, Environment env, Address address, Optional<String> knownCloudId) {
        throw new DriverException("not yet", false);
    }

    @Override
    public String create(GcpClients cloud, Environment env, ResourceSpec desired, Map<String, String> marker, String token) {
        throw new DriverException("not yet", false);
    }

    @Override
    public ObservedResource complete(GcpClients cloud, Environment env, String cloudId, ResourceSpec desired, Map<String, String> marker) {
        throw new DriverException("not yet", false);
    }

    @Override
    public ObservedResource update(GcpClients cloud, Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
        throw new DriverException("not yet", false);
    }

    @Override
    public void delete(GcpClients cloud, Environment env, ObservedResource current) {
        throw new DriverException("not yet", false);
    }
}
