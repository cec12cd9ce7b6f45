package io.mlctl.fake.gcp;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The REST side of the fakes: one loopback HTTP server, routes by method and path pattern, Google's
 * error shape, and {@link Faults}. A path no route knows is a 404 in Google's shape, so a driver
 * calling an API the fakes do not model fails loudly.
 */
public final class FakeHttp implements AutoCloseable {
    /** One request: path groups from the route's pattern, the query, and the body. */
    public record Request(String method, String path, Map<String, String> query, String body, List<String> groups) {
        public String group(int i) {
            return groups.get(i - 1);
        }

        /** Whether the client asked for enums as numbers ({@code $alt=json;enum-encoding=int}), as gax's REST transport does. */
        public boolean enumsAsInts() {
            return query.getOrDefault("$alt", "").contains("enum-encoding=int");
        }
    }

    /** An answer: status and JSON body. */
    public record Response(int status, String body) {
        public static Response ok(String json) {
            return new Response(200, json);
        }

        public static Response empty() {
            return new Response(200, "{}");
        }

        public static Response noContent() {
            return new Response(204, "");
        }
    }

    @FunctionalInterface
    public interface Handler {
        Response handle(Request request);
    }

    private record Route(String method, Pattern path, Handler handler) {
    }

    private final List<Route> routes = new ArrayList<>();
    private final Faults faults;
    private final HttpServer server;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "gcp-fake-http");
        t.setDaemon(true);
        return t;
    });

    public FakeHttp(int port, Faults faults) throws IOException {
        this.faults = faults;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 128);
        server.setExecutor(pool);
        server.createContext("/", this::serve);
    }

    public void start() {
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Adds a route; {@code pathRegex} must match the whole raw path (query excluded). */
    public synchronized FakeHttp route(String method, String pathRegex, Handler handler) {
        routes.add(new Route(method, Pattern.compile(pathRegex), handler));
        return this;
    }

    private void serve(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            String path = ex.getRequestURI().getRawPath();
            byte[] raw = ex.getRequestBody().readAllBytes();
            // The Storage client gzips request bodies (Content-Encoding: gzip), as Google's frontends accept.
            if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
                raw = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(raw)).readAllBytes();
            }
            String body = new String(raw, StandardCharsets.UTF_8);
            Map<String, String> query = query(ex.getRequestURI().getRawQuery());
            // gax sends PATCH as POST with an override header.
            String override = ex.getRequestHeaders().getFirst("X-HTTP-Method-Override");
            if (override != null) method = override;
            Optional<Faults.Rule> fault = path.startsWith("/_fake/") ? Optional.empty() : faults.on(method + " " + path);
            if (fault.isPresent() && fault.get().kind() == Faults.Kind.ERROR) {
                send(ex, fault.get().error().httpStatus(), fault.get().error().json());
                return;
            }
            Response r;
            try {
                r = dispatch(method, path, query, body);
            } catch (GoogleError e) {
                r = new Response(e.httpStatus(), e.json());
            } catch (RuntimeException e) {
                r = new Response(500, new GoogleError(500, "INTERNAL", "backendError", "fake: " + e, Map.of()).json());
            }
            if (fault.isPresent() && fault.get().kind() == Faults.Kind.DROP_RESPONSE) {
                return; // the work is done; closing without a response line drops the connection, and the answer with it
            }
            send(ex, r.status(), r.body());
        }
    }

    private Response dispatch(String method, String path, Map<String, String> query, String body) {
        List<Route> snapshot;
        synchronized (this) {
            snapshot = List.copyOf(routes);
        }
        boolean pathKnown = false;
        for (Route route : snapshot) {
            Matcher m = route.path().matcher(path);
            if (!m.matches()) continue;
            pathKnown = true;
            if (!route.method().equals(method)) continue;
            List<String> groups = new ArrayList<>();
            for (int i = 1; i <= m.groupCount(); i++) groups.add(m.group(i) == null ? null : URLDecoder.decode(m.group(i), StandardCharsets.UTF_8));
            return route.handler().handle(new Request(method, path, query, body, groups));
        }
        if (pathKnown) throw new GoogleError(405, "INVALID_ARGUMENT", "methodNotAllowed", method + " is not allowed on " + path, Map.of());
        throw new GoogleError(404, "NOT_FOUND", "notFound", "fake: no API at " + method + " " + path, Map.of());
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) return out;
        for (String part : raw.split("&")) {
            int eq = part.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
            out.merge(k, v, (a, b) -> a + "," + b);
        }
        return out;
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=UTF-8");
        if (status == 204 || bytes.length == 0) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
