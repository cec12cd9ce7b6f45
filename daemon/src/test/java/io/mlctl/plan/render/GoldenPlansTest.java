package io.mlctl.plan.render;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.cost.CostModel;
import io.mlctl.cost.PlanCosts;
import io.mlctl.cost.PriceCatalog;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * plans/ holds the plan of every example against an empty cloud, as reviewers would see it in a pull
 * request, priced as the engine prices plans (with the prices shipped in the jar). This test regenerates
 * them and fails when the committed files drift from what the code produces. To accept a deliberate
 * change: mvn test -Dtest=GoldenPlansTest -Dmlctl.updateGolden=true
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
            Plan plan = priced(env, Inventory.empty(env.name()),
                new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(env, Inventory.empty(env.name()), PlanOptions.defaults(CREATED)));
            assertThat(plan.cost().orElseThrow().after().high()).as(env.name() + " costs something").isPositive();
            check(plans.resolve(env.name() + ".md"), new MarkdownRenderer().render(plan), update, drifted);
            check(plans.resolve(env.name() + ".txt"), new TextRenderer(false).render(plan), update, drifted);
            check(plans.resolve(env.name() + ".json"), new PlanJson().write(plan), update, drifted);
        }
        assertThat(drifted).as("plans/ files that differ from the generated plans (regenerate with -Dmlctl.updateGolden=true)").isEmpty();
    }

    /**
     * plans/training-dev-changes.*: the AWS example against a cloud that holds an older version of it, so that reviewers see
     * how changes inside lists read: one node pool's max, one subnet's flag, one firewall rule's ports, one lifecycle rule's
     * storage class and a rule added, one grant's actions; text and Markdown show only what changed, JSON the full before/after.
     */
    @Test
    void committedUpdatePlanMatchesWhatTheCodeProduces() throws IOException {
        Path plans = Fixtures.repoRoot().resolve("plans");
        boolean update = Boolean.getBoolean("mlctl.updateGolden");
        String example = Files.readString(Fixtures.examples().resolve("aws-training.yaml"));
        String older = example.replace("max: 4", "max: 2")
            .replaceFirst("zone: us-east-1b\n          private: true", "zone: us-east-1b\n          private: false")
            .replace("ports: [22]", "ports: [22, 443]")
            .replace("storageClass: archive", "storageClass: cold")
            .replace("        - noncurrentExpireDays: 90\n", "")
            .replace("actions: [storage.read, storage.write]", "actions: [storage.read]");
        assertThat(older).as("every change applies to the example").isNotEqualTo(example);
        Environment env = Specs.env(example);
        Environment cloud = Specs.env(older);
        Map<Address, ObservedResource> observed = new TreeMap<>();
        for (ResourceSpec r : cloud.resources()) {
            observed.put(r.address(), new ObservedResource(r.address(), "id-" + r.address().name(), r.attributes(), Map.of()));
        }
        Inventory inventory = new Inventory(env.name(), observed, List.of());
        Plan plan = priced(env, inventory, new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(env, inventory, PlanOptions.defaults(CREATED)));
        assertThat(plan.summary().update()).isEqualTo(4);
        List<String> drifted = new ArrayList<>();
        check(plans.resolve("training-dev-changes.md"), new MarkdownRenderer().render(plan), update, drifted);
        check(plans.resolve("training-dev-changes.txt"), new TextRenderer(false).render(plan), update, drifted);
        check(plans.resolve("training-dev-changes.json"), new PlanJson().write(plan), update, drifted);
        assertThat(drifted).as("plans/ files that differ from the generated plans (regenerate with -Dmlctl.updateGolden=true)").isEmpty();
    }

    /**
     * plans/training-dev-import.*: the AWS example where the dataset bucket and the trainer role already exist, made by hand
     * before mlctl (unmarked), and the spec imports them: the role as it is, the bucket with the versioning and lifecycle
     * the spec asks for. Everything else is owned and unchanged.
     */
    @Test
    void committedImportPlanMatchesWhatTheCodeProduces() throws IOException {
        Path plans = Fixtures.repoRoot().resolve("plans");
        boolean update = Boolean.getBoolean("mlctl.updateGolden");
        Environment env = Specs.env(Files.readString(Fixtures.examples().resolve("aws-training.yaml")));
        Map<Address, ObservedResource> unowned = new TreeMap<>();
        for (ResourceSpec r : env.resources()) {
            if (r.address().equals(Address.parse("identity.trainer"))) {
                unowned.put(r.address(), new ObservedResource(r.address(), "arn:aws:iam::123456789012:role/ml-trainer", r.attributes(), Map.of()));
            } else if (r.address().equals(Address.parse("bucket.ml-data-dev"))) {
                Map<String, Object> handMade = new TreeMap<>(r.attributes());
                handMade.put("versioning", false);
                handMade.put("lifecycle", List.of(Map.of("afterDays", 30, "storageClass", "archive")));
                unowned.put(r.address(), new ObservedResource(r.address(), "ml-data-dev", handMade, Map.of("team", "ml")));
            }
        }
        assertThat(unowned).hasSize(2);
        Plan plan = priced(env, ImportPlans.owned(env, unowned), ImportPlans.of(env, unowned, CREATED));
        assertThat(plan.summary().imported()).isEqualTo(2);
        assertThat(plan.summary().update()).as("the identity's import also changes it").isEqualTo(1);
        List<String> drifted = new ArrayList<>();
        check(plans.resolve("training-dev-import.md"), new MarkdownRenderer().render(plan), update, drifted);
        check(plans.resolve("training-dev-import.txt"), new TextRenderer(false).render(plan), update, drifted);
        check(plans.resolve("training-dev-import.json"), new PlanJson().write(plan), update, drifted);
        assertThat(drifted).as("plans/ files that differ from the generated plans (regenerate with -Dmlctl.updateGolden=true)").isEmpty();
    }

    /** Priced as the engine prices every plan, with the prices shipped in the jar (never a refreshed copy on this machine). */
    static Plan priced(Environment env, Inventory inventory, Plan plan) {
        return plan.costing(new PlanCosts(new CostModel(PriceCatalog.shipped())).estimate(env, inventory, plan));
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
