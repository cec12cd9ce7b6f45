package io.mlctl.locks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.mlctl.MlctlException;
import io.mlctl.apply.LockService;
import io.mlctl.apply.LockedException;
import io.mlctl.testing.KubeApi;
import io.mlctl.testing.MutableClock;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KubernetesLeaseLocksTest {
    static final Path UNUSED = Path.of("unused");
    final KubeApi api = new KubeApi();
    final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    final List<ScheduledExecutorService> renewers = new ArrayList<>();
    final CountDownLatch thaw = new CountDownLatch(1);

    @AfterEach
    void tearDown() {
        thaw.countDown();
        renewers.forEach(ScheduledExecutorService::shutdownNow);
        api.close();
    }

    /** A monotonic clock that moves with {@link #clock} (by hand), for tests that play out durations without waiting them. */
    final LongSupplier handNanos = () -> {
        Instant t = clock.instant();
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    };

    KubernetesLeaseLocks locks(String holder, Duration lease, Clock c) {
        return locks(holder, lease, c, System::nanoTime, Duration.ZERO);
    }

    /** As the daemon's (patience zero) or {@code mlctl apply}'s (patience: how long it watches a stale-looking Lease). */
    KubernetesLeaseLocks locks(String holder, Duration lease, Clock c, LongSupplier nanos, Duration patience) {
        ScheduledExecutorService r = Leases.renewer("test-renew-" + holder);
        renewers.add(r);
        return new KubernetesLeaseLocks(api.client(), KubeApi.NAMESPACE, holder, lease, c, nanos, r, patience);
    }

    /** A holder whose renewing thread is stuck (a paused or dying process): it renews nothing until thawed. */
    KubernetesLeaseLocks frozen(String holder, Duration lease, Clock c, LongSupplier nanos) {
        ScheduledExecutorService r = Executors.newSingleThreadScheduledExecutor();
        renewers.add(r);
        r.submit(() -> {
            thaw.await();
            return null;
        });
        return new KubernetesLeaseLocks(api.client(), KubeApi.NAMESPACE, holder, lease, c, nanos, r, Duration.ZERO);
    }

    static void await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within " + timeout);
            Thread.sleep(20);
        }
    }

    Lease lease() {
        return api.lease("mlctl-env-dev").orElseThrow();
    }

    @Test
    void aSecondHolderIsRefusedAndToldWhoHoldsIt() {
        LockService a = locks("replica-a", Duration.ofSeconds(15), clock);
        LockService b = locks("alice@laptop pid 42", Duration.ofSeconds(15), clock);
        LockService.Held held = a.acquire("dev", UNUSED, "mlctl daemon replica-a", clock.instant());

        assertThatThrownBy(() -> b.acquire("dev", UNUSED, "mlctl apply", clock.instant()))
            .isInstanceOfSatisfying(LockedException.class, e -> {
                assertThat(e.environment()).isEqualTo("dev");
                assertThat(e.holder()).startsWith("mlctl daemon replica-a (replica-a, ").contains("since 2026-01-01T00:00:00Z")
                    .contains("lease renewed until 2026-01-01T00:00:15Z");
                assertThat(e.getMessage()).doesNotContain("\n");
            });
        Lease l = lease();
        assertThat(l.getMetadata().getLabels()).containsEntry("app.kubernetes.io/part-of", "mlctl")
            .containsEntry("app.kubernetes.io/component", "environment-lock");
        assertThat(l.getSpec().getLeaseDurationSeconds()).isEqualTo(15);
        // Another environment is another Lease.
        b.acquire("prod", UNUSED, "mlctl apply", clock.instant()).close();

        held.close();
        assertThat(Leases.holder(lease())).isEmpty();
        // Released: the next comer need not wait for the lease to run out.
        try (LockService.Held second = b.acquire("dev", UNUSED, "mlctl apply", clock.instant())) {
            assertThat(Leases.holder(lease())).hasValueSatisfying(h -> assertThat(h).startsWith("mlctl apply (alice@laptop pid 42, "));
            second.check();
        }
    }

    @Test
    void theSameHolderTwiceIsRefusedToo() {
        LockService a = locks("replica-a", Duration.ofSeconds(15), clock);
        try (LockService.Held held = a.acquire("dev", UNUSED, "mlctl daemon replica-a", clock.instant())) {
            assertThatThrownBy(() -> a.acquire("dev", UNUSED, "mlctl daemon replica-a", clock.instant())).isInstanceOf(LockedException.class);
        }
    }

    @Test
    void aHolderThatStopsRenewingLosesTheLockToOneThatWatchedItForItsDuration() {
        LockService a = frozen("replica-a", Duration.ofSeconds(15), clock, handNanos);
        LockService b = locks("replica-b", Duration.ofSeconds(15), clock, handNanos, Duration.ZERO);
        LockService.Held paused = a.acquire("dev", UNUSED, "mlctl daemon replica-a", clock.instant());
        // b starts watching it now (the daemon keeps one lock service, so what it saw adds up).
        assertThatThrownBy(() -> b.acquire("dev", UNUSED, "mlctl daemon replica-b", clock.instant())).isInstanceOf(LockedException.class);

        clock.advance(Duration.ofSeconds(9));
        paused.check();
        // Two thirds of a duration without renewal: the holder stops, a third of a duration before anyone may take over.
        clock.advance(Duration.ofSeconds(1));
        assertThatThrownBy(paused::check).isInstanceOf(MlctlException.class)
            .hasMessage("lost the lock of environment dev (Lease mlctl/mlctl-env-dev): not renewed since 2026-01-01T00:00:00Z");

        clock.advance(Duration.ofSeconds(4));
        assertThatThrownBy(() -> b.acquire("dev", UNUSED, "mlctl daemon replica-b", clock.instant())).isInstanceOf(LockedException.class);
        clock.advance(Duration.ofSeconds(1));
        LockService.Held taken = b.acquire("dev", UNUSED, "mlctl daemon replica-b", clock.instant());
        assertThat(lease().getSpec().getLeaseTransitions()).isEqualTo(1);
        assertThatThrownBy(paused::check).isInstanceOf(MlctlException.class);
        // The loser's release leaves the new holder's name alone.
        paused.close();
        assertThat(Leases.holder(lease())).hasValueSatisfying(h -> assertThat(h).startsWith("mlctl daemon replica-b"));
        taken.check();
        taken.close();
    }

    @Test
    void aNewcomerDoesNotTakeALeaseItHasNotWatchedForItsDurationHoweverOldItsRenewTime() {
        LockService a = frozen("replica-a", Duration.ofSeconds(15), clock, handNanos);
        a.acquire("dev", UNUSED, "mlctl daemon replica-a", clock.instant());
        clock.advance(Duration.ofHours(1));
        LockService b = locks("replica-b", Duration.ofSeconds(15), clock, handNanos, Duration.ZERO);
        assertThatThrownBy(() -> b.acquire("dev", UNUSED, "mlctl daemon replica-b", clock.instant())).isInstanceOf(LockedException.class);
        clock.advance(Duration.ofSeconds(15));
        b.acquire("dev", UNUSED, "mlctl daemon replica-b", clock.instant()).close();
    }

    @Test
    void anAcquirerWhoseClockIsAheadDoesNotTakeALeaseThatIsRenewed() throws Exception {
        Duration d = Duration.ofSeconds(2);
        LockService a = locks("replica-a", d, Clock.systemUTC());
        LockService.Held held = a.acquire("dev", UNUSED, "mlctl daemon replica-a", Instant.now());
        // A daemon 20 s ahead tries again and again, for more than two durations.
        LockService daemon = locks("replica-b", d, Clock.offset(Clock.systemUTC(), Duration.ofSeconds(20)));
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < until) {
            assertThatThrownBy(() -> daemon.acquire("dev", UNUSED, "mlctl daemon replica-b", Instant.now())).isInstanceOf(LockedException.class);
            Thread.sleep(100);
        }
        // An mlctl apply an hour ahead sees a Lease that looks long stale, watches it for a duration, sees it renewed and gives up.
        LockService apply = locks("alice@laptop", d, Clock.offset(Clock.systemUTC(), Duration.ofHours(1)), System::nanoTime, d.plusSeconds(1));
        long start = System.nanoTime();
        assertThatThrownBy(() -> apply.acquire("dev", UNUSED, "mlctl apply", Instant.now()))
            .isInstanceOfSatisfying(LockedException.class, e -> assertThat(e.holder()).startsWith("mlctl daemon replica-a (replica-a, "));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(d);
        held.check();
        assertThat(Leases.holder(lease())).hasValueSatisfying(h -> assertThat(h).startsWith("mlctl daemon replica-a"));
        held.close();
    }

    @Test
    void anApplyTakesOverADeadHoldersLeaseAfterWatchingItForItsDuration() {
        Duration d = Duration.ofSeconds(2);
        LockService a = frozen("replica-a", d, Clock.systemUTC(), System::nanoTime);
        LockService.Held dead = a.acquire("dev", UNUSED, "mlctl daemon replica-a", Instant.now());
        LockService apply = locks("alice@laptop", d, Clock.offset(Clock.systemUTC(), Duration.ofSeconds(20)), System::nanoTime,
            d.plusSeconds(1));
        long start = System.nanoTime();
        LockService.Held taken = apply.acquire("dev", UNUSED, "mlctl apply", Instant.now());
        Duration waited = Duration.ofNanos(System.nanoTime() - start);
        assertThat(waited).isGreaterThanOrEqualTo(d).isLessThan(d.plusSeconds(2));
        assertThat(Leases.holder(lease())).hasValueSatisfying(h -> assertThat(h).startsWith("mlctl apply (alice@laptop, "));
        assertThatThrownBy(dead::check).isInstanceOf(MlctlException.class);
        taken.check();
        taken.close();
    }

    @Test
    void anApplyWhoseClockIsBehindIsToldWhoHoldsAStaleLookingLeaseAtOnce() {
        LockService a = locks("replica-a", Duration.ofSeconds(15), Clock.systemUTC());
        LockService.Held held = a.acquire("dev", UNUSED, "mlctl daemon replica-a", Instant.now());
        LockService apply = locks("alice@laptop", Duration.ofSeconds(15), Clock.systemUTC(), System::nanoTime, Duration.ofSeconds(18));
        long start = System.nanoTime();
        assertThatThrownBy(() -> apply.acquire("dev", UNUSED, "mlctl apply", Instant.now())).isInstanceOf(LockedException.class);
        // A live-looking Lease is refused without waiting.
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        held.close();
    }

    @Test
    void renewalKeepsTheLockBeyondItsDuration() throws Exception {
        LockService a = locks("replica-a", Duration.ofSeconds(3), clock);
        LockService b = locks("replica-b", Duration.ofSeconds(3), clock);
        try (LockService.Held held = a.acquire("dev", UNUSED, "mlctl daemon replica-a", clock.instant())) {
            for (int i = 0; i < 3; i++) {
                clock.advance(Duration.ofSeconds(2));
                Instant t = clock.instant();
                // Renewed every 600 ms (a fifth of the lease), at the clock's time.
                await(Duration.ofSeconds(10), () -> lease().getSpec().getRenewTime().toInstant().equals(t));
            }
            // Six seconds after it was taken, twice its duration: still held.
            assertThatThrownBy(() -> b.acquire("dev", UNUSED, "mlctl daemon replica-b", clock.instant())).isInstanceOf(LockedException.class);
            held.check();
        }
    }

    @Test
    void aHolderWhoseLeaseIsTakenFromItNoticesAtItsNextRenewal() throws Exception {
        LockService a = locks("replica-a", Duration.ofSeconds(3), Clock.systemUTC());
        LockService.Held held = a.acquire("dev", UNUSED, "mlctl daemon replica-a", Instant.now());
        // An operator hands the lock to someone else by hand.
        api.kubectl().leases().inNamespace(KubeApi.NAMESPACE).withName("mlctl-env-dev").edit(l -> {
            l.getSpec().setHolderIdentity("kubectl edit by bob");
            return l;
        });
        await(Duration.ofSeconds(10), () -> {
            try {
                held.check();
                return false;
            } catch (MlctlException e) {
                assertThat(e.getMessage()).isEqualTo("lost the lock of environment dev (Lease mlctl/mlctl-env-dev): it is held by kubectl edit by bob now");
                return true;
            }
        });
        held.close();
        assertThat(Leases.holder(lease())).contains("kubectl edit by bob");
    }

    @Test
    void manyTakingAtOnceLetExactlyOneThrough() throws Exception {
        int n = 12;
        List<LockService> contenders = new ArrayList<>();
        for (int i = 0; i < n; i++) contenders.add(locks("replica-" + i, Duration.ofSeconds(15), Clock.systemUTC()));
        ExecutorService threads = Executors.newFixedThreadPool(n);
        try {
            // First round races to create the Lease; the second to replace a released one.
            for (int round = 0; round < 2; round++) {
                CyclicBarrier start = new CyclicBarrier(n);
                List<Future<LockService.Held>> tries = new ArrayList<>();
                for (LockService c : contenders) {
                    tries.add(threads.submit(() -> {
                        start.await();
                        return c.acquire("dev", UNUSED, "race", Instant.now());
                    }));
                }
                List<LockService.Held> won = new ArrayList<>();
                List<LockedException> refused = new ArrayList<>();
                for (Future<LockService.Held> f : tries) {
                    try {
                        won.add(f.get(30, TimeUnit.SECONDS));
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertThat(e.getCause()).isInstanceOf(LockedException.class);
                        refused.add((LockedException) e.getCause());
                    }
                }
                assertThat(won).hasSize(1);
                assertThat(refused).hasSize(n - 1);
                String winner = Leases.holder(lease()).orElseThrow();
                assertThat(refused).allSatisfy(e -> assertThat(e.holder()).startsWith(winner));
                won.get(0).check();
                won.get(0).close();
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void anUnreachableApiServerIsAOneLineError() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        var client = new KubernetesClientBuilder().withConfig(new ConfigBuilder(Config.empty()).withMasterUrl("http://127.0.0.1:" + port)
            .withRequestRetryBackoffLimit(0).build()).build();
        try {
            LockService locks = new KubernetesLeaseLocks(client, "mlctl", "replica-a", Duration.ofSeconds(15));
            assertThatThrownBy(() -> locks.acquire("dev", UNUSED, "mlctl apply", Instant.now())).isInstanceOf(MlctlException.class)
                .isNotInstanceOf(LockedException.class)
                .hasMessage("cannot take the lock of environment dev (Lease mlctl/mlctl-env-dev): cannot reach http://127.0.0.1:" + port
                    + "/ (ConnectException)")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        } finally {
            client.close();
        }
    }

    @Test
    void aLockWhoseApiServerGoesAwayIsLostOnceItsLeaseRunsOut() throws Exception {
        LockService a = locks("replica-a", Duration.ofSeconds(2), Clock.systemUTC());
        LockService.Held held = a.acquire("dev", UNUSED, "mlctl daemon replica-a", Instant.now());
        held.check();
        api.stop();
        await(Duration.ofSeconds(15), () -> {
            try {
                held.check();
                return false;
            } catch (MlctlException e) {
                assertThat(e.getMessage()).startsWith("lost the lock of environment dev (Lease mlctl/mlctl-env-dev): not renewed since ")
                    .doesNotContain("\n");
                return true;
            }
        });
        held.close(); // cannot reach the server either: must not throw
    }

    @Test
    void connectUsesTheConfiguredClusterAndNamespaceUnlessOneIsGiven() {
        String[] props = {"kubernetes.master", "kubernetes.namespace", "kubernetes.auth.tryKubeConfig", "kubernetes.auth.tryServiceAccount"};
        List<Optional<String>> before = new ArrayList<>();
        for (String p : props) before.add(Optional.ofNullable(System.getProperty(p)));
        try {
            System.setProperty("kubernetes.master", api.url());
            System.setProperty("kubernetes.namespace", "team-ml");
            System.setProperty("kubernetes.auth.tryKubeConfig", "false");
            System.setProperty("kubernetes.auth.tryServiceAccount", "false");
            KubernetesLeaseLocks.connect(Optional.empty(), "laptop").acquire("dev", UNUSED, "mlctl apply", Instant.now()).close();
            KubernetesLeaseLocks.connect(Optional.of(KubeApi.NAMESPACE), "laptop").acquire("dev", UNUSED, "mlctl apply", Instant.now()).close();
            assertThat(api.kubectl().leases().inNamespace("team-ml").withName("mlctl-env-dev").get()).isNotNull();
            assertThat(api.lease("mlctl-env-dev")).isPresent();
        } finally {
            for (int i = 0; i < props.length; i++) {
                String p = props[i];
                before.get(i).ifPresentOrElse(v -> System.setProperty(p, v), () -> System.clearProperty(p));
            }
        }
    }
}
