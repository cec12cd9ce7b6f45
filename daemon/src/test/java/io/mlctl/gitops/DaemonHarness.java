package io.mlctl.gitops;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.ConfigLoader;
import io.mlctl.spec.YamlLoader;
import io.mlctl.testing.MutableClock;
import io.mlctl.testing.Specs;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * One daemon in the test's JVM, as {@code mlctl daemon} wires it: a Reconciler on a real Git repository and the
 * sandbox cloud, with a hand-moved clock, its log in memory, a webhook receiver and its status server on
 * 127.0.0.1, spoken to over real HTTP. {@link #start} again to restart it on the same state directory.
 */
final class DaemonHarness implements AutoCloseable {
    static final JsonMapper JSON = JsonMapper.builder().build();
    /** The catalog and the prices the jar ships, as {@code mlctl daemon} judges and prices plans without refreshed prices. */
    static final Reconciler.Assessment ASSESSMENT = new Reconciler.Assessment(Specs.CATALOG, io.mlctl.cost.PriceCatalog.shipped());
    final Path dir;
    final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    final StringWriter logs = new StringWriter();
    final SandboxCloud sandbox;
    final List<String> events = new CopyOnWriteArrayList<>();
    private final HttpServer hook;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final AtomicInteger barriers = new AtomicInteger();
    DaemonMetrics metrics;
    GitSource source;
    Notifier notifier;
    PlanStore plans;
    Reconciler reconciler;
    StatusServer server;

    DaemonHarness(Path dir) throws IOException {
        this.dir = dir;
        sandbox = new SandboxCloud(dir.resolve("sandbox"), Specs.CATALOG, clock);
        hook = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
        hook.createContext("/", ex -> {
            events.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        hook.start();
    }

    /** A small environment the daemon applies by itself. */
    static String autoEnv(String name) {
        return io.mlctl.testing.Fixtures.smallEnv(name).replace("  provider: aws\n", "  provider: aws\n  apply: auto\n");
    }

    Path stateDir() {
        return dir.resolve("state");
    }

    String hookUrl() {
        return "http://127.0.0.1:" + hook.getAddress().getPort() + "/hook";
    }

    /** The daemon's settings for a repository, as a test would pass them on the command line. */
    DaemonConfig.Builder config(String repo) {
        return DaemonConfig.builder(repo, stateDir()).interval(Duration.ofSeconds(2)).listen("127.0.0.1:0").sandbox(true)
            .webhook(Optional.of(URI.create(hookUrl()))).logFormat("json");
    }

    Reconciler start(DaemonConfig.Builder builder) {
        return start(builder, Optional.empty());
    }

    /** Starts (or restarts, on the same state directory) the daemon with these settings and this API token. */
    Reconciler start(DaemonConfig.Builder builder, Optional<String> apiToken) {
        stop();
        DaemonConfig config = builder.build();
        DaemonLog log = new DaemonLog(new PrintWriter(logs, true), true, clock);
        metrics = new DaemonMetrics();
        source = new GitSource(config.repo(), stateDir().resolve(".daemon/repo.git"), GitCredentials.none());
        notifier = new Notifier(config.webhook(), log, 3, Duration.ofMillis(10));
        plans = new PlanStore(stateDir().resolve(".daemon"));
        reconciler = new Reconciler(config, source, d -> new ConfigLoader(new YamlLoader(), Specs.SCHEMA, Specs.CATALOG, d).load(List.of(d)),
            e -> sandbox, clock, log, notifier, metrics, plans, ASSESSMENT);
        server = new StatusServer(config.listen(), apiToken, reconciler, metrics, plans, clock, config.interval());
        server.start();
        return reconciler;
    }

    record Response(int status, String body, java.net.http.HttpHeaders headers) {
        JsonNode json() {
            return JSON.readTree(body);
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    Response get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    Response get(String path, String bearer) {
        return send(HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer " + bearer).GET());
    }

    Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> r = http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            return new Response(r.statusCode(), r.body(), r.headers());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    /** A sample's value on /metrics (scraped over HTTP), or empty when the series is not there. */
    Optional<Double> metric(String series) {
        return get(StatusServer.METRICS).body().lines().filter(l -> l.startsWith(series + " ")).findFirst()
            .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim()));
    }

    /**
     * Waits until the webhook has received everything sent so far: the notifier delivers in order on one
     * thread, so once a marker sent now has arrived, so has every event before it.
     */
    void flushEvents() throws InterruptedException {
        String marker = "barrier-" + barriers.incrementAndGet();
        notifier.send(notifier.event(marker));
        await(Duration.ofSeconds(10), () -> events.stream().anyMatch(e -> e.contains("\"event\":\"" + marker + "\"")));
    }

    /** Received webhook events of one type (markers aside), parsed. */
    List<JsonNode> events(String type) {
        return events.stream().map(JSON::readTree).filter(e -> e.path("event").asString().equals(type)).toList();
    }

    static void await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) break;
            Thread.sleep(20);
        }
        assertThat(condition.getAsBoolean()).as("condition within " + timeout).isTrue();
    }

    private void stop() {
        if (server != null) server.close();
        if (reconciler != null) reconciler.close();
        if (notifier != null) notifier.close();
        if (source != null) source.close();
    }

    @Override
    public void close() {
        stop();
        hook.stop(0);
    }
}
