package io.mlctl.gitops.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.locks.KubernetesLeaseLocks;
import io.mlctl.locks.Leases;
import io.mlctl.gitops.Daemon;
import io.mlctl.gitops.DaemonConfig;
import io.mlctl.gitops.DaemonLog;
import io.mlctl.gitops.DaemonMetrics;
import io.mlctl.gitops.EnvironmentStatus;
import io.mlctl.gitops.GitCredentials;
import io.mlctl.gitops.GitSource;
import io.mlctl.gitops.Notifier;
import io.mlctl.gitops.PlanStore;
import io.mlctl.gitops.Reconciler;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.Driver;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.Target;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.spec.ConfigLoader;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.spec.YamlLoader;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.GitRepos;
import io.mlctl.testing.KubeApi;
import io.mlctl.testing.Specs;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.eclipse.jgit.lib.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three daemons (each its own state directory, Git cache, Kubernetes client and sandbox driver) share one
 * repository, one sandbox cloud and one Kubernetes API: every environment is applied by exactly one of
 * them, a replica killed in the middle of an apply hands its environments to the others once its Leases
 * run out, and nothing is ever created twice.
 */
class ReplicasTest {
    static final Duration LEASE = Duration.ofSeconds(4);
    static final List<String> NAMES = List.of("replica-a", "replica-b", "replica-c");
    static final List<String> ENVIRONMENTS = IntStream.range(0, 12).mapToObj(i -> "env-" + i).toList();

    @TempDir
    Path dir;
    KubeApi api;
    GitRepos git;
    final List<Replica> replicas = new ArrayList<>();
    /** Calls that reached the cloud, by environment/address, over all replicas. */
    final Map<String, AtomicInteger> creates = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> updates = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> deletes = new ConcurrentHashMap<>();

    @BeforeEach
    void setUp() {
        api = new KubeApi();
        git = new GitRepos(dir);
    }

    @AfterEach
    void tearDown() {
        replicas.forEach(Replica::close);
        api.close();
        git.close();
    }

    static String env(String name) {
        return Fixtures.smallEnv(name).replace("  provider: aws\n", "  provider: aws\n  apply: auto\n");
    }

    /** One daemon as its own process would have it; {@link #crash} leaves everything it holds where it is. */
    final class Replica implements AutoCloseable {
        final String name;
        final ScheduledExecutorService renewer;
        final LeaseMembership membership;
        final Reconciler reconciler;
        final Daemon daemon;
        final GitSource source;
        final Notifier notifier;
        final StringWriter logs = new StringWriter();
        /** Creates of this address wait here (an apply caught mid-way) until the test ends. */
        volatile String holdCreateOf = "";
        final Map<String, Boolean> held = new ConcurrentHashMap<>();
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean crashed;

        Replica(String name) {
            this.name = name;
            Path state = dir.resolve(name);
            var client = api.client();
            renewer = Leases.renewer("test-" + name);
            var locks = new KubernetesLeaseLocks(client, KubeApi.NAMESPACE, name, LEASE, Clock.systemUTC(), renewer);
            membership = new LeaseMembership(client, KubeApi.NAMESPACE, name, LEASE, Clock.systemUTC(), renewer);
            var records = new LeaseSyncRecords(client, KubeApi.NAMESPACE);
            DaemonConfig config = DaemonConfig.builder(git.url(), state).interval(Duration.ofMillis(200)).listen("127.0.0.1:0").sandbox(true)
                .replicaId(name).concurrency(4).logFormat("json").build();
            DaemonLog log = new DaemonLog(new PrintWriter(logs, true), true, Clock.systemUTC());
            source = new GitSource(config.repo(), state.resolve(".daemon/repo.git"), GitCredentials.none());
            notifier = new Notifier(Optional.empty(), log, 1, Duration.ofMillis(10));
            SandboxCloud sandbox = new SandboxCloud(dir.resolve("sandbox"), Specs.CATALOG, Clock.systemUTC());
            reconciler = new Reconciler(config, source, d -> new ConfigLoader(new YamlLoader(), Specs.SCHEMA, Specs.CATALOG, d).load(List.of(d)),
                e -> new Counting(sandbox, this), Clock.systemUTC(), log, notifier, new DaemonMetrics(), new PlanStore(state.resolve(".daemon")),
                new Reconciler.Assessment(Specs.CATALOG, io.mlctl.cost.PriceCatalog.shipped()), new Reconciler.Coordination(locks, membership, records));
            daemon = new Daemon(reconciler, config.interval(), new Random(), log, Duration.ZERO);
            daemon.start();
        }

