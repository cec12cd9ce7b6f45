package io.mlctl.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.MapCloud;
import io.mlctl.testing.Specs;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The shared create-pending machinery, against a cloud held in a map: what is adopted, what is refused. */
class ManagedResourcesTest {
    private static final Address BUCKET = Address.parse("bucket.data");
    private final Environment env = Specs.env(Fixtures.smallEnv("dev"));

    private final MapCloud kind = new MapCloud();
    private final ManagedResources<Map<String, Map<String, String>>> managed = new ManagedResources<>(TagMarker.INSTANCE, List.of(kind));

    private ResourceSpec spec() {
        return new ResourceSpec(BUCKET, Map.of("region", "us-east-1"), Set.of(), null);
    }

    static Stream<Arguments> existing() {
        Map<String, String> ours = TagMarker.INSTANCE.marker("dev", BUCKET);
        Map<String, String> otherEnv = TagMarker.INSTANCE.marker("prod", BUCKET);
        Map<String, String> otherAddress = TagMarker.INSTANCE.marker("dev", Address.parse("bucket.logs"));
        Map<String, String> stranger = Map.of("team", "other");
        return Stream.of(
            // what is there, may an earlier attempt have sent this create, adopted?, error
            Arguments.of("ours, first attempt", ours, false, true, null),
            Arguments.of("ours, retried", ours, true, true, null),
            Arguments.of("unmarked, first attempt", stranger, false, false, "bucket.data: bucket data already exists and is not managed by mlctl"),
            Arguments.of("unmarked, after a lost answer", Map.of(), true, true, null),
            Arguments.of("another environment's, even after a lost answer", otherEnv, true, false,
                "bucket.data: bucket data already exists and is managed by mlctl environment prod as bucket.data"),
            Arguments.of("another address of this environment", otherAddress, false, false,
                "bucket.data: bucket data already exists and is managed by mlctl environment dev as bucket.logs"));
    }

    @org.junit.jupiter.api.Test
    void whereTheMakingCallWritesTheMarkerAnUnmarkedResourceIsNeverThisCreatesWork() {
        kind.marksAtCreation = true;
        Map<String, Map<String, String>> cloud = new HashMap<>();
        cloud.put("data", new HashMap<>());
        CreateRequest afterLostAnswer = new CreateRequest("tok", true, Optional.empty(), false, () -> { }, id -> { });
        assertThatThrownBy(() -> managed.create(cloud, env, spec(), afterLostAnswer)).isInstanceOf(NotOwnedException.class)
            .hasMessageStartingWith("bucket.data: bucket data already exists and is not managed by mlctl");
        assertThat(cloud.get("data")).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("existing")
    void aSameNamedResourceIsAdoptedOnlyWhenItIsThisCreatesOwn(String name, Map<String, String> tags, boolean maybeSent, boolean adopted, String error) {
        Map<String, Map<String, String>> cloud = new HashMap<>();
        cloud.put("data", new HashMap<>(tags));
        List<String> recorded = new ArrayList<>();
        CreateRequest req = new CreateRequest("tok", maybeSent, Optional.empty(), false, () -> { }, recorded::add);
        if (adopted) {
            ObservedResource r = managed.create(cloud, env, spec(), req);
            assertThat(r.cloudId()).isEqualTo("data");
            assertThat(kind.calls).containsExactly("complete data");
            assertThat(recorded).containsExactly("data");
            assertThat(cloud.get("data")).containsAllEntriesOf(TagMarker.INSTANCE.marker("dev", BUCKET));
        } else {
            assertThatThrownBy(() -> managed.create(cloud, env, spec(), req))
                .isInstanceOfSatisfying(NotOwnedException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageStartingWith(error);
            assertThat(kind.calls).isEmpty();
            assertThat(recorded).isEmpty();
            assertThat(cloud.get("data")).isEqualTo(tags); // nothing about it changed
        }
    }

    @Test
    void aNewResourceIsRecordedBeforeItIsCompleted() {
        Map<String, Map<String, String>> cloud = new HashMap<>();
        List<String> order = new ArrayList<>();
        CreateRequest req = new CreateRequest("tok", false, Optional.empty(), false, () -> order.add("sending after " + kind.calls),
            id -> order.add("recorded " + id + " after " + kind.calls));
        managed.create(cloud, env, spec(), req);
        assertThat(order).containsExactly("sending after []", "recorded data after [create]");
        assertThat(kind.calls).containsExactly("create", "complete data");
    }

    @Test
    void updateAndDeleteRefuseWhatIsNoLongerOwnedAndDeleteOfWhatIsGoneSucceeds() {
        Map<String, Map<String, String>> cloud = new HashMap<>();
        cloud.put("data", new HashMap<>(Map.of("team", "other")));
        ObservedResource listed = new ObservedResource(BUCKET, "data", Map.of(), TagMarker.INSTANCE.marker("dev", BUCKET));
        assertThatThrownBy(() -> managed.delete(cloud, env, listed)).isInstanceOf(NotOwnedException.class)
            .hasMessage("bucket.data: bucket data is not managed by mlctl; refusing to change it");
        assertThatThrownBy(() -> managed.update(cloud, env, listed, spec(), List.of())).isInstanceOf(NotOwnedException.class);
        assertThat(kind.calls).isEmpty();
        cloud.clear();
        managed.delete(cloud, env, listed);
        assertThat(kind.calls).isEmpty();
    }

    @Test
    void anIdReportedAMomentAgoThatTheCloudDoesNotListYetIsWaitedForNeverMadeAgain() {
        Map<String, Map<String, String>> cloud = new HashMap<>();
        CreateRequest lagging = new CreateRequest("tok", true, Optional.of("data"), true, () -> kind.calls.add("sending"), id -> { });
        assertThatThrownBy(() -> managed.create(cloud, env, spec(), lagging))
            .isInstanceOfSatisfying(DriverException.class, e -> assertThat(e.retryable()).isTrue())
            .hasMessage("bucket.data: created as data but not visible yet");
        assertThat(kind.calls).isEmpty();

        // Long ago, and gone since (deleted out of band): looked up by name like any create, then made.
        CreateRequest old = new CreateRequest("tok", true, Optional.of("data-old"), false, () -> kind.calls.add("sending"), id -> { });
        managed.create(cloud, env, spec(), old);
        assertThat(kind.calls).containsExactly("sending", "create", "complete data");
    }
}
