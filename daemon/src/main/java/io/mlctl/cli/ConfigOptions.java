package io.mlctl.cli;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Where the specs are and which environment to work on. */
final class ConfigOptions {
    @Parameters(paramLabel = "PATH", arity = "1..*", description = "Spec files or folders of them (a config repository).")
    List<Path> paths;

    @Option(names = {"-e", "--env"}, paramLabel = "NAME", description = "Only this environment (default: every environment found).")
    String env;
}
