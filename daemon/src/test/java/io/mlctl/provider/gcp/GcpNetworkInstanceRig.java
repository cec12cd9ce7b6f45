package io.mlctl.provider.gcp;

import io.mlctl.apply.ApplyResult;
import io.mlctl.apply.RetryPolicy;
import io.mlctl.engine.Engine;
import io.mlctl.fake.gcp.GcpFakes;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.provider.Driver;
import io.mlctl.spec.Environment;
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
 * runs (inventory, planner, applier with its journal and retries), with the real {@link GcpDriver}.
 */
final class GcpNetworkInstanceRig implements AutoCloseable {
    static final String PROJECT = "mlctl-rig-project";

    final GcpFakes fakes;
    final Path dir;
    final List<String> retried = Collections.synchronizedList(new ArrayList<>());
    final List<String> failed = Collections.synchronizedList(new ArrayList<>());

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

    /** The real driver, every kind real. */
    Driver driver() {
        return new GcpDriver(GcpSettings.fromEnvironment(environment()));
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
