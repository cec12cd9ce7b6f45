package io.mlctl.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Executors;

/**
 * A loopback proxy that holds every request for a fixed time before forwarding it: a cloud API's
 * round trip in front of an emulator that answers in a few milliseconds of its own CPU. Benchmarks
 * only (docs/benchmarks.md): with it, what overlapping requests saves shows as it would on a cloud.
 *
 * <p>{@code java -cp daemon/target/mlctl.jar io.mlctl.bench.LatencyProxy PORT UPSTREAM-URL MILLIS}
 */
public final class LatencyProxy {
    private static final Set<String> HOP = Set.of("host", "content-length", "connection", "expect", "transfer-encoding", "upgrade");

    private LatencyProxy() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: LatencyProxy PORT UPSTREAM-URL MILLIS");
            System.exit(1);
        }
        int port = Integer.parseInt(args[0]);
        URI upstream = URI.create(args[1]);
        long millis = Long.parseLong(args[2]);
        // Headers and body leave in separate writes: without this, delayed ACKs add ~40 ms a request on loopback.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 256);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", ex -> forward(ex, client, upstream, millis));
        server.start();
        System.out.println("latency proxy on 127.0.0.1:" + port + " -> " + upstream + ", +" + millis + " ms a request");
    }

    private static void forward(HttpExchange ex, HttpClient client, URI upstream, long millis) throws IOException {
        try (ex) {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            Thread.sleep(millis);
            relay(ex, send(client, upstream, ex, body));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends the request {@code ex} carries (with {@code body}, already read) to {@code upstream}, headers but hop-by-hop ones. */
    public static HttpResponse<byte[]> send(HttpClient client, URI upstream, HttpExchange ex, byte[] body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(upstream.resolve(ex.getRequestURI().toString())).timeout(Duration.ofSeconds(120))
            .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        ex.getRequestHeaders().forEach((k, vs) -> {
            if (!HOP.contains(k.toLowerCase())) vs.forEach(v -> b.header(k, v));
        });
        return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** Answers {@code ex} with the upstream's response. */
    public static void relay(HttpExchange ex, HttpResponse<byte[]> r) throws IOException {
        r.headers().map().forEach((k, vs) -> {
            if (!HOP.contains(k.toLowerCase()) && !k.startsWith(":")) vs.forEach(v -> ex.getResponseHeaders().add(k, v));
        });
        byte[] out = r.body();
        boolean head = "HEAD".equals(ex.getRequestMethod());
        ex.sendResponseHeaders(r.statusCode(), head || out.length == 0 ? -1 : out.length);
        if (!head && out.length > 0) ex.getResponseBody().write(out);
    }
}
