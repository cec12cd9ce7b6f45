package io.mlctl.inventory;

import io.mlctl.provider.Driver;
import io.mlctl.provider.Page;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads an environment's inventory kind by kind, page by page. */
public final class InventoryReader {
    private final Driver driver;

    public InventoryReader(Driver driver) {
        this.driver = driver;
    }

    public Inventory read(Environment env) {
        Map<Address, ObservedResource> found = new HashMap<>();
        List<ObservedResource> duplicates = new ArrayList<>();
        for (ResourceType kind : ResourceType.values()) {
            Optional<String> token = Optional.empty();
            do {
                Page page = driver.list(env, kind, token);
                for (ObservedResource listed : page.items()) {
                    ObservedResource r = new ObservedResource(listed.address(), listed.cloudId(),
                        io.mlctl.spec.Normalizer.normalize(listed.attributes()), listed.tags());
                    ObservedResource prev = found.get(r.address());
                    if (prev == null) {
                        found.put(r.address(), r);
                    } else if (r.cloudId().compareTo(prev.cloudId()) < 0) {
                        // Keep the same one whatever order the cloud lists them in.
                        found.put(r.address(), r);
                        duplicates.add(prev);
                    } else {
                        duplicates.add(r);
                    }
                }
                token = page.nextPageToken();
            } while (token.isPresent());
        }
        return new Inventory(env.name(), found, duplicates);
    }
}
