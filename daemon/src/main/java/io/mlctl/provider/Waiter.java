package io.mlctl.provider;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * Polls a resource until it is ready. A terminal failure is an error with the cloud's reason,
 * reported once (never retried as if the network had failed); a timeout names the resource and the
 * last state seen.
 */
public final class Waiter {
    /** One observation: ready, failed (with the cloud's reason), or still in {@code state}. */
    public record Status(String state, boolean ready, boolean failed, String reason) {
        public static Status ready(String state) {
            return new Status(state, true, false, "");
        }

        public static Status failed(String state, String reason) {
            return new Status(state, false, true, reason);
        }

        public static Status pending(String state) {
            return new Status(state, false, false, "");
        }
    }

    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    private final Duration interval;
    private final Duration timeout;
    private final Sleeper sleeper;

    public Waiter(Duration interval, Duration timeout, Sleeper sleeper) {
        this.interval = interval;
        this.timeout = timeout;
        this.sleeper = sleeper;
    }

    public static Waiter of(Duration interval, Duration timeout) {
        return new Waiter(interval, timeout, d -> Thread.sleep(d.toMillis()));
    }

    /** Waits for {@code what} (e.g. "SageMaker endpoint training-dev-ep") to be ready. */
    public Status until(String what, Supplier<Status> poll) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Status last;
        while (true) {
            last = poll.get();
            if (last.ready()) return last;
            if (last.failed()) {
                throw new DriverException(what + " is " + last.state() + (last.reason().isBlank() ? "" : ": " + last.reason()), false);
            }
            if (System.nanoTime() >= deadline) break;
            try {
                sleeper.sleep(interval);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DriverException("interrupted while waiting for " + what + " (last state " + last.state() + ")", false);
            }
        }
        String waited = timeout.toSeconds() >= 120 ? timeout.toMinutes() + " min" : timeout.toSeconds() + " s";
        throw new DriverException("timed out after " + waited + " waiting for " + what + " (last state " + last.state() + ")", false);
    }
}
