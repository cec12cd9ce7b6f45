package io.mlctl.testing;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceKind;
import io.mlctl.provider.ResourceRules;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** A cloud of named resources with tags; counts the calls each verb gets. */
public final class MapCloud implements ResourceKind<Map<String, Map<String, String>>> {
    public final List<String> calls = new ArrayList<>();
    /** Reads that fail (throttled) before one goes through. */
    public int failingFinds;
    /** The making call goes through but its answer is lost once, before the marker is on. */
    public boolean failCreateAfterMaking;

    /** Like S3 on an emulator: the marker goes on after the making call (see ResourceKind.markedAtCreation). */
    public boolean marksAtCreation;

    public boolean markedAtCreation() { return marksAtCreation; }

    public ResourceType type() { return ResourceType.BUCKET; }
    public ResourceRules rules() { return new ResourceRules(Set.of("region")); }
    public Page list(Map<String, Map<String, String>> c, Environment env, Optional<String> t) { return new Page(List.of(), Optional.empty()); }

    public Optional<Existing> find(Map<String, Map<String, String>> c, Environment env, Address a, Optional<String> known) {
        if (failingFinds > 0) {
            failingFinds--;
            throw new DriverException("find " + a + " failed: HTTP 503", true);
        }
        String name = known.orElse(a.name());
        return Optional.ofNullable(c.get(name)).map(tags -> new Existing(name, "bucket " + name, tags));
    }

    public String create(Map<String, Map<String, String>> c, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        calls.add("create");
        if (failCreateAfterMaking) {
            failCreateAfterMaking = false;
            c.put(d.address().name(), new HashMap<>()); // made, unmarked, and the caller never hears of it
            throw new DriverException("create " + d.address() + " failed: connection reset", true);
        }
        c.put(d.address().name(), new HashMap<>(marker));
        return d.address().name();
    }

    public ObservedResource complete(Map<String, Map<String, String>> c, Environment env, String id, ResourceSpec d, Map<String, String> marker) {
        calls.add("complete " + id);
        c.get(id).putAll(marker);
        return new ObservedResource(d.address(), id, d.attributes(), c.get(id));
    }

    public ObservedResource update(Map<String, Map<String, String>> c, Environment env, ObservedResource cur, ResourceSpec d, List<AttributeChange> ch) {
        calls.add("update");
        return cur;
    }

    public void delete(Map<String, Map<String, String>> c, Environment env, ObservedResource cur) {
        calls.add("delete");
        c.remove(cur.cloudId());
    }
}
