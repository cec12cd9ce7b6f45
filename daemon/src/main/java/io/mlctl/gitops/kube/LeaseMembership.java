package io.mlctl.gitops.kube;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.mlctl.MlctlException;
import io.mlctl.locks.Leases;
import io.mlctl.gitops.Membership;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Daemon replicas as Kubernetes Leases: each keeps {@code mlctl-member-<replica>} renewed, and the live
 * members are the member Leases whose renewal has not run out. Environments are sharded over them by a
 * hash of the name (as Argo CD shards applications over controller replicas), highest random weight
 * (rendezvous) rather than modulo: a replica leaving moves only its own environments, not most of them,
 * so a replica that stops renewing loses its environments to the others within one lease duration, and
 * one that stops gracefully deletes its Lease and hands them over at the others' next refresh.
 *
 * <p>No replica judges another by its renew time against its own clock (clocks disagree): as in
 * Kubernetes' leader election, a member counts as alive until this replica has seen its Lease's holder
 * record unchanged for the member's whole lease duration, timed on its own monotonic clock
 * ({@link Leases.Observations}); this replica counts itself only while its own last successful renewal is
 * younger than a lease duration on that same clock, which always ends before the others, who start timing
 * that renewal only once they see it, stop counting it.
 *
 * <p>Two replicas may briefly disagree while one joins or leaves (each refreshes every third of a lease
 * duration); that only means both may try an environment, and its own Lease lock lets one through.
 */
public final class LeaseMembership implements Membership {
    static final String PREFIX = "mlctl-member-";
    static final String COMPONENT = "daemon-member";
    /** Lease durations after which a dead replica's Lease is deleted. */
    static final int FORGET_AFTER = 20;

    /** A member as this replica last saw it: counted alive until {@code deadline} on this replica's monotonic clock. */
    private record Member(String replica, long deadline) {
    }

    private final Leases leases;
    private final String replica;
    private final String leaseName;
    private final Duration leaseDuration;
    private final Clock clock;
    private final LongSupplier nanos;
    private final ScheduledExecutorService renewer;
    private final Leases.Observations observed;
    /** Written by the renewer thread, read by the scheduler and the HTTP threads. */
    private volatile List<Member> seen = List.of();
    /** The monotonic time of this replica's last successful renewal (taken before the write); empty before the first. */
    private volatile OptionalLong renewed = OptionalLong.empty();
    private volatile boolean closed;
    /** The renewer thread's own. */
    private Lease own;

    public LeaseMembership(KubernetesClient client, String namespace, String replica, Duration leaseDuration) {
        this(client, namespace, replica, leaseDuration, Clock.systemUTC(), Leases.renewer("mlctl-member-renew"));
    }

    /**
     * Registers this replica (and fails with one line if the cluster refuses), then renews and refreshes
     * the member list every third of {@code leaseDuration} on {@code renewer}; a test stops that thread to
     * play a replica that died.
     */
    public LeaseMembership(KubernetesClient client, String namespace, String replica, Duration leaseDuration, Clock clock,
                           ScheduledExecutorService renewer) {
        this(client, namespace, replica, leaseDuration, clock, System::nanoTime, renewer);
    }

    /** As above, with this replica's monotonic clock ({@link System#nanoTime}), which decides who is alive; {@code clock} only writes renew times for people. */
    LeaseMembership(KubernetesClient client, String namespace, String replica, Duration leaseDuration, Clock clock, LongSupplier nanos,
                    ScheduledExecutorService renewer) {
        this.nanos = nanos;
        this.observed = new Leases.Observations(nanos);
        this.leases = new Leases(client, namespace);
        this.replica = replica;
        this.leaseName = leaseName(replica);
        this.leaseDuration = Duration.ofSeconds(Leases.seconds(leaseDuration));
        this.clock = clock;
        this.renewer = renewer;
        try {
            synchronized (this) {
                renewAndRefresh();
            }
        } catch (KubernetesClientException e) {
            renewer.shutdownNow();
            throw new MlctlException("cannot register daemon replica " + replica + " as " + leases.where(leaseName) + ": "
                + leases.problem(e), e);
        }
        long period = Math.max(1, this.leaseDuration.toMillis() / 3);
        renewer.scheduleWithFixedDelay(this::tick, period, period, TimeUnit.MILLISECONDS);
    }

    /** A Lease name for any replica name: pod names are valid as they are; anything else is made so, with a hash to keep it unique. */
    static String leaseName(String replica) {
        String clean = replica.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-").replaceAll("^-+|-+$", "");
        if (clean.equals(replica) && PREFIX.length() + clean.length() <= 253) return PREFIX + clean;
        String hash = Integer.toHexString(hash(replica));
        if (clean.length() > 200) clean = clean.substring(0, 200);
        return PREFIX + (clean.isEmpty() ? "" : clean + "-") + hash;
    }

