package io.mlctl.provider;

import java.util.Map;

/** A resource found where a create would go: its id, how to name it to a person, and its tags or labels. */
public record Existing(String cloudId, String description, Map<String, String> tags) {
    public Existing {
        tags = Map.copyOf(tags);
    }
}