        List<EnvironmentStatus> statuses() {
            return crashed ? List.of() : reconciler.statuses();
        }

        /** kill -9: the loop stops, nothing is renewed, released or deleted; a create caught mid-way never returns. */
        void crash() {
            crashed = true;
            daemon.close();
            renewer.shutdownNow();
        }

        @Override
        public void close() {
            crashed = true;
            release.countDown();
            daemon.close();
            renewer.shutdownNow();
            reconciler.close();
            notifier.close();
            source.close();
        }
    }

    /** The sandbox, counting what reaches it. */
    final class Counting implements Driver {
        final SandboxCloud cloud;
        final Replica replica;

        Counting(SandboxCloud cloud, Replica replica) {
            this.cloud = cloud;
            this.replica = replica;
        }

        @Override
        public String name() {
            return cloud.name();
        }

        @Override
        public ResourceRules rules(ResourceType kind) {
            return cloud.rules(kind);
        }

        @Override
        public Target target(Environment environment) {
            return cloud.target(environment);
        }

        @Override
        public Page list(Environment environment, ResourceType kind, Optional<String> pageToken) {
            return cloud.list(environment, kind, pageToken);
        }

        @Override
        public ObservedResource create(Environment environment, ResourceSpec desired, CreateRequest request) {
            String key = environment.name() + "/" + desired.address();
            if (key.equals(replica.holdCreateOf)) {
                replica.held.put(key, true);
                try {
                    replica.release.await(2, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new DriverException("this replica was killed before the create reached the cloud", false);
            }
            creates.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            return cloud.create(environment, desired, request);
        }

        @Override
        public ObservedResource update(Environment environment, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
            updates.computeIfAbsent(environment.name() + "/" + desired.address(), k -> new AtomicInteger()).incrementAndGet();
            return cloud.update(environment, current, desired, changes);
        }

        @Override
        public void delete(Environment environment, ObservedResource current) {
            deletes.computeIfAbsent(environment.name() + "/" + current.address(), k -> new AtomicInteger()).incrementAndGet();
            cloud.delete(environment, current);
        }

        @Override
        public long requestCount() {
            return cloud.requestCount();
        }
    }

    static void await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within " + timeout);
            Thread.sleep(50);
        }
    }

    List<Replica> live() {
        return replicas.stream().filter(r -> !r.crashed).toList();
    }

    record Report(String replica, EnvironmentStatus status) {
    }

    /** Each environment's status on the live replicas that report it. */
    Map<String, List<Report>> reported() {
        Map<String, List<Report>> out = new ConcurrentHashMap<>();
        for (Replica r : live()) for (EnvironmentStatus s : r.statuses()) out.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(new Report(r.name, s));
        return out;
    }

    /** Every live replica sees the same members, and every environment is reported by exactly one live replica, synced at this commit. */
    boolean settledAt(ObjectId commit) {
        List<String> names = live().stream().map(r -> r.name).toList();
        if (!live().stream().allMatch(r -> r.membership.members().equals(names))) return false;
        Map<String, List<Report>> r = reported();
        return ENVIRONMENTS.stream().allMatch(e -> r.containsKey(e) && r.get(e).size() == 1
            && r.get(e).get(0).status().status() == EnvironmentStatus.Status.SYNCED && r.get(e).get(0).status().commit().equals(commit.name()));
    }

    Replica replica(String name) {
        return replicas.stream().filter(r -> r.name.equals(name)).findFirst().orElseThrow();
    }

    String diagnostics() {
        StringBuilder b = new StringBuilder("creates ").append(creates).append("\nupdates ").append(updates).append('\n');
        for (Replica r : replicas) b.append("--- ").append(r.name).append(r.crashed ? " (dead)" : "").append(' ')
            .append(r.crashed ? "" : r.membership.members()).append('\n').append(r.logs.toString().lines().limit(400)
                .filter(l -> !l.contains("\"level\":\"info\"") || l.contains("\"msg\":\"applied\"")).reduce("", (x, y) -> x + y + "\n"));
        return b.toString();
    }

