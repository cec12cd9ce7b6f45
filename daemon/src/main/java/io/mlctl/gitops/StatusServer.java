package io.mlctl.gitops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.mlctl.MlctlException;
import io.mlctl.plan.render.PlanJson;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** Health, readiness, metrics, environment status and published plans on one HTTP port. */
public final class StatusServer implements AutoCloseable {
    public static final String HEALTH = "/healthz";
    public static final String READY = "/readyz";
    public static final String METRICS = "/metrics";
    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private final HttpServer server;
    private final Reconciler reconciler;
    private final DaemonMetrics metrics;
    private final PlanStore plans;
    private final Clock clock;
    private final Duration stallAfter;

    public StatusServer(String listen, Reconciler reconciler, DaemonMetrics metrics, PlanStore plans, Clock clock, Duration interval) {
        this.reconciler = reconciler;
        this.metrics = metrics;
        this.plans = plans;
        this.clock = clock;
        // Live while the loop has passed recently. Reconciles run beside the loop, so an hour-long apply does not hold it up;
        // a pass is a fetch (60 s timeout) and a validation, so three intervals and two minutes mean the loop is stuck.
        this.stallAfter = interval.multipliedBy(3).plus(Duration.ofMinutes(2));
        int colon = listen.lastIndexOf(':');
        if (colon < 0) throw new MlctlException("--listen must be HOST:PORT, got '" + listen + "'");
        try {
            server = HttpServer.create(new InetSocketAddress(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1))), 50);
        } catch (IOException | NumberFormatException e) {
            throw new MlctlException("cannot listen on " + listen + ": " + e.getMessage());
        }
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "mlctl-http");
            t.setDaemon(true);
            return t;
        }));
        server.createContext(HEALTH, ex -> {
            boolean live = reconciler.lastTick().map(t -> t.plus(stallAfter).isAfter(clock.instant())).orElse(true);
            send(ex, live ? 200 : 503, "text/plain", live ? "ok\n" : "reconcile loop stalled\n");
        });
        server.createContext(READY, ex -> {
            if (reconciler.ready()) {
                send(ex, 200, "text/plain", "ready\n");
                return;
            }
            Reconciler.Source src = reconciler.source();
            send(ex, 503, "text/plain", src.failingSince().map(t -> "not ready: the config repository cannot be fetched since " + t + ": "
                + src.error().orElse("") + "\n").orElse("not ready: the config repository has not been fetched yet\n"));
        });
        server.createContext(METRICS, ex -> send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
        server.createContext("/api/environments", ex -> send(ex, 200, "application/json", environments()));
        server.createContext("/api/plans", this::plans);
        server.createContext("/api/status", ex -> send(ex, 200, "application/json", status()));
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public void start() {
        server.start();
    }

    String environments() {
        ArrayNode arr = JSON.createArrayNode();
        for (EnvironmentStatus s : reconciler.statuses()) {
            ObjectNode o = arr.addObject();
            o.put("name", s.name()).put("provider", s.provider()).put("region", s.region()).put("commit", s.commit()).put("status", s.status().id());
            ObjectNode lastPlan = o.putObject("lastPlan");
            s.lastPlanSummary().ifPresentOrElse(sum -> lastPlan.set("summary", PlanJson.summary(sum)), () -> lastPlan.putNull("summary"));
            s.lastPlanTime().ifPresentOrElse(t -> lastPlan.put("time", t.toString()), () -> lastPlan.putNull("time"));
            if (s.lastApplyTime().isPresent()) {
                o.putObject("lastApply").put("time", s.lastApplyTime().get().toString()).put("outcome", s.lastApplyOutcome().orElse(""));
            } else {
                o.putNull("lastApply");
            }
            s.error().ifPresentOrElse(e -> o.put("error", e), () -> o.putNull("error"));
            s.lastSync().ifPresentOrElse(t -> o.put("lastSync", t.toString()), () -> o.putNull("lastSync"));
        }
        return JSON.writeValueAsString(arr) + "\n";
    }

    /** The daemon as a whole: its replica, the live members, and the config repository's health. */
    String status() {
        Reconciler.Source src = reconciler.source();
        ObjectNode o = JSON.createObjectNode();
        o.put("replica", reconciler.membership().replica());
        o.putArray("members").addAll(reconciler.membership().members().stream().map(tools.jackson.databind.node.StringNode::valueOf).toList());
        ObjectNode git = o.putObject("git");
        git.put("repository", src.repository()).put("ok", src.failingSince().isEmpty());
        src.lastFetch().ifPresentOrElse(t -> git.put("lastFetch", t.toString()), () -> git.putNull("lastFetch"));
        src.lastSuccess().ifPresentOrElse(t -> git.put("lastSuccess", t.toString()), () -> git.putNull("lastSuccess"));
        src.failingSince().ifPresentOrElse(t -> git.put("failingSince", t.toString()), () -> git.putNull("failingSince"));
        src.error().ifPresentOrElse(e -> git.put("error", e), () -> git.putNull("error"));
        o.put("ready", reconciler.ready());
        return JSON.writeValueAsString(o) + "\n";
    }

    private void plans(HttpExchange ex) throws IOException {
        String rest = ex.getRequestURI().getPath().substring("/api/plans".length()).replaceAll("^/+", "");
        if (rest.isEmpty()) {
            ArrayNode arr = JSON.createArrayNode();
            for (PlanStore.Entry e : plans.entries()) {
                ObjectNode o = arr.addObject().put("branch", e.branch()).put("environment", e.environment()).put("commit", e.commit())
                    .put("time", e.time().toString());
                o.set("summary", PlanJson.summary(e.summary()));
                o.put("markdown", "/api/plans/" + e.branch() + "/" + e.environment() + ".md");
                o.put("json", "/api/plans/" + e.branch() + "/" + e.environment() + ".json");
            }
            send(ex, 200, "application/json", JSON.writeValueAsString(arr) + "\n");
            return;
        }
        Optional<String> body = rest.contains("..") ? Optional.empty() : plans.read(rest);
        if (body.isEmpty()) {
            send(ex, 404, "text/plain", "no plan at /api/plans/" + rest + "\n");
        } else {
            send(ex, 200, rest.endsWith(".json") ? "application/json" : "text/markdown; charset=utf-8", body.get());
        }
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        try (ex) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", type);
            ex.sendResponseHeaders(status, bytes.length);
            ex.getResponseBody().write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
