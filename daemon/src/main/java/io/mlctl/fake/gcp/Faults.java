package io.mlctl.fake.gcp;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Faults the fakes inject, and what they were asked. A request is named {@code METHOD /path} over
 * REST ({@code POST /compute/v1/projects/p/zones/z/instances}) and {@code grpc Service/Method} over
 * gRPC ({@code grpc google.cloud.aiplatform.v1.EndpointService/CreateEndpoint}); a rule matches the
 * name by regular expression (found anywhere) and fires {@code times} times: either an error answered
 * instead of doing the work, or the work done and the answer dropped (the connection closed without
 * a response, a gRPC call ended UNAVAILABLE) — the lost response a real network can produce.
 */
public final class Faults {
    public enum Kind { ERROR, DROP_RESPONSE }

    public record Rule(Pattern match, Kind kind, GoogleError error, int[] remaining) {
    }

    private final List<Rule> rules = new ArrayList<>();
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
    private final AtomicLong total = new AtomicLong();

    /** Answer {@code error} instead of the next {@code times} matching requests. */
    public synchronized Faults fail(String match, int times, GoogleError error) {
        rules.add(new Rule(Pattern.compile(match), Kind.ERROR, error, new int[] {times}));
        return this;
    }

    /** Do the next {@code times} matching requests, then drop their answers. */
    public synchronized Faults dropResponse(String match, int times) {
        rules.add(new Rule(Pattern.compile(match), Kind.DROP_RESPONSE, null, new int[] {times}));
        return this;
    }

    /** 503 / UNAVAILABLE, as a Google frontend answers when overloaded. */
    public static GoogleError unavailable() {
        return new GoogleError(503, "UNAVAILABLE", "backendError", "The service is currently unavailable.", Map.of());
    }

    /** 429 / RESOURCE_EXHAUSTED: a rate limit (not a quota). */
    public static GoogleError rateLimited() {
        return new GoogleError(429, "RESOURCE_EXHAUSTED", "rateLimitExceeded", "Rate Limit Exceeded", Map.of());
    }

    public synchronized void clear() {
        rules.clear();
    }

    /** The rule that fires for this request, if any (counting it down), and the request counted. */
    synchronized Optional<Rule> on(String request) {
        total.incrementAndGet();
        counts.computeIfAbsent(request, k -> new AtomicLong()).incrementAndGet();
        for (Iterator<Rule> it = rules.iterator(); it.hasNext(); ) {
            Rule r = it.next();
            if (!r.match().matcher(request).find()) continue;
            if (--r.remaining()[0] <= 0) it.remove();
            return Optional.of(r);
        }
        return Optional.empty();
    }

    /** Requests answered (or dropped) so far. */
    public long total() {
        return total.get();
    }

    /** How many requests matched {@code regex}. */
    public long count(String regex) {
        Pattern p = Pattern.compile(regex);
        return counts.entrySet().stream().filter(e -> p.matcher(e.getKey()).find()).mapToLong(e -> e.getValue().get()).sum();
    }

    public synchronized void resetCounts() {
        counts.clear();
        total.set(0);
    }
}
