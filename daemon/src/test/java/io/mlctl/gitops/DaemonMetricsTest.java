package io.mlctl.gitops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.plan.Summary;
import io.mlctl.util.BuildInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The series operators alert and graph on: there from the start, in the API's words, and a real histogram. */
class DaemonMetricsTest {
    final DaemonMetrics metrics = new DaemonMetrics(new BuildInfo("1.2.3", "abc1234"));

    @AfterEach
    void close() {
        metrics.close();
    }

    static final Map<String, Double> START = Map.of(
        "mlctl_build_info{commit=\"abc1234\",version=\"1.2.3\"}", 1.0,
        "mlctl_commits_total{validity=\"invalid\"}", 0.0,
        "mlctl_commits_total{validity=\"valid\"}", 0.0,
        "mlctl_git_fetch_failures_total", 0.0,
        "mlctl_git_last_successful_fetch_timestamp_seconds", 0.0);

    @Test
    void atStartUpTheSeriesAlertsNeedAreThereAtZero() {
        assertThat(mlctl(metrics.scrape())).isEqualTo(START);
    }

    @Test
    void jvmAndProcessMetricsAreThereUnderNamesPromtoolAccepts() {
        Map<String, Double> all = series(metrics.scrape());
        List<String> names = all.keySet().stream().map(DaemonMetricsTest::name).distinct().toList();
        assertThat(names).contains("jvm_memory_used_bytes", "jvm_gc_memory_allocated_bytes_total", "jvm_threads_live_threads",
            "jvm_classes_loaded_classes", "jvm_info", "jvm_available_processors", "process_cpu_seconds_total", "process_cpu_usage",
            "process_uptime_seconds", "process_start_time_seconds", "process_files_open_files", "system_cpu_usage");
        // promtool check metrics: "metric names should not contain abbreviated units", "non-histogram ... should not have _count suffix".
        assertThat(names).doesNotContain("process_cpu_time_ns_total", "system_cpu_count");
        assertThat(all.get("process_cpu_seconds_total")).isPositive();
    }

    @Test
    void theBuildIsTheOneRunning() {
        BuildInfo running = BuildInfo.current();
        try (DaemonMetrics m = new DaemonMetrics()) {
            assertThat(mlctl(m.scrape())).containsEntry("mlctl_build_info{commit=\"" + running.commit() + "\",version=\"" + running.version() + "\"}", 1.0);
        }
    }

    @Test
    void anEnvironmentFirstSeenHasAllItsCountersAtZero() {
        metrics.environment("dev", "aws");
        metrics.environment("dev", "aws");
        Map<String, Double> expected = new TreeMap<>(START);
        for (String o : List.of("succeeded", "failed", "no_changes", "drifted", "manual", "blocked", "locked", "error")) {
            expected.put("mlctl_reconcile_total{environment=\"dev\",outcome=\"" + o + "\"}", 0.0);
        }
        for (String a : List.of("create", "delete", "import", "replace", "update")) {
            expected.put("mlctl_resources_changed_total{action=\"" + a + "\",environment=\"dev\"}", 0.0);
        }
        expected.put("mlctl_drift_total{environment=\"dev\"}", 0.0);
        expected.put("mlctl_cloud_requests_total{provider=\"aws\"}", 0.0);
        expected.put("mlctl_cloud_errors_total{provider=\"aws\"}", 0.0);
        assertThat(new TreeMap<>(mlctl(metrics.scrape()))).isEqualTo(expected);
    }

