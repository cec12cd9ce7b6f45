package io.mlctl.inventory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.Driver;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.Target;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Specs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/** Kinds are read at the same time, within a bound, pages of one kind in order, and the result does not depend on timing. */
class InventoryReaderTest {
    static final Environment ENV = Specs.env("""
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata: {name: dev}
        spec: {provider: aws, region: us-east-1, resources: []}
        """);

    /** Two pages per kind, with a duplicate address in each kind; {@code onList} runs inside every list call. */
    static final class PagedDriver implements Driver {
        final BiConsumer<ResourceType, Optional<String>> onList;
        final Map<ResourceType, List<String>> tokensSeen = new ConcurrentHashMap<>();

        PagedDriver(BiConsumer<ResourceType, Optional<String>> onList) {
            this.onList = onList;
        }

        @Override
        public Page list(Environment env, ResourceType kind, Optional<String> token) {
            tokensSeen.computeIfAbsent(kind, k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(token.orElse("-"));
            onList.accept(kind, token);
            Address a = new Address(kind, "r");
            Address b = new Address(kind, "s");
            if (token.isEmpty()) {
                return new Page(List.of(res(a, "id-2"), res(b, "id-9")), Optional.of("p2"));
            }
            return new Page(List.of(res(a, "id-1")), Optional.empty());
        }

        static ObservedResource res(Address a, String id) {
            return new ObservedResource(a, a.type().id() + "-" + id, Map.of("region", "us-east-1"), Ownership.tags("dev", a));
        }

        @Override public String name() { return "paged"; }
        @Override public ResourceRules rules(ResourceType kind) { return new ResourceRules(Set.of()); }
        @Override public Target target(Environment env) { return new Target("000000000000", env.region()); }
        @Override public ObservedResource create(Environment e, ResourceSpec d, CreateRequest r) { throw new UnsupportedOperationException(); }
        @Override public ObservedResource update(Environment e, ObservedResource c, ResourceSpec d, List<AttributeChange> ch) { throw new UnsupportedOperationException(); }
        @Override public void delete(Environment e, ObservedResource c) { throw new UnsupportedOperationException(); }
        @Override public long requestCount() { return 0; }
    }

    @Test
    void kindsAreReadAtTheSameTime() {
        // Every kind's first call waits until all six have started: a reader that lists one kind after another never gets there.
        CountDownLatch allStarted = new CountDownLatch(ResourceType.values().length);
        AtomicInteger timedOut = new AtomicInteger();
        PagedDriver driver = new PagedDriver((kind, token) -> {
            if (token.isPresent()) return;
            allStarted.countDown();
            try {
                if (!allStarted.await(10, TimeUnit.SECONDS)) timedOut.incrementAndGet();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Inventory inv = new InventoryReader(driver, 6).read(ENV);
        assertThat(timedOut).hasValue(0);
        assertThat(inv.resources()).hasSize(2 * ResourceType.values().length);
        // Pages of one kind stay in order: first page, then the token it gave.
        driver.tokensSeen.values().forEach(tokens -> assertThat(tokens).containsExactly("-", "p2"));
    }

    @Test
    void noMoreKindsAtOnceThanTheBound() {
        AtomicInteger now = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        PagedDriver driver = new PagedDriver((kind, token) -> {
            most.accumulateAndGet(now.incrementAndGet(), Math::max);
            Thread.yield();
            now.decrementAndGet();
        });
        new InventoryReader(driver, 2).read(ENV);
        assertThat(most.get()).isBetween(1, 2);
    }

    @Test
    void theSameInventoryWhateverOrderTheKindsAnswerIn() {
        Inventory sequential = new InventoryReader(new PagedDriver((k, t) -> { }), 1).read(ENV);
        for (int round = 0; round < 5; round++) {
            int seed = round;
            // Kinds answer in a different order each round: later kinds first.
            Inventory concurrent = new InventoryReader(new PagedDriver((kind, token) -> {
                try {
                    Thread.sleep((ResourceType.values().length - kind.ordinal()) * (seed % 3));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }), 6).read(ENV);
            assertThat(concurrent.resources()).isEqualTo(sequential.resources());
            assertThat(concurrent.duplicates()).containsExactlyElementsOf(sequential.duplicates());
        }
        // Of two resources claiming one address the lower cloud id is kept, the other reported as a duplicate.
        assertThat(sequential.resources().get(new Address(ResourceType.BUCKET, "r")).cloudId()).isEqualTo("bucket-id-1");
        assertThat(sequential.duplicates()).extracting(ObservedResource::cloudId).contains("bucket-id-2");
    }

    @Test
    void theFirstFailingKindInKindOrderIsReported() {
        PagedDriver driver = new PagedDriver((kind, token) -> {
            if (kind == ResourceType.values()[ResourceType.values().length - 1]) {
                throw new DriverException("list " + kind.id() + " failed", false);
            }
            if (kind == ResourceType.values()[1] && token.isPresent()) {
                throw new DriverException("list " + kind.id() + " page 2 failed", false);
            }
        });
        assertThatThrownBy(() -> new InventoryReader(driver, 6).read(ENV))
            .isInstanceOf(DriverException.class).hasMessage("list " + ResourceType.values()[1].id() + " page 2 failed");
    }
}
