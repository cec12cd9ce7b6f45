package io.mlctl.gitops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A Git remote over HTTP on 127.0.0.1 that speaks Git's smart HTTP protocol, as forges do: every request is handed to
 * the real {@code git http-backend} as a CGI program, so what a client gets is what {@code git} itself serves
 * (ref advertisement, {@code git-upload-pack} negotiation, packs). In front of it, what a forge adds: it can demand
 * credentials (HTTP Basic, as forges take a token) and can be switched to answer every request with an error, as a
 * revoked token or a broken forge does, and back. Every request line it saw is kept, so tests can look for secrets in
 * them and see which protocol the client spoke.
 */
final class GitHttp implements AutoCloseable {
    static final Path BACKEND = Path.of("/usr/lib/git-core/git-http-backend");
    /** A request the backend takes longer than this for is answered 504 (and the backend killed): no test hangs on it. */
    private static final long CGI_TIMEOUT_SECONDS = 60;

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "git-http");
        t.setDaemon(true);
        return t;
    });
    private final Path bare;
    private volatile int failWith;
    private volatile Optional<String> basic = Optional.empty();
    private volatile Optional<String> query = Optional.empty();
    final List<String> requests = new CopyOnWriteArrayList<>();
    /** What the backend wrote to stderr (progress, and errors when there are any), and requests it failed to answer: for failure messages. */
    final List<String> backendStderr = new CopyOnWriteArrayList<>();

    GitHttp(Path bare) throws IOException {
        if (!Files.isExecutable(BACKEND)) throw new IllegalStateException(BACKEND + " is not installed (it comes with git)");
        this.bare = bare.toAbsolutePath().normalize();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 20);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    /** The repository's URL, with {@code userinfo} (already encoded) and {@code query} when given. */
    String url(String userinfo, String query) {
        return "http://" + (userinfo.isEmpty() ? "" : userinfo + "@") + "127.0.0.1:" + server.getAddress().getPort() + "/repo.git"
            + (query.isEmpty() ? "" : "?" + query);
    }

    String url() {
        return url("", "");
    }

    /** Every request answers with this status (401, 500, …); 0 serves the repository again. */
    void failWith(int status) {
        failWith = status;
    }

    /** Requests must carry these Basic credentials. */
    void requireBasic(String user, String password) {
        basic = Optional.of("Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
    }

    /** Requests must carry this query parameter ({@code access_token=…}, as some forges take a token). */
    void requireQuery(String parameter) {
        query = Optional.of(parameter);
    }

    /**
     * Whether a client fetched over the smart protocol: it asked for the upload-pack ref advertisement and then posted
     * its negotiation to {@code git-upload-pack} (a client of the dumb protocol does neither).
     */
    boolean servedSmartFetch() {
        return requests.contains("GET /repo.git/info/refs?service=git-upload-pack") && requests.contains("POST /repo.git/git-upload-pack");
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            requests.add(ex.getRequestMethod() + " " + ex.getRequestURI());
            int fail = failWith;
            if (fail != 0) {
                ex.getRequestBody().transferTo(OutputStream.nullOutputStream());
                reply(ex, fail, fail == 401 ? "Basic realm=\"forge\"" : null, "no\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            String authorization = ex.getRequestHeaders().getFirst("Authorization");
            boolean queryOk = query.isEmpty() || String.valueOf(ex.getRequestURI().getRawQuery()).contains(query.get());
            if (!queryOk || basic.isPresent() && !basic.get().equals(authorization)) {
                ex.getRequestBody().transferTo(OutputStream.nullOutputStream());
                reply(ex, 401, "Basic realm=\"forge\"", "credentials required\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            String path = ex.getRequestURI().getPath();
            if (!path.equals("/repo.git") && !path.startsWith("/repo.git/")) {
                reply(ex, 404, null, new byte[0]);
                return;
            }
            cgi(ex, path.substring("/repo.git".length()), basic.isPresent() ? user(authorization) : Optional.empty());
        }
    }

    /** Runs {@code git http-backend} for this request (RFC 3875): the request body on its stdin, its CGI response back. */
    private void cgi(HttpExchange ex, String rest, Optional<String> remoteUser) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(BACKEND.toString());
        Map<String, String> env = pb.environment();
        String inheritedPath = env.getOrDefault("PATH", "/usr/bin:/bin");
        env.clear();
        env.put("PATH", inheritedPath);
        // Nothing from the user's or the machine's git configuration.
        env.put("GIT_CONFIG_NOSYSTEM", "1");
        env.put("GIT_CONFIG_GLOBAL", "/dev/null");
        env.put("GATEWAY_INTERFACE", "CGI/1.1");
        env.put("SERVER_PROTOCOL", ex.getProtocol());
        env.put("SERVER_NAME", "127.0.0.1");
        env.put("SERVER_PORT", String.valueOf(server.getAddress().getPort()));
        env.put("REMOTE_ADDR", ex.getRemoteAddress().getAddress().getHostAddress());
        env.put("GIT_PROJECT_ROOT", bare.getParent().toString());
        env.put("GIT_HTTP_EXPORT_ALL", "1");
        // The URL says /repo.git whatever the bare repository's directory is called.
        env.put("PATH_INFO", "/" + bare.getFileName() + rest);
        env.put("REQUEST_METHOD", ex.getRequestMethod());
        env.put("QUERY_STRING", Optional.ofNullable(ex.getRequestURI().getRawQuery()).orElse(""));
        Optional.ofNullable(ex.getRequestHeaders().getFirst("Content-Type")).ifPresent(v -> env.put("CONTENT_TYPE", v));
        // A chunked body has no length: the backend then reads its stdin to the end, which is the body.
        Optional.ofNullable(ex.getRequestHeaders().getFirst("Content-Length")).ifPresent(v -> env.put("CONTENT_LENGTH", v));
        // JGit gzips large negotiation requests: the backend inflates them itself when told so.
        Optional.ofNullable(ex.getRequestHeaders().getFirst("Content-Encoding")).ifPresent(v -> env.put("HTTP_CONTENT_ENCODING", v));
        Optional.ofNullable(ex.getRequestHeaders().getFirst("Git-Protocol")).ifPresent(v -> env.put("HTTP_GIT_PROTOCOL", v));
        remoteUser.ifPresent(u -> {
            env.put("AUTH_TYPE", "Basic");
            env.put("REMOTE_USER", u);
        });
        Process p = pb.start();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        var feeding = executor.submit(() -> {
            try (InputStream body = ex.getRequestBody(); OutputStream stdin = p.getOutputStream()) {
                body.transferTo(stdin);
            }
            return null;
        });
        var draining = executor.submit(() -> {
            try (InputStream err = p.getErrorStream()) {
                err.transferTo(stderr);
            }
            return null;
        });
        try (InputStream out = p.getInputStream()) {
            int status = 200;
            Map<String, List<String>> headers = new java.util.LinkedHashMap<>();
            for (String line = headerLine(out); line != null && !line.isEmpty(); line = headerLine(out)) {
                int colon = line.indexOf(':');
                if (colon <= 0) throw new IOException("not a CGI header line from " + BACKEND + ": " + line);
                String name = line.substring(0, colon).trim();
                String value = line.substring(colon + 1).trim();
                if (name.equalsIgnoreCase("Status")) {
                    status = Integer.parseInt(value.split(" ", 2)[0]);
                } else {
                    headers.computeIfAbsent(name, k -> new java.util.ArrayList<>()).add(value);
                }
            }
            headers.forEach((k, v) -> ex.getResponseHeaders().put(k, v));
            boolean noBody = ex.getRequestMethod().equals("HEAD") || status == 204 || status == 304;
            ex.sendResponseHeaders(status, noBody ? -1 : 0);
            if (!noBody) {
                try (OutputStream body = ex.getResponseBody()) {
                    out.transferTo(body);
                }
            }
        } finally {
            try {
                if (!p.waitFor(CGI_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    backendStderr.add("timed out: " + ex.getRequestURI());
                }
                feeding.get(CGI_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                draining.get(CGI_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                p.destroyForcibly();
                backendStderr.add(ex.getRequestURI() + ": " + e);
            }
            if (stderr.size() > 0) backendStderr.add(ex.getRequestURI() + ": " + stderr.toString(StandardCharsets.UTF_8));
        }
    }

    /** One header line of a CGI response, without its line end (LF or CRLF); null at the end of the stream. */
    private static String headerLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
            line.write(c);
        }
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    /** The user name of Basic credentials, as CGI's REMOTE_USER. */
    private static Optional<String> user(String authorization) {
        if (authorization == null || !authorization.toLowerCase(Locale.ROOT).startsWith("basic ")) return Optional.empty();
        String pair = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        int colon = pair.indexOf(':');
        return Optional.of(colon < 0 ? pair : pair.substring(0, colon));
    }

    private static void reply(HttpExchange ex, int status, String challenge, byte[] body) throws IOException {
        if (challenge != null) ex.getResponseHeaders().add("WWW-Authenticate", challenge);
        ex.getResponseHeaders().add("Content-Type", "text/plain");
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) ex.getResponseBody().write(body);
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