    /** The Reconciler's word for an outcome, and the one label value it moves. */
    static Stream<Arguments> outcomes() {
        return Stream.of(
            Arguments.of("applied", "succeeded"),
            Arguments.of("succeeded", "succeeded"),
            Arguments.of("synced", "no_changes"),
            Arguments.of("no_changes", "no_changes"),
            Arguments.of("failed", "failed"),
            Arguments.of("error", "error"),
            Arguments.of("locked", "locked"),
            Arguments.of("blocked", "blocked"),
            Arguments.of("manual", "manual"),
            Arguments.of("drifted", "drifted"));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("outcomes")
    void outcomesSpeakTheApisWords(String word, String label) {
        metrics.environment("dev", "gcp");
        metrics.reconciled("dev", word, Duration.ofSeconds(2));
        Map<String, Double> moved = mlctl(metrics.scrape()).entrySet().stream()
            .filter(e -> e.getKey().startsWith("mlctl_reconcile_total") && e.getValue() != 0).collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        assertThat(moved).isEqualTo(Map.of("mlctl_reconcile_total{environment=\"dev\",outcome=\"" + label + "\"}", 1.0));
        assertThat(series(metrics.scrape())).containsEntry("mlctl_reconcile_duration_seconds_count{outcome=\"" + label + "\",provider=\"gcp\"}", 1.0);
    }

    @Test
    void wordsOutsideTheVocabularyAreRefused() {
        assertThatThrownBy(() -> metrics.reconciled("dev", "ok", Duration.ZERO)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'ok'");
        assertThatThrownBy(() -> metrics.status("dev", "fine")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> metrics.changed("dev", "move", 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> metrics.commit("maybe")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void reconcileDurationIsAHistogramWithBucketsUpToAnHour() {
        metrics.environment("dev", "aws");
        for (Duration d : List.of(Duration.ofMillis(200), Duration.ofSeconds(3), Duration.ofMinutes(59), Duration.ofHours(2))) {
            metrics.reconciled("dev", "applied", d);
        }
        String scrape = metrics.scrape();
        assertThat(scrape).contains("# TYPE mlctl_reconcile_duration_seconds histogram").doesNotContain("quantile=");
        Map<String, Double> buckets = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : series(scrape).entrySet()) {
            if (e.getKey().startsWith("mlctl_reconcile_duration_seconds_bucket{outcome=\"succeeded\",provider=\"aws\",le=\"")) {
                buckets.put(e.getKey().replaceAll(".*le=\"([^\"]+)\".*", "$1"), e.getValue());
            }
        }
        Map<String, Double> expected = new LinkedHashMap<>();
        double[] counts = {1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 4};
        String[] le = {"0.5", "1.0", "2.5", "5.0", "10.0", "30.0", "60.0", "120.0", "300.0", "600.0", "900.0", "1800.0", "2700.0", "3600.0", "+Inf"};
        for (int i = 0; i < le.length; i++) expected.put(le[i], counts[i]);
        assertThat(buckets).containsExactlyEntriesOf(expected);
        Map<String, Double> all = series(scrape);
        assertThat(all.get("mlctl_reconcile_duration_seconds_count{outcome=\"succeeded\",provider=\"aws\"}")).isEqualTo(4.0);
        assertThat(all.get("mlctl_reconcile_duration_seconds_sum{outcome=\"succeeded\",provider=\"aws\"}")).isEqualTo(0.2 + 3 + 59 * 60 + 7200);
    }

    @Test
    void anEnvironmentNeverIntroducedStillCountsUnderAnUnknownProviderUntilItIs() {
        metrics.reconciled("new", "synced", Duration.ofSeconds(1));
        assertThat(series(metrics.scrape())).containsEntry("mlctl_reconcile_total{environment=\"new\",outcome=\"no_changes\"}", 1.0)
            .containsEntry("mlctl_reconcile_duration_seconds_count{outcome=\"no_changes\",provider=\"unknown\"}", 1.0);
        metrics.environment("new", "azure");
        metrics.reconciled("new", "synced", Duration.ofSeconds(1));
        assertThat(series(metrics.scrape())).containsEntry("mlctl_reconcile_total{environment=\"new\",outcome=\"no_changes\"}", 2.0)
            .containsEntry("mlctl_reconcile_duration_seconds_count{outcome=\"no_changes\",provider=\"azure\"}", 1.0)
            .containsEntry("mlctl_cloud_errors_total{provider=\"azure\"}", 0.0);
    }

    @Test
    void eventsMoveTheirSeries() {
        metrics.environment("dev", "aws");
        metrics.changed("dev", "create", 3);
        metrics.changed("dev", "delete", 0);
        metrics.drift("dev");
        metrics.cloudRequests("aws", 12);
        metrics.cloudError("aws");
        metrics.commit("invalid");
        metrics.commit("valid");
        metrics.commit("valid");
        metrics.fetched(true, Instant.parse("2026-01-01T00:00:01.500Z"));
        metrics.fetched(false, Instant.parse("2026-01-01T00:01:00Z"));
        metrics.fetched(false, Instant.parse("2026-01-01T00:02:00Z"));
        assertThat(mlctl(metrics.scrape()))
            .containsEntry("mlctl_resources_changed_total{action=\"create\",environment=\"dev\"}", 3.0)
            .containsEntry("mlctl_resources_changed_total{action=\"delete\",environment=\"dev\"}", 0.0)
            .containsEntry("mlctl_drift_total{environment=\"dev\"}", 1.0)
            .containsEntry("mlctl_cloud_requests_total{provider=\"aws\"}", 12.0)
            .containsEntry("mlctl_cloud_errors_total{provider=\"aws\"}", 1.0)
            .containsEntry("mlctl_commits_total{validity=\"invalid\"}", 1.0)
            .containsEntry("mlctl_commits_total{validity=\"valid\"}", 2.0)
            .containsEntry("mlctl_git_fetch_failures_total", 2.0)
            // A failed fetch leaves the last success where it was: time() minus it grows.
            .containsEntry("mlctl_git_last_successful_fetch_timestamp_seconds", 1767225601.5);
    }

    @Test
    void eachEnvironmentHasExactlyOneStatusAtATime() {
        metrics.status("dev", "drifted");
        metrics.status("prod", "synced");
        assertThat(statuses(metrics.scrape())).isEqualTo(Map.of("dev", "drifted", "prod", "synced"));
        assertThat(mlctl(metrics.scrape()).keySet().stream().filter(k -> k.startsWith("mlctl_environment_status{environment=\"dev\"")))
            .hasSize(6);
        metrics.status("dev", "synced");
        assertThat(statuses(metrics.scrape())).isEqualTo(Map.of("dev", "synced", "prod", "synced"));
        assertThat(mlctl(metrics.scrape())).doesNotContainKey("mlctl_last_successful_sync_timestamp_seconds{environment=\"dev\"}");
        metrics.synced("dev", 1767225600L);
        assertThat(mlctl(metrics.scrape())).containsEntry("mlctl_last_successful_sync_timestamp_seconds{environment=\"dev\"}", 1767225600.0);
    }

    @Test
    void watchingTheApiTheGaugesSayWhatItSaysAndForgetWhatItDrops() {
        List<EnvironmentStatus> api = new CopyOnWriteArrayList<>();
        api.add(status("dev", "aws", EnvironmentStatus.Status.SYNCED, Optional.of(Instant.parse("2026-01-01T00:00:00Z"))));
        api.add(status("prod", "gcp", EnvironmentStatus.Status.BLOCKED, Optional.empty()));
        metrics.status("dev", "pending");
        metrics.watch(() -> api);
        String scrape = metrics.scrape();
        assertThat(statuses(scrape)).isEqualTo(Map.of("dev", "synced", "prod", "blocked"));
        assertThat(mlctl(scrape)).containsEntry("mlctl_last_successful_sync_timestamp_seconds{environment=\"dev\"}", 1767225600.0)
            .doesNotContainKey("mlctl_last_successful_sync_timestamp_seconds{environment=\"prod\"}")
            // Seen through the API, an environment's counters are registered too.
            .containsEntry("mlctl_reconcile_total{environment=\"prod\",outcome=\"blocked\"}", 0.0)
            .containsEntry("mlctl_cloud_requests_total{provider=\"gcp\"}", 0.0);

        // The Git outage overlay, and another replica taking dev over.
        api.clear();
        api.add(status("prod", "gcp", EnvironmentStatus.Status.ERROR, Optional.empty()));
        scrape = metrics.scrape();
        assertThat(statuses(scrape)).isEqualTo(Map.of("prod", "error"));
        assertThat(scrape).doesNotContain("mlctl_environment_status{environment=\"dev\"")
            .doesNotContain("mlctl_last_successful_sync_timestamp_seconds{environment=\"dev\"}");
        // Counters stay: a rate over them is still right.
        assertThat(mlctl(scrape)).containsKey("mlctl_reconcile_total{environment=\"dev\",outcome=\"succeeded\"}");

        api.add(status("dev", "aws", EnvironmentStatus.Status.DRIFTED, Optional.of(Instant.parse("2026-01-01T00:05:00Z"))));
        scrape = metrics.scrape();
        assertThat(statuses(scrape)).isEqualTo(Map.of("dev", "drifted", "prod", "error"));
        assertThat(mlctl(scrape)).containsEntry("mlctl_last_successful_sync_timestamp_seconds{environment=\"dev\"}", 1767225900.0);
    }

    /** The rules of the text format promtool checks, so that a scrape stays clean without promtool in CI. */
    @Test
    void theExpositionFollowsPrometheusNamingRules() {
        metrics.environment("dev", "aws");
        metrics.reconciled("dev", "applied", Duration.ofSeconds(1));
        metrics.status("dev", "synced");
        metrics.synced("dev", 1);
        metrics.costed(List.of("dev"));
        Map<String, String> types = new HashMap<>();
        Map<String, String> help = new HashMap<>();
        for (String line : metrics.scrape().lines().toList()) {
            if (line.startsWith("# TYPE ")) types.put(line.split(" ")[2], line.split(" ")[3]);
            if (line.startsWith("# HELP ")) help.put(line.split(" ")[2], line.substring(("# HELP " + line.split(" ")[2]).length()).trim());
        }
        types.forEach((family, type) -> {
            if (type.equals("counter")) assertThat(family).as(family).endsWith("_total");
            if (type.equals("gauge")) assertThat(family).as(family).doesNotEndWith("_total").doesNotEndWith("_count").doesNotEndWith("_sum")
                .doesNotEndWith("_bucket");
            assertThat(family).as(family).doesNotContainPattern("_(ns|ms|us|sec|secs|milliseconds|nanoseconds)(_|$)").matches("[a-zA-Z_:][a-zA-Z0-9_:]*");
            if (family.startsWith("mlctl_")) assertThat(help.get(family)).as("help of " + family).isNotBlank();
        });
        for (String s : series(metrics.scrape()).keySet()) {
            String family = name(s).replaceAll("_(bucket|count|sum)$", "");
            assertThat(types).as(s).containsKey(types.containsKey(name(s)) ? name(s) : family);
        }
    }

    /** Prometheus' own linter on a scrape with every kind of series in it (.ci/run installs promtool). */
    @Test
    void promtoolFindsNothingToSayAboutTheScrape() throws Exception {
        metrics.environment("dev", "aws");
        metrics.reconciled("dev", "applied", Duration.ofSeconds(1));
        metrics.reconciled("dev", "blocked", Duration.ofMillis(20));
        metrics.status("dev", "synced");
        metrics.synced("dev", 1);
        metrics.fetched(false, Instant.parse("2026-01-01T00:00:00Z"));
        metrics.commit("invalid");
        metrics.drift("dev");
        metrics.changed("dev", "create", 2);
        metrics.cloudRequests("aws", 3);
        metrics.cloudError("aws");
        metrics.costed(List.of("dev", "prod"));
        metrics.cost("dev", 83.95, 755.55);
        assertPromtoolAccepts(metrics.scrape());
    }

    /** {@code promtool check metrics} exits 0 and says nothing about {@code scrape}. */
    static void assertPromtoolAccepts(String scrape) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            throw new AssertionError("promtool is not installed: apt-get install prometheus (as .ci/run does)", e);
        }
        try (var in = p.getOutputStream()) {
            in.write(scrape.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).as("promtool's findings").isBlank();
    }

    @Test
    void theCostGaugesAreThereForTheEnvironmentsListedFromTheStartAndGoWithThem() {
        metrics.costed(List.of("dev", "prod"));
        metrics.costed(List.of("dev", "prod"));
        Map<String, Double> cost = costs(metrics.scrape());
        assertThat(cost.keySet()).containsExactlyInAnyOrder(COST + "{bound=\"high\",environment=\"dev\"}", COST + "{bound=\"low\",environment=\"dev\"}",
            COST + "{bound=\"high\",environment=\"prod\"}", COST + "{bound=\"low\",environment=\"prod\"}");
        assertThat(cost.values()).as("not priced yet: NaN, never a made-up 0").allMatch(v -> v.isNaN());

        metrics.cost("dev", 83.95, 755.55);
        metrics.cost("elsewhere", 1, 2);
        cost = costs(metrics.scrape());
        assertThat(cost).containsEntry(COST + "{bound=\"low\",environment=\"dev\"}", 83.95).containsEntry(COST + "{bound=\"high\",environment=\"dev\"}", 755.55)
            .hasSize(4);

        // Read from the API's statuses: the last plan's cost after it; an environment not listed gets no series from its status.
        List<EnvironmentStatus> api = new CopyOnWriteArrayList<>();
        api.add(priced("prod", 10, 30));
        api.add(priced("gone", 5, 5));
        metrics.watch(() -> api);
        cost = costs(metrics.scrape());
        assertThat(cost).containsEntry(COST + "{bound=\"low\",environment=\"prod\"}", 30.0).containsEntry(COST + "{bound=\"high\",environment=\"prod\"}", 30.0)
            .containsEntry(COST + "{bound=\"high\",environment=\"dev\"}", 755.55).hasSize(4);

        metrics.costed(List.of("prod"));
        assertThat(costs(metrics.scrape()).keySet()).containsExactlyInAnyOrder(COST + "{bound=\"high\",environment=\"prod\"}",
            COST + "{bound=\"low\",environment=\"prod\"}");
    }

    static final String COST = "mlctl_environment_monthly_cost_usd";

    /** A status whose last plan takes the cost from {@code before} to {@code after} (low = high). */
    private static EnvironmentStatus priced(String name, double before, double after) {
        var b = new io.mlctl.plan.CostEstimate.Amount(before, before, false, List.of());
        var a = new io.mlctl.plan.CostEstimate.Amount(after, after, false, List.of());
        return new EnvironmentStatus(name, "aws", "eu-west-1", "c0ffee", EnvironmentStatus.Status.SYNCED, Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(new EnvironmentStatus.PlanCost(b, a)), List.of());
    }

    private static Map<String, Double> costs(String scrape) {
        Map<String, Double> out = new TreeMap<>();
        series(scrape).forEach((k, v) -> {
            if (k.startsWith(COST + "{")) out.put(k, v);
        });
        return out;
    }

    private static EnvironmentStatus status(String name, String provider, EnvironmentStatus.Status status, Optional<Instant> lastSync) {
        return new EnvironmentStatus(name, provider, "eu-west-1", "c0ffee", status, Optional.<Summary>empty(), Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty(), lastSync);
    }

    /** Environment → the one status whose gauge is 1 (fails when an environment has none or two). */
    private static Map<String, String> statuses(String scrape) {
        Map<String, List<String>> ones = new TreeMap<>();
        for (Map.Entry<String, Double> e : series(scrape).entrySet()) {
            if (!e.getKey().startsWith("mlctl_environment_status{")) continue;
            String env = e.getKey().replaceAll(".*environment=\"([^\"]+)\".*", "$1");
            ones.computeIfAbsent(env, k -> new ArrayList<>());
            if (e.getValue() == 1.0) ones.get(env).add(e.getKey().replaceAll(".*status=\"([^\"]+)\".*", "$1"));
        }
        Map<String, String> out = new TreeMap<>();
        ones.forEach((env, s) -> {
            assertThat(s).as("statuses of " + env).hasSize(1);
            out.put(env, s.get(0));
        });
        return out;
    }

    private static Map<String, Double> mlctl(String scrape) {
        Map<String, Double> out = new TreeMap<>();
        series(scrape).forEach((k, v) -> {
            if (k.startsWith("mlctl_") && !k.startsWith("mlctl_reconcile_duration_seconds")) out.put(k, v);
        });
        return out;
    }

    /** Every sample of a text exposition: series (name and labels as written) → value. */
    static Map<String, Double> series(String scrape) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : scrape.lines().toList()) {
            if (line.isBlank() || line.startsWith("#")) continue;
            int space = line.lastIndexOf(' ');
            String value = line.substring(space + 1);
            out.put(line.substring(0, space), value.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(value));
        }
        return out;
    }

    private static String name(String series) {
        int brace = series.indexOf('{');
        return brace < 0 ? series : series.substring(0, brace);
    }
}
