package io.mlctl.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.apply.RetryPolicy;
import io.mlctl.engine.Engine;
import io.mlctl.fake.azure.ArmFake;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.spec.Environment;
import io.mlctl.testing.Specs;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * The real engine (planner, applier, journal, retries) over the real Azure driver and SDK against
 * the ARM fake, for the Azure tests. The subscription comes from {@code AZURE_SUBSCRIPTION_ID}, as
 * a user without {@code spec.account} would set it.
 */
final class AzureRig implements AutoCloseable {
    static final String SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
    static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    final ArmFake arm;
    final AzureDriver azure;
    final Engine engine;
    final Path dir;

    AzureRig(Path dir) throws Exception {
        this(dir, ArmFake.start());
    }

    AzureRig(Path dir, ArmFake arm) {
        this(dir, arm, AzureDriver::new);
    }

    /** With a driver of the test's own making (e.g. with stand-in kinds for another helper's types). */
    AzureRig(Path dir, ArmFake arm, java.util.function.Function<AzureSettings, AzureDriver> driver) {
        this.dir = dir;
        this.arm = arm;
        Map<String, String> env = new HashMap<>();
        env.put(AzureSettings.ENDPOINT_VARIABLE, arm.endpoint());
        env.put("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION);
        env.put("HOME", dir.toString());
        this.azure = driver.apply(AzureSettings.fromEnvironment(env));
        this.engine = new Engine(azure, dir.resolve("state"), Clock.fixed(NOW, ZoneOffset.UTC),
            new RetryPolicy(6, Duration.ofMillis(1), Duration.ofMillis(5), d -> { }, new Random(7)));
    }

    /** An azure environment in eastus with these resources (YAML list items, indented as under {@code resources:}). */
    Environment env(String name, String labels, String resources) {
        return Specs.env("""
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: %s
              labels: {%s}
            spec:
              provider: azure
              region: eastus
              resources:
            %s""".formatted(name, labels, resources.indent(4)));
    }

    /** The environment's resource group id, where everything of it lives. */
    String group(String env) {
        return "/subscriptions/" + SUBSCRIPTION + "/resourceGroups/" + env;
    }

    /** An id under the environment's resource group: {@code id("dev", "Microsoft.Network/virtualNetworks/net")}. */
    String id(String env, String providerPath) {
        return group(env) + "/providers/" + providerPath;
    }

    Plan plan(Environment env) {
        return engine.plan(env, new PlanOptions(false, Set.of(), NOW));
    }

    Engine.ApplyOutcome run(Environment env, boolean destroy) {
        return engine.apply(env, new Engine.ApplyRequest(new PlanOptions(destroy, Set.of(), NOW), Optional.empty(), true, 4, "test"),
            p -> true, new Engine.Observer() { });
    }

    /** Applies and expects success; returns the plan it carried out. */
    Plan apply(Environment env) {
        Engine.ApplyOutcome o = run(env, false);
        o.result().ifPresent(r -> assertThat(r.failures()).as("apply failures").isEmpty());
        return o.plan();
    }

    /** Applies and expects failures; returns them. */
    List<String> applyFailing(Environment env) {
        Engine.ApplyOutcome o = run(env, false);
        assertThat(o.result()).isPresent();
        assertThat(o.result().get().failures()).isNotEmpty();
        return o.result().get().failures();
    }

    Plan destroy(Environment env) {
        Engine.ApplyOutcome o = run(env, true);
        o.result().ifPresent(r -> assertThat(r.failures()).as("destroy failures").isEmpty());
        return o.plan();
    }

    /** Resource Graph queries since the last count reset that list {@code armTypeFragment} (e.g. "storageaccounts"). */
    long graphQueries(String armTypeFragment) {
        return arm.faults().count("^POST /providers/Microsoft.ResourceGraph/resources .*" + armTypeFragment);
    }

    /** Requests since the last count reset that were not Resource Graph queries (reads and writes of resources). */
    long nonGraphRequests() {
        return arm.faults().total() - arm.faults().count("^POST /providers/Microsoft.ResourceGraph/resources");
    }

    static List<String> paths(Plan p) {
        return p.changes().stream().flatMap(c -> c.attributes().stream().map(a -> c.address() + ":" + a.path())).toList();
    }

    @Override
    public void close() {
        azure.close();
        arm.close();
    }
}
