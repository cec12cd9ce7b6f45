package io.mlctl.locks;

import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.mlctl.MlctlException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The Leases of one namespace, as mlctl uses them: read, create, and replace only at the version read
 * (compare-and-swap: the API server refuses a replace whose resourceVersion is no longer current, with
 * 409), so two writers never both win. Shared by the environment locks, the replicas' membership and
 * the applied-spec records.
 */
public final class Leases {
    public static final String PART_OF = "app.kubernetes.io/part-of";
    public static final String COMPONENT = "app.kubernetes.io/component";
    /** Environment leases: {@code mlctl-env-<environment>} (environment names are DNS labels, so valid Lease names). */
    public static final String ENVIRONMENT_PREFIX = "mlctl-env-";
    public static final String ENVIRONMENT_COMPONENT = "environment-lock";

    private final KubernetesClient client;
    private final String namespace;

    public Leases(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    public KubernetesClient client() {
        return client;
    }

    public String namespace() {
        return namespace;
    }

    public static String environmentLease(String environment) {
        return ENVIRONMENT_PREFIX + environment;
    }

    /**
     * A client for the cluster this process runs in (its service account and namespace, as fabric8
     * configures itself in a pod) or else the kubeconfig's current context. Requests fail fast (one
     * retry, 5 s timeouts): a lease renewal that hangs longer than a third of the lease is worth nothing.
     */
    public static Leases connect(Optional<String> namespace) {
        try {
            Config config = new ConfigBuilder(Config.autoConfigure(null)).withConnectionTimeout(5_000).withRequestTimeout(5_000)
                .withRequestRetryBackoffLimit(1).build();
            KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
            String ns = namespace.filter(n -> !n.isBlank()).orElseGet(() -> Optional.ofNullable(client.getNamespace()).orElse("default"));
            return new Leases(client, ns);
        } catch (RuntimeException e) {
            throw new MlctlException("cannot configure the Kubernetes client for --lock kubernetes: " + oneLine(e), e);
        }
    }

    /** Daemon threads that renew Leases in the background; two, so one slow call does not hold up every renewal. */
    public static ScheduledExecutorService renewer(String name) {
        AtomicInteger n = new AtomicInteger();
        return Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public Optional<Lease> get(String name) {
        return Optional.ofNullable(client.leases().inNamespace(namespace).withName(name).get());
    }

    /** Creates it, or returns empty when a Lease of that name already exists (someone else was first). */
    public Optional<Lease> create(Lease lease) {
        try {
            return Optional.of(client.leases().inNamespace(namespace).resource(lease).create());
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) return Optional.empty();
            throw e;
        }
    }

    /** Replaces it if nobody changed it since it was read (its resourceVersion); empty when somebody did. */
    public Optional<Lease> replace(Lease lease) {
        try {
            return Optional.of(client.leases().inNamespace(namespace).resource(lease).update());
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409 || e.getCode() == 404) return Optional.empty();
            throw e;
        }
    }