    @Test
    void threeDaemonsApplyEachEnvironmentOnceAndSurviveTheLossOfOne() throws Exception {
        for (String e : ENVIRONMENTS) git.write("envs/" + e + ".yaml", env(e));
        ObjectId first = git.commit("twelve environments");
        git.push("main");
        // Started at once, before any has seen the others: ownership moves under them while they apply.
        for (String n : NAMES) replicas.add(new Replica(n));

        try {
            await(Duration.ofSeconds(60), () -> settledAt(first));
        } catch (AssertionError e) {
            throw new AssertionError("first sync did not settle: " + reported().keySet() + "\n" + diagnostics());
        }
        assertThat(creates).as(diagnostics()).hasSize(ENVIRONMENTS.size() * 4).allSatisfy((k, n) -> assertThat(n.get()).as(k).isEqualTo(1));
        assertThat(updates).isEmpty();
        assertThat(deletes).isEmpty();
        for (String e : ENVIRONMENTS) {
            assertThat(api.lease("mlctl-env-" + e).orElseThrow().getMetadata().getAnnotations()).containsKey(LeaseSyncRecords.ANNOTATION);
        }
        assertOwnedOnceByWhoReportsIt();

        // replica-c is killed in the middle of applying a change to one of its environments.
        Replica c = replica("replica-c");
        String victim = ENVIRONMENTS.stream().filter(c.membership::owns).findFirst().orElseThrow();
        String extra = victim + "/bucket." + victim + "-extra";
        c.holdCreateOf = extra;
        git.write("envs/" + victim + ".yaml", env(victim) + "    - type: bucket\n      name: " + victim + "-extra\n");
        ObjectId second = git.commit(victim + ": one more bucket");
        git.push("main");
        await(Duration.ofSeconds(30), () -> c.held.containsKey(extra));
        c.crash();
        Instant killed = Instant.now();
        // Its Lease on the environment stays taken: nobody else may apply it until that runs out.
        assertThat(Leases.holder(api.lease("mlctl-env-" + victim).orElseThrow())).hasValueSatisfying(h -> assertThat(h)
            .startsWith("mlctl daemon replica-c (replica-c, "));

        try {
            await(Duration.ofSeconds(60), () -> settledAt(second) && creates.containsKey(extra));
        } catch (AssertionError e) {
            throw new AssertionError("no failover: " + reported() + "\n" + diagnostics());
        }
        Duration failover = Duration.between(killed, Instant.now());
        assertThat(creates.get(extra)).as(diagnostics()).hasValue(1);
        assertThat(creates).hasSize(ENVIRONMENTS.size() * 4 + 1).allSatisfy((k, n) -> assertThat(n.get()).as(k).isEqualTo(1));
        assertThat(updates).isEmpty();
        assertThat(live()).extracting(r -> r.name).containsExactly("replica-a", "replica-b");
        assertThat(live()).allSatisfy(r -> assertThat(r.membership.members()).containsExactly("replica-a", "replica-b"));
        assertOwnedOnceByWhoReportsIt();
        assertThat(Leases.holder(api.lease("mlctl-env-" + victim).orElseThrow()).orElse("")).doesNotContain("replica-c");
        assertThat(failover).as("failover took " + failover).isLessThan(Duration.ofSeconds(60));

        // A new commit that changes one environment is applied once, by its owner.
        String changed = ENVIRONMENTS.stream().filter(e -> !e.equals(victim)).findFirst().orElseThrow();
        git.write("envs/" + changed + ".yaml", env(changed).replace("versioning: true", "versioning: false"));
        ObjectId third = git.commit(changed + ": versioning off");
        git.push("main");
        await(Duration.ofSeconds(60), () -> settledAt(third) && updates.containsKey(changed + "/bucket." + changed + "-data"));
        assertThat(updates).as(diagnostics()).containsOnlyKeys(changed + "/bucket." + changed + "-data");
        assertThat(updates.get(changed + "/bucket." + changed + "-data")).hasValue(1);
        assertThat(creates).hasSize(ENVIRONMENTS.size() * 4 + 1).allSatisfy((k, n) -> assertThat(n.get()).as(k).isEqualTo(1));
        assertThat(deletes).isEmpty();
    }

    /** Settled: each environment has exactly one owner among the live replicas, and it is the one that reports it. */
    void assertOwnedOnceByWhoReportsIt() {
        Map<String, List<Report>> r = reported();
        for (String e : ENVIRONMENTS) {
            assertThat(live().stream().filter(x -> x.membership.owns(e)).map(x -> x.name).toList()).as(e)
                .containsExactly(r.get(e).get(0).replica());
        }
    }
}
