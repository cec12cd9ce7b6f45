package io.mlctl.gitops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mlctl.util.BuildInfo;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The daemon's Prometheus metrics, served on {@code /metrics}.
 *
 * <p>They speak the status API's words: an environment's status is one of {@link #STATUSES} as in
 * {@code /api/environments}, and a reconcile's outcome is {@code succeeded} or {@code failed} when it
 * applied (the API's {@code lastApply.outcome}), else what it found ({@link #OUTCOMES}).
 *
 * <p>Every series an alert needs exists before its first event, at 0: the daemon's own at start-up,
 * an environment's from when {@link #environment} first sees it. Alerts can then be written with
 * {@code increase()} and compare against 0 instead of waiting for a series to appear.
 */
public final class DaemonMetrics implements AutoCloseable {
    /**
     * What a reconcile ended with. {@code succeeded} / {@code failed}: it applied, as the API's
     * {@code lastApply.outcome} says; {@code no_changes}: the cloud already matched (status synced);
     * {@code drifted}, {@code manual}, {@code blocked}, {@code error}: the status it left; {@code locked}:
     * someone else held the environment's lock, tried again next interval.
     */
    public static final List<String> OUTCOMES = List.of("succeeded", "failed", "no_changes", "drifted", "manual", "blocked", "locked", "error");
    /** The Reconciler's words for two outcomes, mapped so that the metric says what the API says. */
    private static final Map<String, String> RECONCILER_WORDS = Map.of("applied", "succeeded", "synced", "no_changes");
    /** Environment statuses, as the API spells them. */
    public static final List<String> STATUSES = Stream.of(EnvironmentStatus.Status.values()).map(EnvironmentStatus.Status::id).toList();
    public static final List<String> ACTIONS = List.of("create", "update", "replace", "delete", "import");
    public static final List<String> VALIDITIES = List.of("valid", "invalid");
    /**
     * Reconcile duration buckets. A check that finds nothing to do takes a second or a few, an apply
     * minutes, a Kubernetes cluster's creation up to an hour. These buckets are the whole histogram:
     * Micrometer's generated percentile buckets would add some 60 series with unreadable bounds each.
     */
    public static final List<Duration> BUCKETS = Stream.of(0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 2700.0, 3600.0)
        .map(s -> Duration.ofMillis(Math.round(s * 1000))).toList();
    static final String UNKNOWN_PROVIDER = "unknown";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final AtomicLong lastFetchMillis = new AtomicLong();
    private final Counter fetchFailures;
    private final Map<String, Counter> commits = new HashMap<>();
    private final Map<String, Env> environments = new ConcurrentHashMap<>();
    private final Map<String, Shown> shown = new ConcurrentHashMap<>();
    private final Map<String, Costed> costs = new ConcurrentHashMap<>();
    private final Set<String> providers = ConcurrentHashMap.newKeySet();
    private volatile Supplier<? extends Collection<EnvironmentStatus>> statusSource;

    /** An environment's counters, registered together when it is first seen. */
    private static final class Env {
        volatile String provider;
        final Map<String, Counter> reconciles = new HashMap<>();
        final Map<String, Counter> changed = new HashMap<>();
        Counter drift;
    }

    /** What the status gauges of one environment read, and the gauges, to remove them when it goes. */
    private static final class Shown {
        volatile String status = "";
        volatile double lastSync = Double.NaN;
        final List<Meter> meters = new ArrayList<>();
        Meter lastSyncGauge;
    }

    /** What the cost gauges of one environment read (NaN until a plan of it is priced), and the gauges, to remove them when it goes. */
    private static final class Costed {
        volatile double low = Double.NaN;
        volatile double high = Double.NaN;
        final List<Meter> meters = new ArrayList<>();
    }

    /** The two ends of a cost range, as the label {@code bound} of the cost gauge says them. */
    public static final List<String> BOUNDS = List.of("low", "high");

    public DaemonMetrics() {
        this(BuildInfo.current());
    }

    public DaemonMetrics(BuildInfo build) {
        // promtool's lint rejects two of Micrometer's names: process_cpu_time_ns_total (a unit abbreviation; replaced
        // below by process_cpu_seconds_total, the name Prometheus' own clients use) and system_cpu_count (_count on a
        // gauge; it is Runtime.availableProcessors(), hence jvm_available_processors).
        registry.config().meterFilter(MeterFilter.denyNameStartsWith("process.cpu.time"));
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                return id.getName().equals("system.cpu.count") ? id.withName("jvm.available.processors") : id;
            }
        });
        Gauge.builder("mlctl.build.info", () -> 1).description("Always 1; its labels say which mlctl build runs (version, and the commit it was built from)")
            .tag("version", build.version()).tag("commit", build.commit()).register(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os && os.getProcessCpuTime() >= 0) {
            FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9).baseUnit("seconds")
                .description("CPU time the daemon's process used").register(registry);
        }

        Gauge.builder("mlctl.git.last.successful.fetch.timestamp.seconds", lastFetchMillis, v -> v.get() / 1000.0)
            .description("Unix time of the last successful fetch of the config repository, 0 before the first; "
                + "time() minus it is how long the daemon has not seen the repository")
            .strongReference(true).register(registry);
        fetchFailures = Counter.builder("mlctl.git.fetch.failures").description("Fetches of the config repository that failed").register(registry);
        for (String v : VALIDITIES) {
            commits.put(v, Counter.builder("mlctl.commits").description("New commits of the deploy branch read, by whether they validated "
                + "(an invalid one is not applied: the last valid commit stays in force)").tag("validity", v).register(registry));
        }
    }

    /**
     * Registers an environment's series at 0 (reconciles by outcome, drift, resources changed, and its
     * provider's cloud requests and errors), so that alerts on them hold from the start. Idempotent;
     * call it when an environment is first seen in a commit.
     */
    public void environment(String env, String provider) {
        Env e = environments.computeIfAbsent(env, name -> {
            Env n = new Env();
            n.provider = provider;
            for (String o : OUTCOMES) {
                n.reconciles.put(o, Counter.builder("mlctl.reconcile").description("Reconciles of an environment by outcome: succeeded or failed "
                        + "when it applied (as lastApply.outcome in the API), no_changes when the cloud matched, drifted, manual, blocked or "
                        + "error for the status it left, locked when someone else held the environment's lock")
                    .tag("environment", name).tag("outcome", o).register(registry));
            }
            for (String a : ACTIONS) {
                n.changed.put(a, Counter.builder("mlctl.resources.changed").description("Resources changed by the daemon's applies, by action")
                    .tag("environment", name).tag("action", a).register(registry));
            }
            n.drift = Counter.builder("mlctl.drift").description("Drift checks that found the cloud differing from the spec (a count of checks: "
                + "mlctl_environment_status{status=\"drifted\"} says which environments are drifted now)").tag("environment", name).register(registry);
            return n;
        });
        if (UNKNOWN_PROVIDER.equals(e.provider) && !UNKNOWN_PROVIDER.equals(provider)) e.provider = provider;
        provider(provider);
    }

    private void provider(String provider) {
        if (UNKNOWN_PROVIDER.equals(provider) || !providers.add(provider)) return;
        Counter.builder("mlctl.cloud.requests").description("Cloud API requests made").tag("provider", provider).register(registry);
        Counter.builder("mlctl.cloud.errors").description("Cloud API calls that failed during applies").tag("provider", provider).register(registry);
    }

    private Env env(String env) {
        Env e = environments.get(env);
        if (e != null) return e;
        environment(env, UNKNOWN_PROVIDER);
        return environments.get(env);
    }

    /**
     * One reconcile of an environment and how long it took. {@code outcome} is one of {@link #OUTCOMES}
     * or the Reconciler's {@code applied} (= succeeded) and {@code synced} (= no_changes).
     */
    public void reconciled(String env, String outcome, Duration took) {
        String o = outcome(outcome);
        Env e = env(env);
        e.reconciles.get(o).increment();
        Timer.builder("mlctl.reconcile.duration").description("How long reconciles took, by provider and outcome (see mlctl_reconcile_total)")
            .tag("provider", e.provider).tag("outcome", o).serviceLevelObjectives(BUCKETS.toArray(Duration[]::new)).publishPercentileHistogram(false)
            .register(registry).record(took);
    }

    /** The metric's word for a reconcile outcome. */
    static String outcome(String word) {
        String o = RECONCILER_WORDS.getOrDefault(word, word);
        if (!OUTCOMES.contains(o)) throw new IllegalArgumentException("unknown reconcile outcome '" + word + "' (known: " + OUTCOMES + ")");
        return o;
    }

    public void changed(String env, String action, int count) {
        Counter c = env(env).changed.get(action);
        if (c == null) throw new IllegalArgumentException("unknown action '" + action + "' (known: " + ACTIONS + ")");
        c.increment(count);
    }

    public void drift(String env) {
        env(env).drift.increment();
    }

    /** When the environment last matched its spec. */
    public void synced(String env, long epochSeconds) {
        Shown s = shown(env);
        s.lastSync = epochSeconds;
        showLastSync(env, s);
    }

    public void cloudRequests(String provider, long requests) {
        provider(provider);
        if (requests > 0) Counter.builder("mlctl.cloud.requests").tag("provider", provider).register(registry).increment(requests);
    }

    public void cloudError(String provider) {
        provider(provider);
        Counter.builder("mlctl.cloud.errors").tag("provider", provider).register(registry).increment();
    }

    /** A fetch of the config repository, and when it happened. */
    public void fetched(boolean ok, Instant when) {
        if (ok) {
            lastFetchMillis.set(when.toEpochMilli());
        } else {
            fetchFailures.increment();
        }
    }

    /** A new commit of the deploy branch, {@code valid} or {@code invalid}. */
    public void commit(String validity) {
        Counter c = commits.get(validity);
        if (c == null) throw new IllegalArgumentException("validity is valid or invalid, not '" + validity + "'");
        c.increment();
    }

    /**
     * The environments whose monthly cost this replica reports (those of the last valid commit it owns): their cost gauges
     * are registered, NaN until a plan of theirs is priced; those of an environment no longer listed (it left the repository,
     * or another replica owns it now) are removed, since its cost is no longer re-planned here.
     */
    public synchronized void costed(Collection<String> envs) {
        for (String env : envs) {
            costs.computeIfAbsent(env, name -> {
                Costed c = new Costed();
                for (String bound : BOUNDS) {
                    c.meters.add(Gauge.builder("mlctl.environment.monthly.cost.usd", () -> bound.equals("low") ? c.low : c.high)
                        .description("Monthly cost in USD of each environment as its last plan leaves it (what it costs once that plan is "
                            + "applied): bound low with autoscaled pools and endpoints at their minimum, high at their maximum; usage-based "
                            + "charges and resources without a price are not in it; NaN until a plan of it is priced")
                        .tag("environment", name).tag("bound", bound).register(registry));
                }
                return c;
            });
        }
        Set<String> listed = new HashSet<>(envs);
        for (String gone : List.copyOf(costs.keySet())) {
            if (!listed.contains(gone)) costs.remove(gone).meters.forEach(registry::remove);
        }
    }

    /** An environment's monthly cost as its last plan leaves it, until {@link #watch} reads it; ignored unless {@link #costed} lists it. */
    public void cost(String env, double low, double high) {
        Costed c = costs.get(env);
        if (c == null) return;
        c.low = low;
        c.high = high;
    }

    /** An environment's current status (one of {@link #STATUSES}), until {@link #watch} reads them from the source. */
    public void status(String env, String status) {
        if (!STATUSES.contains(status)) throw new IllegalArgumentException("unknown status '" + status + "' (known: " + STATUSES + ")");
        shown(env).status = status;
    }

    /**
     * Reads the environments' statuses from {@code source} at every scrape, the list {@code /api/environments}
     * serves: the gauges then say exactly what the API says (a Git outage shows as error there too; the cost is its
     * last plan's), and an environment this replica no longer owns leaves them, so that a sum over replicas counts it once.
     */
    public void watch(Supplier<? extends Collection<EnvironmentStatus>> source) {
        statusSource = source;
    }

    public synchronized String scrape() {
        Supplier<? extends Collection<EnvironmentStatus>> source = statusSource;
        if (source != null) refresh(source.get());
        return registry.scrape();
    }

    private void refresh(Collection<EnvironmentStatus> now) {
        Set<String> names = new HashSet<>();
        for (EnvironmentStatus s : now) {
            names.add(s.name());
            environment(s.name(), s.provider());
            Shown shownNow = shown(s.name());
            shownNow.status = s.status().id();
            if (s.lastSync().isPresent()) {
                shownNow.lastSync = s.lastSync().get().toEpochMilli() / 1000.0;
                showLastSync(s.name(), shownNow);
            }
            s.lastPlanCost().ifPresent(c -> cost(s.name(), c.after().low(), c.after().high()));
        }
        for (String gone : List.copyOf(shown.keySet())) {
            if (names.contains(gone)) continue;
            Shown s = shown.remove(gone);
            s.meters.forEach(registry::remove);
            if (s.lastSyncGauge != null) registry.remove(s.lastSyncGauge);
        }
    }

    private Shown shown(String env) {
        return shown.computeIfAbsent(env, name -> {
            Shown s = new Shown();
            for (String status : STATUSES) {
                s.meters.add(Gauge.builder("mlctl.environment.status", () -> status.equals(s.status) ? 1 : 0)
                    .description("1 for the status each environment has now (the API's: " + String.join(", ", STATUSES) + "), 0 for the others; "
                        + "sum by (status) counts the environments in each")
                    .tag("environment", name).tag("status", status).register(registry));
            }
            return s;
        });
    }

    private synchronized void showLastSync(String env, Shown s) {
        if (s.lastSyncGauge != null) return;
        s.lastSyncGauge = Gauge.builder("mlctl.last.successful.sync.timestamp.seconds", () -> s.lastSync)
            .description("Unix time each environment last matched its spec (no series before the first time)").tag("environment", env)
            .register(registry);
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
