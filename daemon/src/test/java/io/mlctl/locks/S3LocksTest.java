package io.mlctl.locks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.MlctlException;
import io.mlctl.apply.LockService;
import io.mlctl.apply.LockedException;
import io.mlctl.testing.FaultProxy;
import io.mlctl.testing.MotoServer;
import io.mlctl.testing.MutableClock;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The S3 environment lock against moto_server, whose conditional writes {@link MotoConditionalWritesTest}
 * shows to be honoured: exclusion naming the holder, takeover of a dead holder's lock by exactly one
 * taker, a held lock kept alive by renewal and known lost when someone else changes it, and a release
 * that never deletes another holder's lock.
 */
@ExtendWith(MotoServer.class)
class S3LocksTest {
    private static final String BUCKET = "team-locks";
    private static final S3Locks.Location WHERE = new S3Locks.Location(BUCKET, "mlctl/locks");
    private static final String KEY = "mlctl/locks/dev.lock";
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    /** Leases in clock time the tests move by hand; background renewal (real time) is far away unless a test wants it. */
    private static final Duration TTL = Duration.ofMinutes(10);
    private static final Duration NO_BACKGROUND_RENEWAL = Duration.ofMinutes(9);
    private static final Path NO_DIR = Path.of("unused");

    URI endpoint;
    S3Client s3;
    final List<AutoCloseable> opened = new ArrayList<>();

