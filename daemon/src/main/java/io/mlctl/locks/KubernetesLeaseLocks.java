package io.mlctl.locks;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.mlctl.MlctlException;
import io.mlctl.apply.LockService;
import io.mlctl.apply.LockedException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * An environment's lock as a Kubernetes Lease ({@code --lock kubernetes}): {@code mlctl-env-<env>} in one
 * namespace, shared by every daemon replica and every person's {@code mlctl apply} that can reach the
 * cluster, so none of them needs a disk in common.
 *
 * <p>Taken by creating the Lease, or by replacing it at the version read when nobody holds it or its
 * holder stopped renewing: the API server lets exactly one of several such writes through. Whether a
 * holder stopped is never judged from its renew time against our clock (clocks disagree; one 20 s ahead
 * would take a live lock): as in Kubernetes' leader election, a held Lease is taken over only once this
 * process has itself seen the same holder record unchanged for the holder's whole duration, timed on its
 * own monotonic clock ({@link Leases.Observations}). The daemon keeps one instance for its life, so what it
 * saw adds up over its attempts; a one-shot {@code mlctl apply} ({@link #connect}) finding a Lease that looks
 * stale watches it for up to a duration (and a little) before taking it or giving up.
 *
 * <p>The holder renews every fifth of the duration in the background and counts its lock good for only
 * two thirds of a duration after its last successful renewal, on its own monotonic clock: it stops
 * ({@link Held#check()} fails, which stops the apply before its next step) a third of a duration before
 * anyone else could take over. Releasing clears the holder and keeps the Lease (it also carries the
 * environment's applied-spec record).
 */
public final class KubernetesLeaseLocks implements LockService {
    /** Fifteen seconds, renewed every five: what Kubernetes' own leader election uses. */
    public static final Duration DEFAULT_LEASE = Duration.ofSeconds(15);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Leases leases;
    private final String holder;
    private final Duration leaseDuration;
    private final Clock clock;
    private final LongSupplier nanos;
    private final ScheduledExecutorService renewer;
    /** How long a one-shot acquire watches a Lease that looks stale before giving up; zero for the daemon's. */
    private final Duration patience;
    private final Leases.Observations seen;

    public KubernetesLeaseLocks(KubernetesClient client, String namespace, String holder, Duration leaseDuration) {
        this(client, namespace, holder, leaseDuration, Clock.systemUTC(), Leases.renewer("mlctl-lease-renew"));
    }

    /**
     * With the clock and the thread that renews held leases given: a test stops that thread to play a
     * holder that died without releasing.
     */
    public KubernetesLeaseLocks(KubernetesClient client, String namespace, String holder, Duration leaseDuration, Clock clock,
                                ScheduledExecutorService renewer) {
        this(client, namespace, holder, leaseDuration, clock, System::nanoTime, renewer, Duration.ZERO);
    }

    /**
     * @param clock only for the times written on the Lease, for people to read
     * @param nanos this process's monotonic clock ({@link System#nanoTime}), which decides every expiry
     * @param patience how long {@link #acquire} watches a held Lease that looks stale before it gives up (zero:
     *     not at all; it says who holds it, and a later acquire on this instance counts what this one saw)
     */
    KubernetesLeaseLocks(KubernetesClient client, String namespace, String holder, Duration leaseDuration, Clock clock,
                         LongSupplier nanos, ScheduledExecutorService renewer, Duration patience) {
        this.leases = new Leases(client, namespace);
        this.holder = holder;
        this.leaseDuration = Duration.ofSeconds(Leases.seconds(leaseDuration));
        this.clock = clock;
        this.nanos = nanos;
        this.renewer = renewer;
        this.patience = patience;
        this.seen = new Leases.Observations(nanos);
    }

    /** In a pod: its service account and namespace; elsewhere the kubeconfig's current context. */
    public static KubernetesLeaseLocks connect(Optional<String> namespace, String holder) {
        Leases l = Leases.connect(namespace);
        // Used once (mlctl apply): a stale-looking Lease is watched for a whole duration before it is taken.
        return new KubernetesLeaseLocks(l.client(), l.namespace(), holder, DEFAULT_LEASE, Clock.systemUTC(), System::nanoTime,
            Leases.renewer("mlctl-lease-renew"), DEFAULT_LEASE.plusSeconds(3));
    }

    public Duration leaseDuration() {
        return leaseDuration;
    }

    /** How long a holder counts its lock good after its last renewal: two thirds of a duration, so it stops before anyone may take over. */
    Duration holdFor() {
        return leaseDuration.multipliedBy(2).dividedBy(3);
    }

    /** The Lease's times come from this service's clock, not {@code now}: its renewals need the same one. */
    @Override
    public Held acquire(String environment, Path environmentStateDir, String purpose, Instant now) {
        String name = Leases.environmentLease(environment);
        // Unique per acquire: a restarted process with the same replica name must not mistake its dead
        // predecessor's lease for its own, nor one thread another's.
        String identity = purpose + " (" + holder + ", " + HexFormat.of().formatHex(nonce()) + ")";
        long watchUntil = nanos.getAsLong() + patience.toNanos();
        try {
            for (int attempt = 0; attempt < 5; ) {
                Optional<Lease> current = leases.get(name);
                Instant t = clock.instant();
                // Taken before the write: others start timing what we write only once they see it, later.
                long n = nanos.getAsLong();
                Optional<Lease> taken;
                if (current.isEmpty()) {
                    taken = leases.create(claim(new LeaseBuilder().withNewMetadata().withName(name)
                        .withLabels(Map.of(Leases.PART_OF, "mlctl", Leases.COMPONENT, Leases.ENVIRONMENT_COMPONENT)).endMetadata().build(), identity, t, 0));
                } else if (seen.expired(name, current.get(), leaseDuration)) {
                    Lease l = current.get();
                    int transitions = Optional.ofNullable(l.getSpec()).map(LeaseSpec::getLeaseTransitions).orElse(0);
                    taken = leases.replace(claim(l, identity, t, Leases.holder(l).isPresent() ? transitions + 1 : transitions));
                } else if (Leases.looksExpired(current.get(), t) && nanos.getAsLong() < watchUntil) {
                    // Its holder may have died, or its clock and ours disagree: see whether it is renewed.
                    pause(Math.min(1000, Math.max(50, leaseDuration.toMillis() / 10)));
                    continue;
                } else {
                    throw new LockedException(environment, describe(current.get()));
                }
                if (taken.isPresent()) {
                    seen.forget(name);
                    return new LeaseHeld(environment, name, identity, taken.get(), t, n);
                }
                // Somebody else wrote it between our read and our write: read again and see who.
                attempt++;
            }
        } catch (KubernetesClientException e) {
            throw new MlctlException("cannot take the lock of environment " + environment + " (" + leases.where(name) + "): "
                + leases.problem(e), e);
        }
        throw new MlctlException("cannot take the lock of environment " + environment + ": " + leases.where(name)
            + " kept changing under us; try again");
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MlctlException("interrupted while waiting for a lock", e);
        }
    }

    private static byte[] nonce() {
        byte[] b = new byte[4];
        RANDOM.nextBytes(b);
        return b;
    }

    private Lease claim(Lease lease, String identity, Instant t, int transitions) {
        LeaseSpec spec = lease.getSpec() != null ? lease.getSpec() : new LeaseSpec();
        spec.setHolderIdentity(identity);
        spec.setLeaseDurationSeconds((int) leaseDuration.toSeconds());
        spec.setAcquireTime(Leases.time(t));
        spec.setRenewTime(Leases.time(t));
        spec.setLeaseTransitions(transitions);
        lease.setSpec(spec);
        return lease;
    }

    /** Who holds it and until when, for the error the second comer sees. */
    private static String describe(Lease lease) {
        String who = Leases.holder(lease).orElse("someone");
        Optional<ZonedDateTime> since = Optional.ofNullable(lease.getSpec().getAcquireTime());
        return who + since.map(s -> ", since " + s.toInstant()).orElse("")
            + Leases.expiry(lease).map(e -> ", lease renewed until " + e).orElse("");
    }

    private final class LeaseHeld implements Held {
        private final String environment;
        private final String name;
        private final String identity;
        private final ScheduledFuture<?> renewal;
        /** Guarded by this. */
        private Lease lease;
        /** When it was last written by us: on our wall clock (for the message) and our monotonic one (for the deadline). */
        private Instant renewed;
        private long renewedNanos;
        private String lastError = "";
        private Optional<String> lost = Optional.empty();
        private boolean released;

        LeaseHeld(String environment, String name, String identity, Lease lease, Instant acquired, long acquiredNanos) {
            this.environment = environment;
            this.name = name;
            this.identity = identity;
            this.lease = lease;
            this.renewed = acquired;
            this.renewedNanos = acquiredNanos;
            // Five times a duration: two may fail before the two thirds of a duration it counts on run out.
            long period = Math.max(1, leaseDuration.toMillis() / 5);
            this.renewal = renewer.scheduleAtFixedRate(this::renew, period, period, TimeUnit.MILLISECONDS);
        }

        private synchronized void renew() {
            if (released || lost.isPresent()) return;
            if (expired()) return;
            try {
                for (int attempt = 0; attempt < 5; attempt++) {
                    if (!ours(lease)) return;
                    Instant t = clock.instant();
                    // Taken before the write: others start timing this renewal only once they see it, later.
                    long n = nanos.getAsLong();
                    lease.getSpec().setRenewTime(Leases.time(t));
                    Optional<Lease> done = leases.replace(lease);
                    if (done.isPresent()) {
                        lease = done.get();
                        renewed = t;
                        renewedNanos = n;
                        lastError = "";
                        return;
                    }
                    // Changed since we last wrote it (an applied-spec record, or a new holder): read it again.
                    Optional<Lease> now = leases.get(name);
                    if (now.isEmpty()) {
                        lost = Optional.of(leases.where(name) + " was deleted");
                        return;
                    }
                    lease = now.get();
                }
            } catch (KubernetesClientException e) {
                lastError = leases.problem(e);
            } catch (RuntimeException e) {
                lastError = String.valueOf(e.getMessage());
            }
        }

        /** False (and the lock lost) when someone else's name is on it. */
        private boolean ours(Lease l) {
            if (Leases.holder(l).filter(identity::equals).isPresent()) return true;
            lost = Optional.of("it is held by " + Leases.holder(l).orElse("nobody") + " now");
            return false;
        }

        /**
         * True (and the lock lost) once two thirds of a duration passed on our own clock since our last
         * renewal: from then on we stop, a third of a duration before anyone else could take over.
         */
        private boolean expired() {
            if (lost.isEmpty() && nanos.getAsLong() - renewedNanos >= holdFor().toNanos()) {
                lost = Optional.of("not renewed since " + renewed + (lastError.isEmpty() ? "" : " (" + lastError + ")"));
            }
            return lost.isPresent();
        }

        @Override
        public synchronized void check() {
            if (released) throw new IllegalStateException("the lock of environment " + environment + " was released");
            if (expired()) {
                throw new MlctlException("lost the lock of environment " + environment + " (" + leases.where(name) + "): " + lost.get());
            }
        }

        @Override
        public synchronized void close() {
            if (released) return;
            released = true;
            renewal.cancel(false);
            // Clear our name so the next comer need not wait for expiry; a failure only makes it wait. Even once
            // lost: the write is at the version we last saw with our name on it, so it never clears a newer holder's.
            try {
                for (int attempt = 0; attempt < 3; attempt++) {
                    if (Leases.holder(lease).filter(identity::equals).isEmpty()) return;
                    LeaseSpec s = lease.getSpec();
                    s.setHolderIdentity(null);
                    s.setAcquireTime(null);
                    s.setRenewTime(null);
                    if (leases.replace(lease).isPresent()) return;
                    Optional<Lease> now = leases.get(name);
                    if (now.isEmpty()) return;
                    lease = now.get();
                }
            } catch (RuntimeException e) {
                // The lease runs out by itself within one duration.
            }
        }
    }
}
