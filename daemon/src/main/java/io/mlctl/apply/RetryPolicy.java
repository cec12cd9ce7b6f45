package io.mlctl.apply;

import io.mlctl.provider.DriverException;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter for retryable cloud errors (throttling, 5xx, timeouts).
 * Sleep and randomness are injected so tests run instantly and exactly.
 */
public final class RetryPolicy {
    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    /** Told of each retry, for progress output. */
    public interface Listener {
        void retrying(int attempt, Duration delay, DriverException cause);
    }

    private final int maxAttempts;
    private final Duration base;
    private final Duration cap;
    private final Sleeper sleeper;
    private final RandomGenerator random;

    public RetryPolicy(int maxAttempts, Duration base, Duration cap, Sleeper sleeper, RandomGenerator random) {
        if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts must be at least 1");
        this.maxAttempts = maxAttempts;
        this.base = base;
        this.cap = cap;
        this.sleeper = sleeper;
        this.random = random;
    }

    public static RetryPolicy standard(RandomGenerator random) {
        return new RetryPolicy(6, Duration.ofMillis(200), Duration.ofSeconds(20), d -> Thread.sleep(d.toMillis()), random);
    }

    public int maxAttempts() {
        return maxAttempts;
    }

    /** The delay before retry number {@code attempt} (1-based): uniform in [0, min(cap, base * 2^(attempt-1))]. */
    public Duration delay(int attempt) {
        long ceiling = Math.min(cap.toMillis(), base.toMillis() << Math.min(20, attempt - 1));
        return Duration.ofMillis(ceiling <= 0 ? 0 : random.nextLong(ceiling + 1));
    }

    public <T> T run(Supplier<T> call, Listener listener) {
        for (int attempt = 1; ; attempt++) {
            try {
                return call.get();
            } catch (DriverException e) {
                if (!e.retryable() || attempt >= maxAttempts) throw e;
                Duration d = delay(attempt);
                listener.retrying(attempt, d, e);
                try {
                    sleeper.sleep(d);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }
}
