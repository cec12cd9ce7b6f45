package io.mlctl.fake.azure;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Faults the fake injects, and what it was asked. A request is named {@code METHOD /path} (query
 * left out, e.g. {@code PUT /subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v});
 * a rule matches by regular expression (found anywhere) and fires {@code times} times: an error
 * answered instead of doing the work (429 carries {@code Retry-After}), the work done and the answer
 * dropped (the connection closed without a response), or the work accepted and its long-running
 * operation ending {@code Failed}.
 */
public final class ArmFaults {
    public enum Kind { ERROR, DROP_RESPONSE, FAIL_OPERATION }

    public record Rule(Pattern match, Kind kind, ArmError error, int retryAfterSeconds, int[] remaining) {
    }

    private final List<Rule> rules = new ArrayList<>();
    private final List<Hook> hooks = new ArrayList<>();

    private record Hook(Pattern match, Runnable action, int[] remaining) {
    }
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
    private final List<String> log = new ArrayList<>();
    private final AtomicLong total = new AtomicLong();

    /** Answer {@code error} instead of the next {@code times} matching requests. */
    public synchronized ArmFaults fail(String match, int times, ArmError error) {
        rules.add(new Rule(Pattern.compile(match), Kind.ERROR, error, 0, new int[] {times}));
        return this;
    }

    /** 429 TooManyRequests with {@code Retry-After: seconds}, {@code times} times. */
    public synchronized ArmFaults throttle(String match, int times, int seconds) {
        rules.add(new Rule(Pattern.compile(match), Kind.ERROR, new ArmError(429, "TooManyRequests",
            "The request is being throttled as the limit has been reached for operation type - Write."), seconds, new int[] {times}));
        return this;
    }

    /** Do the next {@code times} matching requests, then drop their answers. */
    public synchronized ArmFaults dropResponse(String match, int times) {
        rules.add(new Rule(Pattern.compile(match), Kind.DROP_RESPONSE, null, 0, new int[] {times}));
        return this;
    }

    /** Accept the next {@code times} matching writes, and end their operations {@code Failed} with {@code error}. */
    public synchronized ArmFaults failOperation(String match, int times, ArmError error) {
        rules.add(new Rule(Pattern.compile(match), Kind.FAIL_OPERATION, error, 0, new int[] {times}));
        return this;
    }

    /**
     * Run {@code action} just before each of the next {@code times} matching requests is served: a change
     * someone else makes at that very moment (between a client's read and its write).
     */
    public synchronized ArmFaults before(String match, int times, Runnable action) {
        hooks.add(new Hook(Pattern.compile(match), action, new int[] {times}));
        return this;
    }

    public synchronized void clear() {
        rules.clear();
        hooks.clear();
    }

    /** The actions due before this request, counted down (run by the caller, outside this lock). */
    synchronized List<Runnable> actionsBefore(String request) {
        List<Runnable> out = new ArrayList<>();
        for (Iterator<Hook> it = hooks.iterator(); it.hasNext(); ) {
            Hook h = it.next();
            if (!h.match().matcher(request).find()) continue;
            if (--h.remaining()[0] <= 0) it.remove();
            out.add(h.action());
        }
        return out;
    }

    /** The rule that fires for this request, if any (counting it down), and the request counted. */
    synchronized Optional<Rule> on(String request) {
        total.incrementAndGet();
        counts.computeIfAbsent(request, k -> new AtomicLong()).incrementAndGet();
        log.add(request);
        for (Iterator<Rule> it = rules.iterator(); it.hasNext(); ) {
            Rule r = it.next();
            if (!r.match().matcher(request).find()) continue;
            if (--r.remaining()[0] <= 0) it.remove();
            return Optional.of(r);
        }
        return Optional.empty();
    }

    /** Requests answered (or dropped) so far, operation polls included. */
    public long total() {
        return total.get();
    }

    /** How many requests matched {@code regex}. */
    public long count(String regex) {
        Pattern p = Pattern.compile(regex);
        return counts.entrySet().stream().filter(e -> p.matcher(e.getKey()).find()).mapToLong(e -> e.getValue().get()).sum();
    }

    /** Every request so far, in order. */
    public synchronized List<String> log() {
        return List.copyOf(log);
    }

    public synchronized void resetCounts() {
        counts.clear();
        log.clear();
        total.set(0);
    }
}
