package io.mlctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

@Command(name = "mlctl",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
        "Declarative, Git-driven infrastructure for ML on AWS, GCP and Azure.",
        "",
        "Declare networks, buckets, GPU instances, Kubernetes clusters, identities and model endpoints in YAML; "
            + "mlctl reads what exists in the cloud, shows the difference as a plan, and applies it.",
        "Use --sandbox on any command to work against the built-in sandbox cloud (no account needed)."
    },
    footerHeading = "%nExit codes:%n",
    footer = {
        "  0  success (for plan --detailed-exitcode: no changes)",
        "  1  error: invalid spec, stale plan, refused or failed apply, locked environment",
        "  2  plan --detailed-exitcode: the plan has changes",
        "  3  fmt --check: a file is not in the canonical layout"
    },
    subcommands = {
        VersionCommand.class, FmtCommand.class, ValidateCommand.class, PlanCommand.class, ApplyCommand.class, DestroyCommand.class, ImportCommand.class, ShowCommand.class,
        InventoryCommand.class, OutputCommand.class, GraphCommand.class, CostCommand.class, PricesCommand.class, PolicyCommand.class, DaemonCommand.class, SandboxCommand.class, CompletionCommand.class, BenchCommand.class, BenchAwsCommand.class, BenchGcpCommand.class, BenchAzureCommand.class
    })
public final class MlctlCommand implements java.util.concurrent.Callable<Integer> {
    final Services services;

    @Option(names = "--stacktrace", scope = ScopeType.INHERIT, description = "Print the stack trace of an error (for bug reports).")
    boolean stacktrace;

    @Option(names = "--no-color", scope = ScopeType.INHERIT, description = "Never color output (also: NO_COLOR in the environment).")
    boolean noColor;

    public MlctlCommand(Services services) {
        this.services = services;
    }

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Plain {@code mlctl}: the help, on stderr, and exit 1 — a script that forgot its command must not pass. */
    @Override
    public Integer call() {
        spec.commandLine().usage(services.err());
        return 1;
    }
}
