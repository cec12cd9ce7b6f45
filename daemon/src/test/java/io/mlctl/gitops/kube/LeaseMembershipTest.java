package io.mlctl.gitops.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.mlctl.MlctlException;
import io.mlctl.locks.Leases;
import io.mlctl.testing.KubeApi;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LeaseMembershipTest {
    static final List<String> ENVIRONMENTS = IntStream.range(0, 60).mapToObj(i -> "env-" + i).toList();
    final KubeApi api = new KubeApi();
    final List<LeaseMembership> members = new ArrayList<>();
    final Map<String, ScheduledExecutorService> renewers = new HashMap<>();

    @AfterEach
    void tearDown() {
        renewers.values().forEach(ScheduledExecutorService::shutdownNow);
        api.close();
    }

    LeaseMembership member(String replica, Duration lease) {
        return member(replica, lease, Clock.systemUTC());
    }

    LeaseMembership member(String replica, Duration lease, Clock clock) {
        ScheduledExecutorService r = Leases.renewer("test-member-" + replica);
        renewers.put(replica, r);
        LeaseMembership m = new LeaseMembership(api.client(), KubeApi.NAMESPACE, replica, lease, clock, r);
        members.add(m);
        return m;
    }

    static void await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within " + timeout);
            Thread.sleep(20);
        }
    }

    static void assertEachOwnedByExactlyOne(List<LeaseMembership> live) {
        for (String env : ENVIRONMENTS) {
            assertThat(live.stream().filter(m -> m.owns(env)).map(LeaseMembership::replica).toList()).as(env).hasSize(1);
        }
    }

    Instant renewTime(String replica) {
        return api.lease("mlctl-member-" + replica).orElseThrow().getSpec().getRenewTime().toInstant();
    }

    @Test
    void threeReplicasShareTheEnvironmentsEachOwnedByExactlyOne() throws Exception {
        LeaseMembership a = member("replica-a", Duration.ofSeconds(5));
        LeaseMembership b = member("replica-b", Duration.ofSeconds(5));
        LeaseMembership c = member("replica-c", Duration.ofSeconds(5));
        List<String> all = List.of("replica-a", "replica-b", "replica-c");
        await(Duration.ofSeconds(10), () -> members.stream().allMatch(m -> m.members().equals(all)));

        assertEachOwnedByExactlyOne(List.of(a, b, c));
        for (LeaseMembership m : List.of(a, b, c)) {
            assertThat(ENVIRONMENTS.stream().filter(m::owns).count()).as(m.replica()).isPositive();
        }
        Lease own = api.lease("mlctl-member-replica-a").orElseThrow();
        assertThat(own.getMetadata().getLabels()).containsEntry("app.kubernetes.io/component", "daemon-member")
            .containsEntry("app.kubernetes.io/part-of", "mlctl");
        assertThat(own.getSpec().getHolderIdentity()).isEqualTo("replica-a");
        assertThat(own.getSpec().getLeaseDurationSeconds()).isEqualTo(5);
    }

    @Test
    void aReplicaThatStopsRenewingLosesItsEnvironmentsWhenItsLeaseRunsOut() throws Exception {
        LeaseMembership a = member("replica-a", Duration.ofSeconds(2));
        LeaseMembership b = member("replica-b", Duration.ofSeconds(2));
        LeaseMembership c = member("replica-c", Duration.ofSeconds(2));
        await(Duration.ofSeconds(10), () -> members.stream().allMatch(m -> m.members().size() == 3));
        List<String> ownedByC = ENVIRONMENTS.stream().filter(c::owns).toList();
        assertThat(ownedByC).isNotEmpty();

        renewers.get("replica-c").shutdownNow(); // dies: no more renewals, its Lease stays
        await(Duration.ofSeconds(10), () -> a.members().size() == 2 && b.members().size() == 2);
        Instant moved = Instant.now();
        Instant lastRenewal = renewTime("replica-c");
        // Not before its lease ran out (it might only be slow), and soon after (a refresh is every third of a lease).
        assertThat(moved).isAfterOrEqualTo(lastRenewal.plusSeconds(2)).isBefore(lastRenewal.plusSeconds(6));
        assertThat(a.members()).containsExactly("replica-a", "replica-b");

        assertEachOwnedByExactlyOne(List.of(a, b));
        // The dead one, were it only cut off, counts itself out at the same moment: it owns nothing.
        assertThat(c.members()).doesNotContain("replica-c");
        assertThat(ENVIRONMENTS.stream().filter(c::owns)).isEmpty();
    }

    @Test
    void replicasWhoseClocksDisagreeKeepRenewingMembersAndDropADeadOneAfterWatchingIt() throws Exception {
        Duration d = Duration.ofSeconds(2);
        LeaseMembership ahead = member("replica-a", d, Clock.offset(Clock.systemUTC(), Duration.ofHours(1)));
        LeaseMembership b = member("replica-b", d);
        LeaseMembership behind = member("replica-c", d, Clock.offset(Clock.systemUTC(), Duration.ofSeconds(-20)));
        List<String> all = List.of("replica-a", "replica-b", "replica-c");
        await(Duration.ofSeconds(10), () -> members.stream().allMatch(m -> m.members().equals(all)));
        // Well past several durations, each counts the others, though the renew times they read are an hour or 20 s off.
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < until) {
            for (LeaseMembership m : members) assertThat(m.members()).as(m.replica()).isEqualTo(all);
            Thread.sleep(100);
        }
        assertEachOwnedByExactlyOne(List.of(ahead, b, behind));

        long died = System.nanoTime();
        renewers.get("replica-b").shutdownNow();
        await(Duration.ofSeconds(10), () -> ahead.members().size() == 2 && behind.members().size() == 2);
        // Seen unchanged for a whole duration, on each observer's own clock: at least two thirds of one after its last renewal.
        assertThat(Duration.ofNanos(System.nanoTime() - died)).isGreaterThanOrEqualTo(d.multipliedBy(2).dividedBy(3));
        assertThat(ahead.members()).containsExactly("replica-a", "replica-c");
        assertThat(behind.members()).containsExactly("replica-a", "replica-c");
        assertThat(b.members()).doesNotContain("replica-b");
    }

    @Test
    void aReplicaThatClosesHandsOverBeforeItsLeaseWouldRunOut() throws Exception {
        LeaseMembership a = member("replica-a", Duration.ofSeconds(6));
        LeaseMembership b = member("replica-b", Duration.ofSeconds(6));
        await(Duration.ofSeconds(20), () -> a.members().size() == 2 && b.members().size() == 2);
        Instant expiry = renewTime("replica-b").plusSeconds(6);

        b.close();
        assertThat(api.lease("mlctl-member-replica-b")).isEmpty();
        assertThat(b.members()).doesNotContain("replica-b");
        await(Duration.ofSeconds(20), () -> a.members().equals(List.of("replica-a")));
        assertThat(Instant.now()).isBefore(expiry);
        assertThat(ENVIRONMENTS).allMatch(a::owns);
        b.close(); // twice is harmless
    }

    @Test
    void aLongDeadReplicasLeaseIsTidiedAway() throws Exception {
        Instant longAgo = Instant.now().minus(Duration.ofHours(1));
        api.kubectl().leases().inNamespace(KubeApi.NAMESPACE).resource(new LeaseBuilder().withNewMetadata().withName("mlctl-member-ghost")
            .withLabels(Map.of("app.kubernetes.io/component", "daemon-member")).endMetadata().withNewSpec().withHolderIdentity("ghost")
            .withLeaseDurationSeconds(2).withRenewTime(longAgo.atZone(ZoneOffset.UTC)).endSpec().build()).create();
        LeaseMembership a = member("replica-a", Duration.ofSeconds(2));
        await(Duration.ofSeconds(10), () -> api.lease("mlctl-member-ghost").isEmpty());
        assertThat(a.members()).containsExactly("replica-a");
    }

    @Test
    void anUnreachableClusterIsAOneLineErrorAtStart() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        var client = new KubernetesClientBuilder().withConfig(new ConfigBuilder(Config.empty()).withMasterUrl("http://127.0.0.1:" + port)
            .withRequestRetryBackoffLimit(0).build()).build();
        try {
            assertThatThrownBy(() -> new LeaseMembership(client, "mlctl", "replica-a", Duration.ofSeconds(2)))
                .isInstanceOf(MlctlException.class)
                .hasMessage("cannot register daemon replica replica-a as Lease mlctl/mlctl-member-replica-a: cannot reach http://127.0.0.1:"
                    + port + "/ (ConnectException)");
        } finally {
            client.close();
        }
    }

    @Test
    void replicaNamesBecomeValidLeaseNames() {
        assertThat(LeaseMembership.leaseName("mlctl-7f9c4-x2x8z")).isEqualTo("mlctl-member-mlctl-7f9c4-x2x8z");
        assertThat(LeaseMembership.leaseName("Build_Host.example.com-4242")).matches("mlctl-member-build-host-example-com-4242-[0-9a-f]+");
        // Two names that clean up alike still get Leases of their own.
        assertThat(LeaseMembership.leaseName("a_b")).isNotEqualTo(LeaseMembership.leaseName("a.b"));
    }

    @Test
    void theShardHashSpreadsNamesEvenly() {
        List<String> replicas = List.of("a", "b", "c");
        Map<String, Integer> count = new HashMap<>();
        for (int i = 0; i < 3000; i++) count.merge(LeaseMembership.owner("team-" + (i % 7) + "-env-" + i, replicas), 1, Integer::sum);
        assertThat(count.values()).allSatisfy(n -> assertThat(n).isBetween(900, 1100));
        // Stable: the first four bytes of SHA-256("dev") are 0xef260e9a, whatever the JVM.
        assertThat(LeaseMembership.hash("dev")).isEqualTo(0xef260e9a);
    }

    @Test
    void aReplicaLeavingMovesOnlyItsOwnEnvironments() {
        List<String> three = List.of("a", "b", "c");
        List<String> two = List.of("a", "b");
        int moved = 0;
        for (int i = 0; i < 3000; i++) {
            String env = "env-" + i;
            String before = LeaseMembership.owner(env, three);
            String after = LeaseMembership.owner(env, two);
            if (!before.equals("c")) assertThat(after).as(env + " was not c's").isEqualTo(before);
            else moved++;
            assertThat(LeaseMembership.owner(env, List.of("b", "a", "c"))).as("member order does not matter").isEqualTo(before);
        }
        assertThat(moved).isBetween(900, 1100);
    }
}
