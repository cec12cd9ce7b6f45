package io.mlctl.gitops;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.GitRepos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * A config repository that stops answering after a good fetch: the daemon says so everywhere a user looks (status API,
 * each environment, metrics, readiness after the grace period, one webhook event per outage) and recovers by itself.
 */
class DeadRemoteTest {
    static final String FAILURES = "mlctl_git_fetch_failures_total";
    static final String LAST_SUCCESS = "mlctl_git_last_successful_fetch_timestamp_seconds";
    static final Duration GRACE = Duration.ofMinutes(5);

    @TempDir
    Path dir;
    GitRepos git;
    DaemonHarness h;

    @BeforeEach
    void setUp() throws Exception {
        git = new GitRepos(dir.resolve("git"));
        git.write("envs/dev.yaml", DaemonHarness.autoEnv("dev")).write("envs/prod.yaml", DaemonHarness.autoEnv("prod")).commit("two environments");
        git.push("main");
        h = new DaemonHarness(dir);
    }

    @AfterEach
    void tearDown() {
        h.close();
        git.close();
    }

    @Test
    void aMovedRepositoryIsReportedOnceFailsReadinessAfterTheGraceAndRecovers() throws Exception {
        Reconciler r = h.start(h.config(git.url()).fetchFailureGrace(GRACE));
        r.tick();
        Instant firstSuccess = h.clock.instant();
        assertHealthy(firstSuccess);
        double failuresBefore = h.metric(FAILURES).orElse(0.0);

        Path moved = dir.resolve("git/moved.git");
        Files.move(git.remote(), moved);
        h.clock.advance(Duration.ofMinutes(1));
        Instant since = h.clock.instant();
        r.tick();
        JsonNode gitStatus = h.get("/api/status").json().path("git");
        assertThat(gitStatus.path("ok").asBoolean()).isFalse();
        assertThat(gitStatus.path("failingSince").asString()).isEqualTo(since.toString());
        assertThat(gitStatus.path("lastSuccess").asString()).isEqualTo(firstSuccess.toString());
        assertThat(gitStatus.path("lastFetch").asString()).isEqualTo(since.toString());
        assertThat(gitStatus.path("error").asString()).startsWith("cannot fetch " + git.url());
        assertEveryEnvironmentNamesTheOutage(since);
        assertThat(h.metric(FAILURES)).contains(failuresBefore + 1);
        assertThat(h.metric(LAST_SUCCESS)).contains((double) firstSuccess.getEpochSecond());
        assertThat(h.get(StatusServer.READY).status()).as("within the grace period").isEqualTo(200);

        // More failing passes, the last one still inside the grace period.
        for (int i = 0; i < 3; i++) {
            h.clock.advance(Duration.ofMinutes(1));
            r.tick();
        }
        assertThat(h.get(StatusServer.READY).status()).isEqualTo(200);
        h.clock.advance(GRACE.minus(Duration.ofMinutes(3)));
        r.tick();
        DaemonHarness.Response ready = h.get(StatusServer.READY);
        assertThat(ready.status()).as("past the grace period").isEqualTo(503);
        assertThat(ready.body()).contains("cannot be fetched since " + since).contains("cannot fetch " + git.url());
        assertThat(h.metric(FAILURES)).contains(failuresBefore + 5);
        assertThat(h.metric(LAST_SUCCESS)).contains((double) firstSuccess.getEpochSecond());
        assertThat(h.get("/api/status").json().path("ready").asBoolean()).isFalse();
        assertEveryEnvironmentNamesTheOutage(since);
        h.flushEvents();
        assertThat(h.events("error")).as("one error event for the outage, not one per pass").hasSize(1).first().satisfies(e -> {
            assertThat(e.path("source").asString()).isEqualTo("git");
            assertThat(e.path("since").asString()).isEqualTo(since.toString());
            assertThat(e.path("error").asString()).startsWith("cannot fetch " + git.url());
        });
        assertThat(h.logs.toString().lines().filter(l -> l.contains("cannot fetch"))).as("logged at every pass").hasSize(5);

        Files.move(moved, git.remote());
        h.clock.advance(Duration.ofMinutes(1));
        Instant back = h.clock.instant();
        r.tick();
        assertHealthy(back);
        assertThat(h.metric(FAILURES)).as("a counter never goes back").contains(failuresBefore + 5);

        Files.move(git.remote(), moved);
        h.clock.advance(Duration.ofMinutes(1));
        Instant again = h.clock.instant();
        r.tick();
        r.tick();
        assertEveryEnvironmentNamesTheOutage(again);
        h.flushEvents();
        assertThat(h.events("error")).as("a later outage is a new event").hasSize(2).last()
            .satisfies(e -> assertThat(e.path("since").asString()).isEqualTo(again.toString()));
    }

