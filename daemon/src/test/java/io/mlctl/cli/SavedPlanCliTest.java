package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.plan.Origin;
import io.mlctl.plan.Plan;
import io.mlctl.plan.render.PlanJson;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Saved plans record where they were made; apply takes them alone (terraform's apply tfplan) and refuses them anywhere else. */
class SavedPlanCliTest {
    private static final String SPEC = "specs/dev.yaml";

    @TempDir
    Path dir;
    Cli cli;

    @BeforeEach
    void setUp() {
        cli = new Cli(dir);
        Fixtures.write(dir, SPEC, Fixtures.smallEnv("dev"));
    }

    private Cli.Result planOut(String file, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("plan", "--sandbox", "--out", file));
        args.addAll(List.of(more));
        args.add(SPEC);
        Cli.Result r = cli.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    /** The hint's command, as a person would paste it. */
    private static String[] hint(Cli.Result plan) {
        String line = plan.out().lines().filter(l -> l.startsWith("Saved the plan to ")).findFirst().orElseThrow();
        String command = line.substring(line.indexOf("To apply exactly it: ") + "To apply exactly it: ".length());
        assertThat(command).startsWith("mlctl ");
        return command.substring("mlctl ".length()).split(" ");
    }

    private void assertNothingChanged() {
        assertThat(cli.run("sandbox", "list", "-e", "dev").out()).contains("0 resources");
    }

    /** Refused by the command line itself: the engine (which takes the environment's lock in the state directory) never ran. */
    private void assertRefusedBeforeAnyCloud() {
        assertThat(cli.stateDir().resolve("dev")).doesNotExist();
        assertNothingChanged();
    }

    private Plan read(String file) {
        return new PlanJson().read(Fixtures.read(dir.resolve(file)), file);
    }

    private void write(String file, Plan plan) {
        Fixtures.write(dir, file, new PlanJson().write(plan));
    }

    @Test
    void theHintIsTheExactCommandAndApplyTakesThePlanAlone() {
        Cli.Result plan = planOut("p.json");
        assertThat(plan.out()).endsWith("\nSaved the plan to p.json. To apply exactly it: mlctl apply --sandbox p.json\n");
        Cli.Result apply = cli.run(hint(plan));
        assertThat(apply.exitCode()).as(apply.toString()).isZero();
        assertThat(apply.out()).contains("Apply complete! Resources: 4 added, 0 changed, 0 destroyed.");
        assertThat(cli.run("sandbox", "list", "-e", "dev").out()).contains("4 resources");
    }

    @Test
    void thePlanRecordsWhereItWasMade() {
        planOut("plans/p.json");
        Plan plan = read("plans/p.json");
        assertThat(plan.origin()).contains(Origin.sandbox(cli.sandboxDir().toString(), List.of(SPEC)));
        assertThat(plan.account()).contains("000000000000");
        assertThat(plan.region()).isEqualTo("us-east-1");
        assertThat(plan.provider()).isEqualTo("aws");
        assertThat(Fixtures.read(dir.resolve("plans/p.json"))).contains("\"origin\" : {").contains("\"sandbox\" : true")
            .contains("\"specs\" : [ \"specs/dev.yaml\" ]");
    }

    @Test
    void applyPlanNeedsNoSpecPath() {
        planOut("p.json");
        Cli.Result r = cli.run("apply", "--sandbox", "--plan", "p.json");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Apply complete! Resources: 4 added");
    }

    @Test
    void aDestroyPlanIsAppliedByItsHint() {
        cli.run("apply", "--sandbox", "--auto-approve", SPEC);
        Cli.Result plan = planOut("d.json", "--destroy");
        Cli.Result r = cli.run(hint(plan));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("0 added, 0 changed, 4 destroyed");
    }

    @Test
    void aSandboxPlanIsRefusedOnTheCloud() {
        planOut("p.json");
        for (String[] command : new String[][] {{"apply", "p.json"}, {"apply", "--plan", "p.json"}, {"apply", "--plan", "p.json", SPEC}}) {
            Cli.Result r = cli.run(command);
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
            assertThat(r.err()).isEqualTo("Error: p.json: this plan was made on the sandbox; run mlctl apply --sandbox p.json\n");
        }
        assertRefusedBeforeAnyCloud();
    }

    @Test
    void aCloudPlanIsRefusedOnTheSandbox() {
        planOut("p.json");
        write("cloud.json", read("p.json").readFrom("123456789012", "us-east-1").madeAt(Origin.cloud(List.of(SPEC))));
        Cli.Result r = cli.run("apply", "--sandbox", "cloud.json");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: cloud.json: this plan was made on the cloud (aws, account 123456789012, us-east-1), not the sandbox; "
            + "run mlctl apply cloud.json\n");
        assertRefusedBeforeAnyCloud();
        assertThat(SavedPlans.applyCommand(Path.of("plans/cloud.json"), Origin.cloud(List.of(SPEC)))).isEqualTo("mlctl apply plans/cloud.json");
        assertThat(SavedPlans.applyCommand(Path.of("my plan.json"), Origin.sandbox("/s", List.of(SPEC)))).isEqualTo("mlctl apply --sandbox 'my plan.json'");
    }

    @Test
    void aPlanFromAnotherSandboxIsRefused() {
        planOut("p.json");
        Cli other = new Cli(dir).env("MLCTL_SANDBOX", dir.resolve("other-sandbox").toString());
        Cli.Result r = other.run("apply", "--sandbox", "p.json");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: p.json: this plan was made on the sandbox in " + cli.sandboxDir() + ", not the one in use ("
            + dir.resolve("other-sandbox") + "); set MLCTL_SANDBOX=" + cli.sandboxDir() + " or make the plan again\n");
        assertRefusedBeforeAnyCloud();
    }

    @Test
    void aPlanForAnotherAccountIsRefusedByTheExistingCheck() {
        planOut("p.json");
        write("other.json", read("p.json").readFrom("111111111111", "us-east-1"));
        Cli.Result r = cli.run("apply", "--sandbox", "other.json");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: the saved plan was made for account 111111111111 but the credentials in use belong to 000000000000; "
            + "refusing to apply it\n");
        assertNothingChanged();
    }

    @Test
    void aPlanThatDoesNotSayWhereItWasMadeIsRefused() {
        planOut("p.json");
        Plan p = read("p.json");
        write("old.json", new Plan(p.formatVersion(), p.environment(), p.provider(), p.region(), p.account(), p.createdAt(), p.destroy(),
            p.targets(), p.changes(), p.unchanged(), p.warnings(), p.massDelete(), p.fingerprints(), Optional.empty()));
        assertThat(Fixtures.read(dir.resolve("old.json"))).doesNotContain("origin");
        assertThat(cli.run("show", "old.json").out()).contains("Plan: 4 to add"); // still readable
        Cli.Result r = cli.run("apply", "--sandbox", "--plan", "old.json", SPEC);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: old.json: this plan does not say where it was made (it was saved by an older mlctl); "
            + "make it again with mlctl plan --out old.json\n");
        assertRefusedBeforeAnyCloud();
    }

    @Test
    void anEditedSpecMakesThePlanStale() throws Exception {
        planOut("p.json");
        Files.writeString(dir.resolve(SPEC), Fixtures.smallEnv("dev").replace("g4dn.xlarge", "g5.xlarge"));
        Cli.Result r = cli.run("apply", "--sandbox", "p.json");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: the saved plan is stale: the spec of environment dev changed since it was made (instance.gpu-1 changed); "
            + "run mlctl plan again\n");
        assertNothingChanged();
    }

    @Test
    void aMovedSpecIsNamedOrRefused() throws Exception {
        planOut("p.json");
        Files.createDirectories(dir.resolve("moved"));
        Files.move(dir.resolve(SPEC), dir.resolve("moved/dev.yaml"));
        Cli.Result missing = cli.run("apply", "--sandbox", "p.json");
        assertThat(missing.exitCode()).as(missing.toString()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("Error: p.json: the spec this plan was made from, specs/dev.yaml, is not there (relative to the working "
            + "directory, " + dir + "); run apply where the plan was made, or name the spec: mlctl apply --sandbox --plan p.json PATH\n");
        assertRefusedBeforeAnyCloud();

        // Something else now at the old path is not what was reviewed.
        Fixtures.write(dir, SPEC, Fixtures.smallEnv("dev").replace("versioning: true", "versioning: false"));
        Cli.Result stale = cli.run("apply", "--sandbox", "p.json");
        assertThat(stale.exitCode()).as(stale.toString()).isEqualTo(1);
        assertThat(stale.err()).contains("the saved plan is stale: the spec of environment dev changed since it was made (bucket.dev-data changed)");
        assertNothingChanged();

        // The same spec named where it went applies: the plan's fingerprint, not the path, decides.
        Cli.Result named = cli.run("apply", "--sandbox", "--plan", "p.json", "moved/dev.yaml");
        assertThat(named.exitCode()).as(named.toString()).isZero();
        assertThat(named.out()).contains("Apply complete! Resources: 4 added");
    }

    @Test
    void aPlanFileIsRecognisedByItsContent() {
        planOut("tfplan");
        Cli.Result applied = cli.run("apply", "--sandbox", "tfplan");
        assertThat(applied.out()).as(applied.toString()).contains("Apply complete! Resources: 4 added");

        // A damaged plan is reported as a plan, not as 18 schema errors of a spec.
        Fixtures.write(dir, "edited.json", Fixtures.read(dir.resolve("tfplan")).replace("g4dn.xlarge", "p4d.24xlarge"));
        Cli.Result edited = cli.run("apply", "--sandbox", "edited.json");
        assertThat(edited.exitCode()).isEqualTo(1);
        assertThat(edited.err()).isEqualTo("Error: edited.json: plan file is corrupt or was edited (checksum mismatch); run mlctl plan --out again\n");

        Cli.Result mixed = cli.run("apply", "--sandbox", "tfplan", SPEC);
        assertThat(mixed.exitCode()).isEqualTo(1);
        assertThat(mixed.err()).isEqualTo("Error: tfplan is a saved plan, not a spec; apply it alone: mlctl apply --sandbox tfplan\n");

        Cli.Result none = cli.run("apply", "--sandbox");
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.err()).startsWith("Error: Missing required parameter: 'PATH'");
    }
}
