package io.mlctl.cli;

import picocli.CommandLine.Option;

/** {@code --quiet}: print only errors (on stderr) and the final summary line. */
final class QuietOption {
    @Option(names = {"-q", "--quiet"}, description = "Print only errors and the final summary line (an interactive approval still shows the plan it asks about).")
    boolean quiet;
}
