package io.mlctl.plan.render;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.inventory.Inventory;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.spec.Environment;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * plans/ holds the plan of every example against an empty cloud, as reviewers would see it in a pull
 * request. This test regenerates them and fails when the committed files drift from what the code
 * produces. To accept a deliberate change: mvn test -Dtest=GoldenPlansTest -Dmlctl.updateGolden=true
 */
class GoldenPlansTest {
    private static final Instant CREATED = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void committedPlansMatchWhatTheCodeProduces() throws IOException {
        Path plans = Fixtures.repoRoot().resolve("plans");
        boolean update = Boolean.getBoolean("mlctl.updateGolden");
        List<String> drifted = new ArrayList<>();
        List<Environment> envs = Specs.load(Fixtures.examples()).environments();
        assertThat(envs).hasSize(6);
        for (Environment env : envs) {
            Plan plan = new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(env, Inventory.empty(env.name()), PlanOptions.defaults(CREATED));
            check(plans.resolve(env.name() + ".md"), new MarkdownRenderer().render(plan), update, drifted);
            check(plans.resolve(env.name() + ".txt"), new TextRenderer(false).render(plan), update, drifted);
            check(plans.resolve(env.name() + ".json"), new PlanJson().write(plan), update, drifted);
        }
        assertThat(drifted).as("plans/ files that differ from the generated plans (regenerate with -Dmlctl.updateGolden=true)").isEmpty();
    }

    private static void check(Path file, String actual, boolean update, List<String> drifted) throws IOException {
        if (update) {
            Files.createDirectories(file.getParent());
            Files.writeString(file, actual);
            return;
        }
        String expected = Files.exists(file) ? Files.readString(file) : "";
        if (!expected.equals(actual)) drifted.add(file.getFileName().toString());
    }
}