    @BeforeEach
    void setUp(MotoServer.Instance moto) {
        endpoint = moto.endpoint();
        s3 = client(endpoint);
        s3.createBucket(b -> b.bucket(BUCKET));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : opened) c.close();
        s3.close();
    }

    private static S3Client client(URI endpoint) {
        return S3Client.builder().region(Region.US_EAST_1).endpointOverride(endpoint).forcePathStyle(true)
            .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"))).build();
    }

    private S3Locks locks(String holder, Clock clock) {
        return locks(s3, holder, clock, TTL, NO_BACKGROUND_RENEWAL);
    }

    private S3Locks locks(S3Client client, String holder, Clock clock, Duration ttl, Duration renewEvery) {
        S3Locks l = new S3Locks(client, WHERE, holder, clock, ttl, renewEvery);
        opened.add(l);
        return l;
    }

    private static Clock at(Instant t) {
        return Clock.fixed(t, ZoneOffset.UTC);
    }

    private JsonNode lockObject() {
        return JsonMapper.builder().build().readTree(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(KEY)).asUtf8String());
    }

    private boolean lockObjectExists() {
        try {
            s3.headObject(b -> b.bucket(BUCKET).key(KEY));
            return true;
        } catch (NoSuchKeyException e) {
            return false;
        }
    }

    @Test
    void aSecondHolderIsRefusedWithTheFirstNamedUntilItReleases() {
        S3Locks alice = locks("alice@laptop, pid 11", at(T0));
        S3Locks daemon = locks("replica-0", at(T0.plusSeconds(5)));
        LockService.Held held = alice.acquire("dev", NO_DIR, "mlctl apply", T0);
        assertThat(lockObject().get("holder").asString()).isEqualTo("alice@laptop, pid 11");
        assertThat(lockObject().get("expires").asString()).isEqualTo("2026-01-01T00:10:00Z");

        assertThatThrownBy(() -> daemon.acquire("dev", NO_DIR, "mlctl daemon", T0.plusSeconds(5)))
            .isInstanceOfSatisfying(LockedException.class, e -> {
                assertThat(e.environment()).isEqualTo("dev");
                assertThat(e.holder()).isEqualTo("mlctl apply (alice@laptop, pid 11, since 2026-01-01T00:00:00Z, renewed until 2026-01-01T00:10:00Z)");
                assertThat(e.getMessage()).isEqualTo("environment dev is locked by " + e.holder() + "; wait for it to finish and try again");
            });
        assertThat(lockObject().get("holder").asString()).as("the refused taker changed nothing").isEqualTo("alice@laptop, pid 11");
        // Locks are per environment.
        daemon.acquire("prod", NO_DIR, "mlctl daemon", T0.plusSeconds(5)).close();

        held.check();
        held.close();
        assertThat(lockObjectExists()).isFalse();
        try (LockService.Held next = daemon.acquire("dev", NO_DIR, "mlctl daemon", T0.plusSeconds(6))) {
            assertThat(lockObject().get("holder").asString()).isEqualTo("replica-0");
        }
    }

    @Test
    void aDeadHoldersLockIsTakenOverOnceItsLeaseRanOut() {
        S3Locks dead = locks("ci-runner-7", at(T0));
        dead.acquire("dev", NO_DIR, "mlctl apply", T0);
        dead.close(); // the process died: no more renewals, no release

        S3Locks next = locks("replica-1", at(T0));
        assertThatThrownBy(() -> next.acquire("dev", NO_DIR, "mlctl daemon", T0.plus(TTL).minusSeconds(1)))
            .as("one second before the lease runs out").isInstanceOf(LockedException.class);
        LockService.Held held = next.acquire("dev", NO_DIR, "mlctl daemon", T0.plus(TTL).plusSeconds(1));
        assertThat(lockObject().get("holder").asString()).isEqualTo("replica-1");
        assertThat(lockObject().get("acquired").asString()).isEqualTo("2026-01-01T00:10:01Z");
        held.close();
        assertThat(lockObjectExists()).isFalse();
    }

    /** The worst interleaving, forced: both takers read the same stale lock before either writes. */
    @Test
    void twoTakersThatSawTheSameStaleLockCannotBothWin() throws Exception {
        locks("dead", at(T0)).acquire("dev", NO_DIR, "mlctl apply", T0);
        Instant later = T0.plus(TTL).plusSeconds(1);
        CyclicBarrier bothRead = new CyclicBarrier(2);
        S3Locks a = locks(afterFirstRead(s3, bothRead), "taker-a", at(later), TTL, NO_BACKGROUND_RENEWAL);
        S3Locks b = locks(afterFirstRead(s3, bothRead), "taker-b", at(later), TTL, NO_BACKGROUND_RENEWAL);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Callable<Object> takeA = () -> attempt(a, later);
            Callable<Object> takeB = () -> attempt(b, later);
            Future<Object> ra = pool.submit(takeA);
            Future<Object> rb = pool.submit(takeB);
            List<Object> results = List.of(ra.get(60, TimeUnit.SECONDS), rb.get(60, TimeUnit.SECONDS));
            assertThat(results).filteredOn(r -> r instanceof LockService.Held).hasSize(1);
            assertThat(results).filteredOn(r -> r instanceof LockedException).hasSize(1);
            String winner = lockObject().get("holder").asString();
            LockedException loser = (LockedException) results.stream().filter(r -> r instanceof LockedException).findFirst().orElseThrow();
            assertThat(loser.holder()).startsWith("mlctl daemon (" + winner + ",");
        } finally {
            pool.shutdownNow();
        }
    }

    private static Object attempt(S3Locks locks, Instant now) {
        try {
            return locks.acquire("dev", NO_DIR, "mlctl daemon", now);
        } catch (LockedException e) {
            return e;
        }
    }

    /** A real client to moto that, once, waits after reading an object until the other taker has read it too. */
    private static S3Client afterFirstRead(S3Client real, CyclicBarrier barrier) {
        AtomicBoolean gated = new AtomicBoolean();
        return (S3Client) Proxy.newProxyInstance(S3Client.class.getClassLoader(), new Class<?>[] {S3Client.class}, (proxy, method, args) -> {
            Object result;
            try {
                result = method.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (method.getName().equals("getObjectAsBytes") && gated.compareAndSet(false, true)) barrier.await(30, TimeUnit.SECONDS);
            return result;
        });
    }

    @Test
    void renewalKeepsTheLockPastItsFirstLeaseAndTheLockIsKnownLostWhenItRunsOut() {
        MutableClock clock = new MutableClock(T0);
        S3Locks holder = locks("replica-0", clock);
        S3Locks.S3Held held = (S3Locks.S3Held) holder.acquire("dev", NO_DIR, "mlctl daemon", T0);
        for (int i = 0; i < 5; i++) {
            clock.advance(TTL.dividedBy(2));
            held.renew();
            held.check();
        }
        Instant now = clock.instant();
        assertThat(now).isAfter(T0.plus(TTL.multipliedBy(2)));
        assertThat(lockObject().get("expires").asString()).isEqualTo(now.plus(TTL).toString());
        assertThatThrownBy(() -> locks("replica-1", clock).acquire("dev", NO_DIR, "mlctl daemon", now))
            .as("a renewed lock is not stale").isInstanceOf(LockedException.class);

        clock.advance(TTL); // renewals stopped working (or ran too late)
        assertThatThrownBy(held::check).isInstanceOfSatisfying(LockLostException.class, e -> assertThat(e.getMessage())
            .isEqualTo("lost the lock of environment dev (s3://team-locks/mlctl/locks/dev.lock): its lease ran out at " + now.plus(TTL)
                + " before it could be renewed; stopped before the next step"));
        held.renew();
        assertThat(lockObject().get("expires").asString()).as("a lease never comes back after it ran out").isEqualTo(now.plus(TTL).toString());
        assertThatThrownBy(held::check).isInstanceOf(LockLostException.class);
    }

    @Test
    void aLockSomeoneElseChangedIsKnownLostAtTheNextRenewal() {
        MutableClock clock = new MutableClock(T0);
        S3Locks.S3Held held = (S3Locks.S3Held) locks("replica-0", clock).acquire("dev", NO_DIR, "mlctl daemon", T0);
        // Someone writes the object over (by hand, or a holder that ignored the lease).
        s3.putObject(b -> b.bucket(BUCKET).key(KEY), RequestBody.fromString("{\"holder\":\"bob@desk\",\"purpose\":\"mlctl apply\","
            + "\"acquired\":\"2026-01-01T00:00:30Z\",\"expires\":\"2026-01-01T00:10:30Z\",\"token\":\"bobs\"}"));
        held.check(); // not known yet
        clock.advance(Duration.ofSeconds(60));
        held.renew();
        assertThatThrownBy(held::check).isInstanceOf(LockLostException.class)
            .hasMessageContaining("it was taken by mlctl apply (bob@desk, since 2026-01-01T00:00:30Z");
        held.close();
        assertThat(lockObject().get("token").asString()).as("the release left the other's lock alone").isEqualTo("bobs");
    }

    @Test
    void aLockDeletedUnderItsHolderIsLostAndBackgroundRenewalNoticesIt() {
        Clock real = Clock.systemUTC();
        S3Locks holder = locks(s3, "replica-0", real, Duration.ofSeconds(30), Duration.ofMillis(100));
        LockService.Held held = holder.acquire("dev", NO_DIR, "mlctl daemon", real.instant());
        String first = lockObject().get("expires").asString();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (lockObject().get("expires").asString().equals(first)) {
            assertThat(System.nanoTime()).as("renewed in the background").isLessThan(deadline);
            pause();
        }
        held.check();
        s3.deleteObject(b -> b.bucket(BUCKET).key(KEY));
        while (true) {
            try {
                held.check();
            } catch (LockLostException e) {
                assertThat(e.reason()).isEqualTo("s3://team-locks/mlctl/locks/dev.lock was deleted by someone else");
                break;
            }
            assertThat(System.nanoTime()).as("loss noticed in the background").isLessThan(deadline);
            pause();
        }
        held.close();
        assertThat(lockObjectExists()).isFalse();
    }

    @Test
    void releaseDeletesOnlyItsOwnLock() {
        S3Locks first = locks("replica-0", at(T0));
        LockService.Held old = first.acquire("dev", NO_DIR, "mlctl daemon", T0);
        // The first holder stalled past its lease; another took the lock over.
        LockService.Held current = locks("replica-1", at(T0)).acquire("dev", NO_DIR, "mlctl daemon", T0.plus(TTL).plusSeconds(1));
        old.close();
        assertThat(lockObjectExists()).isTrue();
        assertThat(lockObject().get("holder").asString()).isEqualTo("replica-1");
        current.close();
        assertThat(lockObjectExists()).isFalse();
        current.close(); // twice is harmless
    }

    @Test
    void aCreateOrRenewalWhoseAnswerWasLostIsRecognisedAsOurOwn() throws Exception {
        try (FaultProxy proxy = new FaultProxy(endpoint); S3Client viaProxy = client(proxy.endpoint())) {
            MutableClock clock = new MutableClock(T0);
            S3Locks locks = locks(viaProxy, "replica-0", clock, TTL, NO_BACKGROUND_RENEWAL);
            FaultProxy.Drop create = proxy.dropResponse(r -> r.method().equals("PUT") && r.path().endsWith("/" + KEY), 1);
            S3Locks.S3Held held = (S3Locks.S3Held) locks.acquire("dev", NO_DIR, "mlctl daemon", T0);
            assertThat(create.dropped()).as("the create went through, its answer was lost, the SDK retried into a 412").hasSize(1);
            assertThat(lockObject().get("holder").asString()).isEqualTo("replica-0");

            FaultProxy.Drop renewal = proxy.dropResponse(r -> r.method().equals("PUT") && r.path().endsWith("/" + KEY), 1);
            clock.advance(Duration.ofMinutes(3));
            held.renew();
            assertThat(renewal.dropped()).hasSize(1);
            held.check();
            assertThat(lockObject().get("expires").asString()).isEqualTo(T0.plus(Duration.ofMinutes(3)).plus(TTL).toString());
            clock.advance(Duration.ofMinutes(3));
            held.renew();
            held.check();
            held.close();
            assertThat(lockObjectExists()).as("released with the ETag of the write whose answer was lost").isFalse();
        }
    }

    @Test
    void aMissingBucketOrRefusedAccessIsOneLine() throws Exception {
        S3Locks fine = locks(s3, "replica-0", at(T0), TTL, NO_BACKGROUND_RENEWAL);
        S3Locks noBucket = new S3Locks(s3, new S3Locks.Location("no-such-bucket", "team"), "replica-0", at(T0), TTL, NO_BACKGROUND_RENEWAL);
        opened.add(noBucket);
        assertThatThrownBy(() -> noBucket.acquire("dev", NO_DIR, "mlctl apply", T0)).isInstanceOf(MlctlException.class)
            .hasMessage("the lock bucket no-such-bucket does not exist (--lock s3://no-such-bucket/team): create it or name another");

        try (FaultProxy proxy = new FaultProxy(endpoint); S3Client viaProxy = client(proxy.endpoint())) {
            proxy.failS3(r -> true, 403, "AccessDenied", 100);
            S3Locks denied = locks(viaProxy, "replica-0", at(T0), TTL, NO_BACKGROUND_RENEWAL);
            assertThatThrownBy(() -> denied.acquire("dev", NO_DIR, "mlctl apply", T0)).isInstanceOf(MlctlException.class)
                .hasMessage("AWS refused to write the lock s3://team-locks/mlctl/locks/dev.lock: AccessDenied; the credentials need "
                    + "s3:GetObject, s3:PutObject and s3:DeleteObject on s3://team-locks/mlctl/locks/*");
        }
        assertThat(lockObjectExists()).isFalse();
        fine.acquire("dev", NO_DIR, "mlctl apply", T0).close();
    }

    @Test
    void lockServicesMakesEachKindAndNamesTheFormsOnAnythingElse() throws Exception {
        Map<String, String> env = Map.of("AWS_ENDPOINT_URL", endpoint.toString(), "AWS_ACCESS_KEY_ID", "test", "AWS_SECRET_ACCESS_KEY", "test");
        assertThat(LockServices.of("file", "me", env)).isInstanceOf(LockService.files().getClass());
        LockService viaEnv = LockServices.of("s3://team-locks/mlctl/locks/", "me@host", env);
        try {
            assertThat(((S3Locks) viaEnv).location()).isEqualTo(WHERE);
            try (LockService.Held h = viaEnv.acquire("dev", NO_DIR, "mlctl apply", Instant.now())) {
                assertThat(lockObject().get("holder").asString()).isEqualTo("me@host");
            }
            assertThat(lockObjectExists()).isFalse();
        } finally {
            LockServices.close(viaEnv);
        }

        assertThat(message(() -> LockServices.of("kubernets", "me", env)))
            .isEqualTo("unknown lock 'kubernets': use file, kubernetes or s3://BUCKET/PREFIX (did you mean kubernetes?)");
        assertThat(message(() -> LockServices.of("files", "me", env)))
            .isEqualTo("unknown lock 'files': use file, kubernetes or s3://BUCKET/PREFIX (did you mean file?)");
        assertThat(message(() -> LockServices.of("s3:/team-locks/x", "me", env)))
            .isEqualTo("unknown lock 's3:/team-locks/x': use file, kubernetes or s3://BUCKET/PREFIX (did you mean s3://team-locks/x?)");
        assertThat(message(() -> LockServices.of("gs://bucket", "me", env)))
            .isEqualTo("unknown lock 'gs://bucket': use file, kubernetes or s3://BUCKET/PREFIX; S3 is the only object store a lock can live in");
        assertThat(message(() -> LockServices.of("etcd", "me", env))).isEqualTo("unknown lock 'etcd': use file, kubernetes or s3://BUCKET/PREFIX");
        assertThat(message(() -> LockServices.of("s3://", "me", env))).isEqualTo("--lock s3://: no bucket named; use s3://BUCKET/PREFIX");
        assertThat(message(() -> LockServices.of("s3://Team_Locks/x", "me", env)))
            .isEqualTo("--lock s3://Team_Locks/x: 'Team_Locks' is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)");
    }

    @Test
    void anUnreachableStoreIsOneLine() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        LockService dead = LockServices.of("s3://team-locks/x", "me", Map.of("AWS_ENDPOINT_URL", "http://127.0.0.1:" + port,
            "AWS_ACCESS_KEY_ID", "test", "AWS_SECRET_ACCESS_KEY", "test"));
        try {
            assertThat(message(() -> dead.acquire("dev", NO_DIR, "mlctl apply", T0)))
                .startsWith("cannot reach S3 to write the lock s3://team-locks/x/dev.lock: ").doesNotContain("\n");
        } finally {
            LockServices.close(dead);
        }
    }

    /** Between polls (each assertion has its own deadline). */
    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static String message(Runnable r) {
        try {
            r.run();
        } catch (MlctlException e) {
            return e.getMessage();
        }
        throw new AssertionError("no error");
    }
}