    /** A forge that starts refusing the token (401), then breaks (500): one outage, named as it is now, one event. */
    @Test
    void aRevokedTokenAndABrokenForgeOverHttpAreOneOutage() throws Exception {
        try (GitHttp forge = new GitHttp(git.remote())) {
            forge.requireBasic("x-access-token", "TOKEN-1");
            Reconciler r = h.start(h.config(forge.url("x-access-token:TOKEN-1", "")).fetchFailureGrace(GRACE));
            r.tick();
            Instant firstSuccess = h.clock.instant();
            assertHealthy(firstSuccess);
            assertThat(forge.servedSmartFetch()).as("fetched over the smart protocol: " + forge.requests + forge.backendStderr).isTrue();

            forge.failWith(401);
            h.clock.advance(Duration.ofMinutes(1));
            Instant since = h.clock.instant();
            r.tick();
            JsonNode gitStatus = h.get("/api/status").json().path("git");
            assertThat(gitStatus.path("error").asString()).startsWith("cannot fetch " + forge.url() + ": ").contains("not authorized");
            assertThat(gitStatus.path("repository").asString()).isEqualTo(forge.url("***", ""));
            assertEveryEnvironmentNamesTheOutage(since);

            forge.failWith(500);
            h.clock.advance(GRACE);
            r.tick();
            assertThat(h.get("/api/status").json().path("git").path("error").asString()).contains("500");
            assertThat(h.get("/api/status").json().path("git").path("failingSince").asString()).isEqualTo(since.toString());
            assertThat(h.get(StatusServer.READY).status()).isEqualTo(503);
            assertThat(h.get(StatusServer.READY).body()).contains("500");
            assertThat(h.metric(LAST_SUCCESS)).contains((double) firstSuccess.getEpochSecond());
            h.flushEvents();
            assertThat(h.events("error")).hasSize(1).first().satisfies(e -> assertThat(e.path("error").asString()).contains("not authorized"));

            forge.failWith(0);
            int before = forge.requests.size();
            var fixed = git.write("envs/dev.yaml", DaemonHarness.autoEnv("dev").replace("versioning: true", "versioning: false"))
                .commit("dev: versioning off");
            git.push("main");
            h.clock.advance(Duration.ofMinutes(1));
            r.tick();
            assertHealthy(h.clock.instant());
            assertThat(forge.requests.subList(before, forge.requests.size())).as("the new commit came over the smart protocol")
                .contains("GET /repo.git/info/refs?service=git-upload-pack", "POST /repo.git/git-upload-pack");
            assertThat(h.get("/api/environments").json().get(0).path("commit").asString()).isEqualTo(fixed.name());
        }
    }

    /** Never fetched: not ready at once (there is nothing to serve), and the reason is named. */
    @Test
    void aRepositoryThatWasNeverFetchedIsNotReadyAndSaysWhy() throws Exception {
        try (GitHttp forge = new GitHttp(git.remote())) {
            forge.failWith(500);
            Reconciler r = h.start(h.config(forge.url()).fetchFailureGrace(GRACE));
            r.tick();
            assertThat(forge.requests).as("the smart protocol's first request").first().isEqualTo("GET /repo.git/info/refs?service=git-upload-pack");
            assertThat(h.get(StatusServer.READY).status()).isEqualTo(503);
            JsonNode gitStatus = h.get("/api/status").json().path("git");
            assertThat(gitStatus.path("lastSuccess").isNull()).isTrue();
            assertThat(gitStatus.path("error").asString()).contains("500");
            assertThat(h.metric(LAST_SUCCESS)).as("never: zero, so an alert on its age fires").contains(0.0);
            h.flushEvents();
            assertThat(h.events("error")).hasSize(1);
        }
    }

    private void assertHealthy(Instant lastSuccess) {
        assertThat(h.get(StatusServer.READY).status()).isEqualTo(200);
        JsonNode status = h.get("/api/status").json();
        assertThat(status.path("ready").asBoolean()).isTrue();
        assertThat(status.path("git").path("ok").asBoolean()).isTrue();
        assertThat(status.path("git").path("failingSince").isNull()).isTrue();
        assertThat(status.path("git").path("error").isNull()).isTrue();
        assertThat(status.path("git").path("lastSuccess").asString()).isEqualTo(lastSuccess.toString());
        JsonNode envs = h.get("/api/environments").json();
        assertThat(envs).hasSize(2);
        for (JsonNode e : envs) {
            assertThat(e.path("status").asString()).as(e.toString()).isEqualTo("synced");
            assertThat(e.path("error").isNull()).as(e.toString()).isTrue();
        }
        assertThat(h.metric(LAST_SUCCESS)).contains((double) lastSuccess.getEpochSecond());
        assertStatusGauges("synced");
    }

    /** {@code mlctl_environment_status} says {@code status} (1) and no other (0) for both environments, as Prometheus scrapes it. */
    private void assertStatusGauges(String status) {
        String scrape = h.get(StatusServer.METRICS).body();
        for (String env : new String[] {"dev", "prod"}) {
            // Micrometer writes the tags sorted by name: environment, then status.
            assertThat(scrape).as(env).contains("mlctl_environment_status{environment=\"" + env + "\",status=\"" + status + "\"} 1.0\n");
            for (String other : new String[] {"synced", "error", "drifted"}) {
                if (other.equals(status)) continue;
                assertThat(scrape).as(env).contains("mlctl_environment_status{environment=\"" + env + "\",status=\"" + other + "\"} 0.0\n");
            }
        }
    }

    private void assertEveryEnvironmentNamesTheOutage(Instant since) {
        JsonNode envs = h.get("/api/environments").json();
        assertThat(envs).extracting(e -> e.path("name").asString()).containsExactly("dev", "prod");
        for (JsonNode e : envs) {
            assertThat(e.path("status").asString()).as(e.toString()).isEqualTo("error");
            assertThat(e.path("error").asString()).as(e.toString()).startsWith("cannot fetch the config repository since " + since + ": cannot fetch ");
        }
        assertStatusGauges("error");
    }
}
