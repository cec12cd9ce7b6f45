package io.mlctl.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.apply.RetryPolicy;
import io.mlctl.plan.Plan;
import io.mlctl.plan.render.PlanJson;
import io.mlctl.planner.PlanOptions;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.Environment;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Specs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** spec.account against the sandbox cloud, whose AWS account is 000000000000. */
class EngineAccountTest {
    @TempDir
    Path dir;

    static Environment env(String accountLine) {
        return Specs.env("""
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata: {name: training-dev}
            spec:
              provider: aws
              region: us-east-1
            %s  resources:
                - {type: bucket, name: data}
            """.formatted(accountLine));
    }

    Engine engine() {
        Clock clock = Clock.fixed(Cli.NOW, ZoneOffset.UTC);
        return new Engine(new SandboxCloud(dir.resolve("sandbox"), Specs.CATALOG, clock), dir.resolve("state"), clock, RetryPolicy.standard(new Random(1)));
    }

    @Test
    void thePlanNamesTheAccountAndRegionItRead() {
        Plan plan = engine().plan(env(""), PlanOptions.defaults(Cli.NOW));
        assertThat(plan.account()).contains(SandboxCloud.ACCOUNT);
        assertThat(plan.where()).isEqualTo("account 000000000000, us-east-1");
        Plan roundTrip = new PlanJson().read(new PlanJson().write(plan), "saved");
        assertThat(roundTrip.account()).contains(SandboxCloud.ACCOUNT);
    }

    @Test
    void anotherAccountThanDeclaredIsRefusedForPlanAndApply() {
        Environment env = env("  account: \"111111111111\"\n");
        assertThatThrownBy(() -> engine().plan(env, PlanOptions.defaults(Cli.NOW)))
            .isInstanceOf(Engine.WrongAccountException.class)
            .hasMessage("environment training-dev declares account 111111111111 but the AWS credentials in use belong to 000000000000; refusing to plan");
        assertThatThrownBy(() -> engine().apply(env, new Engine.ApplyRequest(PlanOptions.defaults(Cli.NOW), Optional.empty(), false, 1, "test"),
            p -> true, new Engine.Observer() { }))
            .hasMessageEndingWith("refusing to apply");
        assertThat(Files.exists(dir.resolve("sandbox").resolve("aws").resolve("bucket"))).isFalse();
    }

    @Test
    void theDeclaredAccountGoesAhead() {
        Plan plan = engine().plan(env("  account: \"000000000000\"\n"), PlanOptions.defaults(Cli.NOW));
        assertThat(plan.summary().create()).isEqualTo(1);
    }

    @Test
    void aSavedPlanOfAnotherAccountIsRefused() {
        Environment env = env("");
        Plan fresh = engine().plan(env, PlanOptions.defaults(Cli.NOW));
        Plan elsewhere = fresh.readFrom("222222222222", "us-east-1");
        assertThatThrownBy(() -> Engine.checkSaved(env, elsewhere, fresh))
            .hasMessage("the saved plan was made for account 222222222222 but the credentials in use belong to 000000000000; refusing to apply it");
        assertThat(Engine.checkSaved(env, fresh, fresh)).isSameAs(fresh);
    }

    @Test
    void aSavedPlanThatDoesNotSayWhichAccountItReadIsRefused() {
        Environment env = env("");
        Plan fresh = engine().plan(env, PlanOptions.defaults(Cli.NOW));
        Plan unknown = new Plan(fresh.formatVersion(), fresh.environment(), fresh.provider(), fresh.region(), Optional.empty(), fresh.createdAt(),
            fresh.destroy(), fresh.targets(), fresh.changes(), fresh.unchanged(), fresh.warnings(), fresh.massDelete(), fresh.fingerprints(),
            fresh.origin());
        assertThatThrownBy(() -> Engine.checkSaved(env, unknown, fresh))
            .hasMessage("the saved plan does not record the account it was made for, so it cannot be checked against the credentials in use "
                + "(000000000000); run mlctl plan again");
        assertThatThrownBy(() -> Engine.checkSaved(env, fresh, unknown))
            .hasMessage("the saved plan was made for account 000000000000 but the account of the credentials in use is unknown; refusing to apply it");
    }
}
