package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Import end to end on the sandbox: only an unmanaged resource becomes managed, by {@code mlctl import} or the spec's
 * import list, and every refusal leaves the resource as it was.
 */
class ImportCommandTest {
    private static final String SPEC = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata:
          name: dev
          labels: {team: ml}
        spec:
          provider: aws
          region: us-east-1
          resources:
            - type: bucket
              name: legacy-data
              versioning: true
        """;

    @TempDir
    Path dir;
    Cli cli;
    String spec;

    @BeforeEach
    void setUp() {
        cli = new Cli(dir);
        spec = Fixtures.write(dir, "dev.yaml", SPEC).toString();
        // An existing bucket no one manages: made by mlctl, then its ownership tags taken off out of band.
        ok(cli.run("apply", "--sandbox", "--auto-approve", spec));
    }

    /** Out-of-band changes are made while mlctl still manages it ({@code sandbox set} takes only managed resources). */
    private void untag(String... attributeChanges) {
        for (String change : attributeChanges) ok(cli.run("sandbox", "set", "-e", "dev", "bucket.legacy-data", change));
        ok(cli.run("sandbox", "untag", "-e", "dev", "bucket.legacy-data"));
        assertThat(owner("legacy-data")).isEqualTo("-");
    }

    private static Cli.Result ok(Cli.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    /** "dev  bucket.legacy-data" for a managed resource, "-" for one no environment manages. */
    private String owner(String cloudId) {
        for (String line : cli.run("sandbox", "list").out().split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 4 && f[3].equals(cloudId)) return f[1].equals("-") ? "-" : f[1] + "  " + f[2];
        }
        return "missing";
    }

    @Test
    void unmanagedBucketIsPlannedAsCreateUntilImportedThenManaged() {
        untag();
        // Without an import the name clash is refused by apply, never adopted silently.
        assertThat(cli.run("plan", "--sandbox", spec).out()).contains("Plan: 1 to add");
        Cli.Result clash = cli.run("apply", "--sandbox", "--auto-approve", spec);
        assertThat(clash.exitCode()).isEqualTo(1);
        assertThat(owner("legacy-data")).isEqualTo("-");

        Cli.Result imported = ok(cli.run("import", "--sandbox", "--auto-approve", "bucket.legacy-data", "legacy-data", spec));
        assertThat(imported.out()).contains("  # bucket.legacy-data will be imported\n").contains("Plan: 1 to import, 0 to add, 0 to change, 0 to destroy.")
            .contains("bucket.legacy-data: Import complete after").contains("Resources: 1 imported, 0 added, 0 changed, 0 destroyed.")
            // It is limited to the one resource, but claims no more than it does: no --target warnings the person never asked for.
            .doesNotContain("targeting").doesNotContain("may be incomplete");
        assertThat(owner("legacy-data")).isEqualTo("dev  bucket.legacy-data");
        Cli.Result plan = ok(cli.run("plan", "--sandbox", "--detailed-exitcode", spec));
        assertThat(plan.out()).contains("No changes.");
    }

    @Test
    void theSpecsImportListIsPlannedWithTheChangesAdoptionImpliesAndStaysHarmlessAfterwards() {
        untag("versioning=false");
        Path withImport = Fixtures.write(dir, "with-import/dev.yaml", SPEC + """
              import:
                - to: bucket.legacy-data
                  id: legacy-data
            """);
        Cli.Result plan = cli.run("plan", "--sandbox", "--detailed-exitcode", "--format", "json", withImport.toString());
        assertThat(plan.exitCode()).as(plan.toString()).isEqualTo(2);
        tools.jackson.databind.JsonNode change = tools.jackson.databind.json.JsonMapper.builder().build().readTree(plan.out())
            .get("resourceChanges").get(0);
        assertThat(change.get("action").asString()).isEqualTo("import");
        assertThat(change.get("cloudId").asString()).isEqualTo("legacy-data");
        assertThat(change.at("/changes/0/path").asString()).isEqualTo("versioning");
        assertThat(change.at("/changes/0/after").asBoolean()).isTrue();

        Cli.Result applied = ok(cli.run("apply", "--sandbox", "--auto-approve", withImport.toString()));
        assertThat(applied.out()).contains("Resources: 1 imported, 0 added, 1 changed, 0 destroyed.");
        assertThat(owner("legacy-data")).isEqualTo("dev  bucket.legacy-data");
        // The entry may stay in the spec, as terraform's import blocks may: the resource is managed now, nothing to do.
        assertThat(ok(cli.run("plan", "--sandbox", "--detailed-exitcode", withImport.toString())).out()).contains("No changes.");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "an id that names nothing | bucket.legacy-data | no-such-bucket | no bucket with id no-such-bucket exists in aws us-east-1",
        "an address the spec lacks | bucket.legacy-dta | legacy-data | did you mean bucket.legacy-data?",
        "a subnet instead of its network | network.net.subnet.a | vpc-1 | import network.net instead",
    })
    void refusalsNameTheProblemAndChangeNothing(String why, String address, String id, String message) {
        untag();
        Cli.Result r = cli.run("import", "--sandbox", "--auto-approve", address, id, spec);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains(message);
        assertThat(r.err().strip().lines().count()).as("one line").isEqualTo(1);
        assertThat(owner("legacy-data")).isEqualTo("-");
    }

    @Test
    void anotherEnvironmentsResourceIsNeverImported() {
        untag();
        Path other = Fixtures.write(dir, "other.yaml", SPEC.replace("name: dev", "name: other").replace("legacy-data", "team-data"));
        ok(cli.run("apply", "--sandbox", "--auto-approve", other.toString()));
        Path mine = Fixtures.write(dir, "mine/dev.yaml", SPEC + """
                - type: bucket
                  name: mine
                  versioning: true
              import:
                - to: bucket.mine
                  id: team-data
            """);
        Cli.Result r = cli.run("plan", "--sandbox", mine.toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("mine/dev.yaml:18:11: import bucket.mine: team-data is owned by mlctl environment 'other' (bucket.team-data)");
        assertThat(cli.run("import", "--sandbox", "--auto-approve", "bucket.mine", "team-data", mine.toString()).exitCode()).isEqualTo(1);
        assertThat(owner("team-data")).isEqualTo("other  bucket.team-data");
    }

    @Test
    void aDifferenceThatCannotChangeInPlaceIsRefusedNotReplaced() {
        untag("region=eu-west-1");
        Cli.Result r = cli.run("import", "--sandbox", "--auto-approve", "bucket.legacy-data", "legacy-data", spec);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("import of legacy-data as bucket.legacy-data would replace or remove part of it: region is")
            .contains("make the spec match the resource");
        assertThat(owner("legacy-data")).isEqualTo("-");
    }

    @Test
    void aResourceImportedTwiceOrUnderAnotherIdIsAnError() {
        untag();
        Path twice = Fixtures.write(dir, "twice/dev.yaml", SPEC + """
                - type: bucket
                  name: copy
                  versioning: true
              import:
                - to: bucket.legacy-data
                  id: legacy-data
                - to: bucket.copy
                  id: legacy-data
            """);
        Cli.Result r = cli.run("plan", "--sandbox", twice.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("import bucket.copy: legacy-data is imported as bucket.legacy-data already");

        ok(cli.run("import", "--sandbox", "--auto-approve", "bucket.legacy-data", "legacy-data", spec));
        // Managed now as bucket.legacy-data: importing the same id as bucket.copy is the same refusal as any managed resource's.
        Path copy = Fixtures.write(dir, "copy/dev.yaml", SPEC + """
                - type: bucket
                  name: copy
                  versioning: true
              import:
                - to: bucket.copy
                  id: legacy-data
            """);
        Cli.Result again = cli.run("plan", "--sandbox", copy.toString());
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.err()).contains("import bucket.copy: legacy-data is owned by mlctl environment 'dev' (bucket.legacy-data)");

        String withOther = SPEC + """
                - type: bucket
                  name: other
                  versioning: true
            """;
        ok(cli.run("apply", "--sandbox", "--auto-approve", Fixtures.write(dir, "elsewhere/dev.yaml", withOther).toString()));
        Path elsewhere = Fixtures.write(dir, "elsewhere/dev.yaml", withOther + """
              import:
                - to: bucket.legacy-data
                  id: other
            """);
        Cli.Result managedElsewhere = cli.run("plan", "--sandbox", elsewhere.toString());
        assertThat(managedElsewhere.exitCode()).isEqualTo(1);
        assertThat(managedElsewhere.err()).contains("elsewhere/dev.yaml:18:11: import bucket.legacy-data: this environment already manages bucket.legacy-data as legacy-data, not other");
    }

    @Test
    void anEntryLeftInTheSpecNeverStandsInTheWayOfADestroyOrOfAReplacement() {
        untag();
        Path withImport = Fixtures.write(dir, "left/dev.yaml", SPEC + """
              import:
                - to: bucket.legacy-data
                  id: legacy-data
            """);
        ok(cli.run("apply", "--sandbox", "--auto-approve", withImport.toString()));
        ok(cli.run("destroy", "--sandbox", "--auto-approve", withImport.toString()));
        assertThat(owner("legacy-data")).isEqualTo("missing");
    }

    @Test
    void mlctlImportTakesOverAndCreatesNothingElse() {
        String small = Fixtures.write(dir, "small/dev.yaml", Fixtures.smallEnv("dev")).toString();
        ok(cli.run("apply", "--sandbox", "--auto-approve", small));
        ok(cli.run("sandbox", "untag", "-e", "dev", "identity.trainer"));
        ok(cli.run("sandbox", "delete", "-e", "dev", "bucket.dev-data"));
        String identityId = cli.run("sandbox", "list").out().lines().filter(l -> l.contains(" - ") || l.contains("  -  "))
            .filter(l -> l.contains("role/")).map(l -> l.trim().split("\\s+")[3]).findFirst().orElseThrow();
        Cli.Result r = cli.run("import", "--sandbox", "--auto-approve", "identity.trainer", identityId, small);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("mlctl import takes over what exists and changes nothing else, but this one would also create bucket.dev-data");
        assertThat(owner(identityId)).isEqualTo("-");
        assertThat(owner("dev-data")).isEqualTo("missing");
    }

    @Test
    void aClusterWithANodePoolTheSpecDoesNotNameIsNotImported() {
        String cluster = """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: dev
            spec:
              provider: gcp
              region: us-central1
              resources:
                - type: network
                  name: net
                  cidr: 10.0.0.0/16
                  subnets:
                    - {name: a, cidr: 10.0.1.0/24, zone: us-central1-a}
                - type: kubernetes_cluster
                  name: k8s
                  version: "1.29"
                  subnet: net/a
                  nodePools:
                    - {name: cpu, machineType: n1-standard-4, min: 1, max: 2}
                    - {name: gpu, machineType: n1-standard-8, min: 0, max: 2}
            """;
        String both = Fixtures.write(dir, "k8s/dev.yaml", cluster).toString();
        ok(cli.run("apply", "--sandbox", "--auto-approve", both));
        ok(cli.run("sandbox", "untag", "-e", "dev", "kubernetes_cluster.k8s"));
        String id = cli.run("sandbox", "list").out().lines().filter(l -> l.contains("/clusters/")).map(l -> l.trim().split("\\s+")[3])
            .findFirst().orElseThrow();
        Path one = Fixtures.write(dir, "k8s/dev.yaml", cluster.lines().filter(l -> !l.contains("name: gpu")).collect(java.util.stream.Collectors.joining("\n", "", "\n"))
            + "  import:\n    - to: kubernetes_cluster.k8s\n      id: " + id + "\n");
        Cli.Result r = cli.run("plan", "--sandbox", one.toString());
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("k8s/dev.yaml:22:11: import of " + id + " as kubernetes_cluster.k8s would replace or remove part of it: "
            + "nodePools[gpu] exists there and is not in the spec");
        assertThat(owner(id)).isEqualTo("-");
    }
}
