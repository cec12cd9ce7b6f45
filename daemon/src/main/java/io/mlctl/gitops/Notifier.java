package io.mlctl.gitops;

import io.mlctl.util.Redaction;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;

/**
 * Posts events (plan, apply, drift, error) as JSON to the {@code --notify} webhook, in the background,
 * retrying a failed delivery with backoff. A webhook that stays down never stalls reconciliation.
 * Every string of an event goes through {@link Redaction} on its way out: an event quotes errors, and
 * an error may quote a URL with a token in it (chat channels keep webhooks forever).
 */
public final class Notifier implements AutoCloseable {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private final Optional<URI> target;
    private final DaemonLog log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "mlctl-notify");
        t.setDaemon(true);
        return t;
    });
    private final int attempts;
    private final Duration backoff;

    public Notifier(Optional<URI> target, DaemonLog log, int attempts, Duration backoff) {
        this.target = target;
        this.log = log;
        this.attempts = attempts;
        this.backoff = backoff;
    }

    public ObjectNode event(String type) {
        return JSON.createObjectNode().put("event", type);
    }

    public void send(ObjectNode event) {
        if (target.isEmpty()) return;
        String body = JSON.writeValueAsString(redacted(event.deepCopy()));
        sender.execute(() -> {
            for (int i = 1; i <= attempts; i++) {
                try {
                    HttpResponse<Void> r = http.send(HttpRequest.newBuilder(target.get()).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.discarding());
                    if (r.statusCode() < 300) return;
                    log.warn("webhook answered " + r.statusCode(), "attempt", i);
                } catch (java.io.IOException e) {
                    log.warn("webhook unreachable: " + Redaction.text(String.valueOf(e.getMessage())), "attempt", i);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                try {
                    Thread.sleep(backoff.toMillis() << (i - 1));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            log.error("webhook delivery failed, event dropped", "event", event.path("event").asString());
        });
    }

    /** {@code node} with every string value (at any depth) redacted in place. */
    static JsonNode redacted(JsonNode node) {
        if (node instanceof ObjectNode o) {
            for (String name : List.copyOf(o.propertyNames())) {
                JsonNode v = o.get(name);
                if (v.isString()) {
                    o.put(name, Redaction.text(v.asString()));
                } else {
                    redacted(v);
                }
            }
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                if (a.get(i).isString()) {
                    a.set(i, StringNode.valueOf(Redaction.text(a.get(i).asString())));
                } else {
                    redacted(a.get(i));
                }
            }
        }
        return node;
    }

    @Override
    public void close() {
        sender.shutdown();
        try {
            sender.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
