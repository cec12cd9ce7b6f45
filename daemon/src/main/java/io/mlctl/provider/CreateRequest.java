package io.mlctl.provider;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * What the engine knows about one create. {@code token} is stable across retries and resumed
 * applies. {@code maybeSent} says an earlier attempt (this run's, or an interrupted run's recorded
 * in the journal) may have reached the cloud, so a same-named resource without any marker may be
 * that attempt's work. {@code knownCloudId} is the id an earlier attempt reported. The driver calls
 * {@code created} as soon as the cloud returns an id, before any further call, so the journal holds
 * it if the process dies mid-create.
 */
public record CreateRequest(String token, boolean maybeSent, Optional<String> knownCloudId, Consumer<String> created) {
    public static CreateRequest first(String token) {
        return new CreateRequest(token, false, Optional.empty(), id -> { });
    }
}
