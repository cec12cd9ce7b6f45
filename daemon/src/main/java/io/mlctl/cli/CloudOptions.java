package io.mlctl.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Which cloud to talk to and where local state lives. */
final class CloudOptions {
    @Option(names = "--sandbox", description = "Use the built-in sandbox cloud (kept in .mlctl/sandbox, or $MLCTL_SANDBOX).")
    boolean sandbox;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Where apply journals and locks live (default .mlctl/state, or $MLCTL_STATE_DIR).")
    Path stateDir;
}
