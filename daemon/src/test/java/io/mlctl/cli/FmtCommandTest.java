package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FmtCommandTest {
    @TempDir
    Path dir;
    Cli cli;

    /** Four-space indentation, keys out of the schema's order, needless quotes, comments everywhere, two blank lines. */
    static final String MESSY = """
        # yaml-language-server: $schema=../schema/environment.schema.json
        kind: Environment
        apiVersion: "mlctl.io/v1"
        metadata:
            name: dev           # the environment
            labels: {team: ml}


        spec:
            region: 'us-east-1'
            provider: aws
            account: '000000000000'
            resources:
            # the network first
            - name: net
              type: network
              cidr: "10.0.0.0/16"
              subnets:
              - {name: train, cidr: 10.0.1.0/24, zone: us-east-1a}
              - name: train-b   # EKS wants two zones
                zone: us-east-1b
                cidr: 10.0.2.0/24
              firewall:
              - {name: ssh, ports: [22], sources: [10.0.0.0/8]}  # from the VPN

            - type: bucket
              versioning: true    # keep old objects
              name: "dev-data"
            - type: kubernetes_cluster
              name: k8s
              version: "1.29"
              subnet: net/train
              nodePools:
              - max: 2
                name: gpu
                min: 1
                machineType: g5.xlarge
        # the end
        """;

    static final String CANONICAL = """
        # yaml-language-server: $schema=../schema/environment.schema.json
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata:
          name: dev           # the environment
          labels: {team: ml}

        spec:
          provider: aws
          region: us-east-1
          account: "000000000000"
          resources:
            # the network first
            - type: network
              name: net
              cidr: 10.0.0.0/16
              subnets:
                - {name: train, cidr: 10.0.1.0/24, zone: us-east-1a}
                - name: train-b   # EKS wants two zones
                  cidr: 10.0.2.0/24
                  zone: us-east-1b
              firewall:
                - {name: ssh, ports: [22], sources: [10.0.0.0/8]}  # from the VPN

            - type: bucket
              name: dev-data
              versioning: true    # keep old objects
            - type: kubernetes_cluster
              name: k8s
              version: "1.29"
              subnet: net/train
              nodePools:
                - name: gpu
                  machineType: g5.xlarge
                  min: 1
                  max: 2
        # the end
        """;

    @BeforeEach
    void setUp() {
        cli = new Cli(dir);
    }

    @Test
    void rewritesASpecCanonicallyKeepingEveryComment() {
        Path f = Fixtures.write(dir, "specs/dev.yaml", MESSY);
        Cli.Result before = cli.run("validate", "--format", "json", f.toString());
        Cli.Result r = cli.run("fmt", f.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("specs/dev.yaml\n");
        assertThat(Fixtures.read(f)).isEqualTo(CANONICAL);
        // The same environment, to the resource.
        Cli.Result after = cli.run("validate", "--format", "json", f.toString());
        assertThat(after.exitCode()).as(after.toString()).isZero();
        assertThat(after.out()).isEqualTo(before.out());
    }

    @Test
    void isIdempotent() {
        Path f = Fixtures.write(dir, "dev.yaml", MESSY);
        cli.run("fmt", f.toString());
        Cli.Result again = cli.run("fmt", f.toString());
        assertThat(again.exitCode()).isZero();
        assertThat(again.out()).isEmpty();
        assertThat(Fixtures.read(f)).isEqualTo(CANONICAL);
    }

    @Test
    void checkListsWhatIsNotCanonicalChangesNothingAndExitsThree() {
        Path messy = Fixtures.write(dir, "specs/a.yaml", MESSY);
        Fixtures.write(dir, "specs/b.yaml", CANONICAL.replace("name: dev", "name: prod"));
        Fixtures.write(dir, "specs/.hidden/c.yaml", MESSY);
        Cli.Result r = cli.run("fmt", "--check", "specs");
        assertThat(r.exitCode()).isEqualTo(FmtCommand.NOT_CANONICAL).isEqualTo(3);
        assertThat(r.out()).isEqualTo("specs/a.yaml\n");
        assertThat(r.err()).isEmpty();
        assertThat(Fixtures.read(messy)).isEqualTo(MESSY);
        assertThat(cli.run("fmt", "specs").out()).isEqualTo("specs/a.yaml\n");
        Cli.Result clean = cli.run("fmt", "--check", "specs");
        assertThat(clean.exitCode()).isZero();
        assertThat(clean.out()).isEmpty();
    }

    @Test
    void theExamplesAreCanonical() {
        Cli.Result r = cli.run("fmt", "--check", Fixtures.examples().toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).isEmpty();
    }

    @Test
    void invalidYamlIsOneLineAndTheOtherFilesAreStillFormatted() {
        Path bad = Fixtures.write(dir, "specs/bad.yaml", "metadata:\n  name: [dev\n");
        Path good = Fixtures.write(dir, "specs/good.yaml", MESSY);
        Cli.Result r = cli.run("fmt", "specs");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).matches("specs/bad\\.yaml:\\d+:\\d+: invalid YAML: [^\\n]*\\n");
        assertThat(r.out()).isEqualTo("specs/good.yaml\n");
        assertThat(Fixtures.read(bad)).isEqualTo("metadata:\n  name: [dev\n");
        assertThat(Fixtures.read(good)).isEqualTo(CANONICAL);
        Cli.Result missing = cli.run("fmt", "nope.yaml");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("nope.yaml:1:1: no such file or directory\n");
    }

    @Test
    void aCommentTheYamlLibraryCannotKeepIsNeverLost() {
        String text = MESSY.replace("labels: {team: ml}", "labels: {team: ml,  # who pays\n      cost: research}");
        Path f = Fixtures.write(dir, "dev.yaml", text);
        Cli.Result r = cli.run("fmt", f.toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("dev.yaml:6:25: a comment inside a flow list or map ([..] or {..}) cannot be kept by mlctl fmt: "
            + "move it above the line or write the list in block style; left as it is\n");
        assertThat(r.out()).isEmpty();
        assertThat(Fixtures.read(f)).isEqualTo(text);
        assertThat(cli.run("fmt", "--check", f.toString()).exitCode()).isEqualTo(1);
        // In a flow list, SnakeYAML Engine would drop it.
        String list = "spec:\n  resources:\n    - type: identity\n      grants:\n        - actions: [storage.read,  # reads\n            storage.write]\n";
        Path g = Fixtures.write(dir, "list.yaml", list);
        Cli.Result l = cli.run("fmt", g.toString());
        assertThat(l.exitCode()).isEqualTo(1);
        assertThat(l.err()).startsWith("list.yaml:5:36: a comment inside a flow list or map");
        assertThat(Fixtures.read(g)).isEqualTo(list);
    }

    @Test
    void aCommentAboveAKeyMovesWithThatKeyAndOneAboveADocumentOrListItemStaysOnTop() {
        String text = "# the whole file\nkind: Environment\napiVersion: mlctl.io/v1\nspec:\n  # where it runs\n  region: us-east-1\n"
            + "  provider: aws\n  resources:\n    # the data\n    - name: data\n      type: bucket\n";
        Path f = Fixtures.write(dir, "c.yaml", text);
        Cli.Result r = cli.run("fmt", f.toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(Fixtures.read(f)).isEqualTo("# the whole file\napiVersion: mlctl.io/v1\nkind: Environment\nspec:\n  provider: aws\n"
            + "  # where it runs\n  region: us-east-1\n  resources:\n    # the data\n    - type: bucket\n      name: data\n");
    }

    @Test
    void commentPlacesSeeAMoveThatKeepsEveryComment() {
        String before = "spec:\n  # where it runs\n  region: us-east-1\n  provider: aws\n";
        String moved = "spec:\n  # where it runs\n  provider: aws\n  region: us-east-1\n";
        assertThat(io.mlctl.spec.SpecFormatter.comments(moved)).isEqualTo(io.mlctl.spec.SpecFormatter.comments(before));
        assertThat(io.mlctl.spec.SpecFormatter.commentPlaces(moved, "x")).isNotEqualTo(io.mlctl.spec.SpecFormatter.commentPlaces(before, "x"));
        assertThat(io.mlctl.spec.SpecFormatter.commentPlaces(before, "x")).containsExactly("/0/spec/region# where it runs");
    }

    @Test
    void quotesOnlyWhatWouldOtherwiseReadAsAnotherType() {
        String text = "metadata:\n  labels:\n    a: 'plain'\n    b: 'true'\n    c: '42'\n    d: 'x: y'\n    e: \"it's\"\n    f: ''\n    g: 'null'\n";
        Path f = Fixtures.write(dir, "q.yaml", text);
        assertThat(cli.run("fmt", f.toString()).exitCode()).isZero();
        assertThat(Fixtures.read(f)).isEqualTo(
            "metadata:\n  labels:\n    a: plain\n    b: \"true\"\n    c: \"42\"\n    d: \"x: y\"\n    e: \"it's\"\n    f: \"\"\n    g: \"null\"\n");
    }

    @Test
    void stdinIsFormattedToStdout() {
        Cli.Result r = cli.runWithInput(MESSY, "fmt", "-");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo(CANONICAL);
        Cli.Result check = cli.runWithInput(MESSY, "fmt", "--check", "-");
        assertThat(check.exitCode()).isEqualTo(3);
        assertThat(check.out()).isEqualTo("<stdin>\n");
        assertThat(cli.runWithInput(CANONICAL, "fmt", "--check", "-").exitCode()).isZero();
    }

    @Test
    void keepsAnchorsBlockScalarsDocumentsAndEmptyFiles() {
        String anchors = "spec:\n  resources:\n    - type: bucket\n      name: y\n      lifecycle: &l\n        - expireDays: 3\n"
            + "    - type: bucket\n      name: z\n      lifecycle: *l\n";
        String block = "metadata:\n  description: |\n    line one\n      two\n  name: x\n";
        String documents = "---\nkind: Environment\napiVersion: mlctl.io/v1\n---\n# second\napiVersion: mlctl.io/v1\n";
        Fixtures.write(dir, "s/anchors.yaml", anchors);
        Fixtures.write(dir, "s/block.yaml", block);
        Fixtures.write(dir, "s/documents.yaml", documents);
        Fixtures.write(dir, "s/empty.yaml", "");
        Fixtures.write(dir, "s/comment.yaml", "# only a comment\n");
        Cli.Result r = cli.run("fmt", "s");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo("s/block.yaml\ns/documents.yaml\n");
        assertThat(Fixtures.read(dir.resolve("s/anchors.yaml"))).isEqualTo(anchors);
        assertThat(Fixtures.read(dir.resolve("s/block.yaml"))).isEqualTo("metadata:\n  name: x\n  description: |\n    line one\n      two\n");
        assertThat(Fixtures.read(dir.resolve("s/documents.yaml")))
            .isEqualTo("apiVersion: mlctl.io/v1\nkind: Environment\n---\n# second\napiVersion: mlctl.io/v1\n");
        assertThat(Fixtures.read(dir.resolve("s/empty.yaml"))).isEmpty();
        assertThat(Fixtures.read(dir.resolve("s/comment.yaml"))).isEqualTo("# only a comment\n");
    }
}
