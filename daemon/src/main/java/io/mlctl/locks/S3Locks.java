package io.mlctl.locks;

import io.mlctl.MlctlException;
import io.mlctl.apply.LockService;
import io.mlctl.apply.LockedException;
import io.mlctl.provider.aws.AwsSettings;
import io.mlctl.util.Redaction;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Environment locks as S3 objects ({@code --lock s3://BUCKET/PREFIX}), so that people's CLIs and daemon
 * replicas on any machine with access to the bucket exclude each other without a shared disk.
 *
 * <p>The lock of environment {@code dev} is the object {@code PREFIX/dev.lock}: JSON naming the holder,
 * what it is doing, and until when its lease runs. Every change is a conditional write, so S3 itself
 * decides races: taking a free lock is {@code If-None-Match: *}; taking over a lock whose lease ran out
 * (its holder died) is {@code If-Match} on the ETag that was read, so of two takers that saw the same
 * stale lock exactly one wins; renewing is {@code If-Match} on the ETag this holder last wrote, so a
 * holder learns at its next renewal that someone changed the object; releasing is a conditional delete
 * ({@code If-Match}, AWS S3 since 2025-09; moto 5.2.1 honours it), so it never deletes another's lock.
 *
 * <p>Each lock carries a random token: a write whose answer was lost (and that the SDK retried into a
 * 412) is recognised as this holder's own when the object read back carries its token.
 *
 * <p>Expiry is judged on the clock of whoever reads the lock against the time its holder wrote: clocks
 * must agree to well within the lease ({@value #DEFAULT_TTL_SECONDS} s by default), as NTP keeps them.
 */
public final class S3Locks implements LockService, AutoCloseable {
    static final long DEFAULT_TTL_SECONDS = 60;
    public static final Duration DEFAULT_TTL = Duration.ofSeconds(DEFAULT_TTL_SECONDS);
    /** How often acquire looks again when the lock changes under it (released, or taken by another taker). */
    private static final int ATTEMPTS = 5;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Set<String> DENIED = Set.of("AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch",
        "ExpiredToken", "InvalidToken", "AccountProblem");

    private final S3Client s3;
    private final boolean ownsClient;
    private final Location location;
    private final String holder;
    private final Clock clock;
    private final Duration ttl;
    private final Duration renewEvery;
    private final ScheduledExecutorService renewals;

    /** Where the locks live. */
    public record Location(String bucket, String prefix) {
        /** Parses {@code s3://BUCKET} or {@code s3://BUCKET/PREFIX}; one-line errors for anything else. */
        public static Location parse(String uri) {
            if (uri == null || !uri.startsWith("s3://")) throw new MlctlException("--lock " + uri + ": not an S3 location; use s3://BUCKET/PREFIX");
            String rest = uri.substring("s3://".length());
            int slash = rest.indexOf('/');
            String bucket = slash < 0 ? rest : rest.substring(0, slash);
            String prefix = slash < 0 ? "" : rest.substring(slash + 1).replaceAll("^/+|/+$", "");
            if (bucket.isEmpty()) throw new MlctlException("--lock " + uri + ": no bucket named; use s3://BUCKET/PREFIX");
            if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
                throw new MlctlException("--lock " + uri + ": '" + bucket + "' is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens)");
            }
            return new Location(bucket, prefix);
        }

        public String key(String environment) {
            return (prefix.isEmpty() ? "" : prefix + "/") + environment + ".lock";
        }

        public String url(String environment) {
            return "s3://" + bucket + "/" + key(environment);
        }

        @Override
        public String toString() {
            return "s3://" + bucket + (prefix.isEmpty() ? "" : "/" + prefix);
        }
    }

    /** What the lock object says. */
    record Lease(String holder, String purpose, Instant acquired, Instant expires, String token) {
        String describe() {
            return purpose + " (" + holder + ", since " + acquired + ", renewed until " + expires + ")";
        }

        Lease until(Instant t) {
            return new Lease(holder, purpose, acquired, t, token);
        }

        String json() {
            return JSON.createObjectNode().put("holder", holder).put("purpose", purpose).put("acquired", acquired.toString())
                .put("expires", expires.toString()).put("token", token).toString();
        }

        /** Empty when the object is not a lock this code wrote (edited by hand, another tool). */
        static Optional<Lease> parse(String text) {
            try {
                JsonNode n = JSON.readTree(text);
                String[] fields = {"holder", "purpose", "acquired", "expires", "token"};
                for (String f : fields) if (n == null || !n.hasNonNull(f) || !n.get(f).isString()) return Optional.empty();
                return Optional.of(new Lease(n.get("holder").asString(), n.get("purpose").asString(), Instant.parse(n.get("acquired").asString()),
                    Instant.parse(n.get("expires").asString()), n.get("token").asString()));
            } catch (JacksonException | java.time.format.DateTimeParseException e) {
                return Optional.empty();
            }
        }
    }

    /** A lock object as read: its lease (empty if unreadable) and ETag. */
    private record Seen(Optional<Lease> lease, String etag) {
        boolean carries(String token) {
            return lease.map(l -> l.token().equals(token)).orElse(false);
        }
    }

    private enum Outcome { WRITTEN, CONFLICT, MISSING }

    private record Write(Outcome outcome, String etag) {
    }

    /**
     * @param ttl how long a lease runs unrenewed: how long others wait for a holder that died
     * @param renewEvery how often a held lock is renewed (a third of the lease leaves two tries before it runs out)
     */
    public S3Locks(S3Client s3, Location location, String holder, Clock clock, Duration ttl, Duration renewEvery) {
        this(s3, false, location, holder, clock, ttl, renewEvery);
    }

    private S3Locks(S3Client s3, boolean ownsClient, Location location, String holder, Clock clock, Duration ttl, Duration renewEvery) {
        if (renewEvery.isNegative() || renewEvery.isZero() || renewEvery.compareTo(ttl) >= 0) throw new IllegalArgumentException("renew more often than the lease runs");
        this.s3 = s3;
        this.ownsClient = ownsClient;
        this.location = location;
        this.holder = holder;
        this.clock = clock;
        this.ttl = ttl;
        this.renewEvery = renewEvery;
        ScheduledThreadPoolExecutor pool = new ScheduledThreadPoolExecutor(2, r -> {
            Thread t = new Thread(r, "mlctl-s3-lock-renewal");
            t.setDaemon(true);
            return t;
        });
        pool.setRemoveOnCancelPolicy(true);
        this.renewals = pool;
    }

    /**
     * Locks in {@code uri} (s3://BUCKET/PREFIX) as AWS tools reach S3: credentials from the default chain,
     * {@code AWS_ENDPOINT_URL[_S3]} honoured (path-style, for emulators and private endpoints), and the
     * region from {@code AWS_REGION}/{@code AWS_DEFAULT_REGION}, else found by S3's cross-region redirects.
     */
    public static S3Locks connect(String uri, String holder, Map<String, String> env, Clock clock) {
        Location location = Location.parse(uri);
        AwsSettings settings = AwsSettings.fromEnvironment(env);
        String region = firstSet(env.get("AWS_REGION"), env.get("AWS_DEFAULT_REGION")).orElse("us-east-1");
        S3ClientBuilder b = S3Client.builder().region(Region.of(region)).credentialsProvider(settings.credentials())
            .httpClientBuilder(ApacheHttpClient.builder())
            // Bounded calls: a renewal stuck on a dead connection must not outlive the lease it renews.
            .overrideConfiguration(o -> o.apiCallAttemptTimeout(Duration.ofSeconds(10)).apiCallTimeout(Duration.ofSeconds(20)));
        settings.endpoint("S3").ifPresentOrElse(e -> b.endpointOverride(e).forcePathStyle(true), () -> b.crossRegionAccessEnabled(true));
        return new S3Locks(b.build(), true, location, holder, clock, DEFAULT_TTL, DEFAULT_TTL.dividedBy(3));
    }

    private static Optional<String> firstSet(String... values) {
        for (String v : values) if (v != null && !v.isBlank()) return Optional.of(v.trim());
        return Optional.empty();
    }

    public Location location() {
        return location;
    }

    @Override
    public Held acquire(String environment, Path environmentStateDir, String purpose, Instant now) {
        String key = location.key(environment);
        Lease mine = new Lease(holder, purpose, now, now.plus(ttl), UUID.randomUUID().toString());
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Write created = put(key, mine, "*", null);
            if (created.outcome() == Outcome.WRITTEN) return hold(environment, mine, created.etag());
            Optional<Seen> seen = read(key);
            if (seen.isEmpty()) continue; // released between the two calls
            Seen s = seen.get();
            // Our own create (or takeover) went through and its answer was lost: the SDK's retry met our object.
            if (s.carries(mine.token())) return hold(environment, s.lease().get(), s.etag());
            if (s.lease().isEmpty()) {
                throw new LockedException(environment, "an unreadable lock object " + location.url(environment) + " (delete it if no apply is running)");
            }
            Lease theirs = s.lease().get();
            if (now.isBefore(theirs.expires())) throw new LockedException(environment, theirs.describe());
            // Its holder stopped renewing (it died): take it over, but only if it is still exactly what we read.
            Write taken = put(key, mine, null, s.etag());
            if (taken.outcome() == Outcome.WRITTEN) return hold(environment, mine, taken.etag());
            // Another taker won, the holder came back, or it was released: look again.
        }
        throw new LockedException(environment, "others taking and releasing " + location.url(environment) + " faster than it could be read");
    }

    private Held hold(String environment, Lease lease, String etag) {
        S3Held held = new S3Held(environment, lease, etag);
        held.renewal = renewals.scheduleWithFixedDelay(held::renewQuietly, renewEvery.toMillis(), renewEvery.toMillis(), TimeUnit.MILLISECONDS);
        return held;
    }

    /** Stops renewing (locks still held will run out) and closes the S3 client this service made. */
    @Override
    public void close() {
        renewals.shutdownNow();
        if (ownsClient) s3.close();
    }

    /** A held lock, renewed in the background until closed or lost. */
    final class S3Held implements Held {
        private final String environment;
        private final String url;
        private final String key;
        /** The lease as last written and its ETag; guarded by this. */
        private Lease lease;
        private String etag;
        private boolean closed;
        private volatile Instant expires;
        private volatile String lost;
        private volatile ScheduledFuture<?> renewal;

        S3Held(String environment, Lease lease, String etag) {
            this.environment = environment;
            this.url = location.url(environment);
            this.key = location.key(environment);
            this.lease = lease;
            this.etag = etag;
            this.expires = lease.expires();
        }

        @Override
        public void check() {
            if (lost == null && !clock.instant().isBefore(expires)) lose("its lease ran out at " + expires + " before it could be renewed");
            String why = lost;
            if (why != null) throw new LockLostException(environment, url, why);
        }

        private void lose(String why) {
            if (lost == null) lost = why;
        }

        private void renewQuietly() {
            try {
                renew();
            } catch (RuntimeException e) {
                // A failing renewal is retried at the next tick; an exception here would cancel the schedule.
            }
        }

        /** One renewal: extend the lease if the object is still what this holder last wrote. */
        synchronized void renew() {
            if (closed || lost != null) return;
            Instant now = clock.instant();
            // Past its expiry another taker may already have seen it stale: a lease never comes back.
            if (!now.isBefore(expires)) {
                lose("its lease ran out at " + expires + " before it could be renewed");
                return;
            }
            Lease next = lease.until(now.plus(ttl));
            Write w;
            try {
                w = put(key, next, null, etag);
            } catch (MlctlException e) {
                return; // S3 unreachable or refusing: try again next tick while the lease still runs
            }
            switch (w.outcome()) {
                case WRITTEN -> written(next, w.etag());
                case MISSING -> lose(url + " was deleted by someone else");
                case CONFLICT -> {
                    Optional<Seen> seen;
                    try {
                        seen = read(key);
                    } catch (MlctlException e) {
                        return;
                    }
                    if (seen.isPresent() && seen.get().carries(lease.token())) {
                        // Our previous renewal went through and its answer was lost: carry on from it.
                        written(seen.get().lease().get(), seen.get().etag());
                    } else {
                        lose(seen.isEmpty() ? url + " was deleted by someone else"
                            : "it was taken by " + seen.get().lease().map(Lease::describe).orElse("someone who wrote an unreadable lock object"));
                    }
                }
            }
        }

        private void written(Lease l, String newEtag) {
            lease = l;
            etag = newEtag;
            expires = l.expires();
        }

        /** Stops renewing and deletes the lock, only while it is still ours. */
        @Override
        public synchronized void close() {
            if (closed) return;
            closed = true;
            ScheduledFuture<?> r = renewal;
            if (r != null) r.cancel(false);
            // A renewal in flight holds this monitor, so the ETag below is the last one written.
            try {
                for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                    Outcome o = delete(key, etag);
                    if (o != Outcome.CONFLICT) return; // deleted, or already gone
                    Optional<Seen> seen = read(key);
                    if (seen.isEmpty() || !seen.get().carries(lease.token())) return; // someone else's now: leave it
                    etag = seen.get().etag(); // our own write whose answer was lost
                }
            } catch (MlctlException e) {
                // S3 unreachable: the lock stays until its lease runs out (at most the lease), then others take it over.
            }
        }
    }

    // ---- S3 calls, every failure but the expected ones as one line ----

    private Write put(String key, Lease lease, String ifNoneMatch, String ifMatch) {
        try {
            String etag = s3.putObject(b -> b.bucket(location.bucket()).key(key).contentType("application/json").ifNoneMatch(ifNoneMatch).ifMatch(ifMatch),
                RequestBody.fromString(lease.json())).eTag();
            return new Write(Outcome.WRITTEN, etag);
        } catch (S3Exception e) {
            // 412: the condition failed; 409 ConditionalRequestConflict: S3 is deciding a concurrent conditional write.
            if (e.statusCode() == 412 || e.statusCode() == 409) return new Write(Outcome.CONFLICT, null);
            if (missingKey(e)) return new Write(Outcome.MISSING, null);
            throw error("write", key, e);
        } catch (SdkException e) {
            throw error("write", key, e);
        }
    }

    private Optional<Seen> read(String key) {
        try {
            ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(b -> b.bucket(location.bucket()).key(key));
            return Optional.of(new Seen(Lease.parse(r.asUtf8String()), r.response().eTag()));
        } catch (S3Exception e) {
            if (missingKey(e)) return Optional.empty();
            throw error("read", key, e);
        } catch (SdkException e) {
            throw error("read", key, e);
        }
    }

    private Outcome delete(String key, String etag) {
        try {
            s3.deleteObject(b -> b.bucket(location.bucket()).key(key).ifMatch(etag));
            return Outcome.WRITTEN;
        } catch (S3Exception e) {
            if (e.statusCode() == 412 || e.statusCode() == 409) return Outcome.CONFLICT;
            if (missingKey(e)) return Outcome.MISSING;
            throw error("delete", key, e);
        } catch (SdkException e) {
            throw error("delete", key, e);
        }
    }

    private static String code(S3Exception e) {
        return e.awsErrorDetails() != null && e.awsErrorDetails().errorCode() != null ? e.awsErrorDetails().errorCode() : "";
    }

    private static boolean missingKey(S3Exception e) {
        return e.statusCode() == 404 && !"NoSuchBucket".equals(code(e));
    }

    private MlctlException error(String verb, String key, SdkException e) {
        String where = "s3://" + location.bucket() + "/" + key;
        if (e instanceof S3Exception s) {
            String code = code(s);
            if ("NoSuchBucket".equals(code)) {
                return new MlctlException("the lock bucket " + location.bucket() + " does not exist (--lock " + location + "): create it or name another", e);
            }
            if (s.statusCode() == 403 || DENIED.contains(code)) {
                return new MlctlException("AWS refused to " + verb + " the lock " + where + ": " + (code.isEmpty() ? "403" : code)
                    + "; the credentials need s3:GetObject, s3:PutObject and s3:DeleteObject on " + location + "/*", e);
            }
            String message = s.awsErrorDetails() != null && s.awsErrorDetails().errorMessage() != null ? s.awsErrorDetails().errorMessage() : "";
            return new MlctlException("cannot " + verb + " the lock " + where + ": " + (code.isEmpty() ? "HTTP " + s.statusCode() : code)
                + (message.isBlank() ? "" : " (" + oneLine(message) + ")"), e);
        }
        String m = e.getMessage() == null ? "" : e.getMessage();
        if (m.startsWith("Unable to load credentials")) {
            return new MlctlException("cannot " + verb + " the lock " + where + ": no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID "
                + "and AWS_SECRET_ACCESS_KEY, use SSO, or run with an instance role)", e);
        }
        return new MlctlException("cannot reach S3 to " + verb + " the lock " + where + ": " + oneLine(m), e);
    }

    private static String oneLine(String s) {
        return Redaction.text(s.lines().findFirst().orElse("").trim());
    }
}
