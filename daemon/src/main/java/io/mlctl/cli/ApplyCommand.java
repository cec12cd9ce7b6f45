package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.apply.LockService;
import io.mlctl.locks.LockServices;
import io.mlctl.plan.Origin;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "apply", mixinStandardHelpOptions = true,
    description = {"Make the cloud match the spec: plan, ask for approval, then create, update, replace and delete.",
        "Runs the dependency graph in parallel (deletes in reverse), retries throttling and server errors, journals every "
            + "call so an interrupted apply is finished by the next one, and holds a per-environment lock (see --lock)."})
final class ApplyCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;
    @Spec CommandSpec spec;
    @Mixin CloudOptions cloud;
    @Mixin LockOptions locking;
    @Mixin QuietOption output;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
        description = "text (default) or json: one JSON object per line per event (planned, step_started, step_finished, step_failed, ..., summary); needs --auto-approve or --plan.")
    ReportFormat format;

    // ConfigOptions' PATH is required; apply's is not: a saved plan knows its spec.
    @Parameters(paramLabel = "PATH", arity = "0..*", description = {"Spec files or folders of them (a config repository); or one plan saved "
        + "with 'mlctl plan --out FILE', applied exactly as with --plan FILE.", "With a saved plan no PATH is needed: the spec is re-read from where the plan was made."})
    List<Path> paths;

    @Option(names = {"-e", "--env"}, paramLabel = "NAME", description = "Only this environment (default: every environment found).")
    String envName;

    @Option(names = "--plan", paramLabel = "FILE", description = "Apply exactly this saved plan (from plan --out); refused where it was not made "
        + "(sandbox or cloud, account, region) and if the spec or the cloud changed since.")
    Path planFile;

    @Option(names = "--auto-approve", description = "Skip the interactive approval.")
    boolean autoApprove;

    @Option(names = "--parallelism", paramLabel = "N", defaultValue = "10", description = "At most N cloud operations at once (default ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(names = "--allow-mass-delete", description = "Allow a mass delete: a plan deleting more than 3 resources and either more than 10 or more than half of the environment (the spec's allowMassDelete does the same, reviewed in Git).")
    boolean allowMassDelete;

    @Option(names = "--target", paramLabel = "ADDR", description = "Apply only this resource (type.name) and what it depends on; repeatable.")
    List<String> targets;

    @Option(names = "--replace-placement", description = "Re-resolve machineType: auto of resources that exist too: they move to the cheapest "
        + "machine type now (without it they keep the one they run on).")
    boolean replacePlacement;

    @Override
    public Integer call() {
        Services s = root.services;
        if (output.quiet && format == ReportFormat.json) throw new MlctlException("--quiet and --format json do not go together: choose one");
        List<Path> paths = this.paths == null ? List.of() : this.paths;
        Path planPath = planFile;
        List<Path> specPaths = paths;
        if (planPath == null && paths.size() == 1 && SavedPlans.isPlanFile(s, paths.get(0))) {
            planPath = paths.get(0); // terraform's habit: mlctl apply tfplan
            specPaths = List.of();
        } else if (planPath != null || paths.size() > 1) {
            for (Path p : paths) {
                if (SavedPlans.isPlanFile(s, p)) throw new MlctlException(p + " is a saved plan, not a spec; apply it alone: mlctl apply " + (cloud.sandbox ? "--sandbox " : "") + p);
            }
        }
        Commands.requireNonInteractiveApproval(specPaths, autoApprove || planPath != null, format == ReportFormat.json, "apply");
        Optional<Plan> saved = Optional.empty();
        List<Environment> envs;
        if (planPath != null && targets != null && !targets.isEmpty()) {
            // The saved plan is applied as it was made, whole: a --target here would be silently ignored.
            throw new MlctlException("--target cannot narrow a saved plan, which is applied as it was made; make it again with mlctl plan --target … --out FILE");
        }
        if (planPath != null && replacePlacement) {
            throw new MlctlException("--replace-placement cannot change a saved plan, which is applied as it was made; make it again with mlctl plan --replace-placement --out FILE");
        }
        if (planPath != null) {
            Plan p = SavedPlans.read(s, planPath);
            Origin origin = SavedPlans.checkMadeHere(s, p, planPath, cloud.sandbox);
            if (envName != null && !envName.equals(p.environment())) {
                throw new MlctlException(planPath + " is a plan for environment " + p.environment() + ", not " + envName);
            }
            // Named paths win (the spec may have moved); otherwise the spec is re-read from where the plan says. Either way the
            // spec's fingerprint must still match the plan's.
            ConfigRepo repo = s.loadConfig(specPaths.isEmpty() ? SavedPlans.specs(s, origin, planPath) : specPaths);
            envs = List.of(repo.environment(p.environment()));
            saved = Optional.of(p);
        } else if (paths.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "Missing required parameter: 'PATH' (spec files or folders, or a saved plan)");
        } else {
            envs = s.loadConfig(paths).select(envName);
        }
        LockService locks = locking.open(s);
        try {
            ApplyReport.Mode mode = format == ReportFormat.json ? ApplyReport.Mode.JSON : output.quiet ? ApplyReport.Mode.QUIET : ApplyReport.Mode.TEXT;
            ApplyRunner runner = new ApplyRunner(s, s.color(root.noColor), locks, mode);
            for (Environment env : envs) {
                if (envs.size() > 1 && mode == ApplyReport.Mode.TEXT) s.out().println("== " + env.name() + " (" + env.provider().id() + ", " + env.region() + ")");
                // A saved plan that re-placed resources is re-checked as it was made: with --replace-placement.
                boolean replace = replacePlacement || saved.map(p -> p.placements().stream().anyMatch(x -> x.choice() == io.mlctl.plan.Placement.Choice.REPLACED)).orElse(false);
                PlanOptions options = new PlanOptions(saved.map(Plan::destroy).orElse(false), Commands.targets(targets), s.clock().instant(), replace);
                runner.run(env, cloud, options, saved, autoApprove, allowMassDelete, parallelism, "mlctl apply");
            }
        } finally {
            LockServices.close(locks);
        }
        return 0;
    }
}
