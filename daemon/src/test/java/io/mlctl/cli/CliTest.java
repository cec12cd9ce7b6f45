package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class CliTest {
    @TempDir
    Path dir;
    Cli cli;
    String spec;

    @BeforeEach
    void setUp() {
        cli = new Cli(dir);
        spec = Fixtures.write(dir, "specs/dev.yaml", Fixtures.smallEnv("dev")).toString();
    }

    private static JsonNode json(String text) {
        return JsonMapper.builder().build().readTree(text);
    }

    @Test
    void applyThenPlanShowsNoChanges() {
        Cli.Result apply = cli.run("apply", "--sandbox", "--auto-approve", spec);
        assertThat(apply.exitCode()).as(apply.toString()).isZero();
        assertThat(apply.out()).contains("Plan: 4 to add, 0 to change, 0 to destroy.")
            .contains("instance.gpu-1: Creation complete").contains("[id=i-")
            .contains("Apply complete! Resources: 4 added, 0 changed, 0 destroyed.");
        Cli.Result plan = cli.run("plan", "--sandbox", "--detailed-exitcode", spec);
        assertThat(plan.exitCode()).as(plan.toString()).isZero();
        assertThat(plan.out()).contains("No changes.");
    }

    @Test
    void detailedExitcodeIsTwoWhenThereAreChanges() {
        assertThat(cli.run("plan", "--sandbox", "--detailed-exitcode", spec).exitCode()).isEqualTo(2);
        assertThat(cli.run("plan", "--sandbox", spec).exitCode()).isZero();
    }

    @Test
    void jsonPlanHasFormatVersionSummaryAndCloudIds() {
        cli.run("apply", "--sandbox", "--auto-approve", spec);
        cli.run("sandbox", "set", "-e", "dev", "bucket.dev-data", "versioning=false");
        Cli.Result r = cli.run("plan", "--sandbox", "--format", "json", spec);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        JsonNode plan = json(r.out());
        assertThat(plan.get("formatVersion").asString()).isEqualTo("1.1");
        assertThat(plan.at("/summary/update").asInt()).isEqualTo(1);
        assertThat(plan.at("/summary/create").asInt()).isZero();
        JsonNode change = plan.at("/resourceChanges/0");
        assertThat(change.get("address").asString()).isEqualTo("bucket.dev-data");
        assertThat(change.get("cloudId").asString()).isEqualTo("dev-data");
        assertThat(change.at("/changes/0/path").asString()).isEqualTo("versioning");
        assertThat(change.at("/changes/0/before").asBoolean()).isFalse();
        assertThat(change.at("/changes/0/after").asBoolean()).isTrue();
        assertThat(plan.get("unchanged").size()).isEqualTo(3);
        assertThat(plan.at("/unchanged/0/cloudId").asString()).isNotBlank();
    }

    @Test
    void outOfBandDriftIsShownAndCorrected() {
        cli.run("apply", "--sandbox", "--auto-approve", spec);
        cli.run("sandbox", "set", "-e", "dev", "instance.gpu-1", "diskGb=50");
        Cli.Result plan = cli.run("plan", "--sandbox", spec);
        assertThat(plan.out()).contains("# instance.gpu-1 will be updated in place").contains("~ diskGb = 50 -> 100");
        Cli.Result apply = cli.run("apply", "--sandbox", "--auto-approve", spec);
        assertThat(apply.out()).as(apply.toString()).contains("Apply complete! Resources: 0 added, 1 changed, 0 destroyed.");
        assertThat(cli.run("plan", "--sandbox", "--detailed-exitcode", spec).exitCode()).isZero();
    }

    @Test
    void outOfBandDeleteIsRecreated() {
        cli.run("apply", "--sandbox", "--auto-approve", spec);
        cli.run("sandbox", "delete", "-e", "dev", "bucket.dev-data");
        Cli.Result plan = cli.run("plan", "--sandbox", spec);
        assertThat(plan.out()).contains("# bucket.dev-data will be created").contains("Plan: 1 to add");
    }

    @Test
    void markdownPlanIsReadyForAPullRequest() {
        Cli.Result r = cli.run("plan", "--sandbox", "--format", "markdown", spec);
        assertThat(r.out()).startsWith("### mlctl plan: `dev` (aws, account 000000000000, us-east-1)")
            .contains("| create | `network.net` | (new) |").contains("```diff").contains("+ instance.gpu-1");
    }

    @Test
    void savedPlanAppliesOnlyWhileSpecAndCloudAreUnchanged() throws Exception {
        Cli.Result saved = cli.run("plan", "--sandbox", "--out", "p.json", spec);
        assertThat(saved.exitCode()).as(saved.toString()).isZero();
        Cli.Result shown = cli.run("show", "p.json");
        assertThat(shown.out()).contains("Plan: 4 to add");

        // The cloud changes behind the plan's back: applying it now would not do what was reviewed.
        Fixtures.write(dir, "other.yaml", Fixtures.smallEnv("dev").replace("versioning: true", "versioning: false"));
        cli.run("apply", "--sandbox", "--auto-approve", "--target", "bucket.dev-data", dir.resolve("other.yaml").toString());
        Cli.Result stale = cli.run("apply", "--sandbox", "--plan", "p.json", spec);
        assertThat(stale.exitCode()).isEqualTo(1);
        assertThat(stale.err()).contains("the saved plan is stale: what environment dev owns in the cloud changed since it was made (bucket.dev-data added)");

        Cli.Result replan = cli.run("plan", "--sandbox", "--out", "p2.json", spec);
        assertThat(replan.exitCode()).isZero();
        Files.writeString(Path.of(spec), Fixtures.smallEnv("dev").replace("g4dn.xlarge", "g5.xlarge"));
        Cli.Result specChanged = cli.run("apply", "--sandbox", "--plan", "p2.json", spec);
        assertThat(specChanged.exitCode()).isEqualTo(1);
        assertThat(specChanged.err()).contains("the spec of environment dev changed since it was made (instance.gpu-1 changed)");
        assertThat(cli.run("sandbox", "list", "-e", "dev").out()).contains("1 resource in the sandbox");
    }

    @Test
    void savedPlanIsAppliedExactly() {
        cli.run("plan", "--sandbox", "--out", "p.json", spec);
        Cli.Result r = cli.run("apply", "--sandbox", "--plan", "p.json", spec);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Apply complete! Resources: 4 added");
    }

    @Test
    void corruptOrForeignPlanFilesAreRefused() {
        Fixtures.write(dir, "junk.json", "{not json");
        Cli.Result junk = cli.run("apply", "--sandbox", "--plan", "junk.json", spec);
        assertThat(junk.exitCode()).isEqualTo(1);
        assertThat(junk.err()).startsWith("Error: junk.json: not a valid plan file").doesNotContain("Exception");

        cli.run("plan", "--sandbox", "--out", "p.json", spec);
        String edited = Fixtures.read(dir.resolve("p.json")).replace("g4dn.xlarge", "p4d.24xlarge");
        Fixtures.write(dir, "edited.json", edited);
        Cli.Result tampered = cli.run("show", "edited.json");
        assertThat(tampered.exitCode()).isEqualTo(1);
        assertThat(tampered.err()).contains("edited.json: plan file is corrupt or was edited (checksum mismatch)");
        assertThat(cli.run("sandbox", "list").out()).contains("0 resources");
    }

    @Test
    void massDeleteIsRefusedUnlessAllowed() {
        String buckets = "    - type: bucket\n      name: b-1\n    - type: bucket\n      name: b-2\n";
        Fixtures.write(dir, "specs/dev.yaml", Fixtures.smallEnv("dev") + buckets);
        cli.run("apply", "--sandbox", "--auto-approve", spec);
        Fixtures.write(dir, "specs/dev.yaml", Fixtures.smallEnv("dev").replaceAll("(?s)    - type: identity.*", ""));
        Cli.Result refused = cli.run("apply", "--sandbox", "--auto-approve", spec);
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("refusing to apply: this plan deletes 4 of the 6 resources").contains("--allow-mass-delete");
        assertThat(cli.run("sandbox", "list", "-e", "dev").out()).contains("6 resources");
        Cli.Result allowed = cli.run("apply", "--sandbox", "--auto-approve", "--allow-mass-delete", spec);
        assertThat(allowed.out()).as(allowed.toString()).contains("0 added, 0 changed, 4 destroyed");
    }

    @Test
    void destroyRemovesEverythingOwnedAndNothingElse() {
        cli.run("apply", "--sandbox", "--auto-approve", spec);
        Fixtures.write(dir, "specs/other.yaml", Fixtures.smallEnv("other"));
        cli.run("apply", "--sandbox", "--auto-approve", "--env", "other", dir.resolve("specs").toString());
        Cli.Result d = cli.run("destroy", "--sandbox", "--auto-approve", "--env", "dev", dir.resolve("specs").toString());
        assertThat(d.exitCode()).as(d.toString()).isZero();
        assertThat(d.out()).contains("Destroy complete! Resources: 0 added, 0 changed, 4 destroyed.");
        assertThat(cli.run("sandbox", "list", "-e", "dev").out()).contains("0 resources");
        assertThat(cli.run("sandbox", "list", "-e", "other").out()).contains("4 resources");
    }

    @Test
    void unownedResourcesAreNeverTouched() {
        cli.run("apply", "--sandbox", "--auto-approve", spec);
        cli.run("sandbox", "untag", "-e", "dev", "bucket.dev-data");
        // The bucket's name is now taken by something mlctl does not own: creating it again must fail, not adopt or delete it.
        Cli.Result r = cli.run("apply", "--sandbox", "--auto-approve", spec);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("bucket.dev-data: the name dev-data is already taken by dev-data (not managed by mlctl)");
        Cli.Result d = cli.run("destroy", "--sandbox", "--auto-approve", spec);
        assertThat(d.exitCode()).as(d.toString()).isZero();
        assertThat(cli.run("sandbox", "list").out()).contains("1 resource in the sandbox").contains("dev-data");
    }

    @Test
    void interactiveApplyNeedsYes() {
        Cli.Result no = cli.runWithInput("no\n", "apply", "--sandbox", spec);
        assertThat(no.exitCode()).isEqualTo(1);
        assertThat(no.out()).contains("Only 'yes' will be accepted");
        assertThat(no.err()).contains("Apply cancelled.");
        assertThat(cli.run("sandbox", "list").out()).contains("0 resources");
        Cli.Result yes = cli.runWithInput("yes\n", "apply", "--sandbox", spec);
        assertThat(yes.exitCode()).as(yes.toString()).isZero();
        assertThat(yes.out()).contains("Apply complete!");
    }

    @Test
    void invalidSpecChangesNothingAndPrintsNoStackTrace() {
        Fixtures.write(dir, "specs/dev.yaml", Fixtures.smallEnv("dev").replace("g4dn.xlarge", "g4dn.xlarg"));
        Cli.Result r = cli.run("apply", "--sandbox", "--auto-approve", spec);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("specs/dev.yaml:26:20: unknown machine type 'g4dn.xlarg' for aws (did you mean 'g4dn.xlarge'?)\n1 error\n");
        assertThat(r.err()).doesNotContain("at io.mlctl");
        assertThat(Files.exists(cli.sandboxDir().resolve("aws"))).isFalse();
        assertThat(cli.run("--stacktrace", "apply", "--sandbox", "--auto-approve", spec).err()).contains("at io.mlctl");
    }

    @Test
    void secondConcurrentApplyIsLockedOut() {
        try (var lock = io.mlctl.apply.EnvironmentLock.acquire(cli.stateDir().resolve("dev"), "dev", "mlctl daemon", Cli.NOW)) {
            Cli.Result r = cli.run("apply", "--sandbox", "--auto-approve", spec);
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.err()).startsWith("Error: environment dev is locked by mlctl daemon (pid ");
        }
        assertThat(cli.run("apply", "--sandbox", "--auto-approve", spec).exitCode()).isZero();
    }

    @Test
    void plainMlctlPrintsTheHelpAndFails() {
        Cli.Result r = cli.run();
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("Usage: mlctl").contains("Commands:");
        assertThat(r.out()).isEmpty();
        assertThat(cli.run("--help").exitCode()).as("asking for help is no error").isZero();
    }

    @Test
    void anUnknownTargetIsAnErrorNamingTheClosestAddress() {
        for (String[] command : new String[][] {{"plan"}, {"apply", "--auto-approve"}}) {
            Cli.Result r = cli.run(java.util.stream.Stream.concat(java.util.Arrays.stream(command),
                java.util.stream.Stream.of("--sandbox", "--target", "bucket.dev-dta", spec)).toArray(String[]::new));
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
            assertThat(r.err()).isEqualTo("Error: --target bucket.dev-dta: no such resource in environment dev; the closest address is bucket.dev-data\n");
        }
        assertThat(cli.run("sandbox", "list", "-e", "dev").out()).as("nothing applied").doesNotContain("bucket.dev-data");
        // A resource only the cloud still has (about to be pruned) is a fine target too.
        assertThat(cli.run("apply", "--sandbox", "--auto-approve", "--target", "bucket.dev-data", spec).exitCode()).isZero();
        Path pruned = Fixtures.write(dir, "pruned.yaml", Fixtures.smallEnv("dev").replace("dev-data", "dev-other"));
        Cli.Result prune = cli.run("plan", "--sandbox", "--target", "bucket.dev-data", pruned.toString());
        assertThat(prune.exitCode()).as(prune.toString()).isZero();
        assertThat(prune.out()).contains("bucket.dev-data").contains("1 to destroy");
    }

    @Test
    void azureWithoutASubscriptionSaysWhereToSetOne() {
        // HOME without an Azure CLI profile: no default subscription to fall back on.
        cli.env("HOME", cli.cwd().toString());
        Cli.Result r = cli.run("plan", Fixtures.examples().resolve("azure-nlp.yaml").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: no Azure subscription for environment nlp-azure: set spec.account, AZURE_SUBSCRIPTION_ID, "
            + "or 'az account set'\n");
    }

    @Test
    void gcpWithoutAProjectSaysWhereToSetOne() {
        // Only where gcloud has no project of its own to offer (else the driver would rightly use it).
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("GOOGLE_CLOUD_PROJECT") == null && System.getenv("CLOUDSDK_CORE_PROJECT") == null
            && !java.nio.file.Files.exists(java.nio.file.Path.of(System.getProperty("user.home"), ".config", "gcloud")), "gcloud is configured here");
        Cli.Result r = cli.run("plan", Fixtures.examples().resolve("gcp-vision.yaml").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: no GCP project for environment vision-gcp: set spec.account, GOOGLE_CLOUD_PROJECT, "
            + "or 'gcloud config set project'\n");
    }

    @Test
    void inventoryAndGraph() {
        cli.run("apply", "--sandbox", "--auto-approve", spec);
        JsonNode inv = json(cli.run("inventory", "--sandbox", "--format", "json", spec).out());
        assertThat(inv.get("environment").asString()).isEqualTo("dev");
        assertThat(inv.get("resources").size()).isEqualTo(4);
        assertThat(inv.at("/resources/0/address").asString()).isEqualTo("network.net");
        assertThat(inv.at("/resources/0/cloudId").asString()).startsWith("vpc-");
        assertThat(inv.at("/resources/0/attributes/cidr").asString()).isEqualTo("10.0.0.0/16");
        assertThat(cli.run("graph", spec).out()).contains("\"instance.gpu-1\" -> \"network.net\";");
    }

    @Test
    void helpAndUsageErrors() {
        assertThat(cli.run("--help").out()).contains("Usage: mlctl").contains("plan").contains("Exit codes:");
        assertThat(cli.run("plan", "--help").out()).contains("--detailed-exitcode").contains("--target");
        Cli.Result bad = cli.run("plan", "--format", "yaml", spec);
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("Invalid value for option '--format'");
        assertThat(cli.run("completion").out()).contains("complete -F");
    }
}