    /**
     * The first four bytes of the name's SHA-256, as a signed int. Not {@link String#hashCode}: it is
     * stable too, but its low bits move with the last characters in lockstep (names that differ in one
     * place land on replicas in a fixed pattern) and no other tool computes it; SHA-256 spreads names
     * evenly and anyone can reproduce who owns what with sha256sum.
     */
    static int hash(String name) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(d, 0, 4).getInt();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /**
     * Which of {@code members} owns an environment: the one whose hash with the environment's name is highest
     * (rendezvous hashing). Adding or removing a member moves only the environments it gains or held.
     */
    static String owner(String environment, List<String> members) {
        String best = null;
        long bestWeight = Long.MIN_VALUE;
        for (String m : members) {
            long w = hash(environment + "\n" + m);
            if (best == null || w > bestWeight || (w == bestWeight && m.compareTo(best) < 0)) {
                best = m;
                bestWeight = w;
            }
        }
        return best;
    }

    private void tick() {
        try {
            synchronized (this) {
                if (!closed) renewAndRefresh();
            }
        } catch (RuntimeException e) {
            // Kept as it was: a replica that cannot renew stops counting itself once its lease has run out (see members()).
        }
    }

    private void renewAndRefresh() {
        Instant t = clock.instant();
        long n = nanos.getAsLong();
        if (own == null) own = leases.get(leaseName).orElse(null);
        Optional<Lease> done;
        if (own == null) {
            done = leases.create(new LeaseBuilder().withNewMetadata().withName(leaseName)
                .withLabels(Map.of(Leases.PART_OF, "mlctl", Leases.COMPONENT, COMPONENT)).endMetadata()
                .withNewSpec().withHolderIdentity(replica).withLeaseDurationSeconds((int) leaseDuration.toSeconds())
                .withAcquireTime(Leases.time(t)).withRenewTime(Leases.time(t)).endSpec().build());
        } else {
            own.getSpec().setHolderIdentity(replica);
            own.getSpec().setLeaseDurationSeconds((int) leaseDuration.toSeconds());
            own.getSpec().setRenewTime(Leases.time(t));
            done = leases.replace(own);
        }
        // On a conflict, the next round reads it afresh.
        own = done.orElse(null);
        if (done.isPresent()) renewed = OptionalLong.of(n);
        List<Member> members = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Lease l : leases.list(Leases.COMPONENT, COMPONENT)) {
            String name = l.getMetadata().getName();
            names.add(name);
            Optional<String> who = Leases.holder(l);
            if (who.isEmpty() || who.get().equals(replica)) continue;
            Duration unchanged = observed.unchanged(name, l);
            Duration lease = Leases.duration(l, leaseDuration);
            // A replica long gone (pods of a Deployment get new names): tidy its Lease away, at the version read. Only one
            // this replica has itself seen dead; its renew time (another machine's clock) only tells how long ago it died.
            if (unchanged.compareTo(lease) >= 0 && Leases.expiry(l).map(e -> t.isAfter(e.plus(lease.multipliedBy(FORGET_AFTER)))).orElse(true)) {
                forget(l);
                continue;
            }
            members.add(new Member(who.get(), nanos.getAsLong() + lease.minus(unchanged).toNanos()));
        }
        observed.retain(names);
        seen = List.copyOf(members);
    }

    private void forget(Lease l) {
        try {
            leases.delete(l);
        } catch (RuntimeException e) {
            // Someone else tidied it, or will.
        }
    }

    @Override
    public boolean owns(String environment) {
        List<String> m = members();
        return m.contains(replica) && owner(environment, m).equals(replica);
    }

    @Override
    public String replica() {
        return replica;
    }

    /**
     * The replicas whose lease has not run out as this replica saw them, sorted. This replica counts only
     * while its own last renewal is younger than a lease on its own clock: one cut off from the API server
     * stops reconciling by itself before the others stop counting it.
     */
    @Override
    public List<String> members() {
        long now = nanos.getAsLong();
        List<String> live = new ArrayList<>();
        for (Member m : seen) {
            if (now - m.deadline() < 0) live.add(m.replica());
        }
        OptionalLong r = renewed;
        if (!closed && r.isPresent() && now - r.getAsLong() < leaseDuration.toNanos()) live.add(replica);
        return live.stream().distinct().sorted().toList();
    }

    /**
     * Stops renewing and deletes this replica's Lease, so the others take its environments at their next
     * refresh. A second caller waits for the first (a shutdown hook must not let the JVM halt mid-delete).
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        renewer.shutdownNow();
        try {
            leases.get(leaseName).filter(l -> Leases.holder(l).filter(replica::equals).isPresent()).ifPresent(leases::delete);
        } catch (RuntimeException e) {
            // It runs out by itself within one lease duration.
        }
    }
}
