package io.mlctl.gitops;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.mlctl.apply.EnvironmentLock;
import io.mlctl.inventory.InventoryReader;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.ConfigLoader;
import io.mlctl.spec.Environment;
import io.mlctl.spec.YamlLoader;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.GitRepos;
import io.mlctl.testing.MutableClock;
import io.mlctl.testing.Specs;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReconcilerTest {
    @TempDir
    Path dir;
    GitRepos git;
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    StringWriter logs = new StringWriter();
    SandboxCloud sandbox;
    GitSource source;
    Notifier notifier;
    PlanStore plans;
    DaemonMetrics metrics = new DaemonMetrics();
    HttpServer hook;
    List<String> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        git = new GitRepos(dir);
        sandbox = new SandboxCloud(dir.resolve("sandbox"), Specs.CATALOG, clock);
        hook = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
        hook.createContext("/", ex -> {
            events.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        hook.start();
    }

    final List<Reconciler> made = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() throws InterruptedException {
        for (Reconciler r : made) r.awaitIdle(Duration.ofSeconds(30));
        if (notifier != null) notifier.close();
        if (source != null) source.close();
        hook.stop(0);
        git.close();
    }

    java.util.function.Function<Environment, io.mlctl.provider.Driver> drivers = env -> sandbox;

    Reconciler reconciler(Optional<String> publishBranch) {
        DaemonConfig config = DaemonConfig.builder(git.url(), dir.resolve("state")).interval(Duration.ofSeconds(2)).listen("127.0.0.1:0")
            .sandbox(true).webhook(Optional.of(URI.create("http://127.0.0.1:" + hook.getAddress().getPort() + "/hook")))
            .publishBranch(publishBranch).logFormat("json").planPullRequests(true).build();
        DaemonLog log = new DaemonLog(new PrintWriter(logs, true), true, clock);
        source = new GitSource(config.repo(), dir.resolve("state/.daemon/repo.git"), GitCredentials.none());
        notifier = new Notifier(config.webhook(), log, 3, Duration.ofMillis(10));
        plans = new PlanStore(dir.resolve("state/.daemon"));
        Reconciler r = new Reconciler(config, source, d -> new ConfigLoader(new YamlLoader(), Specs.SCHEMA, Specs.CATALOG, d).load(List.of(d)),
            e -> drivers.apply(e), clock, log, notifier, metrics, plans, DaemonHarness.ASSESSMENT);
        made.add(r);
        return r;
    }

    /** The sandbox, except that each create waits for {@code release} after saying so on {@code inCreate}: an apply held mid-way. */
    static io.mlctl.provider.Driver blocking(SandboxCloud real, java.util.concurrent.CountDownLatch inCreate,
                                             java.util.concurrent.CountDownLatch release) {
        return new io.mlctl.provider.Driver() {
            public String name() { return real.name(); }
            public long requestCount() { return real.requestCount(); }
            public io.mlctl.provider.Page list(Environment e, io.mlctl.spec.ResourceType k, Optional<String> t) { return real.list(e, k, t); }
            public io.mlctl.provider.ResourceRules rules(io.mlctl.spec.ResourceType k) { return real.rules(k); }
            public io.mlctl.provider.Target target(Environment e) { return real.target(e); }
            public io.mlctl.inventory.ObservedResource update(Environment e, io.mlctl.inventory.ObservedResource c, io.mlctl.spec.ResourceSpec d,
                                                              java.util.List<io.mlctl.plan.AttributeChange> changes) {
                return real.update(e, c, d, changes);
            }
            public void delete(Environment e, io.mlctl.inventory.ObservedResource c) { real.delete(e, c); }
            public io.mlctl.inventory.ObservedResource create(Environment e, io.mlctl.spec.ResourceSpec d, io.mlctl.provider.CreateRequest request) {
                inCreate.countDown();
                try {
                    release.await();
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                }
                return real.create(e, d, request);
            }
        };
    }

    static String env(String name, String apply) {
        return Fixtures.smallEnv(name).replace("  provider: aws\n", "  provider: aws\n  apply: " + apply + "\n");
    }

    Environment environment(String yaml) {
        return Specs.env(yaml);
    }

    int owned(String yaml) {
        return new InventoryReader(sandbox).read(environment(yaml)).size();
    }

    EnvironmentStatus status(Reconciler r, String name) {
        return r.statuses().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    /** Polls {@code condition} until it holds or {@code timeout} passes; the assertion after it says what was expected. */
    static void waitUntil(Duration timeout, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) Thread.sleep(10);
    }

    /** Waits until every event sent so far was delivered (the notifier sends in order, one at a time). */
    void flushEvents() throws InterruptedException {
        String marker = "barrier-" + System.nanoTime();
        notifier.send(notifier.event(marker));
        awaitEvent(marker);
    }

    void awaitEvent(String type) throws InterruptedException {
        waitUntil(Duration.ofSeconds(30), () -> events.stream().anyMatch(e -> e.contains("\"event\":\"" + type + "\"")));
        assertThat(events).anyMatch(e -> e.contains("\"event\":\"" + type + "\""));
    }

    @Test
    void aCommitIsAppliedAndTheNextChangesOnlyWhatChanged() throws Exception {
        String v1 = env("dev", "auto");
        git.write("envs/dev.yaml", v1).commit("dev environment");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        r.tick();
        EnvironmentStatus s = status(r, "dev");
        assertThat(s.status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(s.lastApplyOutcome()).contains("succeeded");
        assertThat(owned(v1)).isEqualTo(4);
        String instanceBefore = new InventoryReader(sandbox).read(environment(v1)).get(io.mlctl.spec.Address.parse("instance.gpu-1")).orElseThrow().cloudId();
        awaitEvent("apply");

        String v2 = v1.replace("versioning: true", "versioning: false");
        var c2 = git.write("envs/dev.yaml", v2).commit("bucket versioning off");
        git.push("main");
        r.tick();
        s = status(r, "dev");
        assertThat(s.commit()).isEqualTo(c2.name());
        assertThat(s.lastPlanSummary()).hasValueSatisfying(sum -> {
            assertThat(sum.update()).isEqualTo(1);
            assertThat(sum.total()).isEqualTo(1);
        });
        var inv = new InventoryReader(sandbox).read(environment(v2));
        assertThat(inv.get(io.mlctl.spec.Address.parse("bucket.dev-data")).orElseThrow().attributes()).containsEntry("versioning", false);
        assertThat(inv.get(io.mlctl.spec.Address.parse("instance.gpu-1")).orElseThrow().cloudId()).isEqualTo(instanceBefore);
        assertThat(metrics.scrape()).contains("mlctl_reconcile_total{environment=\"dev\",outcome=\"succeeded\"} 2.0")
            .contains("mlctl_resources_changed_total{action=\"update\",environment=\"dev\"} 1.0");
    }

    @Test
    void anInvalidCommitIsRejectedAndThePreviousStateStays() throws Exception {
        String v1 = env("dev", "auto");
        var c1 = git.write("envs/dev.yaml", v1).write("envs/other.yaml", env("other", "auto")).commit("good");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        r.tick();
        git.write("envs/dev.yaml", v1.replace("g4dn.xlarge", "g4dn.huge").replace("versioning: true", "versioning: false")).commit("bad");
        git.push("main");
        r.tick();
        EnvironmentStatus s = status(r, "dev");
        assertThat(s.status()).isEqualTo(EnvironmentStatus.Status.ERROR);
        assertThat(s.commit()).isEqualTo(c1.name());
        assertThat(s.error()).hasValueSatisfying(e -> assertThat(e).contains("does not validate, keeping " + c1.name().substring(0, 7))
            .contains("envs/dev.yaml:27:20: unknown machine type 'g4dn.huge'"));
        assertThat(new InventoryReader(sandbox).read(environment(v1)).get(io.mlctl.spec.Address.parse("bucket.dev-data")).orElseThrow()
            .attributes()).containsEntry("versioning", true);
        assertThat(logs.toString()).contains("\"msg\":\"invalid spec\"");
        assertThat(metrics.scrape()).contains("mlctl_commits_total{validity=\"invalid\"} 1.0").contains("mlctl_commits_total{validity=\"valid\"} 1.0")
            .contains("mlctl_environment_status{environment=\"dev\",status=\"error\"} 1.0");
        awaitEvent("error");

        git.write("envs/dev.yaml", v1.replace("versioning: true", "versioning: false")).commit("fixed");
        git.push("main");
        r.tick();
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(status(r, "dev").error()).isEmpty();
        assertThat(status(r, "other").status()).as("an environment the commits never touched is not left in error").isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(status(r, "other").error()).isEmpty();
    }

    @Test
    void aBranchGetsItsPlanPublishedAndNothingApplied() {
        String v1 = env("dev", "auto");
        git.write("envs/dev.yaml", v1).commit("base");
        git.push("main");
        Reconciler r = reconciler(Optional.of("mlctl/plans"));
        r.tick();
        git.checkout("feature/more-gpus", true);
        git.write("envs/dev.yaml", v1 + "    - type: instance\n      name: gpu-2\n      machineType: p3.8xlarge\n      subnet: net/train\n")
            .commit("one more trainer");
        git.push("feature/more-gpus");
        r.tick();
        assertThat(owned(v1)).isEqualTo(4);
        assertThat(plans.read("feature/more-gpus/dev.md")).hasValueSatisfying(md -> assertThat(md)
            .contains("Plan: 1 to add, 0 to change, 0 to destroy.").contains("instance.gpu-2"));
        assertThat(plans.read("feature/more-gpus/dev.json")).hasValueSatisfying(json -> assertThat(json).contains("\"create\" : 1"));
        assertThat(git.remoteFile("mlctl/plans", "plans/feature/more-gpus/dev.md")).hasValueSatisfying(md -> assertThat(md)
            .contains("instance.gpu-2"));
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        // The plans branch itself is never planned as a review branch.
        r.tick();
        assertThat(plans.entries()).extracting(PlanStore.Entry::branch).doesNotContain("mlctl/plans");
    }

    @Test
    void manualEnvironmentsArePlannedNeverApplied() {
        git.write("dev.yaml", env("dev", "manual")).commit("manual env");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        r.tick();
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.MANUAL);
        assertThat(status(r, "dev").lastPlanSummary()).hasValueSatisfying(s -> assertThat(s.create()).isEqualTo(4));
        assertThat(owned(env("dev", "manual"))).isZero();
    }

    @Test
    void driftIsReportedAndCorrectedOnlyWithSelfHeal() throws Exception {
        String plain = env("plain", "auto");
        String healing = env("healing", "auto").replace("  apply: auto\n", "  apply: auto\n  selfHeal: true\n");
        git.write("plain.yaml", plain).write("healing.yaml", healing).commit("two envs");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        r.tick();
        for (String name : List.of("plain", "healing")) {
            SandboxCloud.StoredResource b = sandbox.all(io.mlctl.spec.Provider.AWS, io.mlctl.spec.ResourceType.BUCKET).stream()
                .filter(x -> x.cloudId().equals(name + "-data")).findFirst().orElseThrow();
            Map<String, Object> attrs = new java.util.TreeMap<>(b.attributes());
            attrs.put("versioning", false);
            sandbox.write(io.mlctl.spec.Provider.AWS, new SandboxCloud.StoredResource(b.cloudId(), b.kind(), attrs, b.tags(), b.createdAt()));
        }
        long before = sandbox.requestCount();
        clock.advance(Duration.ofMinutes(5));
        r.tick();
        assertThat(sandbox.requestCount()).as("no cloud request between drift checks").isEqualTo(before);
        clock.advance(Duration.ofMinutes(6));
        r.tick();
        assertThat(status(r, "plain").status()).isEqualTo(EnvironmentStatus.Status.DRIFTED);
        assertThat(status(r, "healing").status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(new InventoryReader(sandbox).read(environment(plain)).get(io.mlctl.spec.Address.parse("bucket.plain-data")).orElseThrow()
            .attributes()).containsEntry("versioning", false);
        assertThat(new InventoryReader(sandbox).read(environment(healing)).get(io.mlctl.spec.Address.parse("bucket.healing-data")).orElseThrow()
            .attributes()).containsEntry("versioning", true);
        assertThat(metrics.scrape()).contains("mlctl_drift_total{environment=\"plain\"} 1.0");
        awaitEvent("drift");
    }

    @Test
    void anEnvironmentLockedByAnotherApplyIsRetriedLater() {
        String v1 = env("dev", "auto");
        git.write("dev.yaml", v1).commit("dev");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        try (EnvironmentLock held = EnvironmentLock.acquire(dir.resolve("state/dev"), "dev", "mlctl apply", clock.instant())) {
            r.tick();
            assertThat(owned(v1)).isZero();
            assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.PENDING);
            assertThat(logs.toString()).contains("environment is locked, will try again");
        }
        r.tick();
        assertThat(owned(v1)).as("not before the retry time").isZero();
        clock.advance(Duration.ofSeconds(3));
        r.tick();
        assertThat(owned(v1)).isEqualTo(4);
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
    }

    @Test
    void aForcePushIsFollowed() {
        git.write("dev.yaml", env("dev", "auto")).commit("first");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        r.tick();
        var rewritten = git.write("dev.yaml", env("dev", "auto").replace("versioning: true", "versioning: false")).amend("rewritten");
        git.push("main");
        r.tick();
        assertThat(status(r, "dev").commit()).isEqualTo(rewritten.name());
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
    }

    @Test
    void aFailingEnvironmentBacksOffInsteadOfHammeringTheCloud() throws Exception {
        java.nio.file.Files.createDirectories(dir.resolve("sandbox"));
        java.nio.file.Files.writeString(dir.resolve("sandbox/faults.json"),
            "[{\"op\": \"create\", \"target\": \"identity.trainer\", \"error\": \"denied\", \"times\": 100}]");
        sandbox = new SandboxCloud(dir.resolve("sandbox"), Specs.CATALOG, clock);
        git.write("dev.yaml", env("dev", "auto")).commit("dev");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        r.tick();
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.ERROR);
        assertThat(status(r, "dev").error()).hasValueSatisfying(e -> assertThat(e).contains("AccessDenied"));
        long afterFirst = sandbox.requestCount();
        r.tick();
        clock.advance(Duration.ofSeconds(3));
        r.tick();
        assertThat(sandbox.requestCount()).as("no retry before the backoff (2 x 2 s)").isEqualTo(afterFirst);
        clock.advance(Duration.ofSeconds(2));
        r.tick();
        long afterSecond = sandbox.requestCount();
        assertThat(afterSecond).as("retried once the backoff passed").isGreaterThan(afterFirst);
        clock.advance(Duration.ofSeconds(5));
        r.tick();
        assertThat(sandbox.requestCount()).as("the second backoff is longer (8 s)").isEqualTo(afterSecond);
        awaitEvent("error");
    }

    @Test
    void webhookDeliveryIsRetried() throws Exception {
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        List<String> delivered = new CopyOnWriteArrayList<>();
        HttpServer flaky = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
        flaky.createContext("/", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            if (calls.incrementAndGet() <= 2) {
                ex.sendResponseHeaders(500, -1);
            } else {
                delivered.add(body);
                ex.sendResponseHeaders(204, -1);
            }
            ex.close();
        });
        flaky.start();
        try (Notifier n = new Notifier(Optional.of(URI.create("http://127.0.0.1:" + flaky.getAddress().getPort() + "/")),
            new DaemonLog(new PrintWriter(logs, true), false, clock), 5, Duration.ofMillis(5))) {
            n.send(n.event("drift").put("environment", "dev"));
            for (int i = 0; i < 300 && delivered.isEmpty(); i++) Thread.sleep(10);
        } finally {
            flaky.stop(0);
        }
        assertThat(calls.get()).isEqualTo(3);
        assertThat(delivered).singleElement().asString().contains("\"event\":\"drift\"").contains("\"environment\":\"dev\"");
        assertThat(logs.toString()).contains("webhook answered 500");
    }

    @Test
    void statusIsServedWhileAnApplyIsRunning() throws Exception {
        java.util.concurrent.CountDownLatch inCreate = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        SandboxCloud real = sandbox;
        drivers = env -> blocking(real, inCreate, release);
        git.write("dev.yaml", env("dev", "auto")).commit("dev");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        Thread tick = new Thread(r::tick);
        tick.start();
        assertThat(inCreate.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        var statuses = java.util.concurrent.CompletableFuture.supplyAsync(r::statuses).get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(statuses).singleElement().satisfies(st -> {
            assertThat(st.status()).isEqualTo(EnvironmentStatus.Status.PENDING);
            assertThat(st.lastPlanSummary().orElseThrow().create()).isEqualTo(4);
        });
        release.countDown();
        tick.join(30_000);
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
    }

    // --- An environment is applied when its own spec changed; drift is corrected only with selfHeal ---

    void driftBucket(String env) {
        SandboxCloud.StoredResource b = sandbox.all(io.mlctl.spec.Provider.AWS, io.mlctl.spec.ResourceType.BUCKET).stream()
            .filter(x -> x.cloudId().equals(env + "-data")).findFirst().orElseThrow();
        Map<String, Object> attrs = new java.util.TreeMap<>(b.attributes());
        attrs.put("versioning", false);
        sandbox.write(io.mlctl.spec.Provider.AWS, new SandboxCloud.StoredResource(b.cloudId(), b.kind(), attrs, b.tags(), b.createdAt()));
    }

    Object versioning(String yaml, String env) {
        return new InventoryReader(sandbox).read(environment(yaml)).get(io.mlctl.spec.Address.parse("bucket." + env + "-data")).orElseThrow()
            .attributes().get("versioning");
    }

    @Test
    void aCommitThatChangesOnlyAnotherEnvironmentNeverCorrectsThisOnesDrift() {
        String a = env("a", "auto");
        String b = env("b", "auto");
        git.write("a.yaml", a).write("b.yaml", b).commit("two envs");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        r.tick();
        driftBucket("a");
        var c2 = git.write("b.yaml", b.replace("versioning: true", "versioning: false")).commit("b: versioning off");
        git.push("main");
        r.tick();
        assertThat(versioning(b, "b")).isEqualTo(false);
        assertThat(versioning(a, "a")).as("a's drift is left for a's drift check to report").isEqualTo(false);
        assertThat(status(r, "a").commit()).as("a's spec is the same at the new commit").isEqualTo(c2.name());
        clock.advance(Duration.ofMinutes(11));
        r.tick();
        assertThat(status(r, "a").status()).isEqualTo(EnvironmentStatus.Status.DRIFTED);
        assertThat(versioning(a, "a")).isEqualTo(false);
        // a's own change is applied, and with it a's spec in full (as terraform apply would).
        git.write("a.yaml", a.replace("name: gpu-1", "name: gpu-2")).commit("a: rename the instance");
        git.push("main");
        r.tick();
        assertThat(status(r, "a").status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(versioning(a, "a")).isEqualTo(true);
    }

    @Test
    void aRestartedDaemonDoesNotReapplyAnUnchangedSpec() {
        String a = env("a", "auto");
        git.write("a.yaml", a).commit("a");
        git.push("main");
        Reconciler first = reconciler(Optional.empty());
        first.tick();
        first.close();
        source.close();
        driftBucket("a");
        Reconciler second = reconciler(Optional.empty());
        second.tick();
        assertThat(status(second, "a").status()).isEqualTo(EnvironmentStatus.Status.DRIFTED);
        assertThat(versioning(a, "a")).isEqualTo(false);
    }

    // --- The mass-delete guard: ordinary changes pass, a real mass delete blocks until released ---

    static String withBuckets(String yaml, int n) {
        StringBuilder b = new StringBuilder(yaml);
        for (int i = 0; i < n; i++) b.append("    - type: bucket\n      name: extra-").append(i).append('\n');
        return b.toString();
    }

    @Test
    void ordinaryDeletionsAreAppliedNotRefused() {
        String three = env("dev", "auto").replaceAll("(?s)    - type: identity.*", "") + "    - type: bucket\n      name: logs\n";
        git.write("dev.yaml", three).commit("three resources");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        r.tick();
        assertThat(owned(three)).isEqualTo(3);
        git.write("dev.yaml", three.replace("    - type: bucket\n      name: logs\n", "")).commit("1 of 3 removed");
        git.push("main");
        r.tick();
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(owned(three)).isEqualTo(2);

        String six = withBuckets(env("dev", "auto"), 2);
        git.write("dev.yaml", six).commit("six resources");
        git.push("main");
        r.tick();
        assertThat(owned(six)).isEqualTo(6);
        // A new CIDR replaces the network, and with it the instance in its subnet: 2 replacements, 3 deletions with the bucket.
        String moved = six.replace("cidr: 10.0.0.0/16", "cidr: 10.1.0.0/16").replace("cidr: 10.0.1.0/24", "cidr: 10.1.1.0/24")
            .replace("    - type: bucket\n      name: extra-1\n", "");
        git.write("dev.yaml", moved).commit("new CIDR, one bucket fewer");
        git.push("main");
        r.tick();
        assertThat(status(r, "dev").status()).as(logs.toString()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(status(r, "dev").lastPlanSummary().orElseThrow().delete() + status(r, "dev").lastPlanSummary().orElseThrow().replace())
            .isEqualTo(3);
        assertThat(owned(moved)).isEqualTo(5);
    }

    @Test
    void aMassDeleteBlocksNamesWhatItWouldDeleteAndIsReleasedByTheSpec() throws Exception {
        String big = withBuckets(env("dev", "auto"), 6);
        git.write("dev.yaml", big).commit("ten resources");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        r.tick();
        assertThat(owned(big)).isEqualTo(10);
        String small = env("dev", "auto");
        git.write("dev.yaml", small).commit("six buckets gone");
        git.push("main");
        r.tick();
        EnvironmentStatus s = status(r, "dev");
        assertThat(s.status()).isEqualTo(EnvironmentStatus.Status.BLOCKED);
        assertThat(s.error()).hasValueSatisfying(e -> assertThat(e).contains("deletes 6 resources").contains("bucket.extra-0")
            .contains("bucket.extra-5").contains("allowMassDelete").contains("--allow-mass-delete"));
        assertThat(owned(big)).isEqualTo(10);
        awaitEvent("blocked");
        long requests = sandbox.requestCount();
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofMinutes(1));
            r.tick();
        }
        assertThat(sandbox.requestCount()).as("blocked is not retried every tick").isEqualTo(requests);
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.BLOCKED);
        clock.advance(Duration.ofMinutes(10));
        r.tick();
        assertThat(status(r, "dev").status()).as("re-planned at the drift check, still blocked").isEqualTo(EnvironmentStatus.Status.BLOCKED);
        flushEvents();
        assertThat(events.stream().filter(e -> e.contains("\"event\":\"blocked\""))).as("one event per plan, not per check").hasSize(1);
        assertThat(events).noneMatch(e -> e.contains("\"event\":\"error\""));
        assertThat(metrics.scrape()).contains("outcome=\"blocked\"");

        String released = small.replace("  apply: auto\n", "  apply: auto\n  allowMassDelete: true\n");
        git.write("dev.yaml", released).commit("release the mass delete");
        git.push("main");
        r.tick();
        assertThat(status(r, "dev").status()).as(logs.toString()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(owned(big)).isEqualTo(4);

        // The release was for that change: left in the spec, it does not let a later mass delete through.
        git.write("dev.yaml", withBuckets(released, 6)).commit("six buckets again (the key still there)");
        git.push("main");
        r.tick();
        assertThat(owned(big)).isEqualTo(10);
        git.write("dev.yaml", released).commit("six buckets gone again");
        git.push("main");
        r.tick();
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.BLOCKED);
        assertThat(status(r, "dev").error()).hasValueSatisfying(e -> assertThat(e).contains("committed for an earlier change"));
        assertThat(owned(big)).isEqualTo(10);
        // Taken out and committed again with the change: released, also across a restart of the daemon.
        git.write("dev.yaml", small).commit("allowMassDelete removed");
        git.push("main");
        r.tick();
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.BLOCKED);
        r.close();
        source.close();
        Reconciler restarted = reconciler(Optional.empty());
        git.write("dev.yaml", released.replace("name: gpu-1", "name: gpu-1\n      spot: false")).commit("allowMassDelete for this change");
        git.push("main");
        restarted.tick();
        assertThat(status(restarted, "dev").status()).as(logs.toString()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(owned(big)).isEqualTo(4);
    }

    @Test
    void aBlockedEnvironmentIsReleasedByAPersonsApplyAndThenReportsSynced() {
        String big = withBuckets(env("dev", "auto"), 6);
        git.write("dev.yaml", big).commit("ten resources");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        r.tick();
        String small = env("dev", "auto");
        git.write("dev.yaml", small).commit("six buckets gone");
        git.push("main");
        r.tick();
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.BLOCKED);
        // mlctl apply --allow-mass-delete, as a person runs it (same sandbox and state directory as the daemon).
        java.nio.file.Path spec = io.mlctl.testing.Fixtures.write(dir, "person/dev.yaml", small);
        io.mlctl.testing.Cli.Result refused = new io.mlctl.testing.Cli(dir).run("apply", "--sandbox", "--auto-approve", spec.toString());
        assertThat(refused.exitCode()).isEqualTo(1);
        io.mlctl.testing.Cli.Result applied = new io.mlctl.testing.Cli(dir).run("apply", "--sandbox", "--auto-approve", "--allow-mass-delete",
            spec.toString());
        assertThat(applied.exitCode()).as(applied.toString()).isZero();
        clock.advance(Duration.ofMinutes(11));
        r.tick();
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(owned(big)).isEqualTo(4);
    }

    // --- Concurrency: environments do not wait for each other, and the loop does not wait for an apply ---

    @Test
    void oneEnvironmentsLongApplyHoldsUpNeitherTheOthersNorTheLoop() throws Exception {
        java.util.concurrent.CountDownLatch inCreate = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        SandboxCloud real = sandbox;
        drivers = env -> !env.name().equals("slow") ? real : blocking(real, inCreate, release);
        git.write("slow.yaml", env("slow", "auto")).write("fast.yaml", env("fast", "auto")).commit("two envs");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        try {
            List<java.util.concurrent.Future<?>> first = r.schedule();
            assertThat(inCreate.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            for (java.util.concurrent.Future<?> f : first) {
                try {
                    f.get(100, java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException stillRunning) {
                    // the slow one
                }
            }
            waitUntil(Duration.ofSeconds(30), () -> status(r, "fast").status() == EnvironmentStatus.Status.SYNCED);
            assertThat(status(r, "fast").status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
            assertThat(status(r, "slow").status()).isEqualTo(EnvironmentStatus.Status.PENDING);
            clock.advance(Duration.ofMinutes(11));
            Instant before = r.lastTick().orElseThrow();
            List<java.util.concurrent.Future<?>> second = r.schedule();
            assertThat(r.lastTick()).as("the loop passes while an apply runs").hasValueSatisfying(t -> assertThat(t).isAfter(before));
            assertThat(second).as("fast's drift check only: slow is still in flight and not started twice").hasSize(1);
            second.get(0).get(30, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            release.countDown();
        }
        r.tick();
        waitUntil(Duration.ofSeconds(30), () -> status(r, "slow").status() == EnvironmentStatus.Status.SYNCED);
        assertThat(status(r, "slow").status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(owned(env("slow", "auto"))).isEqualTo(4);
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void sigtermWaitsTheConfiguredGraceForAnApplyInFlightAndNoLonger() throws Exception {
        java.util.concurrent.CountDownLatch inCreate = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        SandboxCloud real = sandbox;
        drivers = env -> blocking(real, inCreate, release);
        git.write("dev.yaml", env("dev", "auto")).commit("dev");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        DaemonLog log = new DaemonLog(new PrintWriter(logs, true), true, clock);
        Daemon daemon = new Daemon(r, Duration.ofSeconds(1), new java.util.Random(1), log, Duration.ofMillis(300));
        daemon.start();
        try {
            assertThat(inCreate.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            daemon.close();
            assertThat(logs.toString()).contains("stopping while a reconcile is still running");
        } finally {
            release.countDown();
        }

        // Given a grace long enough, the stop waits for the apply and says nothing of the journal.
        StringWriter quiet = new StringWriter();
        java.util.concurrent.CountDownLatch inCreate2 = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release2 = new java.util.concurrent.CountDownLatch(1);
        drivers = env -> env.name().equals("dev2") ? blocking(real, inCreate2, release2) : real;
        git.write("dev2.yaml", env("dev2", "auto")).commit("dev2");
        git.push("main");
        source.close();
        Reconciler r2 = reconciler(Optional.empty());
        Daemon patient = new Daemon(r2, Duration.ofSeconds(1), new java.util.Random(1), new DaemonLog(new PrintWriter(quiet, true), true, clock),
            Duration.ofSeconds(60));
        patient.start();
        assertThat(inCreate2.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        Thread stop = new Thread(patient::close);
        stop.start();
        waitUntil(Duration.ofSeconds(10), () -> stop.getState() == Thread.State.TIMED_WAITING);
        release2.countDown();
        stop.join(60_000);
        patient.await();
        assertThat(quiet.toString()).doesNotContain("still running");
        assertThat(status(r2, "dev2").status()).as("the reconcile in flight finished before the stop returned").isEqualTo(EnvironmentStatus.Status.SYNCED);
    }

    // --- Found in review ---

    @Test
    void aRevertAfterAPartlyFailedApplyIsApplied() throws Exception {
        java.nio.file.Files.createDirectories(dir.resolve("sandbox"));
        java.nio.file.Files.writeString(dir.resolve("sandbox/faults.json"),
            "[{\"op\": \"create\", \"target\": \"bucket.broken\", \"error\": \"quota\", \"times\": 100}]");
        sandbox = new SandboxCloud(dir.resolve("sandbox"), Specs.CATALOG, clock);
        String v1 = env("dev", "auto");
        git.write("dev.yaml", v1).commit("v1");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        r.tick();
        String v2 = v1 + "    - type: bucket\n      name: extra\n    - type: bucket\n      name: broken\n";
        git.write("dev.yaml", v2).commit("v2: two buckets, one fails");
        git.push("main");
        r.tick();
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.ERROR);
        assertThat(owned(v2)).as("extra was created before broken failed").isEqualTo(5);
        git.write("dev.yaml", v1).commit("revert");
        git.push("main");
        r.tick();
        assertThat(status(r, "dev").status()).as(logs.toString()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(owned(v2)).as("the revert deletes what the failed apply made").isEqualTo(4);
    }

    @Test
    void aMassDeleteFoundByTheDriftCheckOfAnEnvironmentThatDoesNotSelfHealIsDriftNotBlocked() throws Exception {
        String v1 = env("dev", "auto");
        git.write("dev.yaml", v1).commit("v1");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        r.tick();
        // Someone applied a branch with six more buckets by hand: six resources the spec on main does not declare.
        String branch = withBuckets(v1, 6);
        new io.mlctl.engine.Engine(sandbox, dir.resolve("state"), clock, io.mlctl.apply.RetryPolicy.standard(new java.util.Random()))
            .apply(environment(branch), new io.mlctl.engine.Engine.ApplyRequest(io.mlctl.planner.PlanOptions.defaults(clock.instant()),
                Optional.empty(), false, 4, "mlctl apply"), p -> true, new io.mlctl.engine.Engine.Observer() { });
        clock.advance(Duration.ofMinutes(11));
        r.tick();
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.DRIFTED);
        assertThat(owned(branch)).isEqualTo(10);
        awaitEvent("drift");
        assertThat(events).noneMatch(e -> e.contains("\"event\":\"blocked\""));
    }

    @Test
    void aSyncRequestedWhileTheEnvironmentIsInFlightRunsAfterIt() throws Exception {
        java.util.concurrent.CountDownLatch inCreate = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        SandboxCloud real = sandbox;
        java.util.concurrent.atomic.AtomicInteger reconciles = new java.util.concurrent.atomic.AtomicInteger();
        drivers = env -> {
            reconciles.incrementAndGet();
            return blocking(real, inCreate, release);
        };
        git.write("dev.yaml", env("dev", "auto")).commit("dev");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        List<java.util.concurrent.Future<?>> first = r.schedule();
        assertThat(inCreate.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(r.requestSync("dev")).isTrue();
        assertThat(r.schedule()).as("not started twice").isEmpty();
        release.countDown();
        for (java.util.concurrent.Future<?> f : first) f.get(30, java.util.concurrent.TimeUnit.SECONDS);
        r.tick();
        assertThat(reconciles.get()).as("the request ran once the apply was done").isEqualTo(2);
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
    }

    @Test
    void aStopDoesNotStartWhatWasQueuedBehindTheReconcilesInFlight() throws Exception {
        java.util.concurrent.CountDownLatch inCreate = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        SandboxCloud real = sandbox;
        java.util.Set<String> started = java.util.concurrent.ConcurrentHashMap.newKeySet();
        drivers = env -> {
            started.add(env.name());
            return blocking(real, inCreate, release);
        };
        git.write("a.yaml", env("a", "auto")).write("b.yaml", env("b", "auto")).commit("two envs");
        git.push("main");
        DaemonConfig one = DaemonConfig.builder(git.url(), dir.resolve("state")).interval(Duration.ofSeconds(2)).sandbox(true).concurrency(1).build();
        source = new GitSource(one.repo(), dir.resolve("state/.daemon/repo.git"), GitCredentials.none());
        DaemonLog log = new DaemonLog(new PrintWriter(logs, true), true, clock);
        notifier = new Notifier(Optional.empty(), log, 1, Duration.ofMillis(1));
        Reconciler r = new Reconciler(one, source, d -> new ConfigLoader(new YamlLoader(), Specs.SCHEMA, Specs.CATALOG, d).load(List.of(d)),
            e -> drivers.apply(e), clock, log, notifier, metrics, new PlanStore(dir.resolve("state/.daemon")), DaemonHarness.ASSESSMENT);
        r.schedule();
        assertThat(inCreate.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        Thread stop = new Thread(() -> {
            try {
                r.awaitIdle(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        stop.start();
        waitUntil(Duration.ofSeconds(10), () -> stop.getState() == Thread.State.TIMED_WAITING);
        release.countDown();
        stop.join(30_000);
        assertThat(started).as("the queued environment was not started after the stop").hasSize(1);
    }

    @Test
    void anUnreadableApplyRecordSkipsTheEnvironmentInsteadOfReapplyingIt() throws Exception {
        String a = env("a", "auto");
        git.write("a.yaml", a).commit("a");
        git.push("main");
        Reconciler first = reconciler(Optional.empty());
        first.tick();
        first.close();
        source.close();
        driftBucket("a");
        Path record = dir.resolve("state/a/daemon-applied");
        java.nio.file.Files.delete(record);
        java.nio.file.Files.createDirectories(record.resolve("not-a-file"));
        Reconciler second = reconciler(Optional.empty());
        second.tick();
        assertThat(versioning(a, "a")).as("not re-applied while its record cannot be read").isEqualTo(false);
        assertThat(logs.toString()).contains("cannot read what was last applied");
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void theLoopAndLivenessStayAliveThroughALongApply() throws Exception {
        java.util.concurrent.CountDownLatch inCreate = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        SandboxCloud real = sandbox;
        drivers = env -> blocking(real, inCreate, release);
        git.write("dev.yaml", env("dev", "auto")).commit("dev");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        Daemon daemon = new Daemon(r, Duration.ofMillis(200), new java.util.Random(1), new DaemonLog(new PrintWriter(logs, true), true, clock),
            Duration.ofSeconds(30));
        try (StatusServer server = new StatusServer("127.0.0.1:0", r, metrics, plans, clock, Duration.ofMillis(200))) {
            server.start();
            daemon.start();
            assertThat(inCreate.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            Instant seen = r.lastTick().orElseThrow();
            // The loop keeps passing while the create is held (the test clock stands still, so passes are told apart by moving it).
            clock.advance(Duration.ofSeconds(1));
            waitUntil(Duration.ofSeconds(30), () -> r.lastTick().orElseThrow().isAfter(seen));
            assertThat(r.lastTick().orElseThrow()).as("the loop passed while the apply was held").isAfter(seen);
            // Far beyond any stall limit of a loop that waits for its applies (3 intervals + 2 minutes): still live, as the loop is.
            clock.advance(Duration.ofMinutes(30));
            Instant late = clock.instant();
            waitUntil(Duration.ofSeconds(30), () -> !r.lastTick().orElseThrow().isBefore(late));
            java.net.http.HttpResponse<String> health = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.port() + "/healthz")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
            assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.PENDING);
        } finally {
            release.countDown();
            daemon.close();
        }
    }

    @Test
    void aKeyRemovedWhileTheChangeItReleasedIsStillApplyingLetsTheNextCommitReleaseAgain() throws Exception {
        String base = withBuckets(env("dev", "auto"), 6);
        git.write("dev.yaml", base).commit("ten resources");
        git.push("main");
        Reconciler r = reconciler(Optional.empty());
        r.tick();
        assertThat(owned(base)).isEqualTo(10);
        SandboxCloud real = sandbox;
        java.util.concurrent.CountDownLatch inCreate = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        drivers = env -> blocking(real, inCreate, release);
        // C1: the key committed with a small change (one bucket more); held mid-apply.
        String c1 = base.replace("  apply: auto\n", "  apply: auto\n  allowMassDelete: true\n") + "    - type: bucket\n      name: new-0\n";
        git.write("dev.yaml", c1).commit("key + one bucket");
        git.push("main");
        List<java.util.concurrent.Future<?>> running = r.schedule();
        assertThat(inCreate.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        // C2: the key removed, and a mass delete (six buckets) -- while C1 is still applying.
        String c2 = env("dev", "auto") + "    - type: bucket\n      name: new-0\n";
        git.write("dev.yaml", c2).commit("key removed, six buckets gone");
        git.push("main");
        r.schedule();
        release.countDown();
        for (var f : running) f.get();
        drivers = env -> real;
        r.tick();
        assertThat(status(r, "dev").status()).as(logs.toString()).isEqualTo(EnvironmentStatus.Status.BLOCKED);
        // C3: exactly what the blocked message says -- commit the key with the change.
        git.write("dev.yaml", c2.replace("  apply: auto\n", "  apply: auto\n  allowMassDelete: true\n")).commit("release it");
        git.push("main");
        r.tick();
        assertThat(status(r, "dev").status()).as(logs.toString()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(owned(c2)).isEqualTo(5);
    }
}
