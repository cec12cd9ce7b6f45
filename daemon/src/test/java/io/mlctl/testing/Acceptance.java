package io.mlctl.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;

/** Real-cloud acceptance runs: skipped, saying why, unless asked for; then apply, a clean plan, and always destroy. */
public final class Acceptance {
    private Acceptance() {
    }

    /** Skips the test with {@code reason} (printed, so a CI log shows why) when it is not null. */
    public static void skipUnless(String test, String reason) {
        if (reason != null) System.err.println(test + ": real-cloud acceptance skipped: " + reason);
        assumeTrue(reason == null, "real-cloud acceptance skipped: " + reason);
    }

    public static void applyPlanDestroy(Cli cli, Path spec) {
        try {
            Cli.Result apply = cli.run("apply", "--auto-approve", spec.toString());
            assertThat(apply.exitCode()).as(apply.toString()).isZero();
            assertThat(cli.run("plan", "--detailed-exitcode", spec.toString()).exitCode()).isZero();
        } finally {
            Cli.Result destroy = cli.run("destroy", "--auto-approve", spec.toString());
            assertThat(destroy.exitCode()).as(destroy.toString()).isZero();
        }
    }
}
