package io.mlctl.inventory;

import io.mlctl.provider.Driver;
import io.mlctl.provider.Page;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads an environment's inventory: the kinds at the same time (at most {@code parallelism} at
 * once, as a cloud's round trips, not CPU, are what a read waits on), the pages of one kind in order.
 * The result does not depend on which kind answers first.
 */
public final class InventoryReader {
    public static final int DEFAULT_PARALLELISM = 6;
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final Driver driver;
    private final int parallelism;
    private final Retry retry;

    /** How a page read is retried (the engine's backoff for throttling and server errors). */
    public interface Retry {
        Page run(java.util.function.Supplier<Page> read);
    }

    public InventoryReader(Driver driver) {
        this(driver, DEFAULT_PARALLELISM);
    }

    public InventoryReader(Driver driver, int parallelism) {
        this(driver, parallelism, java.util.function.Supplier::get);
    }

    /** {@code retry}: throttling and server errors on a page are retried with backoff, as the apply's calls are. */
    public InventoryReader(Driver driver, int parallelism, Retry retry) {
        if (parallelism < 1) throw new IllegalArgumentException("parallelism must be at least 1");
        this.driver = driver;
        this.parallelism = parallelism;
        this.retry = retry;
    }

    public Inventory read(Environment env) {
        ResourceType[] kinds = ResourceType.values();
        List<List<ObservedResource>> listed = new ArrayList<>();
        if (parallelism == 1) {
            for (ResourceType kind : kinds) listed.add(listKind(env, kind));
        } else {
            ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallelism, kinds.length), r -> {
                Thread t = new Thread(r, "mlctl-inventory-" + THREADS.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            try {
                List<Future<List<ObservedResource>>> futures = new ArrayList<>();
                for (ResourceType kind : kinds) futures.add(pool.submit(() -> listKind(env, kind)));
                // Joined in kind order, so the first failure reported is the same whatever the timing.
                for (Future<List<ObservedResource>> f : futures) listed.add(join(f));
            } finally {
                pool.shutdownNow();
            }
        }
        Map<Address, ObservedResource> found = new HashMap<>();
        List<ObservedResource> duplicates = new ArrayList<>();
        for (List<ObservedResource> ofKind : listed) {
            for (ObservedResource r : ofKind) {
                ObservedResource prev = found.get(r.address());
                if (prev == null) {
                    found.put(r.address(), r);
                } else if (r.cloudId().compareTo(prev.cloudId()) < 0) {
                    // Keep the same one whatever order the cloud lists them in.
                    found.put(r.address(), r);
                    duplicates.add(prev);
                } else {
                    duplicates.add(r);
                }
            }
        }
        return new Inventory(env.name(), found, duplicates);
    }

    private List<ObservedResource> listKind(Environment env, ResourceType kind) {
        List<ObservedResource> out = new ArrayList<>();
        Optional<String> token = Optional.empty();
        do {
            Optional<String> from = token;
            Page page = retry.run(() -> driver.list(env, kind, from));
            for (ObservedResource listed : page.items()) {
                out.add(new ObservedResource(listed.address(), listed.cloudId(),
                    io.mlctl.spec.Normalizer.normalize(listed.attributes()), listed.tags()));
            }
            token = page.nextPageToken();
        } while (token.isPresent());
        return out;
    }

    private static <T> T join(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading inventory", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        }
    }
}
