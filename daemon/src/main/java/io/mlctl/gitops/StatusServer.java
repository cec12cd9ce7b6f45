package io.mlctl.gitops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.mlctl.MlctlException;
import io.mlctl.plan.render.PlanJson;
import io.mlctl.util.Redaction;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Health, readiness, metrics, environment status and published plans on one HTTP port. With an API token,
 * {@code /api/*} (plans carry cloud ids and attributes; a sync applies) needs {@code Authorization: Bearer};
 * health, readiness and metrics stay open for probes and scrapers. Off loopback a token is required.
 */
public final class StatusServer implements AutoCloseable {
    public static final String HEALTH = "/healthz";
    public static final String READY = "/readyz";
    public static final String METRICS = "/metrics";
    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    private static final Pattern SYNC = Pattern.compile("/api/environments/([^/]+)/sync/?");
    private final HttpServer server;
    private final Reconciler reconciler;
    private final DaemonMetrics metrics;
    private final PlanStore plans;
    private final Clock clock;
    private final Duration stallAfter;
    /** SHA-256 of the API token: compared in constant time, and equal in length whatever a client sends. */
    private final Optional<byte[]> tokenDigest;

    /** Without an API token: loopback only. */
    public StatusServer(String listen, Reconciler reconciler, DaemonMetrics metrics, PlanStore plans, Clock clock, Duration interval) {
        this(listen, Optional.empty(), reconciler, metrics, plans, clock, interval);
    }

    public StatusServer(String listen, Optional<String> apiToken, Reconciler reconciler, DaemonMetrics metrics, PlanStore plans, Clock clock,
                        Duration interval) {
        this.reconciler = reconciler;
        this.metrics = metrics;
        this.plans = plans;
        this.clock = clock;
        this.tokenDigest = apiToken.map(StatusServer::sha256);
        // Live while the loop has passed recently. Reconciles run beside the loop, so an hour-long apply does not hold it up;
        // a pass is a fetch (60 s timeout) and a validation, so three intervals and two minutes mean the loop is stuck.
        this.stallAfter = interval.multipliedBy(3).plus(Duration.ofMinutes(2));
        int colon = listen.lastIndexOf(':');
        if (colon < 0) throw new MlctlException("--listen must be HOST:PORT, got '" + listen + "'");
        InetSocketAddress address;
        try {
            address = new InetSocketAddress(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new MlctlException("--listen must be HOST:PORT, got '" + listen + "'");
        }
        if (address.isUnresolved()) throw new MlctlException("cannot listen on " + listen + ": unknown host " + address.getHostString());
        if (apiToken.isEmpty() && !address.getAddress().isLoopbackAddress()) {
            throw new MlctlException("--listen " + listen + " is not a loopback address, so /api/* (plans with cloud ids, syncs) needs a bearer "
                + "token: set --api-token-file or --api-token-env (health, readiness and metrics stay open)");
        }
        try {
            server = HttpServer.create(address, 50);
        } catch (IOException e) {
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
                + Redaction.text(src.error().orElse("")) + "\n").orElse("not ready: the config repository has not been fetched yet\n"));
        });
        server.createContext(METRICS, ex -> send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
        server.createContext("/api/", this::api);
    }

    /**
     * The API token from {@code --api-token-file} or {@code --api-token-env} (the file wins, as for the Git
     * token), if one is configured. Never from a flag's value: it would show in process listings.
     */
    public static Optional<String> apiToken(DaemonConfig config, Map<String, String> env) {
        if (config.apiTokenFile().isPresent()) {
            Path f = config.apiTokenFile().get();
            String token;
            try {
                token = Files.readString(f).trim();
            } catch (IOException e) {
                throw new MlctlException("cannot read the API token file " + f + ": " + e.getMessage());
            }
            if (token.isEmpty()) throw new MlctlException("the API token file " + f + " is empty");
            return Optional.of(token);
        }
        if (config.apiTokenEnv().isPresent()) {
            String var = config.apiTokenEnv().get();
            String v = env.get(var);
            if (v == null || v.isBlank()) throw new MlctlException("environment variable " + var + " (the API token) is not set");
            return Optional.of(v.trim());
        }
        return Optional.empty();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public void start() {
        server.start();
    }

    private void api(HttpExchange ex) throws IOException {
        if (!authorized(ex)) {
            boolean given = ex.getRequestHeaders().containsKey("Authorization");
            ex.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"mlctl\"" + (given ? ", error=\"invalid_token\"" : ""));
            send(ex, 401, "text/plain", (given ? "the bearer token is not the daemon's" : "/api/* needs the header Authorization: Bearer <token>")
                + " (the token the daemon reads from --api-token-file or --api-token-env)\n");
            return;
        }
        String path = ex.getRequestURI().getPath();
        Matcher sync = SYNC.matcher(path);
        if (sync.matches()) {
            sync(ex, sync.group(1));
            return;
        }
        boolean known = path.equals("/api/environments") || path.equals("/api/status") || path.equals("/api/plans") || path.startsWith("/api/plans/");
        if (!known) {
            send(ex, 404, "text/plain", "no such endpoint: " + path + " (GET /api/environments, /api/status, /api/plans; "
                + "POST /api/environments/NAME/sync)\n");
        } else if (!ex.getRequestMethod().equals("GET")) {
            ex.getResponseHeaders().add("Allow", "GET");
            send(ex, 405, "text/plain", ex.getRequestMethod() + " is not allowed on " + path + "; use GET\n");
        } else if (path.equals("/api/environments")) {
            send(ex, 200, "application/json", environments());
        } else if (path.equals("/api/status")) {
            send(ex, 200, "application/json", status());
        } else {
            plans(ex);
        }
    }

    /** A person asks for an environment to be applied now; the next pass of the loop does it. */
    private void sync(HttpExchange ex, String environment) throws IOException {
        if (!ex.getRequestMethod().equals("POST")) {
            ex.getResponseHeaders().add("Allow", "POST");
            send(ex, 405, "text/plain", ex.getRequestMethod() + " is not allowed on " + ex.getRequestURI().getPath() + "; use POST\n");
            return;
        }
        // A browser sends Origin on every cross-site POST: a web page must not make the operator's browser ask for applies.
        if (ex.getRequestHeaders().containsKey("Origin")) {
            send(ex, 403, "text/plain", "requests from web pages (with an Origin header) may not ask for a sync\n");
            return;
        }
        ex.getRequestBody().transferTo(OutputStream.nullOutputStream());
        if (!reconciler.requestSync(environment)) {
            send(ex, 404, "text/plain", "no environment '" + environment + "' here: it is not in the deploy branch's last valid commit, "
                + "or another replica owns it\n");
            return;
        }
        ObjectNode o = JSON.createObjectNode().put("environment", environment).put("sync", "requested");
        send(ex, 202, "application/json", JSON.writeValueAsString(o) + "\n");
    }

    private boolean authorized(HttpExchange ex) {
        if (tokenDigest.isEmpty()) return true;
        String header = ex.getRequestHeaders().getFirst("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) return false;
        return MessageDigest.isEqual(tokenDigest.get(), sha256(header.substring(7).trim()));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    String environments() {
        ArrayNode arr = JSON.createArrayNode();
        for (EnvironmentStatus s : reconciler.statuses()) {
            ObjectNode o = arr.addObject();
            o.put("name", s.name()).put("provider", s.provider()).put("region", s.region()).put("commit", s.commit()).put("status", s.status().id());
            ObjectNode lastPlan = o.putObject("lastPlan");
            s.lastPlanSummary().ifPresentOrElse(sum -> lastPlan.set("summary", PlanJson.summary(sum)), () -> lastPlan.putNull("summary"));
            s.lastPlanTime().ifPresentOrElse(t -> lastPlan.put("time", t.toString()), () -> lastPlan.putNull("time"));
            // The monthly cost the plan leaves the environment at, and what the plan changes in it (USD; null when not priced).
            s.lastPlanCost().ifPresentOrElse(c -> {
                lastPlan.putObject("cost").put("low", c.after().low()).put("high", c.after().high()).put("usageBased", c.after().usageBased());
                lastPlan.putObject("costDelta").put("low", c.deltaLow()).put("high", c.deltaHigh());
            }, () -> lastPlan.putNull("cost").putNull("costDelta"));
            lastPlan.set("policies", policies(s.lastPlanPolicies()));
            if (s.lastApplyTime().isPresent()) {
                o.putObject("lastApply").put("time", s.lastApplyTime().get().toString()).put("outcome", s.lastApplyOutcome().orElse(""));
            } else {
                o.putNull("lastApply");
            }
            s.error().ifPresentOrElse(e -> o.put("error", Redaction.text(e)), () -> o.putNull("error"));
            s.lastSync().ifPresentOrElse(t -> o.put("lastSync", t.toString()), () -> o.putNull("lastSync"));
        }
        return JSON.writeValueAsString(arr) + "\n";
    }

    /** The policies a plan breaks, as the plan's JSON writes them. */
    static ArrayNode policies(java.util.List<io.mlctl.plan.PolicyResult> results) {
        ArrayNode arr = JSON.createArrayNode();
        for (io.mlctl.plan.PolicyResult r : results) {
            ObjectNode o = arr.addObject().put("policy", r.policy()).put("enforcement", r.enforcement());
            r.address().ifPresentOrElse(a -> o.put("address", a.toString()), () -> o.putNull("address"));
            o.put("message", r.message());
            r.at().ifPresentOrElse(at -> o.put("at", at), () -> o.putNull("at"));
            // As the cloud holds it now (drift breaking a policy): reported even where nothing is corrected.
            o.put("live", r.live());
        }
        return arr;
    }

    /** The daemon as a whole: its replica, the live members, and the config repository's health. */
    String status() {
        Reconciler.Source src = reconciler.source();
        ObjectNode o = JSON.createObjectNode();
        o.put("replica", reconciler.membership().replica());
        o.putArray("members").addAll(reconciler.membership().members().stream().map(tools.jackson.databind.node.StringNode::valueOf).toList());
        ObjectNode git = o.putObject("git");
        git.put("repository", Redaction.text(src.repository())).put("ok", src.failingSince().isEmpty());
        src.lastFetch().ifPresentOrElse(t -> git.put("lastFetch", t.toString()), () -> git.putNull("lastFetch"));
        src.lastSuccess().ifPresentOrElse(t -> git.put("lastSuccess", t.toString()), () -> git.putNull("lastSuccess"));
        src.failingSince().ifPresentOrElse(t -> git.put("failingSince", t.toString()), () -> git.putNull("failingSince"));
        src.error().ifPresentOrElse(e -> git.put("error", Redaction.text(e)), () -> git.putNull("error"));
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
        // Only plans this daemon made: files an earlier run left on disk may be of a branch since deleted, or of a
        // pull request planned before --plan-pull-requests was turned off.
        boolean current = plans.entries().stream().anyMatch(e -> rest.equals(e.branch() + "/" + e.environment() + ".md")
            || rest.equals(e.branch() + "/" + e.environment() + ".json"));
        Optional<String> body = rest.contains("..") || !current ? Optional.empty() : plans.read(rest);
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
