package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.apply.LockService;
import io.mlctl.locks.LockServices;
import io.mlctl.planner.PlanOptions;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "destroy", mixinStandardHelpOptions = true,
    description = {"Delete everything the environment owns in the cloud (resources carrying its ownership tags), in reverse dependency order.",
        "Resources mlctl does not own are never touched. Holds the environment lock, as apply does (see --lock).",
        "With --target, only the targeted resources and those that refer to them are destroyed."})
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

    @Option(names = "--target", paramLabel = "ADDR", description = "Destroy only this resource (type.name) and what must go with it "
        + "(the resources that refer to it); repeatable.")
    List<String> targets;

    @Override
    public Integer call() {
        Services s = root.services;
        Commands.requireNonInteractiveApproval(config, autoApprove, false, "destroy");
        for (String t : targets == null ? List.<String>of() : targets) {
            io.mlctl.spec.Address a = io.mlctl.spec.Address.parse(t);
            // Targeting a component targets its resource: destroying that would take the whole network or cluster.
            if (a.isComponent()) {
                throw new MlctlException("--target " + t + ": destroy takes whole resources (" + a.resource() + "), not a subnet or node pool; "
                    + "to remove it alone, remove it from the spec and apply");
            }
        }
        ConfigRepo repo = s.loadConfig(config.paths);
        List<Environment> envs = repo.select(config.env);
        LockService locks = locking.open(s);
        try {
            ApplyRunner runner = new ApplyRunner(s, s.color(root.noColor), locks, output.quiet ? ApplyReport.Mode.QUIET : ApplyReport.Mode.TEXT);
            for (Environment env : envs) {
                if (envs.size() > 1 && !output.quiet) s.out().println("== " + env.name() + " (" + env.provider().id() + ", " + env.region() + ")");
                runner.run(env, cloud, new PlanOptions(true, Commands.targets(targets), s.clock().instant()), Optional.empty(), autoApprove, true, parallelism, "mlctl destroy");
            }
        } finally {
            LockServices.close(locks);
        }
        return 0;
    }
}
