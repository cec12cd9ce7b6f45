package io.mlctl.provider;

import io.mlctl.inventory.ObservedResource;
import java.util.List;
import java.util.Optional;

/** One page of a bulk listing; {@code nextPageToken} is empty on the last page. */
public record Page(List<ObservedResource> items, Optional<String> nextPageToken) {
    public Page {
        items = List.copyOf(items);
    }
}
