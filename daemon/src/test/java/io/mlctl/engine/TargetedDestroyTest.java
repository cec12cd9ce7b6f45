package io.mlctl.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.apply.RetryPolicy;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Plan;
import io.mlctl.plan.render.PlanJson;
import io.mlctl.planner.PlanOptions;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.Driver;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.Target;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Specs;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A destroy tells the driver the environment is released (an Azure resource group may go) only when it destroyed
 * everything: never after a targeted destroy, whether planned now or saved with --target and applied with --plan.
 */
class TargetedDestroyTest {
    @TempDir
    Path dir;

    static final Environment ENV = Specs.env("""
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata: {name: dev}
        spec:
          provider: aws
          region: us-east-1
          resources:
            - {type: bucket, name: data}
            - {type: bucket, name: logs}
        """);

    /** The sandbox cloud, counting released() calls. */
    static final class Recording implements Driver {
        final SandboxCloud cloud;
        int released;

        Recording(SandboxCloud cloud) {
            this.cloud = cloud;
        }

        public String name() { return cloud.name(); }
        public ResourceRules rules(ResourceType kind) { return cloud.rules(kind); }
        public Target target(Environment e) { return cloud.target(e); }
        public Page list(Environment e, ResourceType kind, Optional<String> token) { return cloud.list(e, kind, token); }
        public ObservedResource create(Environment e, ResourceSpec d, CreateRequest r) { return cloud.create(e, d, r); }
        public ObservedResource update(Environment e, ObservedResource c, ResourceSpec d, List<AttributeChange> ch) { return cloud.update(e, c, d, ch); }
        public void delete(Environment e, ObservedResource c) { cloud.delete(e, c); }
        public long requestCount() { return cloud.requestCount(); }
        public void released(Environment e) { released++; }
    }

    private Recording driver;

    private Engine engine() {
        Clock clock = Clock.fixed(Cli.NOW, ZoneOffset.UTC);
        driver = new Recording(new SandboxCloud(dir.resolve("sandbox"), Specs.CATALOG, clock));
        return new Engine(driver, dir.resolve("state"), clock, RetryPolicy.standard(new Random(1)));
    }

    private Engine.ApplyOutcome apply(Engine engine, PlanOptions options, Optional<Plan> saved) {
        return engine.apply(ENV, new Engine.ApplyRequest(options, saved, false, 1, "test"), p -> true, new Engine.Observer() { });
    }

    @Test
    void onlyAWholeDestroyReleasesTheEnvironment() {
        Engine engine = engine();
        apply(engine, PlanOptions.defaults(Cli.NOW), Optional.empty());
        Set<Address> data = Set.of(Address.parse("bucket.data"));

        assertThat(apply(engine, new PlanOptions(true, data, Cli.NOW), Optional.empty()).result().orElseThrow().ok()).isTrue();
        assertThat(driver.released).as("a targeted destroy").isZero();

        apply(engine, PlanOptions.defaults(Cli.NOW), Optional.empty());
        Plan saved = new PlanJson().read(new PlanJson().write(engine.plan(ENV, new PlanOptions(true, data, Cli.NOW))), "saved");
        assertThat(saved.targets()).containsExactly(Address.parse("bucket.data"));
        Engine.ApplyOutcome outcome = apply(engine, new PlanOptions(true, Set.of(), Cli.NOW), Optional.of(saved));
        assertThat(outcome.plan().summary().delete()).isEqualTo(1);
        assertThat(driver.released).as("a saved targeted destroy plan, applied without --target").isZero();
        assertThat(engine.inventory(ENV).resources()).containsOnlyKeys(Address.parse("bucket.logs"));

        apply(engine, new PlanOptions(true, Set.of(), Cli.NOW), Optional.empty());
        assertThat(driver.released).as("a whole destroy").isEqualTo(1);
        assertThat(engine.inventory(ENV).resources()).isEmpty();
    }
}
