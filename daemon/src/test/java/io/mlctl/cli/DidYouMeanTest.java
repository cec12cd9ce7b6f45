package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A misspelled field, command, flag or sandbox attribute is an error naming what was probably meant, and changes nothing. */
class DidYouMeanTest {
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
    void anUnknownSpecFieldNamesTheClosestFieldAllowedThere() {
        Fixtures.write(dir, "specs/dev.yaml", Fixtures.smallEnv("dev").replace("versioning: true", "versionning: true")
            .replace("zone: us-east-1a", "zoen: us-east-1a").replace("  region: us-east-1", "  regoin: us-east-1\n  region: us-east-1"));
        Cli.Result r = cli.run("validate", spec);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("specs/dev.yaml:7:3: unknown field 'regoin' in spec (did you mean 'region'?)\n"
            + "specs/dev.yaml:16:11: unknown field 'zoen' in spec.resources[0].subnets[0] (did you mean 'zone'?)\n"
            + "specs/dev.yaml:19:7: unknown field 'versionning' in spec.resources[1] (did you mean 'versioning'?)\n3 errors\n");
        // Nothing close: no guess.
        Fixtures.write(dir, "specs/dev.yaml", Fixtures.smallEnv("dev").replace("versioning: true", "colour: blue"));
        assertThat(cli.run("validate", spec).err()).contains("unknown field 'colour' in spec.resources[1]\n");
    }

    @Test
    void anUnknownCommandNamesTheClosestCommand() {
        Cli.Result r = cli.run("plna", "--sandbox", spec);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: unknown command 'plna' for mlctl (did you mean 'plan'?)\nRun 'mlctl --help' for usage.\n");
        // Short names are all near one another: no guess that is only a guess.
        assertThat(cli.run("get", spec).err()).startsWith("Error: unknown command 'get' for mlctl").doesNotContain("did you mean");
        assertThat(cli.run("plan", "--sandbox", "-t", "x", spec).err()).doesNotContain("did you mean");
        Cli.Result sub = cli.run("sandbox", "sett", "-e", "dev", "bucket.dev-data", "versioning=false");
        assertThat(sub.err()).isEqualTo("Error: unknown command 'sett' for mlctl sandbox (did you mean 'set'?)\n"
            + "Run 'mlctl sandbox --help' for usage.\n");
        assertThat(cli.run("frobnicate").err()).isEqualTo("Error: unknown command 'frobnicate' for mlctl\nRun 'mlctl --help' for usage.\n");
    }

    @Test
    void anUnknownFlagNamesTheClosestFlagAndChangesNothing() {
        Cli.Result r = cli.run("apply", "--sandbox", "--auto-aprove", spec);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: unknown option '--auto-aprove' for mlctl apply (did you mean '--auto-approve'?)\n"
            + "Run 'mlctl apply --help' for usage.\n");
        assertThat(cli.run("sandbox", "list").out()).contains("0 resources");
        assertThat(cli.run("plan", "--sandbox", "--tagret=bucket.dev-data", spec).err())
            .startsWith("Error: unknown option '--tagret' for mlctl plan (did you mean '--target'?)\n");
        assertThat(cli.run("plan", "--sandbox", "--no-colour", spec).err()).as("inherited flags count")
            .startsWith("Error: unknown option '--no-colour' for mlctl plan (did you mean '--no-color'?)\n");
        assertThat(cli.run("plan", "--sandbox", "--zzzzzzzz", spec).err()).startsWith("Error: unknown option '--zzzzzzzz' for mlctl plan\n");
    }

    @Test
    void sandboxSetRefusesAnAttributeTheTypeDoesNotHave() {
        cli.run("apply", "--sandbox", "--auto-approve", spec);
        Cli.Result r = cli.run("sandbox", "set", "-e", "dev", "bucket.dev-data", "versionning=false");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: bucket has no attribute 'versionning' (did you mean 'versioning'?); its attributes are "
            + "encryption, lifecycle, public, region, versioning\n");
        Cli.Result plan = cli.run("plan", "--sandbox", "--detailed-exitcode", spec);
        assertThat(plan.exitCode()).as("the refused change was not made: " + plan).isZero();
        // A good name still works, together with a bad one refused as a whole.
        assertThat(cli.run("sandbox", "set", "-e", "dev", "bucket.dev-data", "versioning=false", "publik=true").exitCode()).isEqualTo(1);
        assertThat(cli.run("plan", "--sandbox", "--detailed-exitcode", spec).exitCode()).isZero();
        assertThat(cli.run("sandbox", "set", "-e", "dev", "bucket.dev-data", "versioning=false").exitCode()).isZero();
        assertThat(cli.run("plan", "--sandbox", "--detailed-exitcode", spec).exitCode()).isEqualTo(2);
    }
}
