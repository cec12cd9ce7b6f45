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

    @AfterEach
    void tearDown() {
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
        return new Reconciler(config, source, d -> new ConfigLoader(new YamlLoader(), Specs.SCHEMA, Specs.CATALOG, d).load(List.of(d)),
            e -> drivers.apply(e), clock, log, notifier, metrics, plans);
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

    void awaitEvent(String type) throws InterruptedException {
        for (int i = 0; i < 200 && events.stream().noneMatch(e -> e.contains("\"event\":\"" + type + "\"")); i++) Thread.sleep(10);
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
        var c1 = git.write("envs/dev.yaml", v1).commit("good");
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
        awaitEvent("error");

        git.write("envs/dev.yaml", v1.replace("versioning: true", "versioning: false")).commit("fixed");
        git.push("main");
        r.tick();
        assertThat(status(r, "dev").status()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(status(r, "dev").error()).isEmpty();
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
        drivers = env -> new io.mlctl.provider.Driver() {
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
}
