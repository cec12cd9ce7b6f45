package io.mlctl.gitops;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * The long-running loop: a pass every interval (with ±10% jitter so many daemons do not fetch in step)
 * that starts reconciles without waiting for them, so the loop, and with it liveness, stays alive
 * through an hour-long apply; and an orderly stop that gives the reconciles in flight the configured
 * grace (an apply cut short is resumed from its journal by the next start).
 */
public final class Daemon implements AutoCloseable {
    private final Reconciler reconciler;
    private final Duration interval;
    private final RandomGenerator random;
    private final DaemonLog log;
    private final Duration stopGrace;
    private final Thread loop;
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** Counted down once a stop has waited out the reconciles in flight, so the caller closes nothing they still use. */
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile boolean stopping;
    private volatile Throwable fatal;

    public Daemon(Reconciler reconciler, Duration interval, RandomGenerator random, DaemonLog log, Duration stopGrace) {
        this.reconciler = reconciler;
        this.interval = interval;
        this.random = random;
        this.log = log;
        this.stopGrace = stopGrace;
        this.loop = new Thread(this::run, "mlctl-reconcile");
    }

    public void start() {
        loop.start();
    }

    private void run() {
        try {
            while (!stopping) {
                try {
                    reconciler.schedule();
                } catch (RuntimeException e) {
                    // The loop outlives any one bad tick; the next one starts from a fresh fetch.
                    log.error("reconcile pass failed: " + e);
                } catch (Error e) {
                    // Out of memory and the like: exit non-zero so the supervisor restarts the process.
                    fatal = e;
                    log.error("reconcile loop died: " + e);
                    throw e;
                }
                long base = interval.toMillis();
                long jitter = base / 10;
                long sleep = base + (jitter > 0 ? random.nextLong(-jitter, jitter + 1) : 0);
                synchronized (this) {
                    if (!stopping) wait(Math.max(1, sleep));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stopped.countDown();
            if (fatal != null) {
                // The caller closes Git and the notifier once told: not under applies still running.
                try {
                    reconciler.awaitIdle(stopGrace);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    finished.countDown();
                }
            }
        }
    }

    /** Why the loop died, when it did without being asked to stop. */
    public java.util.Optional<Throwable> fatal() {
        return java.util.Optional.ofNullable(fatal);
    }

    /** Blocks until the daemon has stopped: the loop ended and the reconciles in flight were waited for (for the command's main thread). */
    public void await() throws InterruptedException {
        finished.await();
    }

    @Override
    public void close() {
        // First: nothing queued starts from here on, even while the loop is still inside a fetch.
        reconciler.close();
        stopping = true;
        synchronized (this) {
            notifyAll();
        }
        try {
            long deadline = System.nanoTime() + stopGrace.toNanos();
            boolean idle = stopped.await(stopGrace.toMillis(), TimeUnit.MILLISECONDS)
                && reconciler.awaitIdle(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            if (!idle) log.warn("stopping while a reconcile is still running; the apply journal lets the next start finish it");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            finished.countDown();
        }
    }
}
