package io.mlctl.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.InventoryReader;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.provider.Driver;
import io.mlctl.provider.Page;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApplierTest {
    @TempDir
    Path dir;
    SandboxCloud sandbox;
    Recording driver;
    final List<Duration> slept = Collections.synchronizedList(new ArrayList<>());
    final Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

    /** Passes every call to the real sandbox and records when calls start and end, and how many overlap. */
    static final class Recording implements Driver {
        final Driver inner;
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();

        Recording(Driver inner) {
            this.inner = inner;
        }

        private <T> T track(String what, java.util.function.Supplier<T> call) {
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            events.add("start " + what);
            try {
                return call.get();
            } finally {
                events.add("end " + what);
                inFlight.decrementAndGet();
            }
        }

        public String name() { return inner.name(); }
        public long requestCount() { return inner.requestCount(); }
        public Page list(Environment env, ResourceType kind, Optional<String> token) { return inner.list(env, kind, token); }

        public io.mlctl.provider.ResourceRules rules(ResourceType kind) { return inner.rules(kind); }
        public io.mlctl.provider.Target target(Environment env) { return inner.target(env); }

        public ObservedResource create(Environment env, ResourceSpec d, io.mlctl.provider.CreateRequest request) {
            return track("create " + d.address(), () -> inner.create(env, d, request));
        }

        public ObservedResource update(Environment env, ObservedResource c, ResourceSpec d, java.util.List<io.mlctl.plan.AttributeChange> changes) {
            return track("update " + d.address(), () -> inner.update(env, c, d, changes));
        }

        public void delete(Environment env, ObservedResource c) {
            track("delete " + c.address(), () -> {
                inner.delete(env, c);
                return null;
            });
        }
    }

    @BeforeEach
    void setUp() {
        sandbox = new SandboxCloud(dir.resolve("sandbox"), Specs.CATALOG, clock);
        driver = new Recording(sandbox);
    }

    private ApplyResult apply(Environment env, boolean destroy, int parallelism, ApplyListener listener) {
        Inventory inv = new InventoryReader(driver).read(env);
        Plan plan = new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(env, inv, new PlanOptions(destroy, Set.of(), clock.instant()));
        RetryPolicy retry = new RetryPolicy(5, Duration.ofMillis(100), Duration.ofSeconds(2), slept::add, new Random(7));
        try (Journal journal = new Journal(dir.resolve("state"))) {
            return new Applier(driver, retry, clock, parallelism).apply(env, plan, journal, Optional.empty(), listener);
        }
    }

    private int index(String event) {
        int i = driver.events.indexOf(event);
        assertThat(i).as(event).isNotNegative();
        return i;
    }

    @Test
    void createsDependenciesBeforeDependentsAndDeletesInReverse() {
        Environment env = Specs.env(Fixtures.smallEnv("dev"));
        ApplyResult r = apply(env, false, 10, ApplyListener.NONE);
        assertThat(r.ok()).as(r.failures().toString()).isTrue();
        assertThat(r.created()).isEqualTo(4);
        assertThat(index("end create network.net")).isLessThan(index("start create instance.gpu-1"));
        assertThat(index("end create identity.trainer")).isLessThan(index("start create instance.gpu-1"));
        assertThat(index("end create bucket.dev-data")).isLessThan(index("start create identity.trainer"));

        driver.events.clear();
        ApplyResult d = apply(env, true, 10, ApplyListener.NONE);
        // The sandbox, like a cloud, refuses to delete a network or identity still in use: order matters.
        assertThat(d.ok()).as(d.failures().toString()).isTrue();
        assertThat(d.deleted()).isEqualTo(4);
        assertThat(index("end delete instance.gpu-1")).isLessThan(index("start delete network.net"));
        assertThat(index("end delete instance.gpu-1")).isLessThan(index("start delete identity.trainer"));
    }

    @Test
    void aSubnetIsReplacedOnItsOwnAfterWhatRunsInItLetsGoAndTheInstanceComesBackInTheNewOne() {
        Environment env = Specs.env(Fixtures.smallEnv("dev"));
        assertThat(apply(env, false, 10, ApplyListener.NONE).ok()).isTrue();
        Environment moved = Specs.env(Fixtures.smallEnv("dev").replace("cidr: 10.0.1.0/24", "cidr: 10.0.3.0/24"));
        Plan plan = new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(moved, new InventoryReader(driver).read(moved),
            new PlanOptions(false, Set.of(), clock.instant()));
        assertThat(plan.changes()).extracting(c -> c.address() + " " + c.action().id()).containsExactly(
            "network.net update", "network.net.subnet.train replace", "instance.gpu-1 replace");
        assertThat(plan.changes().get(1).reason()).isEqualTo("subnets[train].cidr cannot be changed in place");
        assertThat(plan.changes().get(2).reason()).isEqualTo("network.net.subnet.train is replaced and subnet cannot be changed in place");
        assertThat(plan.summary().replace()).isEqualTo(2);

        driver.events.clear();
        ApplyResult r = apply(moved, false, 10, ApplyListener.NONE);
        assertThat(r.ok()).as(r.failures().toString()).isTrue();
        assertThat(List.of(r.created(), r.updated(), r.deleted())).containsExactly(2, 1, 2); // as the plan said: the subnet and the instance

        // The sandbox, like a cloud, refuses to replace a subnet something still runs in.
        assertThat(index("end delete instance.gpu-1")).isLessThan(index("start update network.net"));
        assertThat(index("end update network.net")).isLessThan(index("start create instance.gpu-1"));
        assertThat(new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(moved, new InventoryReader(driver).read(moved),
            new PlanOptions(false, Set.of(), clock.instant())).hasChanges()).isFalse();
    }

    @Test
    void parallelismIsBounded() throws Exception {
        Files.createDirectories(dir.resolve("sandbox"));
        Files.writeString(dir.resolve("sandbox/config.json"), "{\"latencyMillis\": 40}");
        sandbox = new SandboxCloud(dir.resolve("sandbox"), Specs.CATALOG, clock);
        driver = new Recording(sandbox);
        StringBuilder yaml = new StringBuilder(Fixtures.smallEnv("dev"));
        for (int i = 0; i < 12; i++) yaml.append("    - type: bucket\n      name: many-").append(i).append('\n');
        ApplyResult r = apply(Specs.env(yaml.toString()), false, 3, ApplyListener.NONE);
        assertThat(r.created()).isEqualTo(16);
        assertThat(driver.maxInFlight.get()).isEqualTo(3);
    }

    @Test
    void retryableErrorsAreRetriedWithBackoff() throws Exception {
        Files.createDirectories(dir.resolve("sandbox"));
        Files.writeString(dir.resolve("sandbox/faults.json"), """
            [{"op": "create", "target": "bucket.dev-data", "error": "throttle", "times": 2},
             {"op": "create", "target": "network.net", "error": "server", "times": 1}]""");
        List<String> retries = Collections.synchronizedList(new ArrayList<>());
        ApplyResult r = apply(Specs.env(Fixtures.smallEnv("dev")), false, 10, new ApplyListener() {
            @Override
            public void retrying(Step step, int attempt, Duration delay, String error) {
                retries.add(step.address() + " #" + attempt + ": " + error);
            }
        });
        assertThat(r.ok()).as(r.failures().toString()).isTrue();
        assertThat(retries).containsExactlyInAnyOrder(
            "bucket.dev-data #1: create bucket.dev-data: Throttling: Rate exceeded (injected)",
            "bucket.dev-data #2: create bucket.dev-data: Throttling: Rate exceeded (injected)",
            "network.net #1: create network.net: 503 Service Unavailable (injected)");
        assertThat(slept).hasSize(3).allSatisfy(d -> assertThat(d).isLessThanOrEqualTo(Duration.ofMillis(200)));
        assertThat(sandbox.all(io.mlctl.spec.Provider.AWS, ResourceType.BUCKET)).hasSize(1);
    }

    @Test
    void aFailedStepSkipsWhatNeedsItAndTheRestFinishes() throws Exception {
        Files.createDirectories(dir.resolve("sandbox"));
        Files.writeString(dir.resolve("sandbox/faults.json"), "[{\"op\": \"create\", \"target\": \"identity.trainer\", \"error\": \"denied\"}]");
        List<String> skipped = Collections.synchronizedList(new ArrayList<>());
        ApplyResult r = apply(Specs.env(Fixtures.smallEnv("dev")), false, 10, new ApplyListener() {
            @Override
            public void skipped(Step step, String because) {
                skipped.add(step + " because " + because);
            }
        });
        assertThat(r.ok()).isFalse();
        assertThat(r.failures()).containsExactly("create identity.trainer: create identity.trainer: AccessDenied: not authorized to perform create (injected)");
        assertThat(skipped).containsExactly("create instance.gpu-1 because create identity.trainer failed");
        assertThat(r.created()).isEqualTo(2);
        String journal = Fixtures.read(dir.resolve("state").resolve(Journal.LAST));
        assertThat(journal).contains("\"event\":\"failed\",\"op\":\"create\",\"address\":\"identity.trainer\"").contains("\"outcome\":\"failed\"");
    }

    @Test
    void journalAnnouncesEveryCallBeforeItIsSent() {
        apply(Specs.env(Fixtures.smallEnv("dev")), false, 1, ApplyListener.NONE);
        List<String> lines = Fixtures.read(dir.resolve("state").resolve(Journal.LAST)).lines().toList();
        assertThat(lines.get(0)).contains("\"event\":\"begin\"");
        assertThat(lines.get(lines.size() - 1)).contains("\"event\":\"end\",\"outcome\":\"complete\"");
        for (String a : List.of("network.net", "bucket.dev-data", "identity.trainer", "instance.gpu-1")) {
            int intent = indexOf(lines, "\"event\":\"intent\",\"op\":\"create\",\"address\":\"" + a + "\"");
            int done = indexOf(lines, "\"event\":\"done\",\"op\":\"create\",\"address\":\"" + a + "\"");
            assertThat(intent).as(a).isNotNegative().isLessThan(done);
        }
        assertThat(Files.exists(dir.resolve("state").resolve(Journal.FILE))).isFalse();
    }

    private static int indexOf(List<String> lines, String needle) {
        for (int i = 0; i < lines.size(); i++) if (lines.get(i).contains(needle)) return i;
        return -1;
    }
}
