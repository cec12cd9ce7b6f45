package io.mlctl.provider;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * What the engine knows about one create. {@code token} is stable across retries and resumed
 * applies. {@code maybeSent} says the call that makes the resource may already have gone out (this
 * run's earlier attempt or an interrupted run's, as the journal records), so a same-named resource
 * without any marker may be that call's work; it is false while no such call was ever sent, whatever
 * failed before. {@code knownCloudId} is the id an earlier attempt reported, and {@code idMayLag}
 * that it was reported so recently that the cloud may not list it yet (reads lag writes). The driver
 * calls {@code sending} just before that call and {@code created} as soon as the cloud returns an id,
 * before any further call, so the journal holds both if the process dies mid-create.
 */
public record CreateRequest(String token, boolean maybeSent, Optional<String> knownCloudId, boolean idMayLag,
                            Runnable sending, Consumer<String> created) {
    public static CreateRequest first(String token) {
        return new CreateRequest(token, false, Optional.empty(), false, () -> { }, id -> { });
    }
}
