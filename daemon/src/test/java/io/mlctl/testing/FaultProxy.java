package io.mlctl.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.mlctl.bench.LatencyProxy;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A small HTTP proxy on loopback in front of an emulator that can answer chosen requests with
 * errors (throttling, 5xx, AccessDenied) a given number of times, or slow every request down.
 */
public final class FaultProxy implements AutoCloseable {
    public record Request(String method, String path, String query, String body, String target) {
        public boolean isAction(String action) {
            return body.contains("Action=" + action + "&") || body.endsWith("Action=" + action) || target.endsWith("." + action);
        }
    }

    public static final class Fault {
        final Predicate<Request> matches;
        final int status;
        final String body;
        final String contentType;
        final AtomicInteger remaining;
        final AtomicInteger served = new AtomicInteger();

        Fault(Predicate<Request> matches, int status, String body, String contentType, int times) {
            this.matches = matches;
            this.status = status;
            this.body = body;
            this.contentType = contentType;
            this.remaining = new AtomicInteger(times);
        }

        public int served() {
            return served.get();
        }
    }

    private final HttpServer server;
    private final URI upstream;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<Fault> faults = new CopyOnWriteArrayList<>();
    private volatile long delayMillis;
    private final List<Drop> drops = new CopyOnWriteArrayList<>();
    private volatile double stormShare;
    private volatile java.util.Random stormRandom = new java.util.Random(1);
    private final AtomicInteger stormServed = new AtomicInteger();
    private volatile int stormRun = Integer.MAX_VALUE;
    /** Refusals in a row of each distinct request (method, path, query, target and body), for the storm's cap. */
    private final java.util.Map<String, Integer> refusedInARow = new java.util.HashMap<>();

    /** Requests forwarded upstream whose answer is then thrown away (the connection is cut). */
    public static final class Drop {
        final Predicate<Request> matches;
        final AtomicInteger remaining;
        final List<Request> dropped = new CopyOnWriteArrayList<>();

        Drop(Predicate<Request> matches, int times) {
            this.matches = matches;
            this.remaining = new AtomicInteger(times);
        }

        public List<Request> dropped() {
            return dropped;
        }
    }

    /**
     * The request goes through to the emulator, the answer never comes back: the connection is
     * closed instead. That is a create that happened while the caller saw only a network error.
     */
    public Drop dropResponse(Predicate<Request> matches, int times) {
        Drop d = new Drop(matches, times);
        drops.add(d);
        return d;
    }

    /** Answers this share of all requests with 503 without forwarding them (a throttling storm). */
    public void storm(double share, long seed) {
        storm(share, seed, Integer.MAX_VALUE);
    }

    /**
     * A storm that refuses the same request at most {@code maxInARow} times in a row, as real throttling
     * lets a backed-off caller through. Requests of parallel steps interleave differently from run to run,
     * so without a cap the outcome of a seed is luck: with it, a client that retries each request
     * {@code maxInARow + 1} times is sure to get through, and one that does not is sure to be caught.
     */
    public void storm(double share, long seed, int maxInARow) {
        synchronized (this) {
            this.stormRandom = new java.util.Random(seed);
            this.stormRun = maxInARow;
            refusedInARow.clear();
        }
        this.stormShare = share;
    }

    public int stormServed() {
        return stormServed.get();
    }

    public FaultProxy(URI upstream) throws IOException {
        this.upstream = upstream;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fault-proxy");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public void delay(long millis) {
        this.delayMillis = millis;
    }

    /** An AWS query-protocol error (IAM, STS) as XML. */
    public Fault failQuery(Predicate<Request> matches, int status, String code, int times) {
        return add(matches, status, "<ErrorResponse><Error><Type>Sender</Type><Code>" + code + "</Code><Message>injected " + code
            + "</Message></Error><RequestId>test</RequestId></ErrorResponse>", "text/xml", times);
    }

    private Fault add(Predicate<Request> matches, int status, String body, String type, int times) {
        Fault f = new Fault(matches, status, body, type, times);
        faults.add(f);
        return f;
    }

    /** Any answer (e.g. a describe call's body reporting a terminal state), {@code times} times, without forwarding. */
    public Fault answer(Predicate<Request> matches, int status, String contentType, String body, int times) {
        return add(matches, status, body, contentType, times);
    }

    /** An EC2 error, which has its own XML shape. */
    public Fault failEc2(Predicate<Request> matches, int status, String code, int times) {
        return add(matches, status, "<Response><Errors><Error><Code>" + code + "</Code><Message>injected " + code
            + "</Message></Error></Errors><RequestID>test</RequestID></Response>", "text/xml", times);
    }

    /** An S3 REST error. */
    public Fault failS3(Predicate<Request> matches, int status, String code, int times) {
        return add(matches, status, "<Error><Code>" + code + "</Code><Message>injected " + code + "</Message></Error>", "application/xml", times);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            String target = String.valueOf(ex.getRequestHeaders().getFirst("X-Amz-Target"));
            Request req = new Request(ex.getRequestMethod(), ex.getRequestURI().getRawPath(),
                String.valueOf(ex.getRequestURI().getRawQuery()), new String(body, StandardCharsets.UTF_8), target);
            if (delayMillis > 0) Thread.sleep(delayMillis);
            boolean stormHit;
            synchronized (this) {
                String key = req.method() + " " + req.path() + "?" + req.query() + " " + req.target() + " " + req.body();
                int inARow = refusedInARow.getOrDefault(key, 0);
                stormHit = stormShare > 0 && stormRandom.nextDouble() < stormShare && inARow < stormRun;
                refusedInARow.put(key, stormHit ? inARow + 1 : 0);
            }
            if (stormHit) {
                stormServed.incrementAndGet();
                reply(ex, 503, "text/xml", "<Error><Code>ServiceUnavailable</Code><Message>injected storm</Message></Error>");
                return;
            }
            for (Fault f : faults) {
                if (f.matches.test(req) && f.remaining.getAndDecrement() > 0) {
                    f.served.incrementAndGet();
                    reply(ex, f.status, f.contentType, f.body);
                    return;
                }
            }
            HttpResponse<byte[]> r = LatencyProxy.send(client, upstream, ex, body);
            for (Drop d : drops) {
                if (d.matches.test(req) && d.remaining.getAndDecrement() > 0) {
                    d.dropped.add(req);
                    // Cut the connection with no answer: the emulator has done the work, the caller never hears of it.
                    throw new IOException("answer dropped on purpose");
                }
            }
            LatencyProxy.relay(ex, r);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void reply(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] out = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", contentType);
        ex.sendResponseHeaders(status, out.length);
        ex.getResponseBody().write(out);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
