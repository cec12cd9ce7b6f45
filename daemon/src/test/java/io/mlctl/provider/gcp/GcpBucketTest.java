package io.mlctl.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.api.services.storage.model.Bucket;
import io.mlctl.apply.RetryPolicy;
import io.mlctl.engine.Engine;
import io.mlctl.fake.gcp.GcpFakes;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Change;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.spec.Environment;
import io.mlctl.testing.Specs;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GcpBucketTest {
    static final String PROJECT = "mlctl-test-project";

    /**
     * The real engine (planner, applier, journal, retries) over the real GCP driver and client
     * libraries against the fakes. Kinds another engineer owns are listed through the driver too;
     * while they are not written yet on this branch, their listing counts as empty.
     */
    static final class Rig implements AutoCloseable {
        final GcpFakes fakes;
        final GcpDriver gcp;
        final Engine engine;
        final Path dir;

        Rig(Path dir) throws Exception {
            this.dir = dir;
            this.fakes = GcpFakes.start();
            Map<String, String> env = new HashMap<>(fakes.environment());
            env.put("GOOGLE_CLOUD_PROJECT", PROJECT);
            this.gcp = new GcpDriver(GcpSettings.fromEnvironment(env));
            this.engine = new Engine(gcp, dir.resolve("state"), Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC),
                new RetryPolicy(6, Duration.ofMillis(1), Duration.ofMillis(5), d -> { }, new Random(7)));
        }

        Environment env(String name, String labels, String resources) {
            return Specs.env("""
                apiVersion: mlctl.io/v1
                kind: Environment
                metadata:
                  name: %s
                  labels: {%s}
                spec:
                  provider: gcp
                  region: us-central1
                  resources:
                %s""".formatted(name, labels, resources.indent(4)));
        }

        Plan plan(Environment env) {
            return engine.plan(env, new PlanOptions(false, Set.of(), Instant.parse("2026-01-01T00:00:00Z")));
        }

        Engine.ApplyOutcome run(Environment env, boolean destroy) {
            return engine.apply(env, new Engine.ApplyRequest(new PlanOptions(destroy, Set.of(), Instant.parse("2026-01-01T00:00:00Z")),
                Optional.empty(), true, 4, "test"), p -> true, new Engine.Observer() { });
        }

        /** Applies and expects success; returns the plan it carried out. */
        Plan apply(Environment env) {
            Engine.ApplyOutcome o = run(env, false);
            o.result().ifPresent(r -> assertThat(r.failures()).as("apply failures").isEmpty());
            return o.plan();
        }

        /** Applies and expects failures; returns them. */
        List<String> applyFailing(Environment env) {
            Engine.ApplyOutcome o = run(env, false);
            assertThat(o.result()).isPresent();
            assertThat(o.result().get().failures()).isNotEmpty();
            return o.result().get().failures();
        }

        Plan destroy(Environment env) {
            Engine.ApplyOutcome o = run(env, true);
            o.result().ifPresent(r -> assertThat(r.failures()).as("destroy failures").isEmpty());
            return o.plan();
        }

        @Override
        public void close() {
            gcp.close();
            fakes.close();
        }
    }

    static List<String> paths(Plan p) {
        return p.changes().stream().flatMap(c -> c.attributes().stream().map(a -> c.address() + ":" + a.path())).toList();
    }

    @TempDir
    Path dir;
    Rig rig;

    @BeforeEach
    void start() throws Exception {
        rig = new Rig(dir);
    }

    @AfterEach
    void stop() {
        rig.close();
    }

    static final String DATA = "- {type: bucket, name: dev-data-x, versioning: true, lifecycle: [{afterDays: 30, storageClass: cold}, {expireDays: 90}]}\n";

    Environment dev(String resources) {
        return rig.env("dev", "team: ml", resources);
    }

    Bucket bucket(String name) {
        return rig.fakes.storage().bucket(name).orElseThrow();
    }

    @Test
    void applyFromNothingMakesTheBucketInOneCallThenACleanPlan() {
        Environment env = dev(DATA);
        rig.apply(env);
        Bucket b = bucket("dev-data-x");
        assertThat(b.getLocation()).isEqualTo("US-CENTRAL1");
        assertThat(b.getLabels()).containsEntry("managed-by", "mlctl").containsEntry("mlctl-environment", "dev").containsEntry("mlctl-type", "bucket")
            .containsEntry("mlctl-name", "dev-data-x").containsEntry("team", "ml").containsEntry("mlctl-labels", "team").containsEntry("mlctl-lifecycle", "1-1");
        assertThat(b.getIamConfiguration().getUniformBucketLevelAccess().getEnabled()).isTrue();
        assertThat(b.getIamConfiguration().getPublicAccessPrevention()).isEqualTo("enforced");
        assertThat(b.getVersioning().getEnabled()).isTrue();
        assertThat(b.getEncryption()).isNull();
        assertThat(b.getLifecycle().getRule()).hasSize(2);
        assertThat(b.getLifecycle().getRule().get(0).getAction().getType()).isEqualTo("SetStorageClass");
        assertThat(b.getLifecycle().getRule().get(0).getAction().getStorageClass()).isEqualTo("COLDLINE");
        assertThat(b.getLifecycle().getRule().get(0).getCondition().getAge()).isEqualTo(30);
        assertThat(b.getLifecycle().getRule().get(1).getAction().getType()).isEqualTo("Delete");
        assertThat(b.getLifecycle().getRule().get(1).getCondition().getAge()).isEqualTo(90);
        // Everything in the insert: no patch was needed.
        assertThat(b.getMetageneration()).isEqualTo(1L);
        assertThat(rig.fakes.faults().count("PATCH /storage/v1/b/")).isZero();

        Plan plan = rig.plan(env);
        assertThat(plan.changes()).as(paths(plan).toString()).isEmpty();
    }

    @Test
    void eachAttributeChangeIsAnUpdateInPlaceAndConverges() {
        rig.apply(dev(DATA));
        Environment changed = rig.env("dev", "team: vision", """
            - type: bucket
              name: dev-data-x
              versioning: false
              public: true
              encryption: kms
              lifecycle:
                - {prefix: logs/, afterDays: 10, storageClass: archive, expireDays: 400, noncurrentExpireDays: 7}
            """);
        Plan plan = rig.plan(changed);
        assertThat(plan.changes()).singleElement().satisfies(c -> assertThat(c).isInstanceOf(Change.Update.class));
        assertThat(paths(plan)).contains("bucket.dev-data-x:versioning", "bucket.dev-data-x:public", "bucket.dev-data-x:encryption",
            "bucket.dev-data-x:lifecycle", "bucket.dev-data-x:tags.team");
        rig.apply(changed);

        Bucket b = bucket("dev-data-x");
        assertThat(b.getVersioning().getEnabled()).isFalse();
        assertThat(b.getIamConfiguration().getPublicAccessPrevention()).isEqualTo("inherited");
        assertThat(b.getIamConfiguration().getUniformBucketLevelAccess().getEnabled()).isTrue();
        assertThat(b.getEncryption().getDefaultKmsKeyName()).isEqualTo("projects/" + PROJECT + "/locations/us-central1/keyRings/mlctl/cryptoKeys/dev");
        assertThat(b.getLabels()).containsEntry("team", "vision").containsEntry("mlctl-lifecycle", "3");
        assertThat(b.getLifecycle().getRule()).extracting(r -> r.getAction().getType() + " " + r.getAction().getStorageClass() + " "
                + r.getCondition().getAge() + " " + r.getCondition().getDaysSinceNoncurrentTime() + " " + r.getCondition().getMatchesPrefix())
            .containsExactly("SetStorageClass ARCHIVE 10 null [logs/]", "Delete null 400 null [logs/]", "Delete null null 7 [logs/]");
        Plan after = rig.plan(changed);
        assertThat(after.changes()).as(paths(after).toString()).isEmpty();

        // And back: managed encryption removes the default key, no lifecycle removes the rules and their record.
        Environment plain = rig.env("dev", "team: vision", "- {type: bucket, name: dev-data-x}\n");
        rig.apply(plain);
        b = bucket("dev-data-x");
        assertThat(b.getEncryption() == null || b.getEncryption().getDefaultKmsKeyName() == null).isTrue();
        assertThat(b.getLifecycle() == null || b.getLifecycle().getRule() == null || b.getLifecycle().getRule().isEmpty()).isTrue();
        assertThat(b.getLabels()).doesNotContainKey("mlctl-lifecycle");
        assertThat(b.getIamConfiguration().getPublicAccessPrevention()).isEqualTo("enforced");
        assertThat(rig.plan(plain).changes()).isEmpty();
    }

    @Test
    void aRegionChangeReplacesTheBucket() {
        rig.apply(dev(DATA));
        Environment moved = Specs.env("""
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata: {name: dev, labels: {team: ml}}
            spec:
              provider: gcp
              region: europe-west1
              resources:
            """ + DATA.indent(4));
        Plan plan = rig.plan(moved);
        assertThat(plan.changes()).singleElement().satisfies(c -> {
            assertThat(c).isInstanceOf(Change.Replace.class);
            assertThat(c.attributes()).extracting(AttributeChange::path).contains("region");
        });
    }

    @Test
    void driftOutOfBandShowsInThePlanAndIsCorrected() {
        Environment env = dev(DATA);
        rig.apply(env);
        // Someone turns versioning off, deletes a lifecycle rule, removes a label mlctl set and adds one of their own.
        rig.fakes.storage().patchAs("dev-data-x", """
            {"versioning": {"enabled": false},
             "lifecycle": {"rule": [{"action": {"type": "Delete"}, "condition": {"age": 90}}]},
             "labels": {"team": null, "cost-center": "research"}}""");
        Plan plan = rig.plan(env);
        assertThat(paths(plan)).containsExactlyInAnyOrder("bucket.dev-data-x:versioning", "bucket.dev-data-x:lifecycle", "bucket.dev-data-x:tags");
        rig.apply(env);
        Bucket b = bucket("dev-data-x");
        assertThat(b.getVersioning().getEnabled()).isTrue();
        assertThat(b.getLifecycle().getRule()).hasSize(2);
        assertThat(b.getLabels()).containsEntry("team", "ml").containsEntry("cost-center", "research");
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void aLabelSomeoneElseAddedStaysAndIsNotDrift() {
        Environment env = dev(DATA);
        rig.apply(env);
        rig.fakes.storage().patchAs("dev-data-x", "{\"labels\": {\"backup\": \"daily\"}}");
        assertThat(rig.plan(env).changes()).isEmpty();
        // A label change of mlctl's own keeps theirs.
        Environment relabeled = rig.env("dev", "team: vision, owner: alice", DATA);
        rig.apply(relabeled);
        assertThat(bucket("dev-data-x").getLabels()).containsEntry("backup", "daily").containsEntry("team", "vision").containsEntry("owner", "alice");
        rig.apply(rig.env("dev", "", DATA));
        assertThat(bucket("dev-data-x").getLabels()).containsEntry("backup", "daily").doesNotContainKeys("team", "owner", "mlctl-labels")
            .containsEntry("mlctl-environment", "dev");
        assertThat(rig.plan(rig.env("dev", "", DATA)).changes()).isEmpty();
    }

    @Test
    void anotherTeamsBucketOfTheSameNameIsRefusedAndLeftAsItWas() {
        rig.fakes.storage().insertAs(PROJECT, """
            {"name": "dev-data-x", "location": "us-central1", "labels": {"team": "other"},
             "lifecycle": {"rule": [{"action": {"type": "Delete"}, "condition": {"age": 365}}]}}""");
        Bucket before = bucket("dev-data-x");
        List<String> failures = rig.applyFailing(dev(DATA));
        assertThat(failures).singleElement().asString()
            .contains("bucket.dev-data-x: bucket dev-data-x already exists and is not managed by mlctl; mlctl does not take over resources it did not create")
            .doesNotContain("\n");
        assertThat(bucket("dev-data-x")).isEqualTo(before);
    }

    @Test
    void aBucketNameTakenInAnotherProjectIsOneLineAndNothingChanges() {
        rig.fakes.storage().insertAs("someone-elses-project", "{\"name\": \"dev-data-x\", \"location\": \"EU\"}");
        Bucket before = bucket("dev-data-x");
        List<String> failures = rig.applyFailing(dev(DATA));
        assertThat(failures).singleElement().asString().contains("dev-data-x").contains("not managed by mlctl").doesNotContain("\n");
        assertThat(bucket("dev-data-x")).isEqualTo(before);
        assertThat(rig.fakes.storage().projectOf("dev-data-x")).contains("someone-elses-project");
    }

    @Test
    void aLostAnswerToTheInsertMakesOneBucket() {
        rig.fakes.faults().dropResponse("^POST /storage/v1/b$", 1);
        Environment env = dev(DATA);
        rig.apply(env);
        // The insert went through, its answer did not: whoever sends it again (client or engine) finds it made, and it is ours.
        // The Storage client itself sends the insert again after a dropped connection; GCS answers the second one 409 (bucket
        // names are unique), and mlctl then finds the bucket made, with this environment's labels: one bucket, no third insert.
        assertThat(rig.fakes.faults().count("^POST /storage/v1/b$")).isBetween(1L, 2L);
        assertThat(rig.fakes.storage().names()).containsExactly("dev-data-x");
        assertThat(bucket("dev-data-x").getLabels()).containsEntry("mlctl-environment", "dev");
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void unavailableAndRateLimitedAnswersAreRetried() {
        rig.fakes.faults().fail("^POST /storage/v1/b$", 1, io.mlctl.fake.gcp.Faults.rateLimited());
        rig.fakes.faults().fail("^GET /storage/v1/b$", 2, io.mlctl.fake.gcp.Faults.unavailable());
        Environment env = dev(DATA);
        rig.apply(env);
        assertThat(rig.fakes.storage().names()).containsExactly("dev-data-x");
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void permissionDeniedIsOneLineNamingThePermissionAndTheResource() {
        rig.fakes.faults().fail("^POST /storage/v1/b$", 1, io.mlctl.fake.gcp.GoogleError.permissionDenied("storage.buckets.create", "projects/" + PROJECT));
        List<String> failures = rig.applyFailing(dev(DATA));
        assertThat(failures).singleElement().asString()
            .contains("permission denied: the credentials lack storage.buckets.create on projects/" + PROJECT).doesNotContain("\n");
        assertThat(rig.fakes.storage().names()).isEmpty();
    }

    @Test
    void destroyDeletesTheBucketAndRefusesOneThatHoldsData() {
        Environment env = dev(DATA + "- {type: bucket, name: dev-models-x}\n");
        rig.apply(env);
        rig.fakes.storage().setObjectCount("dev-models-x", 3);
        Engine.ApplyOutcome o = rig.run(env, true);
        assertThat(o.result().orElseThrow().failures()).singleElement().asString()
            .isEqualTo("delete bucket.dev-models-x: bucket.dev-models-x: bucket dev-models-x still holds objects; mlctl does not delete data: empty it first");
        assertThat(rig.fakes.storage().names()).containsExactly("dev-models-x");
        rig.fakes.storage().setObjectCount("dev-models-x", 0);
        rig.destroy(env);
        assertThat(rig.fakes.storage().names()).isEmpty();
    }

    @Test
    void inventoryIsOneListPerPageWhateverTheBucketsHold() {
        StringBuilder resources = new StringBuilder();
        for (int i = 0; i < 30; i++) resources.append("- {type: bucket, name: dev-b-").append(i).append(", versioning: true, lifecycle: [{expireDays: 9}]}\n");
        Environment env = dev(resources.toString());
        rig.apply(env);
        // Other projects' and teams' buckets are on the same list and filtered out.
        rig.fakes.storage().insertAs(PROJECT, "{\"name\": \"someone-else\", \"location\": \"us-central1\"}");
        rig.fakes.faults().resetCounts();
        Plan plan = rig.plan(env);
        assertThat(plan.changes()).isEmpty();
        assertThat(rig.fakes.faults().count("/storage/v1/b")).isEqualTo(1);
    }
}
