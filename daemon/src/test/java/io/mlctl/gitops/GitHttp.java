package io.mlctl.gitops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.Ref;

/**
 * A Git remote over HTTP on 127.0.0.1, as a forge serves it to a client that cannot speak the smart protocol:
 * Git's "dumb" HTTP protocol, file by file out of a bare repository. It can demand credentials (HTTP Basic, as
 * forges take a token) and can be switched to answer every request with an error, as a revoked token or a
 * broken forge does. Every request line it saw is kept, so tests can look for secrets in them.
 */
final class GitHttp implements AutoCloseable {
    private final HttpServer server;
    private final Path bare;
    private volatile int failWith;
    private volatile Optional<String> basic = Optional.empty();
    private volatile Optional<String> query = Optional.empty();
    final List<String> requests = new CopyOnWriteArrayList<>();

    GitHttp(Path bare) throws IOException {
        this.bare = bare;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 20);
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

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            requests.add(ex.getRequestMethod() + " " + ex.getRequestURI());
            if (failWith != 0) {
                reply(ex, failWith, failWith == 401 ? "Basic realm=\"forge\"" : null, "no\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            boolean queryOk = query.isEmpty() || String.valueOf(ex.getRequestURI().getRawQuery()).contains(query.get());
            if (!queryOk || basic.isPresent() && !basic.get().equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                reply(ex, 401, "Basic realm=\"forge\"", "credentials required\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            String path = ex.getRequestURI().getPath();
            if (!path.startsWith("/repo.git/")) {
                reply(ex, 404, null, new byte[0]);
                return;
            }
            String rel = path.substring("/repo.git/".length());
            if (rel.equals("info/refs")) {
                reply(ex, 200, null, infoRefs().getBytes(StandardCharsets.UTF_8));
            } else if (rel.equals("objects/info/packs")) {
                reply(ex, 200, null, packs().getBytes(StandardCharsets.UTF_8));
            } else {
                Path f = bare.resolve(rel).normalize();
                if (!f.startsWith(bare) || !Files.isRegularFile(f)) {
                    reply(ex, 404, null, new byte[0]);
                } else {
                    reply(ex, 200, null, Files.readAllBytes(f));
                }
            }
        }
    }

    /** What {@code git update-server-info} would write: each ref and its object. */
    private String infoRefs() throws IOException {
        StringBuilder b = new StringBuilder();
        try (Git g = Git.open(bare.toFile())) {
            for (Ref r : g.getRepository().getRefDatabase().getRefsByPrefix("refs/")) b.append(r.getObjectId().name()).append('\t').append(r.getName()).append('\n');
        }
        return b.toString();
    }

    private String packs() throws IOException {
        Path dir = bare.resolve("objects/pack");
        if (!Files.isDirectory(dir)) return "\n";
        StringBuilder b = new StringBuilder();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".pack")).sorted().forEach(n -> b.append("P ").append(n).append('\n'));
        }
        return b.append('\n').toString();
    }

    private static void reply(HttpExchange ex, int status, String challenge, byte[] body) throws IOException {
        if (challenge != null) ex.getResponseHeaders().add("WWW-Authenticate", challenge);
        ex.getResponseHeaders().add("Content-Type", "application/octet-stream");
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) ex.getResponseBody().write(body);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
