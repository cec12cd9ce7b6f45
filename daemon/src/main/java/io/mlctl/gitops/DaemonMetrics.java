package io.mlctl.gitops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The daemon's Prometheus metrics. */
public final class DaemonMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private static final java.util.List<String> STATUSES = java.util.List.of("synced", "pending", "drifted", "blocked", "error", "manual");
    private final Map<String, AtomicLong> lastSync = new ConcurrentHashMap<>();
    private final Map<String, String> statusOf = new ConcurrentHashMap<>();
    private final AtomicLong lastFetch = new AtomicLong();

    public DaemonMetrics() {
        Gauge.builder("mlctl_git_last_successful_fetch_timestamp_seconds", lastFetch, AtomicLong::get)
            .description("When the config repository was last fetched").register(registry);
    }

    public void reconciled(String env, String outcome, Duration took) {
        Counter.builder("mlctl_reconcile").description("Reconciliations by environment and outcome").tag("environment", env)
            .tag("outcome", outcome).register(registry).increment();
        Timer.builder("mlctl_reconcile_duration").description("Time of a reconciliation").tag("environment", env).tag("outcome", outcome)
            .register(registry).record(took);
    }

    public void changed(String env, String action, int count) {
        if (count == 0) return;
        Counter.builder("mlctl_resources_changed").description("Resources changed by apply, by action").tag("environment", env)
            .tag("action", action).register(registry).increment(count);
    }

    public void drift(String env) {
        Counter.builder("mlctl_drift").description("Drift found between commits").tag("environment", env).register(registry).increment();
    }

    public void synced(String env, long epochSeconds) {
        lastSync.computeIfAbsent(env, e -> {
            AtomicLong v = new AtomicLong();
            Gauge.builder("mlctl_last_successful_sync_timestamp_seconds", v, AtomicLong::get)
                .description("When the environment last matched its spec").tag("environment", e).register(registry);
            return v;
        }).set(epochSeconds);
    }

    public void cloudRequests(String provider, long requests) {
        if (requests > 0) {
            Counter.builder("mlctl_cloud_requests").description("Cloud API requests").tag("provider", provider).register(registry).increment(requests);
        }
    }

    public void cloudError(String provider) {
        Counter.builder("mlctl_cloud_errors").description("Cloud API calls that failed").tag("provider", provider).register(registry).increment();
    }

    /** A fetch of the config repository, and when it happened. */
    public void fetched(boolean ok, java.time.Instant when) {
        if (ok) {
            lastFetch.set(when.getEpochSecond());
        } else {
            Counter.builder("mlctl_git_fetch_failures").description("Fetches of the config repository that failed").register(registry).increment();
        }
    }

    /** A new commit of the deploy branch, valid or invalid. */
    public void commit(String validity) {
        Counter.builder("mlctl_commits").description("Commits of the deploy branch read, by validity").tag("validity", validity)
            .register(registry).increment();
    }

    /** Each environment's current status, as a 0/1 gauge per status. */
    public void status(String env, String status) {
        statusOf.put(env, status);
        for (String s : STATUSES) {
            Gauge.builder("mlctl_environment_status", () -> status(env).equals(s) ? 1 : 0).description("1 for the environment's current status")
                .tag("environment", env).tag("status", s).register(registry);
        }
    }

    private String status(String env) {
        return statusOf.getOrDefault(env, "");
    }

    public String scrape() {
        return registry.scrape();
    }
}
