package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.apply.LockService;
import io.mlctl.locks.LockServices;
import io.mlctl.plan.Plan;
import io.mlctl.plan.render.PlanJson;
import io.mlctl.planner.PlanOptions;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "apply", mixinStandardHelpOptions = true,
    description = {"Make the cloud match the spec: plan, ask for approval, then create, update, replace and delete.",
        "Runs the dependency graph in parallel (deletes in reverse), retries throttling and server errors, journals every "
            + "call so an interrupted apply is finished by the next one, and holds a per-environment lock (see --lock)."})
final class ApplyCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;
    @Mixin ConfigOptions config;
    @Mixin CloudOptions cloud;
    @Mixin LockOptions locking;
    @Mixin QuietOption output;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
        description = "text (default) or json: one JSON object per line per event (planned, step_started, step_finished, step_failed, ..., summary); needs --auto-approve or --plan.")
    ReportFormat format;

    @Option(names = "--plan", paramLabel = "FILE", description = "Apply exactly this saved plan (from plan --out); refused if the spec or the cloud changed since.")
    Path planFile;

    @Option(names = "--auto-approve", description = "Skip the interactive approval.")
    boolean autoApprove;

    @Option(names = "--parallelism", paramLabel = "N", defaultValue = "10", description = "At most N cloud operations at once (default ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(names = "--allow-mass-delete", description = "Allow a mass delete: a plan deleting more than 3 resources and either more than 10 or more than half of the environment (the spec's allowMassDelete does the same, reviewed in Git).")
    boolean allowMassDelete;

    @Option(names = "--target", paramLabel = "ADDR", description = "Apply only this resource (type.name) and what it depends on; repeatable.")
    List<String> targets;

    @Override
    public Integer call() {
        Services s = root.services;
        if (output.quiet && format == ReportFormat.json) throw new MlctlException("--quiet and --format json do not go together: choose one");
        Commands.requireNonInteractiveApproval(config, autoApprove || planFile != null, format == ReportFormat.json, "apply");
        ConfigRepo repo = s.loadConfig(config.paths);
        Optional<Plan> saved = Optional.empty();
        List<Environment> envs;
        if (planFile != null) {
            Plan p = new PlanJson().read(Commands.readFile(s, planFile), planFile.toString());
            if (config.env != null && !config.env.equals(p.environment())) {
                throw new MlctlException(planFile + " is a plan for environment " + p.environment() + ", not " + config.env);
            }
            envs = List.of(repo.environment(p.environment()));
            saved = Optional.of(p);
        } else {
            envs = repo.select(config.env);
        }
        LockService locks = locking.open(s);
        try {
            ApplyReport.Mode mode = format == ReportFormat.json ? ApplyReport.Mode.JSON : output.quiet ? ApplyReport.Mode.QUIET : ApplyReport.Mode.TEXT;
            ApplyRunner runner = new ApplyRunner(s, s.color(root.noColor), locks, mode);
            for (Environment env : envs) {
                if (envs.size() > 1 && mode == ApplyReport.Mode.TEXT) s.out().println("== " + env.name() + " (" + env.provider().id() + ", " + env.region() + ")");
                PlanOptions options = new PlanOptions(saved.map(Plan::destroy).orElse(false), Commands.targets(targets), s.clock().instant());
                runner.run(env, cloud, options, saved, autoApprove, allowMassDelete, parallelism, "mlctl apply");
            }
        } finally {
            LockServices.close(locks);
        }
        return 0;
    }
}
