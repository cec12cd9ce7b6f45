package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A targeted plan says so in every format, and destroy takes --target with the same checks as plan and apply. */
class TargetingTest {
    private static final String WARNING = "Warning: Resource targeting is in effect";

    @TempDir
    Path dir;
    Cli cli;
    String spec;

    @BeforeEach
    void setUp() {
        cli = new Cli(dir);
        spec = Fixtures.write(dir, "specs/dev.yaml", Fixtures.smallEnv("dev")).toString();
    }

    @Test
    void aTargetedPlanSaysTargetingIsInEffectInTextMarkdownAndJson() {
        Cli.Result text = cli.run("plan", "--sandbox", "--target", "bucket.dev-data", "--target", "network.net", spec);
        assertThat(text.exitCode()).as(text.toString()).isZero();
        assertThat(text.out()).contains("Plan: 2 to add, 0 to change, 0 to destroy.")
            .contains("\n" + WARNING + "\n\nYou are creating a plan with the --target option (network.net, bucket.dev-data), which means that "
                + "the result of this plan may not represent all of the changes requested by the current spec.\n\nThe --target option is not "
                + "for routine use, and is provided only for exceptional situations such as recovering from errors or mistakes.\n");
        assertThat(text.out().indexOf(WARNING)).as("after the plan, as terraform prints it").isGreaterThan(text.out().indexOf("Plan: 2 to add"));

        Cli.Result md = cli.run("plan", "--sandbox", "--format", "markdown", "--target", "bucket.dev-data", spec);
        assertThat(md.out()).contains("> **Warning: Resource targeting is in effect**\n>\n> You are creating a plan with the `--target` option "
            + "(bucket.dev-data)");
        assertThat(md.out().indexOf("Resource targeting")).as("above the table, where a reviewer looks first").isLessThan(md.out().indexOf("| Action"));

        JsonNode json = JsonMapper.builder().build().readTree(cli.run("plan", "--sandbox", "--format", "json", "--target", "bucket.dev-data",
            "--target", "network.net", spec).out());
        assertThat(json.get("targets").toString()).isEqualTo("[\"network.net\",\"bucket.dev-data\"]");
        assertThat(json.at("/summary/create").asInt()).isEqualTo(2);
    }

    @Test
    void aWholePlanHasNoTargetingWarningAndAnEmptyTargetList() {
        Cli.Result text = cli.run("plan", "--sandbox", spec);
        assertThat(text.out()).doesNotContain("targeting");
        assertThat(cli.run("plan", "--sandbox", "--format", "markdown", spec).out()).doesNotContain("targeting");
        JsonNode json = JsonMapper.builder().build().readTree(cli.run("plan", "--sandbox", "--format", "json", spec).out());
        assertThat(json.get("targets").isArray()).isTrue();
        assertThat(json.get("targets").size()).isZero();
    }

    @Test
    void aTargetedPlanWithNoChangesStillSaysTargetingIsInEffect() {
        cli.run("apply", "--sandbox", "--auto-approve", spec);
        Cli.Result text = cli.run("plan", "--sandbox", "--target", "bucket.dev-data", spec);
        assertThat(text.out()).startsWith("No changes.").contains(WARNING);
        assertThat(cli.run("plan", "--sandbox", "--format", "markdown", "--target", "bucket.dev-data", spec).out())
            .contains("**No changes.**").contains("Resource targeting is in effect");
    }

    @Test
    void aSavedTargetedPlanKeepsItsTargets() {
        cli.run("plan", "--sandbox", "--target", "bucket.dev-data", "--out", "dev.plan", spec);
        Cli.Result show = cli.run("show", "dev.plan");
        assertThat(show.exitCode()).as(show.toString()).isZero();
        assertThat(show.out()).contains(WARNING).contains("(bucket.dev-data)");
    }

