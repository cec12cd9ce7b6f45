package io.mlctl.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.Driver;
import io.mlctl.provider.ManagedResources;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.TagMarker;
import io.mlctl.provider.Target;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.MapCloud;
import io.mlctl.testing.MutableClock;
import io.mlctl.testing.Specs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The applier and the shared create machinery together: when may a same-named resource be this create's work? */
class CreatePendingTest {
    @TempDir
    Path dir;

    private final Environment env = Specs.env("""
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata: {name: dev}
        spec:
          provider: aws
          region: us-east-1
          resources:
            - {type: bucket, name: data}
        """);
    private final MapCloud kind = new MapCloud();
    private final Map<String, Map<String, String>> cloud = new HashMap<>();
    private final List<CreateRequest> requests = new ArrayList<>();

    /** Buckets only, held in a map, through the shared machinery every provider uses. */
    private final Driver driver = new Driver() {
        final ManagedResources<Map<String, Map<String, String>>> managed = new ManagedResources<>(TagMarker.INSTANCE, List.of(kind));

        public String name() { return "map"; }
        public ResourceRules rules(ResourceType k) { return new ResourceRules(Set.of("region")); }
        public Target target(Environment e) { return new Target("000000000000", e.region()); }
        public Page list(Environment e, ResourceType k, Optional<String> t) { return new Page(List.of(), Optional.empty()); }
        public ObservedResource create(Environment e, ResourceSpec d, CreateRequest r) {
            requests.add(r);
            return managed.create(cloud, e, d, r);
        }
        public ObservedResource update(Environment e, ObservedResource c, ResourceSpec d, List<AttributeChange> ch) { throw new AssertionError(); }
        public void delete(Environment e, ObservedResource c) { throw new AssertionError(); }
        public long requestCount() { return 0; }
    };

    private ApplyResult apply(Optional<Journal.Interrupted> resumed) {
        MutableClock clock = new MutableClock(java.time.Instant.parse("2026-01-01T00:00:00Z"));
        Plan plan = new Planner(t -> new ResourceRules(Set.of("region"))).plan(env, Inventory.empty("dev"), PlanOptions.defaults(clock.instant()));
        try (Journal journal = new Journal(dir)) {
            return new Applier(driver, new RetryPolicy(4, Duration.ZERO, Duration.ZERO, d -> { }, new Random(1)), clock, 1)
                .apply(env, plan, journal, resumed, ApplyListener.NONE);
        }
    }

    @Test
    void aStrangersBucketFoundOnlyAfterAThrottledLookIsStillRefused() {
        cloud.put("data", new HashMap<>(Map.of("team", "other")));
        kind.failingFinds = 1;
        ApplyResult r = apply(Optional.empty());
        assertThat(r.ok()).isFalse();
        assertThat(r.failures()).singleElement().asString().contains("bucket data already exists and is not managed by mlctl");
        assertThat(requests).hasSize(2).allSatisfy(req -> assertThat(req.maybeSent()).isFalse());
        assertThat(cloud.get("data")).isEqualTo(Map.of("team", "other"));
        assertThat(kind.calls).isEmpty();
    }

    @Test
    void aCreateWhoseCallWentOutIsFinishedOnTheNextAttemptAndByAResumedRun() {
        // The making call goes out and its answer is lost: the retry may adopt the unmarked bucket as its own work.
        kind.failCreateAfterMaking = true;
        ApplyResult r = apply(Optional.empty());
        assertThat(r.ok()).as(r.failures().toString()).isTrue();
        assertThat(requests).extracting(CreateRequest::maybeSent).containsExactly(false, true);
        assertThat(cloud.get("data")).containsAllEntriesOf(TagMarker.INSTANCE.marker("dev", env.resources().get(0).address()));
        assertThat(kind.calls).containsExactly("create", "complete data");
    }
}
