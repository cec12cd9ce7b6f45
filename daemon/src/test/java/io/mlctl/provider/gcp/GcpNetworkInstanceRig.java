package io.mlctl.provider.gcp;

import io.mlctl.apply.ApplyResult;
import io.mlctl.apply.RetryPolicy;
import io.mlctl.engine.Engine;
import io.mlctl.fake.gcp.GcpFakes;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.Driver;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.Target;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Specs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * The GCP network and instance kinds against the Compute Engine fake, through the engine the CLI
 * runs (inventory, planner, applier with its journal and retries). The driver is the real
 * {@link GcpDriver}; only the inventory of the other kinds is answered empty, so these tests
 * exercise Compute Engine alone.
 */
final class GcpNetworkInstanceRig implements AutoCloseable {
    static final String PROJECT = "mlctl-rig-project";
    private static final Set<ResourceType> COMPUTE = Set.of(ResourceType.NETWORK, ResourceType.INSTANCE);

    final GcpFakes fakes;
    final Path dir;
    final List<String> retried = Collections.synchronizedList(new ArrayList<>());
    final List<String> failed = Collections.synchronizedList(new ArrayList<>());
    /** Identities made while IdentityKind is not written yet (its stub answers "not yet"): address → attributes. */
    private final Map<io.mlctl.spec.Address, ObservedResource> standInIdentities = new java.util.concurrent.ConcurrentHashMap<>();

    GcpNetworkInstanceRig(Path dir) {
        this.dir = dir;
        try {
            this.fakes = GcpFakes.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>(fakes.environment());
        env.put("GOOGLE_CLOUD_PROJECT", PROJECT);
        return env;
    }

    /** Clients as another person (or the test) would use them against the fake. */
    GcpClients clients() {
        return new GcpClients(GcpSettings.fromEnvironment(environment()), PROJECT, "us-central1");
    }

    /** The real driver, with the inventory of kinds other than network and instance answered empty. */
    Driver driver() {
        GcpDriver real = new GcpDriver(GcpSettings.fromEnvironment(environment()));
        return new Driver() {
            @Override
            public String name() {
                return real.name();
            }

            @Override
            public ResourceRules rules(ResourceType kind) {
                return real.rules(kind);
            }

            @Override
            public Target target(Environment environment) {
                return real.target(environment);
            }

            @Override
            public Page list(Environment environment, ResourceType kind, Optional<String> pageToken) {
                if (kind == ResourceType.IDENTITY) {
                    try {
                        return real.list(environment, kind, pageToken);
                    } catch (io.mlctl.provider.DriverException e) {
                        if (!notWrittenYet(e)) throw e;
                        return new Page(List.copyOf(standInIdentities.values()), Optional.empty());
                    }
                }
                return COMPUTE.contains(kind) ? real.list(environment, kind, pageToken) : new Page(List.of(), Optional.empty());
            }

            @Override
            public ObservedResource create(Environment environment, ResourceSpec desired, CreateRequest request) {
                try {
                    return real.create(environment, desired, request);
                } catch (io.mlctl.provider.DriverException e) {
                    if (desired.address().type() != ResourceType.IDENTITY || !notWrittenYet(e)) throw e;
                    // The service account the instance runs as: the IAM fake's stub accepts any email until IdentityKind is written.
                    String email = GcpKind.serviceAccountEmail(PROJECT, GcpKind.serviceAccountId(environment, desired.address().name()));
                    ObservedResource made = new ObservedResource(desired.address(), email, desired.attributes(), Map.of());
                    standInIdentities.put(desired.address(), made);
                    return made;
                }
            }

            @Override
            public ObservedResource update(Environment environment, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
                return real.update(environment, current, desired, changes);
            }

            @Override
            public void delete(Environment environment, ObservedResource current) {
                if (current.address().type() == ResourceType.IDENTITY && standInIdentities.remove(current.address()) != null) return;
                real.delete(environment, current);
            }

            @Override
            public long requestCount() {
                return real.requestCount();
            }

            @Override
            public void close() {
                real.close();
            }
        };
    }

    private static boolean notWrittenYet(io.mlctl.provider.DriverException e) {
        return "not yet".equals(e.getMessage());
    }

    private volatile long lastRequests;

    /** Requests the last plan's driver sent (every HTTP request counted by the driver's transport). */
    long requestsOfLastPlan() {
        return lastRequests;
    }

    private Engine engine(Driver d) {
        Clock clock = Clock.fixed(Cli.NOW, ZoneOffset.UTC);
        RetryPolicy retry = new RetryPolicy(6, Duration.ofMillis(20), Duration.ofMillis(200), x -> Thread.sleep(x.toMillis()), new Random(7));
        return new Engine(d, dir.resolve("state"), clock, retry);
    }

    static Environment env(String yaml) {
        return Specs.env(yaml);
    }

    Plan plan(Environment env) {
        try (Driver d = driver()) {
            Plan p = engine(d).plan(env, PlanOptions.defaults(Cli.NOW));
            lastRequests = d.requestCount();
            return p;
        }
    }

    ApplyResult apply(Environment env) {
        return run(env, false);
    }

    ApplyResult destroy(Environment env) {
        return run(env, true);
    }

    private ApplyResult run(Environment env, boolean destroy) {
        failed.clear();
        try (Driver d = driver()) {
            Engine.Observer observer = new Engine.Observer() {
                @Override
                public void retrying(Step step, int attempt, Duration delay, String error) {
                    retried.add(step + ": " + error);
                }

                @Override
                public void failed(Step step, String error) {
                    failed.add(step + ": " + error);
                }
            };
            Engine.ApplyOutcome out = engine(d).apply(env, new Engine.ApplyRequest(new PlanOptions(destroy, Set.of(), Cli.NOW), Optional.empty(),
                true, 4, "test"), p -> true, observer);
            return out.result().orElse(new ApplyResult(0, 0, 0, Map.of(), List.of(), List.of()));
        }
    }

    @Override
    public void close() {
        fakes.close();
    }
}
