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
    private final Map<String, AtomicLong> lastSync = new ConcurrentHashMap<>();

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

    public String scrape() {
        return registry.scrape();
    }
}
