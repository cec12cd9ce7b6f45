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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

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

    /** When the holder's claim runs out: its last renewal plus its duration; empty when nobody holds it. */
    public static Optional<Instant> expiry(Lease lease) {
        if (holder(lease).isEmpty()) return Optional.empty();
        LeaseSpec s = lease.getSpec();
        ZonedDateTime renewed = s.getRenewTime() != null ? s.getRenewTime() : s.getAcquireTime();
        if (renewed == null || s.getLeaseDurationSeconds() == null) return Optional.empty();
        return Optional.of(renewed.toInstant().plusSeconds(s.getLeaseDurationSeconds()));
    }

    /**
     * Free when nobody holds it or its holder stopped renewing for longer than it said it would. Compares
     * the holder's renewal time with this machine's clock, so clocks must agree to well within a lease
     * duration (NTP does; the renewal every third of a duration leaves the rest as slack).
     */
    public static boolean free(Lease lease, Instant now) {
        return expiry(lease).map(e -> !now.isBefore(e)).orElse(true);
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