    /** Deletes it only at the version read (a precondition the API server checks). */
    public void delete(Lease lease) {
        try {
            client.leases().inNamespace(namespace).resource(lease).lockResourceVersion(lease.getMetadata().getResourceVersion()).delete();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409 && e.getCode() != 404) throw e;
        }
    }

    public List<Lease> list(String label, String value) {
        return client.leases().inNamespace(namespace).withLabel(label, value).list().getItems();
    }

    public String where(String name) {
        return "Lease " + namespace + "/" + name;
    }

    // ---- a lease's record ---------------------------------------------------------------------------

    /** Whole seconds, as a Lease states its duration; never less than one. */
    public static int seconds(Duration d) {
        return (int) Math.max(1, (d.toMillis() + 999) / 1000);
    }

    public static ZonedDateTime time(Instant t) {
        return t.atZone(ZoneOffset.UTC);
    }

    public static Optional<String> holder(Lease lease) {
        LeaseSpec s = lease.getSpec();
        return Optional.ofNullable(s == null ? null : s.getHolderIdentity()).filter(h -> !h.isBlank());
    }

    /**
     * When the holder's claim runs out by the holder's own clock: its last renewal plus its duration; empty
     * when nobody holds it. For people to read ("renewed until"); decisions use {@link Observations}.
     */
    public static Optional<Instant> expiry(Lease lease) {
        if (holder(lease).isEmpty()) return Optional.empty();
        LeaseSpec s = lease.getSpec();
        ZonedDateTime renewed = s.getRenewTime() != null ? s.getRenewTime() : s.getAcquireTime();
        if (renewed == null || s.getLeaseDurationSeconds() == null) return Optional.empty();
        return Optional.of(renewed.toInstant().plusSeconds(s.getLeaseDurationSeconds()));
    }

    /**
     * Whether the holder's own renew time plus duration has passed on this machine's clock. A hint for what
     * to tell or how long to wait, never a decision: the holder's clock and ours need not agree (one 20 s
     * ahead would take a live Lease). Whether a Lease is free is for {@link Observations#expired}.
     */
    public static boolean looksExpired(Lease lease, Instant now) {
        return expiry(lease).map(e -> !now.isBefore(e)).orElse(true);
    }

    /** The duration the holder states, else {@code fallback}. */
    public static Duration duration(Lease lease, Duration fallback) {
        LeaseSpec s = lease.getSpec();
        Integer d = s == null ? null : s.getLeaseDurationSeconds();
        return d == null || d <= 0 ? fallback : Duration.ofSeconds(d);
    }

    /**
     * What a holder wrote (who, since when, last renewed, for how long): it changes at every renewal or
     * transition and not when an applied-spec record is written, so records do not keep a dead holder alive.
     */
    static String record(Lease lease) {
        LeaseSpec s = lease.getSpec();
        if (s == null) return "";
        return s.getHolderIdentity() + "\n" + s.getAcquireTime() + "\n" + s.getRenewTime() + "\n" + s.getLeaseDurationSeconds() + "\n"
            + s.getLeaseTransitions();
    }

    /**
     * Others' Leases as this process has seen them, timed on its own monotonic clock, as Kubernetes' leader
     * election does it: a held Lease runs out only once this process has seen the same holder record
     * unchanged for the whole duration the holder states. Never compares another machine's timestamps with
     * ours, so clocks need not agree; a holder that renews within its duration is never taken from. Kept by
     * a long-lived object (the daemon's lock service, its membership) so observations add up across calls.
     */
    public static final class Observations {
        private record Seen(String record, long since) {
        }

        private final Map<String, Seen> seen = new ConcurrentHashMap<>();
        private final LongSupplier nanos;

        public Observations(LongSupplier nanos) {
            this.nanos = nanos;
        }

        /** How long this process has seen {@code lease} (named {@code name}) as it is now; zero when new or changed. */
        public Duration unchanged(String name, Lease lease) {
            long now = nanos.getAsLong();
            String r = record(lease);
            Seen s = seen.compute(name, (k, old) -> old != null && old.record().equals(r) ? old : new Seen(r, now));
            return Duration.ofNanos(Math.max(0, now - s.since()));
        }

        /** Free: nobody holds it, or this process saw its holder record unchanged for the duration it states. */
        public boolean expired(String name, Lease lease, Duration fallback) {
            if (Leases.holder(lease).isEmpty()) {
                seen.remove(name);
                return true;
            }
            return unchanged(name, lease).compareTo(duration(lease, fallback)) >= 0;
        }

        public void forget(String name) {
            seen.remove(name);
        }

        /** Drops what was seen of Leases no longer there. */
        public void retain(Set<String> names) {
            seen.keySet().retainAll(names);
        }
    }

    public static Map<String, String> annotations(Lease lease) {
        Map<String, String> a = lease.getMetadata().getAnnotations();
        return a == null ? Map.of() : a;
    }

    /** The one line a user sees for a failed call: the API server's answer, or which server could not be reached and why. */
    public String problem(Throwable e) {
        if (e instanceof KubernetesClientException k && k.getCode() > 0) return oneLine(e);
        return "cannot reach " + client.getMasterUrl() + " (" + oneLine(e) + ")";
    }

    /** The API server's message, or the network error behind a failed request (the JDK's often have no message of their own). */
    public static String oneLine(Throwable e) {
        if (e instanceof KubernetesClientException k && k.getStatus() != null) {
            Status s = k.getStatus();
            String msg = s.getMessage() != null ? s.getMessage() : s.getReason();
            if (msg != null && !msg.isBlank()) return (k.getCode() > 0 ? k.getCode() + " " : "") + firstLine(msg);
        }
        Throwable deepest = e;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.net.SocketException || t instanceof java.net.UnknownHostException
                || t instanceof java.net.http.HttpTimeoutException || t instanceof javax.net.ssl.SSLException) {
                return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + firstLine(t.getMessage()));
            }
            if (t.getMessage() != null && !t.getMessage().isBlank()) deepest = t;
        }
        String msg = deepest.getMessage();
        return msg == null || msg.isBlank() ? deepest.getClass().getSimpleName() : firstLine(msg);
    }

    private static String firstLine(String s) {
        return s.lines().findFirst().orElse("").trim();
    }
}
