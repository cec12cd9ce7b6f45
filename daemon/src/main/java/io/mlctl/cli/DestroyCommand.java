package io.mlctl.cli;

import io.mlctl.apply.LockService;
import io.mlctl.locks.LockServices;
import io.mlctl.planner.PlanOptions;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "destroy", mixinStandardHelpOptions = true,
    description = {"Delete everything the environment owns in the cloud (resources carrying its ownership tags), in reverse dependency order.",
        "Resources mlctl does not own are never touched. Holds the environment lock, as apply does (see --lock)."})
final class DestroyCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;
    @Mixin ConfigOptions config;
    @Mixin CloudOptions cloud;
    @Mixin LockOptions locking;
    @Mixin QuietOption output;

    @Option(names = "--auto-approve", description = "Skip the interactive approval.")
    boolean autoApprove;

    @Option(names = "--parallelism", paramLabel = "N", defaultValue = "10", description = "At most N cloud operations at once (default ${DEFAULT-VALUE}).")
    int parallelism;

    @Override
    public Integer call() {
        Services s = root.services;
        Commands.requireNonInteractiveApproval(config, autoApprove, false, "destroy");
        ConfigRepo repo = s.loadConfig(config.paths);
        List<Environment> envs = repo.select(config.env);
        LockService locks = locking.open(s);
        try {
            ApplyRunner runner = new ApplyRunner(s, s.color(root.noColor), locks, output.quiet ? ApplyReport.Mode.QUIET : ApplyReport.Mode.TEXT);
            for (Environment env : envs) {
                if (envs.size() > 1 && !output.quiet) s.out().println("== " + env.name() + " (" + env.provider().id() + ", " + env.region() + ")");
                runner.run(env, cloud, new PlanOptions(true, Set.of(), s.clock().instant()), Optional.empty(), autoApprove, true, parallelism, "mlctl destroy");
            }
        } finally {
            LockServices.close(locks);
        }
        return 0;
    }
}