    @Test
    void destroyTargetDestroysOnlyThatAndWhatRefersToIt() {
        cli.run("apply", "--sandbox", "--auto-approve", spec);
        Cli.Result one = cli.run("destroy", "--sandbox", "--auto-approve", "--target", "instance.gpu-1", spec);
        assertThat(one.exitCode()).as(one.toString()).isZero();
        assertThat(one.out()).contains("Plan: 0 to add, 0 to change, 1 to destroy.").contains(WARNING)
            .contains("Destroy complete! Resources: 0 added, 0 changed, 1 destroyed.");
        assertThat(cli.run("sandbox", "list", "-e", "dev").out()).contains("3 resources").doesNotContain("instance.gpu-1");

        cli.run("apply", "--sandbox", "--auto-approve", spec);
        // The identity is granted the bucket and the instance runs as the identity: they go with it, the network stays.
        Cli.Result chain = cli.run("destroy", "--sandbox", "--auto-approve", "--target", "bucket.dev-data", spec);
        assertThat(chain.exitCode()).as(chain.toString()).isZero();
        assertThat(chain.out()).contains("bucket.dev-data will be destroyed").contains("identity.trainer will be destroyed")
            .contains("instance.gpu-1 will be destroyed").doesNotContain("network.net will be destroyed")
            .contains("0 added, 0 changed, 3 destroyed.");
        String left = cli.run("sandbox", "list", "-e", "dev").out();
        assertThat(left).contains("1 resource ").contains("network.net");
    }

    @Test
    void aTargetedApplyWarnsItMayBeIncompleteAndATargetedDestroyAsksAboutItsTargetsOnly() {
        Cli.Result applied = cli.run("apply", "--sandbox", "--auto-approve", "--target", "bucket.dev-data", spec);
        assertThat(applied.exitCode()).as(applied.toString()).isZero();
        assertThat(applied.out()).contains("Apply complete! Resources: 1 added").contains("Warning: Applied changes may be incomplete")
            .contains("Run mlctl plan without --target");
        Cli.Result whole = cli.run("apply", "--sandbox", "--auto-approve", spec);
        assertThat(whole.out()).doesNotContain("may be incomplete");

        Cli.Result declined = cli.runWithInput("no\n", "destroy", "--sandbox", "--target", "instance.gpu-1", spec);
        assertThat(declined.out()).contains("Do you really want to destroy the targeted resources of dev?")
            .doesNotContain("destroy all resources");
        assertThat(declined.exitCode()).isEqualTo(1);
        assertThat(cli.run("sandbox", "list", "-e", "dev").out()).contains("4 resources");
        Cli.Result all = cli.runWithInput("no\n", "destroy", "--sandbox", spec);
        assertThat(all.out()).contains("Do you really want to destroy all resources of dev?");
    }

    @Test
    void aSavedPlanCannotBeNarrowedByTargetAtApplyTime() {
        Cli.Result saved = cli.run("plan", "--sandbox", "--out", "whole.plan", spec);
        assertThat(saved.exitCode()).as(saved.toString()).isIn(0, 2);
        Cli.Result r = cli.run("apply", "--sandbox", "--target", "bucket.dev-data", "whole.plan");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("--target cannot narrow a saved plan");
        assertThat(cli.run("sandbox", "list", "-e", "dev").out()).contains("0 resources");
    }

    @Test
    void aSavedTargetedDestroyPlanDestroysOnlyItsTargets() {
        cli.run("apply", "--sandbox", "--auto-approve", spec);
        Cli.Result plan = cli.run("plan", "--sandbox", "--destroy", "--target", "instance.gpu-1", "--out", "d.plan", spec);
        assertThat(plan.out()).contains("Plan: 0 to add, 0 to change, 1 to destroy.").contains(WARNING);
        Cli.Result apply = cli.run("apply", "--sandbox", "--plan", "d.plan", spec);
        assertThat(apply.exitCode()).as(apply.toString()).isZero();
        assertThat(cli.run("sandbox", "list", "-e", "dev").out()).contains("3 resources").doesNotContain("instance.gpu-1");
    }

    @Test
    void destroyRefusesAnUnknownTargetOrAComponentAndChangesNothing() {
        cli.run("apply", "--sandbox", "--auto-approve", spec);
        Cli.Result typo = cli.run("destroy", "--sandbox", "--auto-approve", "--target", "bucket.dev-dta", spec);
        assertThat(typo.exitCode()).isEqualTo(1);
        assertThat(typo.err()).isEqualTo("Error: --target bucket.dev-dta: no such resource in environment dev; the closest address is bucket.dev-data\n");
        Cli.Result subnet = cli.run("destroy", "--sandbox", "--auto-approve", "--target", "network.net.subnet.train", spec);
        assertThat(subnet.exitCode()).isEqualTo(1);
        assertThat(subnet.err()).isEqualTo("Error: --target network.net.subnet.train: destroy takes whole resources (network.net), not a subnet "
            + "or node pool; to remove it alone, remove it from the spec and apply\n");
        assertThat(cli.run("sandbox", "list", "-e", "dev").out()).contains("4 resources");
    }
}
